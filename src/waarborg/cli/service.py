"""``waarborg serve``, ``db upgrade``, ``users add``, ``retention run``, ``auditlog verify``.

Every command takes ``--database-url`` (or ``WAARBORG_DATABASE_URL``; default: the SQLite
file ``waarborg.sqlite`` in the working folder). The service's modules are imported only
when a service command runs, so the rest of the command line starts without them.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from waarborg.cli.app import app, err, out, reports_errors

if TYPE_CHECKING:
    from waarborg.service.auditlog import Actor
    from waarborg.service.store import Database

db_app = typer.Typer(help="The service's database.")
users_app = typer.Typer(help="The service's users.")
retention_app = typer.Typer(help="Delete cases past their retention period.")
auditlog_app = typer.Typer(help="The service's hash-chained audit log.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(retention_app, name="retention")
app.add_typer(auditlog_app, name="auditlog")

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="WAARBORG_DATABASE_URL",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
        "[default: sqlite:///waarborg.sqlite]",
        show_default=False,
    ),
]


def _database(url: str | None) -> Database:
    from waarborg.service.settings import database_url
    from waarborg.service.store import Database

    db = Database(database_url(url))
    db.upgrade()
    return db


def _operator() -> Actor:
    from waarborg.service.auditlog import Actor

    return Actor(f"cli:{getpass.getuser()}", "operator")


@app.command("serve")
@reports_errors
def serve_command(
    database_url: DatabaseOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (e.g. one per core).")
    ] = 1,
) -> None:
    """Run the service (the schema is upgraded first; retention runs on a schedule).

    ``X-Forwarded-For`` is believed only from the proxies in ``WAARBORG_TRUSTED_PROXIES``
    (default: none), by uvicorn (its access log) and the app (its sign-in limits) alike.
    """
    import os

    import uvicorn

    from waarborg.service.app import create_app
    from waarborg.service.settings import ENV_DATABASE_URL, Settings
    from waarborg.service.signin import trusted_networks

    proxies = [str(n) for n in trusted_networks(Settings.from_env(database_url).trusted_proxies)]
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }
    if workers == 1:
        uvicorn.run(create_app(database_url), **options)
        return
    if database_url:  # each worker process builds its app from the environment
        os.environ[ENV_DATABASE_URL] = database_url
    uvicorn.run("waarborg.service.app:create_app", factory=True, workers=workers, **options)


@db_app.command("upgrade")
@reports_errors
def db_upgrade(database_url: DatabaseOpt = None) -> None:
    """Create or upgrade the schema to the newest version (Alembic)."""
    db = _database(database_url)
    out.print(f"database schema is up to date ({db.backend})")
    db.dispose()


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise typer.BadParameter("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
@reports_errors
def users_add(
    name: Annotated[str, typer.Argument(help="The user name to log in with.")],
    role: Annotated[
        str, typer.Option(help="caseworker, supervisor, auditor or admin.", show_default=False)
    ],
    team: Annotated[
        str | None, typer.Option(help="The team (case workers and supervisors need one).")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option(help="The name shown (and named in notices, if allowed).")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a user; the password is read from standard input (asked twice on a terminal)."""
    from waarborg.service.auth import add_user

    password = _password()
    db = _database(database_url)
    with db.transaction() as session:
        add_user(
            session,
            _operator(),
            name=name,
            password=password,
            role=role,
            team_name=team,
            display_name=display_name,
        )
    out.print(f"added {role} {name}" + (f" (team {team})" if team else ""), highlight=False)
    db.dispose()


@retention_app.command("run")
@reports_errors
def retention_run(database_url: DatabaseOpt = None) -> None:
    """Delete every case past its process's retention period, keeping aggregate counts."""
    from waarborg.service import retention

    db = _database(database_url)
    report = retention.run(db, by=_operator())
    for process_id, n in sorted(report.per_process.items()):
        out.print(f"process {process_id}: deleted {n} cases", highlight=False)
    out.print(f"retention: {report.deleted} cases deleted", highlight=False)
    db.dispose()


@auditlog_app.command("verify")
@reports_errors
def auditlog_verify(
    database_url: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check the whole hash chain; exit 1 and name the first bad entry if it is broken."""
    from waarborg.service import auditlog

    db = _database(database_url)
    with db.transaction() as session:
        result = auditlog.verify(session)
    db.dispose()
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
    elif result.intact:
        out.print(
            f"audit log intact: {result.entries} entries, head {result.head_hash}",
            highlight=False,
        )
    else:
        err.print(
            f"[bold red]audit log broken at entry {result.first_bad}:[/] {result.reason}",
            highlight=False,
        )
    if not result.intact:
        raise typer.Exit(1)
