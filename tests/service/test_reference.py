"""The random reference sample and the outcomes of checks in the case workflow (issue 15).

The draw is re-derived here from the seed an auditor reads, with the library's own
function and independently with :mod:`hmac`; tampering with a draw, a seed or an outcome
is found by ``auditlog verify``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.dutch import assert_entirely_dutch
from tests.service.conftest import GENERIC_INPUTS, LOW_INPUTS, Service, tampering
from tests.service.test_web_pages import log_in, web_client
from waarborg.selectivity.draws import draw_value, draw_values
from waarborg.service import auditlog, notices, reference
from waarborg.service.store import Database
from waarborg.service.store.models import (
    Case,
    CheckOutcome,
    Process,
    ReferenceDraw,
    ReferenceSeed,
)

FOUND = {"outcome": True, "observed_on": datetime.now(UTC).date().isoformat()}


def _hmac_value(seed: str, case_id: int) -> float:
    """The documented draw, written out independently of the library."""
    mac = hmac.new(bytes.fromhex(seed), f"case:{case_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big") / 2**64


def _set_share(world: Service, process: str, share: float) -> dict:
    body = {"reference_share": share}
    return world.ok(
        "admin", "PUT", f"/api/processes/{world.ids[process]}/reference-share", json=body
    )


def _log(world: Service) -> list[dict]:
    return world.ok("aud", "GET", "/api/auditlog?limit=1000")["entries"]


def test_every_case_is_drawn_reproducibly_from_the_recorded_seed(world: Service) -> None:
    assert world.ok("ann", "GET", f"/api/processes/{world.ids['A']}")["reference_share"] == 0.0
    assert _set_share(world, "A", 0.5)["reference_share"] == 0.5
    cases = [
        world.case("ann", world.ids["A"], inputs) for inputs in [GENERIC_INPUTS, LOW_INPUTS] * 20
    ]
    in_use = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/reference-seeds")[-1]
    assert in_use["share"] == 0.5 and in_use["seed"] is None, "the seed in use stays secret"
    _set_share(world, "A", 0.25)  # retires the seed: now it may be revealed
    seeds = world.ok("aud", "GET", f"/api/processes/{world.ids['A']}/reference-seeds")
    assert [s["share"] for s in seeds] == [0.0, 0.5, 0.25]
    current = seeds[1]
    assert hashlib.sha256(bytes.fromhex(current["seed"])).hexdigest() == in_use["seed_sha256"]
    for case in cases:
        d = case["draw"]
        assert d["seed_id"] == current["id"] and d["share"] == 0.5
        assert (
            d["value"]
            == _hmac_value(current["seed"], case["id"])
            == draw_value(current["seed"], case["id"])
        )
        assert d["drawn"] == (d["value"] < 0.5)
        assert d["selected"] == case["score"]["suggests_selection"]
        expected = {
            (True, True): "both",
            (False, True): "reference",
            (True, False): "selection",
            (False, False): "neither",
        }
        assert d["route"] == expected[(d["selected"], d["drawn"])]
    assert {c["draw"]["drawn"] for c in cases} == {True, False}  # 40 draws at 1/2
    created = [
        e for e in _log(world) if e["action"] == "case.create" and e["case_id"] == cases[0]["id"]
    ]
    detail = json.loads(created[0]["detail"])
    assert detail["draw"] == cases[0]["draw"]["value"] and detail["seed_id"] == current["id"]
    with world.db.transaction() as session:
        assert list(reference.rederive(session)) == []


def test_draw_values_are_uniform() -> None:
    from scipy import stats

    values = draw_values("ab" * 32, range(1, 20_001))
    assert [_hmac_value("ab" * 32, i) for i in range(1, 2001)] == list(values[:2000])
    assert draw_values("00" * 32, [7])[0] == draw_value("00" * 32, 7)
    assert stats.kstest(values, "uniform").pvalue > 1e-4
    assert ((values >= 0) & (values < 1)).all()


def test_setting_the_share_is_for_admins_validated_and_logged(world: Service) -> None:
    path = f"/api/processes/{world.ids['A']}/reference-share"
    for user in ("ann", "sue", "aud"):
        assert world.call(user, "PUT", path, json={"reference_share": 0.1}).status_code == 403
    for bad in (1.0, -0.01, "lots"):
        assert world.call("admin", "PUT", path, json={"reference_share": bad}).status_code == 422
    _set_share(world, "A", 0.02)
    entry = [e for e in _log(world) if e["action"] == "process.reference_share"]
    assert len(entry) == 1 and entry[0]["actor"] == "admin"
    assert json.loads(entry[0]["detail"])["reference_share"] == 0.02
    assert json.loads(entry[0]["detail"])["previous"] == 0.0
    assert json.loads(entry[0]["records"])[0][0] == "reference_seed"
    assert (
        world.call("ann", "GET", f"/api/processes/{world.ids['A']}/reference-seeds").status_code
        == 403
    )


def test_a_share_given_at_registration_is_used(service: Service) -> None:
    service.add_user("kim", "caseworker", "team-k")
    process = service.process("K", "team-k", reference_share=0.999)
    case = service.case("kim", process, LOW_INPUTS)
    assert case["draw"]["share"] == 0.999
    assert case["draw"]["drawn"] == (case["draw"]["value"] < 0.999)


def test_outcomes_are_recorded_corrected_and_kept(world: Service) -> None:
    case_id = world.ids["case"]  # band 6: selected
    first = world.ok("ann", "POST", f"/api/cases/{case_id}/outcome", json=FOUND)
    fix = {"outcome": False, "observed_on": FOUND["observed_on"], "note": "Wrong file <b>x</b>"}
    second = world.ok("sue", "POST", f"/api/cases/{case_id}/outcome", json=fix)
    assert first["supersedes_id"] is None and second["supersedes_id"] == first["id"]
    assert second["recorded_by"] == "sue" and second["note"] == "Wrong file <b>x</b>"
    outcomes = world.ok("ann", "GET", f"/api/cases/{case_id}")["outcomes"]
    assert [(o["id"], o["outcome"]) for o in outcomes] == [
        (first["id"], True),
        (second["id"], False),
    ]
    logged = [e for e in _log(world) if e["action"] == "outcome.create"]
    assert [json.loads(e["records"])[0][:2] for e in logged] == [
        ["outcome", first["id"]],
        ["outcome", second["id"]],
    ]
    for outsider in ("bob", "sam", "aud", "admin"):
        response = world.call(outsider, "POST", f"/api/cases/{case_id}/outcome", json=FOUND)
        assert response.status_code == 404, outsider


def test_an_outcome_needs_a_check_and_a_sensible_date(world: Service) -> None:
    unchecked = world.case("ann", world.ids["A"], LOW_INPUTS)  # band 1, share 0
    assert unchecked["draw"]["route"] == "neither"
    response = world.call("ann", "POST", f"/api/cases/{unchecked['id']}/outcome", json=FOUND)
    assert response.status_code == 409
    path = f"/api/cases/{world.ids['case']}/outcome"
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    for day in (tomorrow, "2020-01-01", "01-12-2026", "2026-13-01"):
        body = {"outcome": True, "observed_on": day}
        assert world.call("ann", "POST", path, json=body).status_code == 422, day
    assert (
        world.call(
            "ann", "POST", path, json={"outcome": "maybe", "observed_on": tomorrow}
        ).status_code
        == 422
    )


def test_a_reference_case_can_get_an_outcome_whatever_its_band(world: Service) -> None:
    _set_share(world, "A", 0.999)
    case = world.case("ann", world.ids["A"], LOW_INPUTS)
    assert case["draw"]["route"] == "reference"
    world.ok("ann", "POST", f"/api/cases/{case['id']}/outcome", json=FOUND)


def _drawn_case(world: Service) -> dict:
    _set_share(world, "A", 0.999)
    case = world.case("ann", world.ids["A"], LOW_INPUTS)
    assert case["draw"]["drawn"]
    return case


@pytest.mark.parametrize(
    ("model", "change"),
    [
        (ReferenceDraw, {"drawn": False}),
        (ReferenceDraw, {"value": 0.75}),
        (ReferenceDraw, {"route": "neither"}),
        (ReferenceSeed, {"share": 0.5}),
        (CheckOutcome, {"outcome": False}),
        (CheckOutcome, {"observed_on": date(2026, 1, 2)}),
    ],
)
def test_a_changed_draw_seed_or_outcome_is_found(world: Service, model: type, change: dict) -> None:
    case = _drawn_case(world)
    outcome = world.ok("ann", "POST", f"/api/cases/{case['id']}/outcome", json=FOUND)
    assert auditlog.verify_database(world.db).intact
    key = {
        ReferenceDraw: ReferenceDraw.case_id == case["id"],
        ReferenceSeed: ReferenceSeed.id == case["draw"]["seed_id"],
        CheckOutcome: CheckOutcome.id == outcome["id"],
    }[model]
    with world.db.transaction() as session:  # the records are not the log: no triggers
        session.execute(update(model).where(key).values(**change))
    result = auditlog.verify_database(world.db)
    assert not result.intact
    kind = {ReferenceDraw: "draw", ReferenceSeed: "reference_seed", CheckOutcome: "outcome"}[model]
    assert [p.kind for p in result.record_problems] == [kind]
    assert "changed" in result.record_problems[0].reason


def test_a_forged_draw_is_found_by_rederiving_it_even_with_the_log_rebound(world: Service) -> None:
    case = _drawn_case(world)
    with tampering(world.db) as session:
        session.execute(
            update(ReferenceDraw)
            .where(ReferenceDraw.case_id == case["id"])
            .values(value=0.9995, drawn=False, route="neither")
        )
    with world.db.transaction() as session:
        found = list(reference.rederive(session, world.ids["A"]))
    assert [(m.case_id, m.reason) for m in found] == [(case["id"], "its value is not the seed's")]


def test_retention_deletes_draws_and_outcomes_with_their_case(world: Service) -> None:
    from waarborg.service import retention

    case = _drawn_case(world)
    world.ok("ann", "POST", f"/api/cases/{case['id']}/outcome", json=FOUND)
    retention.run(world.db, now=datetime.now(UTC) + timedelta(days=400))
    with world.db.transaction() as session:
        assert session.execute(select(ReferenceDraw)).first() is None
        assert session.execute(select(CheckOutcome)).first() is None
    assert auditlog.verify_database(world.db).intact


def test_the_notice_of_a_reference_case_says_it_was_drawn_at_random(world: Service) -> None:
    case = _drawn_case(world)
    decide = {
        "outcome": "selected",
        "rationale": "Drawn for the reference sample.",
        "follows_score": False,
    }
    world.ok("ann", "POST", f"/api/cases/{case['id']}/decision", json=decide)
    nl = world.call("ann", "GET", f"/api/cases/{case['id']}/notice?lang=nl").text
    en = world.call("ann", "GET", f"/api/cases/{case['id']}/notice?lang=en").text
    assert "door loting gekozen voor een controle" in nl and "99,9%" in nl
    assert "niet af van iets over u" in nl and "eerlijk" in nl
    assert "drawn at random for a check" in en and "99.9%" in en
    assert "not based on anything about you" in en and "fair" in en
    assert "random" not in nl.lower() and "drawn" not in nl
    pdf = world.call("ann", "GET", f"/api/cases/{case['id']}/notice?lang=nl&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with world.db.transaction() as session:
        built = notices.build_notice(session.get(Case, case["id"]), "nl")
    assert built.sections[0].heading == "Waarom is uw zaak gecontroleerd?"
    decide["follows_score"] = True
    world.ok("ann", "POST", f"/api/cases/{world.ids['case']}/decision", json=decide)
    with world.db.transaction() as session:
        plain = notices.build_notice(session.get(Case, world.ids["case"]), "nl")
    assert "Waarom is uw zaak gecontroleerd?" not in [s.heading for s in plain.sections]


def test_the_case_page_shows_the_draw_as_the_reason_and_escapes_notes(world: Service) -> None:
    case = _drawn_case(world)
    client = log_in(web_client(world), "ann")
    page = client.get(f"/cases/{case['id']}?lang=nl")
    assert page.status_code == 200
    assert 'id="reference-reason"' in page.text and "door loting gekozen" in page.text
    assert 'id="factors-hidden"' in page.text
    form_csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    posted = client.post(
        f"/cases/{case['id']}/outcome",
        data={
            "csrf": form_csrf,
            "found": "yes",
            "observed_on": FOUND["observed_on"],
            "note": "<script>x</script>",
        },
        follow_redirects=True,
    )
    assert posted.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt;" in posted.text and "<script>x" not in posted.text
    selected = client.get(f"/cases/{world.ids['case']}?lang=en")
    assert (
        'id="reference-reason"' not in selected.text and 'id="factors-hidden"' not in selected.text
    )
    bad = client.post(
        f"/cases/{case['id']}/outcome",
        data={"csrf": form_csrf, "found": "yes", "observed_on": "2001-01-01"},
    )
    assert bad.status_code == 422 and 'id="check-error"' in bad.text


def test_migration_0005_gives_existing_processes_a_zero_share_bound_in_the_log(
    database_url: str,
) -> None:
    db = Database(database_url)
    db.upgrade("0004")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO processes (name, instrument_id, instrument_version, spec_hash, spec, "
                "purpose, decider_disclosure, retention_days, retest_interval_days, created_at) "
                "VALUES ('old', 'generic-selection', '1', 'x', '{}', 'p', 'role', 30, 365, "
                "'2026-01-01')"
            )
        )
    db.upgrade()
    with db.transaction() as session:
        process = session.execute(select(Process)).scalar_one()
        assert process.reference_share == 0.0 and process.reference_seed is not None
        assert len(process.reference_seed.seed) == 64
    with db.snapshot() as session:
        result = auditlog.verify(session, check_records=True)
    assert result.intact and result.records_checked == 1
    db.dispose()


def _checked_world(world: Service) -> list[dict]:
    """Process A with a share of 1/2 and 40 cases; outcomes for every checked one."""
    _set_share(world, "A", 0.5)
    cases = []
    for i in range(40):
        inputs = dict(GENERIC_INPUTS if i % 2 else LOW_INPUTS)
        inputs["education_type"] = ("mbo", "hbo", "wo")[i % 3]
        case = world.case("ann", world.ids["A"], inputs, open=False)
        if case["draw"]["route"] != "neither":
            body = {"outcome": i % 4 == 1, "observed_on": FOUND["observed_on"]}
            world.ok("ann", "POST", f"/api/cases/{case['id']}/outcome", json=body)
        cases.append(case)
    return cases


def test_the_selection_table_has_one_row_per_case_with_the_latest_outcome(world: Service) -> None:
    from waarborg.service.selectivity import selection_table

    cases = _checked_world(world)
    first_checked = next(c for c in cases if c["draw"]["route"] != "neither")
    body = {"outcome": True, "observed_on": FOUND["observed_on"], "note": "corrected"}
    world.ok("sue", "POST", f"/api/cases/{first_checked['id']}/outcome", json=body)
    table = selection_table(world.db, "A")
    assert table.height == 41  # the world's own case too
    assert table.columns[:9] == [
        "case_id", "subject_ref", "selected", "reference", "outcome", "score", "band", "route",
        "seed_id",
    ]  # fmt: skip
    assert {"education_type", "age", "distance_to_parents_km"} <= set(table.columns)
    rows = {r["case_id"]: r for r in table.to_dicts()}
    for case in cases:
        row = rows[case["id"]]
        assert row["reference"] == case["draw"]["drawn"]
        assert row["selected"] == bool(case["score"]["suggests_selection"])
        assert row["route"] == case["draw"]["route"]
        assert row["band"] == case["score"]["band"]
        assert row["score"] == case["score"]["scores"]["selection"]
        expected = None if case["draw"]["route"] == "neither" else cases.index(case) % 4 == 1
        if case["id"] == first_checked["id"]:
            expected = True
        assert row["outcome"] == expected, case["id"]
    logged = [e for e in _log(world) if e["action"] == "selectivity.table"]
    assert json.loads(logged[-1]["detail"])["cases"] == 41


@pytest.mark.parametrize("instrument_id", ["generic-selection", "oxrec-style", "ritax-style"])
def test_the_selection_table_scores_a_case_as_the_demo_audit_does(instrument_id: str) -> None:
    from waarborg.demo import audit_table
    from waarborg.instruments.engine import load_instrument, score
    from waarborg.service.casework import _score_record
    from waarborg.service.selectivity import _score
    from waarborg.synth import synthesize

    inst = load_instrument(instrument_id)
    cases = synthesize(instrument_id, 200, seed=3)
    scored = score(inst, cases)
    table, columns = audit_table(inst, cases, scored)
    band = inst.spec.bands[inst.outcomes[0].name]
    assert columns["score"].startswith("probability_" if band.quantity != "score" else "score_")
    service = [_score(inst, _score_record(inst, row)) for row in scored.to_pylist()]
    kept = [value for value in service if value is not None]
    assert kept == table.column(columns["score"]).to_pylist()


def test_the_selectivity_endpoint_reports_by_group_for_auditors(world: Service) -> None:
    from waarborg.selectivity import selectivity_report
    from waarborg.service.selectivity import selection_table

    _checked_world(world)
    path = "/api/processes/A/selectivity?group=education_type"
    for user in ("ann", "sue"):
        assert world.call(user, "GET", path).status_code == 403
    result = world.ok("aud", "GET", path)
    assert world.ok("admin", "GET", f"/api/processes/{world.ids['A']}/selectivity")["groups"] == [
        "education_type"
    ]  # by default the categorical inputs
    table = selection_table(world.db, "A")
    current = table.filter(table["seed_id"] == table["seed_id"].max())
    expected = selectivity_report(current, ["education_type"], reference_share=0.5).to_dict()
    assert result["n"] == expected["n"] == 40  # the world's case was drawn under share 0
    assert result["overall"] == expected["overall"]
    assert sorted(result["by_group"]["education_type"]) == ["hbo", "mbo", "wo"]
    assert result["design"]["reference_share"]["given"] == 0.5
    bad = world.call("aud", "GET", "/api/processes/A/selectivity?group=subject_ref")
    assert bad.status_code == 422 and "not an input" in bad.json()["detail"]
    missing = world.call("aud", "GET", "/api/processes/nope/selectivity")
    assert missing.status_code == 404
    no_sample = world.call("aud", "GET", "/api/processes/B/selectivity")
    assert no_sample.status_code == 409 and "reference share is 0" in no_sample.json()["detail"]


def test_the_cli_reports_on_a_process_with_joined_groups(world: Service, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from waarborg.cli import app as cli
    from waarborg.service.selectivity import selection_table

    _checked_world(world)
    table = selection_table(world.db, "A")
    current = table.filter(table["seed_id"] == table["seed_id"].max())
    origin = {ref: ("x", "y")[i // 2 % 2] for i, ref in enumerate(current["subject_ref"])}
    groups = tmp_path / "origin.csv"
    groups.write_text(
        "subject_ref,origin\n" + "".join(f"{k},{v}\n" for k, v in origin.items()), "utf-8"
    )
    out = tmp_path / "result.json"
    args = ["selectivity", "report", "A", "--database-url", world.db.url, "--group", "origin"]
    args += ["--join", str(groups), "--on", "subject_ref", "--json", str(out), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    reported = json.loads(out.read_text("utf-8"))
    assert reported["n"] == 40
    assert {g: r["n"] for g, r in reported["by_group"]["origin"].items()} == {
        "x": sum(v == "x" for v in origin.values()),
        "y": sum(v == "y" for v in origin.values()),
    }
    groups.write_text("subject_ref,origin\nnobody,x\n", "utf-8")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert (
        "origin.csv" in result.output and "40 of 40 cases of process A have no row" in result.output
    )
    result = CliRunner().invoke(cli, ["selectivity", "report", "B", "--database-url", world.db.url])
    assert result.exit_code == 2 and "reference share is 0" in result.output


def test_the_cli_and_the_api_estimate_a_process_with_its_declared_share(
    world: Service, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from waarborg.cli import app as cli

    _checked_world(world)
    api = world.ok("aud", "GET", "/api/processes/A/selectivity?group=education_type")
    out = tmp_path / "result.json"
    args = ["selectivity", "report", "A", "--database-url", world.db.url]
    args += ["--group", "education_type", "--json", str(out), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8")) == api
    design = api["design"]["reference_share"]
    assert design["given"] == 0.5 and design["inferred"] is False
    result = CliRunner().invoke(cli, [*args, "--reference-share", "0.25"])
    assert result.exit_code == 2 and "share 0.5, not 0.25" in result.output


def test_the_selectivity_page_shows_the_report_inside_the_site(world: Service) -> None:
    _checked_world(world)
    with world.db.transaction() as session:  # a name typed by an admin, shown escaped
        session.execute(
            update(Process).where(Process.id == world.ids["A"]).values(name="A<img src=x>&")
        )
    auditor = log_in(web_client(world), "aud")
    page = auditor.get(
        "/processes/A%3Cimg%20src%3Dx%3E%26/selectivity?lang=nl&group=education_type"
    )
    assert page.status_code == 200, page.text
    assert "<h1>Selectiviteit" in page.text and "A&lt;img src=x&gt;&amp;" in page.text
    assert 'id="selectivity-report"' in page.text and page.text.count("<body") == 1
    assert page.text.count("<main") == 1 and "<style>" not in page.text
    assert "mbo" in page.text and "50%" in page.text
    # its figures are images: inline SVG styles would be refused by the page's policy
    assert "<svg" not in page.text and 'src="data:image/svg+xml;base64,' in page.text
    figure = re.search(r'src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', page.text)
    assert figure and "<style" in base64.b64decode(figure.group(1)).decode()
    assert_entirely_dutch(page.text, allow={"origin"})
    english = auditor.get(f"/processes/{world.ids['A']}/selectivity?lang=en")
    assert english.status_code == 200 and "<h1>Selectivity" in english.text
    worker = log_in(web_client(world), "ann")
    assert worker.get(f"/processes/{world.ids['A']}/selectivity").status_code == 403


def test_upgrading_an_empty_database_gives_the_models_schema(database_url: str) -> None:
    """Every migration from empty to head, against the models (what the service expects)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from waarborg.service.store.models import Base

    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []
