"""Acceptance test vectors: a covering set of cases with the outputs the spec prescribes.

Handed to a software supplier, the vectors are the acceptance test of an
implementation: the supplier scores the inputs, returns ``case_id`` with its outputs,
and ``waarborg verify INSTRUMENT vectors.csv outputs.csv --id case_id`` must agree. For
every population variant the set holds:

* **every level of every predictor**, each on the variant's base case: every declared
  level, both values of a boolean, every whole value of an integer with at most
  :data:`ENUMERATED` values, otherwise both ends of the range;
* **both sides of every transform boundary**: the value just below and at each bin edge,
  and at and just beyond each cap, found by a search over the predictor's range;
* **each missing value** the spec allows (one vector per predictor with a missing policy);
* **both sides of every band cut-off** of every outcome: from a seeded pool of random
  valid cases, the one just below and the one at or above the cut-off; then each
  numeric input of those cases is searched (a grid, refined around every change of
  side) for a value that brings the quantity closer, and the closest case on each side
  wins. A continuous quantity (a probability, a logistic score) is kept :data:`MARGIN`
  (10⁻⁶, the default tolerance) away from the cut-off, so an implementation that is
  right within the tolerance bands it right; with a continuous input the vector lands
  within about 10⁻⁷ beyond that margin, with whole-number inputs as close as they
  allow. Integer scores (points, profiles) hit the cut-off exactly.

Columns: ``case_id`` (``v0001``…), ``reason`` (why the vector is there, with the
quantity for boundary vectors), the case fields and predictors, and the expected outputs
``expected_band_<outcome>`` and ``expected_probability_<outcome>_<h>y``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from waarborg.instruments.encode import Frame, apply_steps, encode
from waarborg.instruments.engine import Instrument, load_instrument, output_columns, score
from waarborg.instruments.spec import Cap, InstrumentSpec, Predictor
from waarborg.verify.hypothesis import band_quantity, band_quantity_column
from waarborg.verify.weights import simplest_in

POOL = 20_000
ENUMERATED = 25
GRID = 101
SEEDS = 4
MARGIN = 1e-6
"""How far the boundary vectors of a continuous quantity stay from the cut-off: as far
as the default tolerance, so an implementation that is right within it bands them right."""
STEP = 1e-6
"""The gap between the two sides of a boundary for a continuous input (×10ᵏ for |x| ≥ 10ᵏ)."""

Row = tuple[str, dict[str, Any]]
Side = Callable[[np.ndarray], np.ndarray]


def acceptance_vectors(instrument: str | Instrument, seed: int = 0) -> pa.Table:
    """A covering set of test cases with their expected outputs.

    Parameters
    ----------
    instrument
        Catalog id, spec file or :class:`~waarborg.Instrument`.
    seed
        Seed of the random pool the base cases and boundary cases come from.

    Returns
    -------
    pyarrow.Table
        ``case_id``, ``reason``, the inputs and ``expected_<output>`` columns.

    Examples
    --------
    >>> v = acceptance_vectors("generic-selection")
    >>> sorted(set(v.column("expected_band_selection").to_pylist()))
    ['1', '2', '3', '4', '5', '6']
    """
    inst = load_instrument(instrument)
    pool = random_cases(inst.spec, POOL, np.random.default_rng(seed))
    rows: list[Row] = []
    for variant, mine in _per_variant(inst.spec, pool):
        base = {k: v[0] for k, v in mine.items()}
        rows += _levels(inst, base, variant)
        rows += _missing(inst.spec, base, variant)
        rows += _boundaries(inst, mine, variant)
    inputs = {name: [r[name] for _, r in rows] for name in pool}
    table = pa.table(
        {"case_id": [f"v{i + 1:04d}" for i in range(len(rows))], "reason": [r for r, _ in rows]}
        | inputs
    )
    return _with_expected(inst, table)


def random_cases(spec: InstrumentSpec, n: int, rng: np.random.Generator) -> dict[str, list]:
    """``n`` random valid cases: every categorical case field and every predictor."""
    out: dict[str, list] = {}
    for field in spec.case_fields:
        if field.type == "categorical":
            out[field.name] = rng.choice(field.levels or [], n).tolist()
    for p in spec.predictors:
        out[p.name] = _random_values(p, n, rng)
    return out


def _random_values(p: Predictor, n: int, rng: np.random.Generator) -> list:
    if p.type == "categorical":
        return rng.choice(p.levels or [], n).tolist()
    low, high = p.bounds
    if p.type == "boolean":
        return rng.integers(0, 2, n).astype(bool).tolist()
    if p.type == "integer":
        small = low + rng.geometric(0.25, n) - 1  # crosses caps and bins near the bottom
        wide = rng.integers(int(low), int(high) + 1, n)
        return np.clip(np.where(rng.random(n) < 0.5, small, wide), low, high).astype(int).tolist()
    # a third uniform, a third crowded at each end: narrow bins near the ends get cases too
    u, side = rng.random(n) ** np.where(rng.random(n) < 1 / 3, 1.0, 6.0), rng.random(n) < 0.5
    return np.where(side, low + (high - low) * u, high - (high - low) * u).tolist()


def _per_variant(spec: InstrumentSpec, pool: dict[str, list]) -> list[tuple[str, dict[str, list]]]:
    """The pool split by population variant (the whole pool for a single variant)."""
    field = spec.model.variant_field
    if not field:
        return [("", pool)]
    out = []
    for name in spec.model.all_variants:
        keep = [i for i, v in enumerate(pool[field]) if v == name]
        out.append((name, {k: [v[i] for i in keep] for k, v in pool.items()}))
    return out


def _prefix(variant: str) -> str:
    return f"[{variant}] " if variant else ""


# --------------------------------------------------------------------------- levels


def _levels(inst: Instrument, base: dict[str, Any], variant: str) -> list[Row]:
    """Every level of every predictor and both sides of its transform boundaries."""
    rows = []
    for p in inst.spec.predictors:
        for label, value in level_values(p):
            rows.append((f"{_prefix(variant)}{p.name} = {label}", base | {p.name: value}))
    return rows


def level_values(p: Predictor) -> list[tuple[str, Any]]:
    """A labelled value for every level the model weighs, and both sides of each boundary.

    Examples
    --------
    >>> from waarborg.instruments.engine import load_instrument
    >>> spec = load_instrument("generic-selection").spec
    >>> [v for _, v in level_values(spec.predictor("distance_to_parents_km"))][:4]
    [0.999999, 1.0, 4.999999, 5.0]
    """
    if p.type == "categorical":
        return [(level, level) for level in p.levels or []]
    if p.type == "boolean":
        return [("false", False), ("true", True)]
    low, high = p.bounds
    if p.type == "integer" and high - low < ENUMERATED:
        return [(f"{v}", v) for v in range(int(low), int(high) + 1)]
    out = []
    for left, right in crossings(_transformed_side(p), low, high, p.type == "integer"):
        out.append((f"{_typed(p, left)} (just before a boundary)", _typed(p, left)))
        out.append((f"{_typed(p, right)} (just after a boundary)", _typed(p, right)))
    return [*out, (f"lowest ({low:g})", _typed(p, low)), (f"highest ({high:g})", _typed(p, high))]


def _transformed_side(p: Predictor) -> Side:
    """Which side of its boundaries a raw value is on: its bin, and where it is to each cap."""
    steps = p.numeric_steps

    def side(x: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape, dtype=np.int64)
        if p.bins is not None:
            out = encode(p, Frame(pa.table({p.name: x}), "<vectors>")).codes.astype(np.int64)
        for i, step in enumerate(steps):
            if isinstance(step, Cap):
                before = apply_steps(steps[:i], x)
                lower, upper = step.cap.get("lower", -np.inf), step.cap.get("upper", np.inf)
                out = out * 3 + (before > upper) * 2 + (before < lower)
        return out

    return side


def _typed(p: Predictor, value: float) -> Any:
    if p.type == "boolean":
        return bool(value)
    return int(value) if p.type == "integer" else float(value)


def _missing(spec: InstrumentSpec, base: dict[str, Any], variant: str) -> list[Row]:
    return [
        (f"{_prefix(variant)}{p.name} missing", base | {p.name: None})
        for p in spec.predictors
        if p.missing != "error"
    ]


# --------------------------------------------------------------------------- boundaries


def crossings(
    side: Side,
    low: float,
    high: float,
    whole: bool,
    first: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[float, float]]:
    """Pairs of values just either side of every change of ``side`` over ``[low, high]``.

    ``side`` maps an array of values to labels. A grid is refined around each change
    until the two values are adjacent whole numbers, or :data:`STEP` apart for a
    continuous value (the right one as round as possible). ``first`` is the first grid
    and its labels, if already known.

    Examples
    --------
    >>> crossings(lambda x: (x >= 2.5).astype(int), 0.0, 10.0, whole=False)
    [(2.499999, 2.5)]
    >>> crossings(lambda x: (x >= 3).astype(int), 0, 10, whole=True)
    [(2.0, 3.0)]
    """
    out = []
    for a, b in _changes(side, low, high, whole, first):
        if not whole:
            a, b = _rounded(side, a, b)
        out.append((float(a), float(b)))
    return out


def _changes(
    side: Side,
    low: float,
    high: float,
    whole: bool,
    first: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[float, float]]:
    xs, labels = first if first is not None else (_grid(low, high, whole), None)
    labels = side(xs) if labels is None else labels
    out = []
    for i in np.flatnonzero(labels[1:] != labels[:-1]):
        a, b = xs[i], xs[i + 1]
        if b - a <= (1 if whole else _step(b) / 10):
            out.append((a, b))
        else:
            out += _changes(side, a, b, whole)
    return out


def _grid(low: float, high: float, whole: bool) -> np.ndarray:
    if whole:
        return np.unique(np.round(np.linspace(low, high, min(GRID, int(high - low) + 1))))
    return np.linspace(low, high, GRID)


def _step(x: float) -> float:
    """:data:`STEP` at the scale of ``x`` (for |x| ≥ 1, times its power of ten)."""
    return STEP * 10.0 ** max(0, int(np.floor(np.log10(abs(x)))) if x else 0)


def _rounded(side: Side, a: float, b: float) -> tuple[float, float]:
    """Round the pair: ``b`` to its simplest value nearby, ``a`` one :data:`STEP` before."""
    step = _step(b)
    sa, sb = side(np.array([a, b]))
    right = simplest_in(b, b + step / 2)
    left = round(right - step, 12)
    if (side(np.array([left, right])) == [sa, sb]).all():
        return left, right
    return a, b


def _boundaries(inst: Instrument, pool: dict[str, list], variant: str) -> list[Row]:
    """Per outcome and cut-off, the case just below and the case at or above it."""
    scored = score(inst, pool)
    margin = 0.0 if inst.spec.model.kind in ("points", "domain_sum") else MARGIN
    rows = []
    for outcome in inst.outcomes:
        band = inst.spec.bands[outcome.name]
        q = band_quantity(scored, band, outcome.name)
        column = band_quantity_column(scored, band, outcome.name)
        for cutoff in band.cutoffs:
            for side, threshold in (
                ("just below", cutoff - margin),
                ("at or above", cutoff + margin),
            ):
                value, case = _closest(inst, pool, q, threshold, outcome.name, side != "just below")
                if case is not None:
                    reason = f"{outcome.name} {side} cut-off {cutoff:g} ({column} = {value:.10g})"
                    rows.append((f"{_prefix(variant)}{reason}", case))
    return rows


def _closest(
    inst: Instrument,
    pool: dict[str, list],
    q: np.ndarray,
    threshold: float,
    outcome: str,
    above: bool,
) -> tuple[float, dict[str, Any] | None]:
    """The case closest to a threshold on one side: from the pool, then refined.

    The refinement starts from the :data:`SEEDS` pool cases nearest the threshold on
    either side and moves one numeric input of each at a time; it stops once the case
    is within ten :data:`STEP` of the threshold.
    """
    mask = q >= threshold if above else q < threshold
    if not mask.any():
        return np.nan, None
    index = int(np.flatnonzero(mask)[np.argmin(np.abs(q[mask] - threshold))])
    best: tuple[float, dict[str, Any] | None] = (float(q[index]), _case(pool, index))
    band = inst.spec.bands[outcome]
    distance = np.where(np.isfinite(q), np.abs(q - threshold), np.inf)
    good_enough = 10 * STEP * max(1.0, abs(threshold))
    for i in np.argsort(distance, kind="stable")[:SEEDS]:
        if abs(best[0] - threshold) <= good_enough:
            break
        for value, case in _moves(inst, _case(pool, int(i)), band, outcome, threshold):
            closer = abs(value - threshold) < abs(best[0] - threshold)
            if (value >= threshold) == above and closer:
                best = (value, case)
    return best


def _case(pool: dict[str, list], index: int) -> dict[str, Any]:
    return {k: v[index] for k, v in pool.items()}


def _moves(
    inst: Instrument, case: dict[str, Any], band: Any, outcome: str, threshold: float
) -> list[tuple[float, dict[str, Any]]]:
    """Cases either side of a threshold, each made by moving one numeric input of ``case``.

    Every input's grid is scored in one batch; only the changes of side are refined.
    """
    movable = [
        p
        for p in inst.spec.predictors
        if p.type in ("numeric", "integer") and case[p.name] is not None
    ]
    grids = [_grid(*p.bounds, p.type == "integer") for p in movable]
    q = _quantity(inst, case, band, outcome, movable, grids)
    pairs, start = [], 0
    for p, xs in zip(movable, grids, strict=True):
        labels = q[start : start + xs.size] >= threshold
        start += xs.size

        def side(x: np.ndarray, p: Predictor = p) -> np.ndarray:
            return _quantity(inst, case, band, outcome, [p], [x]) >= threshold

        found = crossings(side, *p.bounds, p.type == "integer", first=(xs, labels))
        pairs += [(p, np.array(pair)) for pair in found]
    if not pairs:
        return []
    values = _quantity(inst, case, band, outcome, [p for p, _ in pairs], [x for _, x in pairs])
    moved = [case | {p.name: _typed(p, x)} for p, xs in pairs for x in xs]
    return list(zip(values.tolist(), moved, strict=True))


def _quantity(
    inst: Instrument,
    case: dict[str, Any],
    band: Any,
    outcome: str,
    predictors: list[Predictor],
    values: list[np.ndarray],
) -> np.ndarray:
    """The band's quantity for ``case`` with each predictor in turn set to each of its values."""
    n = sum(v.size for v in values)
    table = {k: [v] * n for k, v in case.items()}
    start = 0
    for p, xs in zip(predictors, values, strict=True):
        table[p.name][start : start + xs.size] = [_typed(p, x) for x in xs]
        start += xs.size
    return band_quantity(score(inst, table), band, outcome)


def _with_expected(inst: Instrument, table: pa.Table) -> pa.Table:
    """The vectors with the outputs the spec prescribes, as ``expected_<output>``."""
    scored = score(inst, table)
    for name in output_columns(scored):
        column = scored.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        table = table.append_column(f"expected_{name}", column)
    return table
