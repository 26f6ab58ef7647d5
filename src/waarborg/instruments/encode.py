"""Validate case data against the spec and encode each predictor as the model sees it.

This is the one place where input values are checked: a missing column, a wrong type,
an unknown category, a value out of range or a missing value whose policy is ``error``
raises :class:`~waarborg.errors.DataError` naming the source, the 1-based data row and
the column. Nothing is imputed: a missing value is either an explicit level, marked for
``range`` scoring, or an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.errors import DataError
from waarborg.i18n import Message, Number
from waarborg.instruments.spec import (
    Cap,
    CaseField,
    Linear,
    Log,
    MissingLevel,
    NumericStep,
    Predictor,
    Standardise,
)


@dataclass(frozen=True)
class Encoded:
    """One validated predictor column.

    Attributes
    ----------
    raw
        The value as entered, as float64 (nan where missing); for a categorical
        predictor, the level code as float (so tree rules can compare).
    value
        The transformed number the model weighs (numeric predictors), else ``None``.
    codes
        Level codes into ``predictor.model_levels()`` (categorical or binned), else ``None``.
    unknown
        Rows whose value is missing under the ``range`` policy: every admissible value
        is scored for them.
    """

    predictor: Predictor
    raw: np.ndarray
    value: np.ndarray | None
    codes: np.ndarray | None
    unknown: np.ndarray

    @property
    def has_unknown(self) -> bool:
        """Whether any case needs scoring over admissible values."""
        return bool(self.unknown.any())


@dataclass(frozen=True)
class Frame:
    """Where a table came from, so errors can name the file and the row."""

    table: pa.Table
    source: str
    row_offset: int = 0

    def column(self, name: str) -> pa.ChunkedArray:
        """The column ``name``, or an error naming the file and the column."""
        if name not in self.table.column_names:
            reason = Message(
                "the column is missing (columns present: %(columns)s)",
                domain="reports",
                columns=", ".join(self.table.column_names),
            )
            raise DataError(reason, self.source, column=name)
        return self.table.column(name)

    def fail(self, mask: np.ndarray, column: str, message: str | Message) -> DataError:
        """An error for the first row where ``mask`` holds."""
        row = int(np.flatnonzero(mask)[0])
        return DataError(message, self.source, row=row + 1 + self.row_offset, column=column)


def encode(predictor: Predictor, frame: Frame) -> Encoded:
    """Validate and encode one predictor's column of ``frame``."""
    column = frame.column(predictor.name)
    if predictor.type == "categorical":
        return _encode_categorical(predictor, column, frame)
    return _encode_numeric(predictor, column, frame)


def encode_levels(field: CaseField | Predictor, frame: Frame) -> np.ndarray:
    """Codes of a categorical case field (e.g. the variant chooser); missing is an error."""
    levels = list(field.levels or [])
    column = frame.column(field.name)
    codes = _level_codes(column, levels, field.name, frame)
    if (codes < 0).any():
        required = Message(
            "missing value; one of %(levels)s is required", domain="reports", levels=str(levels)
        )
        raise frame.fail(codes < 0, field.name, required)
    return codes


def _encode_categorical(p: Predictor, column: pa.ChunkedArray, frame: Frame) -> Encoded:
    levels = p.model_levels()
    codes = _level_codes(column, levels, p.name, frame)
    missing = codes < 0
    unknown = _apply_missing_policy(p, missing, frame)
    if isinstance(p.missing, MissingLevel):
        codes = np.where(missing, levels.index(p.missing.level), codes)
    return Encoded(p, codes.astype(np.float64), None, codes, unknown)


def _level_codes(column: pa.ChunkedArray, levels: list[str], name: str, frame: Frame) -> np.ndarray:
    """Codes into ``levels`` (-1 for null); an unknown value is an error naming its row."""
    if pa.types.is_dictionary(column.type):
        return _dictionary_codes(column, levels, name, frame)
    strings = _as_strings(column)
    codes = _index_in(strings, levels)
    unknown = (codes < 0) & ~_null_mask(strings)
    if unknown.any():
        value = strings[int(np.flatnonzero(unknown)[0])].as_py()
        raise frame.fail(unknown, name, _unknown_category(value, levels))
    return codes


def _dictionary_codes(
    column: pa.ChunkedArray, levels: list[str], name: str, frame: Frame
) -> np.ndarray:
    """Map a dictionary column through its (small) dictionary, never decoding the rows."""
    parts = []
    for chunk in column.chunks:
        mapping = np.append(_index_in(_as_strings(chunk.dictionary), levels), -1)
        indices = chunk.indices.to_numpy(zero_copy_only=False)
        if chunk.null_count:
            indices = np.where(np.isnan(indices), -1, indices)
        parts.append(mapping[indices.astype(np.intp)])
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    unknown = (codes < 0) & ~_null_mask(column)
    if unknown.any():
        value = column[int(np.flatnonzero(unknown)[0])].as_py()
        raise frame.fail(unknown, name, _unknown_category(value, levels))
    return codes


