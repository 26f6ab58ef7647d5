"""Validity of an instrument from the cube: discrimination (AUC) and calibration.

All computed from cells in O(cells):

* ``base_rate``: P(outcome), Wilson interval.
* ``auc``: ROC AUC with the DeLong interval, over the score bins (exact for a score
  with at most ``n_bins`` distinct values; see :mod:`waarborg.audit.cube` for the bound
  on the effect of quantile bins, reported as ``binning_error_max``), or over the bands
  in risk order when there is no score. ``auc_band``: the AUC of the bands when there
  is a score as well (what banding keeps of the score's discrimination).
* ``brier``: mean squared error of the predicted probabilities (needs a score in
  [0, 1]); exact from the per-cell sums of scores and squared scores; normal interval
  for a mean.
* ``calibration``: per band (or per score decile without bands): n, observed events,
  expected events (sum of predicted probabilities), O/E with the exact Poisson
  (Garwood) interval, and the observed rate with a Wilson interval.
* ``calibration_deciles``: the same per decile of the score (bins in score order are
  put in ten groups of about equal size; tied scores are never split).
* ``calibration_intercept`` / ``calibration_slope``: logistic recalibration on the
  logit of the predicted probability (mean per cell), Wald intervals.
* ``calibration_groups``: the band (or decile) calibration table per group of each
  attribute (:func:`calibration_by_group`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as sps

from waarborg.audit.cells import Cells, lookup
from waarborg.audit.result import entry, jsonable, skipped
from waarborg.audit.stats import (
    auc_from_counts,
    brier_from_counts,
    logistic_recalibration,
    poisson_ratio_interval,
    roc_curve_from_counts,
    wilson_interval,
)

__all__ = ["assess", "calibration_by_group", "roc_points"]

N_DECILES = 10
ROC_POINTS = 101


def assess(cells: Cells, confidence: float = 0.95) -> tuple[dict[str, Any], list[dict]]:
    """The ``validity`` part of the audit result, and flags for what was skipped.

    Examples
    --------
    >>> count = np.array([40.0, 10.0, 20.0, 30.0])
    >>> bins = np.array([0, 0, 1, 1])
    >>> cells = Cells(count, {}, outcome=np.array([0, 1, 0, 1]), score=bins,
    ...               score_keys=np.array([0.2, 0.6]), score_sum=count * [0.2, 0.2, 0.6, 0.6],
    ...               score_sq=count * [0.04, 0.04, 0.36, 0.36], score_range=[0.2, 0.6])
    >>> out, flags = assess(cells)
    >>> round(out["auc"]["value"], 4), round(out["brier"]["value"], 4)
    (0.7083, 0.2)
    """
    if cells.outcome is None:
        return {}, [skipped("validity", "there is no outcome", "er geen uitkomst is", "validiteit")]
    flags: list[dict] = []
    pos = float(cells.count[cells.outcome == 1].sum())
    low, high = wilson_interval(pos, cells.n, confidence)
    out: dict[str, Any] = {
        "base_rate": entry(pos / cells.n if cells.n else np.nan, low, high, cells.n, k=pos)
    }
    counted = _Counts.of(cells)
    out |= _discrimination(cells, counted, confidence, flags)
    if cells.score is None:
        if counted.bands is not None:
            out["calibration"] = _band_table(cells, counted.bands, confidence)
        return out, flags
    if not cells.is_probability:
        flags.append(
            skipped(
                "brier and calibration against predictions",
                "the score is not a probability (values outside [0, 1])",
                "de score geen kans is (waarden buiten [0, 1])",
                "Brier-score en kalibratie tegen de voorspellingen",
            )
        )
    out |= _calibration(cells, counted, confidence, flags)
    return out, flags


@dataclass(frozen=True)
class _Counts:
    """Cases by outcome (first axis) and score bin, and by outcome and band (None
    without a score or bands): every count of the validity tables is a sum of these,
    each counted once from the cells. The counts are whole numbers, so those sums are
    exact and equal a count of their own.
    """

    bins: np.ndarray | None
    bands: np.ndarray | None

    @classmethod
    def of(cls, cells: Cells) -> _Counts:
        """The counts of ``cells`` (which have an outcome)."""
        y = (cells.outcome, 2)
        bins = None if cells.score is None else (cells.score, cells.score_keys.size)
        bands = None if cells.band is None else (cells.band, len(cells.band_labels))
        return cls(*(None if by is None else cells.crosstab(y, by) for by in (bins, bands)))


def _auc(counts: np.ndarray, confidence: float, basis: str, **extra: Any) -> dict[str, Any]:
    """AUC entry from counts (outcome 0/1, ordered bins)."""
    res = auc_from_counts(counts[1], counts[0], confidence)
    return entry(
        res.auc,
        res.ci[0],
        res.ci[1],
        counts.sum(),
        se=res.se,
        method="DeLong",
        basis=basis,
        n_positive=counts[1].sum(),
        n_negative=counts[0].sum(),
        **extra,
    )


def _discrimination(
    cells: Cells, counted: _Counts, confidence: float, flags: list[dict]
) -> dict[str, Any]:
    order, basis = cells.ordered_bins()
    out: dict[str, Any] = {}
    if order is None:
        if cells.band is not None:
            flags.append(
                skipped(
                    "AUC",
                    "the order of the bands is unknown (give band_order)",
                    "de volgorde van de categorieën onbekend is (geef band_order)",
                )
            )
        return out
    counts = counted.bins if basis == "score" else counted.bands
    extra = {}
    if basis == "score" and cells.binning in ("quantile", "mixed"):
        extra["binning_error_max"] = _binning_bound(counts)
    out["auc"] = _auc(counts, confidence, basis, **extra)
    out["roc"] = {"overall": roc_points(counts[1], counts[0]), "groups": {}}
    if basis == "score" and cells.band is not None and cells.band_ordered:
        out["auc_band"] = _auc(counted.bands, confidence, "band")
    return out


def roc_points(positives: np.ndarray, negatives: np.ndarray) -> Any:
    """ROC curve(s) as ``{"fpr": [...], "tpr": [...]}`` for plotting.

    Curves with more than ``ROC_POINTS`` points are thinned to that many (evenly over
    the thresholds, both ends kept); the AUC is always computed from all bins. With a
    leading axis of groups, returns a list with one curve per group.

    Examples
    --------
    >>> roc_points(np.array([1, 2, 7]), np.array([6, 3, 1]))
    {'fpr': [0.0, 0.1, 0.4, 1.0], 'tpr': [0.0, 0.7, 0.9, 1.0]}
    """
    fpr, tpr = roc_curve_from_counts(positives, negatives, points=ROC_POINTS)
    if fpr.ndim == 1:
        return {"fpr": jsonable(fpr), "tpr": jsonable(tpr)}
    every = zip(jsonable(fpr), jsonable(tpr), strict=True)  # all groups' at once: thousands
    return [{"fpr": f, "tpr": t} for f, t in every]


def _binning_bound(counts: np.ndarray) -> float:
    """Most the AUC can move if the ties inside each bin were broken: sum pos*neg / 2mn."""
    pos, neg = counts[1], counts[0]
    total = pos.sum() * neg.sum()
    return float((pos * neg).sum() / (2 * total)) if total else float("nan")


def _calibration(
    cells: Cells, counted: _Counts, confidence: float, flags: list[dict]
) -> dict[str, Any]:
    """Calibration tables, Brier score, and recalibration intercept and slope."""
    deciles = _deciles(counted.bins.sum(0))
    labels = [f"decile {d + 1}" for d in range(int(deciles.max()) + 1)]
    starts = np.flatnonzero(np.diff(deciles, prepend=-1))  # a decile's bins are adjacent
    by_decile = np.add.reduceat(counted.bins, starts, axis=1)
    out: dict[str, Any] = {
        "calibration_deciles": _table(
            cells,
            (lookup(deciles, cells.score), len(labels)),
            labels,
            "decile",
            confidence,
            by_decile.T,
        )
    }
    if counted.bands is not None:
        out["calibration"] = _band_table(cells, counted.bands, confidence)
    else:
        out["calibration"] = out["calibration_deciles"]
    if not cells.is_probability:
        return out
    by_bin = (cells.score, cells.score_keys.size)
    sum_yk, sq_yk = cells.crosstabs(
        (cells.outcome, 2), by_bin, weights=[cells.score_sum, cells.score_sq]
    )
    out["brier"] = _brier(counted.bins, sum_yk, sq_yk, confidence)
    out |= _recalibration(counted.bins, sum_yk, confidence, flags)
    return out


def _band_table(cells: Cells, by_band: np.ndarray, confidence: float) -> list[dict[str, Any]]:
    """The calibration table per band (``by_band``: cases by outcome and band)."""
    by = (cells.band, len(cells.band_labels))
    return _table(cells, by, cells.band_labels, "band", confidence, by_band.T)


def calibration_by_group(
    cells: Cells, attributes: dict[str, tuple[np.ndarray, list[str]]], confidence: float = 0.95
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Calibration table (per band, else per overall score decile) of every group.

    Each group's table is the overall table computed on that group's cells only, so
    the rows have the same meaning and the same band or decile boundaries everywhere.

    Examples
    --------
    >>> cells = Cells(np.array([8.0, 2.0, 5.0, 5.0]), {}, outcome=np.array([0, 1, 0, 1]),
    ...               band=np.array([0, 0, 1, 1]), band_labels=["laag", "hoog"])
    >>> out = calibration_by_group(cells, {"g": (np.array([0, 0, 1, 1]), ["a", "b"])})
    >>> [r["label"] for r in out["g"]["b"]], out["g"]["b"][0]["observed"]
    (['hoog'], 5)
    """
    if cells.outcome is None or (cells.band is None and cells.score is None):
        return {}
    if cells.band is not None:
        by = (cells.band, len(cells.band_labels))
        labels, kind = cells.band_labels, "band"
    else:
        deciles = _deciles(cells.crosstab((cells.score, cells.score_keys.size)))
        labels = [f"decile {d + 1}" for d in range(int(deciles.max()) + 1)]
        by, kind = (lookup(deciles, cells.score), len(labels)), "decile"
    dims = [(codes, len(group_labels)) for codes, group_labels in attributes.values()]
    return {
        name: dict(
            zip(
                group_labels, _tables(cells, dim, by, labels, kind, confidence, counts), strict=True
            )
        )
        for (name, (_, group_labels)), dim, counts in zip(
            attributes.items(), dims, _by_outcome(cells, dims, by), strict=True
        )
    }


