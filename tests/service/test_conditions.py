"""The five conditions, each shown met and not met, with evidence made by the real code:
cases and decisions through the API, audits by ``waarborg.audit`` on synthetic cohorts,
retention by the retention job. Only the clock is moved, by editing timestamps.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import select, update
from typer.testing import CliRunner

import waarborg
from tests.service.conftest import Service, make_revalidation_overdue, tampering
from waarborg.cli import app
from waarborg.demo import audit_table
from waarborg.register.conditions import MIN_DECISIONS
from waarborg.service import retention
from waarborg.service.store.models import (
    AuditEntry,
    Case,
    CaseView,
    Decision,
    Process,
    RecordedAudit,
    utcnow,
)
from waarborg.synth import synthesize

JUSTIFICATION = "The disparity follows the true difference in irregularity; accepted by the board."


@cache
def audit_json(seed: int) -> dict[str, Any]:
    """A real audit of a synthetic student-grant cohort (it finds the planted disparity)."""
    inst = waarborg.load_instrument("generic-selection")
    cases = synthesize("generic-selection", 6000, seed=seed)
    table, options = audit_table(inst, cases, waarborg.score(inst, cases))
    result = waarborg.audit(table, group=["migration_background"], **options)
    return json.loads(result.to_json())


def status(world: Service, user: str = "aud", process: str = "A") -> dict[int, dict[str, Any]]:
    report = world.ok(user, "GET", f"/api/processes/{world.ids[process]}/conditions")
    return {c["number"]: c for c in report["conditions"]}


def record(world: Service, kind: str, justification: str | None = None, user: str = "aud") -> int:
    body = {"kind": kind, "result": audit_json(1), "justification": justification}
    path = f"/api/processes/{world.ids['A']}/audits"
    return world.ok(user, "POST", path, 201, json=body)["id"]


def decide(world: Service, case_id: int, seconds_ago: float = 0.0) -> None:
    """ann decides a case she opened ``seconds_ago`` seconds before (moved clock)."""
    if seconds_ago:
        with world.db.transaction() as session:
            session.execute(
                update(CaseView)
                .where(CaseView.case_id == case_id)
                .values(first_opened_at=utcnow() - timedelta(seconds=seconds_ago))
            )
    body = {"outcome": "selected", "rationale": "The file supports a visit.", "follows_score": True}
    world.ok("ann", "POST", f"/api/cases/{case_id}/decision", json=body)


def move_clock(world: Service, table: Any, days: int, **where: Any) -> None:
    column = {Process: Process.created_at, RecordedAudit: RecordedAudit.recorded_at}.get(
        table, Case.created_at
    )
    with world.db.transaction() as session:
        conditions = [getattr(table, k) == v for k, v in where.items()]
        session.execute(
            update(table).where(*conditions).values({column: utcnow() - timedelta(days=days)})
        )


def test_condition_1_needs_a_pre_deployment_audit_and_a_justification(world: Service) -> None:
    assert audit_json(1)["verdicts"][0]["significant"], "the planted disparity is found"
    assert status(world)[1]["status"] == "not_met"
    record(world, "pre_deployment")
    first = status(world)[1]
    assert first["status"] == "not_met"
    assert any("justification" in m for m in first["missing_en"])
    assert any("non_western" in e for e in first["evidence_en"])
    record(world, "pre_deployment", JUSTIFICATION, user="sue")  # the process's supervisor
    met = status(world)[1]
    assert met["status"] == "met" and any(JUSTIFICATION in e for e in met["evidence_en"])


def test_condition_2_needs_a_recent_re_test(world: Service) -> None:
    record(world, "pre_deployment", JUSTIFICATION)
    assert status(world)[2]["status"] == "met"  # the first re-test is not due yet
    move_clock(world, Process, 400, id=world.ids["A"])
    move_clock(world, RecordedAudit, 400, process_id=world.ids["A"])
    late = status(world)[2]
    assert late["status"] == "not_met"
    assert any("400 days old, more than 365" in m for m in late["missing_en"])
    record(world, "periodic", JUSTIFICATION)
    assert status(world)[2]["status"] == "met"


def test_condition_3_needs_people_who_take_time(world: Service) -> None:
    assert status(world)[3]["status"] == "unknown"
    decide(world, world.ids["case"])  # decided at once: a rubber stamp, but only one decision
    few = status(world)[3]
    assert few["status"] == "unknown"
    assert any(f"at least {MIN_DECISIONS} decisions" in m for m in few["missing_en"])
    for _ in range(MIN_DECISIONS - 1):
        decide(world, world.case("ann", world.ids["A"])["id"], seconds_ago=120)
    considered = status(world, "sue")[3]
    assert considered["status"] == "met"  # 1 of 30 fast: within 20%
    oversight = world.ok("sue", "GET", "/api/oversight", params={"process_id": world.ids["A"]})
    assert oversight["fast"]["count"] == 1 and oversight["decided"] == MIN_DECISIONS
    assert f"{MIN_DECISIONS} decisions" in considered["evidence_en"][0]
    for _ in range(7):  # 8 of 37 decided within a second of opening: over 20%
        decide(world, world.case("ann", world.ids["A"])["id"])
    fast = status(world)[3]
    assert fast["status"] == "not_met" and any("rubber-stamping" in m for m in fast["missing_en"])


def test_adding_a_case_does_not_start_the_time_to_decide(world: Service) -> None:
    case = world.case("ann", world.ids["A"], open=False)
    assert case["opened_at"] is None
    move_clock(world, Case, 1, id=case["id"])  # added a day ago, opened only now
    opened = world.ok("ann", "GET", f"/api/cases/{case['id']}")
    assert opened["opened_at"] is not None
    decide(world, case["id"])
    with world.db.transaction() as session:
        decision = session.execute(select(Decision).where(Decision.case_id == case["id"]))
        assert decision.scalar_one().seconds_to_decide < 3600


def test_condition_4_needs_retention_and_an_intact_log(world: Service) -> None:
    world.ok("ann", "GET", f"/api/cases/{world.ids['case']}")
    world.call("bob", "GET", f"/api/cases/{world.ids['case']}")  # refused, logged
    met = status(world)[4]
    assert met["status"] == "met"
    assert "0 outside the process; 1 attempts refused" in met["evidence_en"][0]
    move_clock(world, Case, 400, id=world.ids["case"])  # past the 365-day retention
    kept = status(world)[4]
    assert kept["status"] == "not_met" and "1 cases kept past it" in kept["evidence_en"][0]
    assert retention.run(world.db).deleted == 1
    after = status(world)[4]
    assert after["status"] == "met" and "1 cases deleted" in after["evidence_en"][0]
    with tampering(world.db) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    broken = status(world)[4]
    assert broken["status"] == "unknown" and "entry 2 was changed" in broken["missing_en"][0]


def test_condition_5_needs_a_notice_for_every_decision(world: Service) -> None:
    assert status(world)[5]["status"] == "unknown"
    decide(world, world.ids["case"])
    missing = status(world)[5]
    assert missing["status"] == "not_met" and missing["missing_en"] == ["a notice for 1 decisions"]
    world.call("ann", "GET", f"/api/cases/{world.ids['case']}/notice?lang=nl")
    assert status(world)[5]["status"] == "met"


def test_recorded_audits_are_listed_and_a_non_audit_is_refused(world: Service) -> None:
    audit_id = record(world, "periodic", JUSTIFICATION)
    listed = world.ok("sue", "GET", f"/api/processes/{world.ids['A']}/audits")
    assert [a["id"] for a in listed] == [audit_id] and listed[0]["n"] == audit_json(1)["n"]["value"]
    body = {"kind": "periodic", "result": {"not": "an audit"}}
    refused = world.call("aud", "POST", f"/api/processes/{world.ids['A']}/audits", json=body)
    assert refused.status_code == 422 and "not an audit result" in refused.json()["detail"]


def test_revalidation_overdue_is_a_warning(world: Service) -> None:
    report = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/conditions")
    assert report["warnings_en"] == []  # the illustrative policy: due 2029-06-01
    make_revalidation_overdue(world, world.ids["A"])
    report = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/conditions")
    assert report["warnings_en"] == ["revalidation: revalidation was due on 2020-01-01"]


def test_cli_records_an_audit_and_reports_the_conditions(world: Service, tmp_path: Any) -> None:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(audit_json(1)), encoding="utf-8")
    url = str(world.db.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    args = ["--database-url", url]
    recorded = runner.invoke(
        app,
        [
            "audits",
            "record",
            "A",
            str(path),
            "--kind",
            "pre_deployment",
            "--justification",
            JUSTIFICATION,
            *args,
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    result = runner.invoke(app, ["conditions", "A", "--lang", "nl", *args])
    assert result.exit_code == 1  # 3 and 5 have no decisions yet
    assert "1. Discriminatie vooraf onderzocht en voorkomen: voldaan" in result.output
    bad = runner.invoke(app, ["audits", "record", "A", str(path), "--kind", "later", *args])
    assert bad.exit_code == 2


def test_audit_report_carries_the_conditions_section(world: Service, tmp_path: Any) -> None:
    inst = waarborg.load_instrument("generic-selection")
    cases = synthesize("generic-selection", 3000, seed=2)
    table, options = audit_table(inst, cases, waarborg.score(inst, cases))
    data = tmp_path / "scored.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, data)
    report = tmp_path / "audit.html"
    url = str(world.db.engine.url.render_as_string(hide_password=False))
    args = [
        "audit",
        str(data),
        "--outcome",
        options["outcome"],
        "--band",
        options["band"],
        "--select",
        ",".join(options["select"]),
        "--group",
        "migration_background",
        "--report",
        str(report),
        "--lang",
        "nl",
        "--conditions",
        "A",
        "--database-url",
        url,
        "--quiet",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    html = report.read_text(encoding="utf-8")
    assert '<section id="conditions"' in html and "De vijf voorwaarden" in html
    api = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/conditions")
    assert html.count('class="condition ') == 5
    for c in api["conditions"]:
        assert f"{c['number']}. {c['title_nl']}" in html
