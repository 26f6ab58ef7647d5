"""The ``waarborg`` application and the instrument commands (score, explain, instruments).

Every command turns waarborg's own errors (bad spec, bad data) into one red line on
stderr that names the file, row and column, and exit code 2; nothing is half-written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from waarborg import __version__
from waarborg.errors import WaarborgError
from waarborg.instruments.engine import list_instruments, load_instrument, result_metadata, score
from waarborg.instruments.explain import Language, explain
from waarborg.instruments.spec import spec_json_schema, spec_to_yaml
from waarborg.tables import atomic_path, write_table

app = typer.Typer(
    help="waarborg: correct, tested and accountable algorithmic risk assessment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
instruments_app = typer.Typer(help="List, show, validate bundled and own instrument specs.")
app.add_typer(instruments_app, name="instruments")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

InstrumentArg = Annotated[str, typer.Argument(help="A bundled instrument id or a spec file.")]


def reports_errors(command: F) -> F:
    """Turn waarborg's errors into a clear message and exit code 2."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WaarborgError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return run  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"waarborg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """waarborg: correct, tested and accountable algorithmic risk assessment."""


@app.command("score")
@reports_errors
def score_command(
    instrument: InstrumentArg,
    data: Annotated[Path, typer.Argument(help="Cases: a .csv or .parquet file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write: .csv/.parquet")],
    events: Annotated[
        Path | None, typer.Option(help="Event records for an instrument with data rules.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local, or spark: score on a Spark session (SPARK_REMOTE / SPARK_MASTER) "
            "with mapInArrow; DATA may be a Parquet folder or Delta table, OUTPUT a folder.",
        ),
    ] = "local",
) -> None:
    """Score every case in DATA and write bands, probabilities and contributions."""
    if engine not in ("local", "spark"):
        raise typer.BadParameter("use local or spark", param_hint="--engine")
    if engine == "spark":
        if events is not None:
            raise typer.BadParameter("data rules run locally only", param_hint="--events")
        from waarborg.instruments.on_spark import score_spark

        score_spark(instrument, data, output)
        out.print(f"scored {data} with Spark → {output}", highlight=False)
        return
    result = score(instrument, data, events=events)
    write_table(result, output)
    meta = result_metadata(result)
    for line in _rule_lines(meta):
        err.print(line, highlight=False)
    out.print(
        f"scored {result.num_rows} cases with {meta['instrument_id']} {meta['instrument_version']} "
        f"(spec {str(meta['spec_hash'])[:12]}) → {output}",
        highlight=False,
    )


def _rule_lines(meta: dict[str, Any]) -> list[str]:
    rules = meta.get("data_rules")
    if not rules:
        return []
    lines = [f"data rules: {rules['events_read']} events read"]
    lines += [f"  {n} removed: {rule}" for rule, n in rules["removed"].items()]
    return [*lines, f"  {rules['events_used']} events used"]


@app.command("explain")
@reports_errors
def explain_command(
    instrument: InstrumentArg,
    case: Annotated[Path, typer.Option("--case", help="A JSON file with one case's fields.")],
    lang: Annotated[str, typer.Option(help="Language: en or nl.")] = "en",
) -> None:
    """Explain one case's score in plain language."""
    if lang not in ("en", "nl"):
        raise typer.BadParameter("use en or nl", param_hint="--lang")
    try:
        fields = json.loads(case.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        err.print(f"[bold red]error:[/] {case}: cannot read the case: {exc}", highlight=False)
        raise typer.Exit(2) from None
    lang_: Language = "nl" if lang == "nl" else "en"
    out.print(str(explain(instrument, fields, lang=lang_)), highlight=False)


@instruments_app.command("list")
def instruments_list() -> None:
    """List the bundled instruments."""
    table = Table("id", "version", "model", "title", "parameters")
    for instrument_id in list_instruments():
        spec = load_instrument(instrument_id).spec
        table.add_row(
            spec.id, spec.version, spec.model.kind, spec.title, spec.provenance.parameters
        )
    out.print(table)


@instruments_app.command("show")
@reports_errors
def instruments_show(instrument: InstrumentArg) -> None:
    """Print a spec as YAML (which `waarborg score` accepts back as a file)."""
    sys.stdout.write(spec_to_yaml(load_instrument(instrument).spec))


@instruments_app.command("validate")
@reports_errors
def instruments_validate(
    specs: Annotated[list[str], typer.Argument(help="Spec files or bundled ids.")],
) -> None:
    """Validate spec files; print each one's id, version and content hash."""
    for source in specs:
        inst = load_instrument(source)
        out.print(f"valid: {source} ({inst.id} {inst.version}, spec {inst.spec_hash[:12]})")


@instruments_app.command("schema")
@reports_errors
def instruments_schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of the spec format."""
    text = json.dumps(spec_json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
