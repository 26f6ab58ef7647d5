"""Service commands: ``serve``, ``db upgrade``/``grant``, ``users …``, ``secret move``,
``retention run``, ``auditlog verify``.

Every command takes ``--database-url`` (or ``WAARBORG_DATABASE_URL``; default: the SQLite
file ``waarborg.sqlite`` in the working folder). The service's modules are imported only
when a service command runs, so the rest of the command line starts without them.
"""

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from waarborg.cli.app import app
from waarborg.cli.common import (
    DatabaseOpt,
    err,
    open_database,
    operator,
    out,
    reports_errors,
    shown,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from waarborg.service.accounts import Requester
    from waarborg.service.auditlog import Verification

db_app = typer.Typer(help="The service's database.")
users_app = typer.Typer(help="The service's users.")
retention_app = typer.Typer(help="Delete cases past their retention period.")
auditlog_app = typer.Typer(help="The service's hash-chained audit log.")
secret_app = typer.Typer(help="The token-signing secret (kept outside the database).")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(retention_app, name="retention")
app.add_typer(auditlog_app, name="auditlog")
app.add_typer(secret_app, name="secret")


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
    db = open_database(database_url)
    out.print(f"database schema is up to date ({db.backend})")
    db.dispose()


@db_app.command("grant")
@reports_errors
def db_grant(
    app_role: Annotated[
        str,
        typer.Option(help="The role the service connects as (made if new).", show_default=False),
    ],
    database_url: DatabaseOpt = None,
    password: Annotated[
        bool, typer.Option("--password", help="Read a password for the role from standard input.")
    ] = False,
    print_sql: Annotated[
        bool, typer.Option("--print-sql", help="Only print the statements (for a DBA).")
    ] = False,
) -> None:
    """PostgreSQL: let APP_ROLE run the service, with INSERT-only on the audit log, no DDL.

    Run as the schema's owner (who also runs ``db upgrade``), after every upgrade.
    """
    from waarborg.service.settings import database_url as resolve
    from waarborg.service.store import Database
    from waarborg.service.store.grants import app_role_sql, grant_app_role

    if print_sql:
        for statement in app_role_sql("<schema>", app_role):
            out.print(statement + ";", highlight=False, markup=False)
        return
    db = Database(resolve(database_url))
    try:
        schema = grant_app_role(db, app_role, _password() if password else None)
    finally:
        db.dispose()
    out.print(f"role {app_role} may run the service on schema {schema}", highlight=False)


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
    """Add a user; the password is read from standard input (asked twice on a terminal).

    The account waits for an admin's approval (four-eyes), except an admin added while
    fewer than two active admins exist (bootstrap). The user must change the password at
    first sign-in, except such a bootstrap admin.
    """
    from waarborg.service.accounts import create_user

    password = _password()
    with _operator_session(database_url) as (session, by):
        _, change = create_user(
            session,
            by,
            name=name,
            password=password,
            role=role,
            team_name=team,
            display_name=display_name,
        )
    added = f"added {role} {name}" + (f" (team {team})" if team else "")
    if change is not None:
        added += f": inactive until an admin approves access change {change.id}"
    out.print(added, highlight=False, soft_wrap=True)


@contextmanager
def _operator_session(url: str | None) -> "Iterator[tuple[Session, Requester]]":
    from waarborg.service.accounts import Requester

    db = open_database(url)
    try:
        with db.transaction() as session:
            yield session, Requester(operator())
    finally:
        db.dispose()


@users_app.command("list")
@reports_errors
def users_list(
    database_url: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the users as JSON.")] = False,
) -> None:
    """Every user with role, team and state, and the access changes waiting for approval."""
    from waarborg.service import accounts
    from waarborg.service.schemas import AccessChangeOut, UserOut

    with _operator_session(database_url) as (session, _):
        users = [UserOut.of(u).model_dump() for u in accounts.list_users(session)]
        pending = [
            AccessChangeOut.of(c).model_dump(mode="json")
            for c in accounts.changes(session, pending=True)
        ]
    if as_json:
        out.print_json(json.dumps({"users": users, "pending": pending}))
        return
    for u in users:
        state = "active" if u["active"] else "inactive"
        if u["must_change_password"]:
            state += ", must change password"
        team = f" ({u['team']})" if u["team"] else ""
        out.print(
            f"{u['id']:>5}  {u['name']}  {u['role']}{team}  {state}",
            highlight=False,
            soft_wrap=True,
        )
    for c in pending:
        out.print(
            f"pending change {c['id']}: {c['kind']} {c['user']} → {c['role']}"
            + (f" ({c['team']})" if c["team"] else "")
            + f", asked by {c['requested_by']}",
            highlight=False,
            soft_wrap=True,
        )


NameArg = Annotated[str, typer.Argument(help="The user's name.")]


@users_app.command("deactivate")
@reports_errors
def users_deactivate(name: NameArg, database_url: DatabaseOpt = None) -> None:
    """Deactivate a user at once: their tokens end and they cannot log in."""
    from waarborg.service import accounts

    with _operator_session(database_url) as (session, by):
        accounts.deactivate(session, by, accounts.user_named(session, name))
    out.print(f"deactivated {name}", highlight=False, soft_wrap=True)


@users_app.command("reset-password")
@reports_errors
def users_reset_password(name: NameArg, database_url: DatabaseOpt = None) -> None:
    """Set a one-off password (from standard input); the user must change it at sign-in."""
    from waarborg.service import accounts

    password = _password()
    with _operator_session(database_url) as (session, by):
        accounts.reset_password(session, by, accounts.user_named(session, name), password)
    out.print(f"{name} must choose a new password at next sign-in", highlight=False, soft_wrap=True)


def _requested(change_id: int, what: str) -> None:
    out.print(
        f"asked to {what}: access change {change_id} waits for an admin's approval",
        highlight=False,
        soft_wrap=True,
    )


@users_app.command("reactivate")
@reports_errors
def users_reactivate(name: NameArg, database_url: DatabaseOpt = None) -> None:
    """Ask to reactivate a user (an admin approves: four-eyes)."""
    from waarborg.service import accounts

    with _operator_session(database_url) as (session, by):
        user = accounts.user_named(session, name)
        change = accounts.request_reactivation(session, by, user)
        change_id = change.id
    _requested(change_id, f"reactivate {name}")


@users_app.command("role")
@reports_errors
def users_role(
    name: NameArg,
    role: Annotated[str, typer.Argument(help="caseworker, supervisor, auditor or admin.")],
    team: Annotated[
        str | None, typer.Option(help="The team, for a case worker or supervisor.")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Ask to give a user another role (an admin approves: four-eyes)."""
    from waarborg.service import accounts

    with _operator_session(database_url) as (session, by):
        user = accounts.user_named(session, name)
        change_id = accounts.request_role(session, by, user, role, team).id
    _requested(change_id, f"make {name} {role}")


@users_app.command("team")
@reports_errors
def users_team(
    name: NameArg,
    team: Annotated[str, typer.Argument(help="The new team.")],
    database_url: DatabaseOpt = None,
) -> None:
    """Ask to move a user to another team (an admin approves: four-eyes)."""
    from waarborg.service import accounts

    with _operator_session(database_url) as (session, by):
        user = accounts.user_named(session, name)
        change_id = accounts.request_team(session, by, user, team).id
    _requested(change_id, f"move {name} to team {team}")


@secret_app.command("move")
@reports_errors
def secret_move(
    database_url: DatabaseOpt = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            envvar="WAARBORG_SECRET_FILE",
            help="Where the secret goes [default: beside a SQLite database, else "
            "./waarborg.secret].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Move the token secret out of the database (versions before 0004 kept it there).

    The secret is deleted from the database and a new one is written to the secret file
    (mode 0600) if it has none yet. The old one is not copied: whoever could read the
    database may know it. Every token issued so far ends; users log in again.
    """
    from waarborg.service import auditlog, keys
    from waarborg.service.settings import database_url as resolve

    url = resolve(database_url)
    with _operator_session(url) as (session, by):
        if not keys.secret_in_database(session):
            out.print("no secret in the database: nothing to move", highlight=False, soft_wrap=True)
            return
        path = keys.move_out_of_database(session, secret_file, url)
        auditlog.append(session, by.actor, "secret.move", detail={"file": str(path)})
    out.print(
        f"the token secret is now in {path}; it is gone from the database",
        highlight=False,
        soft_wrap=True,
    )


@retention_app.command("run")
@reports_errors
def retention_run(database_url: DatabaseOpt = None) -> None:
    """Delete every case past its process's retention period, keeping aggregate counts."""
    from waarborg.service import retention

    db = open_database(database_url)
    report = retention.run(db, by=operator())
    for process_id, n in sorted(report.per_process.items()):
        out.print(f"process {process_id}: deleted {n} cases", highlight=False)
    out.print(f"retention: {report.deleted} cases deleted", highlight=False)
    db.dispose()


@auditlog_app.command("verify")
@reports_errors
def auditlog_verify(
    database_url: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    witness: Annotated[
        Path | None,
        typer.Option(
            envvar="WAARBORG_WITNESS",
            help="The witness file [default: beside a SQLite database].",
            show_default=False,
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="The witness's public key [default: beside its private key, <witness>.pub].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check the chain, the witness and every bound record; exit 1 naming what is wrong.

    Fails on a changed, inserted or deleted entry, on entries that differ from or are
    missing against the witness (a rewrite, renumbering or truncation, even with the
    chain head reset), on a forged witness line, and on a case, decision or user that
    was changed, deleted or added outside the service.
    """
    from waarborg.service import auditlog

    db = open_database(database_url)
    try:
        if public_key is None and witness is not None:
            from waarborg.service.witness import WitnessSettings

            public_key = WitnessSettings.at(witness).public_key_file
        result = auditlog.verify_database(db, witness_file=witness, public_key_file=public_key)
    finally:
        db.dispose()
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
    else:
        _print_verification(result)
    if not result.intact:
        raise typer.Exit(1)


def _print_verification(result: "Verification") -> None:
    if result.reason is None and result.record_problems:
        err.print(
            f"[bold red]the chain is intact, but {len(result.record_problems)} of "
            f"{result.records_checked} records do not match the log:[/]",
            markup=True,
            highlight=False,
        )
    elif result.reason is None:
        witnessed = (
            "no witness (in-memory database)"
            if result.witnessed_seq is None
            else f"witnessed up to entry {result.witnessed_seq}"
        )
        out.print(
            f"audit log intact: {result.entries} entries, head {result.head_hash}; {witnessed}; "
            f"{result.records_checked} records match the log",
            highlight=False,
        )
        if result.unwitnessed:
            out.print(
                f"[yellow]note:[/] the last {result.unwitnessed} entries are not witnessed yet "
                "(committed; a crash before their witness record was written leaves this)",
                markup=True,
                highlight=False,
            )
    else:
        err.print(
            f"[bold red]audit log broken at entry {result.first_bad}:[/] {shown(result.reason)}",
            markup=True,
            highlight=False,
        )
    for problem in result.record_problems:
        err.print(
            f"[bold red]{shown(problem.kind)} {shown(problem.id)} does not match the log:[/] "
            f"{shown(problem.reason)}",
            markup=True,
            highlight=False,
        )
