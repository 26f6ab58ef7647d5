"""Honest intervals for published (rounded, suppressed) cubes: simulation and references."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special
from sklearn.metrics import roc_auc_score

from waarborg.audit import audit, build_cube
from waarborg.audit.cube import Cube
from waarborg.audit.disclosure import Rules, count_box, export_cube, with_hidden_cells
from waarborg.audit.envelope import Span, auc_range, intercept_interval, mean_range
from waarborg.audit.stats import auc_from_counts
from waarborg.audit.validity import _deciles
from waarborg.errors import DataError

ROLES = {"score": "p", "outcome": "y", "band": "band", "group": ["sex", "origin"]}


def _cases(n: int, rng: np.random.Generator, digits: int | None = None) -> pd.DataFrame:
    """Cases with a small group (origin 'other', about 4 %) and a score (continuous, or
    rounded to ``digits`` decimals)."""
    sex = rng.choice(["female", "male"], n)
    origin = rng.choice(["dutch", "western", "non_western", "other"], n, p=[0.6, 0.2, 0.16, 0.04])
    lin = -1.1 + 0.8 * (origin == "non_western") + 0.3 * (sex == "male") + rng.normal(0, 1, n)
    p = special.expit(lin)
    if digits is not None:
        p = np.clip(np.round(p, digits), 0.05, 0.95)
    y = (rng.random(n) < special.expit(lin + rng.normal(0, 0.3, n))).astype(np.int64)
    band = np.where(p < 0.25, "laag", np.where(p < 0.5, "midden", "hoog"))
    return pd.DataFrame({"sex": sex, "origin": origin, "p": p, "y": y, "band": band})


def _leaves(truth: Any, got: Any, path: str = "") -> Iterator[tuple[str, dict, dict]]:
    """Every estimate with an interval in ``truth`` and the same one in ``got``."""
    if isinstance(truth, dict):
        if "value" in truth and "ci" in truth:
            yield path, truth, got
            return
        for key, value in truth.items():
            if key not in ("verdicts", "validity_verdicts", "flags", "roc", "calibration_deciles"):
                yield from _leaves(value, (got or {}).get(key), f"{path}.{key}")
    elif isinstance(truth, list) and isinstance(got, list):
        for row in truth:
            if isinstance(row, dict) and "label" in row:
                found = [r for r in got if r["label"] == row["label"]]
                yield from _leaves(row, found[0] if found else None, f"{path}[{row['label']}]")


def _holds(value: float, ci: list[float | None]) -> bool:
    low, high = ci
    tol = 1e-9 * max(1.0, abs(value))
    return (low is None or low <= value + tol) and (high is None or value <= high + tol)


def _decile_truth(true: Cube, published: Cube) -> dict[str, tuple[float, float]]:
    """Observed rate and O/E per published decile, from the true cube's cells.

    The published table cuts its deciles at the published counts; the estimand is the
    same cut applied to the true cases."""
    cells_true = true.cells()
    cells_pub = with_hidden_cells(published).cells()
    np.testing.assert_array_equal(cells_true.score_keys, cells_pub.score_keys)
    deciles = _deciles(cells_pub.crosstab((cells_pub.score, cells_pub.score_keys.size)))
    rows = (deciles[cells_true.score], int(deciles.max()) + 1)
    n = cells_true.crosstab(rows)
    events = cells_true.crosstab(rows, weights=cells_true.count * cells_true.outcome)
    expected = cells_true.crosstab(rows, weights=cells_true.score_sum)
    return {f"decile {d + 1}": (events[d] / n[d], events[d] / expected[d]) for d in range(n.size)}


def _replicate(seed: int) -> tuple[int, list[str]]:
    """One data set, its true cube, a published version; (statistics checked, misses)."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([600, 1500, 4000, 12000]))
    method = ("nearest", "random")[seed % 2]
    minimum = (1, 10)[(seed // 2) % 2]
    quantile = seed % 5 == 0  # else an exact score of at most 10 values
    cases = _cases(n, rng, None if quantile else 1)
    true = build_cube(cases, **ROLES, select="hoog", n_bins=8 if quantile else 10)
    rules = Rules(min_frequency=minimum, rounding={"base": 10, "method": method}, seed=seed)
    published = export_cube(true, rules)
    options = {"select": "hoog", "intersections": True, "seed": seed}
    got = audit(published.to_arrow(), **options).to_dict()
    # the same comparisons: the published audit's reference groups (its largest groups)
    truth = audit(true.to_arrow(), **options, reference=got["reference"]).to_dict()
    checked, misses = 0, []
    for path, t, g in _leaves(truth, got):
        if t["value"] is None:
            continue
        checked += 1
        if g is None or g["value"] is None:
            continue  # the published cube has no estimate here (a group all suppressed)
        if not (_holds(t["value"], g["ci"]) and g.get("ci_rounding")):
            misses.append(f"seed {seed} {path}: {t['value']} not in {g['ci']}")
        for p in ("p_value", "p_adjusted"):  # honest tests: never more significant
            if t.get(p) is not None and g.get(p) is not None and g[p] < t[p] - 1e-12:
                misses.append(f"seed {seed} {path}: {p} {g[p]} below the true {t[p]}")
    deciles = _decile_truth(true, published)
    for row in got["validity"]["calibration_deciles"]:
        rate, oe = deciles[row["label"]]
        checked += 2
        for name, value in (("observed_rate", rate), ("oe", oe)):
            if not _holds(value, row[name]["ci"]):
                misses.append(f"seed {seed} decile {row['label']} {name}: {value}")
    return checked, misses


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 10, 20, 30, 40])
def test_published_intervals_hold_the_estimate_from_the_unrounded_data(first: int) -> None:
    """50 data sets (five runs of 10; 600 to 12,000 cases, a 4 % group, intersections;
    exact scores, every fifth quantile bins), each published rounded to 10 (nearest or
    random), with or without suppression of cells < 10: every interval the audit of the
    published cube reports holds the estimate from the true cube (rates, shares,
    representation, differences, ratios, AUC and its differences, calibration tables,
    intercept, slope, Brier score, n), and no p-value (raw or Holm-adjusted) is smaller
    than the true cube's."""
    checked, misses = 0, []
    for seed in range(first, first + 10):
        c, m = _replicate(seed)
        checked += c
        misses += m
    assert checked > 10 * 150
    assert not misses, "\n".join(misses[:20])


