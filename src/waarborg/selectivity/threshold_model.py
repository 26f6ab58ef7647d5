"""The beta discriminant model of the threshold test, fitted on counts (runs from a cube).

Simoiu, Corbett-Davies & Goel (2017), "The problem of infra-marginality in outcome tests
for discrimination", *Annals of Applied Statistics* 11(3). For group ``r`` in unit ``d``
(team, region, period) the risk of a case — the probability of the outcome given what
the selecting official knows — follows a beta distribution with mean
``phi_rd = expit(phi_r + phi_d)`` and concentration ``lambda_rd = exp(lambda_r +
lambda_d)`` (shape parameters ``phi * lambda`` and ``(1 - phi) * lambda``). A case is
selected when its risk exceeds ``t_rd = expit(t_r + t_d)``. Then

* ``selected ~ Binomial(cases, P(risk > t))``: the *search rate*;
* ``hits ~ Binomial(checked, E[risk | risk > t])``: the *hit rate*, with
  ``E[risk; risk > t] = phi * P(Beta(a + 1, b) > t)``.

Unit ``d = 0`` (the largest) has its three effects fixed at 0, which removes the
additive redundancy of group and unit effects; differences between groups do not
depend on this choice. Priors (weakly informative, on the paper's logit and log
scales): group effects ``N(0, 2^2)``, unit effects ``N(0, 1^2)``. The paper's
hierarchical scales for the unit effects are fixed here, because the maximum a
posteriori (MAP) of a free hierarchical scale collapses to 0.

Fitting: MAP by :func:`scipy.optimize.minimize` (Newton-CG) with the exact gradient of
the binomial likelihood through finite-difference derivatives of each cell's two rates;
then credible intervals from draws of the Laplace approximation to the posterior: normal
at the MAP with the inverse of the Fisher information plus the prior precision as
covariance (:func:`laplace_draws`); group thresholds averaged over units are computed
per draw, so their intervals follow the nonlinear transformation. Why not a bootstrap or
a Metropolis sampler is said in ``docs/selectivity.md`` (Threshold test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

__all__ = [
    "PRIOR_SD_GROUP",
    "PRIOR_SD_UNIT",
    "Cells",
    "fit_map",
    "fitted_rates",
    "hit_rate",
    "laplace_draws",
    "minimum_units",
    "search_rate",
]

FloatArray = NDArray[np.float64]

PRIOR_SD_GROUP = 2.0
"""Prior standard deviation of the group effects (logit or log scale)."""
PRIOR_SD_UNIT = 1.0
"""Prior standard deviation of a unit's effects relative to the first unit."""
_EPS = 1e-12
_STEP = 1e-5  # finite-difference step on the logit / log scale
_GRADIENT_TOL = 0.01  # log-posterior units per unit of a parameter


def search_rate(mean: ArrayLike, concentration: ArrayLike, threshold: ArrayLike) -> FloatArray:
    """Share of cases whose beta-distributed risk exceeds the threshold.

    Examples
    --------
    >>> round(float(search_rate(0.2, 6.0, 0.3)), 4)
    0.2307
    """
    m, c = np.asarray(mean, dtype=float), np.asarray(concentration, dtype=float)
    return _upper_tail(m * c, (1 - m) * c, np.asarray(threshold, dtype=float))


