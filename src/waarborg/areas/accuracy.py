"""Accuracy of an area selection, per period and pooled, and against naive baselines.

Per period ``p`` (the selection in force during ``[start, start + period)``, made
from data before ``start``) with ``I`` the incidents in the period, ``k`` the
selected cells out of ``C``:

* hit rate ``h = captured / I`` (Wilson interval, incidents as trials);
* PAI ``h / (k / C)``;
* PEI ``captured / best``, ``best`` the incidents in the ``k`` cells with the most
  incidents (the best possible selection of the same size);
* AUC over cells: cells with at least one incident against cells without, ranked by
  score (DeLong variance, exact for ties);
* Jaccard overlap of the selection with the previous period's;
* calibration: observed incidents over the expected counts, per decile of the expected
  count and overall (exact Poisson / Garwood interval).

Pooled figures are ratios of sums over periods (the AUC and Jaccard: means over
periods). Their intervals come from a circular **block bootstrap over periods**
(blocks of ``round(P ** (1/3))`` consecutive periods, 2,000 resamples): what is random
is which periods were observed; cells within a period are not resampled, and the
blocks keep the dependence between neighbouring periods. Paired differences
(model − baseline) resample the same periods for both.

Baselines on the same periods, each selecting as many cells as the model did:
``last_period`` (the cells with most incidents in the previous period), ``long_run``
(most incidents over all periods before this one — never this one), ``random``
(expected hit rate = area share, analytically). Ties at the threshold of a baseline
are split in expectation (as random tie-breaking would on average).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from waarborg.audit.result import entries, entry
from waarborg.audit.stats import poisson_ratio_interval, wilson_interval

__all__ = [
    "BASELINES",
    "Bootstrap",
    "Estimate",
    "accuracy",
    "auc_by_period",
    "top_k_capture",
]

BASELINES = ("last_period", "long_run", "random")
N_RESAMPLES = 2000
N_DECILES = 10
SAMPLE = 500_000
"""Decile edges of the expected counts come from a systematic sample of this many."""


@dataclass
class Estimate:
    """A pooled estimate with its bootstrap replicates (any confidence level on demand)."""

    value: float
    replicates: np.ndarray
    n: int

    def interval(self, confidence: float) -> tuple[float, float]:
        """Percentile interval at ``confidence``; (nan, nan) without finite replicates."""
        reps = self.replicates[np.isfinite(self.replicates)]
        if not np.isfinite(self.value) or reps.size < 0.9 * self.replicates.size:
            return (np.nan, np.nan)
        alpha = 1 - confidence
        low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
        return float(low), float(high)

    def entry(self, confidence: float, **extra: Any) -> dict[str, Any]:
        """As a result entry ``{"value", "ci", "n"}``."""
        return entry(self.value, *self.interval(confidence), self.n, **extra)


class Bootstrap:
    """Circular block bootstrap over periods, as a matrix of period weights.

    ``weights[b, p]`` is how often period ``p`` occurs in resample ``b``; a pooled
    ratio of sums is then ``weights @ num / weights @ den`` for all resamples at once.

    Examples
    --------
    >>> boot = Bootstrap(10, n_resamples=50, seed=1)
    >>> boot.weights.shape, bool((boot.weights.sum(axis=1) == 10).all())
    ((50, 10), True)
    """

    def __init__(
        self,
        n_periods: int,
        n_resamples: int = N_RESAMPLES,
        block: int | None = None,
        seed: int = 0,
    ) -> None:
        self.block = block or max(1, round(n_periods ** (1 / 3)))
        rng = np.random.default_rng(seed)
        n_blocks = -(-n_periods // self.block)
        starts = rng.integers(0, n_periods, (n_resamples, n_blocks))
        idx = (starts[:, :, None] + np.arange(self.block)) % n_periods
        idx = idx.reshape(n_resamples, -1)[:, :n_periods]
        rows = np.repeat(np.arange(n_resamples), n_periods)
        self.weights = (
            np.bincount(rows * n_periods + idx.ravel(), minlength=n_resamples * n_periods)
            .reshape(n_resamples, n_periods)
            .astype(np.float64)
        )

    def ratio(self, num: np.ndarray, den: np.ndarray, n: int | None = None) -> Estimate:
        """Σ num / Σ den over periods, with replicates (nan entries count as 0 / 0)."""
        num = np.nan_to_num(np.asarray(num, float))
        den = np.nan_to_num(np.asarray(den, float))
        total = den.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            value = num.sum() / total if total > 0 else np.nan
            reps = (self.weights @ num) / (self.weights @ den)
        return Estimate(float(value), reps, int(total) if n is None else n)

    def mean(self, values: np.ndarray) -> Estimate:
        """Mean over the periods where ``values`` is defined."""
        values = np.asarray(values, float)
        defined = np.isfinite(values).astype(float)
        return self.ratio(np.where(defined > 0, values, 0.0), defined, int(defined.sum()))

    def combine(self, f: Callable[..., Any], *estimates: Estimate, n: int) -> Estimate:
        """An estimate that is a function of others (applied to values and replicates)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = f(*(e.value for e in estimates))
            reps = f(*(e.replicates for e in estimates))
        return Estimate(float(value), np.asarray(reps, float), n)


