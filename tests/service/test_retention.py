"""Retention: cases past their period are deleted for real; counts and the log remain."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.service.conftest import Service, make_app
from waarborg.audit.cube import read_cube
from waarborg.service import auditlog, retention
from waarborg.service.store.models import (
    AuditEntry,
    Case,
    CaseView,
    Decision,
    RetainedCount,
    utcnow,
)

WHY = "Band and the file agree on this."


def _age(world: Service, case_ids: list[int], days: int) -> None:
    with world.db.transaction() as session:
        session.execute(
            update(Case)
            .where(Case.id.in_(case_ids))
            .values(created_at=utcnow() - timedelta(days=days))
        )


def _rows(world: Service, model: type, column: object, ids: list[int]) -> int:
    with world.db.transaction() as session:
        query = select(func.count()).select_from(model).where(column.in_(ids))  # type: ignore[attr-defined]
        return session.execute(query).scalar_one()


def _cube_n(world: Service, path: Path) -> int:
    response = world.call("aud", "GET", f"/api/oversight/cube?process_id={world.ids['A']}")
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return read_cube(path).n


def test_expired_cases_are_deleted_and_counted(world: Service, tmp_path: Path) -> None:
    old = [world.case("ann", world.ids["A"])["id"] for _ in range(3)]
    body = {"outcome": "selected", "rationale": WHY, "follows_score": True}
    world.ok("ann", "POST", f"/api/cases/{old[0]}/decision", json=body)
    cube_before = _cube_n(world, tmp_path / "before.parquet")
    _age(world, old, days=400)  # process A keeps cases 365 days
    report = retention.run(world.db)
    assert report.per_process == {world.ids["A"]: 3}
    for model, column in [
        (Case, Case.id),
        (Decision, Decision.case_id),
        (CaseView, CaseView.case_id),
    ]:
        assert _rows(world, model, column, old) == 0
    assert world.call("ann", "GET", f"/api/cases/{old[0]}").status_code == 404
    assert world.ok("ann", "GET", f"/api/cases/{world.ids['case']}")["id"] == world.ids["case"]
    with world.db.transaction() as session:
        kept = session.execute(select(RetainedCount)).scalars().all()
        assert sum(k.count for k in kept) == 3
        assert {(k.outcome, k.band) for k in kept} == {("selected", "6"), (None, "6")}
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "retention.delete")
        ).scalar_one()
        assert entry.actor == "system" and '"cases":3' in entry.detail
        assert auditlog.verify(session).intact
    view = world.ok("aud", "GET", "/api/oversight")
    assert view["deleted_by_retention"] == 3
    assert _cube_n(world, tmp_path / "after.parquet") == cube_before == 1
    assert retention.run(world.db).deleted == 0


def test_retention_counts_from_creation_with_the_processes_own_period(world: Service) -> None:
    short = world.process("short", "team-a", retention_days=1)
    case_id = world.case("ann", short)["id"]
    assert retention.run(world.db).deleted == 0
    assert retention.run(world.db, now=utcnow() + timedelta(days=2)).per_process == {short: 1}
    assert _rows(world, Case, Case.id, [case_id]) == 0
    assert _rows(world, Case, Case.id, [world.ids["case"]]) == 1  # 365 days


def test_the_server_runs_retention_on_a_schedule(database_url: str) -> None:
    app = make_app(database_url, retention_interval_s=1)
    with TestClient(app) as client:
        svc = Service(client, app.state.waarborg.db)
        svc.add_user("admin", "admin")
        svc.add_user("ann", "caseworker", "team-a")
        process = svc.process("A", "team-a", retention_days=1)
        case_id = svc.case("ann", process)["id"]
        _age(svc, [case_id], days=2)
        deadline = time.monotonic() + 10
        while _rows(svc, Case, Case.id, [case_id]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _rows(svc, Case, Case.id, [case_id]) == 0