def _by_outcome(
    cells: Cells, dims: list[tuple[np.ndarray, int]], by: tuple[np.ndarray, int]
) -> list[np.ndarray]:
    """Cases by (group, band or decile, outcome) of each attribute (``dims``: codes and
    number of groups).

    One count of the cells by all attributes together serves them all when that table
    is no larger than the cells (its sums are whole numbers, so exact); else each
    attribute is counted on its own.
    """
    size = math.prod(n for _, n in dims) * by[1] * 2
    if size > cells.count.size:
        return [cells.crosstab(dim, by, (cells.outcome, 2)) for dim in dims]
    every = cells.crosstab(*dims, by, (cells.outcome, 2))
    axes = range(len(dims))
    return [every.sum(axis=tuple(j for j in axes if j != i)) for i in axes]


def _deciles(n_k: np.ndarray) -> np.ndarray:
    """Decile (0-9) of each score bin: bins in score order, cut by cumulative count."""
    before = np.cumsum(n_k) - n_k
    total = n_k.sum()
    if total == 0:
        return np.zeros(n_k.size, np.int64)
    raw = np.minimum(np.floor(N_DECILES * before / total), N_DECILES - 1).astype(np.int64)
    _, dense = np.unique(raw, return_inverse=True)  # no empty deciles in the numbering
    return dense.astype(np.int64)


