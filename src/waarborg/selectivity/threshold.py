"""Threshold test: was one group selected at a lower risk, or does its base rate differ?

The outcome (hit-rate) test compares the share of selected cases in which the check
found something. A lower hit rate for a group looks like a lower bar for that group,
but it also follows when the group's risk is distributed differently while everyone
faces the same bar: the *infra-marginality* problem. The threshold test (Simoiu,
Corbett-Davies & Goel, 2017) estimates the risk threshold at which each group's cases
were effectively selected, and compares thresholds instead of hit rates.

The test runs from a cube: counts per (group, unit) of cases, selected cases and hits
(and optionally checked, when not every selected case has a known outcome). It fits the
paper's beta discriminant model on these counts; it needs a unit column (team, region,
period) with enough units for the cells to identify the model
(:func:`~waarborg.selectivity.threshold_model.minimum_units`: 3 for two groups); see
:mod:`waarborg.selectivity.threshold_model`. A row-level version (the instrument's score
calibrated on the random reference sample) was tried and withdrawn: its intervals missed
the planted value and it gave a wrong verdict in a planted base-rate scenario.

Thresholds are reported as probabilities averaged over units with the units' shares of
all cases as weights (the same weights for every group), and as differences to the
reference group on the logit scale (constant across units in the model) and on the
probability scale, with percentile intervals from draws of the posterior's Laplace
approximation.

Examples
--------
>>> from waarborg.synth.thresholds import synthesize_thresholds
>>> cases = synthesize_thresholds("lower-threshold", 60_000, seed=1)
>>> result = threshold_test(cases, "group", unit="unit", n_boot=200)
>>> result.verdicts()["B"]
'lower_threshold'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from scipy import special

from waarborg.audit.inputs import Roles, as_floats, as_text, check_columns, validate_batch
from waarborg.audit.stats import newcombe_interval, two_proportion_pvalue
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.selectivity import threshold_model as model
from waarborg.selectivity.inputs import selection_counts
from waarborg.tables import TableLike, read_table

__all__ = ["GroupThreshold", "ThresholdResult", "threshold_test"]

COUNT_COLUMNS = ("cases", "selected", "hits")
"""Columns of an aggregate table (``checked`` is optional: the selected with a known outcome)."""
VERDICTS = (
    "lower_threshold",
    "higher_threshold",
    "base_rates",
    "undetermined",
    "no_difference",
    "not_estimable",
)
FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class GroupThreshold:
    """One group's counts, rates, estimated threshold and its comparison with the reference.

    Rates and thresholds are probabilities; ``difference_logit`` is on the logit scale;
    intervals are ``(low, high)``; ``nan`` where not estimable.
    """

    group: str
    cases: int
    selected: int
    checked: int
    hits: int
    threshold: float
    threshold_ci: tuple[float, float]
    base_rate: float
    base_rate_ci: tuple[float, float]
    difference: float = math.nan
    difference_ci: tuple[float, float] = (math.nan, math.nan)
    difference_logit: float = math.nan
    difference_logit_ci: tuple[float, float] = (math.nan, math.nan)
    hit_rate_difference: float = math.nan
    hit_rate_difference_ci: tuple[float, float] = (math.nan, math.nan)
    hit_rate_p: float = math.nan
    verdict: str = "reference"

    @property
    def search_rate(self) -> float:
        """Share of the group's cases selected."""
        return self.selected / self.cases if self.cases else math.nan

    @property
    def hit_rate(self) -> float:
        """Share of the group's checked selected cases with the outcome."""
        return self.hits / self.checked if self.checked else math.nan


