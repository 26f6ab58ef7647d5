"""The ``waarborg`` application and the instrument commands (score, explain, instruments).

Every command turns waarborg's own errors (bad spec, bad data) into one red line on
stderr that names the file, row and column, and exit code 2; nothing is half-written.
"""

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from waarborg import __version__
from waarborg.cli.common import InstrumentArg, LangOpt, err, out, reports_errors

if TYPE_CHECKING:  # the commands import what they use: `waarborg --help` stays quick
    from waarborg.instruments.engine import Instrument
    from waarborg.instruments.explain import Language

app = typer.Typer(
    help="waarborg: correct, tested and accountable algorithmic risk assessment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
instruments_app = typer.Typer(help="List, show, validate bundled and own instrument specs.")
app.add_typer(instruments_app, name="instruments")


def _version(value: bool) -> None:
    if value:
        out.print(f"waarborg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    sep: Annotated[
        str | None,
        typer.Option(help="CSV field separator, e.g. ';' (default: detected from the file)."),
    ] = None,
    decimal: Annotated[
        str | None,
        typer.Option(help="CSV decimal mark, '.' or ',' (default: ',' when fields use ';')."),
    ] = None,
) -> None:
    """waarborg: correct, tested and accountable algorithmic risk assessment."""
    if sep is None and decimal is None:
        return  # the default: detected per file (and `COMMAND --help` stays quick)
    from waarborg.tables import csv_dialect

    try:
        ctx.with_resource(csv_dialect(sep, decimal))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("score")
