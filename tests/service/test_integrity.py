"""The audit log against an insider with database access (issue 10, part 2).

Each test plays one attack an owner of the database can make, and checks that
``waarborg auditlog verify`` (or :func:`auditlog.verify_database`, what it calls) fails
and names the entry or the record. Attacks on the log itself first need the log's
triggers off (:func:`tampering`), as only the owner can.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tests.service.conftest import GENERIC_INPUTS, PASSWORD, Service, tampering
from tests.service.test_auditlog import _copy, _entries
from waarborg.cli import app as cli
from waarborg.service import auditlog, retention
from waarborg.service.auditlog import SYSTEM
from waarborg.service.store.models import (
    AuditEntry,
    AuditHead,
    Case,
    CaseView,
    Decision,
    ReferenceDraw,
    User,
)
from waarborg.service.witness import Witness, WitnessSettings, canonical, read_records

DECIDE = {"outcome": "selected", "rationale": "Band 6 and the file agree.", "follows_score": True}


@pytest.fixture
def decided(world: Service) -> Service:
    """The world, with ann's case opened and decided (``ids["decision"]``)."""
    case_id = world.ids["case"]
    world.ok("ann", "GET", f"/api/cases/{case_id}")
    decision = world.ok("ann", "POST", f"/api/cases/{case_id}/decision", json=DECIDE)
    world.ids["decision"] = decision["id"]
    return world


def _full(world: Service) -> auditlog.Verification:
    return auditlog.verify_database(world.db)


def _cli(world: Service, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["auditlog", "verify", "--database-url", world.db.url, *args])
    return result.exit_code, result.output


def _rewrite_from(world: Service, k: int, entries: list[AuditEntry]) -> None:
    """Replace entries k.. with ``entries`` (renumbered from k), hashes recomputed, head reset:
    a careful insider whose chain verifies on its own."""
    prev = _entries(world)[k - 2].hash if k > 1 else auditlog.GENESIS
    forged = []
    for seq, entry in enumerate(entries, start=k):
        new = _copy(entry, seq=seq, prev_hash=prev)
        new.hash = prev = auditlog.entry_hash(new)
        forged.append(new)
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq >= k))
        session.flush()
        session.add_all(forged)
        session.flush()
        last = forged[-1] if forged else None
        seq, hash_ = (last.seq, last.hash) if last else (k - 1, prev)
        session.execute(update(AuditHead).values(seq=seq, hash=hash_))


def _chain_alone(world: Service) -> auditlog.Verification:
    with world.db.snapshot() as session:
        return auditlog.verify(session)


def test_an_intact_log_and_its_records_verify(decided: Service) -> None:
    result = _full(decided)
    assert result.intact, result
    assert result.witnessed_seq == result.entries == result.head_seq and result.unwitnessed == 0
    with decided.db.snapshot() as session:
        users = session.execute(select(User)).scalars().all()
    # + the case, its draw, its decision, and the reference seeds of processes A and B
    assert result.records_checked == len(users) + 5
    code, output = _cli(decided)
    assert code == 0 and "intact" in output and f"{result.records_checked} records" in output


def test_truncation_with_the_head_reset_is_found(world: Service) -> None:
    entries = _entries(world)
    keep = len(entries) - 3
    _rewrite_from(world, keep + 1, [])
    assert _chain_alone(world).intact  # the chain alone cannot tell
    result = _full(world)
    assert not result.intact and result.first_bad == keep + 1
    assert "truncated" in (result.reason or "")
    code, output = _cli(world)
    assert code == 1 and f"broken at entry {keep + 1}" in output


def test_a_rewrite_after_a_point_is_found(world: Service) -> None:
    entries = _entries(world)
    k = 4
    changed = [_copy(entries[k - 1], actor="mallory"), *entries[k:]]
    _rewrite_from(world, k, changed)
    assert _chain_alone(world).intact
    result = _full(world)
    assert result.first_bad == k and "witness" in (result.reason or "")
    assert _cli(world)[0] == 1


def test_renumbering_after_a_deleted_entry_is_found(world: Service) -> None:
    entries = _entries(world)
    k = 3
    _rewrite_from(world, k, entries[k:])  # entry k gone, the rest renumbered down
    assert _chain_alone(world).intact
    result = _full(world)
    assert result.first_bad == k and "renumbered" in (result.reason or "")


def test_a_deleted_middle_entry_is_found(world: Service) -> None:
    with tampering(world.db) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    result = _full(world)
    assert result.first_bad == 5 and "missing" in (result.reason or "")
    code, output = _cli(world)
    assert code == 1 and "broken at entry 5" in output


def _witness_file(world: Service) -> Path:
    witness = world.db.witness
    assert witness is not None
    return witness.settings.path


