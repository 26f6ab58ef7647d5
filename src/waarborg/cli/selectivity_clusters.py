"""``waarborg selectivity clusters``: the bias search (HBAC) with a held-out test."""

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.common import (
    LangOpt,
    out,
    progress_display,
    reports_errors,
    say_written,
    write_outputs,
)
from waarborg.cli.selectivity import selectivity_app


def _titles(instrument: str | None, lang: str) -> dict[str, str]:
    """Feature titles from an instrument's spec; in Dutch only its Dutch titles (else the name)."""
    from waarborg.instruments.engine import load_instrument
    from waarborg.instruments.spec import title_in

    if instrument is None:
        return {}
    return {p.name: title_in(p, lang) for p in load_instrument(instrument).predictors}


@contextmanager
def _progress_after(
    delay: float, quiet: bool, total: int, lang: str
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr that appears only once the search has run ``delay`` s."""
    from waarborg.report.i18n import N_, tr

    bar = progress_display()
    start, shown = time.monotonic(), False

    def update(done: int, _total: int) -> None:
        nonlocal shown
        if not shown and not quiet and time.monotonic() - start > delay:
            bar.start()
            bar.add_task(tr(N_("bias search"), lang), total=total)
            shown = True
        if shown:
            bar.update(bar.task_ids[0], completed=done)

    try:
        yield update
    finally:
        if shown:
            bar.stop()


@selectivity_app.command("clusters")
@reports_errors
def clusters_command(
    source: Annotated[Path, typer.Argument(help="The selection table (.csv or .parquet).")],
    feature: Annotated[
        list[str], typer.Option("--feature", help="A column to cluster on (repeat).")
    ],
    metric: Annotated[
        str, typer.Option("--metric", help="selection (default), error or false-hit.")
    ] = "selection",
    relate: Annotated[
        str | None, typer.Option("--relate", help="A protected-attribute column to relate to.")
    ] = None,
    relate_counts: Annotated[
        Path | None,
        typer.Option(
            "--relate-counts",
            help="Aggregate counts from a statistics office: cluster, <attribute>, count.",
        ),
    ] = None,
    assignments: Annotated[
        Path | None,
        typer.Option("--assignments", help="Write case key -> cluster (.parquet or .csv)."),
    ] = None,
    key: Annotated[str, typer.Option("--key", help="The column identifying a case.")] = "case_id",
    instrument: Annotated[
        str | None, typer.Option("--instrument", help="Take feature titles from this spec.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of split and k-means.")] = 0,
    test_share: Annotated[
        float, typer.Option("--test-share", min=0.1, max=0.9, help="Share held out.")
    ] = 0.5,
    min_size: Annotated[
        int | None, typer.Option("--min-size", min=2, help="Smallest cluster (searched cases).")
    ] = None,
    max_splits: Annotated[int, typer.Option("--max-splits", min=1, help="Most splits.")] = 20,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    lang: LangOpt = "en",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Find clusters of cases selected more often, without protected attributes (HBAC).

    Only clusters that a test on held-out cases confirms are reported.
    """
    from waarborg.errors import DataError
    from waarborg.selectivity.clusters import METRICS, search_clusters
    from waarborg.selectivity.clusters_report import render_page
    from waarborg.tables import read_table, write_table

    if metric not in METRICS:
        raise typer.BadParameter(f"use one of {', '.join(METRICS)}", param_hint="--metric")
    with _progress_after(1.0, quiet, max_splits, lang) as progress:
        result = search_clusters(
            source,  # read there, so that its errors name the file
            feature,
            metric=metric,  # type: ignore[arg-type]
            seed=seed,
            test_share=test_share,
            min_size=min_size,
            max_splits=max_splits,
            key=key,
            titles=_titles(instrument, lang),
            progress=progress,
        )
    if relate is not None:
        table, name = read_table(source)
        if relate not in table.column_names:
            raise DataError(f"no column {relate!r} to relate to", name, column=relate)
        result.relate(table.column(relate), relate)
    if relate_counts is not None:
        result.relate_counts(relate_counts)
    if assignments is not None:
        write_table(result.assignments(key), assignments)
        say_written(assignments, lang)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_outputs([(json_out, text), (report, render_page(result, lang))], lang)
    out.print(result.summary(lang), highlight=False, soft_wrap=True, markup=False)
