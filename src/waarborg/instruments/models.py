"""The model kinds: from encoded predictors to a score, probabilities and per-predictor parts.

Every kind fills an :class:`OutcomeScore` for each outcome, vectorised over all cases:

* **logistic** — ``score = intercept + Σ contributions``; ``p = 1 / (1 + exp(-score))``.
* **cox** — ``score = Σ contributions`` (the linear predictor);
  ``p(t) = 1 - S0(t) ** exp(score - centre)`` for every horizon ``t``.
* **points** — ``score = intercept + Σ points``; no probability.
* **domain_sum** — each item adds its score (risk items) or subtracts it (protective
  items); ``score`` is the profile total, and each domain has its own sum.
* **tree** — ordered rules, the first that holds decides the band (and the probability
  if the rules give one); ``score`` is that probability, else the band's position.

A *contribution* is a predictor's part of the score: weight × transformed value, the
level's weight, or the item score. For a tree it is 1 for the predictors that the
deciding rule tests and 0 for the others.

Where a value is missing under the ``range`` policy, the score is computed for every
admissible value: ``score_low``/``score_high`` bound it and the point score is nan.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from waarborg.instruments.encode import Encoded, apply_steps
from waarborg.instruments.spec import (
    Condition,
    InstrumentSpec,
    LinearFormula,
    Predictor,
    Rule,
    TreeFormula,
)


@dataclass
class OutcomeScore:
    """The model's output for one outcome over all cases."""

    score: np.ndarray
    score_low: np.ndarray
    score_high: np.ndarray
    contributions: dict[str, np.ndarray]
    probabilities: dict[float | None, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict
    )
    """Per horizon (``None`` for a model without one): point, lowest, highest."""
    band_codes: tuple[np.ndarray, np.ndarray] | None = None
    """Set by kinds that decide the band themselves (tree): lowest and highest code."""


def score_outcome(
    spec: InstrumentSpec,
    outcome: str,
    encoded: dict[str, Encoded],
    variant_codes: np.ndarray,
) -> OutcomeScore:
    """Score one outcome for all cases, each case with its own population variant."""
    kind = spec.model.kind
    if kind == "tree":
        return _tree(spec, outcome, encoded, variant_codes)
    formulas = _formulas(spec, outcome)
    result = _linear(spec.predictors, formulas, encoded, variant_codes)
    if kind == "logistic":
        result.probabilities[_single_horizon(spec, outcome)] = _each(_sigmoid, result)
    elif kind == "cox":
        for horizon in next(o.horizons for o in spec.outcomes if o.name == outcome):
            s0 = np.array([f.baseline_survival[horizon] for f in formulas])[variant_codes]
            centre = np.array([f.centre for f in formulas])[variant_codes]
            result.probabilities[horizon] = _each(
                lambda lp, s0=s0, centre=centre: 1.0 - s0 ** np.exp(lp - centre), result
            )
    return result


def _single_horizon(spec: InstrumentSpec, outcome: str) -> float | None:
    horizons = next(o.horizons for o in spec.outcomes if o.name == outcome)
    return horizons[0] if horizons else None