def _unknown_category(value: object, levels: list[str]) -> Message:
    return Message(
        "unknown category '%(value)s'; allowed: %(levels)s",
        domain="reports",
        value=value,
        levels=str(levels),
    )


def _index_in(values: pa.Array | pa.ChunkedArray, levels: list[str]) -> np.ndarray:
    """Position of each value in ``levels`` as int32, -1 for null or not found."""
    found = pc.index_in(values, value_set=pa.array(levels, pa.string()))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int32)


def _as_strings(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    if pa.types.is_floating(column.type):
        # 1.0 read from a CSV means level "1": only whole numbers are accepted this way.
        column = column.cast(pa.int64())
    return column.cast(pa.string())


def _encode_numeric(p: Predictor, column: pa.ChunkedArray, frame: Frame) -> Encoded:
    raw = _as_float(column, p, frame)
    missing = np.isnan(raw)
    low, high = p.bounds
    outside = (raw < low) | (raw > high)
    if outside.any():
        outside_range = Message(
            "value %(value)s is outside the range [%(low)s, %(high)s]",
            domain="reports",
            value=Number(raw[np.flatnonzero(outside)[0]]),
            low=Number(low),
            high=Number(high),
        )
        raise frame.fail(outside, p.name, outside_range)
    if p.type in ("integer", "boolean"):
        _check(
            frame,
            (raw != np.floor(raw)) & ~missing,
            p.name,
            Message("value is not a whole number (%(type)s)", domain="reports", type=p.type),
        )
    unknown = _apply_missing_policy(p, missing, frame)
    value = apply_steps(p.numeric_steps, raw)
    bins = p.bins
    if bins is None:
        return Encoded(p, raw, value, None, unknown)
    codes = np.searchsorted(np.asarray(bins.edges), value, side="right").astype(np.int32)
    codes[missing] = -1
    if isinstance(p.missing, MissingLevel):
        codes[missing] = p.model_levels().index(p.missing.level)
    return Encoded(p, raw, None, codes, unknown)


def _as_float(column: pa.ChunkedArray, p: Predictor, frame: Frame) -> np.ndarray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        try:
            column = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad = _not_numbers(column)
            row = int(np.flatnonzero(bad)[0])
            not_a_number = Message(
                "expected a number (%(type)s), found '%(value)s'",
                domain="reports",
                type=p.type,
                value=column[row].as_py(),
            )
            raise frame.fail(bad, p.name, not_a_number) from None
    return np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)


def _not_numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Which entries of a non-numeric column cannot be read as a number (error path only)."""

    def bad(value: object) -> bool:
        if value is None:
            return False
        try:
            float(str(value))
        except ValueError:
            return True
        return False

    return np.array([bad(v) for v in column.to_pylist()], dtype=bool)


def _null_mask(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _check(frame: Frame, bad: np.ndarray, column: str, message: Message) -> None:
    if bad.any():
        raise frame.fail(bad, column, message)


def _apply_missing_policy(p: Predictor, missing: np.ndarray, frame: Frame) -> np.ndarray:
    """Rows to score over every admissible value; raise where missing is not allowed."""
    if p.missing == "error" and missing.any():
        policy = Message(
            "missing value, and the spec's missing-value policy is 'error'", domain="reports"
        )
        raise frame.fail(missing, p.name, policy)
    if p.missing == "range":
        return missing
    return np.zeros(missing.shape, dtype=bool)


def apply_steps(steps: list[NumericStep], x: np.ndarray | float) -> np.ndarray:
    """Apply the numeric transforms in order (caps, standardisation, linear, log).

    Examples
    --------
    >>> from waarborg.instruments.spec import Standardise
    >>> float(apply_steps([Standardise(standardise={"mean": 5.5, "sd": 2.0})], 7.5))
    1.0
    """
    out = np.asarray(x, dtype=np.float64)
    for step in steps:
        if isinstance(step, Cap):
            out = np.clip(out, step.cap.get("lower", -np.inf), step.cap.get("upper", np.inf))
        elif isinstance(step, Standardise):
            out = (out - step.standardise["mean"]) / step.standardise["sd"]
        elif isinstance(step, Linear):
            out = (out - step.linear.get("centre", 0.0)) / step.linear.get("scale", 1.0)
        elif isinstance(step, Log):
            out = np.log(out + step.log.get("offset", 0.0))
    return out