def test_a_plain_cube_is_not_widened(monkeypatch: pytest.MonkeyPatch) -> None:
    published = importlib.import_module("waarborg.audit.published")

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("widen ran for a plain cube")

    monkeypatch.setattr(published, "widen", fail)
    cube = build_cube(_cases(2000, np.random.default_rng(1)), **ROLES, select="hoog", n_bins=8)
    result = audit(cube.to_arrow(), select="hoog").to_json()
    assert "ci_rounding" not in result
    assert not any(f["kind"] == "disclosure" for f in audit(cube.to_arrow())["flags"])


def test_widening_of_a_large_cube_is_modest() -> None:
    """100,000 cases, 10 score bins, rounded to the nearest 10: the AUC interval widens
    by less than 0.01 and the overall selection rate's by less than 0.01 (figures in
    docs/audit.md)."""
    cube = build_cube(_cases(100_000, np.random.default_rng(7)), **ROLES, select="hoog", n_bins=10)
    published = export_cube(cube, Rules(min_frequency=1))
    got = audit(published.to_arrow(), select="hoog").to_dict()
    plain = audit(_plain(published), select="hoog").to_dict()

    def widening(pick: Any) -> float:
        (low, high), (p_low, p_high) = pick(got)["ci"], pick(plain)["ci"]
        return (high - low) - (p_high - p_low)

    auc = widening(lambda r: r["validity"]["auc"])
    assert 0 < auc < 0.01
    assert 0 < widening(lambda r: r["overall"]["selection_rate"]) < 0.01
    assert got["validity"]["auc"]["value"] == plain["validity"]["auc"]["value"]


def _plain(cube: Cube) -> Any:
    meta = {k: v for k, v in cube.meta.items() if k != "disclosure"}
    return Cube(cube.table, cube.roles, meta).to_arrow()


@pytest.mark.parametrize("method", ["nearest", "random"])
def test_export_bounds_every_suppressed_cell(method: str) -> None:
    """The export lists every suppressed cell with an upper bound its true count obeys,
    and every published count's box holds the true count."""
    true = build_cube(_cases(3000, np.random.default_rng(2), 1), **ROLES, n_bins=10)
    published = export_cube(true, Rules(rounding={"method": method}, seed=3))
    done = published.meta["disclosure"]
    hidden = pd.DataFrame(done["hidden"]["keys"]).assign(upper=done["hidden"]["upper"])
    assert len(hidden) == done["suppressed"] > 0
    keys = list(done["hidden"]["keys"])
    joined = hidden.merge(true.table.to_pandas(), on=keys, how="left", validate="1:1")
    assert (joined["count"] <= joined["upper"]).all() and (joined["count"] >= 1).all()
    box = count_box(with_hidden_cells(published))
    shown = published.table.to_pandas().merge(true.table.to_pandas(), on=keys, how="left")
    size, count = len(shown), shown["count_y"]
    assert ((box.low[:size] <= count) & (count <= box.high[:size])).all()


