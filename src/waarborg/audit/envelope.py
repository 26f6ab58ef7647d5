"""Intervals over a box of possible cubes: what an audit of a published cube can claim.

A cube that left a secure environment under output control (rounded counts, suppressed
cells; :mod:`waarborg.audit.disclosure`) does not say its true counts, only a box: each
true count lies in ``[low, high]``. An honest interval of a statistic then covers the
sampling uncertainty *and* every true cube in the box. The principle used throughout:

    the interval is the union of the published interval and the sampling intervals at
    the *extreme cubes*: the cubes in the box where the estimate is smallest and largest.

The extreme estimate is found exactly for every statistic but the calibration slope, so
the widened interval always holds the estimate from the true (unrounded) cube:

* a rate ``k / n`` (Wilson), a difference (Newcombe) and a ratio (Katz/Koopman) of two
  rates: ``k`` and ``n - k`` (per group) are sums of disjoint cells and each bound is
  monotone in them, so the corners of their boxes give the exact envelope of the
  interval itself, not only of the estimate (:func:`rate_interval`, ...);
* a weighted mean with box weights (Brier score): extremes by sorting the values and
  trying every cut (:func:`mean_range`);
* the AUC: for fixed negatives it is a weighted mean of increasing bin scores over the
  positives, so the smallest AUC puts positives at their upper bound below a cut and
  at their lower bound above it, and negatives the other way round; every pair of cuts
  is tried in O(bins²) (:func:`auc_range`);
* the calibration intercept is monotone in every count and cell mean: one corner;
* O/E: lowest events over most expected, and the reverse (a bound, not the exact
  envelope);
* the calibration slope: a search over extreme cubes pivoting on the score (positives
  up below the pivot and down above it, negatives the reverse), every pivot tried: a
  heuristic, stated as such.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import special

from waarborg.audit.stats import (
    auc_from_counts,
    bootstrap_interval,
    logistic_recalibration,
    newcombe_interval,
    poisson_ratio_interval,
    ratio_interval,
    two_proportion_pvalue,
    wilson_interval,
)

__all__ = [
    "AucRange",
    "Span",
    "auc_range",
    "difference_interval",
    "intercept_interval",
    "mean_range",
    "nearest_null_pvalue",
    "oe_interval",
    "rate_interval",
    "ratio_interval_box",
    "representation_interval",
    "slope_interval",
]

_PIVOTS = 256  # most pivots tried for the calibration slope
_LOGIT_CLIP = 1e-9


class Span(NamedTuple):
    """A count known to lie in ``[low, high]`` (arrays broadcast)."""

    low: np.ndarray
    high: np.ndarray


def _box_rate(k: Span, rest: Span) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(k, n) at the corner of the lowest rate, then at the corner of the highest."""
    return k.low, k.low + rest.high, k.high, k.high + rest.low