@reports_errors
def score_command(
    instrument: InstrumentArg,
    data: Annotated[
        Path,
        typer.Argument(
            help="Cases (.csv, .parquet or a spreadsheet such as .xlsx), or incidents for "
            "an area instrument."
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write: .csv/.parquet")],
    events: Annotated[
        Path | None, typer.Option(help="Event records for an instrument with data rules.")
    ] = None,
    cells: Annotated[
        Path | None, typer.Option(help="Area instruments: the cells table (.csv/.parquet).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="Area instruments: the first day of the period to score (YYYY-MM-DD)."),
    ] = None,
    backtest: Annotated[
        bool, typer.Option("--backtest", help="Area instruments: score every period.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local, or spark: score on a Spark session (SPARK_REMOTE / SPARK_MASTER) "
            "with mapInArrow; DATA may be a Parquet folder or Delta table, OUTPUT a folder.",
        ),
    ] = "local",
    lang: LangOpt = "en",
) -> None:
    """Score every case (or every cell of an area) in DATA and write the scores."""
    from waarborg.instruments.engine import load_instrument, result_metadata, score
    from waarborg.report.i18n import N_, tr
    from waarborg.tables import write_table

    if engine not in ("local", "spark"):
        raise typer.BadParameter("use local or spark", param_hint="--engine")
    inst = load_instrument(instrument)
    if inst.spec.is_area:
        if engine != "local":
            raise typer.BadParameter("area instruments score locally", param_hint="--engine")
        _score_areas(inst, data, output, cells, period, backtest, events, lang)
        return
    if cells is not None or period is not None or backtest:
        raise typer.BadParameter(
            f"--cells, --period and --backtest are for area instruments; {inst.id} scores cases"
        )
    if engine == "spark":
        if events is not None:
            raise typer.BadParameter("data rules run locally only", param_hint="--events")
        from waarborg.instruments.on_spark import score_spark

        score_spark(instrument, data, output)
        said = tr(N_("scored {data} with Spark → {output}"), lang)
        out.print(said.format(data=data, output=output), highlight=False)
        return
    result = score(inst, data, events=events)
    write_table(result, output)
    meta = result_metadata(result)
    for line in _rule_lines(meta, lang):
        err.print(line, highlight=False)
    said = tr(N_("scored {n} cases with {instrument} {version} (spec {spec}) → {output}"), lang)
    out.print(
        said.format(
            n=result.num_rows,
            instrument=meta["instrument_id"],
            version=meta["instrument_version"],
            spec=str(meta["spec_hash"])[:12],
            output=output,
        ),
        highlight=False,
    )


def _score_areas(
    inst: "Instrument",
    incidents: Path,
    output: Path,
    cells: Path | None,
    period: str | None,
    backtest: bool,
    events: Path | None,
    lang: str,
) -> None:
    """``waarborg score`` for an area instrument: incidents and cells to scored cell-periods."""
    from waarborg.areas.engine import area_scores
    from waarborg.report.i18n import N_, tr
    from waarborg.tables import write_table

    if cells is None or events is not None:
        raise typer.BadParameter(f"{inst.id} scores areas: give --cells (and no --events)")
    day = _iso_day(period) if period is not None else None
    result = area_scores(inst, incidents, cells, period=day, backtest=backtest)
    write_table(result.to_arrow(), output)
    for line in area_report_lines(result.report, lang):
        err.print(line, highlight=False)
    said = tr(
        N_(
            "scored {cells} cells × {periods} periods ({first} to {last}) with {instrument} "
            "{version} (spec {spec}) → {output}"
        ),
        lang,
    )
    report = result.report
    out.print(
        said.format(
            cells=report["cells"],
            periods=report["periods_scored"],
            first=report["first_period"],
            last=report["last_period"],
            instrument=inst.id,
            version=inst.version,
            spec=inst.spec_hash[:12],
            output=output,
        ),
        highlight=False,
    )


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date (YYYY-MM-DD)", param_hint="--period"
        ) from None


def area_report_lines(report: dict[str, Any], lang: str = "en") -> list[str]:
    """What happened to the incident records: read, left out per reason and source, used."""
    from waarborg.report.i18n import N_, tr

    left_out = {
        "no_location": N_("no location"),
        "outside_grid": N_("outside grid"),
        "unknown_cell_id": N_("unknown cell id"),
        "no_date": N_("no date"),
        "before_first_period": N_("before first period"),
    }
    lines = [tr(N_("incidents: {n} read"), lang).format(n=report["incidents_read"])]
    lines += [
        tr(N_("  {n} left out ({policy} policy): {reason}"), lang).format(
            n=n, policy=report["invalid_policy"], reason=tr(left_out[reason], lang)
        )
        for reason, n in report["invalid"].items()
        if n
    ]
    used = ", ".join(report["sources_used"])
    lines += [
        tr(N_("  {n} not used: source {source} (the spec uses {used})"), lang).format(
            n=n, source=source, used=used
        )
        for source, n in report["not_used_source"].items()
        if n
    ]
    return [*lines, tr(N_("  {n} used"), lang).format(n=report["incidents_used"])]


def _rule_lines(meta: dict[str, Any], lang: str) -> list[str]:
    from waarborg.report.i18n import N_, tr

    rules = meta.get("data_rules")
    if not rules:
        return []
    lines = [tr(N_("data rules: {n} events read"), lang).format(n=rules["events_read"])]
    removed = tr(N_("  {n} removed: {rule}"), lang)
    lines += [removed.format(n=n, rule=rule) for rule, n in rules["removed"].items()]
    return [*lines, tr(N_("  {n} events used"), lang).format(n=rules["events_used"])]


@app.command("explain")
@reports_errors
def explain_command(
    instrument: InstrumentArg,
    case: Annotated[Path, typer.Option("--case", help="A JSON file with one case's fields.")],
    lang: LangOpt = "en",
) -> None:
    """Explain one case's score in plain language."""
    from waarborg.errors import DataError
    from waarborg.i18n import Message
    from waarborg.instruments.explain import explain

    try:
        fields = json.loads(case.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        reason = Message("cannot read the case: %(error)s", domain="reports", error=exc)
        raise DataError(reason, str(case)) from None
    lang_: Language = "nl" if lang == "nl" else "en"
    out.print(str(explain(instrument, fields, lang=lang_, source=str(case))), highlight=False)


@instruments_app.command("list")
def instruments_list() -> None:
    """List the bundled instruments (cases and areas)."""
    from waarborg.instruments.engine import list_instruments, load_instrument

    table = Table("id", "version", "unit", "model", "title", "parameters")
    for instrument_id in list_instruments(unit=None):
        spec = load_instrument(instrument_id).spec
        table.add_row(
            spec.id,
            spec.version,
            spec.unit,
            spec.model.kind,
            spec.title,
            spec.provenance.parameters,
        )
    out.print(table)


@instruments_app.command("show")
@reports_errors
def instruments_show(instrument: InstrumentArg) -> None:
    """Print a spec as YAML (which `waarborg score` accepts back as a file)."""
    from waarborg.instruments.engine import load_instrument
    from waarborg.instruments.spec import spec_to_yaml

    sys.stdout.write(spec_to_yaml(load_instrument(instrument).spec))


@instruments_app.command("validate")
@reports_errors
def instruments_validate(
    specs: Annotated[list[str], typer.Argument(help="Spec files or bundled ids.")],
) -> None:
    """Validate spec files; print each one's id, version and content hash."""
    from waarborg.instruments.engine import load_instrument

    for source in specs:
        inst = load_instrument(source)
        out.print(f"valid: {source} ({inst.id} {inst.version}, spec {inst.spec_hash[:12]})")


@instruments_app.command("schema")
@reports_errors
def instruments_schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of the spec format."""
    from waarborg.instruments.spec import spec_json_schema
    from waarborg.tables import atomic_path

    text = json.dumps(spec_json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
