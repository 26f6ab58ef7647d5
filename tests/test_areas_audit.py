"""The area audit: every figure against a direct computation, scikit-learn or SciPy."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from waarborg.areas import audit_areas, judge_criteria, residents_on_grid
from waarborg.areas.accuracy import Bootstrap, auc_by_period, measure, top_k_capture
from waarborg.areas.criteria import Goal, SuccessCriterion
from waarborg.areas.inputs import read_scored
from waarborg.areas.judge import status_of
from waarborg.audit.stats import auc_from_counts
from waarborg.errors import DataError
from waarborg.register.audits import missing_parts
from waarborg.register.conditions import AuditEvidence

START = dt.date(2025, 1, 6)
DAYS = 14


class City:
    """A small random city: scored table, incidents with history, residents, actions."""

    def __init__(self, cells: int = 60, periods: int = 12, history: int = 3, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.ids = np.array([f"c{i:03d}" for i in range(cells)])
        self.n_cells, self.n_periods, self.history = cells, periods, history
        rate = rng.gamma(0.6, 1.0, cells)
        self.counts = rng.poisson(rate, (history + periods, cells))
        self.score = rate[None, :] * rng.lognormal(0, 0.5, (periods, cells))
        self.score[:, :3] = 0.5  # ties in every period
        k = 6
        order = np.argsort(-self.score, axis=1, kind="stable")[:, :k]
        self.selected = np.zeros((periods, cells), bool)
        np.put_along_axis(self.selected, order, True, axis=1)
        self.expected = self.score * rate.mean() / self.score.mean()
        self.starts = [START + dt.timedelta(days=DAYS * p) for p in range(periods)]

    def scored(self) -> pa.Table:
        return pa.table(
            {
                "cell_id": np.tile(self.ids, self.n_periods),
                "period": np.repeat(np.array(self.starts, dtype="datetime64[D]"), self.n_cells),
                "score": self.score.ravel(),
                "expected_incidents": self.expected.ravel(),
                "selected": self.selected.ravel(),
                "contrib_history": np.zeros(self.score.size),
            }
        )

    def incidents(self, discovered_share: float = 0.0) -> pa.Table:
        period, cell = np.nonzero(self.counts)
        reps = self.counts[period, cell]
        period, cell = np.repeat(period, reps), np.repeat(cell, reps)
        rng = np.random.default_rng(5)
        first = np.datetime64(START) - DAYS * self.history
        time = (first + period * DAYS + rng.integers(0, DAYS, period.size)).astype("datetime64[s]")
        time = time + rng.integers(0, 86_400, period.size).astype("timedelta64[s]")
        source = np.where(rng.random(period.size) < discovered_share, "discovered", "reported")
        return pa.table(
            {
                "incident_id": np.arange(period.size),
                "time": time,
                "type": np.full(period.size, "burglary"),
                "source": source,
                "cell_id": self.ids[cell],
            }
        )

    @property
    def current(self) -> np.ndarray:
        return self.counts[self.history :]


@pytest.fixture(scope="module")
def city() -> City:
    return City()


@pytest.fixture(scope="module")
def result(city: City) -> dict[str, Any]:
    return audit_areas(city.scored(), city.incidents(), n_resamples=400).to_dict()


# --------------------------------------------------------------------------- accuracy


def test_hit_rate_pai_and_pei_per_period_match_a_direct_count(city: City, result: dict) -> None:
    per = result["accuracy"]["per_period"]
    for p in range(city.n_periods):
        captured = city.current[p][city.selected[p]].sum()
        total = city.current[p].sum()
        best = np.sort(city.current[p])[::-1][: city.selected[p].sum()].sum()
        area = city.selected[p].mean()
        assert per["captured"][p] == captured
        assert per["hit_rate"][p]["value"] == pytest.approx(captured / total)
        assert per["pai"][p]["value"] == pytest.approx(captured / total / area)
        assert per["pei"][p]["value"] == pytest.approx(captured / best)
    pooled = result["accuracy"]["pooled"]
    hit = (city.current * city.selected).sum() / city.current.sum()
    assert pooled["hit_rate"]["value"] == pytest.approx(hit)
    low, high = pooled["hit_rate"]["ci"]
    assert low < hit < high


def test_auc_per_period_matches_sklearn_and_delong_from_counts(city: City, result: dict) -> None:
    per = result["accuracy"]["per_period"]["auc"]
    for p in range(city.n_periods):
        y = city.current[p] > 0
        assert per[p]["value"] == pytest.approx(roc_auc_score(y, city.score[p]), abs=1e-12)
        _, bins = np.unique(city.score[p], return_inverse=True)
        pos = np.bincount(bins, weights=y)
        neg = np.bincount(bins, weights=~y)
        assert per[p]["se"] == pytest.approx(float(auc_from_counts(pos, neg).se), rel=1e-9)
    mean = np.mean([e["value"] for e in per])
    assert result["accuracy"]["pooled"]["auc"]["value"] == pytest.approx(mean)


def test_auc_undefined_without_incidents() -> None:
    auc, se = auc_by_period(np.array([[0.1, 0.2]]), np.array([[False, False]]))
    assert math.isnan(auc[0]) and math.isnan(se[0])


def test_calibration_overall_matches_scipy_garwood(city: City, result: dict) -> None:
    calibration = result["accuracy"]["calibration"]
    observed, expected = city.current.sum(), city.expected.sum()
    overall = calibration["overall"]
    assert overall["value"] == pytest.approx(observed / expected)
    low = stats.chi2.ppf(0.025, 2 * observed) / (2 * expected)
    high = stats.chi2.ppf(0.975, 2 * observed + 2) / (2 * expected)
    assert overall["ci"] == pytest.approx([low, high], rel=1e-9)
    assert sum(d["observed"] for d in calibration["deciles"]) == observed
    assert sum(d["n"] for d in calibration["deciles"]) == city.current.size


def test_jaccard_between_consecutive_selections(city: City, result: dict) -> None:
    jaccard = result["accuracy"]["per_period"]["jaccard"]
    assert jaccard[0] is None
    for p in range(1, city.n_periods):
        a, b = city.selected[p], city.selected[p - 1]
        assert jaccard[p] == pytest.approx((a & b).sum() / (a | b).sum())


# --------------------------------------------------------------------------- baselines


def _brute_capture(rank: np.ndarray, target: np.ndarray, k: int) -> float:
    """Average capture over every way of breaking the ties at the threshold."""
    order = np.sort(rank)[::-1]
    t = order[k - 1]
    above = np.flatnonzero(rank > t)
    tied = np.flatnonzero(rank == t)
    picks = list(itertools.combinations(tied, k - above.size))
    return float(np.mean([target[above].sum() + target[list(c)].sum() for c in picks]))


def test_top_k_capture_splits_ties_as_random_tie_breaking_would() -> None:
    rng = np.random.default_rng(3)
    rank = rng.integers(0, 4, (20, 9))
    target = rng.integers(0, 5, (20, 9))
    k = rng.integers(1, 9, 20)
    got = top_k_capture(rank, target, k)
    want = [_brute_capture(rank[p], target[p], int(k[p])) for p in range(20)]
    assert got == pytest.approx(want)


def test_baselines_use_only_the_past(city: City, result: dict) -> None:
    k = city.selected.sum(axis=1)
    last = result["baselines"]["last_period"]["per_period_hit_rate"]
    longrun = result["baselines"]["long_run"]["per_period_hit_rate"]
    for p in range(city.n_periods):
        row = city.history + p
        total = city.current[p].sum()
        prev = city.counts[row - 1]
        assert last[p] == pytest.approx(_brute_capture(prev, city.current[p], k[p]) / total)
        past = city.counts[:row].sum(axis=0)  # strictly before this period
        assert longrun[p] == pytest.approx(_brute_capture(past, city.current[p], k[p]) / total)
    random = result["baselines"]["random"]
    assert random["hit_rate"]["value"] == pytest.approx(city.selected.mean())


def test_baselines_need_history() -> None:
    c = City(history=0, periods=5)
    res = audit_areas(c.scored(), c.incidents(), n_resamples=100).to_dict()
    assert res["baselines"]["last_period"]["periods"] == 4
    assert res["baselines"]["last_period"]["per_period_hit_rate"][0] is None
    assert any(f["kind"] == "no_history" for f in res["flags"])


def test_difference_is_paired_over_the_same_periods(city: City, result: dict) -> None:
    b = result["baselines"]["last_period"]
    captured = (city.current * city.selected).sum(axis=1)
    base = np.array(b["per_period_hit_rate"]) * city.current.sum(axis=1)
    want = (captured - base).sum() / city.current.sum()
    assert b["difference"]["value"] == pytest.approx(want)
    gain = captured.sum() / base.sum() - 1
    assert b["gain"]["value"] == pytest.approx(gain)


def test_block_bootstrap_matches_scipy_for_iid_periods() -> None:
    rng = np.random.default_rng(0)
    num = rng.poisson(20, 60).astype(float)
    den = num + rng.poisson(60, 60)
    boot = Bootstrap(60, n_resamples=4000, block=1, seed=2)
    assert (boot.weights.sum(axis=1) == 60).all()
    est = boot.ratio(num, den)

    def ratio(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return a.sum(axis=axis) / b.sum(axis=axis)

    ref = stats.bootstrap(
        (num, den), ratio, paired=True, vectorized=True, method="percentile", random_state=4
    )
    low, high = est.interval(0.95)
    assert low == pytest.approx(ref.confidence_interval.low, abs=0.006)
    assert high == pytest.approx(ref.confidence_interval.high, abs=0.006)


# --------------------------------------------------------------------------- inputs


def test_row_order_does_not_matter(city: City) -> None:
    table = city.scored()
    shuffled = table.take(np.random.default_rng(0).permutation(table.num_rows))
    a, b = read_scored(table), read_scored(shuffled)
    assert a.fingerprint == b.fingerprint
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.selected, b.selected)


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        (lambda t: t.drop_columns(["score"]), "score", "missing column"),
        (lambda t: t.slice(1), "period", "not scored in period"),
        (lambda t: pa.concat_tables([t, t.slice(5, 1)]), "cell_id", "scored twice"),
    ],
)
def test_bad_scored_tables_name_the_column(
    city: City, change: Any, column: str, words: str
) -> None:
    with pytest.raises(DataError) as info:
        read_scored(change(city.scored()))
    assert info.value.column == column
    assert words in str(info.value)


def test_a_period_off_the_grid_is_an_error(city: City) -> None:
    table = city.scored()
    days = np.array(table.column("period").to_numpy(), dtype="datetime64[D]")
    days[days == days.max()] += 3
    table = table.set_column(1, "period", pa.array(days))
    with pytest.raises(DataError, match="not on the 14-day grid"):
        read_scored(table)


def test_unknown_incident_source_is_an_error(city: City) -> None:
    incidents = city.incidents()
    bad = pa.array(["reported"] * (incidents.num_rows - 1) + ["rumour"])
    incidents = incidents.set_column(3, "source", bad)
    with pytest.raises(DataError) as info:
        audit_areas(city.scored(), incidents, n_resamples=10)
    assert info.value.column == "source" and info.value.row == incidents.num_rows


def test_incidents_outside_are_counted_not_dropped(city: City) -> None:
    extra = pa.table(
        {
            "cell_id": ["nowhere", "c001"],
            "date": [START, START + dt.timedelta(days=DAYS * city.n_periods + 1)],
        }
    )
    incidents = pa.concat_tables(
        [
            city.incidents()
            .select(["cell_id", "time"])
            .rename_columns(["cell_id", "date"])
            .set_column(1, "date", pc_date(city.incidents())),
            extra,
        ]
    )
    res = audit_areas(city.scored(), incidents, n_resamples=10).to_dict()
    info = res["inputs"]["incidents"]
    assert info["unknown_cell"] == 1 and info["after_last_period"] == 1
    assert info["used"] == city.counts.sum()
    kinds = {f["kind"] for f in res["flags"]}
    assert {"unknown_cell", "after_last_period"} <= kinds


def pc_date(table: pa.Table) -> pa.Array:
    return pa.array(np.array(table.column("time").to_numpy(), dtype="datetime64[D]"))


def test_discovered_incidents_raise_the_feedback_warning(city: City) -> None:
    warned = audit_areas(city.scored(), city.incidents(0.3), n_resamples=10).to_dict()
    flag = next(f for f in warned["flags"] if f["kind"] == "feedback_loop")
    assert flag["discovered"] == warned["inputs"]["incidents"]["discovered_used"] > 0
    assert "Ensign" in flag["text_en"] and "ontdekt" in flag["text_nl"]
    quiet = audit_areas(city.scored(), city.incidents(0.0), n_resamples=10).to_dict()
    assert not any(f["kind"] == "feedback_loop" for f in quiet["flags"])


# --------------------------------------------------------------------------- exposure


def _residents(city: City) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 50, (city.n_cells, 3)).astype(float)
    counts[:, 0] += 100  # group "a" the largest
    table = pa.table(
        {
            "cell_id": np.repeat(city.ids, 3),
            "group": np.tile(["a", "b", "<b>c</b>"], city.n_cells),
            "residents": counts.ravel(),
        }
    )
    return table, counts


def test_exposure_shares_and_ratios(city: City) -> None:
    table, counts = _residents(city)
    res = audit_areas(city.scored(), city.incidents(), residents=table, n_resamples=300).to_dict()
    exposure = res["exposure"]
    assert exposure["reference"] == "a"
    names = ["<b>c</b>", "a", "b"]  # sorted order of the groups
    columns = {"a": 0, "b": 1, "<b>c</b>": 2}
    shares = {}
    for name in names:
        g = counts[:, columns[name]]
        per = city.selected.astype(float) @ g / g.sum()
        got = exposure["groups"][name]
        assert got["per_period"] == pytest.approx(per)
        assert got["share_selected"]["value"] == pytest.approx(per.mean())
        shares[name] = per.mean()
        ever = city.selected[: round(365.25 / DAYS)].any(axis=0) @ g / g.sum()
        assert exposure["years"][0]["at_least_once"][name] == pytest.approx(ever)
        weight = g / counts.sum(axis=1)
        attributed = (city.current * weight).sum()
        in_selected = (city.current * city.selected * weight).sum()
        assert got["incident_share_selected"]["value"] == pytest.approx(in_selected / attributed)
    ratio = exposure["groups"]["b"]["ratio"]
    assert ratio["value"] == pytest.approx(shares["b"] / shares["a"])
    assert ratio["ci"][0] <= ratio["value"] <= ratio["ci"][1]
    assert len(res["disparities"]) == 4 and res["tests"]["family_size"] == 4


def test_exposure_verdict_when_a_group_lives_in_the_hot_spots(city: City) -> None:
    hot = city.selected.mean(axis=0) > 0.5
    table = pa.table(
        {
            "cell_id": np.concatenate([city.ids, city.ids]),
            "group": np.repeat(["a", "b"], city.n_cells),
            "residents": np.concatenate([np.full(city.n_cells, 100.0), np.where(hot, 80.0, 1.0)]),
        }
    )
    res = audit_areas(city.scored(), city.incidents(), residents=table, n_resamples=300).to_dict()
    verdict = next(v for v in res["verdicts"] if v["metric"] == "exposure")
    assert verdict["significant"] and verdict["ratio"]["value"] > 2
    assert "keer zo vaak" in verdict["text_nl"]


def test_area_weighting_conserves_residents_and_splits_by_overlap() -> None:
    cells = np.array(
        [[x, y] for x in (0.0, 125.0, 250.0, 375.0) for y in (0.0, 125.0, 250.0, 375.0)]
    )
    on, off = residents_on_grid(np.array([[0.0, 0.0, 500.0]]), np.array([[160.0]]), cells, 125.0)
    assert on.ravel() == pytest.approx(np.full(16, 10.0)) and off[0] == pytest.approx(0)
    # a 100 m square at (100, 100) covers 25×25, 25×75, 75×25 and 75×75 of four cells
    on, off = residents_on_grid(
        np.array([[100.0, 100.0, 100.0]]), np.array([[100.0]]), cells, 125.0
    )
    got = {tuple(cells[i]): v for i, v in enumerate(on.ravel()) if v > 0}
    assert got == pytest.approx(
        {(0.0, 0.0): 6.25, (0.0, 125.0): 18.75, (125.0, 0.0): 18.75, (125.0, 125.0): 56.25}
    )
    squares = np.random.default_rng(0).uniform(-200, 600, (50, 2))
    squares = np.column_stack([squares, np.full(50, 100.0)])
    counts = np.random.default_rng(1).integers(0, 30, (50, 2)).astype(float)
    on, off = residents_on_grid(squares, counts, cells, 125.0)
    assert on.sum(axis=0) + off == pytest.approx(counts.sum(axis=0))


def test_statistics_office_squares_are_read(city: City) -> None:
    xy = pa.table(
        {
            "cell_id": city.ids,
            "x": 155_000.0 + 125.0 * (np.arange(city.n_cells) % 10),
            "y": 463_000.0 + 125.0 * (np.arange(city.n_cells) // 10),
        }
    )
    squares = pa.table(
        {
            "square": ["E1550N4630", "CRS28992RES100mN463100E155100"],
            "group": ["a", "a"],
            "residents": [100.0, 40.0],
        }
    )
    res = audit_areas(
        city.scored(),
        city.incidents(),
        residents=squares,
        cells=xy,
        square_size=100.0,
        n_resamples=20,
    ).to_dict()
    assert res["exposure"]["groups"]["a"]["residents"] == pytest.approx(140.0)
    assert res["inputs"]["residents"]["outside_grid"]["a"] == pytest.approx(0.0)
    with pytest.raises(DataError, match="E####N####") as info:
        audit_areas(
            city.scored(),
            city.incidents(),
            cells=xy,
            square_size=100.0,
            n_resamples=20,
            residents=squares.set_column(0, "square", pa.array(["X1", "E1550N4630"])),
        )
    assert info.value.row == 1 and info.value.column == "square"


# --------------------------------------------------------------------------- stops


def test_stops_count_actions_and_distinct_persons(city: City) -> None:
    rng = np.random.default_rng(9)
    n = 300
    period = rng.integers(0, city.n_periods, n)
    cell = rng.integers(0, city.n_cells, n)
    basis = rng.choice(["area_selection", "concrete_suspicion", "other"], n)
    person = rng.choice([f"p{i}" for i in range(40)], n)
    group = rng.choice(["x", "y"], n)
    actions = pa.table(
        {
            "cell_id": city.ids[cell],
            "time": (np.array(city.starts, dtype="datetime64[D]")[period] + 1).astype(
                "datetime64[s]"
            ),
            "basis": basis,
            "person": person,
            "group": group,
        }
    )
    res = audit_areas(city.scored(), city.incidents(), actions=actions, n_resamples=10).to_dict()
    stops = res["stops"]
    area = basis == "area_selection"
    assert stops["totals"]["area_selection"] == {
        "actions": int(area.sum()),
        "persons": len(set(person[area])),
    }
    for p in range(city.n_periods):
        mine = area & (period == p)
        assert stops["per_period"]["area_selection_actions"][p] == mine.sum()
        assert stops["per_period"]["area_selection_persons"][p] == len(set(person[mine]))
    assert stops["by_group"]["x"]["persons"] == len(set(person[area & (group == "x")]))
    outside = area & ~city.selected[period, cell]
    assert stops["area_selection_outside_selected_cells"] == outside.sum()


def test_unknown_action_basis_is_an_error(city: City) -> None:
    actions = pa.table({"cell_id": ["c001"], "time": [START], "basis": ["hunch"], "person": ["p1"]})
    with pytest.raises(DataError) as info:
        audit_areas(city.scored(), city.incidents(), actions=actions, n_resamples=10)
    assert info.value.column == "basis" and info.value.row == 1


# --------------------------------------------------------------------------- criteria


def test_status_needs_the_whole_interval_on_one_side() -> None:
    assert status_of(">=", 0.2, 0.2, 0.3) == "met"
    assert status_of(">=", 0.2, 0.1, 0.199) == "not_met"
    assert status_of(">=", 0.2, 0.19, 0.21) == "unknown"
    assert status_of("<=", 0.5, 0.1, 0.4) == "met"
    assert status_of("<=", 0.5, 0.6, 0.7) == "not_met"


def _criterion(metric: str, value: float, baseline: str | None = None) -> SuccessCriterion:
    return SuccessCriterion(
        metric=metric, value=value, baseline=baseline, description=metric, description_nl=metric
    )


def test_criteria_are_judged_with_their_interval(city: City) -> None:
    boot = Bootstrap(city.n_periods, 500, seed=0)
    acc = measure(city.score, city.selected, city.counts, city.history, boot)
    hit = acc.hit_rate()
    low, high = hit.interval(0.95)
    goal = Goal(
        statement="fewer burglaries",
        statement_nl="minder inbraken",
        success_criteria=(
            _criterion("hit_rate", low - 0.01),
            _criterion("hit_rate", high + 0.01),
            _criterion("hit_rate", hit.value),
            _criterion("pai", 1.0),
            _criterion("hit_rate_gain_over_baseline", 0.0, "random"),
            _criterion("hit_rate_gain_over_baseline", 0.1),
        ),
    )
    judged = judge_criteria(goal, acc)
    assert [j["status"] for j in judged] == ["met", "not_met", "unknown", "met", "met", "unknown"]
    assert judged[0]["estimate"]["ci"] == pytest.approx([low, high])
    assert "geen vergelijkingsbasis" in judged[5]["text_nl"]


def test_criteria_reach_the_conditions_evidence(city: City) -> None:
    goal = Goal(
        statement="s",
        statement_nl="s",
        success_criteria=(_criterion("pai", 1000.0), _criterion("auc", 0.5)),
    )
    res = audit_areas(city.scored(), city.incidents(), goal=goal, n_resamples=100).to_dict()
    assert [c["status"] for c in res["criteria"]] == ["not_met", "met"]
    assert missing_parts(res) == []
    evidence = AuditEvidence.of(res, "pre_deployment", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert [c.status for c in evidence.criteria] == ["not_met", "met"]
    assert evidence.criteria[0].necessity is False


# --------------------------------------------------------------------------- result and report


def test_json_is_strict_and_has_the_audit_parts(city: City, result: dict) -> None:
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text)["kind"] == "area_audit"
    assert result["validity"]["auc"]["se"] > 0
    assert result["n"] == {"value": 720, "cells": 60, "periods": 12}


def test_report_escapes_everything_from_files_and_is_self_contained(city: City) -> None:
    table, _ = _residents(city)
    goal = Goal(
        statement="<script>alert(1)</script>",
        statement_nl="<script>alert(1)</script>",
        success_criteria=(
            SuccessCriterion(
                metric="pai", value=2, description="<img src=x>", description_nl="<img src=x>"
            ),
        ),
    )
    xy = pa.table(
        {"cell_id": city.ids, "x": 125.0 * (np.arange(60) % 10), "y": 125.0 * (np.arange(60) // 10)}
    )
    res = audit_areas(
        city.scored(), city.incidents(0.2), residents=table, cells=xy, goal=goal, n_resamples=50
    )
    for lang in ("en", "nl"):
        page = res.to_html(lang)
        assert "<script" not in page and "<img" not in page and "<b>c</b>" not in page
        assert "&lt;b&gt;c&lt;/b&gt;" in page and "&lt;script&gt;" in page
        assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in page
        assert page.count("<svg") >= 3
    nl = res.to_html("nl")
    assert "Gebiedsaudit" in nl and "Trefkans" in nl and "Hit rate" not in nl
    assert "Accuracy" not in nl and "Baselines" not in nl
    hit = res["accuracy"]["pooled"]["hit_rate"]["value"]
    assert f"{hit * 100:.1f}".replace(".", ",") + "%" in nl
    text = res.summary("nl")
    assert "Succescriteria" in text and "ontdekt" in text
