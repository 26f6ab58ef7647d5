"""Honest intervals for the audit of a published (rounded, suppressed) cube.

:func:`widen` replaces every interval of an audit result by one that also covers every
true cube the published one allows (:func:`waarborg.audit.disclosure.count_box` gives
each cell's bounds; :mod:`waarborg.audit.envelope` the envelopes). The estimates stay
the published ones; each widened interval is the union of the published interval and
the envelope, marked ``ci_rounding``. Nothing here runs for a cube without disclosure
metadata.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from waarborg.audit import judgement
from waarborg.audit.cells import Cells
from waarborg.audit.envelope import (
    AucRange,
    Span,
    auc_range,
    difference_interval,
    intercept_interval,
    mean_range,
    nearest_null_pvalue,
    oe_interval,
    rate_interval,
    ratio_interval_box,
    representation_interval,
    slope_interval,
)
from waarborg.audit.fairness import (
    N_BOOT,
    SAME_TEST,
    Attribute,
    _holm,
    _representation,
    _stats,
    _Test,
    _verdicts,
)
from waarborg.audit.validity import _deciles

__all__ = ["CellBox", "widen"]


@dataclasses.dataclass
class CellBox:
    """Per cell: bounds of the true count and of the mean score of its cases.

    ``mean`` is exact for a published cell with cases (the export keeps each cell's mean
    score); for a suppressed cell or one published as 0 it is the cell's score bin
    (the bin's value for exact bins; from its lower edge to the next for quantile bins;
    the whole score range for mixed bins). ``square`` bounds the mean squared score.
    """

    count: Span
    mean: Span | None = None
    square: Span | None = None

    @classmethod
    def of(cls, cells: Cells, count: Span) -> CellBox:
        """The box of ``cells`` whose counts lie in ``count``.

        Examples
        --------
        >>> cells = Cells(np.array([10.0, 0.0]), {}, outcome=np.array([0, 1]),
        ...               score=np.array([0, 1]), score_keys=np.array([0.2, 0.6]),
        ...               score_sum=np.array([2.0, 0.0]), score_sq=np.array([0.4, 0.0]),
        ...               binning="quantile", score_range=[0.2, 0.9])
        >>> box = CellBox.of(cells, Span(np.array([5.0, 0.0]), np.array([14.0, 9.0])))
        >>> box.mean.low.tolist(), box.mean.high.tolist()  # the second: its bin
        ([0.2, 0.6], [0.2, 0.9])
        """
        if cells.score is None or cells.score_sum is None:
            return cls(count)
        known = cells.count > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(known, cells.score_sum / cells.count, 0.0)
            square = np.where(known, cells.score_sq / cells.count, 0.0)
        low, high = _bin_edges(cells)
        return cls(
            count,
            Span(np.where(known, mean, low), np.where(known, mean, high)),
            Span(np.where(known, square, low * low), np.where(known, square, high * high)),
        )


def _bin_edges(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    keys = cells.score_keys
    lo, hi = cells.score_range or [float(keys[0]), float(keys[-1])]
    if cells.binning == "exact":
        return keys[cells.score], keys[cells.score]
    if cells.binning == "quantile":
        upper = np.append(keys[1:], hi)
        return keys[cells.score], upper[cells.score]
    size = cells.score.size
    return np.full(size, float(lo)), np.full(size, float(hi))


def widen(
    result: dict[str, Any],
    cells: Cells,
    count: Span,
    attrs: Sequence[Attribute],
    confidence: float,
    seed: int = 0,
) -> None:
    """Widen every interval of ``result`` (in place) for counts known only within ``count``.

    Then the verdicts are rewritten with the widened intervals. :func:`waarborg.audit.audit`
    calls it for a cube with disclosure metadata.

    Examples
    --------
    >>> import pandas as pd
    >>> from waarborg.audit import audit, build_cube
    >>> from waarborg.audit.disclosure import Rules, export_cube
    >>> df = pd.DataFrame({"g": ["a", "b"] * 50, "s": [0, 1, 1, 0] * 25})
    >>> cube = export_cube(build_cube(df, group=["g"], selected="s"), Rules(min_frequency=1))
    >>> rate = audit(cube.to_arrow())["overall"]["selection_rate"]  # 4 cells of 25 → 30
    >>> rate["n"], [round(x, 3) for x in rate["ci"]], rate["ci_rounding"]
    (120, [0.338, 0.662], True)
    """
    box = CellBox.of(cells, count)
    result["n"] |= {"ci": [float(count.low.sum()), float(count.high.sum())], "ci_rounding": True}
    low, high = (dataclasses.replace(cells, count=c) for c in count)
    order, _ = cells.ordered_bins()
    rng = np.random.default_rng(seed)
    everyone = Attribute("all", np.zeros(cells.count.size, np.int64), ["all"])
    _rates(result["overall"], low, high, everyone, None, confidence)
    if "base_rate" in result["validity"] and "base_rate" in result["overall"]:
        _set(result["validity"]["base_rate"], *result["overall"]["base_rate"]["ci"])
    for attribute in attrs:
        where = result["groups"][attribute.name]
        _rates(where, low, high, attribute, attribute.labels, confidence)
        _shares(where, low, high, attribute, confidence, rng)
        ref = attribute.labels.index(result["reference"][attribute.name])
        gaps = result["disparities"][attribute.name]
        _disparities(gaps, low, high, attribute, ref, confidence)
        if order is not None and cells.outcome is not None:
            _group_auc(where, gaps, low, high, attribute, order, ref, confidence)
    _validity(result["validity"], cells, box, low, high, confidence)
    result["tests"]["family_size"] = _holm_again(result["disparities"])
    level = round(confidence * 100)
    result["verdicts"] = _verdicts(
        result["groups"], result["disparities"], result["reference"], level
    )
    result["validity_verdicts"] = judgement.validity_verdicts(result["validity"], level)


# --------------------------------------------------------------------------- helpers


def _set(leaf: dict[str, Any] | None, low: Any, high: Any, *, undefined: bool = False) -> None:
    """The union of the published interval and [low, high]; marks the leaf.

    ``undefined``: the published interval is undefined (not unbounded), so the envelope
    alone is the interval.
    """
    if leaf is None or leaf.get("value") is None:
        return
    old_low, old_high = leaf["ci"]
    if undefined:
        old_low, old_high = _finite(low, old_low), _finite(high, old_high)
    new = [_union(old_low, low, min), _union(old_high, high, max)]
    leaf["ci"], leaf["ci_rounding"] = new, True


def _finite(new: Any, old: float | None) -> float | None:
    return float(new) if new is not None and np.isfinite(new) else old


def _union(old: float | None, new: Any, pick: Any) -> float | None:
    """The outer of two bounds; None (undefined or unbounded) if either is."""
    if old is None or new is None or not np.isfinite(new):
        return None
    return float(pick(old, new))


def _spans(low: Cells, high: Cells, attribute: Attribute) -> dict[str, tuple[Span, Span]]:
    """Every rate's (numerator, rest) spans per group of ``attribute``."""
    st_low, st_high = _stats(low, attribute, None), _stats(high, attribute, None)
    out = {}
    for name, (x_low, d_low) in st_low.rates(low).items():
        x_high, d_high = st_high.rates(high)[name]
        out[name] = (Span(x_low, x_high), Span(d_low - x_low, d_high - x_high))
    return out