def hit_rate(mean: ArrayLike, concentration: ArrayLike, threshold: ArrayLike) -> FloatArray:
    """Mean risk of the cases above the threshold: the expected hit rate of the selected.

    Examples
    --------
    >>> round(float(hit_rate(0.2, 6.0, 0.3)), 4)
    0.4253
    """
    m, c = np.asarray(mean, dtype=float), np.asarray(concentration, dtype=float)
    t = np.asarray(threshold, dtype=float)
    above = _upper_tail(m * c + 1, (1 - m) * c, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m * above / search_rate(m, c, t)


def _upper_tail(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    """``P(Beta(a, b) > t)`` as ``I_(1-t)(b, a)``: exact in the tail, and ``betainc`` is
    an order of magnitude faster than ``betaincc``."""
    return special.betainc(b, a, 1 - t)


def minimum_units(groups: int) -> int:
    """Fewest units for which the cells give at least as many rates as the model has parameters.

    Each (group, unit) cell gives two rates (search and hit rate); the model has three
    effects per group and per unit but one unit's: ``2 R D >= 3 (R + D - 1)``. With
    fewer units the thresholds rest on the prior, not on the data.

    Examples
    --------
    >>> minimum_units(2), minimum_units(3)
    (3, 2)
    """
    units = 2
    while 2 * groups * units < 3 * (groups + units - 1):
        units += 1
    return units


@dataclass(frozen=True)
class Cells:
    """Counts per (group, unit): arrays of shape ``(R, D)``; unit 0 is the anchored unit."""

    cases: FloatArray
    selected: FloatArray
    checked: FloatArray
    hits: FloatArray

    @property
    def shape(self) -> tuple[int, int]:
        """``(groups, units)``."""
        return self.cases.shape  # type: ignore[return-value]

    @property
    def n_params(self) -> int:
        """Number of free parameters: three blocks of group and unit effects."""
        r, d = self.shape
        return 3 * (r + d - 1)

    def design(self) -> FloatArray:
        """Indicator matrix from one block's effects to the cells' linear predictors."""
        r, d = self.shape
        x = np.zeros((r * d, r + d - 1))
        rows = np.arange(r * d)
        x[rows, rows // d] = 1.0
        unit = rows % d
        x[rows[unit > 0], r + unit[unit > 0] - 1] = 1.0
        return x

    def prior_sd(self) -> FloatArray:
        """Prior standard deviation of every parameter, in parameter order."""
        r, d = self.shape
        block = np.r_[np.full(r, PRIOR_SD_GROUP), np.full(d - 1, PRIOR_SD_UNIT)]
        return np.tile(block, 3)


class _Model:
    """Log posterior, gradient and Fisher information of the beta discriminant model."""

    def __init__(self, cells: Cells) -> None:
        self.cells = cells
        self.x = cells.design()
        self.used = cells.cases.ravel() > 0
        self.n = cells.cases.ravel()
        self.s = cells.selected.ravel()
        self.c = cells.checked.ravel()
        self.h = cells.hits.ravel()
        self.precision = 1.0 / cells.prior_sd() ** 2

    def linear(self, theta: FloatArray) -> FloatArray:
        """Cells' (phi, log-concentration, threshold) linear predictors: ``(..., 3, cells)``."""
        k = self.x.shape[1]
        blocks = theta.reshape(*theta.shape[:-1], 3, k)
        return blocks @ self.x.T

    @staticmethod
    def rates(eta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Search and hit rate of cells from their linear predictors (axis -2: the three)."""
        mean = special.expit(eta[..., 0, :])
        conc = np.exp(np.clip(eta[..., 1, :], -30, 30))
        t = special.expit(eta[..., 2, :])
        s = np.clip(search_rate(mean, conc, t), _EPS, 1 - _EPS)
        h = mean * _upper_tail(mean * conc + 1, (1 - mean) * conc, t) / s
        return s, np.clip(h, _EPS, 1 - _EPS)

    def log_likelihood_cells(self, s: FloatArray, h: FloatArray) -> FloatArray:
        ll = self.s * np.log(s) + (self.n - self.s) * np.log1p(-s)
        ll = ll + self.h * np.log(h) + (self.c - self.h) * np.log1p(-h)
        return np.where(self.used, ll, 0.0)

    def log_posterior(self, theta: FloatArray) -> FloatArray:
        """Log posterior (up to a constant) of parameter vectors ``(..., K)``."""
        s, h = self.rates(self.linear(theta))
        prior = -0.5 * np.sum(self.precision * theta**2, axis=-1)
        return self.log_likelihood_cells(s, h).sum(axis=-1) + prior

    def derivatives(self, theta: FloatArray) -> tuple[FloatArray, ...]:
        """Rates and their derivatives by each cell's three linear predictors."""
        eta = self.linear(theta)
        steps = np.eye(3)[:, :, None] * _STEP  # (3 predictors, 3, 1)
        up = self.rates(eta + steps)
        down = self.rates(eta - steps)
        ds = (up[0] - down[0]) / (2 * _STEP)  # (3, cells)
        dh = (up[1] - down[1]) / (2 * _STEP)
        s, h = self.rates(eta)
        return s, h, ds, dh

    def gradient(self, theta: FloatArray) -> FloatArray:
        """Gradient of the log posterior."""
        s, h, ds, dh = self.derivatives(theta)
        rs = np.where(self.used, (self.s - self.n * s) / (s * (1 - s)), 0.0)
        rh = np.where(self.used, (self.h - self.c * h) / (h * (1 - h)), 0.0)
        per_cell = rs * ds + rh * dh  # (3, cells)
        return (per_cell @ self.x).ravel() - self.precision * theta

    def information(self, theta: FloatArray) -> FloatArray:
        """Fisher information of the likelihood plus the prior precision."""
        s, h, ds, dh = self.derivatives(theta)
        ws = np.where(self.used, self.n / (s * (1 - s)), 0.0)
        wh = np.where(self.used, self.c / (h * (1 - h)), 0.0)
        k = self.x.shape[1]
        info = np.zeros((3 * k, 3 * k))
        for i in range(3):
            for j in range(3):
                w = ws * ds[i] * ds[j] + wh * dh[i] * dh[j]
                info[i * k : (i + 1) * k, j * k : (j + 1) * k] = self.x.T @ (w[:, None] * self.x)
        return info + np.diag(self.precision)


def _start(cells: Cells) -> FloatArray:
    """A starting point from the pooled search and hit rates (concentration 4)."""
    r, d = cells.shape
    search = (cells.selected.sum() + 0.5) / (cells.cases.sum() + 1)
    hits = (cells.hits.sum() + 0.5) / (cells.checked.sum() + 1)
    mean = float(np.clip(search * hits + (1 - search) * hits / 3, 0.01, 0.9))
    t = float(np.clip(special.betainccinv(4 * mean, 4 * (1 - mean), search), 0.02, 0.98))
    k = r + d - 1
    theta = np.zeros(3 * k)
    theta[:r] = special.logit(mean)
    theta[k : k + r] = np.log(4.0)
    theta[2 * k : 2 * k + r] = special.logit(t)
    return theta


def fit_map(cells: Cells) -> tuple[FloatArray, FloatArray, bool]:
    """The MAP parameters, their Laplace covariance and whether the optimiser converged.

    Examples
    --------
    >>> ones = np.ones((2, 3))
    >>> cells = Cells(1000 * ones, 300 * ones, 300 * ones, 120 * ones)
    >>> theta, cov, ok = fit_map(cells)
    >>> ok, theta.shape, cov.shape
    (True, (12,), (12, 12))
    """
    model = _Model(cells)
    theta, ok = _minimise(model, _start(cells))
    cov = np.linalg.inv(model.information(theta))
    return theta, 0.5 * (cov + cov.T), ok


def _minimise(model: _Model, start: FloatArray) -> tuple[FloatArray, bool]:
    """Newton-CG on the negative log posterior with the Fisher information as Hessian.

    Converged when the gradient is below :data:`_GRADIENT_TOL` everywhere. Quasi-Newton
    methods stop early on the flat ridges of this weakly identified model (a difference
    of 0.05 in log posterior moves a threshold difference by 0.1); Newton steps with the
    curvature of the binomial likelihood do not.
    """
    res = optimize.minimize(
        lambda th: -float(model.log_posterior(th)),
        start,
        jac=lambda th: -model.gradient(th),
        hess=model.information,
        method="Newton-CG",
        options={"maxiter": 500, "xtol": 1e-7},
    )
    ok = bool(np.all(np.isfinite(res.x)) and np.abs(model.gradient(res.x)).max() < _GRADIENT_TOL)
    return res.x, ok


def fitted_rates(cells: Cells, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Search and hit rate of every cell at parameters ``theta``, each of shape ``(R, D)``."""
    model = _Model(cells)
    s, h = model.rates(model.linear(theta))
    return s.reshape(cells.shape), h.reshape(cells.shape)


def laplace_draws(theta: FloatArray, covariance: FloatArray, n: int, seed: int = 0) -> FloatArray:
    """Draws ``(n, K)`` from the normal (Laplace) approximation to the posterior at the MAP.

    Examples
    --------
    >>> laplace_draws(np.zeros(2), np.eye(2), 5).shape
    (5, 2)
    """
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(covariance)
    return theta + rng.standard_normal((n, theta.size)) @ chol.T
