"""The row version of the threshold test: calibrated risk from the reference sample.

Needs rows (one per case) with the instrument's score and the random reference sample:

1. **Calibrate.** On the reference cases with a known outcome, per group, logistic
   recalibration ``logit P(outcome | score, group) = c_g + b_g * x`` with ``x`` the
   score's logit (a score outside (0, 1), such as points, is used as it is), through
   :func:`waarborg.audit.stats.logistic_recalibration`. Only the random reference
   sample can do this: the selected were chosen on what the official knew besides the
   score, so their outcomes are not those of everyone with the same score.
2. **Effective thresholds.** For all cases, ``P(selected | risk, group, unit) =
   expit((logit risk - tau_g - delta_u) / sigma)``, a logistic regression on the
   calibrated risk's logit with group and unit intercepts (unit ``0`` anchored), fitted
   by maximum likelihood (Newton-Raphson). ``tau_g`` is the logit of the risk at which
   a case of group ``g`` is selected half the time; ``sigma`` is the spread of the
   official's judgement around it on the same scale.
3. **Intervals.** Cases are resampled with replacement within each (group, unit,
   reference sample or not) stratum, so each bootstrap sample has the design of the
   data, and both steps are refitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from waarborg.audit.stats import logistic_recalibration

__all__ = ["RowData", "RowFit", "fit_rows", "fit_selection", "stratified_resample"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_MAX_ITER = 50
_TOL = 1e-9


@dataclass(frozen=True)
class RowData:
    """Cases as arrays: group and unit codes, score on the linear scale, flags, outcomes.

    ``outcome`` is 0/1 where known; ``known`` says where it is.
    """

    group: IntArray
    unit: IntArray
    x: FloatArray
    selected: NDArray[np.bool_]
    reference: NDArray[np.bool_]
    outcome: NDArray[np.bool_]
    known: NDArray[np.bool_]
    n_groups: int
    n_units: int

    def take(self, index: IntArray) -> RowData:
        """The cases at ``index`` (a bootstrap sample)."""
        return RowData(
            self.group[index],
            self.unit[index],
            self.x[index],
            self.selected[index],
            self.reference[index],
            self.outcome[index],
            self.known[index],
            self.n_groups,
            self.n_units,
        )


@dataclass(frozen=True)
class RowFit:
    """Calibration per group and the selection model's thresholds.

    ``tau`` (groups) and ``delta`` (units, the first 0) are on the logit-risk scale;
    ``sigma`` is the judgement's spread; ``intercept``/``slope`` the calibration.
    """

    intercept: FloatArray
    slope: FloatArray
    tau: FloatArray
    delta: FloatArray
    sigma: float


def calibrate(data: RowData) -> tuple[FloatArray, FloatArray]:
    """Per group, the recalibration line ``(c_g, b_g)`` fitted on the reference sample."""
    intercept = np.full(data.n_groups, np.nan)
    slope = np.full(data.n_groups, np.nan)
    use = data.reference & data.known
    for g in range(data.n_groups):
        mine = use & (data.group == g)
        if mine.any():
            fit = logistic_recalibration(
                data.x[mine], data.outcome[mine].astype(float), np.ones(int(mine.sum()))
            )
            intercept[g], slope[g] = float(fit.recalibration_intercept), float(fit.slope)
    return intercept, slope


def fit_selection(
    risk_logit: FloatArray,
    selected: NDArray[np.bool_],
    group: IntArray,
    unit: IntArray,
    n_groups: int,
    n_units: int,
) -> tuple[FloatArray, FloatArray, float]:
    """Maximum likelihood ``(tau, delta, sigma)`` of the selection model (Newton-Raphson).

    The model is the logistic regression ``logit P(selected) = a_g + b * logit(risk) +
    c_u`` (``c_0 = 0``); then ``sigma = 1 / b``, ``tau_g = -a_g / b`` and ``delta_u =
    -c_u / b``. ``nan`` when the fit has no finite maximum (e.g. a group never or
    always selected).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(-1, 1, 5000)
    >>> g = (rng.random(5000) < 0.5).astype(np.int64)
    >>> sel = rng.random(5000) < special.expit((z - np.where(g == 1, -0.5, 0.0)) / 0.3)
    >>> tau, delta, sigma = fit_selection(z, sel, g, np.zeros(5000, np.int64), 2, 1)
    >>> bool(abs(tau[1] - tau[0] + 0.5) < 0.1)
    True
    """
    y = selected.astype(float)
    cell = group * n_units + unit
    beta = np.zeros(n_groups + n_units)  # a_g, b, c_1 .. c_(D-1)
    beta[n_groups] = 1.0
    ok = False
    with np.errstate(all="ignore"):
        for _ in range(_MAX_ITER):
            c = np.r_[0.0, beta[n_groups + 1 :]]
            mu = special.expit(beta[group] + beta[n_groups] * risk_logit + c[unit])
            info, score = _information(mu, y - mu, risk_logit, cell, n_groups, n_units)
            try:
                step = np.linalg.solve(info, score)
            except np.linalg.LinAlgError:
                break
            beta = beta + step
            if np.abs(step).max() < _TOL * (1 + np.abs(beta).max()):
                ok = bool(np.all(np.isfinite(beta))) and np.abs(beta).max() < 50
                break
    nan = np.nan
    if not ok or beta[n_groups] <= 0:
        return np.full(n_groups, nan), np.full(n_units, nan), nan
    b = beta[n_groups]
    delta = np.r_[0.0, -beta[n_groups + 1 :] / b]
    return -beta[:n_groups] / b, delta, float(1 / b)


def _information(
    mu: FloatArray, resid: FloatArray, z: FloatArray, cell: IntArray, n_groups: int, n_units: int
) -> tuple[FloatArray, FloatArray]:
    """Fisher information and score of the selection model, summed per (group, unit) cell.

    The design has one indicator per group, the risk's logit ``z`` and one indicator per
    unit but the first; sums per cell (``bincount``) give every block in O(rows)
    without forming the design matrix.
    """
    w = mu * (1 - mu)
    size = n_groups * n_units
    sums = [
        np.bincount(cell, v, size).reshape(n_groups, n_units) for v in (w, w * z, resid, resid * z)
    ]
    w_c, wz_c, r_c, rz_c = sums
    k = n_groups + n_units
    info = np.zeros((k, k))
    g, b, u = slice(0, n_groups), n_groups, slice(n_groups + 1, k)
    info[g, g] = np.diag(w_c.sum(axis=1))
    info[g, b] = info[b, g] = wz_c.sum(axis=1)
    info[b, b] = float(np.sum(w * z * z))
    info[u, u] = np.diag(w_c.sum(axis=0)[1:])
    info[g, u] = w_c[:, 1:]
    info[u, g] = w_c[:, 1:].T
    info[b, u] = info[u, b] = wz_c.sum(axis=0)[1:]
    score = np.r_[r_c.sum(axis=1), rz_c.sum(), r_c.sum(axis=0)[1:]]
    return info, score


def fit_rows(data: RowData) -> RowFit:
    """Calibrate per group on the reference sample, then fit the selection model."""
    intercept, slope = calibrate(data)
    risk_logit = intercept[data.group] + slope[data.group] * data.x
    if not np.all(np.isfinite(risk_logit)):
        nan = np.full(data.n_groups, np.nan)
        return RowFit(intercept, slope, nan, np.full(data.n_units, np.nan), np.nan)
    tau, delta, sigma = fit_selection(
        risk_logit, data.selected, data.group, data.unit, data.n_groups, data.n_units
    )
    return RowFit(intercept, slope, tau, delta, sigma)


def stratified_resample(strata: IntArray, rng: np.random.Generator) -> IntArray:
    """Indices of a bootstrap sample drawn with replacement within each stratum.

    Examples
    --------
    >>> strata = np.array([0, 0, 1, 1, 1])
    >>> idx = stratified_resample(strata, np.random.default_rng(0))
    >>> bool(np.all(strata[idx] == strata))
    True
    """
    order = np.argsort(strata, kind="stable")
    sizes = np.bincount(strata)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    s = strata[order]
    pick = starts[s] + np.floor(rng.random(s.size) * sizes[s]).astype(np.int64)
    out = np.empty_like(order)
    out[order] = order[pick]
    return out
