"""The service's commands: db upgrade, users add, retention run, auditlog verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.service.conftest import tampering
from waarborg.cli import app
from waarborg.service import auth
from waarborg.service.store import Database
from waarborg.service.store.models import AuditEntry, Case, User, utcnow

runner = CliRunner()


def _run(url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--database-url", url], input=stdin)
    return result.exit_code, result.output


def test_db_upgrade_and_users_add(database_url: str) -> None:
    code, output = _run(database_url, "db", "upgrade")
    assert code == 0 and "up to date" in output
    code, output = _run(
        database_url,
        "users",
        "add",
        "ann",
        "--role",
        "caseworker",
        "--team",
        "team-a",
        stdin="a good password\n",
    )
    assert code == 0 and "added caseworker ann (team team-a)" in output
    assert "inactive until an admin approves access change 1" in output
    db = Database(database_url)
    with db.transaction() as session:
        ann = session.execute(select(User).where(User.name == "ann")).scalar_one()
        assert ann.team is not None and ann.team.name == "team-a"
        assert not ann.active and ann.must_change_password  # four-eyes, then a new password
        auth.verify_password(ann.password_hash, "a good password")
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "user.create")
        ).scalar_one()
        assert entry.actor.startswith("cli:") and entry.role == "operator"
    db.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (["--role", "caseworker"], "a good password\n", "belongs to a team"),
        (["--role", "boss"], "a good password\n", "unknown role 'boss'"),
        (["--role", "auditor"], "short\n", "at least 12 characters"),
    ],
)
def test_users_add_refuses_with_a_clear_message(
    database_url: str, args: list[str], stdin: str, words: str
) -> None:
    code, output = _run(database_url, "users", "add", "bob", *args, stdin=stdin)
    assert code == 2 and words in output
    db = Database(database_url)
    with db.transaction() as session:
        assert session.execute(select(User)).first() is None
    db.dispose()


def test_the_database_url_comes_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAARBORG_DATABASE_URL", database_url)
    result = runner.invoke(app, ["auditlog", "verify"])
    assert result.exit_code == 0 and "audit log intact: 0 entries" in result.output


def test_auditlog_verify_exit_codes(database_url: str) -> None:
    for name in ("ann", "bob", "cyd"):  # bootstrap admins: one entry each
        _run(database_url, "users", "add", name, "--role", "admin", stdin="a good password\n")
    db = Database(database_url)
    with db.transaction() as session:
        entries = session.execute(select(AuditEntry.action)).scalars().all()
    assert entries == ["user.create"] * 2 + ["user.create", "user.change.request"]
    code, output = _run(database_url, "auditlog", "verify")
    assert code == 0 and "intact: 4 entries" in output
    with tampering(db) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="x"))
    db.dispose()
    code, output = _run(database_url, "auditlog", "verify")
    assert code == 1 and "broken at entry 2" in output
    code, output = _run(database_url, "auditlog", "verify", "--json")
    assert code == 1 and '"first_bad": 2' in output


def test_retention_run(database_url: str) -> None:
    from tests.service.conftest import GENERIC_INPUTS
    from waarborg.service import casework
    from waarborg.service.schemas import CaseIn, ProcessIn

    _run(database_url, "users", "add", "adm", "--role", "admin", stdin="a good password\n")
    _run(
        database_url,
        "users",
        "add",
        "ann",
        "--role",
        "caseworker",
        "--team",
        "t",
        stdin="a good password\n",
    )
    db = Database(database_url)
    with db.transaction() as session:
        admin, ann = (
            session.execute(select(User).where(User.name == n)).scalar_one() for n in ("adm", "ann")
        )
        process = casework.create_process(
            session,
            admin,
            ProcessIn(
                name="P", instrument="generic-selection", team="t", purpose="p", retention_days=10
            ),
        )
        casework.create_case(
            session, ann, process.id, CaseIn(subject_ref="s1", inputs=GENERIC_INPUTS)
        )
        session.flush()
        session.execute(update(Case).values(created_at=utcnow() - timedelta(days=11)))
    code, output = _run(database_url, "retention", "run")
    assert code == 0 and "process 1: deleted 1 cases" in output
    with db.transaction() as session:
        assert session.execute(select(Case)).first() is None
    db.dispose()
