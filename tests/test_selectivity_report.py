"""The selectivity report (HTML, en/nl) and the ``waarborg selectivity`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from waarborg.cli import app
from waarborg.selectivity import SelectivityResult, render_html, selectivity_report
from waarborg.selectivity.estimate import shown
from waarborg.synth.selectivity import Scenario, selection_table

runner = CliRunner()


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return selection_table(Scenario(n=6_000, missing=0.05), seed=12)


@pytest.fixture(scope="module")
def result(table: pa.Table) -> SelectivityResult:
    return selectivity_report(table, ["group"], reference_share=0.05)


def test_dutch_report_is_entirely_dutch(result: SelectivityResult) -> None:
    page = render_html(result, "nl")
    assert '<html lang="nl">' in page and "<script" not in page and "<svg" in page
    for english in ("Prevalence", "Hit rate", "Lift over", "Share of", "Checks per", "All cases"):
        assert english not in page
    lift = shown("lift", result["overall"]["lift"], "nl")[0]
    assert "," in lift and lift in page


def test_english_report_and_determinism(result: SelectivityResult) -> None:
    page = render_html(result, "en")
    assert "Lift over random selection" in page and "Holm" in page
    assert render_html(result.to_dict(), "en") == page


def test_group_names_are_escaped(table: pa.Table) -> None:
    names = pa.array(["<b>x</b>" if g == "A" else "$y$" for g in table["group"].to_pylist()])
    hostile = table.set_column(0, "group", names)
    page = render_html(selectivity_report(hostile, ["group"]), "en")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_an_interval_never_collapses_to_its_estimate() -> None:
    value, ci = shown("lift", {"value": 2.0012, "ci": [2.0004, 2.0019]}, "nl")
    assert value not in ci.split("–")
    value, ci = shown("hit_rate_difference", {"value": -0.05, "ci": [-0.08, -0.02]}, "en")
    assert value == "−5.0%" and ci == "−8.0% to −2.0%"


def test_report_command_writes_json_and_html(table: pa.Table, tmp_path: Path) -> None:
    source = tmp_path / "sel.csv"
    table.to_pandas().to_csv(source, index=False)
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    args = ["selectivity", str(source), "--group", "group", "--reference-share", "0.05"]
    run = runner.invoke(
        app, [*args, "--json", str(out_json), "--report", str(out_html), "--lang", "nl", "--quiet"]
    )
    assert run.exit_code == 0, run.output
    assert "Lift ten opzichte van aselecte selectie" in run.output
    saved = json.loads(out_json.read_text())
    assert (
        saved["overall"] == selectivity_report(source, ["group"], reference_share=0.05)["overall"]
    )
    assert '<html lang="nl">' in out_html.read_text()


def test_report_command_refuses_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("group,selected,reference,outcome\nA,1,0,1\nB,misschien,1,\n")
    out_json = tmp_path / "r.json"
    run = runner.invoke(app, ["selectivity", "report", str(bad), "--json", str(out_json)])
    assert run.exit_code == 2 and "row 2" in run.output and "selected" in run.output
    assert not out_json.exists()
    run = runner.invoke(app, ["selectivity", "not-a-file"])
    assert run.exit_code == 2 and "not a selection table file" in run.output


def test_report_command_refuses_an_unknown_reference_group(table: pa.Table, tmp_path: Path) -> None:
    source = tmp_path / "sel.parquet"
    pq.write_table(table, source)
    run = runner.invoke(
        app, ["selectivity", str(source), "--group", "group", "--reference-group", "group=Z"]
    )
    assert run.exit_code == 2 and "does not occur" in run.output


def test_plan_command(tmp_path: Path) -> None:
    out_json = tmp_path / "plan.json"
    args = ["selectivity", "plan", "--cases", "20000", "--selection-share", "0.05"]
    run = runner.invoke(
        app,
        [*args, "--prevalence", "0.1", "--lift", "2", "--json", str(out_json), "--lang", "nl"],
    )
    assert run.exit_code == 0, run.output
    assert "referentieaandeel" in run.output
    assert json.loads(out_json.read_text())["n_reference"] > 0
    run = runner.invoke(app, [*args, "--disparity", "0.3"])
    assert run.exit_code == 2 and "SHARE:PREVALENCE" in run.output
