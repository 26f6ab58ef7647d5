"""The core flow: register a process, add a case, open it, decide, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.service.conftest import LOW_INPUTS, Service
from waarborg import load_instrument
from waarborg.service import auditlog
from waarborg.service.store.models import AuditEntry, CaseView, Decision


def test_a_case_is_scored_when_added_and_its_json_has_score_and_no_decision(world: Service) -> None:
    case = world.ok("ann", "GET", f"/api/cases/{world.ids['case']}")
    score = case["score"]
    assert case["id"] == world.ids["case"] and case["decision"] is None
    assert score["band"] == "6" and score["suggests_selection"] is True
    assert score["selected_bands"] == ["5", "6"]
    assert score["contributions"] == {
        "education_type": 3.0,
        "age": 2.0,
        "distance_to_parents_km": 4.0,
    }
    assert score["instrument_id"] == "generic-selection" and len(score["spec_hash"]) == 64
    assert case["opened_at"] is not None


def test_a_decision_records_who_when_what_they_saw_and_why(world: Service) -> None:
    case_id = world.case("ann", world.ids["A"], LOW_INPUTS, open=False)["id"]
    world.ok("bob", "GET", "/api/me")  # bob is of another team
    world.ok("sue", "GET", f"/api/cases/{case_id}")  # sue opens it: her clock starts now
    body = {
        "outcome": "selected",
        "rationale": "Address data contradict the claim.",
        "follows_score": False,
    }
    decision = world.ok("sue", "POST", f"/api/cases/{case_id}/decision", json=body)
    assert decision["decider_name"] == "sue" and decision["decider_role"] == "supervisor"
    assert decision["team"] == "team-a" and decision["band_shown"] == "1"
    assert decision["follows_score"] is False and decision["seconds_to_decide"] >= 0
    assert decision["opened_at"] <= decision["decided_at"]
    case = world.ok("ann", "GET", f"/api/cases/{case_id}")
    assert case["decision"]["id"] == decision["id"]
    with world.db.transaction() as session:
        actions = (
            session.execute(
                select(AuditEntry.action)
                .where(AuditEntry.case_id == case_id)
                .order_by(AuditEntry.seq)
            )
            .scalars()
            .all()
        )
        assert actions == ["case.create", "case.read", "decision.create", "case.read"]
        assert auditlog.verify(session).intact


def test_no_decision_without_opening_the_score_first(world: Service) -> None:
    case_id = world.ids["case"]  # added by ann: sue has not opened it
    body = {
        "outcome": "selected",
        "rationale": "High band and other signals.",
        "follows_score": True,
    }
    response = world.call("sue", "POST", f"/api/cases/{case_id}/decision", json=body)
    assert response.status_code == 409 and "open case" in response.json()["detail"]


def test_follows_score_must_agree_with_the_band(world: Service) -> None:
    body = {
        "outcome": "not_selected",
        "rationale": "Looks fine to me really.",
        "follows_score": True,
    }
    response = world.call("ann", "POST", f"/api/cases/{world.ids['case']}/decision", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == "follows_score"
    assert "band 6 suggests selected" in response.json()["detail"]
    with world.db.transaction() as session:
        assert session.execute(select(func.count(Decision.id))).scalar_one() == 0


def test_a_case_is_decided_once(world: Service) -> None:
    path = f"/api/cases/{world.ids['case']}/decision"
    body = {
        "outcome": "selected",
        "rationale": "Band 6 and a mismatch in the records.",
        "follows_score": True,
    }
    world.ok("ann", "POST", path, json=body)
    world.ok("sue", "GET", f"/api/cases/{world.ids['case']}")
    assert world.call("sue", "POST", path, json=body).status_code == 409


def test_rationale_and_outcome_are_required(world: Service) -> None:
    path = f"/api/cases/{world.ids['case']}/decision"
    for body in [
        {"outcome": "selected", "follows_score": True},
        {"outcome": "selected", "rationale": "   short  ", "follows_score": True},
        {"rationale": "A long enough rationale.", "follows_score": True},
        {"outcome": "maybe", "rationale": "A long enough rationale.", "follows_score": True},
    ]:
        assert world.call("ann", "POST", path, json=body).status_code == 422


def test_the_queue_lists_undecided_cases_of_the_team_without_scores(world: Service) -> None:
    second = world.case("ann", world.ids["A"])["id"]
    world.case("bob", world.ids["B"])
    queue = world.ok("sue", "GET", "/api/queue")
    assert [c["id"] for c in queue["cases"]] == [world.ids["case"], second]
    assert queue["total"] == 2 and "score" not in queue["cases"][0]
    body = {
        "outcome": "selected",
        "rationale": "Band 6 and a mismatch in the records.",
        "follows_score": True,
    }
    world.ok("ann", "POST", f"/api/cases/{second}/decision", json=body)
    assert world.ok("ann", "GET", "/api/queue")["total"] == 1


def test_first_opening_is_kept_and_not_moved_by_later_reads(world: Service) -> None:
    case_id = world.ids["case"]
    first = world.ok("sue", "GET", f"/api/cases/{case_id}")["opened_at"]
    again = world.ok("sue", "GET", f"/api/cases/{case_id}")["opened_at"]
    assert first == again
    with world.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(CaseView)).scalar_one() == 2


def test_processes_pin_the_instrument_spec(world: Service) -> None:
    process = world.ok("bob", "GET", f"/api/processes/{world.ids['A']}")
    assert process["instrument_id"] == "generic-selection"
    assert process["instrument_version"] == load_instrument(
        "generic-selection"
    ).version and process["teams"] == ["team-a"]
    assert process["register_ref"] == "AR-2026-001"
    assert len(world.ok("aud", "GET", "/api/processes")) == 2


def test_a_process_can_have_several_teams(world: Service) -> None:
    shared = world.process("shared", ["team-a", "team-b"])
    case_id = world.case("bob", shared)["id"]
    assert world.ok("ann", "GET", f"/api/cases/{case_id}")["process"] == "shared"


def test_login_is_rate_limited_per_user_and_client(world: Service) -> None:
    bad = {"username": "ann", "password": "wrong password"}
    codes = [world.client.post("/api/token", data=bad).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    limited = world.client.post("/api/token", data={"username": "ann", "password": "x" * 20})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert (
        world.client.post(
            "/api/token", data={"username": "bob", "password": "nope nope"}
        ).status_code
        == 401
    )


def test_tokens_are_checked(world: Service) -> None:
    assert world.client.get("/api/me").status_code == 401
    bad = {"Authorization": "Bearer abc.def.ghi"}
    assert world.client.get("/api/me", headers=bad).status_code == 401
    token = world.headers("ann")["Authorization"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert world.client.get("/api/me", headers={"Authorization": forged}).status_code == 401
    assert world.ok("ann", "GET", "/api/me")["team"] == "team-a"


def test_expired_tokens_are_refused(world: Service) -> None:
    from waarborg.service.auth import issue_token
    from waarborg.service.store.models import User

    with world.db.transaction() as session:
        user = session.execute(select(User).where(User.name == "ann")).scalar_one()
        secret = world.client.app.state.waarborg.secret
        token = issue_token(user, secret, minutes=1, now=0)
    response = world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_admin_adds_users_and_names_are_unique(world: Service) -> None:
    body = {"name": "carl", "password": "long enough pw", "role": "caseworker", "team": "team-b"}
    assert world.ok("admin", "POST", "/api/users", 201, json=body)["team"] == "team-b"
    assert world.call("admin", "POST", "/api/users", json=body).status_code == 409
    no_team = {**body, "name": "dora", "team": None}
    assert world.call("admin", "POST", "/api/users", json=no_team).status_code == 422
