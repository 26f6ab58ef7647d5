"""``waarborg conditions`` and ``waarborg audits record``: the five conditions of a process."""

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from waarborg.cli.app import app
from waarborg.cli.common import (
    DatabaseOpt,
    LangOpt,
    open_database,
    operator,
    out,
    reports_errors,
)
from waarborg.cli.register import read_audits

if TYPE_CHECKING:
    from waarborg.register.conditions import ConditionsReport

audits_app = typer.Typer(help="Audits recorded as evidence for the five conditions.")
app.add_typer(audits_app, name="audits")


@app.command("conditions")
@reports_errors
def conditions_command(
    process: Annotated[str, typer.Argument(help="A registered process (name or id).")],
    database_url: DatabaseOpt = None,
    lang: LangOpt = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    rubber_stamp_seconds: Annotated[
        float, typer.Option(min=0, help="Decisions faster than this count as fast.")
    ] = 30.0,
) -> None:
    """The five conditions for automated risk selection; exit 0 if all met, else 1."""
    report = conditions_report(process, database_url, rubber_stamp_seconds)
    if as_json:
        out.print_json(report.model_dump_json())
    else:
        out.print(report.summary("nl" if lang == "nl" else "en"), highlight=False)
    if not report.all_met:
        raise typer.Exit(1)


def conditions_report(
    process: str, database_url: str | None, rubber_stamp_seconds: float = 30.0
) -> "ConditionsReport":
    """The five conditions of a registered process (name or id), today."""
    from waarborg.service import casework, evidence

    db = open_database(database_url)
    try:
        with db.transaction() as session:
            found = casework.find_process(session, process)
            today = datetime.now(UTC).date()
            return evidence.conditions(session, operator(), found, today, rubber_stamp_seconds)
    finally:
        db.dispose()


@audits_app.command("record")
@reports_errors
def audits_record(
    process: Annotated[str, typer.Argument(help="A registered process (name or id).")],
    result: Annotated[Path, typer.Argument(help="The audit result (waarborg audit --json).")],
    kind: Annotated[str, typer.Option(help="pre_deployment or periodic.", show_default=False)],
    justification: Annotated[
        str | None, typer.Option(help="Why a remaining significant disparity is justified.")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Record an audit of a process as evidence (conditions 1 and 2)."""
    if kind not in ("pre_deployment", "periodic"):
        raise typer.BadParameter("use pre_deployment or periodic", param_hint="--kind")
    from waarborg.service import casework, evidence
    from waarborg.service.schemas import AuditIn

    data = AuditIn(kind=kind, result=read_audits([result])[0], justification=justification)  # type: ignore[arg-type]
    db = open_database(database_url)
    try:
        with db.transaction() as session:
            found = casework.find_process(session, process)
            audit = evidence.record_audit(session, operator(), found, data)
            out.print(f"recorded audit {audit.id} ({kind}) for process {found.name}")
    finally:
        db.dispose()
