"""``waarborg register export``, ``waarborg modelcard`` and ``waarborg revalidation``."""

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waarborg.cli.app import app
from waarborg.cli.common import DatabaseOpt, LangOpt, err, open_database, out, reports_errors

if TYPE_CHECKING:
    from waarborg.instruments.spec import InstrumentSpec
    from waarborg.register.export import ProcessFacts

register_app = typer.Typer(help="The algorithm register (publication standard 1.0).")
app.add_typer(register_app, name="register")

AuditsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--audit",
        help="An audit result (JSON from waarborg audit --json); repeat, earliest first.",
    ),
]


@register_app.command("export")
@reports_errors
def export_command(
    target: Annotated[
        str, typer.Argument(help="An instrument (id or spec file) or a registered process.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The entry (JSON).")],
    owner: Annotated[
        Path | None,
        typer.Option(help="The owner's YAML (lawful basis, contact, ...). Default: an example."),
    ] = None,
    audit: Annotated[
        Path | None, typer.Option(help="The latest audit result (JSON), for the risks.")
    ] = None,
    database_url: DatabaseOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Write the register entry of an instrument, or of a process that uses one.

    The entry is in Dutch, as the register's standard asks; ``--lang`` sets the language
    of the messages and errors.
    """
    from waarborg.register.export import register_entry
    from waarborg.register.owner import DEMO_OWNER, load_owner
    from waarborg.report.i18n import N_, tr
    from waarborg.tables import atomic_path

    owner_info = load_owner(owner or DEMO_OWNER)
    if owner_info.illustrative:
        warning = tr(N_("warning: the owner texts in {path} are illustrative"), lang)
        err.print(warning.format(path=owner or DEMO_OWNER), highlight=False)
    spec, process, recorded = _target(target, database_url)
    latest = read_audits([audit])[0] if audit else recorded
    entry = register_entry(spec, owner_info, process, latest)
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(entry.to_json_dict(), indent=2, ensure_ascii=False), "utf-8")
    said = tr(N_("register entry of {name}: {path}"), lang)
    out.print(said.format(name=entry.name, path=output), highlight=False)


@app.command("modelcard")
@reports_errors
def modelcard_command(
    instrument: Annotated[str, typer.Argument(help="An instrument (id or spec file).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="card.html (self-contained) or card.md.")
    ],
    audits: AuditsOpt = None,
    lang: LangOpt = "en",
) -> None:
    """Write the instrument's model card: structure, data rules, validity, limitations."""
    from waarborg.instruments.engine import load_instrument
    from waarborg.register.modelcard import model_card
    from waarborg.report.i18n import N_, tr
    from waarborg.tables import atomic_path

    if output.suffix not in (".html", ".md"):
        raise typer.BadParameter("name the card .html or .md", param_hint="--output")
    card = model_card(
        load_instrument(instrument).spec,
        read_audits(audits),
        lang="nl" if lang == "nl" else "en",
        format="html" if output.suffix == ".html" else "md",
    )
    with atomic_path(output) as tmp:
        tmp.write_text(card, encoding="utf-8")
    out.print(tr(N_("model card: {path}"), lang).format(path=output), highlight=False)


@app.command("revalidation")
@reports_errors
def revalidation_command(
    instrument: Annotated[str, typer.Argument(help="An instrument (id or spec file).")],
    audits: AuditsOpt = None,
    today: Annotated[
        str | None, typer.Option(help="Judge on this date (YYYY-MM-DD; default: today).")
    ] = None,
) -> None:
    """Is the instrument due for revalidation? Exit 0 within policy, 1 overdue or breached."""
    from waarborg.instruments.engine import load_instrument
    from waarborg.register.revalidation import revalidation_status

    day = _date(today) if today else date.today()
    status = revalidation_status(load_instrument(instrument).spec, read_audits(audits), day)
    out.print(status.summary(), highlight=False)
    if not status.ok:
        raise typer.Exit(1)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("write the date as YYYY-MM-DD", param_hint="--today") from None


def read_audits(paths: list[Path] | None) -> list[dict[str, Any]]:
    """Audit results from JSON files; a file that is not one is an error naming it."""
    from waarborg.errors import WaarborgError
    from waarborg.i18n import Message
    from waarborg.register.audits import missing_parts

    audits = []
    for path in paths or []:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            error = Message(
                "%(path)s: cannot read the audit result: %(error)s",
                domain="reports",
                path=path,
                error=exc.strerror,
            )
            raise WaarborgError(error) from exc
        except json.JSONDecodeError as exc:
            error = Message("%(path)s: not JSON: %(error)s", domain="reports", path=path, error=exc)
            raise WaarborgError(error) from exc
        missing = missing_parts(data)
        if missing:
            error = Message(
                "%(path)s: not an audit result from waarborg audit --json (no %(missing)s)",
                domain="reports",
                path=path,
                missing=", ".join(missing),
            )
            raise WaarborgError(error)
        audits.append(data)
    return audits


def _target(
    target: str, database_url: str | None
) -> "tuple[InstrumentSpec, ProcessFacts | None, dict[str, Any] | None]":
    """An instrument (catalog id or spec file), else a process of the service's database
    with its latest recorded audit."""
    from waarborg.instruments.engine import load_instrument
    from waarborg.instruments.spec import catalog_ids
    from waarborg.register.export import ProcessFacts

    if target in catalog_ids() or Path(target).suffix in (".yaml", ".yml"):
        return load_instrument(target).spec, None, None
    from waarborg.service import casework, evidence

    db = open_database(database_url)
    try:
        with db.transaction() as session:
            process = casework.find_process(session, target)
            facts = ProcessFacts(
                name=process.name,
                purpose=process.purpose,
                retention_days=process.retention_days,
                register_ref=process.register_ref,
            )
            audits = evidence.list_recorded(session, process.id)
            latest = dict(audits[-1].result) if audits else None
            return casework.instrument(process).spec, facts, latest
    finally:
        db.dispose()