def _leaf(where: dict, labels: list[str] | None, i: int, metric: str) -> dict | None:
    if labels is None:
        return where.get(metric)
    return where.get(labels[i], {}).get(metric)


def _rates(
    where: dict,
    low: Cells,
    high: Cells,
    attribute: Attribute,
    labels: list[str] | None,
    confidence: float,
) -> None:
    for metric, (k, rest) in _spans(low, high, attribute).items():
        lo, hi = rate_interval(k, rest, confidence)
        for i in range(lo.size):
            _set(_leaf(where, labels, i, metric), lo[i], hi[i])


def _shares(
    where: dict,
    low: Cells,
    high: Cells,
    attribute: Attribute,
    confidence: float,
    rng: np.random.Generator,
) -> None:
    """share, share_selected (Wilson over the box) and representation (bootstrap)."""
    st_low, st_high = _stats(low, attribute, None), _stats(high, attribute, None)
    labels = attribute.labels
    sizes = Span(st_low.n, st_high.n)
    parts = {"share": sizes}
    if low.selected is not None:
        parts["share_selected"] = Span(st_low.table[:, :, 1].sum(1), st_high.table[:, :, 1].sum(1))
    for metric, k in parts.items():
        rest = Span(k.low.sum() - k.low, k.high.sum() - k.high)
        lo, hi = rate_interval(k, rest, confidence)
        for i in range(lo.size):
            _set(_leaf(where, labels, i, metric), lo[i], hi[i])
    if low.selected is None:
        return
    chosen = parts["share_selected"]
    unselected = Span(sizes.low - chosen.low, sizes.high - chosen.high)
    lo, hi = representation_interval(unselected, chosen, _representation, N_BOOT, confidence, rng)
    for i in range(lo.size):
        _set(_leaf(where, labels, i, "representation"), lo[i], hi[i])


