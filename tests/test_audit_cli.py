"""The ``waarborg audit`` and ``waarborg cube build`` commands."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.test_audit_cube import assert_same, leaves
from tests.test_audit_metrics import make_cases
from waarborg.audit import audit
from waarborg.cli import app

runner = CliRunner()
SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "audit-result.schema.json").read_text())
COLUMNS = [
    "--score",
    "p",
    "--outcome",
    "y",
    "--band",
    "band",
    "--group",
    "sex",
    "--group",
    "origin",
]
AUDIT = [*COLUMNS, "--select", "hoog", "--quiet"]


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return make_cases(3000, seed=7)


@pytest.fixture
def csv(cases: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    cases.to_csv(path, index=False)
    return path


def test_audit_writes_json_that_follows_the_schema(
    csv: Path, cases: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["audit", str(csv), *AUDIT, "--intersections", "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(document, SCHEMA)
    for path in (
        "n",
        "validity.auc",
        "validity.brier",
        "validity.calibration_slope",
        "validity.calibration_intercept",
        "validity.base_rate",
        "groups.origin.dutch.selection_rate",
        "groups.sex×origin.female×dutch.ppv",
        "disparities.origin.western.fpr.ratio",
    ):
        node = document
        for key in path.split("."):
            node = node[key]
        assert {"value", "ci", "n"} <= set(node), path
    largest = cases.groupby(["sex", "origin"]).size().idxmax()
    assert document["reference"]["sex×origin"] == "×".join(largest)
    api = audit(
        cases,
        score="p",
        outcome="y",
        band="band",
        group=["sex", "origin"],
        select="hoog",
        intersections=True,
    ).to_dict()
    assert_same(document, api)


def test_summary_states_n_intervals_reference_and_verdicts(csv: Path) -> None:
    result = runner.invoke(app, ["audit", str(csv), *AUDIT])
    assert result.exit_code == 0
    text = result.stdout
    assert "Cases (n):        3,000" in text
    assert "origin (reference group: 'dutch'); rates with 95% CI" in text
    assert "AUC (DeLong)" in text and "Calibration slope" in text
    assert "Verdicts on " in text and "(Holm correction over all " in text
    assert "selected" in text and "× as often as the reference group" in text


def test_dutch_verdicts(csv: Path) -> None:
    result = runner.invoke(app, ["audit", str(csv), *AUDIT, "--lang", "nl"])
    assert result.exit_code == 0
    assert "Bevindingen" in result.stdout and "zo vaak geselecteerd" in result.stdout


def test_cube_build_then_audit_the_cube(csv: Path, tmp_path: Path) -> None:
    cube = tmp_path / "cube.parquet"
    built = runner.invoke(app, ["cube", "build", str(csv), *COLUMNS, "-o", str(cube), "--quiet"])
    assert built.exit_code == 0, built.output
    assert "3,000 cases" in built.stdout
    from_rows, from_cube = tmp_path / "rows.json", tmp_path / "cube.json"
    runner.invoke(app, ["audit", str(csv), *AUDIT, "--json", str(from_rows)])
    result = runner.invoke(
        app, ["audit", str(cube), "--select", "hoog", "--quiet", "--json", str(from_cube)]
    )
    assert result.exit_code == 0, result.output
    assert_same(json.loads(from_cube.read_text()), json.loads(from_rows.read_text()))


def test_several_files_make_one_audit(cases: pd.DataFrame, csv: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    cases.iloc[:1000].to_parquet(a)
    cases.iloc[1000:].to_csv(b, index=False)
    whole, parts = tmp_path / "whole.json", tmp_path / "parts.json"
    runner.invoke(app, ["audit", str(csv), *AUDIT, "--json", str(whole)])
    result = runner.invoke(app, ["audit", str(a), str(b), *AUDIT, "--json", str(parts)])
    assert result.exit_code == 0, result.output
    assert_same(json.loads(parts.read_text()), json.loads(whole.read_text()))


def test_aggregated_input_with_a_count_column(
    cases: pd.DataFrame, csv: Path, tmp_path: Path
) -> None:
    counts = tmp_path / "counts.csv"
    keys = ["sex", "origin", "p", "y", "band"]
    cases.groupby(keys, as_index=False).size().to_csv(counts, index=False)
    rows, agg = tmp_path / "rows.json", tmp_path / "agg.json"
    runner.invoke(app, ["audit", str(csv), *AUDIT, "--json", str(rows)])
    result = runner.invoke(
        app, ["audit", str(counts), *AUDIT, "--count", "size", "--json", str(agg)]
    )
    assert result.exit_code == 0, result.output
    assert_same(json.loads(agg.read_text()), json.loads(rows.read_text()))


def test_instrument_is_recorded_in_the_provenance(csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = runner.invoke(
        app, ["audit", str(csv), *AUDIT, "--instrument", "generic-selection", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    inst = json.loads(out.read_text())["provenance"]["instrument"]
    assert inst["id"] == "generic-selection" and len(inst["spec_hash"]) == 64
    assert "proxies" not in json.loads(out.read_text())


@pytest.mark.parametrize(
    ("change", "args", "column"),
    [
        (
            {},
            ["--outcome", "reoffended", "--group", "sex", "--select", "hoog", "--band", "band"],
            "reoffended",
        ),
        ({"y": 3}, AUDIT, "y"),
        ({}, [*AUDIT[:-3], "--select", "hoog,extreem"], "band"),
        ({}, [*AUDIT, "--reference", "origin=mars"], "origin"),
    ],
    ids=["missing column", "non-binary outcome", "unknown band", "unknown reference"],
)
def test_bad_input_exits_2_and_writes_nothing(
    cases: pd.DataFrame, tmp_path: Path, change: dict, args: list[str], column: str
) -> None:
    bad = cases.copy()
    for key, value in change.items():
        bad.loc[5, key] = value
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    out, report = tmp_path / "out.json", tmp_path / "out.html"
    result = runner.invoke(
        app, ["audit", str(path), *args, "--json", str(out), "--report", str(report)]
    )
    assert result.exit_code == 2
    assert f"column {column}" in result.stderr
    assert not out.exists() and not report.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_options_that_contradict_each_other_are_a_usage_error(csv: Path) -> None:
    result = runner.invoke(app, ["audit", str(csv), *AUDIT, "--selected", "y"])
    assert result.exit_code == 2
    assert "not both" in result.output


def test_report_is_written_when_the_report_module_exists(csv: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    result = runner.invoke(app, ["audit", str(csv), *AUDIT, "--report", str(report)])
    if importlib.util.find_spec("waarborg.report.html") is None:
        assert result.exit_code == 2 and not report.exists()
    else:
        assert result.exit_code == 0, result.output
        assert "<html" in report.read_text(encoding="utf-8").lower()


def test_json_has_no_nan(csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    runner.invoke(app, ["audit", str(csv), *AUDIT, "--json", str(out)])
    text = out.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert all(
        v is None or isinstance(v, bool | int | float) for v in leaves(json.loads(text)).values()
    )
