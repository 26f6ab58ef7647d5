"""Weights from bands, the roundest value in an interval, and domain-sum items.

* **from bands** (any linear model whose probabilities were not exported, points
  included): a band says the score lies between two cut-offs (mapped to the
  linear-predictor scale). For one parameter — a weight of a number or of any level
  (the reference level included), the intercept or the centre — every case then allows
  an interval of changes; a sweep over the interval ends finds the change that puts the
  most cases in their observed band. The result is the range of values that does so:
  every value in it fits equally well.
* :func:`simplest_in`: the value a candidate uses, the roundest in its interval.
* For a domain-sum profile the items' weights are ±1 by definition; the candidates
  there are an item counted the wrong way round or left out of the sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pyarrow as pa

from waarborg.instruments.spec import InstrumentSpec
from waarborg.verify.hypothesis import (
    Candidate,
    Detail,
    Hypothesis,
    Setting,
    formula,
    variant_codes,
    with_predictor,
    without_predictor,
)
from waarborg.verify.recover import Recovered, formula_terms

MAX_BAND_TERMS = 6
"""Parameters fitted from bands that are tried per step, the best fitting first."""


def band_recovered(h: Hypothesis, scored: pa.Table, setting: Setting) -> list[Recovered]:
    """Parameters implied by the bands of outcomes exported without probabilities."""
    if h.spec.model.kind not in ("logistic", "cox", "points"):
        return []
    codes = variant_codes(scored, h.spec)
    found: list[tuple[int, Recovered]] = []
    for outcome, names in setting.columns.items():
        if outcome not in setting.observed.bands or any(
            n in setting.observed.probabilities for n in names
        ):
            continue
        for v_index, variant in enumerate(h.spec.model.all_variants):
            found += _band_fit(h, scored, setting, variant, outcome, codes == v_index)
    found.sort(key=lambda item: -item[0])
    return [r for _, r in found[:MAX_BAND_TERMS]]


def _band_fit(
    h: Hypothesis,
    scored: pa.Table,
    setting: Setting,
    variant: str,
    outcome: str,
    rows: np.ndarray,
) -> list[tuple[int, Recovered]]:
    spec = h.spec
    observed = setting.observed.bands[outcome][rows]
    current = np.asarray(scored.column(f"score_{outcome}").to_numpy(), dtype=float)[rows]
    keep = (observed >= 0) & np.isfinite(current)
    cuts = np.concatenate([[-np.inf], score_cutoffs(spec, variant, outcome), [np.inf]])
    lower, upper = cuts[observed[keep]], cuts[observed[keep] + 1]
    out = []
    for term in formula_terms(spec, h.encoded, variant, outcome):
        if term.kind == "baseline_survival":
            continue  # at the band's horizon, the same as the centre
        sign = -1.0 if term.kind == "centre" else 1.0
        values = np.full(rows.sum(), sign) if term.values is None else term.values[rows]
        fit = best_shift(current[keep], np.nan_to_num(values[keep]), lower, upper)
        if fit is None:
            continue
        (a, b), gain = fit
        ci = (term.spec + a, term.spec + b)
        estimate = simplest_in(ci[0], float(np.nextafter(ci[1], -np.inf)))
        found = Recovered(
            term.path,
            term.kind,
            variant,
            outcome,
            term.spec,
            estimate,
            ci,
            int(keep.sum()),
            0,
            method="bands",
        )
        out.append((gain, found))
    return out


def score_cutoffs(spec: InstrumentSpec, variant: str, outcome: str) -> np.ndarray:
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


# --------------------------------------------------------------------------- items


def item_candidates(h: Hypothesis) -> Iterator[Candidate]:
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
            {
                "parameter": f"predictors.{p.name}.direction",
                "predictor": p.name,
                "spec": p.direction,
                "estimate": flipped,
            },
            1,
            {("predictors", p.name, "direction"): flipped},
        )
        if sum(q.domain == p.domain for q in h.spec.predictors) > 1:  # a domain keeps an item
            yield Candidate(
                "coefficient_wrong",
                Detail(
                    f"item '{p.name}' is left out of the sum",
                    f"item '{p.name}' wordt niet meegeteld",
                ),
                replace(h, spec=without_predictor(h.spec, p.name)),
                {
                    "parameter": f"predictors.{p.name}",
                    "predictor": p.name,
                    "spec": p.direction,
                    "estimate": None,
                },
            )


def _nl(direction: str | None) -> str:
    return {"risk": "risicofactor", "protective": "beschermende factor"}.get(direction or "", "")