def _table(
    cells: Cells,
    by: tuple[np.ndarray, int],
    labels: list[str],
    kind: str,
    confidence: float,
    by_outcome: np.ndarray,
) -> list[dict[str, Any]]:
    """Observed vs expected per band or decile, all cases together (``by_outcome``:
    cases by band or decile and outcome).
    """
    return _tables(cells, (None, 1), by, labels, kind, confidence, by_outcome[None])[0]


def _tables(
    cells: Cells,
    groups: tuple[np.ndarray | None, int],
    by: tuple[np.ndarray, int],
    labels: list[str],
    kind: str,
    confidence: float,
    by_outcome: np.ndarray,
) -> list[list[dict[str, Any]]]:
    """Observed vs expected per band or decile, one table per group.

    One crosstab of every cell by (group, band or decile) serves all groups at once,
    with the same sums in the same cell order as a table of each group's cells alone.
    The events are the cases with the outcome, the n those with and without
    (``by_outcome``: cases by group, band or decile and outcome).
    """
    n, events = by_outcome.sum(-1), by_outcome[..., 1]
    score = None
    if cells.score is not None:
        score = cells.crosstab(groups, by, weights=cells.score_sum)
    low, high = wilson_interval(events, n, confidence)
    prob = score is not None and cells.is_probability
    oe = poisson_ratio_interval(events, score, confidence) if prob else None
    out = []
    for g in range(groups[1]):
        rows = []
        for i, label in enumerate(labels):
            if n[g, i] == 0:
                continue
            row = {
                "kind": kind,
                "label": label,
                "n": int(n[g, i]),
                "observed": round(events[g, i]),
                "observed_rate": entry(events[g, i] / n[g, i], low[g, i], high[g, i], n[g, i]),
            }
            if score is not None:
                row["mean_score"] = float(score[g, i] / n[g, i])
            if oe is not None:
                e = score[g, i]
                ratio = events[g, i] / e if e > 0 else np.nan
                row |= {"expected": float(e), "oe": entry(ratio, oe[0][g, i], oe[1][g, i], n[g, i])}
            rows.append(row)
        out.append(rows)
    return out