def _disparities(
    gaps: dict,
    low: Cells,
    high: Cells,
    attribute: Attribute,
    ref: int,
    confidence: float,
) -> None:
    others = [g for g in range(len(attribute.labels)) if g != ref]
    if not others:
        return
    for metric, (k, rest) in _spans(low, high, attribute).items():
        one = (_pick(k, others), _pick(rest, others))
        base = (_pick(k, [ref] * len(others)), _pick(rest, [ref] * len(others)))
        diff = difference_interval(*one, *base, confidence)
        ratio = ratio_interval_box(*one, *base, confidence)
        p = nearest_null_pvalue(*one, *base)
        for j, g in enumerate(others):
            pair = gaps.get(attribute.labels[g], {}).get(metric)
            if pair is not None:
                _set(pair["difference"], diff[0][j], diff[1][j])
                _set(pair["ratio"], ratio[0][j], ratio[1][j])
                _set_p(pair, p[j])


def _auc_pvalue(group: AucRange, base: AucRange) -> float:
    """z test of the AUC difference at the cubes closest to no difference (1 if the box
    holds none)."""
    if group.low - base.high > 0:
        nearest, se = group.low - base.high, np.hypot(group.se_low, base.se_high)
    elif group.high - base.low < 0:
        nearest, se = group.high - base.low, np.hypot(group.se_high, base.se_low)
    else:
        return 1.0
    return float(2 * sps.norm.sf(abs(nearest) / se)) if se > 0 else float("nan")


def _set_p(pair: dict[str, dict], p: float) -> None:
    """The honest p-value on every entry of a test: the larger of the published one and
    the one at the cube closest to no difference (a published undefined one stays)."""
    for leaf in pair.values():
        if leaf.get("p_value") is not None:
            leaf["p_value"] = None if np.isnan(p) else float(max(p, leaf["p_value"]))


def _pick(span: Span, index: list[int]) -> Span:
    return Span(span.low[index], span.high[index])


def _z(confidence: float) -> float:
    return float(sps.norm.isf((1 - confidence) / 2))


def _clip(low: float, high: float, floor: float = 0.0) -> tuple[float, float]:
    """An AUC's bounds within [0, 1] (a difference's within [-1, 1]); nan stays nan."""
    low = max(low, floor) if np.isfinite(low) else low
    return low, min(high, 1.0) if np.isfinite(high) else high


def _auc_box(low: Cells, high: Cells, attribute: Attribute, order: tuple) -> list:
    """AUC ranges per group."""
    roc_low = _stats(low, attribute, order).roc
    roc_high = _stats(high, attribute, order).roc
    return [
        (
            Span(roc_low[g, 1], roc_high[g, 1]),
            Span(roc_low[g, 0], roc_high[g, 0]),
        )
        for g in range(len(attribute.labels))
    ]


