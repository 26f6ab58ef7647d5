"""Recover the deployed parameters from the observed outputs.

For every formula (population variant × outcome) whose probabilities were exported, the
deployed linear predictor is recovered through the inverse link — ``logit(p)`` for a
logistic model, ``log(-log S(t|x))`` per horizon for a Cox model — and its difference from
the current hypothesis's is fitted on the spec's **full** design: the intercept (logistic)
or the centre and each horizon's baseline survival (Cox), every level of every
categorical predictor (the reference level included) and each transformed number.
Probabilities at the bounds 0 and 1 carry no linear predictor and are left out (and
counted).

The full design is collinear (the levels of a categorical add up to the intercept; the
centre equals a common shift of every horizon's baseline survival), so the fit is
*sparse*: the parameter that explains most of the difference is taken first, then the
next on what is left, while each step is clearly significant (F above
:data:`F_ENTER`). A deployed fault in a reference level therefore shows as that level's
weight, not as "every other level and the intercept"; columns that are identical on the
data (say the centre and the only exported horizon's baseline survival) are reported as
*not separately identifiable*, with the combination that differs.

Each selected parameter gets an ordinary-least-squares estimate and a 95% interval on
the selected set (an interval at least :data:`MIN_HALF_WIDTH` wide, relative, for outputs
that are exact to the last digit).

:func:`fit_transform` fits one transform parameter (a cap, centre, scale, mean, sd, log
offset or a single bin edge) by a one-dimensional search, on every formula at once, as
the transform is shared by all of them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import optimize
from scipy import stats as sps

from waarborg.instruments.encode import Encoded, apply_steps
from waarborg.instruments.spec import Bins, BinsBody, InstrumentSpec, LinearFormula, Predictor
from waarborg.verify.hypothesis import Hypothesis, Setting, formula, variant_codes
from waarborg.verify.parameters import Path, formula_path, parameter_name, weight_path

F_ENTER = 25.0
"""A parameter enters the sparse fit when its F statistic exceeds this (about t = 5)."""
MAX_TERMS = 4
"""At most this many parameters are recovered per formula and step."""
MIN_HALF_WIDTH = 1e-8
"""Smallest half-width of an interval, relative to the value (exact outputs)."""
Z = float(sps.norm.isf(0.025))
MAX_ROWS = 4000
"""Cases per formula and column the fits use (a fixed random subset of larger data):
every candidate is confirmed by scoring all cases (or the diagnosis's sample)."""
EXPLAINED = 1e-7
"""Largest linear-predictor residual that counts as explained (exact outputs)."""


@dataclass(frozen=True)
class Block:
    """One formula's recovered linear predictor for one exported probability column."""

    variant: str
    outcome: str
    column: str
    horizon: float | None
    rows: np.ndarray
    """Case positions (into the matched cases)."""
    difference: np.ndarray
    """Observed minus current linear predictor (inverse link), per row."""
    dropped_at_bounds: int


@dataclass
class Recovered:
    """A recovered parameter: where it is, the spec's value, the estimate and its interval."""

    path: Path
    kind: str
    variant: str
    outcome: str
    spec: float
    estimate: float
    ci: tuple[float, float]
    n: int
    dropped_at_bounds: int
    aliases: list[str] = field(default_factory=list)
    method: str = "probabilities"
    """``probabilities`` (a 95% interval) or ``bands`` (the half-open range that fits best)."""

    @property
    def differs(self) -> bool:
        """Whether the spec's value lies outside the interval."""
        if self.method == "bands":  # the best range is half-open
            return not self.ci[0] <= self.spec < self.ci[1]
        slack = 1e-12 * max(1.0, abs(self.spec))
        return not self.ci[0] - slack <= self.spec <= self.ci[1] + slack

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready evidence."""
        return {
            "parameter": parameter_name(self.path),
            "kind": self.kind,
            "variant": self.variant,
            "outcome": self.outcome,
            "spec": self.spec,
            "estimate": self.estimate,
            "ci": list(self.ci),
            "n": self.n,
            "dropped_at_bounds": self.dropped_at_bounds,
            "not_separately_identifiable_from": self.aliases,
            "method": self.method,
        }


# --------------------------------------------------------------------------- inverse link


def inverse_link(kind: str, p: np.ndarray) -> np.ndarray:
    """The linear-predictor scale of probabilities: logit (logistic), log(-log(1-p)) (Cox).

    Examples
    --------
    >>> inverse_link("logistic", np.array([0.5])).tolist()
    [0.0]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "logistic":
            return np.log(p) - np.log1p(-p)
        return np.log(-np.log1p(-p))


def horizon_of(outcome: str, column: str) -> float | None:
    """The horizon (years) of a probability column, ``None`` for one without."""
    rest = column.removeprefix(f"probability_{outcome}")
    return float(rest.removeprefix("_").removesuffix("y")) if rest else None


def blocks(h: Hypothesis, scored: pa.Table, setting: Setting) -> list[Block]:
    """The recovered linear-predictor differences per formula and probability column."""
    kind = h.spec.model.kind
    if kind not in ("logistic", "cox"):
        return []
    codes = variant_codes(scored, h.spec)
    out = []
    for outcome, names in setting.columns.items():
        for name in names:
            if name not in setting.observed.probabilities:
                continue
            observed = setting.observed.probabilities[name]
            current = np.asarray(scored.column(name).to_numpy(), dtype=float)
            at_bounds = (observed <= 0) | (observed >= 1)
            usable = np.isfinite(observed) & np.isfinite(current) & ~at_bounds
            usable &= (current > 0) & (current < 1)
            difference = inverse_link(kind, observed) - inverse_link(kind, current)
            for v_index, variant in enumerate(h.spec.model.all_variants):
                mine = codes == v_index
                rows = _at_most(np.flatnonzero(mine & usable), MAX_ROWS)
                out.append(
                    Block(
                        variant,
                        outcome,
                        name,
                        horizon_of(outcome, name),
                        rows,
                        difference[rows],
                        int((mine & at_bounds & np.isfinite(observed)).sum()),
                    )
                )
    return out


def _at_most(rows: np.ndarray, most: int) -> np.ndarray:
    """``rows``, or an evenly spread, fixed subset of ``most`` of them."""
    if rows.size <= most:
        return rows
    return rows[np.random.default_rng(0).choice(rows.size, most, replace=False)]


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class Term:
    """A parameter's column: its path, kind, spec value and its values per case.

    ``scale`` says how a coefficient on the column changes the parameter: ``+1`` for a
    weight or an intercept, ``-1`` for a Cox centre; a baseline survival is fitted as
    ``log(-log S0)`` and mapped back.
    """

    path: Path
    kind: str
    spec: float
    values: np.ndarray | None
    """Per case; ``None`` for a constant (intercept, centre, baseline survival)."""
    horizon: float | None = None


def formula_terms(
    spec: InstrumentSpec, encoded: dict[str, Encoded], variant: str, outcome: str
) -> list[Term]:
    """Every parameter of one formula: link parameters first, then every weight."""
    f = formula(spec, variant, outcome)
    base = formula_path(spec, variant, outcome)
    terms: list[Term] = []
    if spec.model.kind in ("logistic", "points"):
        terms.append(Term((*base, "intercept"), "intercept", f.intercept, None))
    elif spec.model.kind == "cox":
        terms.append(Term((*base, "centre"), "centre", f.centre, None))
        for horizon, s0 in f.baseline_survival.items():
            terms.append(
                Term((*base, "baseline_survival", horizon), "baseline_survival", s0, None, horizon)
            )
    terms += weight_terms(spec, encoded, f, variant, outcome)
    return terms


def weight_terms(
    spec: InstrumentSpec,
    encoded: dict[str, Encoded],
    f: LinearFormula,
    variant: str,
    outcome: str,
) -> list[Term]:
    """A column per number and one per level of every categorical (no reference dropped)."""
    out = []
    for p in spec.predictors:
        enc = encoded[p.name]
        weight = f.weights[p.name]
        if enc.codes is None:
            path = weight_path(spec, variant, outcome, p.name, None)
            out.append(Term(path, "weight", float(weight), np.asarray(enc.value, dtype=float)))  # type: ignore[arg-type]
            continue
        for code, level in enumerate(p.model_levels()):
            path = weight_path(spec, variant, outcome, p.name, level)
            values = np.where(enc.unknown, np.nan, (enc.codes == code).astype(float))
            out.append(Term(path, "weight", float(weight[level]), values))  # type: ignore[index]
    return out


def _column(term: Term, block: Block) -> np.ndarray:
    """The term's column on a block's rows (zero where the term does not act)."""
    n = block.rows.size
    if term.kind == "intercept":
        return np.ones(n)
    if term.kind == "centre":
        return -np.ones(n)
    if term.kind == "baseline_survival":
        return np.full(n, 1.0 if term.horizon == block.horizon else 0.0)
    return term.values[block.rows]  # type: ignore[index]


# --------------------------------------------------------------------------- sparse fit


def recover_formula(
    spec: InstrumentSpec, encoded: dict[str, Encoded], parts: list[Block]
) -> tuple[list[Recovered], bool]:
    """The parameters of one formula (its blocks stacked) that the observed outputs imply.

    Also says whether they explain the whole difference (to rounding).
    """
    if not parts:
        return [], True
    variant, outcome = parts[0].variant, parts[0].outcome
    terms = formula_terms(spec, encoded, variant, outcome)
    d = np.concatenate([b.difference for b in parts])
    x = np.column_stack([np.concatenate([_column(t, b) for b in parts]) for t in terms])
    keep = np.isfinite(d) & np.isfinite(x).all(axis=1)
    d, x = d[keep], x[keep]
    dropped = sum(b.dropped_at_bounds for b in parts)
    chosen = _sparse(x, d)
    if not chosen:
        return [], bool(np.all(np.abs(d) <= EXPLAINED))
    beta, half = _ols(x[:, chosen], d)
    explained = bool(np.all(np.abs(d - x[:, chosen] @ beta) <= EXPLAINED))
    n = d.size
    if not explained:  # another fault acts on some cases: fit on the cases it leaves alone
        rows = trimmed(x[:, chosen], d)
        if rows is not None:
            beta, half = _ols(x[rows][:, chosen], d[rows])
            n = int(rows.sum())
    out = []
    for j, b, hw in zip(chosen, beta, half, strict=True):
        aliases = [parameter_name(terms[k].path) for k in _aliases(x, j)]
        out.append(_recovered(terms[j], variant, outcome, b, hw, n, dropped, aliases))
    return out, explained


def trimmed(x: np.ndarray, d: np.ndarray, rounds: int = 6) -> np.ndarray | None:
    """The cases a least-squares fit explains within the noise (a few trimming rounds).

    A case stays while its residual is within three robust standard deviations (1.4826
    × the median absolute residual) of the fit on the cases kept so far. ``None`` when
    fewer than half the cases would stay.
    """
    keep = np.ones(d.size, dtype=bool)
    for _ in range(rounds):
        beta = np.linalg.lstsq(x[keep], d[keep], rcond=None)[0]
        residual = np.abs(d - x @ beta)
        scale = 1.4826 * float(np.median(residual[keep]))
        now = residual <= max(3 * scale, EXPLAINED)
        if now.sum() < max(x.shape[1] + 3, d.size / 2):
            return None
        if np.array_equal(now, keep):
            break
        keep = now
    return keep


def _sparse(x: np.ndarray, d: np.ndarray) -> list[int]:
    """Columns chosen one at a time, each the largest significant reduction of the residual."""
    norms = np.einsum("ij,ij->j", x, x)
    usable = norms > 1e-12
    chosen: list[int] = []
    residual = d.copy()
    n = d.size
    while len(chosen) < MAX_TERMS and n > len(chosen) + 2:
        projection = x.T @ residual
        gain = np.where(usable, projection**2 / np.where(usable, norms, 1.0), 0.0)
        gain[chosen] = 0.0
        j = int(np.argmax(gain))
        rss = float(residual @ residual)
        if gain[j] <= 1e-12 * n or gain[j] <= 0:
            break
        after = max(rss - gain[j], 0.0)
        f_stat = gain[j] / max(after / (n - len(chosen) - 1), 1e-300)
        if f_stat < F_ENTER:
            break
        chosen.append(j)
        beta = np.linalg.lstsq(x[:, chosen], d, rcond=None)[0]
        residual = d - x[:, chosen] @ beta
    return chosen


def _ols(x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and their 95% half-widths."""
    beta = np.linalg.lstsq(x, d, rcond=None)[0]
    dof = max(d.size - x.shape[1], 1)
    sigma2 = float(np.sum((d - x @ beta) ** 2) / dof)
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    return beta, Z * np.sqrt(np.maximum(np.diag(cov), 0.0))


def _aliases(x: np.ndarray, j: int) -> list[int]:
    """Other columns identical to column ``j`` up to a factor (not separately identifiable)."""
    norms = np.sqrt(np.einsum("ij,ij->j", x, x))
    cosine = np.abs(x.T @ x[:, j]) / np.maximum(norms * norms[j], 1e-300)
    same = (cosine >= 1 - 1e-12) & (norms > 0)
    same[j] = False
    return [int(k) for k in np.flatnonzero(same)]


def _recovered(
    term: Term,
    variant: str,
    outcome: str,
    beta: float,
    half: float,
    n: int,
    dropped: int,
    aliases: list[str],
) -> Recovered:
    """A term's coefficient as the deployed parameter value, with its interval."""
    if term.kind == "baseline_survival":
        tau = math.log(-math.log(term.spec)) + beta
        half = max(half, MIN_HALF_WIDTH * max(1.0, abs(tau)))
        estimate = math.exp(-math.exp(tau))
        ci = (math.exp(-math.exp(tau + half)), math.exp(-math.exp(tau - half)))
    else:
        estimate = term.spec + beta
        half = max(half, MIN_HALF_WIDTH * max(1.0, abs(estimate)))
        ci = (estimate - half, estimate + half)
    return Recovered(
        term.path, term.kind, variant, outcome, term.spec, estimate, ci, n, dropped, aliases
    )


# --------------------------------------------------------------------------- transforms


@dataclass(frozen=True)
class TransformFit:
    """A transform parameter fitted on every formula: estimate, interval, fit quality."""

    path: Path
    predictor: str
    spec: float
    estimate: float
    ci: tuple[float, float]
    improvement: float
    """Share of the spec's misfit that the fitted value removes (1 = all)."""


Objective = Callable[[Predictor], float]


def transform_parameters(p: Predictor) -> list[tuple[Path, float]]:
    """Every number of a predictor's transforms, with its path (each bin edge separately)."""
    out: list[tuple[Path, float]] = []
    for i, step in enumerate(p.transform):
        base: Path = ("predictors", p.name, "transform", i)
        if isinstance(step, Bins):
            out += [((*base, "bins", "edges", k), e) for k, e in enumerate(step.bins.edges)]
            continue
        ((kind, values),) = step.model_dump().items()
        out += [((*base, kind, key), float(v)) for key, v in values.items()]
    return out


def predictor_index(spec: InstrumentSpec, name: str) -> int:
    """Position of a predictor in the spec (its index in ``predictors``)."""
    return [p.name for p in spec.predictors].index(name)


def changed_predictor(p: Predictor, path: Path, value: float) -> Predictor | None:
    """The predictor with one transform number replaced (``None`` if that is not valid).

    Built without re-validation (this runs inside a search); the checks that matter
    (positive sd and scale, increasing edges) are made here.
    """
    step_index, kind, key = int(path[3]), str(path[4]), path[5]
    steps = list(p.transform)
    step = steps[step_index]
    if isinstance(step, Bins):
        edges = list(step.bins.edges)
        edges[int(path[6])] = value
        if any(b <= a for a, b in itertools.pairwise(edges)):
            return None
        body = BinsBody.model_construct(edges=edges, labels=step.bins.labels)
        steps[step_index] = Bins.model_construct(bins=body)
    else:
        if key in ("sd", "scale") and value <= 0:
            return None
        new = dict(getattr(step, kind)) | {str(key): value}
        steps[step_index] = type(step).model_construct(**{kind: new})
    return p.model_copy(update={"transform": steps})


def fit_transform(
    p: Predictor, path: Path, spec_value: float, misfit: Objective, raw: np.ndarray
) -> TransformFit:
    """The value of one transform number that minimises ``misfit``, with its interval.

    ``misfit(predictor)`` is a loss of the outputs with the changed predictor (a sum of
    squares on the linear-predictor scale, or the number of cases out of their band).
    A bin edge is fitted over the distinct transformed values (an edge anywhere between
    two of them gives the same bins); any other number by a grid and a bounded search.
    The interval holds the values whose loss is within the noise of the best.
    """

    first = _fit(p, path, spec_value, misfit, raw)
    restrict = getattr(misfit, "restrict", None)
    changed = changed_predictor(p, path, first.estimate)
    if restrict is None or changed is None or first.improvement <= 0:
        return first
    focused = restrict(changed)  # the cases the first fit explains: refit on them
    return _fit(p, path, spec_value, focused, raw) if focused is not None else first


def _fit(
    p: Predictor, path: Path, spec_value: float, misfit: Objective, raw: np.ndarray
) -> TransformFit:
    def loss(value: float) -> float:
        changed = changed_predictor(p, path, value)
        return misfit(changed) if changed is not None else math.inf

    at_spec = loss(spec_value)
    grid = _grid(p, path, spec_value, raw)
    if not grid.size:
        return TransformFit(path, p.name, spec_value, spec_value, (spec_value, spec_value), 0.0)
    losses = np.array([loss(v) for v in grid])
    best = int(np.argmin(losses))
    if "bins" in path:
        low, high, estimate = _plateau(grid, losses, best)
    else:
        estimate = _refine(loss, grid, best)
        low, high = _profile(loss, estimate, loss(estimate), grid)
    best_loss = min(float(losses[best]), loss(estimate))
    improvement = 1.0 - best_loss / at_spec if at_spec > 0 and np.isfinite(at_spec) else 0.0
    return TransformFit(path, p.name, spec_value, estimate, (low, high), improvement)


def _grid(p: Predictor, path: Path, value: float, raw: np.ndarray) -> np.ndarray:
    """Values to try for a transform number; for a bin edge, the data's distinct values.

    An edge at a distinct transformed value ``v`` gives the same bins as any edge above
    the next lower distinct value, so those values are all there is to try (between the
    neighbouring edges, which must stay in order).
    """
    low, high = p.bounds
    if "bins" in path:
        edges = p.bins.edges  # type: ignore[union-attr]
        k = int(path[-1])
        below = edges[k - 1] if k > 0 else -math.inf
        above = edges[k + 1] if k + 1 < len(edges) else math.inf
        values = apply_steps(p.numeric_steps, raw)
        distinct = np.unique(values[np.isfinite(values)])
        return distinct[(distinct > below) & (distinct < above)]
    key = str(path[-1])
    if key in ("sd", "scale"):
        return np.unique(np.concatenate([value * np.geomspace(0.05, 20, 97), [value]]))
    if key == "offset":
        start = max(-low, 0.0) + 1e-6
        return np.unique(np.concatenate([np.linspace(start, value + 20, 97), [value]]))
    span = max(high - low, abs(value), 1.0)
    return np.unique(np.concatenate([np.linspace(low - span, high + span, 97), [value]]))


def _plateau(grid: np.ndarray, losses: np.ndarray, best: int) -> tuple[float, float, float]:
    """The interval of edges as good as the best: from the value below to the last tie."""
    tie = losses <= losses[best] + 1e-9 * max(1.0, abs(losses[best]))
    first = last = best
    while first > 0 and tie[first - 1]:
        first -= 1
    while last + 1 < grid.size and tie[last + 1]:
        last += 1
    low = float(grid[first - 1]) if first > 0 else -math.inf
    high = float(grid[last])
    return low, high, high


def _refine(loss: Callable[[float], float], grid: np.ndarray, best: int) -> float:
    """A bounded one-dimensional search between the best grid point's neighbours."""
    a = grid[max(best - 1, 0)]
    b = grid[min(best + 1, grid.size - 1)]
    if not a < b:
        return float(grid[best])
    found = optimize.minimize_scalar(
        loss, bounds=(a, b), method="bounded", options={"xatol": 1e-12}
    )
    return float(found.x) if found.fun <= loss(float(grid[best])) else float(grid[best])


def _profile(
    loss: Callable[[float], float], estimate: float, best: float, grid: np.ndarray
) -> tuple[float, float]:
    """Values whose loss stays within the noise of the best (at least a tiny interval)."""
    threshold = best + max(best * 4.0 / max(grid.size, 1), 1e-18) + 1e-12 * abs(best)
    hw = MIN_HALF_WIDTH * max(1.0, abs(estimate))
    ends = []
    for direction in (-1.0, 1.0):
        inside, step = 0.0, hw
        while (
            step < 1e6 * max(1.0, abs(estimate)) and loss(estimate + direction * step) <= threshold
        ):
            inside, step = step, step * 2
        outside = step
        for _ in range(30):
            mid = (inside + outside) / 2
            if loss(estimate + direction * mid) <= threshold:
                inside = mid
            else:
                outside = mid
        ends.append(estimate + direction * max(inside, hw))
    return ends[0], ends[1]
