"""Every Dutch report, card, register entry and CLI output is entirely Dutch (issue 12 §1).

Each output is rendered in Dutch and checked with :func:`tests.dutch.assert_entirely_dutch`:
no word of the English catalogs that is not also Dutch. What may stay as given is in
``allow`` with its reason; nothing else is allowed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.dutch import assert_entirely_dutch
from tests.test_areas_cli import files  # noqa: F401 (the area files fixture)
from waarborg import list_instruments, load_instrument
from waarborg.cli import app
from waarborg.instruments.spec import InstrumentSpec
from waarborg.register.export import register_entry
from waarborg.register.modelcard import model_card
from waarborg.register.owner import DEMO_OWNER, load_owner
from waarborg.synth import synthesize
from waarborg.verify import demo_faulty_implementation, verify

runner = CliRunner()
CASE_INSTRUMENTS = list_instruments()
ALL_INSTRUMENTS = list_instruments(unit=None)


def _spec_as_given(spec: InstrumentSpec) -> tuple[str, ...]:
    """Text the spec gives only in English, quoted as given: the owner's name (a name) and
    the provenance's citations (bibliographic references keep their language)."""
    return (spec.owner, *(s.citation for s in spec.provenance.sources))


def _case(instrument: str) -> dict[str, Any]:
    """One synthetic case of the instrument: its case fields and predictors."""
    spec = load_instrument(instrument).spec
    row = synthesize(instrument, 50, seed=3).to_pylist()[0]
    names = [f.name for f in spec.case_fields] + [p.name for p in spec.predictors]
    return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in row.items() if k in names}


