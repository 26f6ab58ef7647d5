"""``waarborg audit`` and ``waarborg cube build``: validity and fairness from a count cube.

Both read row-level data, aggregated counts (``--count``) or cubes, CSV or Parquet; several
inputs are read as one data set (cubes among them are merged). Nothing is written unless
the whole audit succeeded: the JSON and the report are produced first, then written
atomically.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from waarborg.cli.app import app
from waarborg.cli.common import (
    DatabaseOpt,
    LangOpt,
    err,
    out,
    reports_errors,
    stages,
    write_outputs,
)

cube_app = typer.Typer(help="Count cubes: the sufficient statistics of an audit.")
app.add_typer(cube_app, name="cube")

DataArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Cases (.csv/.parquet, a Parquet folder or glob), aggregated counts (with "
        "--count) or cubes; several files are read as one data set.",
        show_default=False,
    ),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Who counts the cube: local (in-process; alias polars), duckdb, postgres, spark, "
        "or auto (postgres for --source postgresql://, duckdb for Parquet folders, globs and "
        "files larger than memory, else local).",
    ),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", help="A database: postgresql://USER@HOST/DB (with --table or --query)."
    ),
]
TableOpt = Annotated[
    str | None,
    typer.Option("--table", help="Table to read: in --source (postgres) or the Spark catalog."),
]
QueryOpt = Annotated[
    str | None, typer.Option("--query", help="SQL query whose rows are read, in --source.")
]
ScoreOpt = Annotated[
    str | None,
    typer.Option("--score", help="Score or probability column (in [0, 1]: a probability)."),
]
OutcomeOpt = Annotated[str | None, typer.Option("--outcome", help="Observed outcome column, 0/1.")]
BandOpt = Annotated[
    str | None, typer.Option("--band", help="Band column (laag/midden/hoog, 1-6, ...).")
]
SelectOpt = Annotated[
    str | None, typer.Option("--select", help="Bands that count as selected: BAND[,BAND...].")
]
SelectedOpt = Annotated[
    str | None, typer.Option("--selected", help="Or: a 0/1 column saying who was selected.")
]
GroupOpt = Annotated[
    list[str] | None, typer.Option("--group", help="Group attribute column (repeat for more).")
]
CountOpt = Annotated[
    str | None, typer.Option("--count", help="Cases per row, for aggregated data.")
]
BandOrderOpt = Annotated[
    str | None,
    typer.Option(
        "--band-order", help="Bands from low to high risk, if not numeric/laag-midden-hoog."
    ),
]
BinsOpt = Annotated[int, typer.Option("--bins", min=2, help="Most score bins.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]


def _inputs(data: list[Path] | None, source: str | None, table: str | None) -> Any:
    """The positional files, or the --source database (or only a Spark --table)."""
    items: list[Any] = [*(data or []), *([source] if source else [])]
    if not items and not table:
        raise typer.BadParameter("give data files, or --source (or --table for Spark)")
    return items if len(items) != 1 else items[0]


def _said(engine: str, why: str, quiet: bool, lang: str = "en") -> None:
    """Which engine counted the cube, and why, in ``lang`` (unless ``quiet``)."""
    from waarborg.report.i18n import N_, tr

    if not quiet:
        said = tr(N_("engine: {engine} ({why})"), lang).format(engine=engine, why=tr(why, lang))
        err.print(said, highlight=False)


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function``; a ValueError about the options becomes a usage error (exit 2)."""
    try:
        return function(*args, **kwargs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("audit")
@reports_errors
def audit_command(
    data: DataArg = None,
    score: ScoreOpt = None,
    outcome: OutcomeOpt = None,
    band: BandOpt = None,
    select: SelectOpt = None,
    selected: SelectedOpt = None,
    group: GroupOpt = None,
    intersections: Annotated[
        bool, typer.Option("--intersections", help="Also every pair of attributes (a×b), and all.")
    ] = False,
    count: CountOpt = None,
    reference: Annotated[
        list[str] | None,
        typer.Option("--reference", help="Reference group ATTR=GROUP (default: the largest)."),
    ] = None,
    instrument: Annotated[
        str | None, typer.Option("--instrument", help="Instrument id or spec file (provenance).")
    ] = None,
    band_order: BandOrderOpt = None,
    min_group_size: Annotated[
        int, typer.Option("--min-group-size", min=0, help="Smaller groups: flagged, no verdicts.")
    ] = 30,
    bins: BinsOpt = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    lang: LangOpt = "en",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    conditions_of: Annotated[
        str | None,
        typer.Option(
            "--conditions",
            help="Add the five conditions of this registered process to the report.",
        ),
    ] = None,
    database_url: DatabaseOpt = None,
    engine: EngineOpt = "auto",
    source: SourceOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Audit validity (AUC, calibration) and fairness (rates per group, disparities)."""
    from waarborg.audit import audit

    items = _inputs(data, source, table)
    with stages(quiet, 4) as stage:
        result = _call(
            audit,
            items,
            score=score,
            outcome=outcome,
            band=band,
            select=select,
            selected=selected,
            group=group or (),
            intersections=intersections,
            count=count,
            reference=reference,
            instrument=instrument,
            band_order=band_order,
            min_group_size=min_group_size,
            n_bins=bins,
            seed=seed,
            progress=stage,
            engine=engine,
            table=table,
            query=query,
        )
        stage("writing")
        conditions = _conditions(conditions_of, database_url) if conditions_of else None
        html = result.to_html(lang, conditions) if report is not None else None
        text = result.to_json() + "\n" if json_out is not None else None
    _said(result["inputs"]["engine"], result["inputs"]["engine_why"], quiet, lang)
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)
    write_outputs([(json_out, text), (report, html)], lang)


def _conditions(process: str, database_url: str | None) -> dict[str, Any]:
    """The five-conditions report of a process in the service's database, as JSON."""
    from waarborg.cli.conditions import conditions_report

    return conditions_report(process, database_url).model_dump(mode="json")


@cube_app.command("build")
@reports_errors
def cube_build_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Cube file (.parquet).")],
    data: DataArg = None,
    score: ScoreOpt = None,
    outcome: OutcomeOpt = None,
    band: BandOpt = None,
    select: SelectOpt = None,
    selected: SelectedOpt = None,
    group: GroupOpt = None,
    count: CountOpt = None,
    band_order: BandOrderOpt = None,
    bins: BinsOpt = 1000,
    engine: EngineOpt = "auto",
    source: SourceOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    quiet: QuietOpt = False,
    lang: LangOpt = "en",
) -> None:
    """Count cases by group, outcome, score bin, band and selection into a cube file."""
    from waarborg.audit import build_cube
    from waarborg.report.i18n import N_, fmt_count, tr

    items = _inputs(data, source, table)
    with stages(quiet, 2) as stage:
        stage("building the cube")
        cube = _call(
            build_cube,
            items,
            group=group or (),
            outcome=outcome,
            score=score,
            band=band,
            selected=selected,
            count=count,
            select=select,
            band_order=band_order,
            n_bins=bins,
            engine=engine,
            table=table,
            query=query,
        )
        stage("writing")
        cube.write(output)
    _said(cube.meta["engine"], cube.meta["engine_why"], quiet, lang)
    said = tr(N_("wrote a cube of {n} cases in {cells} cells → {path}"), lang)
    cells = fmt_count(cube.table.num_rows, lang)
    out.print(said.format(n=fmt_count(cube.n, lang), cells=cells, path=output), highlight=False)


@cube_app.command("export")
@reports_errors
def cube_export_command(
    cube: Annotated[Path, typer.Argument(help="A cube file (waarborg cube build).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Exported cube (.parquet).")],
    disclosure: Annotated[
        Path | None,
        typer.Option(
            "--disclosure",
            help="Output rules (YAML): min_frequency (10), rounding.base (10), "
            "rounding.method (nearest/random), seed.",
        ),
    ] = None,
    lang: LangOpt = "en",
) -> None:
    """Apply output control (suppression, rounding) before a cube leaves a secure environment."""
    from waarborg.audit.cube import read_cube
    from waarborg.audit.disclosure import export_cube, load_rules
    from waarborg.report.i18n import N_, fmt_count, tr

    exported = export_cube(read_cube(cube), load_rules(disclosure))
    exported.write(output)
    done = exported.meta["disclosure"]
    said = tr(
        N_(
            "exported {published} of {cells} cells ({suppressed} suppressed, counts rounded "
            "to {base}) → {path}"
        ),
        lang,
    )
    counts = {key: fmt_count(done[key], lang) for key in ("published", "cells", "suppressed")}
    base = done["rules"]["rounding"]["base"]
    out.print(said.format(**counts, base=base, path=output), highlight=False)
    warnings = {
        "alone_cells": N_(
            "warning: {n} suppressed cell(s) are alone in a line of the cube: do not publish "
            "the margins of those lines"
        ),
        "unprotected_cells": N_(
            "warning: {n} suppressed cell(s) follow from several margins together (some rows "
            "less some columns): publish no margins of this cube, or coarsen it"
        ),
        "unchecked_cells": N_(
            "warning: {n} suppressed cell(s) lie in groups too large to check whether "
            "several margins together give them"
        ),
    }
    for key, warning in warnings.items():
        if done[key]:
            err.print(tr(warning, lang).format(n=fmt_count(done[key], lang)), highlight=False)