def _brier(n_yk: np.ndarray, sum_yk: np.ndarray, sq_yk: np.ndarray, confidence: float) -> dict:
    """Brier score, exact from the cells' sums, with a normal interval for a mean.

    Per cell (outcome y, bin k) with mean prediction m: sum (y - p)^2 = n (y - m)^2 +
    (sum p^2 - n m^2); the first part is :func:`brier_from_counts`, the second the
    spread inside the cell (zero when the score is kept exact).
    """
    n = n_yk.ravel()
    keep = n > 0
    n, total, squares = n[keep], sum_yk.ravel()[keep], sq_yk.ravel()[keep]
    y = np.repeat([0.0, 1.0], n_yk.shape[1])[keep]
    mean = np.clip(total / n, 0.0, 1.0)
    spread = np.maximum(squares - total * total / n, 0.0)
    size = n.sum()
    brier = float(brier_from_counts(mean, y * n, n) + spread.sum() / size)
    d2 = (y - mean) ** 4  # second moment of the squared error, cell means (approximate when binned)
    # sample variance of the squared errors (ddof 1), as for any mean's interval
    var = max(float((n * d2).sum() - size * brier**2) / max(size - 1, 1), 0.0)
    half = sps.norm.isf((1 - confidence) / 2) * np.sqrt(var / size)
    return entry(brier, max(brier - half, 0.0), brier + half, size)


def _recalibration(
    n_yk: np.ndarray, sum_yk: np.ndarray, confidence: float, flags: list[dict]
) -> dict[str, Any]:
    """Calibration intercept and slope on the logit of each cell's mean prediction."""
    n = n_yk.ravel()
    keep = n > 0
    mean = sum_yk.ravel()[keep] / n[keep]
    if np.any((mean <= 0) | (mean >= 1)):
        flags.append(
            skipped(
                "calibration slope and intercept",
                "some predicted probabilities are exactly 0 or 1 (logit infinite)",
                "sommige voorspelde kansen precies 0 of 1 zijn (logit oneindig)",
                "kalibratiehelling en -intercept",
            )
        )
        return {}
    y = np.repeat([0.0, 1.0], n_yk.shape[1])[keep]
    res = logistic_recalibration(special.logit(mean), y * n[keep], n[keep], confidence)
    size = n.sum()
    return {
        "calibration_intercept": entry(res.intercept, *res.intercept_ci, size, se=res.intercept_se),
        "calibration_slope": entry(
            res.slope,
            *res.slope_ci,
            size,
            se=res.slope_se,
            recalibration_intercept=res.recalibration_intercept,
        ),
    }