def _group_auc(
    where: dict,
    gaps: dict,
    low: Cells,
    high: Cells,
    attribute: Attribute,
    order: tuple,
    ref: int,
    confidence: float,
) -> None:
    z = _z(confidence)
    ranges = [auc_range(p, n, confidence) for p, n in _auc_box(low, high, attribute, order)]
    for g, label in enumerate(attribute.labels):
        r = ranges[g]
        _set(where.get(label, {}).get("auc"), *_clip(r.low - z * r.se_low, r.high + z * r.se_high))
        pair = gaps.get(label, {}).get("auc")
        if g == ref or pair is None:
            continue
        base = ranges[ref]
        lo = r.low - base.high - z * np.hypot(r.se_low, base.se_high)
        hi = r.high - base.low + z * np.hypot(r.se_high, base.se_low)
        undefined = bool(pair["difference"].get("degenerate"))
        _set(pair["difference"], *_clip(lo, hi, -1.0), undefined=undefined)
        _set_p(pair, _auc_pvalue(r, base))


def _holm_again(disparities: dict[str, dict]) -> int:
    """Holm over the family again, with the honest p-values (one test per group and
    metric; ``fnr``/``tnr`` are the tests of ``tpr``/``fpr``, as in the audit)."""
    tests: dict[tuple[str, str, str], _Test] = {}
    for attribute, per_group in disparities.items():
        for group, metrics in per_group.items():
            for metric, pair in metrics.items():
                key = (attribute, group, SAME_TEST.get(metric, metric))
                p = pair["difference"]["p_value"]
                test = tests.setdefault(key, _Test(np.nan if p is None else p, []))
                test.targets += list(pair.values())
    return _holm(list(tests.values()))


# --------------------------------------------------------------------------- validity


def _validity(
    valid: dict, cells: Cells, box: CellBox, low: Cells, high: Cells, confidence: float
) -> None:
    if cells.outcome is None:
        return
    z = _z(confidence)
    order, _ = cells.ordered_bins()
    if "auc" in valid and order is not None:
        _auc_entry(valid["auc"], low, high, order, z, confidence)
    if "auc_band" in valid:
        bands = (cells.band, len(cells.band_labels))
        _auc_entry(valid["auc_band"], low, high, bands, z, confidence)
    by = _calibration_rows(cells)
    if by is not None:
        for key in ("calibration", "calibration_deciles"):
            if key in valid:
                rows_by = by if key == "calibration" else _decile_rows(cells)
                _table(valid[key], cells, box, rows_by, None, confidence)
        for name, groups in valid.get("calibration_groups", {}).items():
            codes, group_labels = cells.groups[name]
            for g, label in enumerate(group_labels):
                if label in groups:
                    _table(groups[label], cells, box, by, codes == g, confidence)
    if box.mean is not None and cells.is_probability:
        _brier(valid.get("brier"), cells, box, z)
        _recalibration(valid, cells, box, confidence)


def _auc_entry(
    leaf: dict, low: Cells, high: Cells, order: tuple, z: float, confidence: float
) -> None:
    t_low = low.crosstab((low.outcome, 2), order)
    t_high = high.crosstab((high.outcome, 2), order)
    r = auc_range(Span(t_low[1], t_high[1]), Span(t_low[0], t_high[0]), confidence)
    _set(leaf, *_clip(r.low - z * r.se_low, r.high + z * r.se_high))


def _calibration_rows(cells: Cells) -> tuple[np.ndarray, int] | None:
    """How the calibration table (and by group) cuts the cells: bands, else deciles."""
    if cells.band is not None:
        return cells.band, len(cells.band_labels)
    return _decile_rows(cells)


def _decile_rows(cells: Cells) -> tuple[np.ndarray, int] | None:
    if cells.score is None:
        return None
    deciles = _deciles(cells.crosstab((cells.score, cells.score_keys.size)))
    return deciles[cells.score], int(deciles.max()) + 1


