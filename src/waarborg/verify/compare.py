"""Compare a deployed implementation's outputs with the reference outputs of the spec.

The reference is the engine's scoring of the same cases. Cases are matched by id; an
id in one file only is reported, never silently dropped. Per outcome, a case
*disagrees* when its band differs or any of its probabilities differs by more than the
tolerance. This module is the one place that decides agreement, so the comparison and
the diagnosis (which re-scores candidate faults) always use the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.instruments.engine import Instrument, probability_column


@dataclass(frozen=True)
class Outputs:
    """One side's outputs for the matched cases: band codes and probabilities per outcome."""

    bands: dict[str, np.ndarray]
    """Band position per case (-1 where there is none)."""
    probabilities: dict[str, np.ndarray]
    """Per output column (``probability_<o>_<h>y``): the probability per case."""


def compared_columns(inst: Instrument, observed: pa.Table) -> dict[str, list[str]]:
    """Per outcome, the output columns the observed file has (bands and probabilities)."""
    out: dict[str, list[str]] = {}
    for outcome in inst.outcomes:
        horizons = outcome.horizons or [None]
        names = [f"band_{outcome.name}"]
        names += [probability_column(outcome.name, h) for h in horizons]
        present = [n for n in names if n in observed.column_names]
        if present:
            out[outcome.name] = present
    return out


def observed_outputs(
    inst: Instrument, table: pa.Table, columns: dict[str, list[str]], source: str
) -> Outputs:
    """Read the compared columns of the observed ``table`` as band codes and probabilities.

    An unknown band label or a probability that is not a number is an error naming the
    file, row and column.
    """
    bands, probabilities = {}, {}
    for outcome, names in columns.items():
        labels = inst.spec.bands[outcome].labels
        for name in names:
            if name.startswith("band_"):
                bands[outcome] = _band_codes(table.column(name), labels, name, source)
            else:
                probabilities[name] = _numbers(table.column(name), name, source)
    return Outputs(bands, probabilities)


def scored_outputs(scored: pa.Table, columns: dict[str, list[str]]) -> Outputs:
    """The compared outputs of an engine result (bands as codes in the spec's order)."""
    bands, probabilities = {}, {}
    for outcome, names in columns.items():
        for name in names:
            if name.startswith("band_"):
                column = scored.column(name).combine_chunks()
                codes = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                bands[outcome] = codes.astype(np.int64)
            else:
                probabilities[name] = np.asarray(scored.column(name).to_numpy(), dtype=float)
    return Outputs(bands, probabilities)


def _band_codes(column: pa.ChunkedArray, labels: list[str], name: str, source: str) -> np.ndarray:
    text = column.cast(pa.string())
    codes = pc.index_in(text, value_set=pa.array(labels)).fill_null(-1)
    codes = np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)
    unknown = (codes < 0) & np.asarray(text.is_valid().to_numpy(zero_copy_only=False))
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        unknown = Message(
            "unknown band '%(band)s'; the spec's bands are %(labels)s",
            domain="reports",
            band=text[row].as_py(),
            labels=str(labels),
        )
        raise DataError(unknown, source, row=row + 1, column=name)
    return codes


def _numbers(column: pa.ChunkedArray, name: str, source: str) -> np.ndarray:
    try:
        return np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = Message("expected probabilities (numbers)", domain="reports")
        raise DataError(numbers, source, column=name) from None


def disagreeing(
    columns: dict[str, list[str]], reference: Outputs, observed: Outputs, tolerance: float
) -> dict[str, np.ndarray]:
    """Per outcome, which cases disagree (band differs, or a probability beyond tolerance).

    Examples
    --------
    >>> ref = Outputs({"o": np.array([0, 1])}, {"probability_o": np.array([0.1, 0.5])})
    >>> obs = Outputs({"o": np.array([0, 1])}, {"probability_o": np.array([0.1, 0.6])})
    >>> disagreeing({"o": ["band_o", "probability_o"]}, ref, obs, 1e-6)["o"].tolist()
    [False, True]
    """
    out = {}
    for outcome, names in columns.items():
        parts = []
        for name in names:
            if name.startswith("band_"):
                parts.append(reference.bands[outcome] != observed.bands[outcome])
                continue
            ref, obs = reference.probabilities[name], observed.probabilities[name]
            both_missing = np.isnan(ref) & np.isnan(obs)
            parts.append(~np.isclose(ref, obs, rtol=0, atol=tolerance) & ~both_missing)
        out[outcome] = np.logical_or.reduce(parts)
    return out


def match_ids(
    cases: pa.Table, observed: pa.Table, id_column: str, sources: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Rows of each table for the ids in both, in case order; and ids in one file only."""
    for table, source in zip((cases, observed), sources, strict=True):
        if id_column not in table.column_names:
            no_ids = Message("the id column is missing", domain="reports")
            raise DataError(no_ids, source, column=id_column)
        _check_unique(table.column(id_column), id_column, source)
    case_ids = cases.column(id_column).cast(pa.string())
    observed_ids = observed.column(id_column).cast(pa.string())
    where = pc.index_in(case_ids, value_set=observed_ids.combine_chunks()).fill_null(-1)
    where = np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)
    back = pc.index_in(observed_ids, value_set=case_ids.combine_chunks()).fill_null(-1)
    back = np.asarray(back.to_numpy(zero_copy_only=False), dtype=np.int64)
    case_rows = np.flatnonzero(where >= 0)
    only_cases = pc.filter(cases.column(id_column), pa.array(where < 0)).to_pylist()
    only_observed = pc.filter(observed.column(id_column), pa.array(back < 0)).to_pylist()
    return case_rows, where[case_rows], only_cases, only_observed


def _check_unique(ids: pa.ChunkedArray, name: str, source: str) -> None:
    if ids.null_count:
        row = int(np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[0])
        no_id = Message("the id is missing", domain="reports")
        raise DataError(no_id, source, row=row + 1, column=name)
    counts = pc.value_counts(ids.combine_chunks())
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated):
        first = repeated[0]
        mask = np.asarray(pc.equal(ids, first).to_numpy(zero_copy_only=False), dtype=bool)
        row = int(np.flatnonzero(mask)[1])
        twice = Message("id %(id)s occurs more than once", domain="reports", id=repr(first.as_py()))
        raise DataError(twice, source, row=row + 1, column=name)
