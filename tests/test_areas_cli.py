"""``waarborg areas audit`` and ``waarborg simulate feedback``; areas in the five conditions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from tests.test_areas_audit import City
from waarborg.cli import app
from waarborg.register.conditions import AuditEvidence, Evidence, check_conditions

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("areas")
    city = City()
    paths = {"scored": folder / "scored.parquet", "incidents": folder / "incidents.csv"}
    pq.write_table(city.scored(), paths["scored"])
    incidents = city.incidents(0.2).to_pandas()
    incidents.to_csv(paths["incidents"], index=False)
    goal = {
        "statement": "Fewer burglaries",
        "statement_nl": "Minder inbraken",
        "success_criteria": [
            {"metric": "pai", "value": 1.0, "description": "PAI ≥ 1", "description_nl": "PAI ≥ 1"},
            {
                "metric": "hit_rate_gain_over_baseline",
                "baseline": "last_period",
                "value": 0.1,
                "description": "10% better than last period",
                "description_nl": "10% beter dan vorige periode",
            },
        ],
    }
    paths["goal"] = folder / "goal.yaml"
    paths["goal"].write_text(yaml.safe_dump(goal, allow_unicode=True), encoding="utf-8")
    return paths


def test_areas_audit_writes_json_and_a_dutch_report(files: dict[str, Path], tmp_path: Path) -> None:
    out, report = tmp_path / "r.json", tmp_path / "r.html"
    args = ["areas", "audit", str(files["scored"]), "--incidents", str(files["incidents"])]
    args += ["--goal", str(files["goal"]), "--json", str(out), "--report", str(report)]
    result = runner.invoke(app, [*args, "--lang", "nl"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["metric"] for c in data["criteria"]] == ["pai", "hit_rate_gain_over_baseline"]
    assert data["criteria"][0]["status"] == "met"
    assert "Succescriteria" in result.stdout and "ontdekt" in result.stdout
    page = report.read_text()
    assert '<html lang="nl">' in page and "Minder inbraken" in page


def test_missing_column_exits_2_naming_file_and_column(
    files: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "incidents.csv"
    bad.write_text("cell_id,when\nc001,2025-01-06\n")
    out = tmp_path / "r.json"
    result = runner.invoke(
        app, ["areas", "audit", str(files["scored"]), "--incidents", str(bad), "--json", str(out)]
    )
    assert result.exit_code == 2
    assert str(bad) in result.output and "column date" in result.output
    assert not out.exists()


def test_bad_goal_file_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    goal = tmp_path / "goal.yaml"
    goal.write_text(
        "statement: x\nstatement_nl: x\nsuccess_criteria: [{metric: speed, value: 1}]\n"
    )
    result = runner.invoke(
        app,
        [
            "areas",
            "audit",
            str(files["scored"]),
            "--incidents",
            str(files["incidents"]),
            "--goal",
            str(goal),
        ],
    )
    assert result.exit_code == 2
    assert str(goal) in result.output and "metric" in result.output


def test_simulate_feedback_writes_the_documented_json(tmp_path: Path) -> None:
    out, report = tmp_path / "f.json", tmp_path / "f.html"
    result = runner.invoke(
        app,
        [
            "simulate",
            "feedback",
            "--cells",
            "400",
            "--periods",
            "6",
            "--areas-per-side",
            "2",
            "--urn",
            "0.55,0.45",
            "--json",
            str(out),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for policy in ("all_recorded", "reported_only", "discovered_weighted"):
        assert len(data["policies"][policy]["patrol_share"]) == 4
    assert len(data["true_share"]) == 4
    assert data["urn"]["policies"]["discovered_weighted"]["mean_final_share"] == pytest.approx(
        0.55, abs=0.02
    )
    assert "<script" not in report.read_text()
    bad = runner.invoke(app, ["simulate", "feedback", "--urn", "fast"])
    assert bad.exit_code == 2


def _evidence(statuses: list[str], kind: str = "pre_deployment") -> Evidence:
    result = {
        "n": {"value": 10},
        "disparities": [{"significant": False}],
        "verdicts": [],
        "criteria": [
            {"metric": m, "status": s, "text_en": f"{m} {s}", "text_nl": f"{m} {s}"}
            for m, s in zip(("pai", "hit_rate_gain_over_baseline"), statuses, strict=False)
        ],
    }
    audit = AuditEvidence.of(result, kind, datetime(2026, 5, 1, tzinfo=UTC))  # type: ignore[arg-type]
    return Evidence(process="cas", process_created=datetime(2026, 4, 1, tzinfo=UTC), audits=[audit])


@pytest.mark.parametrize(
    ("statuses", "first", "second"),
    [
        (["met", "met"], "met", "met"),
        (["met", "not_met"], "not_met", "not_met"),
        (["unknown", "met"], "unknown", "unknown"),
        ([], "met", "met"),
    ],
)
def test_success_criteria_weigh_in_conditions_1_and_2(
    statuses: list[str], first: str, second: str
) -> None:
    report = check_conditions(_evidence(statuses), date(2026, 6, 1))
    assert [report.conditions[0].status, report.conditions[1].status] == [first, second]
    lines = " ".join(report.conditions[0].evidence_en)
    if statuses:
        assert "effectiveness: pai" in lines
        assert "necessity: hit_rate_gain_over_baseline" in lines
    if "not_met" in statuses:
        assert any("necessity" in m for m in report.conditions[0].missing_en)
        assert any("noodzaak" in m for m in report.conditions[0].missing_nl)