def rate_interval(k: Span, rest: Span, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Envelope of the Wilson interval of ``k / (k + rest)`` over the box (exact).

    Examples
    --------
    >>> low, high = rate_interval(Span(np.array([15.0]), np.array([24.0])),
    ...                           Span(np.array([75.0]), np.array([84.0])), 0.95)
    >>> print(np.round([low[0], high[0]], 3))
    [0.094 0.335]
    """
    k_low, n_low, k_high, n_high = _box_rate(k, rest)
    low, _ = wilson_interval(k_low, n_low, confidence)
    _, high = wilson_interval(k_high, n_high, confidence)
    return low, high


def difference_interval(
    k1: Span, rest1: Span, k2: Span, rest2: Span, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Envelope of the Newcombe interval of ``p1 - p2`` over the box (exact: monotone)."""
    return _two_rates(newcombe_interval, k1, rest1, k2, rest2, confidence)


def ratio_interval_box(
    k1: Span, rest1: Span, k2: Span, rest2: Span, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Envelope of the Katz (Koopman at zero) interval of ``p1 / p2`` over the box."""
    return _two_rates(ratio_interval, k1, rest1, k2, rest2, confidence)


def _two_rates(
    interval: Callable, k1: Span, rest1: Span, k2: Span, rest2: Span, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower bound at (p1 lowest, p2 highest), upper bound at the opposite corner."""
    a_low, a_n_low, a_high, a_n_high = _box_rate(k1, rest1)
    b_low, b_n_low, b_high, b_n_high = _box_rate(k2, rest2)
    low, _ = interval(a_low, a_n_low, b_high, b_n_high, confidence)
    _, high = interval(a_high, a_n_high, b_low, b_n_low, confidence)
    return np.asarray(low), np.asarray(high)


def nearest_null_pvalue(k1: Span, rest1: Span, k2: Span, rest2: Span) -> np.ndarray:
    """The two-proportion test's p-value at the cube of the box closest to no difference.

    Where the box holds both signs of ``p1 - p2`` it holds no difference: ``p = 1``.
    Else the corner where ``|p1 - p2|`` is smallest (lowest ``p1`` and highest ``p2``
    when ``p1 > p2`` everywhere, the reverse otherwise): the p-value there (an
    approximation to the largest p-value over the box: the test's standard error varies
    little over it).

    Examples
    --------
    >>> exact = lambda x: Span(np.array([x]), np.array([x]))
    >>> print(np.round(nearest_null_pvalue(exact(30.0), exact(70.0), exact(15.0), exact(85.0)), 4))
    [0.0111]
    """
    a_low, a_n_low, a_high, a_n_high = _box_rate(k1, rest1)
    b_low, b_n_low, b_high, b_n_high = _box_rate(k2, rest2)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = a_low / a_n_low - b_high / b_n_high  # smallest difference
        above = a_high / a_n_high - b_low / b_n_low  # largest
    p_up = two_proportion_pvalue(a_low, a_n_low, b_high, b_n_high)
    p_down = two_proportion_pvalue(a_high, a_n_high, b_low, b_n_low)
    return np.where(below > 0, p_up, np.where(above < 0, p_down, 1.0))


# --------------------------------------------------------------------------- weighted means


def mean_range(
    values: Span, weights: Span
) -> tuple[float, float, np.ndarray | None, np.ndarray | None]:
    """Smallest and largest ``Σ w·v / Σ w`` with each ``w`` and ``v`` in its span (exact).

    Returns the two extremes and the weights at each (None when no weight can be > 0).
    The smallest puts the upper weight on the smallest values up to a cut and the lower
    weight after it; every cut is tried.

    Examples
    --------
    >>> v = Span(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    >>> w = Span(np.array([8.0, 1.0]), np.array([12.0, 5.0]))
    >>> low, high, _, _ = mean_range(v, w)
    >>> print(round(low, 4), round(high, 4))
    0.0769 0.3846
    """
    low, w_low = _smallest_mean(values.low, weights)
    neg, w_high = _smallest_mean(-values.high, weights)
    return low, -neg, w_low, w_high


def _smallest_mean(v: np.ndarray, w: Span) -> tuple[float, np.ndarray | None]:
    order = np.argsort(v, kind="stable")
    v, lo, hi = v[order], w.low[order], w.high[order]
    up = np.concatenate([[0.0], np.cumsum(hi * v)])
    up_w = np.concatenate([[0.0], np.cumsum(hi)])
    down = np.concatenate([np.cumsum((lo * v)[::-1])[::-1], [0.0]])
    down_w = np.concatenate([np.cumsum(lo[::-1])[::-1], [0.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        means = (up + down) / (up_w + down_w)
    if not np.any(np.isfinite(means)):
        return float("nan"), None
    cut = int(np.nanargmin(means))
    chosen = np.where(np.arange(v.size) < cut, hi, lo)
    weights = np.empty_like(chosen)
    weights[order] = chosen
    return float(means[cut]), weights


# --------------------------------------------------------------------------- AUC


class AucRange(NamedTuple):
    """Smallest and largest AUC over a box, and the DeLong SE at each extreme cube."""

    low: float
    high: float
    se_low: float
    se_high: float


def auc_range(positives: Span, negatives: Span, confidence: float) -> AucRange:
    """Smallest and largest AUC over the box of counts per ordered bin (exact).

    For fixed negatives the AUC is a mean of the positives' bin scores
    ``(N_below + n_k/2) / N``, which never decrease with the bin: the smallest AUC puts
    positives at their upper bound below a cut and their lower bound above it; likewise
    negatives at their lower bound below a second cut and upper bound above it. A global
    minimum is optimal in each block, so some pair of cuts attains it; all are tried,
    O(bins²). The largest AUC is one minus the smallest with the roles swapped.

    Examples
    --------
    >>> pos = Span(np.array([1.0, 2.0, 7.0]), np.array([1.0, 2.0, 7.0]))
    >>> neg = Span(np.array([6.0, 3.0, 1.0]), np.array([6.0, 3.0, 1.0]))
    >>> print(round(auc_range(pos, neg, 0.95).low, 4))  # no slack: the AUC itself
    0.845
    """
    keep = (positives.high > 0) | (negatives.high > 0)
    pos = Span(positives.low[keep], positives.high[keep])
    neg = Span(negatives.low[keep], negatives.high[keep])
    low, p_at, n_at = _smallest_auc(pos, neg)
    flip, n_max, p_max = _smallest_auc(neg, pos)
    se_low = _se(p_at, n_at, confidence)
    se_high = _se(p_max, n_max, confidence)
    return AucRange(low, 1.0 - flip, se_low, se_high)


def _se(pos: np.ndarray | None, neg: np.ndarray | None, confidence: float) -> float:
    if pos is None or neg is None:
        return float("nan")
    return float(auc_from_counts(pos, neg, confidence).se)


def _smallest_auc(pos: Span, neg: Span) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    size = pos.low.size
    if size == 0:
        return float("nan"), None, None
    cuts = np.arange(size + 1)[:, None]
    bins = np.arange(size)[None, :]
    q = np.where(bins >= cuts, neg.high, neg.low)  # row: cut of the negatives
    w = np.cumsum(q, axis=1) - q / 2  # negatives below + half the tied ones
    head = np.concatenate([np.zeros((size + 1, 1)), np.cumsum(pos.high * w, axis=1)], axis=1)
    tail = np.concatenate(
        [np.cumsum((pos.low * w)[:, ::-1], axis=1)[:, ::-1], np.zeros((size + 1, 1))], axis=1
    )
    p_total = np.concatenate([[0.0], np.cumsum(pos.high)]) + np.concatenate(
        [np.cumsum(pos.low[::-1])[::-1], [0.0]]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (head + tail) / (q.sum(axis=1)[:, None] * p_total[None, :])
    if not np.any(np.isfinite(auc)):
        return float("nan"), None, None
    t_neg, t_pos = np.unravel_index(int(np.nanargmin(auc)), auc.shape)
    p_at = np.where(np.arange(size) < t_pos, pos.high, pos.low)
    return float(auc[t_neg, t_pos]), p_at, q[t_neg]


# --------------------------------------------------------------------------- calibration


def oe_interval(events: Span, expected: Span, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """A bound on the Garwood interval of O/E over the box: fewest events over the most
    expected, most events over the fewest expected."""
    low, _ = poisson_ratio_interval(events.low, expected.high, confidence)
    _, high = poisson_ratio_interval(events.high, expected.low, confidence)
    return low, high


def _logit(mean: np.ndarray) -> np.ndarray:
    return special.logit(np.clip(mean, _LOGIT_CLIP, 1 - _LOGIT_CLIP))


def intercept_interval(
    y: np.ndarray, cases: Span, means: Span, confidence: float
) -> tuple[float, float]:
    """Envelope of the calibration intercept's Wald interval at its two extreme cubes.

    Per cell: the outcome ``y`` (0/1), the cases and the mean prediction. The intercept
    ``a`` solves ``Σ events = Σ n·expit(a + logit m)``: it rises with events, falls with
    non-events and with the means, so its smallest value is at (events low, non-events
    high, means high) and its largest at the opposite corner (exact for the estimate).
    """
    n_low = np.where(y == 1, cases.low, cases.high)
    n_high = np.where(y == 1, cases.high, cases.low)
    low = logistic_recalibration(_logit(means.high), y * n_low, n_low, confidence)
    high = logistic_recalibration(_logit(means.low), y * n_high, n_high, confidence)
    return float(low.intercept_ci[0]), float(high.intercept_ci[1])


def slope_interval(
    y: np.ndarray, cases: Span, means: Span, confidence: float
) -> tuple[float, float]:
    """Envelope of the calibration slope's Wald interval over extreme cubes (a search).

    A cell's influence on the slope has the sign of ``(y - p)(x - pivot)``: the slope
    is smallest with outcomes at their lowest mean and their upper bound below a pivot
    on the score, their lower bound above it, and non-events the reverse. Every pivot
    (up to 256, at quantiles of the cells' scores) is fitted at once; the largest slope
    likewise with the roles turned.
    """
    bounds = []
    for side in (1, -1):  # smallest slope, then largest
        toward_low = (y == 1) if side > 0 else (y == 0)  # cells pulled to low scores
        x = _logit(np.where(toward_low, means.low, means.high))
        pivots = _pivots(x)
        below = x[None, :] < pivots[:, None]
        n = np.where(below == toward_low[None, :], cases.high, cases.low)
        res = logistic_recalibration(np.broadcast_to(x, n.shape), y * n, n, confidence)
        edge = res.slope_ci[0] if side > 0 else -res.slope_ci[1]
        bounds.append(float(np.nanmin(edge)) if np.any(np.isfinite(edge)) else float("nan"))
    return bounds[0], -bounds[1]


def _pivots(x: np.ndarray) -> np.ndarray:
    values = np.unique(x)
    if values.size > _PIVOTS:
        values = np.quantile(values, np.linspace(0, 1, _PIVOTS))
    return np.concatenate([values, [np.inf]])


# --------------------------------------------------------------------------- representation


def representation_interval(
    unselected: Span,
    selected: Span,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Envelope of each group's bootstrap interval of its representation at the cubes
    where it is smallest and largest.

    ``rep = share of the selected / share of all cases`` falls with the group's
    unselected and the others' selected, rises with the others' unselected; in the
    group's own selected it is tried at every whole count of its span (at most 2001).
    """
    size = unselected.low.size
    low, high = np.full(size, np.nan), np.full(size, np.nan)
    for g in range(size):
        for side, out in ((1, low), (-1, high)):
            counts = _extreme_representation(unselected, selected, g, side, statistic)
            if counts is None:
                continue
            bounds = bootstrap_interval(statistic, counts, n_boot, confidence, rng, vectorized=True)
            out[g] = bounds[0][g] if side > 0 else bounds[1][g]
    return low, high


def _extreme_representation(
    unselected: Span, selected: Span, g: int, side: int, statistic: Callable
) -> np.ndarray | None:
    """Counts (groups, [unselected, selected]) where group g's representation is extreme."""
    others_unsel = unselected.low if side > 0 else unselected.high
    others_sel = selected.high if side > 0 else selected.low
    counts = np.stack([others_unsel, others_sel], axis=-1).astype(float)
    counts[g, 0] = unselected.high[g] if side > 0 else unselected.low[g]
    lo, hi = selected.low[g], selected.high[g]
    tries = np.unique(np.round(np.linspace(lo, hi, min(int(hi - lo) + 1, 2001))))
    stacked = np.repeat(counts[None], tries.size, axis=0)
    stacked[:, g, 1] = tries
    values = statistic(stacked)[:, g]
    if not np.any(np.isfinite(values)):
        return None
    pick = np.nanargmin(values) if side > 0 else np.nanargmax(values)
    return np.round(stacked[pick]).astype(np.int64)
