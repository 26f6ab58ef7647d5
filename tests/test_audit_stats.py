"""Tests for waarborg.audit.stats against SciPy, statsmodels and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import association
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.rates import confint_poisson

from waarborg.audit import stats as stats_module
from waarborg.audit.stats import (
    auc_from_counts,
    benjamini_hochberg,
    bootstrap_interval,
    brier_from_counts,
    cramers_v,
    holm,
    logistic_recalibration,
    multinomial_bootstrap,
    newcombe_interval,
    poisson_ratio_interval,
    ratio_interval,
    roc_curve_from_counts,
    two_proportion_pvalue,
    wilson_interval,
)
from waarborg.audit.validity import ROC_POINTS, roc_points


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def _two_groups(rng: np.random.Generator, size: int = 200, n_max: int = 300):
    n1 = rng.integers(1, n_max, size)
    n2 = rng.integers(1, n_max, size)
    x1 = rng.binomial(n1, rng.uniform(0, 1, size))
    x2 = rng.binomial(n2, rng.uniform(0, 1, size))
    return x1, n1, x2, n2


def _rows(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return np.repeat(values, counts.astype(int))


# --------------------------------------------------------------------------- proportions


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(rng, confidence):
    n = rng.integers(1, 500, 300)
    x = rng.binomial(n, rng.uniform(0, 1, 300))
    x[:5], x[5:10] = 0, n[5:10]  # the boundaries
    low, high = wilson_interval(x, n, confidence)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_wilson_empty_group_is_nan_without_warning():
    with np.errstate(all="raise"):
        low, high = wilson_interval([0, 3], [0, 10])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert np.isfinite(low[1]) and np.isfinite(high[1])


def test_wilson_broadcasts():
    low, high = wilson_interval(np.array([[1], [2]]), np.array([10, 20, 30]))
    assert low.shape == high.shape == (2, 3)
    ref_low, _ = proportion_confint(2, 20, method="wilson")
    assert low[1, 1] == pytest.approx(ref_low, abs=1e-12)


@given(st.integers(0, 10_000), st.integers(1, 10_000), st.floats(0.5, 0.999))
def test_wilson_contains_phat_and_lies_in_unit_interval(x, n, confidence):
    x = min(x, n)
    low, high = wilson_interval(x, n, confidence)
    assert 0.0 <= low <= x / n <= high <= 1.0


def test_newcombe_matches_statsmodels(rng):
    x1, n1, x2, n2 = _two_groups(rng)
    x1[:3], x2[3:6] = 0, n2[3:6]
    low, high = newcombe_interval(x1, n1, x2, n2, 0.9)
    for i in range(len(x1)):
        ref = confint_proportions_2indep(
            x1[i], n1[i], x2[i], n2[i], compare="diff", method="newcomb", alpha=0.1
        )
        assert (low[i], high[i]) == pytest.approx(ref, abs=1e-12)


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_newcombe_contains_difference(x1, n1, x2, n2):
    x1, x2 = min(x1, n1), min(x2, n2)
    low, high = newcombe_interval(x1, n1, x2, n2)
    assert -1.0 <= low <= x1 / n1 - x2 / n2 <= high <= 1.0


def test_ratio_matches_statsmodels_log_and_koopman_score_for_zeros(rng):
    x1, n1, x2, n2 = _two_groups(rng)
    x1[:4], x2[2:6] = 0, 0  # includes both-zero cells
    x1[10], x2[11] = n1[10], n2[11]
    low, high = ratio_interval(x1, n1, x2, n2)
    for i in range(len(x1)):
        zero = x1[i] == 0 or x2[i] == 0
        kind = {"method": "score", "correction": False} if zero else {"method": "log"}
        with np.errstate(divide="ignore", invalid="ignore"):
            ref = confint_proportions_2indep(x1[i], n1[i], x2[i], n2[i], compare="ratio", **kind)
        if x1[i] == 0 and x2[i] == 0:
            ref = (0.0, np.inf)  # statsmodels: nan; every ratio is consistent with no events
        assert (low[i], high[i]) == pytest.approx(ref, rel=1e-8, abs=1e-9)


@given(st.integers(0, 60), st.integers(1, 60), st.integers(0, 60), st.integers(1, 60))
def test_ratio_interval_contains_its_estimate(x1, n1, x2, n2):
    x1, x2 = min(x1, n1), min(x2, n2)
    low, high = ratio_interval(x1, n1, x2, n2)
    estimate = np.inf if x2 == 0 and x1 > 0 else (x1 / n1) / (x2 / n2) if x2 else None
    assert 0.0 <= low <= high
    if estimate is not None:
        assert low <= estimate * (1 + 1e-9) and estimate <= high * (1 + 1e-9)
    if x1 == 0:
        assert low == 0.0
    if x2 == 0:
        assert high == np.inf


def test_ratio_katz_formula_by_hand():
    # Katz (1978): se of log RR = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 15 - 1 / 120)
    expected = np.exp(np.log((30 / 100) / (15 / 120)) + np.array([-1, 1]) * 1.959963984540054 * se)
    assert ratio_interval(30, 100, 15, 120) == pytest.approx(tuple(expected), rel=1e-12)


def test_ratio_empty_group_is_nan():
    low, high = ratio_interval([0, 1], [0, 10], [1, 0], [10, 0])
    assert np.all(np.isnan(low)) and np.all(np.isnan(high))


def test_two_proportion_z_branch_matches_statsmodels(rng):
    n1, n2 = rng.integers(100, 1000, 100), rng.integers(100, 1000, 100)
    x1 = rng.binomial(n1, rng.uniform(0.2, 0.8, 100))
    x2 = rng.binomial(n2, rng.uniform(0.2, 0.8, 100))
    pvalues = two_proportion_pvalue(x1, n1, x2, n2)
    for i in range(100):
        _, ref = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])
        assert pvalues[i] == pytest.approx(ref, rel=1e-9)


def test_two_proportion_fisher_branch_matches_scipy(rng):
    n1, n2 = rng.integers(1, 30, 100), rng.integers(1, 30, 100)
    x1, x2 = rng.binomial(n1, 0.1), rng.binomial(n2, 0.2)
    pvalues = two_proportion_pvalue(x1, n1, x2, n2)
    for i in range(100):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        expected = stats.contingency.expected_freq(table)
        if expected.min() < 5:
            ref = stats.fisher_exact(table).pvalue
        else:
            ref = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])[1]
        assert pvalues[i] == pytest.approx(ref, rel=1e-9)


def test_two_proportion_switches_on_expected_count_five():
    # expected events in group 1: 100 * 10/200 = 5 -> z; 100 * 9/200 = 4.5 -> Fisher
    at_five = two_proportion_pvalue(7, 100, 3, 100)
    assert at_five == pytest.approx(proportions_ztest([7, 3], [100, 100])[1], rel=1e-12)
    below = two_proportion_pvalue(7, 100, 2, 100)
    assert below == pytest.approx(stats.fisher_exact([[7, 93], [2, 98]]).pvalue, rel=1e-12)


def test_two_proportion_degenerate_cells():
    with np.errstate(all="raise"):
        p = two_proportion_pvalue([0, 50, 0], [50, 50, 0], [0, 60, 1], [60, 60, 10])
    assert p[0] == 1.0 and p[1] == 1.0 and np.isnan(p[2])
    assert np.ndim(two_proportion_pvalue(2, 10, 5, 10)) == 0


# --------------------------------------------------------------------------- multiplicity


@pytest.mark.parametrize(("ours", "method"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_adjustments_match_statsmodels(rng, ours, method):
    for size in (1, 2, 7, 50):
        p = rng.uniform(0, 1, size) ** 3
        if size > 2:
            p[1] = p[2]  # ties
        np.testing.assert_allclose(ours(p), multipletests(p, method=method)[1], rtol=1e-12)


@pytest.mark.parametrize(("ours", "method"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_adjustments_ignore_nan(rng, ours, method):
    p = rng.uniform(0, 0.2, (4, 5))
    p[0, 1] = p[3, 3] = np.nan
    adjusted = ours(p)
    assert adjusted.shape == p.shape
    assert np.isnan(adjusted[0, 1]) and np.isnan(adjusted[3, 3])
    valid = ~np.isnan(p)
    expected = multipletests(p[valid], method=method)[1]
    np.testing.assert_allclose(adjusted[valid], expected, rtol=1e-12)
    assert np.all(np.isnan(holm([np.nan, np.nan])))


p_lists = st.lists(st.floats(0, 1), min_size=1, max_size=30)


@given(p_lists)
def test_holm_at_least_raw_monotone_and_above_bh(p):
    p = np.array(p)
    adjusted, bh = holm(p), benjamini_hochberg(p)
    assert np.all(adjusted >= p) and np.all(adjusted <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0)
    assert np.all(bh >= p) and np.all(bh <= adjusted + 1e-15)


def test_pvalues_out_of_range_raise():
    with pytest.raises(ValueError, match="p-values"):
        holm([0.1, 1.5])


# --------------------------------------------------------------------------- AUC and ROC


def _delong_rows(scores_pos: np.ndarray, scores_neg: np.ndarray) -> tuple[float, float]:
    """Plain row-level DeLong: explicit pairwise comparisons, O(m*n)."""
    psi = (scores_pos[:, None] > scores_neg[None, :]) + 0.5 * (
        scores_pos[:, None] == scores_neg[None, :]
    )
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / len(scores_pos) + v01.var(ddof=1) / len(scores_neg)
    return float(psi.mean()), float(np.sqrt(var))


def _random_bins(rng: np.random.Generator, bins: int, size: int):
    shares_pos = rng.dirichlet(np.linspace(0.5, 3, bins))
    shares_neg = rng.dirichlet(np.linspace(3, 0.5, bins))
    pos = rng.multinomial(size, shares_pos)
    neg = rng.multinomial(2 * size, shares_neg)
    pos[rng.integers(bins)] = 0  # an empty bin
    return pos, neg


def test_auc_matches_sklearn_and_row_level_delong(rng):
    for bins in (2, 5, 12, 40):
        pos, neg = _random_bins(rng, bins, 150)
        scores = np.arange(bins, dtype=float)
        s_pos, s_neg = _rows(scores, pos), _rows(scores, neg)
        y = np.r_[np.ones(len(s_pos)), np.zeros(len(s_neg))]
        res = auc_from_counts(pos, neg)
        assert res.auc == pytest.approx(roc_auc_score(y, np.r_[s_pos, s_neg]), rel=1e-12)
        ref_auc, ref_se = _delong_rows(s_pos, s_neg)
        assert res.auc == pytest.approx(ref_auc, rel=1e-12)
        assert res.se == pytest.approx(ref_se, rel=1e-10)
        z = stats.norm.isf(0.025)
        assert res.ci[0] == pytest.approx(max(ref_auc - z * ref_se, 0), rel=1e-10)
        assert res.ci[1] == pytest.approx(min(ref_auc + z * ref_se, 1), rel=1e-10)


@pytest.mark.parametrize("block", [1 << 16, 16, 1])  # curves computed a few at a time
def test_auc_over_groups_in_one_call(rng, monkeypatch, block):
    monkeypatch.setattr(stats_module, "_CURVE_BLOCK", block)
    pos = np.stack([_random_bins(rng, 8, 60)[0] for _ in range(10)]).reshape(2, 5, 8)
    neg = np.stack([_random_bins(rng, 8, 60)[1] for _ in range(10)]).reshape(2, 5, 8)
    res = auc_from_counts(pos, neg)
    assert res.auc.shape == res.se.shape == res.ci[0].shape == (2, 5)
    for g in np.ndindex(2, 5):
        single = auc_from_counts(pos[g], neg[g])
        assert res.auc[g] == float(single.auc)  # the same arithmetic, row by row
        assert res.se[g] == float(single.se)
        y = np.r_[np.ones(pos[g].sum()), np.zeros(neg[g].sum())]
        scores = np.r_[_rows(np.arange(8.0), pos[g]), _rows(np.arange(8.0), neg[g])]
        assert res.auc[g] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert auc_from_counts(np.zeros((0, 8)), np.zeros((0, 8))).auc.shape == (0,)
    assert auc_from_counts(3, 4) == auc_from_counts([3], [4])  # a number: one bin, AUC 0.5


def test_auc_symmetries_and_degenerate_cases():
    pos, neg = np.array([1, 4, 0, 9]), np.array([7, 3, 2, 1])
    res, flipped = auc_from_counts(pos, neg), auc_from_counts(neg, pos)
    assert flipped.auc == pytest.approx(1 - res.auc) and flipped.se == pytest.approx(res.se)
    assert auc_from_counts(pos[::-1], neg[::-1]).auc == pytest.approx(1 - res.auc)
    with np.errstate(all="raise"):
        empty = auc_from_counts([0, 0], [3, 4])
        single = auc_from_counts([0, 1], [3, 4])
    assert np.isnan(empty.auc) and np.isnan(empty.se)
    assert single.auc == pytest.approx(0.5 * 4 / 7 + 3 / 7) and np.isnan(single.se)
    perfect = auc_from_counts([0, 5], [5, 0])
    assert perfect.auc == 1.0 and perfect.ci == (1.0, 1.0)


def test_roc_curve_matches_sklearn(rng):
    pos, neg = _random_bins(rng, 15, 100)
    neg[3] = pos[3] = 0  # a bin empty in both
    scores = np.arange(15, dtype=float)
    fpr, tpr = roc_curve_from_counts(pos, neg)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    y = np.r_[np.ones(pos.sum()), np.zeros(neg.sum())]
    ref_fpr, ref_tpr, _ = roc_curve(
        y, np.r_[_rows(scores, pos), _rows(scores, neg)], drop_intermediate=False
    )
    points = np.unique(np.c_[fpr, tpr], axis=0)
    np.testing.assert_allclose(points, np.unique(np.c_[ref_fpr, ref_tpr], axis=0), atol=1e-12)
    assert np.trapezoid(tpr, fpr) == pytest.approx(float(auc_from_counts(pos, neg).auc))


@pytest.mark.parametrize("bins", [2, 7, 100, 101, 1000, 1003])
def test_thinned_roc_points_lie_on_sklearn_curve(rng, bins):
    """``roc_points`` merges bins between the thresholds it keeps: the points are those
    of the full curve at ``ROC_POINTS`` evenly spread thresholds, each one on
    scikit-learn's curve, per group as for one curve.
    """
    pos, neg = np.stack([_random_bins(rng, bins, 400) for _ in range(3)], axis=1)
    full_fpr, full_tpr = roc_curve_from_counts(pos, neg)
    keep = np.unique(np.round(np.linspace(0, bins, ROC_POINTS)).astype(int))
    curves = roc_points(pos, neg)
    assert len(curves) == 3 and len(curves[0]["fpr"]) == min(bins + 1, ROC_POINTS)
    scores = np.arange(bins, dtype=float)
    for g, curve in enumerate(curves):
        assert curve == roc_points(pos[g], neg[g])
        assert curve["fpr"] == full_fpr[g, keep].tolist()
        assert curve["tpr"] == full_tpr[g, keep].tolist()
        y = np.r_[np.ones(pos[g].sum()), np.zeros(neg[g].sum())]
        ref_fpr, ref_tpr, _ = roc_curve(
            y, np.r_[_rows(scores, pos[g]), _rows(scores, neg[g])], drop_intermediate=False
        )
        fpr, tpr = (np.asarray(curve[k])[:, None] for k in ("fpr", "tpr"))
        on_curve = np.isclose(fpr, ref_fpr, atol=1e-12) & np.isclose(tpr, ref_tpr, atol=1e-12)
        assert on_curve.any(axis=1).all()
    with pytest.raises(ValueError, match="two ends"):
        roc_curve_from_counts(pos, neg, points=1)
    pos[0, 0] = -1  # a negative count merged with others would sum to >= 0: refused anyway
    with pytest.raises(ValueError, match="non-negative"):
        roc_points(pos, neg)


# --------------------------------------------------------------------------- calibration


def test_poisson_ratio_matches_statsmodels_and_exact_tails(rng):
    observed = rng.poisson(rng.uniform(0, 40, 100))
    observed[:3] = 0
    expected = rng.uniform(0.5, 40, 100)
    low, high = poisson_ratio_interval(observed, expected, 0.9)
    for i in range(100):
        ref = confint_poisson(observed[i], expected[i], method="exact-c", alpha=0.1)
        assert (low[i], high[i]) == pytest.approx(ref, rel=1e-8, abs=1e-12)
    # Garwood by definition: each tail of the Poisson at the bound is alpha/2
    pos = observed > 0
    np.testing.assert_allclose(stats.poisson.sf(observed[pos] - 1, low[pos] * expected[pos]), 0.05)
    np.testing.assert_allclose(stats.poisson.cdf(observed, high * expected), 0.05)
    assert np.all(low[~pos] == 0)


def test_poisson_ratio_zero_expected_is_nan():
    with np.errstate(all="raise"):
        low, high = poisson_ratio_interval([3, 0], [0.0, 0.0])
    assert np.all(np.isnan(low)) and np.all(np.isnan(high))


def _calibration_cells(rng: np.random.Generator, cells: int = 25):
    p = rng.uniform(0.03, 0.9, cells)
    lp = np.log(p / (1 - p))
    n = rng.integers(5, 80, cells)
    true_p = 1 / (1 + np.exp(-(0.3 + 0.7 * lp)))
    return lp, rng.binomial(n, true_p), n


def test_recalibration_matches_statsmodels_glm_on_rows(rng):
    lp, events, n = _calibration_cells(rng)
    res = logistic_recalibration(lp, events, n, confidence=0.9)
    x = _rows(lp, n)
    y = np.concatenate([np.r_[np.ones(e), np.zeros(k - e)] for e, k in zip(events, n, strict=True)])
    slope_fit = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit()
    offset_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=x).fit()
    assert res.slope == pytest.approx(slope_fit.params[1], rel=1e-8)
    assert res.slope_se == pytest.approx(slope_fit.bse[1], rel=1e-6)
    assert res.recalibration_intercept == pytest.approx(slope_fit.params[0], rel=1e-8)
    assert res.intercept == pytest.approx(offset_fit.params[0], rel=1e-8)
    assert res.intercept_se == pytest.approx(offset_fit.bse[0], rel=1e-6)
    np.testing.assert_allclose(res.slope_ci, slope_fit.conf_int(alpha=0.1)[1], rtol=1e-6)
    np.testing.assert_allclose(res.intercept_ci, offset_fit.conf_int(alpha=0.1)[0], rtol=1e-6)


def test_recalibration_over_groups_and_degenerate_fits(rng):
    cells = [_calibration_cells(rng, 10) for _ in range(3)]
    lp, events, n = (np.stack(parts) for parts in zip(*cells, strict=True))
    events[2] = 0  # no events at all: no finite maximum likelihood estimate
    with np.errstate(all="raise"):
        res = logistic_recalibration(lp, events, n)
    for g in range(2):
        single = logistic_recalibration(lp[g], events[g], n[g])
        assert res.slope[g] == pytest.approx(float(single.slope), rel=1e-9)
        assert res.intercept[g] == pytest.approx(float(single.intercept), rel=1e-9)
    assert np.isnan(res.slope[2]) and np.isnan(res.intercept[2]) and np.isnan(res.slope_se[2])
    one_score = logistic_recalibration([0.5, 0.5], [3, 4], [10, 10])
    assert np.isnan(one_score.slope) and np.isfinite(one_score.intercept)


def test_recalibration_recovers_perfect_calibration(rng):
    p = rng.uniform(0.05, 0.95, 40)
    n = np.full(40, 20_000)
    events = rng.binomial(n, p)
    res = logistic_recalibration(np.log(p / (1 - p)), events, n)
    assert abs(float(res.intercept)) < 4 * float(res.intercept_se)
    assert abs(float(res.slope) - 1) < 4 * float(res.slope_se)


def test_brier_matches_sklearn_on_rows(rng):
    prob = rng.uniform(0, 1, 30)
    n = rng.integers(0, 50, 30)
    events = rng.binomial(n, prob)
    y = np.concatenate([np.r_[np.ones(e), np.zeros(k - e)] for e, k in zip(events, n, strict=True)])
    ref = brier_score_loss(y, _rows(prob, n))
    assert brier_from_counts(prob, events, n) == pytest.approx(ref, rel=1e-12)
    with np.errstate(all="raise"):
        assert np.isnan(brier_from_counts([0.2], [0], [0]))
    with pytest.raises(ValueError, match="prob"):
        brier_from_counts([1.2], [1], [2])


# --------------------------------------------------------------------------- association


def test_cramers_v_matches_scipy(rng):
    for shape in [(2, 2), (3, 4), (6, 2), (5, 5)]:
        table = rng.integers(1, 60, shape)
        assert cramers_v(table) == pytest.approx(association(table, method="cramer"), rel=1e-12)


def test_cramers_v_batched_and_empty_margins(rng):
    tables = rng.integers(1, 40, (4, 3, 3))
    values = cramers_v(tables)
    for t, v in zip(tables, values, strict=True):
        assert v == pytest.approx(association(t, method="cramer"), rel=1e-12)
    padded = np.zeros((4, 3), dtype=int)
    padded[[0, 1, 3]] = tables[0]
    assert cramers_v(padded) == pytest.approx(values[0], rel=1e-12)
    with np.errstate(all="raise"):
        assert np.isnan(cramers_v([[5, 3], [0, 0]]))
    assert cramers_v([[10, 0], [0, 7]]) == pytest.approx(1.0)


# --------------------------------------------------------------------------- bootstrap


def test_multinomial_bootstrap_totals_mean_and_reproducibility(rng):
    counts = rng.integers(0, 200, (3, 2, 40))
    draws = multinomial_bootstrap(counts, 4000, seed=7)
    assert draws.shape == (4000, 3, 2, 40)
    assert np.all(draws.sum(axis=(1, 2, 3)) == counts.sum())
    total, share = counts.sum(), counts / counts.sum()
    tolerance = 5 * np.sqrt(total * share * (1 - share) / 4000) + 1e-9
    assert np.all(np.abs(draws.mean(axis=0) - counts) <= tolerance)
    np.testing.assert_array_equal(draws, multinomial_bootstrap(counts, 4000, seed=7))
    assert not np.array_equal(draws, multinomial_bootstrap(counts, 4000, seed=8))
    assert np.all(draws[:, counts == 0] == 0)


def test_bootstrap_interval_of_proportion_matches_wilson():
    counts = np.array([600, 1400])

    def share(c):
        return c[..., 0] / c.sum(axis=-1)

    low, high = bootstrap_interval(share, counts, n_resamples=4000, vectorized=True)
    w_low, w_high = wilson_interval(600, 2000)
    assert low == pytest.approx(float(w_low), abs=0.002)
    assert high == pytest.approx(float(w_high), abs=0.002)
    looped = bootstrap_interval(share, counts, n_resamples=200, seed=3)
    stacked = bootstrap_interval(share, counts, n_resamples=200, seed=3, vectorized=True)
    assert looped == pytest.approx(stacked)


def test_bootstrap_interval_of_auc_on_cube_matches_delong(rng):
    pos, neg = _random_bins(rng, 10, 400)
    res = auc_from_counts(pos, neg)

    def auc(c):
        return auc_from_counts(c[..., 0, :], c[..., 1, :]).auc

    # resampling the whole cube lets the number of positives vary, as row resampling does
    low, high = bootstrap_interval(auc, np.stack([pos, neg]), n_resamples=2000, vectorized=True)
    assert low == pytest.approx(float(res.ci[0]), abs=0.003)
    assert high == pytest.approx(float(res.ci[1]), abs=0.003)


# --------------------------------------------------------------------------- coverage


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p"), [(50, 0.3), (300, 0.07), (500, 0.03)])
def test_wilson_coverage(n, p):
    rng = np.random.default_rng(n)
    x = rng.binomial(n, p, 4000)
    low, high = wilson_interval(x, n)
    assert 0.93 <= np.mean((low <= p) & (p <= high)) <= 0.97


@pytest.mark.slow
def test_delong_coverage_on_discrete_distribution():
    rng = np.random.default_rng(1)
    shares_pos = np.array([0.05, 0.1, 0.1, 0.15, 0.2, 0.15, 0.15, 0.1])
    shares_neg = np.array([0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05])
    below = np.cumsum(shares_neg) - shares_neg
    true_auc = np.sum(shares_pos * (below + shares_neg / 2))  # exact, ties count 1/2
    pos = rng.multinomial(150, shares_pos, size=4000)
    neg = rng.multinomial(450, shares_neg, size=4000)
    res = auc_from_counts(pos, neg)
    assert abs(res.auc.mean() - true_auc) < 0.005
    assert 0.93 <= np.mean((res.ci[0] <= true_auc) & (true_auc <= res.ci[1])) <= 0.97


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: wilson_interval(-1, 10),
        lambda: wilson_interval(11, 10),
        lambda: wilson_interval(1, np.nan),
        lambda: newcombe_interval(1, 10, 12, 10),
        lambda: ratio_interval(1, -10, 1, 10),
        lambda: two_proportion_pvalue(5, 4, 1, 10),
        lambda: auc_from_counts([1, -1], [2, 2]),
        lambda: roc_curve_from_counts([1, 1], [-2, 2]),
        lambda: poisson_ratio_interval(-1, 2.0),
        lambda: poisson_ratio_interval(1, -2.0),
        lambda: logistic_recalibration([0.0], [5], [4]),
        lambda: brier_from_counts([0.5], [-1], [4]),
        lambda: cramers_v([[1, -1], [2, 2]]),
        lambda: multinomial_bootstrap([1, -1], 10),
    ],
)
def test_bad_counts_raise(call):
    with pytest.raises(ValueError, match=r"non-negative|cannot exceed"):
        call()


def test_other_bad_input_raises():
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 10, confidence=1.0)
    with pytest.raises(ValueError, match="whole"):
        multinomial_bootstrap([1.5, 2], 10)
    with pytest.raises(ValueError, match="whole"):
        two_proportion_pvalue(1.5, 10, 0, 10)
    with pytest.raises(ValueError, match="finite"):
        logistic_recalibration([np.inf], [1], [2])
    with pytest.raises(ValueError, match="two dimensions"):
        cramers_v([1, 2, 3])


@settings(max_examples=50)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=20), st.integers(0, 2**32 - 1))
def test_bootstrap_preserves_total_and_zero_cells(counts, seed):
    counts = np.array(counts)
    draws = multinomial_bootstrap(counts, 20, seed=seed)
    assert np.all(draws.sum(axis=1) == counts.sum())
    assert np.all(draws[:, counts == 0] == 0)