def test_a_forged_witness_line_is_found(world: Service) -> None:
    path = _witness_file(world)
    last = json.loads(path.read_text().splitlines()[-1])
    forged = {**last, "hashes": ["0" * 64] * len(last["hashes"])}  # the old signature kept
    lines = path.read_text().count("\n")
    with path.open("a") as handle:
        handle.write(canonical(forged) + "\n")
    result = _full(world)
    assert not result.intact and f"line {lines + 1}" in (result.reason or "")
    assert "bad signature" in (result.reason or "")
    code, output = _cli(world)
    assert code == 1 and "bad signature" in output


def test_a_witness_line_signed_with_another_key_is_found(world: Service, tmp_path: Path) -> None:
    other = WitnessSettings(_witness_file(world), tmp_path / "other.key")
    Witness(other, _key=Ed25519PrivateKey.generate()).head(999, ["a" * 64])
    result = _full(world)
    assert not result.intact and result.first_bad == 999 and "bad signature" in str(result.reason)


def test_the_witness_is_signed_and_its_key_kept_outside_the_database(world: Service) -> None:
    witness = world.db.witness
    assert witness is not None
    assert witness.settings.key_file.stat().st_mode & 0o777 == 0o600
    records = list(read_records(witness.settings.path, witness.public_key()))
    assert records and all(r.valid for r in records)
    assert max(r.seq for r in records) == _entries(world)[-1].seq
    key_text = witness.settings.key_file.read_text()
    with world.db.snapshot() as session:
        dumped = [str(row) for row in session.execute(text("SELECT * FROM settings"))]
    assert not any(key_text.splitlines()[1] in row for row in dumped)


def test_a_crash_between_commit_and_witness_leaves_a_tolerated_tail(world: Service) -> None:
    path = _witness_file(world)
    lines = path.read_text().splitlines(keepends=True)
    last = json.loads(lines[-1])
    path.write_text("".join(lines[:-1]))  # the last commit's witness record never written
    result = _full(world)
    assert result.intact and result.unwitnessed == last["seq"] - last["first"] + 1
    code, output = _cli(world)
    assert code == 0 and "not witnessed yet" in output


def test_a_rolled_back_transaction_is_not_witnessed(world: Service) -> None:
    path = _witness_file(world)
    before = path.read_text()
    with pytest.raises(RuntimeError), world.db.transaction() as session:
        auditlog.append(session, SYSTEM, "test.rolled_back")
        raise RuntimeError("the work fails")
    assert path.read_text() == before