def _table(
    rows: list[dict],
    cells: Cells,
    box: CellBox,
    by: tuple | None,
    keep: np.ndarray | None,
    confidence: float,
) -> None:
    """Widen observed rates (Wilson) and O/E (Garwood, bound) of a calibration table."""
    if by is None:
        return
    codes, size = by
    labels = _row_labels(cells, rows, size)
    mask = np.ones(cells.count.size) if keep is None else keep.astype(float)
    lo, hi = box.count.low * mask, box.count.high * mask
    y = cells.outcome
    events = Span(*(np.bincount(codes, weights=c * y, minlength=size) for c in (lo, hi)))
    others = Span(*(np.bincount(codes, weights=c * (1 - y), minlength=size) for c in (lo, hi)))
    rate_low, rate_high = rate_interval(events, others, confidence)
    expected = None
    if box.mean is not None and cells.is_probability:
        expected = Span(
            np.bincount(codes, weights=lo * box.mean.low, minlength=size),
            np.bincount(codes, weights=hi * box.mean.high, minlength=size),
        )
        oe_low, oe_high = oe_interval(events, expected, confidence)
    for row in rows:
        i = labels.get(row["label"])
        if i is None:
            continue
        _set(row["observed_rate"], rate_low[i], rate_high[i])
        if expected is not None and "oe" in row:
            _set(row["oe"], oe_low[i], oe_high[i])


def _row_labels(cells: Cells, rows: list[dict], size: int) -> dict[str, int]:
    if rows and rows[0].get("kind") == "band":
        return {label: i for i, label in enumerate(cells.band_labels)}
    return {f"decile {d + 1}": d for d in range(size)}


def _brier(leaf: dict | None, cells: Cells, box: CellBox, z: float) -> None:
    """Brier score: a mean of each cell's mean squared error, weights in the count box."""
    if leaf is None or leaf.get("value") is None:
        return
    y = cells.outcome.astype(float)
    # mean of (y - p)^2 = y - 2 y E[p] + E[p^2] within a cell
    err = Span(
        y - 2 * y * box.mean.high + box.square.low,
        y - 2 * y * box.mean.low + box.square.high,
    )
    err = Span(np.maximum(err.low, 0.0), err.high)
    low, high, w_low, w_high = mean_range(err, box.count)
    half_low = _brier_half(err.low, w_low, low, z)
    half_high = _brier_half(err.high, w_high, high, z)
    _set(leaf, max(low - half_low, 0.0), high + half_high)


def _brier_half(err: np.ndarray, weights: np.ndarray | None, brier: float, z: float) -> float:
    if weights is None:
        return float("nan")
    size = weights.sum()
    var = max(float((weights * err * err).sum() - size * brier**2) / max(size - 1, 1), 0.0)
    return z * float(np.sqrt(var / size))


def _recalibration(valid: dict, cells: Cells, box: CellBox, confidence: float) -> None:
    """Calibration intercept (exact corners) and slope (search), per (outcome, bin)."""
    if "calibration_intercept" not in valid:
        return
    bins = cells.score_keys.size
    key = cells.outcome * bins + cells.score
    size = 2 * bins
    count = Span(
        np.bincount(key, weights=box.count.low, minlength=size),
        np.bincount(key, weights=box.count.high, minlength=size),
    )
    live = box.count.high > 0
    mean_low = np.full(size, np.inf)
    mean_high = np.full(size, -np.inf)
    np.minimum.at(mean_low, key[live], box.mean.low[live])
    np.maximum.at(mean_high, key[live], box.mean.high[live])
    keep = count.high > 0
    y = (np.arange(size) >= bins).astype(float)[keep]
    count = Span(count.low[keep], count.high[keep])
    means = Span(mean_low[keep], mean_high[keep])
    _set(valid["calibration_intercept"], *intercept_interval(y, count, means, confidence))
    if "calibration_slope" in valid:
        _set(valid["calibration_slope"], *slope_interval(y, count, means, confidence))