@pytest.mark.parametrize("instrument", CASE_INSTRUMENTS)
def test_waarborg_explain_in_dutch(instrument: str, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(_case(instrument)), encoding="utf-8")
    args = ["explain", instrument, "--case", str(case), "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert_entirely_dutch(result.stdout, where=f"explanation of {instrument}")


@pytest.mark.parametrize("instrument", ALL_INSTRUMENTS)
def test_the_register_entry_is_dutch(instrument: str) -> None:
    spec = load_instrument(instrument).spec
    entry = register_entry(spec, load_owner(DEMO_OWNER)).to_json_dict()
    text = "\n".join(str(v) for v in entry.values() if isinstance(v, str))
    assert_entirely_dutch(text, where=f"register entry of {instrument}")


@pytest.mark.parametrize("instrument", ALL_INSTRUMENTS)
def test_the_model_card_is_dutch(instrument: str) -> None:
    spec = load_instrument(instrument).spec
    card = model_card(spec, lang="nl", today=date(2026, 12, 1))
    assert card.startswith("<!DOCTYPE html>")
    # the card shows each variable's column name as code beside its Dutch title
    columns = tuple(f.name for f in [*spec.case_fields, *spec.predictors])
    allow = _spec_as_given(spec) + columns
    assert_entirely_dutch(card, allow=allow, where=f"model card of {instrument}")


def test_a_failing_verification_report_is_dutch() -> None:
    cases = synthesize("oxrec-style", 800, seed=7)
    result = verify("oxrec-style", cases, demo_faulty_implementation(cases))
    assert not result.agrees
    assert_entirely_dutch(result.to_html("nl"), where="verification report")


def test_an_agreeing_verification_report_is_dutch() -> None:
    inst = load_instrument("generic-selection")
    cases = synthesize("generic-selection", 500, seed=2)
    from waarborg import score

    observed = score(inst, cases).select(["case_id", "band_selection", "score_selection"])
    result = verify("generic-selection", cases, observed)
    assert result.agrees
    # "selection": the outcome's output name (band_selection), a code the report compares by
    assert_entirely_dutch(result.to_html("nl"), allow=("selection",), where="verification report")


def _audited(instrument: str) -> tuple[Any, tuple[str, ...]]:
    """The audit of the instrument's synthetic data, and the data's group values (codes)."""
    import pyarrow.compute as pc

    from waarborg import audit, score

    inst = load_instrument(instrument)
    cases = synthesize(instrument, 4000, seed=5)
    outcome = inst.outcomes[0]
    band = inst.spec.bands[outcome.name]
    scored = score(inst, cases)
    probability = [c for c in scored.column_names if c.startswith(f"probability_{outcome.name}")]
    table = cases.append_column("score", scored[(probability or [f"score_{outcome.name}"])[-1]])
    table = table.append_column("band", scored[f"band_{outcome.name}"])
    table = table.filter(pc.and_(pc.is_valid(table["band"]), pc.is_valid(table["score"])))
    truth = [c for c in cases.column_names if c.startswith(f"outcome_{outcome.name}")][-1]
    groups = [c for c in ("sex", "migration_background") if c in cases.column_names]
    result = audit(
        table,
        score="score",
        outcome=truth,
        band="band",
        band_order=band.labels,
        select=band.selected_labels,
        group=groups,
    )
    values = {str(v) for g in groups for v in pc.unique(table[g]).to_pylist()}
    return result, tuple(sorted(values, key=len, reverse=True))


@pytest.mark.parametrize("instrument", CASE_INSTRUMENTS)
def test_the_audit_report_is_dutch(instrument: str) -> None:
    result, values = _audited(instrument)
    # the data's group values ("dutch", "female") and the in-memory table's name "<table>"
    # are codes from the audited data, shown as given
    allow = (*values, "<table>")
    assert_entirely_dutch(result.to_html("nl"), allow=allow, where=f"audit report of {instrument}")
    assert_entirely_dutch(result.summary("nl"), allow=allow, where=f"audit summary of {instrument}")


def test_waarborg_audit_in_dutch(tmp_path: Path) -> None:
    from tests.test_audit_metrics import make_cases

    cases = tmp_path / "cases.csv"
    make_cases(3000, seed=7).to_csv(cases, index=False)
    args = ["audit", str(cases), "--score", "p", "--outcome", "y", "--band", "band"]
    args += ["--group", "sex", "--group", "origin", "--select", "hoog", "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0,0" in result.stdout and "[0,0" in result.stdout  # decimal commas
    # the file's name and its group values ("female", "dutch") are shown as given
    allow = (str(cases), "female", "male", "dutch", "non_western", "western")
    assert_entirely_dutch(result.stdout, allow=allow, where="waarborg audit summary")


def test_waarborg_areas_audit_in_dutch(files: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    report = tmp_path / "r.html"
    args = ["areas", "audit", str(files["scored"]), "--incidents", str(files["incidents"])]
    args += ["--goal", str(files["goal"]), "--report", str(report), "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert_entirely_dutch(result.stdout, where="areas audit summary")
    assert_entirely_dutch(report.read_text(encoding="utf-8"), where="area audit report")


def test_waarborg_simulate_feedback_in_dutch(tmp_path: Path) -> None:
    report = tmp_path / "f.html"
    args = ["simulate", "feedback", "--cells", "400", "--periods", "6", "--areas-per-side", "2"]
    args += ["--urn", "0.55,0.45", "--report", str(report), "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # "A" is the name of the first simulated area ("aandeel van A")
    assert_entirely_dutch(result.stdout, allow=("van A",), where="feedback simulation summary")
    assert_entirely_dutch(report.read_text(encoding="utf-8"), where="feedback simulation report")


def test_waarborg_verify_in_dutch(tmp_path: Path) -> None:
    cases = synthesize("oxrec-style", 800, seed=7)
    cases_file, observed_file = tmp_path / "cases.parquet", tmp_path / "observed.parquet"
    import pyarrow.parquet as pq

    pq.write_table(cases, cases_file)
    pq.write_table(demo_faulty_implementation(cases), observed_file)
    args = ["verify", "oxrec-style", str(cases_file), str(observed_file), "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "oordeel: WIJKT AF" in result.stdout and "95%-BI" in result.stdout
    # codes the implementation's files use: outcome and variant names, predictor and
    # level keys as quoted by the findings, and the output columns
    spec = load_instrument("oxrec-style").spec
    codes = [o.name for o in spec.outcomes] + ["'prisoner'", "'probationer'", "prisoner"]
    codes += ["probationer", "'income'", "'low'"]
    columns = sorted((c for c in result.stdout.split() if c.startswith("probability_")), key=len)
    allow = (*columns[::-1], *codes)
    assert_entirely_dutch(result.stdout, allow=allow, where="waarborg verify summary")


def test_waarborg_modelcard_in_dutch(tmp_path: Path) -> None:
    card = tmp_path / "card.html"
    args = ["modelcard", "preselect-style", "-o", str(card), "--lang", "nl"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert_entirely_dutch(result.stdout, allow=(str(card),), where="waarborg modelcard")
    spec = load_instrument("preselect-style").spec
    columns = tuple(f.name for f in [*spec.case_fields, *spec.predictors])
    text = card.read_text(encoding="utf-8")
    assert_entirely_dutch(text, allow=_spec_as_given(spec) + columns, where="model card file")


def _invoke_in_dutch(args: list[str]) -> str:
    """Run ``waarborg ARGS --lang nl``; its standard output."""
    result = runner.invoke(app, [*args, "--lang", "nl"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_waarborg_selectivity_report_in_dutch(tmp_path: Path) -> None:
    from waarborg.synth.selectivity import Scenario, selection_table

    source, report = tmp_path / "selection.csv", tmp_path / "selectivity.html"
    selection_table(Scenario(n=4_000, missing=0.05), seed=1).to_pandas().to_csv(source, index=False)
    args = ["selectivity", "report", str(source), "--group", "group", "--reference-share", "0.05"]
    summary = _invoke_in_dutch([*args, "--report", str(report), "--quiet"])
    assert "Lift ten opzichte van aselecte selectie" in summary
    assert_entirely_dutch(summary, where="waarborg selectivity report summary")
    page = report.read_text(encoding="utf-8")
    assert '<html lang="nl">' in page
    assert_entirely_dutch(page, where="selectivity report")


def test_waarborg_selectivity_thresholds_in_dutch(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from waarborg.synth.thresholds import synthesize_thresholds

    source, report = tmp_path / "cases.parquet", tmp_path / "thresholds.html"
    pq.write_table(synthesize_thresholds("lower-threshold", 20_000, seed=5), source)
    args = ["selectivity", "thresholds", str(source), "--group", "group", "--unit", "unit"]
    summary = _invoke_in_dutch([*args, "--n-boot", "10", "--report", str(report)])
    assert "Drempeltoets" in summary
    assert_entirely_dutch(summary, where="waarborg selectivity thresholds summary")
    assert_entirely_dutch(report.read_text(encoding="utf-8"), where="threshold test")


def test_waarborg_selectivity_clusters_in_dutch(tmp_path: Path) -> None:
    from tests.test_selectivity_clusters import FEATURES
    from waarborg.synth.hidden_bias import hidden_bias_cases
    from waarborg.tables import write_table

    source = write_table(hidden_bias_cases(8_000, seed=4), tmp_path / "cases.parquet")
    report = tmp_path / "clusters.html"
    args = ["selectivity", "clusters", str(source), "--relate", "migration_background"]
    args += [arg for feature in FEATURES for arg in ("--feature", feature)]
    summary = _invoke_in_dutch([*args, "--report", str(report), "--quiet"])
    assert "Cluster 1:" in summary and "Kenmerken:" in summary
    # the values of the related attribute (migration_background) are codes from the data,
    # shown as given
    allow = ("dutch", "western", "non_western")
    assert_entirely_dutch(summary, allow=allow, where="waarborg selectivity clusters summary")
    page = report.read_text(encoding="utf-8")
    assert_entirely_dutch(page, allow=allow, where="bias search report")


def test_waarborg_selectivity_plan_in_dutch() -> None:
    base = ["selectivity", "plan", "--cases", "20000", "--selection-share", "0.05"]
    lift = _invoke_in_dutch([*base, "--prevalence", "0.1", "--lift", "2"])
    disparity = _invoke_in_dutch([*base, "--disparity", "0.3:0.12", "--disparity", "0.7:0.08"])
    impossible = _invoke_in_dutch(
        [
            "selectivity",
            "plan",
            "--cases",
            "50",
            "--selection-share",
            "0.05",
            "--prevalence",
            "0.1",
            "--lift",
            "1.1",
        ]
    )
    assert "Plan referentiesteekproef" in lift and "lift van 2" in lift
    assert "prevalenties van 12" in disparity and "Zelfs als elk geval" in impossible
    for text in (lift, disparity, impossible):
        assert_entirely_dutch(text, where="waarborg selectivity plan")
