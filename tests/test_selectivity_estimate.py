"""Selectivity estimates, cross-checked against direct computation and by simulation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from waarborg.selectivity import SelectivityResult, selection_counts, selectivity_report
from waarborg.selectivity.estimate import domain_estimates
from waarborg.synth.selectivity import Scenario, planted, selection_table, simulate_counts


@pytest.fixture(scope="module")
def table() -> pa.Table:
    scenario = Scenario(n=20_000, reference_share=0.05, missing=0.05)
    return selection_table(scenario, seed=11)


@pytest.fixture(scope="module")
def frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _counts(df: pd.DataFrame, mask: pd.Series) -> tuple[int, int]:
    known = df.loc[mask, "outcome"].dropna()
    return int(known.sum()), int(known.size)


def test_hit_rate_and_not_selected_are_wilson_as_statsmodels(
    table: pa.Table, frame: pd.DataFrame
) -> None:
    res = selectivity_report(table, ["group"])
    for g, row in res["by_group"]["group"].items():
        in_g = frame["group"] == g
        hits, checked = _counts(frame, in_g & frame["selected"])
        assert row["hit_rate"]["value"] == pytest.approx(hits / checked)
        assert row["hit_rate"]["ci"] == pytest.approx(
            list(proportion_confint(hits, checked, method="wilson"))
        )
        y, m = _counts(frame, in_g & ~frame["selected"] & frame["reference"])
        assert row["prevalence_not_selected"]["value"] == pytest.approx(y / m)
        assert row["prevalence_not_selected"]["ci"] == pytest.approx(
            list(proportion_confint(y, m, method="wilson"))
        )


def test_prevalence_and_lift_are_the_stratified_estimates(
    table: pa.Table, frame: pd.DataFrame
) -> None:
    res = selectivity_report(table, ["group"])
    for g, row in res["by_group"]["group"].items():
        in_g = frame["group"] == g
        w = frame.loc[in_g, "selected"].mean()
        hits, checked = _counts(frame, in_g & frame["selected"])
        y, m = _counts(frame, in_g & ~frame["selected"] & frame["reference"])
        p = w * hits / checked + (1 - w) * y / m
        assert row["prevalence"]["value"] == pytest.approx(p)
        assert row["lift"]["value"] == pytest.approx(hits / checked / p)
        assert row["recall"]["value"] == pytest.approx(w * hits / checked / p)
        assert row["checks_per_outcome"]["value"] == pytest.approx(checked / hits)
        table_2x2 = [[hits, checked - hits], [y, m - y]]
        chi2 = stats.chi2_contingency(table_2x2, correction=False)
        assert row["lift"]["p"] == pytest.approx(chi2.pvalue)  # H0: lift 1, i.e. h = q
    # overall: post-stratified on the groups' not-selected sizes
    w_all = frame["selected"].mean()
    hits, checked = _counts(frame, frame["selected"])
    rest = 0.0
    for g in ("A", "B"):
        not_sel = (frame["group"] == g) & ~frame["selected"]
        y, m = _counts(frame, not_sel & frame["reference"])
        rest += not_sel.mean() * y / m
    assert res["overall"]["prevalence"]["value"] == pytest.approx(w_all * hits / checked + rest)
    assert res["overall"]["poststratified"]


def test_outcome_test_matches_statsmodels_and_scipy(table: pa.Table, frame: pd.DataFrame) -> None:
    multi = Scenario(
        n=20_000,
        shares={"A": 0.5, "B": 0.3, "C": 0.2},
        prevalence={"A": 0.1, "B": 0.1, "C": 0.12},
        selection_rate={"A": 0.1, "B": 0.2, "C": 0.1},
    )
    data = selection_table(multi, seed=3)
    df = data.to_pandas()
    res = selectivity_report(data, ["group"], reference_group="group=A")
    rows = res["by_group"]["group"]
    y_ref, k_ref = _counts(df, (df["group"] == "A") & df["selected"])
    raw = []
    for g in ("B", "C"):
        y, k = _counts(df, (df["group"] == g) & df["selected"])
        diff = rows[g]["hit_rate_difference"]
        low, high = confint_proportions_2indep(y, k, y_ref, k_ref, method="newcomb")
        assert diff["ci"] == pytest.approx([low, high])
        chi2 = stats.chi2_contingency([[y, k - y], [y_ref, k_ref - y_ref]], correction=False)
        assert diff["p"] == pytest.approx(chi2.pvalue)
        raw.append(chi2.pvalue)
    adjusted = multipletests(raw, method="holm")[1]
    assert [rows[g]["hit_rate_difference"]["p_holm"] for g in ("B", "C")] == pytest.approx(
        list(adjusted)
    )
    assert res["outcome_test"]["k"] == 2 and rows["A"]["reference"]


def test_shares_and_ratios_against_direct_computation(table: pa.Table, frame: pd.DataFrame) -> None:
    res = selectivity_report(table, ["group"], reference_group={"group": "A"})
    rows = res["by_group"]["group"]
    sel = frame.groupby("group")["selected"].agg(["sum", "size"])
    assert rows["B"]["share_selected"]["value"] == pytest.approx(
        sel.loc["B", "sum"] / sel["sum"].sum()
    )
    assert rows["B"]["share_all"]["value"] == pytest.approx(sel.loc["B", "size"] / len(frame))
    rate = sel["sum"] / sel["size"]
    assert rows["B"]["selection_ratio"]["value"] == pytest.approx(rate["B"] / rate["A"])
    h = {g: rows[g]["hit_rate"]["value"] for g in ("A", "B")}
    assert rows["B"]["burden_ratio"]["value"] == pytest.approx(h["A"] / h["B"])
    assert rows["B"]["extra_checks"]["value"] == pytest.approx(1 / h["B"] - 1 / h["A"])
    outcome_share = sum(rows[g]["share_outcome"]["value"] for g in ("A", "B"))
    assert outcome_share == pytest.approx(1.0)
    expected = rows["B"]["share_all"]["value"] * rows["B"]["prevalence"]["value"]
    total = sum(rows[g]["share_all"]["value"] * rows[g]["prevalence"]["value"] for g in "AB")
    assert rows["B"]["share_outcome"]["value"] == pytest.approx(expected / total)


def test_planted_disparity_is_found_with_the_right_size() -> None:
    # One seeded period; that each interval covers 95% of the time is what the coverage
    # tests below show (and docs/selectivity.md reports for the report's other intervals).
    scenario = Scenario(n=40_000, reference_share=0.05)
    truth, plant = scenario.truth(), planted(scenario)
    res = selectivity_report(selection_table(scenario, seed=1), ["group"])
    b = res["by_group"]["group"]["B"]
    low, high = b["selection_ratio"]["ci"]
    assert low <= plant["selection_ratio"] <= high and low > 1
    low, high = b["burden_ratio"]["ci"]
    assert low <= plant["burden_ratio"] <= high and low > 1
    low, high = res["overall"]["lift"]["ci"]
    assert low <= plant["lift"] <= high
    for g in ("A", "B"):
        row = res["by_group"]["group"][g]
        for key in ("lift", "prevalence", "hit_rate", "recall"):
            low, high = row[key]["ci"]
            assert low <= truth[g][key] <= high, (g, key)
    low, high = b["prevalence_difference"]["ci"]
    assert low < 0 < high  # same prevalence: no difference found


COVERAGE_SCENARIOS = {
    "planted disparity": Scenario(n=10_000, reference_share=0.05),
    "rare outcome, 2% share, missing": Scenario(
        n=20_000, reference_share=0.02, missing=0.1, prevalence={"A": 0.05, "B": 0.15}
    ),
    "small period": Scenario(n=2_000, reference_share=0.1, concentration=10),
}


@pytest.mark.parametrize("name", list(COVERAGE_SCENARIOS))
def test_coverage_of_lift_and_prevalence_intervals(name: str) -> None:
    scenario = COVERAGE_SCENARIOS[name]
    truth = scenario.truth()
    groups = scenario.groups
    membership = np.vstack([np.ones((1, len(groups)), bool), np.eye(len(groups), dtype=bool)])
    est = domain_estimates(simulate_counts(scenario, 4_000, seed=7), membership)
    for key in ("lift", "prevalence", "prevalence_not_selected"):
        true = np.array([truth[g][key] for g in ("overall", *groups)])
        low, high = getattr(est, f"{key}_ci")
        coverage = np.mean((low <= true) & (true <= high), axis=0)
        assert np.all(coverage >= 0.94), (key, coverage)
        assert np.all(coverage <= 0.985), (key, coverage)  # not uselessly wide


def test_reference_share_given_is_compared_with_the_realised(
    table: pa.Table, frame: pd.DataFrame
) -> None:
    res = selectivity_report(table, ["group"], reference_share=0.05)
    share = res["design"]["reference_share"]
    k = int(frame["reference"].sum())
    assert share["realised"]["value"] == pytest.approx(k / len(frame))
    assert share["p_value"] == pytest.approx(stats.binomtest(k, len(frame), 0.05).pvalue)
    kinds = [n["kind"] for n in res["notes"]]
    assert "share_given" in kinds and "share_off" not in kinds and "mar" in kinds
    off = selectivity_report(table, ["group"], reference_share=0.10)
    assert "share_off" in [n["kind"] for n in off["notes"]]
    inferred = selectivity_report(table, ["group"])
    assert inferred["design"]["reference_share"]["inferred"]
    assert "share_inferred" in [n["kind"] for n in inferred["notes"]]


def test_aggregate_table_gives_the_same_report(table: pa.Table) -> None:
    rows = selectivity_report(table, ["group"]).to_dict()
    cube = selection_counts(table, ["group"]).to_table()
    aggregated = selectivity_report(cube, ["group"]).to_dict()
    rows.pop("rows"), aggregated.pop("rows")
    rows.pop("source"), aggregated.pop("source")
    assert aggregated == rows


def test_two_attributes_post_stratify_on_their_cells() -> None:
    rng = np.random.default_rng(2)
    base = selection_table(Scenario(n=8_000), seed=2)
    region = rng.choice(["noord", "zuid"], size=base.num_rows)
    data = base.append_column("region", pa.array(region))
    res = selectivity_report(data, ["group", "region"])
    df = data.to_pandas()
    hits, checked = _counts(df, df["selected"])
    rest = 0.0
    for (_, _), cell in df[~df["selected"]].groupby(["group", "region"]):
        known = cell.loc[cell["reference"], "outcome"].dropna()
        rest += len(cell) / len(df) * known.mean()
    expected = df["selected"].mean() * hits / checked + rest
    assert res["overall"]["prevalence"]["value"] == pytest.approx(expected)
    assert set(res["by_group"]) == {"group", "region"}
    assert res["outcome_test"]["k"] == 2  # one comparison per attribute


def test_no_hits_and_no_reference_are_handled() -> None:
    data = {
        "g": ["a"] * 60 + ["b"] * 60,
        "selected": [True] * 10 + [False] * 50 + [True] * 10 + [False] * 50,
        "reference": [False] * 10
        + [True] * 20
        + [False] * 30
        + [False] * 10
        + [True] * 20
        + [False] * 30,
        "outcome": [False] * 10
        + [True] * 2
        + [False] * 18
        + [None] * 30
        + [True] * 5
        + [False] * 5
        + [False] * 20
        + [None] * 30,
    }
    res = selectivity_report(data, ["g"])
    a = res["by_group"]["g"]["a"]
    assert a["lift"]["value"] == 0 and a["lift"]["ci"][0] == 0 and 0 < a["lift"]["ci"][1] < 10
    kinds = [n["kind"] for n in res["notes"]]
    assert "not_poststratified" not in kinds and "no_reference_group" not in kinds
    b = res["by_group"]["g"]["b"]
    assert b["prevalence_not_selected"]["value"] == 0 and b["lift"]["ci"][1] == pytest.approx(
        1 / (10 / 60)
    )
    none = selectivity_report({k: v[:60] for k, v in data.items()} | {"reference": [False] * 60})
    assert none["overall"]["prevalence"]["value"] is None
    assert "no_reference" in [n["kind"] for n in none["notes"]]


def test_empty_strata_add_nothing_and_strata_without_outcomes_are_not_estimable() -> None:
    everyone = {
        "selected": [True] * 10,
        "reference": [False] * 10,
        "outcome": [True] * 3 + [False] * 7,
    }
    res = selectivity_report(everyone)
    assert res["overall"]["prevalence"]["value"] == pytest.approx(0.3)  # all selected: p = h
    assert res["overall"]["prevalence"]["ci"] == pytest.approx(
        list(proportion_confint(3, 10, method="wilson"))
    )
    unknown = {
        "selected": [True] * 10 + [False] * 50,
        "reference": [False] * 10 + [True] * 20 + [False] * 30,
        "outcome": [None] * 10 + [True] * 2 + [False] * 18 + [None] * 30,
    }
    res = selectivity_report(unknown)  # selected cases but none with a known outcome
    assert res["overall"]["prevalence"]["value"] is None
    assert res["overall"]["prevalence_not_selected"]["value"] == pytest.approx(0.1)


def test_groups_without_reference_outcomes_are_named() -> None:
    data = {
        "g": ["a"] * 40 + ["b"] * 40,
        "selected": ([True] * 10 + [False] * 30) * 2,
        "reference": [False] * 10 + [True] * 20 + [False] * 10 + [False] * 40,
        "outcome": [True] * 4
        + [False] * 6
        + [True] * 2
        + [False] * 18
        + [None] * 10
        + [True] * 3
        + [False] * 7
        + [None] * 30,
    }
    res = selectivity_report(data, ["g"])
    assert res["by_group"]["g"]["b"]["prevalence"]["value"] is None
    notes = {n["kind"]: n for n in res["notes"]}
    assert "g=b" in notes["no_reference_group"]["text_en"]
    # b has no reference data, so the overall prevalence is not post-stratified either
    assert "all cases" in notes["not_poststratified"]["text_en"]
    assert "alle gevallen" in notes["not_poststratified"]["text_nl"]
    assert "overall" not in notes["not_poststratified"]["text_nl"]
    assert res["overall"]["prevalence"]["value"] is not None


def test_result_is_json_and_round_trips(table: pa.Table) -> None:
    res = selectivity_report(table, ["group"])
    text = res.to_json()
    assert json.loads(text) == json.loads(json.dumps(res.to_dict(), allow_nan=False))
    again = SelectivityResult.from_dict(json.loads(text))
    assert again.to_dict() == res.to_dict()
    nl = res.summary("nl")
    assert "Prevalentie in de populatie" in nl and "Prevalence" not in nl
    assert "," in nl.split("Lift ten opzichte van aselecte selectie")[1].splitlines()[0]
    assert "Lift over random selection" in res.summary("en")


def test_bad_options_are_refused(table: pa.Table) -> None:
    with pytest.raises(ValueError, match="reference share"):
        selectivity_report(table, ["group"], reference_share=1.5)
    with pytest.raises(ValueError, match="does not occur"):
        selectivity_report(table, ["group"], reference_group="group=Z")
    with pytest.raises(ValueError, match="not a group column"):
        selectivity_report(table, ["group"], reference_group="region=noord")