def test_the_witness_is_also_posted_and_sent_to_syslog(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    logged: list[str] = []
    monkeypatch.setattr("syslog.syslog", lambda _priority, message: logged.append(message))
    witness = service.db.witness
    assert witness is not None
    url = f"http://127.0.0.1:{server.server_port}/witness"
    service.db._witness = Witness(
        WitnessSettings(witness.settings.path, witness.settings.key_file, url, syslog=True)
    )
    with service.db.transaction() as session:
        auditlog.append(session, SYSTEM, "test.posted")
    server_deadline = threading.Event()
    for _ in range(100):
        if received:
            break
        server_deadline.wait(0.05)
    server.shutdown()
    last = _entries(service)[-1]
    assert received and received[-1]["hashes"] == [last.hash]
    assert logged and json.loads(logged[-1].split(" ", 1)[1])["seq"] == last.seq


# --------------------------------------------------------------------------- records


def test_an_edited_rationale_or_outcome_is_found(decided: Service) -> None:
    decision_id = decided.ids["decision"]
    with decided.db.transaction() as session:
        session.execute(
            update(Decision).where(Decision.id == decision_id).values(rationale="Looked fine.")
        )
    result = _full(decided)
    assert not result.intact and result.reason is None  # the chain is fine, a record is not
    assert [(p.kind, p.id) for p in result.record_problems] == [("decision", decision_id)]
    code, output = _cli(decided)
    assert code == 1 and f"decision {decision_id} does not match the log" in output


def test_an_edited_outcome_is_found(decided: Service) -> None:
    decision_id = decided.ids["decision"]
    with decided.db.transaction() as session:
        session.execute(update(Decision).values(outcome="not_selected"))
    assert [(p.kind, p.id) for p in _full(decided).record_problems] == [("decision", decision_id)]


def test_an_edited_case_score_or_input_is_found(decided: Service) -> None:
    case_id = decided.ids["case"]
    with decided.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.score = {**case.score, "band": "1"}
    problems = _full(decided).record_problems
    assert [(p.kind, p.id) for p in problems] == [("case", case_id)]
    assert "changed" in problems[0].reason
    with decided.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.inputs = {**GENERIC_INPUTS, "age": 40}
    assert [(p.kind, p.id) for p in _full(decided).record_problems] == [("case", case_id)]


def test_a_case_deleted_outside_retention_is_found(decided: Service) -> None:
    case_id, decision_id = decided.ids["case"], decided.ids["decision"]
    with decided.db.transaction() as session:
        session.execute(delete(CaseView).where(CaseView.case_id == case_id))
        session.execute(delete(Decision).where(Decision.case_id == case_id))
        session.execute(delete(ReferenceDraw).where(ReferenceDraw.case_id == case_id))
        session.execute(delete(Case).where(Case.id == case_id))
    problems = _full(decided).record_problems
    assert {(p.kind, p.id) for p in problems} == {
        ("case", case_id),
        ("decision", decision_id),
        ("draw", case_id),
    }
    assert all("deleted outside the service" in p.reason for p in problems)
    assert _cli(decided)[0] == 1


def test_deletion_by_the_retention_job_is_accepted(decided: Service) -> None:
    from datetime import timedelta

    from waarborg.service.store.models import utcnow

    now = utcnow() + timedelta(days=400)  # the retention period (365 days) has passed
    report = retention.run(decided.db, now=now)
    assert report.deleted == 1
    result = _full(decided)
    assert result.intact, result.record_problems
    last = _entries(decided)[-1]
    assert last.action == "retention.delete"
    assert json.loads(last.records or "[]") == [
        ["case", decided.ids["case"], None],
        ["decision", decided.ids["decision"], None],
        ["draw", decided.ids["case"], None],
    ]


def test_a_role_changed_to_admin_in_the_database_is_found(world: Service) -> None:
    with world.db.transaction() as session:
        ann = session.execute(select(User).where(User.name == "ann")).scalar_one()
        ann.role, ann_id = "admin", ann.id
    problems = _full(world).record_problems
    assert [(p.kind, p.id) for p in problems] == [("user", ann_id)]
    code, output = _cli(world)
    assert code == 1 and f"user {ann_id} does not match the log" in output


def test_a_user_added_in_the_database_is_found(world: Service) -> None:
    with world.db.transaction() as session:
        session.add(User(name="eve", password_hash="x", role="admin"))
    problems = _full(world).record_problems
    assert len(problems) == 1 and "not in the log" in problems[0].reason


def test_a_record_changed_in_the_same_transaction_is_bound_as_committed(service: Service) -> None:
    service.add_user("cas", "caseworker", "team-x")
    with service.db.transaction() as session:
        user = session.execute(select(User).where(User.name == "cas")).scalar_one()
        auditlog.append(session, SYSTEM, "user.team", records=[user])
        user.active = False  # changed after append, before the commit: the hash covers it
    assert _full(service).intact


def test_only_bound_kinds_can_be_bound(service: Service) -> None:
    from waarborg.service.store.models import Team

    with pytest.raises(TypeError, match="not bound"), service.db.transaction() as session:
        auditlog.append(session, SYSTEM, "team.create", records=[Team(name="t")])


# --------------------------------------------------------------------------- guards


def test_the_log_refuses_update_and_delete_and_the_head_only_moves_forward(
    world: Service,
) -> None:
    for statement in (
        update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"),
        delete(AuditEntry).where(AuditEntry.seq == 2),
        update(AuditHead).values(seq=1, hash=_entries(world)[0].hash),
        update(AuditHead).values(seq=10**6, hash="f" * 64),
        delete(AuditHead),
    ):
        with pytest.raises(DBAPIError), world.db.transaction() as session:
            session.execute(statement)
    assert _full(world).intact


# --------------------------------------------------------------------------- incremental


def test_a_second_view_verifies_only_the_new_entries(world: Service) -> None:
    first = world.ok("aud", "GET", "/api/auditlog/verify")
    assert first["intact"] and first["hashed"] == first["entries"]
    with world.db.transaction() as session:
        for i in range(3):
            auditlog.append(session, SYSTEM, "test.new", detail={"i": i})
    second = world.ok("aud", "GET", "/api/auditlog/verify")
    assert second["intact"] and second["hashed"] == 3
    assert second["entries"] == first["entries"] + 3
    assert world.ok("aud", "GET", "/api/auditlog/verify")["hashed"] == 0


def test_the_page_moves_the_signed_checkpoint(world: Service) -> None:
    from tests.service.test_web_pages import log_in, web_client

    client = log_in(web_client(world), "aud")
    assert client.get("/auditlog?lang=en").status_code == 200
    witness = world.db.witness
    assert witness is not None
    checkpoints = [
        r
        for r in read_records(witness.settings.path, witness.public_key())
        if r.type == "checkpoint"
    ]
    assert checkpoints and checkpoints[-1].seq == _entries(world)[-1].seq


def test_tampering_before_the_checkpoint_is_caught_by_the_full_verify(world: Service) -> None:
    assert world.ok("aud", "GET", "/api/auditlog/verify")["intact"]  # checkpoint at the end
    with tampering(world.db) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    full = world.ok("aud", "GET", "/api/auditlog/verify?full=true")
    assert not full["intact"] and full["first_bad"] == 2
    code, output = _cli(world)
    assert code == 1 and "broken at entry 2" in output


def test_a_rewrite_through_the_checkpoint_is_caught_by_the_incremental_view(
    world: Service,
) -> None:
    assert world.ok("aud", "GET", "/api/auditlog/verify")["intact"]
    entries = _entries(world)
    _rewrite_from(world, 3, [_copy(entries[2], actor="mallory"), *entries[3:]])
    result = world.ok("aud", "GET", "/api/auditlog/verify")
    assert not result["intact"] and "checkpoint" in result["reason"]


# --------------------------------------------------------------------------- roles


@pytest.fixture
def app_role(
    postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A fresh schema and a PostgreSQL role with a unique name (roles are cluster-wide),
    both dropped afterwards: (the owner's URL, the role)."""
    import uuid

    import psycopg

    from tests.service.conftest import drop_postgres_schema, postgres_schema_url

    monkeypatch.setenv("WAARBORG_WITNESS", str(tmp_path / "postgresql.witness"))
    url, schema = postgres_schema_url(postgres_server)
    role = f"wb_app_{uuid.uuid4().hex[:10]}"
    try:
        yield url, role
    finally:
        drop_postgres_schema(postgres_server, schema)
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


def test_the_app_role_may_append_but_not_alter_the_log_nor_change_the_schema(
    app_role: tuple[str, str],
) -> None:
    from sqlalchemy.engine import make_url

    from tests.service.conftest import make_app
    from waarborg.service import auth
    from waarborg.service.store import Database

    database_url, role = app_role
    owner = Database(database_url)
    owner.upgrade()  # as the owner
    owner.dispose()
    result = CliRunner().invoke(
        cli, ["db", "grant", "--app-role", role, "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    as_app = make_url(database_url).set(username=role).render_as_string(hide_password=False)
    app = make_app(as_app)  # starts (the schema is up to date: no DDL needed)
    db = app.state.waarborg.db
    with db.transaction() as session:
        auth.add_user(session, SYSTEM, name="ann", password=PASSWORD, role="auditor")
    refused = [
        "UPDATE auditlog SET actor = 'mallory'",
        "DELETE FROM auditlog",
        "TRUNCATE auditlog",
        "DELETE FROM auditlog_head",
        "UPDATE auditlog_head SET seq = 0",
        "CREATE TABLE loot (x int)",
        "ALTER TABLE users ADD COLUMN x int",
        "DROP TRIGGER auditlog_append_only ON auditlog",
        "UPDATE alembic_version SET version_num = '0001'",
    ]
    for statement in refused:
        with pytest.raises(DBAPIError) as error, db.transaction() as session:
            session.execute(text(statement))
        assert (
            "permission denied" in str(error.value)
            or "must be owner" in str(error.value)
            or ("chain head only moves forward" in str(error.value))
        ), statement
    verified = auditlog.verify_database(db)
    assert verified.intact and verified.records_checked == 1
    db.dispose()


def test_db_grant_refuses_sqlite_and_prints_the_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    refused = CliRunner().invoke(cli, ["db", "grant", "--app-role", "app", "--database-url", url])
    assert refused.exit_code != 0 and "PostgreSQL only" in refused.output
    printed = CliRunner().invoke(cli, ["db", "grant", "--app-role", "app", "--print-sql"])
    assert printed.exit_code == 0
    assert 'REVOKE UPDATE, DELETE, TRUNCATE ON "<schema>".auditlog FROM "app";' in printed.output


def test_postgresql_needs_a_witness_file(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.service.conftest import drop_postgres_schema, make_app, postgres_schema_url
    from waarborg.service.witness import WitnessError

    monkeypatch.delenv("WAARBORG_WITNESS", raising=False)
    url, schema = postgres_schema_url(postgres_server)
    try:
        with pytest.raises(WitnessError, match="WAARBORG_WITNESS"):
            make_app(url)
    finally:
        drop_postgres_schema(postgres_server, schema)


def test_a_snapshot_does_not_hold_the_write_lock(service: Service) -> None:
    """Verification reads a snapshot: a writer is not kept waiting meanwhile (on SQLite,
    a snapshot holding the write lock would make this writer wait out its busy timeout)."""
    with service.db.snapshot() as snapshot:
        before = snapshot.execute(select(AuditHead.seq)).scalar_one()
        with service.db.transaction() as session:
            auditlog.append(session, SYSTEM, "test.during_verification")
        assert snapshot.execute(select(AuditHead.seq)).scalar_one() == before  # a snapshot
    assert _full(service).intact