def test_an_older_export_without_listed_cells_says_so() -> None:
    true = build_cube(_cases(3000, np.random.default_rng(2), 1), **ROLES, select="hoog", n_bins=10)
    published = export_cube(true, Rules())
    older = published.meta["disclosure"].copy()
    older.pop("hidden")
    older_cube = Cube(published.table, published.roles, published.meta | {"disclosure": older})
    result = audit(older_cube.to_arrow(), select="hoog")
    flag = next(f for f in result["flags"] if f["kind"] == "disclosure")
    assert "no interval includes them" in flag["text_en"]
    assert "geen interval omvat ze" in flag["text_nl"]
    assert result["validity"]["auc"]["ci_rounding"] is True


def test_published_cubes_are_not_merged() -> None:
    """Merging would sum rounded counts and drop the suppressed cells' bounds."""
    true = build_cube(_cases(500, np.random.default_rng(2), 1), **ROLES, n_bins=10)
    published = export_cube(true, Rules(min_frequency=1))
    with pytest.raises(DataError, match="output control"):
        audit([published.to_arrow(), true.to_arrow()])


# --------------------------------------------------------------------------- envelopes


def _whole(span: Span) -> Iterator[tuple[int, ...]]:
    """Every vector of whole counts in the box."""
    ranges = (range(int(a), int(b) + 1) for a, b in zip(span.low, span.high, strict=True))
    return itertools.product(*ranges)


def test_auc_range_is_the_exact_extreme_over_a_small_box() -> None:
    """Every integer cube of a small box: the smallest and largest AUC match."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        pos_low, neg_low = rng.integers(0, 4, 3).astype(float), rng.integers(0, 4, 3).astype(float)
        pos = Span(pos_low, pos_low + rng.integers(0, 3, 3))
        neg = Span(neg_low, neg_low + rng.integers(0, 3, 3))
        values = [
            float(auc_from_counts(np.array(p, float), np.array(q, float)).auc)
            for p in _whole(pos)
            for q in _whole(neg)
            if sum(p) > 0 and sum(q) > 0
        ]
        found = auc_range(pos, neg, 0.95)
        assert found.low == pytest.approx(min(values), abs=1e-12)
        assert found.high == pytest.approx(max(values), abs=1e-12)


def test_auc_range_without_slack_is_sklearns_auc() -> None:
    rng = np.random.default_rng(4)
    bins = rng.integers(0, 6, 500)
    y = (rng.random(500) < bins / 6).astype(int)
    pos, neg = np.bincount(bins[y == 1], minlength=6), np.bincount(bins[y == 0], minlength=6)
    found = auc_range(Span(pos * 1.0, pos * 1.0), Span(neg * 1.0, neg * 1.0), 0.95)
    assert found.low == pytest.approx(roc_auc_score(y, bins), abs=1e-12)
    assert found.high == pytest.approx(roc_auc_score(y, bins), abs=1e-12)


def test_mean_range_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    values = rng.random(4)
    low = rng.integers(0, 3, 4).astype(float)
    weights = Span(low, low + rng.integers(0, 3, 4))
    means = [float(np.dot(w, values) / sum(w)) for w in _whole(weights) if sum(w) > 0]
    found = mean_range(Span(values, values), weights)
    assert found[0] == pytest.approx(min(means)) and found[1] == pytest.approx(max(means))


def test_intercept_without_slack_is_statsmodels() -> None:
    """At a box of width zero the intercept interval is statsmodels' GLM (offset) Wald
    interval; with slack it is wider on both sides."""
    rng = np.random.default_rng(6)
    mean = np.array([0.1, 0.2, 0.35, 0.5, 0.7, 0.1, 0.2, 0.35, 0.5, 0.7])
    y = np.repeat([0.0, 1.0], 5)
    cases = rng.integers(20, 80, 10).astype(float)
    cases[5:] = np.round(cases[:5] * mean[5:] / (1 - mean[5:]))
    low, high = intercept_interval(y, Span(cases, cases), Span(mean, mean), 0.95)
    fit = sm.GLM(
        y,
        np.ones((10, 1)),
        family=sm.families.Binomial(),
        offset=special.logit(mean),
        freq_weights=cases,
    ).fit()
    ref_low, ref_high = fit.conf_int()[0]
    assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-8)
    wide = intercept_interval(y, Span(cases - 5, cases + 4), Span(mean, mean), 0.95)
    assert wide[0] < low and wide[1] > high
