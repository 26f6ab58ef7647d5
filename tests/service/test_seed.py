"""The demo organisation: what it holds, that it works through the API, seeded once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from waarborg.service import auditlog
from waarborg.service.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
from waarborg.service.store import Database
from waarborg.service.store.models import AuditEntry, Case, Process, User

from .conftest import make_app


def _counts(db: Database) -> tuple[int, ...]:
    with db.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (User, Process, Case, AuditEntry)
        )


def test_seed_demo_makes_the_organisation_once(database_url: str) -> None:
    db = Database(database_url)
    org = seed_demo(db, cases_per_process=5)
    assert set(org.processes) == {"controle-uitwonendenbeurs", "reclasseringsadvies"}
    assert org.cases == {"controle-uitwonendenbeurs": 5, "reclasseringsadvies": 5}
    assert {role for _, role in org.users} == {"admin", "supervisor", "caseworker", "auditor"}
    before = _counts(db)
    assert before[:3] == (len(DEMO_USERS), 2, 10)
    again = seed_demo(db, cases_per_process=5)
    assert again == org
    assert _counts(db) == before  # nothing added, not even a log entry
    db.dispose()


def test_demo_users_work_through_the_api_within_their_purpose(database_url: str) -> None:
    db = Database(database_url)
    org = seed_demo(db, cases_per_process=3)
    db.dispose()
    with TestClient(make_app(database_url)) as client:

        def token(user: str) -> dict[str, str]:
            form = {"username": user, "password": DEMO_PASSWORD}
            answer = client.post("/api/token", data=form)
            assert answer.status_code == 200, answer.text
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        queue = client.get("/api/queue", headers=token("kees")).json()
        grant = org.processes["controle-uitwonendenbeurs"]
        assert queue["total"] == 3
        assert {c["process_id"] for c in queue["cases"]} == {grant}
        first = queue["cases"][0]["id"]
        assert client.get(f"/api/cases/{first}", headers=token("olga")).status_code == 404
        assert client.get(f"/api/cases/{first}", headers=token("fatima")).status_code == 200
        assert client.get("/api/auditlog/verify", headers=token("aart")).json()["intact"] is True
    db = Database(database_url)
    with db.transaction() as session:
        assert auditlog.verify(session).intact
    db.dispose()


def test_the_reference_process_is_seeded_in_bulk_with_outcomes_from_the_truth(
    database_url: str,
) -> None:
    from waarborg.service.seed import DEMO_REFERENCE_SHARE, OUTCOME_COLUMN
    from waarborg.service.selectivity import selection_table
    from waarborg.synth import synthesize

    db = Database(database_url)
    org = seed_demo(db, cases_per_process=4, seed=7, reference_cases=300)
    assert org.cases == {"controle-uitwonendenbeurs": 300, "reclasseringsadvies": 4}
    table = selection_table(db, "controle-uitwonendenbeurs")
    truth = synthesize("generic-selection", 300, seed=7).column(OUTCOME_COLUMN).to_pylist()
    with db.transaction() as session:
        process = session.execute(
            select(Process).where(Process.name == "controle-uitwonendenbeurs")
        ).scalar_one()
        assert process.reference_share == DEMO_REFERENCE_SHARE[process.name]
    for row, found in zip(table.iter_rows(named=True), truth, strict=True):
        checked = row["selected"] or row["reference"]
        assert row["outcome"] == (bool(found) if checked else None)
    assert auditlog.verify_database(db).intact
    db.dispose()