def top_k_capture(rank: np.ndarray, target: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Expected ``target`` total in the ``k`` cells ranked highest, per period (row).

    ``rank`` holds whole non-negative counts. Cells tied at the threshold share the
    remaining places in expectation (as random tie-breaking would on average).

    Examples
    --------
    >>> top_k_capture(np.array([[3, 1, 1, 0]]), np.array([[1, 2, 4, 8]]), np.array([2]))
    array([4.])
    """
    out = np.zeros(rank.shape[0])
    for p in range(rank.shape[0]):
        nz = np.flatnonzero(target[p])
        out[p] = _capture(rank[p], int(k[p]), nz, target[p][nz].astype(float))
    return out


def _capture(rank: np.ndarray, k: int, nz: np.ndarray, values: np.ndarray) -> float:
    """One period: expected ``values`` (at cells ``nz``) in the ``k`` top-ranked cells.

    The threshold comes from a histogram of the ranks (whole counts), the sums from the
    few cells with incidents only.
    """
    if k <= 0:
        return 0.0
    if k >= rank.size:
        return float(values.sum())
    hist = np.bincount(rank)
    at_least = np.cumsum(hist[::-1])[::-1]  # cells ranked >= v
    t = int((at_least >= k).sum()) - 1
    n_at = int(hist[t])
    n_above = int(at_least[t]) - n_at
    r = rank[nz]
    return float(values[r > t].sum() + (k - n_above) / n_at * values[r == t].sum())


def auc_by_period(score: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC and DeLong standard error per period (row), ties counting one half.

    One sort per period; the periods are shared between two threads (numpy's sort
    releases the GIL).

    Examples
    --------
    >>> auc, se = auc_by_period(np.array([[0.1, 0.4, 0.35, 0.8]]),
    ...                         np.array([[False, False, True, True]]))
    >>> float(auc[0])
    0.75
    """
    n_periods = score.shape[0]
    auc = np.full(n_periods, np.nan)
    se = np.full(n_periods, np.nan)

    def one(p: int) -> None:
        auc[p], se[p] = _delong(score[p], positive[p])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(n_periods)))
    return auc, se


