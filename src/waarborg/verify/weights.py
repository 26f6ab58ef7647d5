"""Implied weights: what a weight must be for the spec to give the observed outputs.

Two estimators, both per population variant and outcome, both relative to the current
hypothesis (so after a variant swap has been found, the weights are estimated on top
of it):

* **from probabilities** (logistic and Cox): the observed linear predictor is recovered
  through the inverse link — logit(p) for logistic; centre + log(log(1 − p) / log S₀(t))
  for Cox — and its difference from the hypothesis's linear predictor is regressed by
  least squares on the spec's terms (one column per number, one indicator per
  non-reference level). Each coefficient is a weight's change, with a 95% interval.
* **from bands** (any linear model, points included): a band says the score lies between
  two cut-offs (mapped to the linear-predictor scale). For one weight, every case then
  allows an interval of changes; a sweep over the interval ends finds the change that
  puts the most cases in their observed band. The result is the range of values that
  does so — every value in it fits equally well.

Each weight that differs becomes a ``coefficient_wrong`` candidate at the *simplest*
value consistent with the data (fewest decimals inside the interval), which the
diagnosis then confirms by re-scoring. For a domain-sum profile the items' weights are
±1 by definition; the candidates there are an item counted the wrong way round or left
out of the sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats as sps

from waarborg.instruments.encode import Encoded, Frame, encode
from waarborg.instruments.engine import Instrument, with_event_predictors
from waarborg.instruments.spec import InstrumentSpec, LinearFormula
from waarborg.verify.hypothesis import (
    Candidate,
    Detail,
    Hypothesis,
    Setting,
    formula,
    variant_codes,
    weight_of,
    with_predictor,
    with_weight,
    without_predictor,
)

MAX_CANDIDATES = 12
"""Weights tried per diagnosis step, the most clearly differing first."""
Term = tuple[str, str | None, np.ndarray]


def weight_candidates(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    """``coefficient_wrong`` candidates: weights the observed outputs imply differ."""
    kind = h.spec.model.kind
    if kind == "domain_sum":
        yield from _item_candidates(h)
        return
    if kind not in ("logistic", "cox", "points"):
        return
    found = implied_weights(h, scored, setting)
    found = sorted((e for e in found if e["differs"]), key=lambda e: -e["strength"])
    seen: set[tuple] = set()
    for e in found:
        key = (e["variant"], e["outcome"], e["predictor"], e["level"])
        if key not in seen and len(seen) < MAX_CANDIDATES:
            seen.add(key)
            yield _candidate(h, e)


def implied_weights(h: Hypothesis, scored: pa.Table, setting: Setting) -> list[dict[str, Any]]:
    """Each term's weight implied by the observed outputs, per variant and outcome.

    Returns dicts ``{variant, outcome, predictor, level, spec, estimate, ci, method,
    proposed, differs, strength}``; ``method`` is ``probabilities`` (regression,
    ``ci`` a 95% interval) or ``bands`` (``ci`` the range of values that fit best);
    ``proposed`` is the simplest value in ``ci``.
    """
    encoded = _encoded(h)
    variants = variant_codes(scored, h.spec)
    out: list[dict[str, Any]] = []
    for outcome, names in setting.columns.items():
        probability = next((n for n in names if n.startswith("probability_")), None)
        for v_index, v_name in enumerate(h.spec.model.all_variants):
            rows = variants == v_index
            terms = _terms(h.spec, encoded, formula(h.spec, v_name, outcome))
            where = (h.spec, v_name, outcome)
            if probability is not None and h.spec.model.kind != "points":
                out += _regress(where, probability, scored, setting, terms, rows)
            elif outcome in setting.observed.bands:
                out += _band_fit(where, scored, setting, terms, rows)
    return out


def _encoded(h: Hypothesis) -> dict[str, Encoded]:
    cases = h.cases
    if h.events is not None:
        cases, _ = with_event_predictors(Instrument(h.spec), Frame(cases, "<cases>"), h.events)
    frame = Frame(cases, "<cases>")
    return {p.name: encode(p, frame) for p in h.spec.predictors}


def _terms(spec: InstrumentSpec, encoded: dict[str, Encoded], f: LinearFormula) -> list[Term]:
    """Regression columns: (predictor, level or None, values).

    A categorical predictor leaves out its reference level (the one with weight 0), so
    each estimate is a level's weight with the reference held at 0.
    """
    out: list[Term] = []
    for p in spec.predictors:
        enc = encoded[p.name]
        if enc.codes is None:
            out.append((p.name, None, np.asarray(enc.value, dtype=float)))
            continue
        weights = f.weights[p.name]
        levels = p.model_levels()
        reference = next((lv for lv in levels if weights[lv] == 0), levels[0])  # type: ignore[index]
        for code, level in enumerate(levels):
            if level != reference:
                out.append((p.name, level, (enc.codes == code).astype(float)))
    return out


# --------------------------------------------------------------------------- from probabilities


def observed_linear_predictor(
    spec: InstrumentSpec, variant: str, outcome: str, column: str, p: np.ndarray
) -> np.ndarray:
    """The linear predictor that gives probabilities ``p`` (the inverse link).

    Examples
    --------
    >>> from waarborg.instruments.engine import load_instrument
    >>> spec = load_instrument("preselect-style").spec
    >>> observed_linear_predictor(spec, "default", "reoffending", "x", np.array([0.5]))
    array([0.])
    """
    p = np.clip(p, 1e-15, 1 - 1e-15)
    if spec.model.kind == "logistic":
        return np.log(p / (1 - p))
    f = formula(spec, variant, outcome)
    horizon = float(column.removeprefix(f"probability_{outcome}_").removesuffix("y"))
    return f.centre + np.log(np.log1p(-p) / np.log(f.baseline_survival[horizon]))


def _regress(
    where: tuple[InstrumentSpec, str, str],
    column: str,
    scored: pa.Table,
    setting: Setting,
    terms: list[Term],
    rows: np.ndarray,
) -> list[dict[str, Any]]:
    spec, variant, outcome = where
    observed = observed_linear_predictor(
        spec, variant, outcome, column, setting.observed.probabilities[column][rows]
    )
    current = np.asarray(scored.column(f"score_{outcome}").to_numpy(), dtype=float)[rows]
    x = np.column_stack([np.ones(current.size)] + [t[2][rows] for t in terms])
    keep = np.isfinite(observed - current) & np.isfinite(x).all(axis=1)
    x, y = x[keep], (observed - current)[keep]
    if y.size <= x.shape[1]:
        return []
    inverse = np.linalg.pinv(x.T @ x)  # normal equations: the design is small and dense
    beta = inverse @ (x.T @ y)
    sigma2 = float(np.sum((y - x @ beta) ** 2) / (y.size - x.shape[1]))
    se = np.sqrt(np.maximum(np.diag(sigma2 * inverse), 0))
    z = float(sps.norm.isf(0.025))
    out = []
    for (name, level, _), delta, s in zip(terms, beta[1:], se[1:], strict=True):
        w = weight_of(spec, variant, outcome, name, level)
        ci = [w + delta - z * s, w + delta + z * s]
        differs = abs(delta) > max(1e-6, 4 * s)
        strength = abs(delta) / s if s > 0 else math.inf
        out.append(
            _estimate(where, (name, level), w + delta, ci, "probabilities", differs, strength)
        )
    return out


def _estimate(
    where: tuple[InstrumentSpec, str, str],
    term: tuple[str, str | None],
    estimate: float,
    ci: list[float],
    method: str,
    differs: bool,
    strength: float,
) -> dict[str, Any]:
    spec, variant, outcome = where
    name, level = term
    w = weight_of(spec, variant, outcome, name, level)
    slack = 1e-9 * max(1.0, abs(w))
    if method == "probabilities":
        differs = differs and not ci[0] - slack <= w <= ci[1] + slack
        proposed = simplest_in(ci[0] - slack, ci[1] + slack)
    else:  # the best range is half-open, and never holds the spec's value
        proposed = simplest_in(ci[0], float(np.nextafter(ci[1], -np.inf)))
    return {
        "variant": variant,
        "outcome": outcome,
        "predictor": name,
        "level": level,
        "spec": w,
        "estimate": float(estimate),
        "proposed": proposed,
        "ci": [float(ci[0]), float(ci[1])],
        "method": method,
        "differs": bool(differs),
        "strength": float(strength),
    }


# --------------------------------------------------------------------------- from bands


def _band_fit(
    where: tuple[InstrumentSpec, str, str],
    scored: pa.Table,
    setting: Setting,
    terms: list[Term],
    rows: np.ndarray,
) -> list[dict[str, Any]]:
    spec, variant, outcome = where
    observed = setting.observed.bands[outcome][rows]
    current = np.asarray(scored.column(f"score_{outcome}").to_numpy(), dtype=float)[rows]
    keep = (observed >= 0) & np.isfinite(current)
    cuts = np.concatenate([[-np.inf], _score_cutoffs(spec, variant, outcome), [np.inf]])
    lower, upper = cuts[observed[keep]], cuts[observed[keep] + 1]
    out = []
    for name, level, values in terms:
        fit = best_shift(current[keep], values[rows][keep], lower, upper)
        if fit is None:
            continue
        (a, b), gain = fit
        w = weight_of(spec, variant, outcome, name, level)
        ci = [w + a, w + b]
        estimate = simplest_in(ci[0], float(np.nextafter(ci[1], -np.inf)))
        out.append(_estimate(where, (name, level), estimate, ci, "bands", True, gain))
    return out


def _score_cutoffs(spec: InstrumentSpec, variant: str, outcome: str) -> np.ndarray:
    """The band's cut-offs on the scale of ``score_<outcome>`` (the linear predictor)."""
    band = spec.bands[outcome]
    c = np.asarray(band.cutoffs, dtype=float)
    if band.quantity == "score":
        return c
    if spec.model.kind == "logistic":
        return np.log(c / (1 - c))
    f = formula(spec, variant, outcome)
    return f.centre + np.log(np.log1p(-c) / np.log(f.baseline_survival[band.horizon]))  # type: ignore[index]


