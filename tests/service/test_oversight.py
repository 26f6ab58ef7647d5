"""Oversight: override rates, time to decide (rubber-stamp flags), trend, and the cube."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import update

from tests.service.conftest import LOW_INPUTS, Service
from tests.service.test_web_pages import log_in, web_client
from waarborg.audit import audit
from waarborg.audit.cube import read_cube
from waarborg.service.store.models import CaseView, utcnow

WHY = "Weighed the band against the file."


def _decide(
    world: Service, user: str, inputs: dict | None, outcome: str, follows: bool, waited: float = 0.0
) -> int:
    """Add a case (as ann), let ``user`` open it ``waited`` seconds ago, and decide."""
    case_id = world.case("ann", world.ids["A"], inputs)["id"]
    world.ok(user, "GET", f"/api/cases/{case_id}")
    if waited:
        with world.db.transaction() as session:
            session.execute(
                update(CaseView)
                .where(CaseView.case_id == case_id)
                .values(first_opened_at=utcnow() - timedelta(seconds=waited))
            )
    body = {"outcome": outcome, "rationale": WHY, "follows_score": follows}
    world.ok(user, "POST", f"/api/cases/{case_id}/decision", json=body)
    return case_id


def _scenario(world: Service) -> None:
    """ann: 3 fast decisions (one override); sue: 2 slow ones (one override)."""
    _decide(world, "ann", None, "selected", True)
    _decide(world, "ann", None, "selected", True)
    _decide(world, "ann", LOW_INPUTS, "selected", False)
    _decide(world, "sue", None, "not_selected", False, waited=300)
    _decide(world, "sue", LOW_INPUTS, "not_selected", True, waited=120)


def test_override_rates_time_to_decide_and_flags(world: Service) -> None:
    _scenario(world)
    view = world.ok("sue", "GET", "/api/oversight")
    assert view["processes"] == [world.ids["A"]]
    assert (view["cases"], view["decided"], view["undecided"]) == (6, 5, 1)
    assert view["overrides"]["count"] == 2 and view["overrides"]["n"] == 5
    assert view["overrides"]["ci_low"] < 0.4 < view["overrides"]["ci_high"]
    workers = {g["key"]: g for g in view["by_caseworker"]}
    assert workers["ann"]["decisions"] == 3 and workers["ann"]["overrides"]["count"] == 1
    assert workers["ann"]["fast"]["count"] == 3 and workers["sue"]["fast"]["count"] == 0
    assert 119 < workers["sue"]["median_seconds"] < 400
    assert sorted(f["decider"] for f in view["flagged"]) == ["ann"] * 3
    bands = {g["key"]: g["decisions"] for g in view["by_band"]}
    assert bands == {"1": 2, "6": 3}
    assert [g["key"] for g in view["by_team"]] == ["team-a"]
    assert sum(t["decisions"] for t in view["trend"]) == 5
    assert view["trend"][-1]["agreement"]["count"] == 3


def test_the_threshold_can_be_chosen_and_scope_follows_the_team(world: Service) -> None:
    _scenario(world)
    strict = world.ok("aud", "GET", "/api/oversight?rubber_stamp_seconds=200")
    assert strict["fast"]["count"] == 4 and strict["processes"] == [world.ids["A"], world.ids["B"]]
    other = world.ok("sam", "GET", "/api/oversight")
    assert other["processes"] == [world.ids["B"]] and other["decided"] == 0
    assert other["overrides"]["rate"] is None


def test_the_cube_is_audited_and_its_numbers_are_the_decisions(
    world: Service, tmp_path: Path
) -> None:
    _scenario(world)
    response = world.call("aud", "GET", f"/api/oversight/cube?process_id={world.ids['A']}")
    assert response.status_code == 200
    path = tmp_path / "cube.parquet"
    path.write_bytes(response.content)
    cube = read_cube(path)
    assert cube.n == 5 and set(cube.roles.groups) == {"process", "team", "suggested"}
    table = pq.read_table(path).to_pylist()
    cells = {(r["suggested"], r["band"], r["selected"]): r["count"] for r in table}
    assert cells == {
        ("selected", "6", 1): 2,
        ("selected", "6", 0): 1,
        ("not_selected", "1", 1): 1,
        ("not_selected", "1", 0): 1,
    }
    result = audit(path)
    suggested = result["groups"]["suggested"]
    assert suggested["selected"]["selection_rate"]["value"] == 2 / 3
    assert suggested["not_selected"]["selection_rate"]["value"] == 1 / 2
    assert suggested["selected"]["n"] == 3


def test_the_cube_has_no_personal_data_and_needs_decisions(world: Service) -> None:
    response = world.call("aud", "GET", f"/api/oversight/cube?process_id={world.ids['B']}")
    assert response.status_code == 404
    _scenario(world)
    content = world.call("sue", "GET", "/api/oversight/cube").content
    assert b"subj-" not in content and b"ann" not in content


def _case_by_route(world: Service, inputs: dict | None, route: str) -> int:
    """A case of A (added and opened by ann) whose draw took the ``route`` to its check."""
    for _ in range(200):  # process A draws half its cases: found within a few
        case = world.case("ann", world.ids["A"], inputs)
        if case["draw"]["route"] == route:
            return case["id"]
    raise AssertionError(f"no case of route {route} in 200 draws")


def test_a_check_that_came_from_the_draw_is_no_departure(world: Service) -> None:
    path = f"/api/processes/{world.ids['A']}/reference-share"
    world.ok("admin", "PUT", path, json={"reference_share": 0.5})
    decisions = [  # (band 1 selects nothing; band 6, the default inputs, selects)
        (LOW_INPUTS, "reference", "selected", False),  # the draw's check: not a departure
        (LOW_INPUTS, "reference", "not_selected", True),  # follows the band
        (None, "selection", "not_selected", False),  # departs from the band
        (None, "both", "selected", True),  # follows the band (and the draw)
    ]
    for inputs, route, outcome, follows in decisions:
        case_id = _case_by_route(world, inputs, route)
        body = {"outcome": outcome, "rationale": WHY, "follows_score": follows}
        world.ok("ann", "POST", f"/api/cases/{case_id}/decision", json=body)
    view = world.ok("sue", "GET", "/api/oversight")
    assert view["decided"] == 4 and view["drawn"] == 1
    assert (view["overrides"]["count"], view["overrides"]["n"]) == (1, 3)
    ann = {g["key"]: g for g in view["by_caseworker"]}["ann"]
    assert ann["drawn"] == 1 and (ann["overrides"]["count"], ann["overrides"]["n"]) == (1, 3)
    bands = {g["key"]: (g["drawn"], g["overrides"]["count"]) for g in view["by_band"]}
    assert bands == {"1": (1, 0), "6": (0, 1)}
    week = view["trend"][-1]
    assert week["decisions"] == 4 and (week["agreement"]["count"], week["agreement"]["n"]) == (2, 3)
    human = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/conditions")["conditions"][2]
    assert "1 of the 3 the score guided depart from it (33%)" in human["evidence_en"][0]
    assert "1 checked because drawn at random" in human["evidence_en"][0]
    assert "1 gecontroleerd omdat ze aselect getrokken zijn" in human["evidence_nl"][0]
    client = log_in(web_client(world), "sue")
    for lang, label in [("nl", "Gecontroleerd omdat aselect getrokken"),
                        ("en", "Checked because drawn at random")]:  # fmt: skip
        page = client.get(f"/oversight?lang={lang}").text
        assert f"<dt>{label}</dt><dd>1</dd>" in page and 'id="drawn-note"' in page
