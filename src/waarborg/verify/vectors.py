"""Acceptance test vectors: a covering set of cases with the outputs the spec prescribes.

Handed to a software supplier, the vectors are the acceptance test of an
implementation: the supplier scores them and ``waarborg verify INSTRUMENT vectors.csv
outputs.csv`` must agree. The set covers, for every population variant:

* every level of every predictor (declared levels; every bin a number can reach; both
  ends of a number's range; both values of a boolean), each on an otherwise typical case;
* each missing value the spec allows (one case per predictor with a missing policy);
* both sides of every band cut-off: from a seeded pool of random valid cases, the case
  just below and the case at or just above each cut-off of each outcome.

Columns: ``case_id``, ``reason`` (why the vector is there), the case fields and
predictors, and the expected outputs ``expected_band_<outcome>`` and
``expected_probability_<outcome>_<h>y``. The supplier returns ``case_id`` with
``band_<outcome>`` and/or ``probability_<outcome>_<h>y``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from waarborg.instruments.encode import Frame, encode
from waarborg.instruments.engine import (
    Instrument,
    load_instrument,
    output_columns,
    probability_column,
    score,
)
from waarborg.instruments.spec import InstrumentSpec, Predictor

POOL = 20_000


def acceptance_vectors(instrument: str | Instrument, seed: int = 0) -> pa.Table:
    """A covering set of test cases with their expected outputs.

    Examples
    --------
    >>> v = acceptance_vectors("generic-selection")
    >>> sorted(set(v.column("expected_band_selection").to_pylist()))
    ['1', '2', '3', '4', '5', '6']
    """
    inst = load_instrument(instrument)
    pool = random_cases(inst.spec, POOL, np.random.default_rng(seed))
    rows: list[tuple[str, dict[str, Any]]] = []
    for variant in _variants(inst.spec):
        base = {k: v[0] for k, v in pool.items()} | variant
        rows += _levels(inst.spec, pool, base)
        rows += _missing(inst.spec, base)
    rows += _boundaries(inst, pool)
    inputs = {name: [r[name] for _, r in rows] for name in pool}
    table = pa.table(
        {"case_id": [f"v{i + 1:04d}" for i in range(len(rows))], "reason": [r for r, _ in rows]}
        | inputs
    )
    return _with_expected(inst, table)


def random_cases(spec: InstrumentSpec, n: int, rng: np.random.Generator) -> dict[str, list]:
    """``n`` random valid cases: every case field that chooses a variant and every predictor."""
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


def _variants(spec: InstrumentSpec) -> list[dict[str, str]]:
    field = spec.model.variant_field
    return [{field: name} for name in spec.model.all_variants] if field else [{}]


def _levels(
    spec: InstrumentSpec, pool: dict[str, list], base: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """One vector per level of every predictor, on the base case."""
    rows = []
    for p in spec.predictors:
        for label, value in _level_values(p, pool[p.name]):
            rows.append((f"{p.name} = {label}", base | {p.name: value}))
    return rows


def _level_values(p: Predictor, values: list) -> list[tuple[str, Any]]:
    """A value for each level the model weighs (bins: a pool value in each bin)."""
    if p.type == "categorical":
        return [(level, level) for level in p.levels or []]
    low, high = p.bounds
    ends = [(f"lowest ({low:g})", _typed(p, low)), (f"highest ({high:g})", _typed(p, high))]
    if p.bins is None:
        return ends
    codes = encode(p, Frame(pa.table({p.name: values}), "<pool>")).codes
    found = []
    for code, label in enumerate(p.bins.labels):
        hit = np.flatnonzero(codes == code)
        if hit.size:
            found.append((f"bin {label}", values[int(hit[0])]))
    return found + ends


def _typed(p: Predictor, value: float) -> Any:
    if p.type == "boolean":
        return bool(value)
    return int(value) if p.type == "integer" else float(value)


def _missing(spec: InstrumentSpec, base: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{p.name} missing", base | {p.name: None})
        for p in spec.predictors
        if p.missing != "error"
    ]


def _boundaries(inst: Instrument, pool: dict[str, list]) -> list[tuple[str, dict[str, Any]]]:
    """Pool cases just below and at or above every cut-off, per outcome."""
    scored = score(inst, pool)
    rows = []
    for outcome in inst.outcomes:
        band = inst.spec.bands[outcome.name]
        name = (
            f"score_{outcome.name}"
            if band.quantity == "score"
            else probability_column(outcome.name, band.horizon)
        )
        if name not in scored.column_names:
            name = probability_column(outcome.name, None)
        q = np.asarray(scored.column(name).to_numpy(), dtype=float)
        for cutoff in band.cutoffs:
            for side, mask, pick in (
                ("below", q < cutoff, np.argmax),
                ("at or above", q >= cutoff, np.argmin),
            ):
                if mask.any():
                    index = np.flatnonzero(mask)[pick(q[mask])]
                    case = {k: v[int(index)] for k, v in pool.items()}
                    rows.append((f"{outcome.name} {side} cut-off {cutoff:g}", case))
    return rows


def _with_expected(inst: Instrument, table: pa.Table) -> pa.Table:
    """The vectors with the outputs the spec prescribes, as ``expected_<output>``."""
    scored = score(inst, table)
    for name in output_columns(scored):
        column = scored.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        table = table.append_column(f"expected_{name}", column)
    return table