def best_shift(
    score: np.ndarray, x: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[tuple[float, float], int] | None:
    """The change δ of one weight that puts the most cases in their band, and its gain.

    Case *i* is in its band when ``lower[i] <= score[i] + δ·x[i] < upper[i]``. Returns
    the range of best δ (half-open) and how many more cases it fits than δ = 0, or
    ``None`` when no change fits more cases.

    Examples
    --------
    >>> s, x = np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0])
    >>> best_shift(s, x, np.array([1.0, 1.5, -1.0]), np.array([2.0, 3.0, 1.0]))
    ((1.5, 2.0), 2)
    """
    moves = x != 0
    lo = (lower[moves] - score[moves]) / x[moves]
    hi = (upper[moves] - score[moves]) / x[moves]
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    if not lo.size:
        return None
    at = np.concatenate([lo, hi])
    step = np.concatenate([np.ones(lo.size, int), -np.ones(hi.size, int)])
    order = np.lexsort((step, at))  # at a tie, cases leave before others enter
    at, count = at[order], np.cumsum(step[order])
    best = int(np.argmax(count))
    gain = int(count[best]) - int(((lo <= 0) & (hi > 0)).sum())
    end = at[best + 1] if best + 1 < at.size else np.inf
    if gain <= 0 or (not np.isfinite(at[best]) and not np.isfinite(end)):
        return None
    return (float(at[best]), float(end)), gain


def simplest_in(low: float, high: float) -> float:
    """The roundest number in ``[low, high]``: fewest decimals, then nearest the middle.

    Examples
    --------
    >>> simplest_in(0.5484, 0.5507), simplest_in(2.2, 3.7), simplest_in(-np.inf, 0.3)
    (0.55, 3.0, 0.0)
    """
    if not low < high:
        return float(low)
    if not np.isfinite(low):
        return float(math.ceil(high) - 1) if np.isfinite(high) else 0.0
    if not np.isfinite(high):
        return float(math.floor(low) + 1)
    middle = (low + high) / 2
    for digits in range(13):
        step = 10.0**-digits
        for value in (round(middle / step) * step, math.ceil(low / step) * step):
            value = round(value, digits)
            if low <= value <= high:
                return float(value)
    return float(middle)


# --------------------------------------------------------------------------- candidates


def _candidate(h: Hypothesis, e: dict[str, Any]) -> Candidate:
    ci, value = e["ci"], e["proposed"]
    spec = with_weight(h.spec, e["variant"], e["outcome"], e["predictor"], e["level"], value)
    where = f"'{e['predictor']}'" + (f" level '{e['level']}'" if e["level"] else "")
    waar = where.replace(" level ", " niveau ")
    if e["method"] == "probabilities":
        span = f"95% CI {ci[0]:.4g} to {ci[1]:.4g}", f"95%-BI {ci[0]:.4g} tot {ci[1]:.4g}"
    else:
        span = (
            f"the observed bands fit any value {_range(ci, 'en')}",
            f"de waargenomen categorieën passen bij elke waarde {_range(ci, 'nl')}",
        )
    context = f"{e['outcome']}, variant {e['variant']}"
    detail = Detail(
        f"the weight of {where} ({context}) is {value:.4g} ({span[0]}), not {e['spec']:.4g}",
        f"het gewicht van {waar} ({context}) is {value:.4g} ({span[1]}), niet {e['spec']:.4g}",
    )
    evidence = {k: e[k] for k in ("variant", "outcome", "predictor", "level", "spec", "ci")}
    evidence |= {"estimate": value, "method": e["method"]}
    return Candidate("coefficient_wrong", detail, replace(h, spec=spec), evidence)


def _range(ci: list[float], lang: str) -> str:
    """A half-open range in words: ``from a to b``, ``below b``, ``from a up``."""
    low, high = (f"{x:.4g}" for x in ci)
    if not np.isfinite(ci[0]):
        return f"below {high}" if lang == "en" else f"onder {high}"
    if not np.isfinite(ci[1]):
        return f"from {low} up" if lang == "en" else f"vanaf {low}"
    return f"from {low} to {high}" if lang == "en" else f"van {low} tot {high}"


def _item_candidates(h: Hypothesis) -> Iterator[Candidate]:
    """Domain-sum items counted the wrong way round, or left out of the sum."""
    for p in h.spec.predictors:
        flipped = "protective" if p.direction == "risk" else "risk"
        yield Candidate(
            "coefficient_wrong",
            Detail(
                f"item '{p.name}' is counted as {flipped}, not {p.direction}",
                f"item '{p.name}' telt als {_nl(flipped)}, niet als {_nl(p.direction)}",
            ),
            replace(h, spec=with_predictor(h.spec, p.name, direction=flipped)),
            {"predictor": p.name, "spec": p.direction, "estimate": flipped},
        )
        if len(h.spec.predictors) > 1:
            yield Candidate(
                "coefficient_wrong",
                Detail(
                    f"item '{p.name}' is left out of the sum",
                    f"item '{p.name}' wordt niet meegeteld",
                ),
                replace(h, spec=without_predictor(h.spec, p.name)),
                {"predictor": p.name, "spec": p.direction, "estimate": None},
            )


def _nl(direction: str | None) -> str:
    return {"risk": "risicofactor", "protective": "beschermende factor"}.get(direction or "", "")
