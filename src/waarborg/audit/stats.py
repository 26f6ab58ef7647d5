"""Statistical primitives of the audit engine, computed from counts.

Every function here works on *counts* taken from the count cube (cases by
group x outcome x band or score bin), never on rows, so the cost is O(cells)
whatever the number of cases. Inputs may be scalars or numpy arrays and
broadcast against each other; functions over bins (AUC, ROC, Brier,
recalibration) work along the last axis, so a leading axis of groups is
handled in one call. Results are float arrays. An undefined result (0/0, an
empty group) is ``nan`` and never a warning.

Conventions (DESIGN.md section 4): Wilson intervals for proportions, Newcombe
for differences, log-scale (Katz) for ratios (Koopman's score interval where
a count is zero), DeLong for the AUC, multinomial
resampling of cells for the bootstrap, Holm or Benjamini-Hochberg across
comparisons.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

__all__ = [
    "AUCResult",
    "RecalibrationResult",
    "auc_from_counts",
    "benjamini_hochberg",
    "bootstrap_interval",
    "brier_from_counts",
    "cramers_v",
    "holm",
    "logistic_recalibration",
    "multinomial_bootstrap",
    "newcombe_interval",
    "poisson_ratio_interval",
    "ratio_interval",
    "roc_curve_from_counts",
    "two_proportion_pvalue",
    "wilson_interval",
]

FloatArray = NDArray[np.float64]
Interval = tuple[FloatArray, FloatArray]

_EXPECTED_MIN = 5.0  # Cochran's rule: below this expected count use Fisher's exact test
_MAX_ITER = 100
_TOL = 1e-10


# --------------------------------------------------------------------------- helpers


def _counts(
    x: ArrayLike, n: ArrayLike | None = None, *, name: str = "successes"
) -> tuple[FloatArray, FloatArray]:
    """Return ``x`` and ``n`` as float arrays after checking they are valid counts.

    Counts must be finite and non-negative, and ``x <= n`` when ``n`` is given.
    Without ``n``, the second array returned is ``x`` itself.
    """
    xa = _count_array(x, name)
    if n is None:
        return xa, xa
    na = _count_array(n, "n")
    if np.any(xa > na):
        raise ValueError(f"{name} cannot exceed n")
    return xa, na


def _count_array(values: ArrayLike, label: str) -> FloatArray:
    """``values`` as floats after checking they are finite and non-negative (integers
    are finite: only their sign is checked, in one pass).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biu":
        if arr.size and arr.min() < 0:
            raise ValueError(f"{label} must be finite, non-negative counts")
        return arr.astype(float)
    arr = np.asarray(arr, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{label} must be finite, non-negative counts")
    return arr


def _alpha(confidence: float) -> float:
    """Return ``1 - confidence`` after checking the level lies in (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return 1.0 - confidence


@functools.lru_cache(maxsize=64)
def _z(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level in (0, 1) (cached: an
    audit asks for it hundreds of times, and SciPy's ``isf`` costs ~1 ms a call).
    """
    return float(stats.norm.isf(_alpha(confidence) / 2.0))


# --------------------------------------------------------------------------- proportions


def wilson_interval(successes: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion.

    The Wilson interval inverts the score test, so it stays inside [0, 1] and
    keeps close to nominal coverage for small n and proportions near 0 or 1,
    where the Wald interval fails.

    Parameters
    ----------
    successes : array_like
        Number of successes (events) per group.
    n : array_like
        Number of trials per group; broadcasts with `successes`.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    low, high : ndarray
        Interval bounds; ``nan`` where ``n == 0``.

    Examples
    --------
    >>> low, high = wilson_interval(3, 10)
    >>> print(np.round([low, high], 4))
    [0.1078 0.6032]
    """
    x, n = _counts(successes, n)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = np.where((x == 0) & (n > 0), 0.0, np.clip(centre - half, 0.0, 1.0))  # exact at 0 and 1
    return low, np.where((x == n) & (n > 0), 1.0, np.clip(centre + half, 0.0, 1.0))


def newcombe_interval(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, confidence: float = 0.95
) -> Interval:
    """Newcombe hybrid score interval for a difference of proportions ``p1 - p2``.

    Newcombe's method 10 (1998) combines the two Wilson intervals, which gives
    good coverage for small groups and rates near 0 or 1.

    Parameters
    ----------
    x1, n1 : array_like
        Successes and trials in the first group.
    x2, n2 : array_like
        Successes and trials in the second (reference) group.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    low, high : ndarray
        Bounds for ``p1 - p2``; ``nan`` where either ``n`` is 0.

    Examples
    --------
    >>> low, high = newcombe_interval(30, 100, 15, 100)
    >>> print(np.round([low, high], 4))
    [0.0341 0.2615]
    """
    x1, n1 = _counts(x1, n1)
    x2, n2 = _counts(x2, n2)
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    low = p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def ratio_interval(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, confidence: float = 0.95
) -> Interval:
    """Interval for a ratio of proportions ``p1 / p2``: Katz, or Koopman's score at zero.

    Both counts positive: the log-scale (Katz) interval
    ``log(p1/p2) +/- z * sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)``, back-transformed.

    A zero count: the Katz interval is undefined, and adding 0.5 to the counts
    (Walter) gives an interval that excludes the estimate itself (a group without
    events gets ratio 0 but an interval above 0). There Koopman's score interval
    is used instead (statsmodels' ``method="score", correction=False``): every
    ratio the score test does not reject. It always contains the estimate:
    ``x1 == 0`` gives ``[0, high]``; ``x2 == 0`` (ratio undefined, infinite)
    gives ``[low, inf]``; both zero give ``[0, inf]``. Where ``n1`` or ``n2`` is 0
    the result is ``nan``.

    Parameters
    ----------
    x1, n1 : array_like
        Successes and trials in the first group.
    x2, n2 : array_like
        Successes and trials in the second (reference) group.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    low, high : ndarray
        Bounds for ``p1 / p2``.

    Examples
    --------
    >>> low, high = ratio_interval(30, 100, 15, 100)
    >>> print(np.round([low, high], 4))
    [1.1489 3.4817]
    >>> low, high = ratio_interval(0, 50, 7, 60)
    >>> print(np.round([low, high], 4))
    [0.     0.6266]
    """
    x1, n1 = _counts(x1, n1)
    x2, n2 = _counts(x2, n2)
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    z = _z(confidence)
    undefined = (n1 == 0) | (n2 == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(x1 / n1) - np.log(x2 / n2)
        half = z * np.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
        low, high = np.asarray(np.exp(log_ratio - half)), np.asarray(np.exp(log_ratio + half))
    for i in np.flatnonzero(((x1 == 0) | (x2 == 0)) & ~undefined):
        low.flat[i], high.flat[i] = _koopman(x1.flat[i], n1.flat[i], x2.flat[i], n2.flat[i], z)
    low[undefined], high[undefined] = np.nan, np.nan
    return low[()], high[()]


def _koopman(x1: float, n1: float, x2: float, n2: float, z: float) -> tuple[float, float]:
    """Koopman's score interval for ``p1 / p2`` by root finding on the log scale."""

    def score(log_ratio: float, target: float) -> float:
        r = np.exp(log_ratio)
        a, b, c = (n1 + n2) * r, -(n1 * r + x1 + n2 + x2 * r), x1 + x2
        p2 = 2 * c / (-b + np.sqrt(max(b * b - 4 * a * c, 0.0)))  # restricted MLE, stable
        p1 = r * p2
        var = p1 * (1 - p1) / n1 + r * r * p2 * (1 - p2) / n2
        return (x1 / n1 - r * x2 / n2) / np.sqrt(var) - target

    bracket = (-30.0, 30.0)  # ratios from 1e-13 to 1e13
    low = np.exp(optimize.brentq(score, *bracket, args=(z,))) if x1 > 0 else 0.0
    high = np.exp(optimize.brentq(score, *bracket, args=(-z,))) if x2 > 0 else np.inf
    return float(low), float(high)


def two_proportion_pvalue(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike) -> FloatArray:
    """Two-sided p-value for ``p1 == p2``.

    Rule: the pooled two-proportion z test (equal to Pearson's chi-square
    test without continuity correction) when all four expected cell counts
    of the 2x2 table are at least 5 (Cochran's rule), otherwise Fisher's
    exact test (two-sided, ``scipy.stats.fisher_exact``). The exact test is
    run only for those small tables, which must then hold whole numbers.

    Parameters
    ----------
    x1, n1 : array_like
        Successes and trials in the first group.
    x2, n2 : array_like
        Successes and trials in the second group.

    Returns
    -------
    ndarray
        p-values; ``nan`` where either ``n`` is 0.

    Examples
    --------
    >>> print(np.round(two_proportion_pvalue(30, 100, 15, 100), 4))
    0.0111
    >>> print(np.round(two_proportion_pvalue(3, 10, 0, 10), 4))  # Fisher
    0.2105
    """
    x1, n1 = _counts(x1, n1)
    x2, n2 = _counts(x2, n2)
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        pvalue = 2 * stats.norm.sf(np.abs(x1 / n1 - x2 / n2) / se)
    min_expected = np.minimum(n1, n2) * np.minimum(pooled, 1 - pooled)
    small = (min_expected < _EXPECTED_MIN) & (n1 > 0) & (n2 > 0)
    pvalue = np.array(pvalue, dtype=float)
    flat = pvalue.reshape(-1)  # a view: writing to it fills pvalue
    cells = [a.ravel() for a in (x1, n1, x2, n2)]
    for i in np.flatnonzero(small):
        flat[i] = _fisher(*(float(a[i]) for a in cells))
    return pvalue


def _fisher(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided Fisher exact p-value of one 2x2 table given as whole-number counts."""
    cells = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if np.any(cells != np.round(cells)):
        raise ValueError("Fisher's exact test (small expected counts) needs whole-number counts")
    return float(stats.fisher_exact(cells.astype(np.int64)).pvalue)


# --------------------------------------------------------------------------- multiplicity


def _prepare_pvalues(pvalues: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Flatten, validate and sort the non-nan p-values; return (flat, sorted, order)."""
    p = np.asarray(pvalues, dtype=float).ravel()
    valid = np.flatnonzero(~np.isnan(p))
    if np.any((p[valid] < 0) | (p[valid] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = valid[np.argsort(p[valid], kind="stable")]
    return p, p[order], order


def holm(pvalues: ArrayLike) -> FloatArray:
    """Holm step-down adjusted p-values (family-wise error rate).

    ``nan`` entries stay ``nan`` and do not count in the family size.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values, any shape.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape as the input.

    Examples
    --------
    >>> print(holm([0.01, 0.04, np.nan, 0.03]))
    [0.03 0.06  nan 0.06]
    """
    p, ordered, order = _prepare_pvalues(pvalues)
    m = ordered.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * ordered)
    out = p.copy()
    out[order] = np.minimum(adjusted, 1.0)
    return out.reshape(np.shape(pvalues))


def benjamini_hochberg(pvalues: ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate).

    ``nan`` entries stay ``nan`` and do not count in the family size.

    Parameters
    ----------
    pvalues : array_like
        Raw p-values, any shape.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape as the input.

    Examples
    --------
    >>> print(benjamini_hochberg([0.01, 0.04, np.nan, 0.03]))
    [0.03 0.04  nan 0.04]
    """
    p, ordered, order = _prepare_pvalues(pvalues)
    m = ordered.size
    scaled = ordered / (np.arange(1, m + 1) / m)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = p.copy()
    out[order] = np.minimum(adjusted, 1.0)
    return out.reshape(np.shape(pvalues))


# --------------------------------------------------------------------------- discrimination


class AUCResult(NamedTuple):
    """ROC AUC with its DeLong standard error and confidence interval."""

    auc: FloatArray
    se: FloatArray
    ci: Interval


def auc_from_counts(
    positives: ArrayLike, negatives: ArrayLike, confidence: float = 0.95
) -> AUCResult:
    """ROC AUC and DeLong variance from counts per ordered score bin, in O(bins).

    The AUC is P(score of a positive > score of a negative), ties counting
    1/2. DeLong's structural components are exact for tied (binned) scores:
    a positive in bin k has ``V10 = P(neg < k) + P(neg = k)/2`` and a negative
    ``V01 = P(pos > k) + P(pos = k)/2``; ``var = s10/m + s01/n`` with sample
    variances (denominators m-1 and n-1) as in DeLong et al. (1988).

    The interval is ``auc +/- z*se`` on the probability scale, clipped to
    [0, 1]: the Wald-DeLong interval that pROC and published validations of
    risk instruments report, so numbers are comparable. It degenerates to a
    point at AUC 1 (perfect separation); use `bootstrap_interval` there.

    Parameters
    ----------
    positives, negatives : array_like
        Counts of cases with and without the outcome per score bin, bins in
        increasing score order along the last axis; leading axes (e.g.
        groups) are computed in one call.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    AUCResult
        ``auc``, ``se`` and ``ci = (low, high)``; ``nan`` without positives or
        negatives, and ``se``/``ci`` ``nan`` with a single positive or negative.

    Examples
    --------
    >>> res = auc_from_counts([1, 2, 7], [6, 3, 1])
    >>> print(np.round([res.auc, res.se], 4))
    [0.845  0.0888]
    """
    pos, _ = _counts(positives, name="positives")
    neg, _ = _counts(negatives, name="negatives")
    pos, neg = np.atleast_1d(*np.broadcast_arrays(pos, neg))  # a number: a curve of one bin
    z = _z(confidence)
    curves = [c.reshape(math.prod(c.shape[:-1]), c.shape[-1]) for c in (pos, neg)]  # a row each
    rows = max(1, _CURVE_BLOCK // max(pos.shape[-1], 1))  # a block's temporaries stay in cache
    starts = range(0, len(curves[0]), rows) or [0]  # no curves: one empty block
    blocks = [_delong(*(c[i : i + rows] for c in curves)) for i in starts]
    auc, se = (np.concatenate([b[k] for b in blocks]).reshape(pos.shape[:-1])[()] for k in (0, 1))
    ci = (np.clip(auc - z * se, 0.0, 1.0), np.clip(auc + z * se, 0.0, 1.0))
    return AUCResult(auc, se, ci)


_CURVE_BLOCK = 1 << 16  # bins of the curves whose AUC is computed together


def _delong(pos: FloatArray, neg: FloatArray) -> tuple[FloatArray, FloatArray]:
    """AUC and DeLong standard error of each row's curve (:func:`auc_from_counts`)."""
    m, n = pos.sum(axis=-1), neg.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (np.cumsum(neg, axis=-1) - neg / 2) / n[..., None]
        v01 = (m[..., None] - np.cumsum(pos, axis=-1) + pos / 2) / m[..., None]
        auc = np.sum(pos * v10, axis=-1) / m
        s10 = np.sum(pos * (v10 - auc[..., None]) ** 2, axis=-1) / (m - 1)
        s01 = np.sum(neg * (v01 - auc[..., None]) ** 2, axis=-1) / (n - 1)
        return auc, np.sqrt(s10 / m + s01 / n)


def roc_curve_from_counts(
    positives: ArrayLike, negatives: ArrayLike, points: int | None = None
) -> Interval:
    """ROC curve points (fpr, tpr) from counts per ordered score bin.

    One point per threshold between bins, from the highest bin down, so the
    curve starts at (0, 0) and ends at (1, 1); an empty bin repeats a point.

    Parameters
    ----------
    positives, negatives : array_like
        Counts per score bin in increasing score order along the last axis.
    points : int, optional
        At most this many points, at thresholds spread evenly over all of them
        (both ends kept). The bins between two kept thresholds are merged before
        the cumulative sums: for whole-number counts the points are exactly the
        full curve's at those thresholds, at a fraction of the work.

    Returns
    -------
    fpr, tpr : ndarray
        False and true positive rates, ``bins + 1`` points (or those kept) along
        the last axis.

    Examples
    --------
    >>> fpr, tpr = roc_curve_from_counts([1, 2, 7], [6, 3, 1])
    >>> print(fpr, tpr)
    [0.  0.1 0.4 1. ] [0.  0.7 0.9 1. ]
    >>> print(*roc_curve_from_counts([1, 2, 7], [6, 3, 1], points=3))  # thresholds 0, 2, 3
    [0.  0.4 1. ] [0.  0.9 1. ]
    """
    pos, _ = _counts(positives, name="positives")
    neg, _ = _counts(negatives, name="negatives")
    pos, neg = np.broadcast_arrays(pos, neg)
    if points is not None and points < 2:
        raise ValueError(f"a curve needs at least its two ends, got points={points}")
    bins = pos.shape[-1]
    if points is not None and bins + 1 > points:
        kept = np.unique(np.round(np.linspace(0, bins, points)).astype(int))  # top bins in
        starts = bins - kept[:0:-1]  # of the bins merged between two kept thresholds
        pos, neg = (np.add.reduceat(c, starts, axis=-1) for c in (pos, neg))

    def rates(counts: FloatArray) -> FloatArray:
        above = np.cumsum(counts[..., ::-1], axis=-1)
        zero = np.zeros((*counts.shape[:-1], 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.concatenate([zero, above], axis=-1) / above[..., -1:]

    return rates(neg), rates(pos)


# --------------------------------------------------------------------------- calibration


def poisson_ratio_interval(
    observed: ArrayLike, expected: ArrayLike, confidence: float = 0.95
) -> Interval:
    """Exact (Garwood) interval for the ratio observed / expected.

    Treats the observed count O as Poisson with mean ``ratio * E`` and the
    expected count E (sum of predicted probabilities in a band) as fixed:
    ``[chi2(a/2; 2O) / 2E, chi2(1-a/2; 2O+2) / 2E]``, lower bound 0 when O = 0.

    Parameters
    ----------
    observed : array_like
        Observed number of events per band.
    expected : array_like
        Expected number of events per band (non-negative, need not be whole).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    low, high : ndarray
        Bounds for O/E; ``nan`` where ``expected == 0``.

    Examples
    --------
    >>> low, high = poisson_ratio_interval(12, 10.0)
    >>> print(np.round([low, high], 4))
    [0.6201 2.0962]
    """
    obs, _ = _counts(observed, name="observed")
    exp, _ = _counts(expected, name="expected")
    alpha = _alpha(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(obs > 0, special.gammaincinv(np.maximum(obs, 1e-300), alpha / 2), 0.0)
        upper = special.gammaincinv(obs + 1, 1 - alpha / 2)
        exp = np.where(exp > 0, exp, np.nan)
        return lower / exp, upper / exp


class RecalibrationResult(NamedTuple):
    """Calibration intercept and slope with standard errors and Wald intervals."""

    intercept: FloatArray
    intercept_se: FloatArray
    intercept_ci: Interval
    slope: FloatArray
    slope_se: FloatArray
    slope_ci: Interval
    recalibration_intercept: FloatArray


def logistic_recalibration(
    score_logit: ArrayLike, events: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> RecalibrationResult:
    """Calibration intercept and slope by logistic recalibration on cells.

    Two binomial GLMs on aggregated cells (``events`` out of ``n`` per distinct
    predicted logit), fitted by Newton-Raphson (IRLS), so the cost is O(cells):

    * calibration slope ``b`` from ``logit P(y) = a + b * logit(p)``;
      ideal 1, below 1 means predictions too extreme;
    * calibration intercept (calibration-in-the-large) ``a`` from
      ``logit P(y) = a + offset(logit(p))``, the slope fixed at 1;
      ideal 0, positive means the instrument under-predicts overall.

    Standard errors come from the inverse Fisher information; intervals are
    Wald intervals ``est +/- z*se`` (as statsmodels' GLM reports). A fit
    without a finite maximum (e.g. no events, or a single distinct score for
    the slope) or that does not converge gives ``nan``.

    Parameters
    ----------
    score_logit : array_like
        Predicted log-odds ``logit(p)`` per cell; cells along the last axis.
    events, n : array_like
        Events and cases per cell.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    RecalibrationResult
        ``intercept``, ``intercept_se``, ``intercept_ci``, ``slope``,
        ``slope_se``, ``slope_ci``, and ``recalibration_intercept`` (``a`` of
        the slope model, for drawing the recalibration line).

    Examples
    --------
    >>> res = logistic_recalibration([-2.0, -1.0, 0.0, 1.0], [3, 10, 20, 26], [40, 40, 40, 40])
    >>> print(np.round([res.intercept, res.slope], 3))
    [-0.195  0.989]
    """
    x = np.asarray(score_logit, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("score_logit must be finite")
    y, n = _counts(events, n, name="events")
    x, y, n = np.broadcast_arrays(x, y, n)
    z = _z(confidence)
    a, a_se = _fit_offset(x, y, n)
    c, b, b_se = _fit_line(x, y, n)
    return RecalibrationResult(
        a, a_se, (a - z * a_se, a + z * a_se), b, b_se, (b - z * b_se, b + z * b_se), c
    )


def _fit_offset(x: FloatArray, y: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Newton fit of ``logit P = a + x`` (offset x); returns (a, se) along the last axis."""
    a = np.zeros(x.shape[:-1])
    with np.errstate(all="ignore"):
        for _ in range(_MAX_ITER):
            mu = special.expit(a[..., None] + x)
            info = np.sum(n * mu * (1 - mu), axis=-1)
            step = np.sum(y - n * mu, axis=-1) / info
            a = a + step
            if not np.any(np.abs(step) > _TOL * (1 + np.abs(a))):
                break
        ok = np.abs(step) <= _TOL * (1 + np.abs(a))
        return np.where(ok, a, np.nan), np.where(ok, 1 / np.sqrt(info), np.nan)


def _fit_line(x: FloatArray, y: FloatArray, n: FloatArray) -> tuple[FloatArray, ...]:
    """Newton fit of ``logit P = c + b*x``; returns (c, b, se of b) along the last axis."""
    c, b = np.zeros(x.shape[:-1]), np.ones(x.shape[:-1])
    with np.errstate(all="ignore"):
        for _ in range(_MAX_ITER):
            mu = special.expit(c[..., None] + b[..., None] * x)
            w, r = n * mu * (1 - mu), y - n * mu
            i00, i01, i11 = w.sum(-1), (w * x).sum(-1), (w * x * x).sum(-1)
            u0, u1 = r.sum(-1), (r * x).sum(-1)
            det = i00 * i11 - i01**2
            dc, db = (i11 * u0 - i01 * u1) / det, (i00 * u1 - i01 * u0) / det
            c, b = c + dc, b + db
            done = (np.abs(dc) <= _TOL * (1 + np.abs(c))) & (np.abs(db) <= _TOL * (1 + np.abs(b)))
            if np.all(done | ~np.isfinite(dc) | ~np.isfinite(db)):
                break
        ok = done & (det > 0)
        nan = np.full(c.shape, np.nan)
        return (
            np.where(ok, c, nan),
            np.where(ok, b, nan),
            np.where(ok, np.sqrt(i00 / det), nan),
        )


def brier_from_counts(prob: ArrayLike, events: ArrayLike, n: ArrayLike) -> FloatArray:
    """Brier score (mean squared error of predicted probabilities) from cells.

    ``sum(events*(1-p)^2 + (n-events)*p^2) / sum(n)`` along the last axis.

    Parameters
    ----------
    prob : array_like
        Predicted probability per cell, in [0, 1].
    events, n : array_like
        Events and cases per cell.

    Returns
    -------
    ndarray
        Brier score per leading index; ``nan`` when there are no cases.

    Examples
    --------
    >>> print(np.round(brier_from_counts([0.1, 0.5], [1, 6], [10, 10]), 4))
    0.17
    """
    p = np.asarray(prob, dtype=float)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("prob must lie in [0, 1]")
    y, n = _counts(events, n, name="events")
    p, y, n = np.broadcast_arrays(p, y, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(y * (1 - p) ** 2 + (n - y) * p**2, axis=-1) / np.sum(n, axis=-1)


# --------------------------------------------------------------------------- association


def cramers_v(table: ArrayLike) -> FloatArray:
    """Cramér's V of a contingency table, ``sqrt(chi2 / (N * (k - 1)))``.

    No bias correction (Bergsma's correction is not applied), so V is the
    plain effect size that SciPy's ``association(method="cramer")`` gives; it
    is biased upwards in small tables. Empty rows and columns are ignored
    (``k`` is the smaller number of non-empty rows or columns); with fewer
    than two of either, V is ``nan``.

    Parameters
    ----------
    table : array_like
        Counts, shape ``(..., rows, cols)``; leading axes are separate tables.

    Returns
    -------
    ndarray
        V in [0, 1] per table.

    Examples
    --------
    >>> print(np.round(cramers_v([[30, 10], [10, 30]]), 4))
    0.5
    """
    obs, _ = _counts(table, name="table")
    if obs.ndim < 2:
        raise ValueError("table must have at least two dimensions (rows, cols)")
    rows, cols = obs.sum(axis=-1), obs.sum(axis=-2)
    total = rows.sum(axis=-1)
    k = np.minimum(np.count_nonzero(rows, axis=-1), np.count_nonzero(cols, axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        exp = rows[..., :, None] * cols[..., None, :] / total[..., None, None]
        chi2 = np.sum(np.where(exp > 0, (obs - exp) ** 2 / exp, 0.0), axis=(-2, -1))
        return np.where(k > 1, np.sqrt(chi2 / (total * (k - 1))), np.nan)


# --------------------------------------------------------------------------- bootstrap


def multinomial_bootstrap(
    counts: ArrayLike, n_resamples: int, seed: int | np.random.Generator = 0
) -> NDArray[np.int64]:
    """Resample a count cube: multinomial draws with the cube's total and cell shares.

    Equivalent to resampling the underlying rows with replacement (group
    sizes vary between resamples, as they would), at O(cells) cost.

    Parameters
    ----------
    counts : array_like
        Whole-number cell counts, any shape.
    n_resamples : int
        Number of resamples.
    seed : int or numpy.random.Generator, default 0
        Seed or generator, for reproducibility.

    Returns
    -------
    ndarray
        Integer array of shape ``(n_resamples, *counts.shape)``; each resample
        sums to the original total.

    Examples
    --------
    >>> multinomial_bootstrap([5, 0, 5], 3, seed=1).sum(axis=1)
    array([10, 10, 10])
    """
    c, _ = _counts(counts, name="counts")
    if np.any(c != np.round(c)):
        raise ValueError("counts must be whole numbers for the multinomial bootstrap")
    rng = np.random.default_rng(seed)
    total = int(c.sum())
    if total == 0:
        return np.zeros((n_resamples, *c.shape), dtype=np.int64)
    draws = rng.multinomial(total, c.ravel() / total, size=n_resamples)
    return draws.reshape(n_resamples, *c.shape)


def bootstrap_interval(
    statistic: Callable[[NDArray[np.int64]], ArrayLike],
    counts: ArrayLike,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator = 0,
    *,
    vectorized: bool = False,
) -> Interval:
    """Percentile bootstrap interval of a statistic of a count cube.

    Parameters
    ----------
    statistic : callable
        Maps a counts array (shape of `counts`) to a number. With
        ``vectorized=True`` it is called once on all resamples, shape
        ``(n_resamples, *counts.shape)``, and must return one value per
        resample along the first axis (fast: most functions here qualify).
    counts : array_like
        Whole-number cell counts.
    n_resamples : int, default 1000
        Number of multinomial resamples.
    confidence : float, default 0.95
        Confidence level.
    seed : int or numpy.random.Generator, default 0
        Seed or generator, for reproducibility.
    vectorized : bool, default False
        Whether `statistic` accepts the stacked resamples.

    Returns
    -------
    low, high : ndarray
        Percentile bounds; ``nan`` if the statistic is ``nan`` in any
        resample (e.g. an empty group), which is reported, not dropped.

    Examples
    --------
    >>> share = lambda c: c[..., 0] / c.sum(axis=-1)
    >>> low, high = bootstrap_interval(share, [300, 700], vectorized=True)
    >>> bool(0.26 < low < 0.28 and 0.32 < high < 0.34)
    True
    """
    alpha = _alpha(confidence)
    resamples = multinomial_bootstrap(counts, n_resamples, seed)
    if vectorized:
        values = np.asarray(statistic(resamples), dtype=float)
    else:
        values = np.array([np.asarray(statistic(r), dtype=float) for r in resamples])
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high
