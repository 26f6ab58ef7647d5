"""The threshold test: a planted lower threshold and a planted base-rate difference, each
found as what it is, from a cube; cross-checks against SciPy and statsmodels."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import integrate, stats
from statsmodels.stats import proportion
from typer.testing import CliRunner

from waarborg.cli import app
from waarborg.errors import DataError
from waarborg.selectivity.inputs import selection_counts
from waarborg.selectivity.threshold import threshold_test
from waarborg.selectivity.threshold_model import hit_rate, minimum_units, search_rate
from waarborg.selectivity.threshold_report import render_html
from waarborg.synth.thresholds import (
    PLANTED_THRESHOLD_SHIFT,
    synthesize_thresholds,
    truth,
)

N = 150_000  # cases per scenario
AGGREGATE_BOOT = 2000
runner = CliRunner()


@pytest.fixture(scope="module")
def scenarios() -> dict[str, pa.Table]:
    return {s: synthesize_thresholds(s, N, seed=3) for s in ("lower-threshold", "base-rate")}


@pytest.fixture(scope="module")
def results(scenarios: dict[str, pa.Table]) -> dict[str, dict]:
    return {
        name: threshold_test(table, "group", "unit", n_boot=AGGREGATE_BOOT, seed=1).to_dict()
        for name, table in scenarios.items()
    }


def _group_b(result: dict) -> dict:
    (b,) = [g for g in result["groups"] if g["group"] == "B"]
    return b


def _hit_rates(table: pa.Table) -> tuple[float, float, float]:
    """Hit-rate difference B - A, its 95% interval and p-value, straight from statsmodels."""
    checked = pc.and_(table["selected"], pc.is_valid(table["outcome"]))
    counts = {}
    for g in ("A", "B"):
        mine = pc.and_(checked, pc.equal(table["group"].cast(pa.string()), g))
        hits = pc.and_(mine, pc.fill_null(table["outcome"], False))
        counts[g] = (pc.sum(hits).as_py(), pc.sum(mine).as_py())
    (xb, nb), (xa, na) = counts["B"], counts["A"]
    low, high = proportion.confint_proportions_2indep(xb, nb, xa, na, method="newcomb")
    p = proportion.test_proportions_2indep(xb, nb, xa, na).pvalue
    return xb / nb - xa / na, (low, high), p


# --------------------------------------------------------------------------- the two scenarios


def test_planted_lower_threshold_is_found(results: dict) -> None:
    b = _group_b(results["lower-threshold"])
    low, high = b["difference_logit_ci"]
    assert high < 0, (low, high)
    assert low <= PLANTED_THRESHOLD_SHIFT <= high
    assert b["difference_ci"][1] < 0  # lower on the probability scale too
    assert b["verdict"] == "lower_threshold"


def test_planted_base_rate_difference_is_not_a_threshold(results: dict, scenarios: dict) -> None:
    b = _group_b(results["base-rate"])
    low, high = b["difference_logit_ci"]
    assert low <= truth("base-rate").threshold_difference == 0.0 <= high
    # infra-marginality: the outcome test sees a clear hit-rate difference
    diff, (hr_low, hr_high), p = _hit_rates(scenarios["base-rate"])
    assert diff > 0.03 and hr_low > 0 and p < 1e-6
    assert b["hit_rate_difference"] == pytest.approx(diff)
    assert b["hit_rate_difference_ci"] == pytest.approx((hr_low, hr_high), abs=1e-6)
    assert b["verdict"] == "base_rates"


def test_base_rate_difference_shows_in_the_base_rates(results: dict) -> None:
    a, b = results["base-rate"]["groups"]
    assert b["base_rate_ci"][0] > a["base_rate_ci"][1]


# --------------------------------------------------------------------------- cross-checks


@pytest.mark.parametrize(
    ("mean", "conc", "t"), [(0.2, 6.0, 0.3), (0.05, 2.0, 0.4), (0.6, 20.0, 0.5), (0.3, 1.5, 0.05)]
)
def test_discriminant_rates_match_scipy_integration(mean: float, conc: float, t: float) -> None:
    a, b = mean * conc, (1 - mean) * conc
    search = stats.beta.sf(t, a, b)
    above, _ = integrate.quad(lambda p: p * stats.beta.pdf(p, a, b), t, 1, epsabs=1e-13)
    assert search_rate(mean, conc, t) == pytest.approx(search, rel=1e-9)
    assert hit_rate(mean, conc, t) == pytest.approx(above / search, rel=1e-7)


def test_count_table_gives_the_same_aggregate_fit(scenarios: dict) -> None:
    table = scenarios["lower-threshold"].slice(0, 40_000)
    checked = pc.and_(table["selected"], pc.is_valid(table["outcome"]))
    hits = pc.and_(checked, pc.fill_null(table["outcome"], False))
    flat = pa.table(
        {
            "group": table["group"].cast(pa.string()),
            "unit": table["unit"].cast(pa.string()),
            "cases": pa.array(np.ones(table.num_rows, np.int64)),
            "selected": pc.cast(table["selected"], pa.int64()),
            "hits": pc.cast(hits, pa.int64()),
        }
    )
    counts = flat.group_by(["group", "unit"]).aggregate(
        [("cases", "sum"), ("selected", "sum"), ("hits", "sum")]
    )
    counts = counts.rename_columns(["group", "unit", "cases", "selected", "hits"])
    from_rows = threshold_test(table, "group", "unit", n_boot=10).to_dict()
    from_counts = threshold_test(counts, "group", "unit", n_boot=10).to_dict()
    assert from_counts["groups"] == from_rows["groups"]
    # the package's aggregate selection table (a ``count`` column) is read the same way
    cube = selection_counts(table, ["group", "unit"]).to_table()
    assert cube.num_rows < 200
    from_cube = threshold_test(cube, "group", "unit", n_boot=10).to_dict()
    assert from_cube["groups"] == from_rows["groups"]
    assert (
        from_rows["groups"][1]["cases"]
        == pc.sum(
            pc.equal(table["group"].cast(pa.string()), from_rows["groups"][1]["group"])
        ).as_py()
    )


# --------------------------------------------------------------------------- errors and output


def test_too_few_units_is_refused_with_the_reason() -> None:
    assert minimum_units(2) == 3 and minimum_units(4) == 2
    counts = pa.table(
        {
            "g": ["A", "B", "A", "B"],
            "u": ["x", "x", "y", "y"],
            "cases": [100, 100, 100, 100],
            "selected": [30, 40, 30, 40],
            "hits": [10, 10, 10, 10],
        }
    )
    with pytest.raises(DataError, match="at least 3 units") as info:
        threshold_test(counts, "g", "u")
    assert info.value.column == "u"
    with pytest.raises(DataError, match="unit column"):
        threshold_test(counts, "g")


def test_bad_counts_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("g,u,cases,selected,hits\nA,x,10,5,2\nB,x,10,12,2\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        threshold_test(path, "g", "u")
    assert (info.value.source, info.value.row, info.value.column) == (str(path), 2, "selected")
    path.write_text("g,u,cases,selected,hits\nA,x,10,5,2\nB,x,10,5,2.5\n", encoding="utf-8")
    with pytest.raises(DataError, match="whole number") as info:
        threshold_test(path, "g", "u")
    assert (info.value.source, info.value.row, info.value.column) == (str(path), 2, "hits")
    path.write_text("g,u,cases,selected\nA,x,10,5\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column") as info:
        threshold_test(path, "g", "u")
    assert info.value.column == "hits"


def test_summary_and_html_in_dutch_and_escaped(results: dict) -> None:
    data = json.loads(json.dumps(results["lower-threshold"]))
    for g in data["groups"]:
        g["group"] = "<b>" + g["group"] + "</b>" if g["group"] == "B" else g["group"]
    data["reference"] = "A"
    html = render_html(data, "nl")
    assert "<b>B</b>" not in html and "&lt;b&gt;B&lt;/b&gt;" in html
    assert "Drempeltoets" in html and "Lagere drempel voor groep" in html
    assert "<svg" in html
    for word in ("Threshold", "Group", "Verdict", "Method:", "Notes", "lower", " risk"):
        assert word not in html
    text = _summary(results["base-rate"], "nl")
    assert "Verschil in trefkans verklaard door verschillende uitkomstpercentages" in text
    assert re.search(r"\d,\d", text) and not re.search(r"\d\.\d{1,2}(?!\d)", text)


def _summary(data: dict, lang: str) -> str:
    from waarborg.selectivity.threshold_report import summary

    return summary(data, lang)


def test_cli_writes_json_and_report(tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    import pyarrow.parquet as pq

    pq.write_table(synthesize_thresholds("lower-threshold", 20_000, seed=5), path)
    json_out, report = tmp_path / "t.json", tmp_path / "t.html"
    args = ["selectivity", "thresholds", str(path), "--group", "group", "--unit", "unit"]
    res = runner.invoke(
        app,
        [
            *args,
            "--n-boot",
            "10",
            "--lang",
            "nl",
            "--json",
            str(json_out),
            "--report",
            str(report),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Drempeltoets" in res.output
    data = json.loads(json_out.read_text(encoding="utf-8"))
    assert data["n_boot"] == 10 and data["verdicts"]["B"] == "lower_threshold"
    assert report.read_text(encoding="utf-8").startswith("<section")
    res = runner.invoke(app, [*args[:3], "--group", "nope", "--json", str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "column nope" in res.output
    assert not (tmp_path / "x.json").exists()


def test_result_is_json_ready(results: dict) -> None:
    for data in results.values():
        text = json.dumps(data, allow_nan=False)
        assert math.isfinite(json.loads(text)["groups"][1]["difference_logit"])


def test_bad_rows_name_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "group,unit,selected,reference,outcome\nA,x,1,0,1\nB,x,1,0,maybe\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match="true/false") as info:
        threshold_test(path, "group", "unit")
    assert (info.value.source, info.value.row, info.value.column) == (str(path), 2, "outcome")
    table = synthesize_thresholds("base-rate", 200, seed=0)
    selected = pc.cast(table["selected"], pa.int64()).to_pylist()
    selected[2] = 2
    bad = table.set_column(table.schema.get_field_index("selected"), "selected", pa.array(selected))
    with pytest.raises(DataError, match="true/false") as info:
        threshold_test(bad, "group", "unit")
    assert (info.value.source, info.value.row, info.value.column) == ("<table>", 3, "selected")
    units = table["unit"].to_pylist()
    units[9] = None
    bad = table.set_column(table.schema.get_field_index("unit"), "unit", pa.array(units))
    with pytest.raises(DataError, match="missing value") as info:
        threshold_test(bad, "group", "unit")
    assert (info.value.row, info.value.column) == (10, "unit")


@pytest.mark.parametrize(
    ("threshold_ci", "hit_ci", "base_ci", "expected"),
    [
        ((-0.9, -0.3), (-0.1, -0.05), (0.2, 0.3), "lower_threshold"),
        ((0.1, 0.4), (-0.1, -0.05), (0.2, 0.3), "higher_threshold"),
        ((-0.2, 0.2), (0.05, 0.1), (0.35, 0.45), "base_rates"),
        ((-2.4, 0.3), (-0.1, -0.05), (0.18, 0.26), "undetermined"),
        ((-0.2, 0.2), (-0.01, 0.02), (0.35, 0.45), "no_difference"),
        ((math.nan, math.nan), (-0.1, -0.05), (0.2, 0.3), "not_estimable"),
    ],
)
def test_verdict_words_what_the_intervals_allow(
    threshold_ci: tuple, hit_ci: tuple, base_ci: tuple, expected: str
) -> None:
    from waarborg.selectivity.threshold import _verdict

    g = {"difference_logit_ci": threshold_ci, "hit_rate_difference_ci": hit_ci}
    assert _verdict(g | {"base_rate_ci": base_ci}, (0.2, 0.25)) == expected


def test_package_exports_the_threshold_test() -> None:
    import waarborg.selectivity as package
    from waarborg.selectivity import threshold

    for name in ("threshold_test", "ThresholdResult", "GroupThreshold"):
        assert name in package.__all__
        assert getattr(package, name) is getattr(threshold, name)
