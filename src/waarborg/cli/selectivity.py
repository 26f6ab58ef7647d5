"""``waarborg selectivity``: the selectivity of a risk selection (issue 15).

``waarborg selectivity SOURCE`` is short for ``waarborg selectivity report SOURCE``: a
first argument that is not one of the group's commands goes to ``report``.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from waarborg.cli.app import app
from waarborg.cli.common import (
    DatabaseOpt,
    LangOpt,
    open_database,
    operator,
    out,
    reports_errors,
    stages,
    write_outputs,
)

if TYPE_CHECKING:
    from waarborg.tables import TableLike


class ReportByDefault(TyperGroup):
    """A command group whose first argument, if it names no command, goes to ``report``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["report", *args]
        return super().resolve_command(ctx, args)


selectivity_app = typer.Typer(
    cls=ReportByDefault,
    help="Selectivity of a risk selection: prevalence from a random reference sample, "
    "hit rates, lift, burden per group, outcome and threshold tests, bias search.",
    no_args_is_help=True,
)
app.add_typer(selectivity_app, name="selectivity")


# --------------------------------------------------------------------------- report


def selection_source(
    source: str,
    database_url: str | None = None,
    join: Path | None = None,
    on: str | None = None,
    reference_share: float | None = None,
) -> "tuple[TableLike, float | None, str | None]":
    """SOURCE of ``waarborg selectivity report``: a selection table, its share and its name.

    A file (.csv, .tsv, .parquet, a spreadsheet), with ``reference_share`` as given (its
    path names it); else the name of a process of the service's database
    (``--database-url``): its cases drawn under its current reference share, with the
    columns of ``join`` attached by the column ``on`` (e.g. ``subject_ref``), its
    declared share and its name, as the API has them
    (:func:`waarborg.service.selectivity.current_period`).
    """
    from waarborg.tables import SPREADSHEETS

    path = Path(source)
    if path.suffix.lower() in (".csv", ".tsv", ".parquet", *SPREADSHEETS) or path.exists():
        if join is not None:
            raise typer.BadParameter("--join is for a process of the service", param_hint="--join")
        return path, reference_share, None
    if (join is None) != (on is None):
        raise typer.BadParameter("give --join FILE and --on COLUMN together", param_hint="--on")
    from waarborg.service.selectivity import current_period, join_groups
    from waarborg.service.settings import DEFAULT_DATABASE_URL
    from waarborg.service.settings import database_url as given_url

    url = given_url(database_url)
    if url == DEFAULT_DATABASE_URL and not Path(url.removeprefix("sqlite:///")).exists():
        raise typer.BadParameter(
            f"{source!r} is not a selection table file (.csv, .parquet, .xlsx, ...), nor a "
            "process: no --database-url (or WAARBORG_DATABASE_URL) given and no "
            "waarborg.sqlite here",
            param_hint="SOURCE",
        )
    db = open_database(url)
    try:
        period = current_period(db, source, by=operator(), reference_share=reference_share)
    finally:
        db.dispose()
    table = period.table
    if join is not None and on is not None:
        table = join_groups(table, join, on, period.source)
    return table, period.reference_share, period.source


@selectivity_app.command("report")
@reports_errors
def report_command(
    source: Annotated[
        str, typer.Argument(help="The selection table (.csv/.parquet/.xlsx), or a process.")
    ],
    group: Annotated[
        list[str] | None, typer.Option("--group", help="Group column (repeat for more).")
    ] = None,
    reference_share: Annotated[
        float | None,
        typer.Option(
            "--reference-share",
            min=0.0,
            max=1.0,
            help="The share drawn at random, as declared (default: a process's declared "
            "share; for a file, the realised share).",
        ),
    ] = None,
    reference_group: Annotated[
        list[str] | None,
        typer.Option("--reference-group", help="COL=VALUE to compare with (default: largest)."),
    ] = None,
    confidence: Annotated[
        float, typer.Option("--confidence", min=0.5, max=0.999, help="Confidence level.")
    ] = 0.95,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    lang: LangOpt = "en",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    database_url: DatabaseOpt = None,
    join: Annotated[
        Path | None, typer.Option("--join", help="A process: file of more group columns.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The column to join --join on (subject_ref).")
    ] = None,
) -> None:
    """Prevalence, hit rate, lift and burden per group from a random reference sample.

    SOURCE is a selection table file, or the name of a process in the service's
    database (``--database-url``), optionally with group columns from ``--join FILE
    --on COLUMN``.
    """
    from waarborg.report.i18n import N_, tr
    from waarborg.selectivity import render_html, selection_counts, selectivity_report

    table, reference_share, name = selection_source(source, database_url, join, on, reference_share)
    with stages(quiet, 3) as stage:
        stage(tr(N_("reading"), lang))
        counts = selection_counts(table, group or (), source=name)
        stage(tr(N_("estimating"), lang))
        try:
            result = selectivity_report(
                counts,
                group or (),
                reference_share=reference_share,
                reference_group=reference_group,
                confidence=confidence,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        stage(tr(N_("writing"), lang))
        text = result.to_json()
        html = render_html(result, lang) if report is not None else None
    write_outputs([(json_out, text + "\n"), (report, html)], lang)
    out.print(result.summary(lang), highlight=False, markup=False, soft_wrap=True)


# --------------------------------------------------------------------------- plan


def _pair(text: str) -> tuple[float, float]:
    share, _, prevalence = text.partition(":")
    try:
        return float(share), float(prevalence)
    except ValueError:
        raise typer.BadParameter(
            f"give SHARE:PREVALENCE, e.g. 0.3:0.12, not {text!r}", param_hint="--disparity"
        ) from None


@selectivity_app.command("plan")
@reports_errors
def plan_command(
    cases: Annotated[int, typer.Option("--cases", min=1, help="Cases per period.")],
    selection_share: Annotated[
        float, typer.Option("--selection-share", help="Share of cases the instrument selects.")
    ],
    prevalence: Annotated[
        float | None, typer.Option("--prevalence", help="Expected prevalence of the outcome.")
    ] = None,
    lift: Annotated[float | None, typer.Option("--lift", help="Lift to detect (> 1).")] = None,
    disparity: Annotated[
        list[str] | None,
        typer.Option(
            "--disparity",
            help="SHARE:PREVALENCE of a group; give two to plan for their difference.",
        ),
    ] = None,
    power: Annotated[float, typer.Option("--power", help="Power wanted.")] = 0.8,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    periods: Annotated[int, typer.Option("--periods", min=1, help="Periods pooled.")] = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the plan as JSON.")] = None,
    lang: LangOpt = "en",
) -> None:
    """The smallest random reference share to detect a lift or a prevalence disparity."""
    from waarborg.selectivity import plan_reference_share

    try:
        plan = plan_reference_share(
            cases,
            selection_share=selection_share,
            prevalence=prevalence,
            lift=lift,
            disparity=[_pair(x) for x in disparity] if disparity else None,
            power=power,
            alpha=alpha,
            periods=periods,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    write_outputs([(json_out, json.dumps(plan.to_dict(), indent=2) + "\n")], lang)
    out.print(plan.summary(lang), highlight=False, markup=False, soft_wrap=True)