def _delong(score: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong standard error for one period (exact for ties)."""
    pos = np.sort(score[positive])
    m = pos.size
    n = score.size - m
    if m == 0 or n == 0:
        return np.nan, np.nan
    every = np.sort(score)
    # negatives below / tied with each positive: all cells minus the positives
    below = np.searchsorted(every, pos, "left") - np.searchsorted(pos, pos, "left")
    tied = np.searchsorted(every, pos, "right") - np.searchsorted(every, pos, "left")
    tied -= np.searchsorted(pos, pos, "right") - np.searchsorted(pos, pos, "left")
    v10 = (below + tied / 2) / n
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return auc, np.nan
    # V01 of every cell (positives above it, ties half), then drop the positives' own
    v_all = 1 - (np.searchsorted(pos, every, "left") + np.searchsorted(pos, every, "right")) / (
        2 * m
    )
    v_pos = 1 - (np.searchsorted(pos, pos, "left") + np.searchsorted(pos, pos, "right")) / (2 * m)
    s1 = v_all.sum() - v_pos.sum()
    s2 = (v_all**2).sum() - (v_pos**2).sum()
    var01 = (s2 - s1 * s1 / n) / (n - 1)
    return auc, float(np.sqrt(v10.var(ddof=1) / m + max(var01, 0.0) / n))


@dataclass
class Accuracy:
    """Per-period counts behind the accuracy figures (for the criteria and the report)."""

    incidents: np.ndarray
    captured: np.ndarray
    k: np.ndarray
    n_cells: int
    best: np.ndarray
    auc: np.ndarray
    auc_se: np.ndarray
    baseline_captured: dict[str, np.ndarray]
    boot: Bootstrap
    calibration: np.ndarray | None = None

    def hit_rate(self) -> Estimate:
        """Pooled hit rate."""
        return self.boot.ratio(self.captured, self.incidents)

    def area_share(self) -> Estimate:
        """Pooled share of cells selected."""
        return self.boot.ratio(self.k, np.full(self.k.size, self.n_cells), int(self.k.sum()))

    def pai(self) -> Estimate:
        """Pooled PAI: pooled hit rate over pooled area share."""
        hit, area = self.hit_rate(), self.area_share()
        return self.boot.combine(np.divide, hit, area, n=hit.n)

    def pei(self) -> Estimate:
        """Pooled PEI: captured over the best possible, summed over periods."""
        return self.boot.ratio(self.captured, self.best, int(self.incidents.sum()))

    def auc_mean(self) -> Estimate:
        """Mean AUC over periods."""
        return self.boot.mean(self.auc)

    def defined(self, baseline: str) -> np.ndarray:
        """Periods where ``baseline`` is defined (and there were incidents)."""
        return np.isfinite(self.baseline_captured[baseline]) & (self.incidents > 0)

    def baseline_hit(self, baseline: str) -> Estimate:
        """Pooled hit rate of ``baseline`` over the periods where it is defined."""
        ok = self.defined(baseline)
        return self.boot.ratio(
            np.where(ok, self.baseline_captured[baseline], 0), self.incidents * ok
        )

    def model_hit_on(self, baseline: str) -> Estimate:
        """Pooled model hit rate on the periods where ``baseline`` is defined."""
        ok = self.defined(baseline)
        return self.boot.ratio(self.captured * ok, self.incidents * ok)

    def difference(self, baseline: str) -> Estimate:
        """Model − baseline hit rate, paired over the same periods."""
        ok = self.defined(baseline)
        diff = np.where(ok, self.captured - np.nan_to_num(self.baseline_captured[baseline]), 0)
        return self.boot.ratio(diff, self.incidents * ok)

    def gain(self, baseline: str) -> Estimate:
        """Relative gain in hit rate over ``baseline``: model / baseline − 1."""
        model, base = self.model_hit_on(baseline), self.baseline_hit(baseline)
        return self.boot.combine(lambda a, b: a / b - 1, model, base, n=model.n)


def measure(
    score: np.ndarray,
    selected: np.ndarray,
    counts: np.ndarray,
    history: int,
    boot: Bootstrap,
    expected: np.ndarray | None = None,
) -> Accuracy:
    """Per-period counts for the model, the baselines and the calibration.

    ``counts`` holds incidents for ``history`` periods before the scored ones, then one
    row per scored period. The periods are computed one at a time (arrays of one
    period stay in cache), in two threads over halves of the periods.
    """
    n_periods, n_cells = selected.shape
    out = {
        name: np.full(n_periods, np.nan)
        for name in ("incidents", "captured", "k", "best", "auc", "auc_se", "last", "long_run")
    }
    edges = None if expected is None else _decile_edges(expected)
    size = 0 if edges is None else edges.size + 1
    tallies = [np.zeros((3, size)) for _ in range(2)]

    def run(half: int) -> None:
        lo, hi = half * n_periods // 2, (half + 1) * n_periods // 2
        cumulative = counts[: history + lo].sum(axis=0)
        for p in range(lo, hi):
            row = history + p
            current = counts[row]
            nz = np.flatnonzero(current)
            values = current[nz].astype(np.float64)
            chosen = selected[p]
            k = int(np.count_nonzero(chosen))
            out["incidents"][p] = values.sum()
            out["captured"][p] = values[chosen[nz]].sum()
            out["k"][p] = k
            out["best"][p] = np.sort(values)[::-1][:k].sum()
            positive = np.zeros(n_cells, bool)
            positive[nz] = True
            out["auc"][p], out["auc_se"][p] = _delong(score[p], positive)
            if row >= 1:
                out["last"][p] = _capture(counts[row - 1], k, nz, values)
                out["long_run"][p] = _capture(cumulative, k, nz, values)
            if edges is not None and expected is not None:
                decile = np.searchsorted(edges, expected[p], side="right")
                tallies[half][0] += np.bincount(decile, minlength=size)
                tallies[half][1] += np.bincount(decile[nz], values, minlength=size)
                tallies[half][2] += np.bincount(decile, expected[p], minlength=size)
            cumulative += current

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, range(2)))
    incidents, k = out["incidents"], out["k"]
    return Accuracy(
        incidents=incidents,
        captured=out["captured"],
        k=k,
        n_cells=n_cells,
        best=out["best"],
        auc=out["auc"],
        auc_se=out["auc_se"],
        baseline_captured={
            "last_period": out["last"],
            "long_run": out["long_run"],
            "random": k / n_cells * incidents,
        },
        boot=boot,
        calibration=None if edges is None else tallies[0] + tallies[1],
    )


def _decile_edges(expected: np.ndarray) -> np.ndarray:
    """Edges of the deciles of the expected counts, from a systematic sample."""
    flat = expected.ravel()
    step = max(1, flat.size // SAMPLE)
    return np.unique(np.quantile(flat[::step], np.linspace(0, 1, N_DECILES + 1)[1:-1]))


def accuracy(
    acc: Accuracy, selected: np.ndarray, starts: list[str], confidence: float
) -> dict[str, Any]:
    """The ``accuracy`` and ``baselines`` parts of the result."""
    boot = acc.boot
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = acc.captured / acc.incidents
        area = acc.k / acc.n_cells
        h_low, h_high = wilson_interval(acc.captured, acc.incidents, confidence)
        p_low, p_high = wilson_interval(
            acc.captured, np.maximum(acc.best, acc.captured), confidence
        )
        pei = acc.captured / acc.best
    se = acc.auc_se
    z = _z(confidence)
    jaccard = np.full(acc.k.size, np.nan)
    if acc.k.size > 1:
        both = np.einsum("pc,pc->p", selected[1:], selected[:-1], dtype=np.float64)
        either = acc.k[1:] + acc.k[:-1] - both
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard[1:] = both / either
    per_period = {
        "start": starts,
        "incidents": acc.incidents.astype(int).tolist(),
        "selected_cells": acc.k.astype(int).tolist(),
        "captured": acc.captured.astype(int).tolist(),
        "hit_rate": entries(hit, h_low, h_high, acc.incidents),
        "area_share": [float(a) for a in area],
        "pai": entries(hit / area, h_low / area, h_high / area, acc.incidents),
        "pei": entries(pei, p_low, p_high, acc.incidents),
        "auc": entries(
            acc.auc,
            np.clip(acc.auc - z * se, 0, 1),
            np.clip(acc.auc + z * se, 0, 1),
            acc.incidents,
            se=se,
        ),
        "jaccard": [None if not np.isfinite(j) else float(j) for j in jaccard],
    }
    pooled = {
        "hit_rate": acc.hit_rate().entry(confidence),
        "area_share": acc.area_share().entry(confidence),
        "pai": acc.pai().entry(confidence),
        "pei": acc.pei().entry(confidence),
        "auc": acc.auc_mean().entry(confidence),
        "jaccard": boot.mean(jaccard).entry(confidence),
    }
    out: dict[str, Any] = {"pooled": pooled, "per_period": per_period}
    if acc.calibration is not None:
        out["calibration"] = calibration(acc.calibration, confidence)
    return out


def baselines(acc: Accuracy, confidence: float) -> dict[str, Any]:
    """Hit rate of each baseline, and the model's difference and relative gain over it."""
    out = {}
    for name in BASELINES:
        ok = acc.defined(name)
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(ok, acc.baseline_captured[name] / acc.incidents, np.nan)
        out[name] = {
            "periods": int(ok.sum()),
            "hit_rate": acc.baseline_hit(name).entry(confidence),
            "model_hit_rate": acc.model_hit_on(name).entry(confidence),
            "difference": acc.difference(name).entry(confidence),
            "gain": acc.gain(name).entry(confidence),
            "per_period_hit_rate": [float(v) if np.isfinite(v) else None for v in per],
        }
    return out


def calibration(tallies: np.ndarray, confidence: float) -> dict[str, Any]:
    """Observed vs expected incidents per decile of the expected count, and overall.

    ``tallies`` is ``(3, deciles)``: cell-periods, observed and expected per decile.
    """
    n, obs, exp = tallies
    low, high = poisson_ratio_interval(obs, exp, confidence)
    rows = []
    for i in range(n.size):
        if n[i] == 0:
            continue
        oe = obs[i] / exp[i] if exp[i] > 0 else np.nan
        rows.append(
            {
                "kind": "decile",
                "label": f"{i + 1}",
                "n": int(n[i]),
                "observed": round(obs[i]),
                "expected": float(exp[i]),
                "mean_expected": float(exp[i] / n[i]),
                "oe": entry(oe, low[i], high[i], n[i]),
            }
        )
    total_o, total_e = float(obs.sum()), float(exp.sum())
    o_low, o_high = poisson_ratio_interval(total_o, total_e, confidence)
    overall = entry(
        total_o / total_e if total_e > 0 else np.nan,
        o_low,
        o_high,
        n.sum(),
        observed=total_o,
        expected=total_e,
    )
    return {"overall": overall, "deciles": rows}


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))
