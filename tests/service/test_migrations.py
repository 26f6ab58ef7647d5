"""Data migrations are frozen: what they write on an old database never follows the models.

Migration 0003 binds the cases, decisions and users that existed before it into the log
(``records.baseline`` entries); the hashes are computed here independently (:mod:`hashlib`
and :mod:`json`, the documented format), not with :mod:`waarborg.service.records`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import runpy
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from waarborg.service import auditlog
from waarborg.service.store import Database, migrations

MIGRATIONS = Path(migrations.__file__).parent


def _sha(fields: dict[str, Any]) -> str:
    """The documented content hash: SHA-256 of JSON with sorted keys, no spaces, UTF-8."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(at: datetime) -> str:
    """A stored (naive UTC) timestamp as the hash writes it."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


@pytest.fixture
def _local_time_is_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as on a machine in Amsterdam: a stored timestamp must still be read as UTC."""
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _insert(connection: sa.Connection, table: str, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (typed by their Python values) and return their ids in order."""
    columns = [
        sa.column(name, sa.DateTime() if isinstance(value, datetime) else sa.JSON())
        if isinstance(value, datetime | dict)
        else sa.column(name)
        for name, value in rows[0].items()
    ]
    connection.execute(sa.table(table, *columns).insert(), rows)
    query = sa.text(f"SELECT id FROM {table} ORDER BY id")
    return list(connection.execute(query).scalars())


def _old_records(connection: sa.Connection, cases: int) -> list[list[Any]]:
    """Users, a process, ``cases`` cases and two decisions as 0002 held them; their bindings."""
    connection.execute(sa.text("INSERT INTO teams (name) VALUES ('t')"))
    team = connection.execute(sa.text("SELECT id FROM teams")).scalar_one()
    users = [
        {"name": "ann", "role": "caseworker", "team_id": team, "active": True},
        {"name": "Zoë", "role": "auditor", "team_id": None, "active": False},
    ]
    created = datetime(2026, 1, 2, 3, 4, 5, 678901)
    user_ids = _insert(
        connection,
        "users",
        [{**u, "password_hash": "x", "display_name": None, "created_at": created} for u in users],
    )
    connection.execute(
        sa.text(
            "INSERT INTO processes (name, instrument_id, instrument_version, spec_hash, spec, "
            "purpose, decider_disclosure, retention_days, created_at) "
            "VALUES ('old', 'generic-selection', '1', 'x', '{}', 'p', 'role', 30, '2026-01-01')"
        )
    )
    process = connection.execute(sa.text("SELECT id FROM processes")).scalar_one()
    case_rows = [
        {"process_id": process, "subject_ref": f"s-{i}", "created_by": user_ids[0],
         "inputs": {"age": 19 + i % 7, "distance_to_parents_km": 0.1 * i, "é": "ü"},
         "score": {"points": i % 6 + 0.5}, "band": None if i % 5 == 0 else str(i % 6 + 1),
         "suggests_selection": (None, True, False)[i % 3], "spec_hash": "h" * 64,
         "created_at": created.replace(microsecond=i)}
        for i in range(cases)
    ]  # fmt: skip
    case_ids = _insert(connection, "cases", case_rows)
    opened, decided = datetime(2026, 7, 1, 12, 0, 0, 1), datetime(2026, 7, 1, 12, 0, 12, 600001)
    decision_rows = [
        {"case_id": case_ids[i], "user_id": user_ids[0], "decider_name": "ann",
         "decider_role": "caseworker", "team": team_name, "outcome": outcome,
         "rationale": "Band 6 en het dossier stemmen overeen.", "follows_score": i == 0,
         "band_shown": case_rows[i]["band"], "spec_hash_shown": "h" * 64, "opened_at": opened,
         "decided_at": decided, "seconds_to_decide": 12.6}
        for i, (team_name, outcome) in enumerate([("t", "selected"), (None, "not_selected")])
    ]  # fmt: skip
    decision_ids = _insert(connection, "decisions", decision_rows)
    plain = {"created_at": _iso, "opened_at": _iso, "decided_at": _iso}
    return [
        [kind, id_, _sha({"id": id_} | {k: plain.get(k, lambda v: v)(v) for k, v in row.items()})]
        for kind, ids, rows in [
            ("case", case_ids, case_rows),
            ("decision", decision_ids, decision_rows),
            ("user", user_ids, users),
        ]
        for id_, row in zip(ids, rows, strict=True)
    ]


@pytest.mark.usefixtures("_local_time_is_not_utc")
def test_migration_0003_binds_the_records_of_0002_in_chunks_and_verify_passes(
    database_url: str,
) -> None:
    """Cases, decisions and users of 0002 are bound, in order, by their hashes as of 0003."""
    chunk = runpy.run_path(str(next(MIGRATIONS.glob("versions/0003_*.py"))))["BASELINE_CHUNK"]
    db = Database(database_url)
    db.upgrade("0002")
    with db.engine.begin() as connection:
        expected = _old_records(connection, cases=chunk - 1)  # one chunk and three records
    db.upgrade("0003")
    with db.engine.connect() as connection:
        entries = connection.execute(
            sa.text("SELECT actor, action, detail, records FROM auditlog ORDER BY seq")
        ).all()
    assert [(e.actor, e.action, json.loads(e.detail)) for e in entries] == [
        ("system", "records.baseline", {"records": chunk}),
        ("system", "records.baseline", {"records": len(expected) - chunk}),
    ]
    assert [bound for e in entries for bound in json.loads(e.records)] == expected
    db.upgrade()
    result = auditlog.verify_database(db)
    db.dispose()
    assert result.intact, result.reason or result.record_problems
    assert result.records_checked == len(expected) + 1  # and the process's seed from 0005


FROZEN_IMPORTS = {
    "versions/0003_*.py": {
        ("waarborg.service.records", "content_hash"),
        ("waarborg.service.store.migrations.frozen", "append_entry"),
    },
    "versions/0005_*.py": {
        ("waarborg.selectivity.draws", "new_seed"),
        ("waarborg.service.records", "content_hash"),
        ("waarborg.service.store.migrations.frozen", "append_entry"),
    },
    "frozen.py": {
        ("waarborg.service.auditlog", "canonical_json"),
        ("waarborg.service.auditlog", "entry_hash"),
    },
}


@pytest.mark.parametrize("pattern", FROZEN_IMPORTS)
def test_data_migrations_are_frozen_they_import_no_models(pattern: str) -> None:
    """Their tables are their own: they import only the log's hash format (and the draw)."""
    source = next(MIGRATIONS.glob(pattern))
    imported = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("waarborg"):
            imported |= {(node.module, alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            imported |= {(a.name, None) for a in node.names if a.name.startswith("waarborg")}
    assert imported == FROZEN_IMPORTS[pattern]