def _each(
    link: Callable[[np.ndarray], np.ndarray], result: OutcomeScore
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The link applied to the score and its bounds (once, when nothing is unknown)."""
    point = link(result.score)
    if result.score_low is result.score:
        return point, point, point
    return point, link(result.score_low), link(result.score_high)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _formulas(spec: InstrumentSpec, outcome: str) -> list[LinearFormula]:
    """The outcome's formula per variant; domain sums get implied ±1 weights."""
    if spec.model.kind == "domain_sum":
        weights = {p.name: 1.0 if p.direction == "risk" else -1.0 for p in spec.predictors}
        return [LinearFormula(weights=weights)]
    return [v.outcomes[outcome] for v in spec.model.all_variants.values()]  # type: ignore[misc]


# --------------------------------------------------------------------------- linear kinds


def _linear(
    predictors: list[Predictor],
    formulas: list[LinearFormula],
    encoded: dict[str, Encoded],
    variant_codes: np.ndarray,
) -> OutcomeScore:
    intercept = _per_case(np.array([f.intercept for f in formulas]), variant_codes)
    score = np.zeros(len(variant_codes)) + intercept
    any_unknown = any(encoded[p.name].has_unknown for p in predictors)
    low, high = (score.copy(), score.copy()) if any_unknown else (score, score)
    contributions: dict[str, np.ndarray] = {}
    for p in predictors:
        part, part_low, part_high = _linear_part(p, formulas, encoded[p.name], variant_codes)
        contributions[p.name] = part
        score += part
        if any_unknown:
            low += part_low
            high += part_high
    return OutcomeScore(score, low, high, contributions)


def _per_case(values: np.ndarray, variant_codes: np.ndarray) -> np.ndarray | float:
    """A per-variant parameter for every case (a plain number when there is one variant)."""
    return float(values[0]) if len(values) == 1 else values[variant_codes]


def _linear_part(
    p: Predictor, formulas: list[LinearFormula], enc: Encoded, variant_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A predictor's contribution, and its lowest and highest over admissible values."""
    if p.is_categorical:
        levels = p.model_levels()
        table = np.array([[f.weights[p.name][lvl] for lvl in levels] for f in formulas])  # type: ignore[index]
        codes = np.maximum(enc.codes, 0)  # type: ignore[arg-type]
        part = table[0, codes] if len(formulas) == 1 else table[variant_codes, codes]
        options = table[:, _admissible_levels(p)]
        lowest, highest = options.min(axis=1), options.max(axis=1)
    else:
        weight = np.array([f.weights[p.name] for f in formulas], dtype=np.float64)
        part = _per_case(weight, variant_codes) * enc.value
        ends = apply_steps(p.numeric_steps, np.array(p.bounds))
        lowest = np.minimum(weight * ends[0], weight * ends[1])
        highest = np.maximum(weight * ends[0], weight * ends[1])
    if not enc.has_unknown:
        return part, part, part
    part = np.where(enc.unknown, np.nan, part)
    low = np.where(enc.unknown, _per_case(lowest, variant_codes), part)
    high = np.where(enc.unknown, _per_case(highest, variant_codes), part)
    return part, low, high


def _admissible_levels(p: Predictor) -> list[int]:
    """Level codes a missing value could take: all levels, or the bins the range reaches."""
    bins = p.bins
    if bins is None:
        return list(range(len(p.model_levels())))
    ends = apply_steps(p.numeric_steps, np.array(p.bounds))
    first, last = np.searchsorted(np.asarray(bins.edges), ends, side="right")
    return list(range(int(first), int(last) + 1))


# --------------------------------------------------------------------------- tree


def _tree(
    spec: InstrumentSpec,
    outcome: str,
    encoded: dict[str, Encoded],
    variant_codes: np.ndarray,
) -> OutcomeScore:
    variants: list[TreeFormula] = [v.outcomes[outcome] for v in spec.model.all_variants.values()]  # type: ignore[misc]
    labels = spec.bands[outcome].labels
    rule_index = _first_rule(spec, variants, {n: e.raw for n, e in encoded.items()}, variant_codes)
    band = np.nan_to_num(_rule_table(variants, lambda r: labels.index(r.band)), nan=-1)
    band = band.astype(np.int64)
    codes = band[variant_codes, rule_index]
    low, high = codes, codes
    unknown = np.zeros(len(variant_codes), dtype=bool)
    for enc in encoded.values():
        unknown |= enc.unknown
    if unknown.any():
        low, high = _tree_range(spec, variants, encoded, variant_codes, unknown, band, codes)
    contributions = _tree_contributions(spec, variants, rule_index, variant_codes)
    has_probability = all(r.probability is not None for v in variants for r in v.rules)
    if has_probability:
        point = _rule_table(variants, lambda r: float(r.probability))[variant_codes, rule_index]
    else:
        point = codes.astype(float)
    point = np.where(unknown, np.nan, point)
    result = OutcomeScore(point, point, point, contributions, band_codes=(low, high))
    if has_probability:
        result.probabilities[None] = (point, point, point)
    return result


def _rule_table(variants: list[TreeFormula], value: Callable[[Rule], float]) -> np.ndarray:
    """``value(rule)`` for every variant (row) and rule (column), padded with nan."""
    width = max(len(v.rules) for v in variants)
    table = np.full((len(variants), width), np.nan)
    for i, v in enumerate(variants):
        table[i, : len(v.rules)] = [value(r) for r in v.rules]
    return table


def _first_rule(
    spec: InstrumentSpec,
    variants: list[TreeFormula],
    raw: dict[str, np.ndarray],
    variant_codes: np.ndarray,
) -> np.ndarray:
    """Index of the first rule that holds, per case, in the case's own variant."""
    decided = np.full(len(variant_codes), -1, dtype=np.int64)
    for v_index, variant in enumerate(variants):
        in_variant = variant_codes == v_index
        for r_index, rule in enumerate(variant.rules):
            holds = in_variant & (decided < 0)
            for name, condition in rule.when.items():
                holds &= _holds(spec.predictor(name), condition, raw[name])
            decided[holds] = r_index
    return decided


def _holds(p: Predictor, c: Condition, x: np.ndarray) -> np.ndarray:
    """Vectorised test of one condition on raw values (levels compared by code)."""

    def value(v: float | str | bool) -> float:
        return float(p.model_levels().index(v)) if p.type == "categorical" else float(v)

    if c.eq is not None:
        return x == value(c.eq)
    if c.isin is not None:
        return np.isin(x, [value(v) for v in c.isin])
    if c.lt is not None:
        return x < c.lt
    if c.le is not None:
        return x <= c.le
    if c.gt is not None:
        return x > c.gt
    return x >= c.ge  # type: ignore[operator]


def _tree_range(
    spec: InstrumentSpec,
    variants: list[TreeFormula],
    encoded: dict[str, Encoded],
    variant_codes: np.ndarray,
    unknown: np.ndarray,
    band: np.ndarray,
    codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest band over every combination of admissible values of missing inputs."""
    rows = np.flatnonzero(unknown)
    names = [name for name, enc in encoded.items() if enc.unknown[rows].any()]
    options = [_candidates(spec.predictor(name), variants) for name in names]
    low, high = codes.copy(), codes.copy()
    low[rows], high[rows] = np.iinfo(np.int64).max, -1
    sub_variant = variant_codes[rows]
    for combo in itertools.product(*options):
        raw = {name: enc.raw[rows].copy() for name, enc in encoded.items()}
        for name, value in zip(names, combo, strict=True):
            raw[name][encoded[name].unknown[rows]] = value
        result = band[sub_variant, _first_rule(spec, variants, raw, sub_variant)]
        low[rows] = np.minimum(low[rows], result)
        high[rows] = np.maximum(high[rows], result)
    return low, high


def _candidates(p: Predictor, variants: list[TreeFormula]) -> list[float]:
    """Values of ``p`` that reach every rule outcome: levels, or range ends and thresholds."""
    if p.type == "categorical":
        return [float(i) for i in range(len(p.model_levels()))]
    low, high = p.bounds
    step = 1.0 if p.type in ("integer", "boolean") else 1e-9 * max(1.0, abs(high - low))
    values = {low, high}
    for variant in variants:
        for rule in variant.rules:
            c = rule.when.get(p.name)
            for t in (c.lt, c.le, c.gt, c.ge, c.eq) if c else ():
                if isinstance(t, int | float):
                    values |= {t - step, float(t), t + step}
    return sorted(v for v in values if low <= v <= high)


def _tree_contributions(
    spec: InstrumentSpec,
    variants: list[TreeFormula],
    rule_index: np.ndarray,
    variant_codes: np.ndarray,
) -> dict[str, np.ndarray]:
    out = {}
    for p in spec.predictors:
        used = _rule_table(variants, lambda r, name=p.name: float(name in r.when))
        out[p.name] = np.asarray(used[variant_codes, rule_index], dtype=float)
    return out