@dataclass(frozen=True)
class ThresholdResult:
    """Result of :func:`threshold_test`, in the manner of a statsmodels results object.

    Attributes
    ----------
    group_column, unit_column : str, str or None
        The columns used.
    reference : str
        The reference group.
    groups : list of GroupThreshold
        Per group, the reference first.
    units : int
        Number of units.
    confidence : float
        Level of the intervals.
    n_boot, failed : int
        Posterior draws, and the draws left out (always 0 for the Laplace draws).
    seed : int
        Seed of the draws.
    diagnostics : dict
        Figures of the fit: its convergence, the largest gaps between observed and fitted
        rates, the priors.
    notes : list of str
        Keys of notes for the reader (see :mod:`waarborg.selectivity.threshold_report`).
    """

    group_column: str
    unit_column: str | None
    reference: str
    groups: list[GroupThreshold]
    units: int
    confidence: float
    n_boot: int
    failed: int
    seed: int
    diagnostics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def verdicts(self) -> dict[str, str]:
        """Verdict key per non-reference group (see :data:`VERDICTS`)."""
        return {g.group: g.verdict for g in self.groups if g.group != self.reference}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``nan`` becomes ``None``)."""
        return _clean(
            {
                "test": "threshold",
                "group_column": self.group_column,
                "unit_column": self.unit_column,
                "reference": self.reference,
                "units": self.units,
                "confidence": self.confidence,
                "n_boot": self.n_boot,
                "failed": self.failed,
                "seed": self.seed,
                "groups": [
                    {
                        **{k: v for k, v in g.__dict__.items()},
                        "search_rate": g.search_rate,
                        "hit_rate": g.hit_rate,
                    }
                    for g in self.groups
                ],
                "verdicts": self.verdicts(),
                "diagnostics": self.diagnostics,
                "notes": list(self.notes),
            }
        )

    def summary(self, lang: str = "en") -> str:
        """Plain-text summary in English or Dutch (entirely Dutch, decimal comma)."""
        from waarborg.selectivity.threshold_report import summary

        return summary(self.to_dict(), lang)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Labels:
    groups: list[str]
    units: list[str]


def _is_counts(table: pa.Table) -> bool:
    return "cases" in table.column_names


def _cube(
    group: Sequence[str], unit: Sequence[str], values: dict[str, NDArray]
) -> tuple[_Labels, model.Cells]:
    """Sum each count over the rows of each (group, unit) cell (labels sorted as text)."""
    g_labels, g_codes = np.unique(np.asarray(group, dtype=str), return_inverse=True)
    u_labels, u_codes = np.unique(np.asarray(unit, dtype=str), return_inverse=True)
    shape = (len(g_labels), len(u_labels))
    cell = {k: np.zeros(shape) for k in ("cases", "selected", "checked", "hits")}
    for k, arr in cell.items():
        np.add.at(arr, (g_codes.ravel(), u_codes.ravel()), np.asarray(values[k], float))
    labels = _Labels([str(x) for x in g_labels], [str(x) for x in u_labels])
    return labels, model.Cells(cell["cases"], cell["selected"], cell["checked"], cell["hits"])


def _from_selection(
    table: pa.Table, group: str, unit: str | None, source: str
) -> tuple[_Labels, model.Cells]:
    """A selection table (rows, or the package's aggregate form with ``count``), counted
    by :func:`~waarborg.selectivity.inputs.selection_counts` (which checks it)."""
    counts = selection_counts(table, [group] if unit is None else [group, unit], source=source)
    c = counts.counts  # (cell, selected, reference, outcome state: no, yes, unknown)
    values = {
        "cases": c.sum(axis=(1, 2, 3)),
        "selected": c[:, 1].sum(axis=(1, 2)),
        "checked": c[:, 1, :, :2].sum(axis=(1, 2)),
        "hits": c[:, 1, :, 1].sum(axis=1),
    }
    units = ["all"] * len(counts.cells) if unit is None else [cell[1] for cell in counts.cells]
    return _cube([cell[0] for cell in counts.cells], units, values)


def _from_count_table(
    table: pa.Table, group: str, unit: str | None, source: str
) -> tuple[_Labels, model.Cells]:
    """A count table: ``cases``, ``selected``, ``hits`` (and ``checked``) per row."""
    names = ["checked", *COUNT_COLUMNS] if "checked" in table.column_names else COUNT_COLUMNS
    keys = (group,) if unit is None else (group, unit)
    validate_batch(table, source, Roles(groups=keys))
    for name in names:
        validate_batch(table, source, Roles(count=name))
    values = {name: as_floats(pc.cast(table.column(name), pa.float64())) for name in names}
    values.setdefault("checked", values["selected"])
    for small, big in (("selected", "cases"), ("checked", "selected"), ("hits", "checked")):
        bad = values[small] > values[big]
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            reason = Message("more %(small)s than %(big)s", domain="reports", small=small, big=big)
            raise DataError(reason, source, row, small)
    labels = [as_text(table.column(k).combine_chunks()).to_pylist() for k in keys]
    return _cube(labels[0], labels[1] if unit else ["all"] * table.num_rows, values)


# --------------------------------------------------------------------------- test


def threshold_test(
    data: TableLike,
    group: str,
    unit: str | None = None,
    *,
    reference: str | None = None,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> ThresholdResult:
    """Estimate each group's effective selection threshold and compare it with the reference.

    Parameters
    ----------
    data : table or path
        A selection table as read by :func:`~waarborg.selectivity.inputs.selection_counts`
        (one row per case, ``selected``, ``reference``, ``outcome`` — null when unknown —
        or the same aggregated with a ``count`` column), or a count table with one row
        per (group, unit) cell or part of one: ``cases``, ``selected``, ``hits`` and
        optionally ``checked``.
    group : str
        Group column.
    unit : str, optional
        Unit column (team, region, period). Required: the model is identified by the
        variation between units.
    reference : str, optional
        Reference group; default the group with the most cases.
    n_boot : int, default 200
        Draws from the posterior's Laplace approximation.
    confidence : float, default 0.95
        Level of the intervals.
    seed : int, default 0
        Seed of the draws.

    Returns
    -------
    ThresholdResult

    Raises
    ------
    DataError
        For bad input (naming the file, row and column) or data that cannot identify
        the model (too few units).
    ValueError
        For an unknown reference group.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    table, source = read_table(data)
    if _is_counts(table):
        groups = (group,) if unit is None else (group, unit)
        check_columns(table.column_names, Roles(groups=(*groups, *COUNT_COLUMNS)), source)
        lab, cells = _from_count_table(table, group, unit, source)
    else:
        lab, cells = _from_selection(table, group, unit, source)
    if len(lab.groups) < 2:
        one = Message("the threshold test compares groups: only one group", domain="reports")
        raise DataError(one, source, column=group)
    settings = _Settings(group, unit, reference, n_boot, confidence, seed, source)
    return _aggregate(cells, lab, settings)


def _reference(lab: _Labels, cases: FloatArray, reference: str | None) -> int:
    if reference is None:
        return int(np.argmax(cases))
    if reference not in lab.groups:
        raise ValueError(
            f"reference group {reference!r} not found; groups: {', '.join(lab.groups)}"
        )
    return lab.groups.index(reference)


def _reorder_units(cells: model.Cells) -> tuple[model.Cells, NDArray[np.int64]]:
    """Put the largest unit first (it anchors the unit effects)."""
    order = np.argsort(-cells.cases.sum(axis=0), kind="stable")
    return (
        model.Cells(
            *(getattr(cells, k)[:, order] for k in ("cases", "selected", "checked", "hits"))
        ),
        order,
    )


@dataclass(frozen=True)
class _Settings:
    """The caller's choices."""

    group: str
    unit: str | None
    reference: str | None
    n_boot: int
    confidence: float
    seed: int
    source: str


def _aggregate(cells: model.Cells, lab: _Labels, opt: _Settings) -> ThresholdResult:
    unit, reference, n_boot = opt.unit, opt.reference, opt.n_boot
    confidence, seed, source = opt.confidence, opt.seed, opt.source
    r, d = cells.shape
    need = model.minimum_units(r)
    if unit is None or d < need:
        reason = Message(
            "the aggregate threshold test needs a unit column with at least %(need)s units for "
            "%(groups)s groups (found %(found)s): with fewer, the cells give fewer rates than "
            "the model has parameters and the thresholds would only repeat the prior. Use more "
            "units (teams, regions, periods)",
            domain="reports",
            need=need,
            groups=r,
            found=d if unit else Message("none", domain="reports"),
        )
        raise DataError(
            reason,
            source,
            column=unit,
        )
    cells, _ = _reorder_units(cells)
    ref = _reference(lab, cells.cases.sum(axis=1), reference)
    theta, cov, converged = model.fit_map(cells)
    fits, failed = model.laplace_draws(theta, cov, n_boot, seed), 0
    k = r + d - 1
    weights = cells.cases.sum(axis=0) / cells.cases.sum()

    def blocks(th: FloatArray, b: int) -> tuple[FloatArray, FloatArray]:
        part = th[..., b * k : (b + 1) * k]
        unit_part = np.concatenate([np.zeros((*part.shape[:-1], 1)), part[..., r:]], axis=-1)
        return part[..., :r], unit_part

    est = _estimates(blocks(theta, 2), blocks(fits, 2), weights, ref, confidence)
    base = _average(*blocks(theta, 0), weights)
    base_draws = _average(*blocks(fits, 0), weights)
    base_ci = _percentile(base_draws, confidence)
    fitted = _fit_error(cells, theta)
    notes = ["aggregate_model"] + (["not_converged"] if not converged else [])
    diagnostics = {
        "map_converged": converged,
        "laplace_sd_difference_logit": _laplace_sd(cov, 2 * k, ref, r),
        "max_search_rate_error": fitted[0],
        "max_hit_rate_error": fitted[1],
        "prior_sd_group": model.PRIOR_SD_GROUP,
        "prior_sd_unit": model.PRIOR_SD_UNIT,
    }
    groups = _groups(cells, lab, est, (base, base_ci), ref, confidence)
    notes += _outside(groups)
    return _result(opt, lab.groups[ref], groups, d, failed, diagnostics, notes)


def _laplace_sd(cov: FloatArray, start: int, ref: int, r: int) -> list[float]:
    """Normal-approximation standard deviation of each group's logit difference."""
    out = []
    for g in range(r):
        i, j = start + g, start + ref
        out.append(float(np.sqrt(max(cov[i, i] + cov[j, j] - 2 * cov[i, j], 0.0))))
    return out


def _fit_error(cells: model.Cells, theta: FloatArray) -> tuple[float, float]:
    """Largest gap between observed and fitted search and hit rates over cells with 30+ cases."""
    s, h = model.fitted_rates(cells, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        obs_s = cells.selected / cells.cases
        obs_h = cells.hits / cells.checked
    big_s, big_h = cells.cases >= 30, cells.checked >= 30
    err_s = float(np.max(np.abs(obs_s - s)[big_s], initial=0.0))
    err_h = float(np.max(np.abs(obs_h - h)[big_h], initial=0.0))
    return err_s, err_h


# --------------------------------------------------------------------------- summaries


def _result(
    opt: _Settings,
    reference: str,
    groups: list[GroupThreshold],
    units: int,
    failed: int,
    diagnostics: dict[str, Any],
    notes: list[str],
) -> ThresholdResult:
    return ThresholdResult(
        opt.group,
        opt.unit,
        reference,
        groups,
        units,
        opt.confidence,
        opt.n_boot,
        failed,
        opt.seed,
        diagnostics,
        notes,
    )


def _average(t_group: FloatArray, t_unit: FloatArray, weights: FloatArray) -> FloatArray:
    """Per group, ``sum_d w_d expit(t_r + t_d)``; leading axes (draws) are kept."""
    return np.sum(special.expit(t_group[..., :, None] + t_unit[..., None, :]) * weights, axis=-1)


def _percentile(draws: FloatArray, confidence: float) -> FloatArray:
    """Percentile interval per column, shape ``(columns, 2)``; nan without draws."""
    if draws.shape[0] == 0:
        return np.full((draws.shape[-1], 2), np.nan)
    alpha = 1 - confidence
    return np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0).T


def _estimates(
    point: tuple[FloatArray, FloatArray],
    draws: tuple[FloatArray, FloatArray],
    weights: FloatArray,
    ref: int,
    confidence: float,
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Thresholds and differences to the reference: (point, intervals) per quantity."""
    thr, thr_draws = _average(*point, weights), _average(*draws, weights)
    logit, logit_draws = point[0] - point[0][ref], draws[0] - draws[0][:, [ref]]
    diff, diff_draws = thr - thr[ref], thr_draws - thr_draws[:, [ref]]
    return {
        "threshold": (thr, _percentile(thr_draws, confidence)),
        "difference_logit": (logit, _percentile(logit_draws, confidence)),
        "difference": (diff, _percentile(diff_draws, confidence)),
    }


def _groups(
    cells: model.Cells,
    lab: _Labels,
    est: dict[str, tuple[FloatArray, FloatArray]],
    base: tuple[FloatArray, FloatArray],
    ref: int,
    confidence: float,
) -> list[GroupThreshold]:
    n = cells.cases.sum(axis=1)
    s = cells.selected.sum(axis=1)
    c = cells.checked.sum(axis=1)
    h = cells.hits.sum(axis=1)
    order = [ref, *(g for g in range(len(lab.groups)) if g != ref)]
    out = []
    for g in order:
        fields: dict[str, Any] = {
            "group": lab.groups[g],
            "cases": int(n[g]),
            "selected": int(s[g]),
            "checked": int(c[g]),
            "hits": int(h[g]),
            "threshold": float(est["threshold"][0][g]),
            "threshold_ci": _pair(est["threshold"][1][g]),
            "base_rate": float(base[0][g]),
            "base_rate_ci": _pair(base[1][g]),
        }
        if g != ref:
            low, high = newcombe_interval(h[g], c[g], h[ref], c[ref], confidence)
            fields |= {
                "difference": float(est["difference"][0][g]),
                "difference_ci": _pair(est["difference"][1][g]),
                "difference_logit": float(est["difference_logit"][0][g]),
                "difference_logit_ci": _pair(est["difference_logit"][1][g]),
                "hit_rate_difference": float(h[g] / c[g] - h[ref] / c[ref])
                if c[g] and c[ref]
                else math.nan,
                "hit_rate_difference_ci": (float(low), float(high)),
                "hit_rate_p": float(two_proportion_pvalue(h[g], c[g], h[ref], c[ref])),
            }
            fields["verdict"] = _verdict(fields, _pair(base[1][ref]))
        out.append(GroupThreshold(**fields))
    return out


def _outside(groups: list[GroupThreshold]) -> list[str]:
    """The note ``point_outside_interval`` when an estimate lies outside its own interval."""
    for g in groups:
        low, high = g.difference_logit_ci
        if math.isfinite(low) and not low <= g.difference_logit <= high:
            return ["point_outside_interval"]
    return []


def _pair(x: FloatArray) -> tuple[float, float]:
    return float(x[0]), float(x[1])


def _verdict(g: dict[str, Any], reference_base: tuple[float, float]) -> str:
    """Lower or higher threshold when the interval of the difference excludes 0. Else, when
    the hit rates differ significantly: base rates if the base rates' intervals do not
    overlap, undetermined if they do. Else no difference."""
    low, high = g["difference_logit_ci"]
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not_estimable"
    if high < 0:
        return "lower_threshold"
    if low > 0:
        return "higher_threshold"
    hr_low, hr_high = g["hit_rate_difference_ci"]
    if math.isfinite(hr_low) and (hr_low > 0 or hr_high < 0):
        (b_low, b_high), (r_low, r_high) = g["base_rate_ci"], reference_base
        return "base_rates" if b_low > r_high or b_high < r_low else "undetermined"
    return "no_difference"
