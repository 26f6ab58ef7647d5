"""The one cube definition in SQL, for every engine that speaks SQL.

The cube is a ``GROUP BY`` over the group attributes, outcome, selected, band and score
bin with ``count``, ``Σ score`` and ``Σ score²``. It is written once here, as a handful of
queries over a *relation* (a table, a query, a Parquet dataset), and each engine brings
only its :class:`Dialect` (quoting, type names, how to expand a range of integers) and a
way to run a query and fetch the (small) result as Arrow. Only cells leave the engine.

The score bins are cut in the engine with the same method as in-process
(:mod:`waarborg.audit.binning`): the range, the distinct values, then a histogram on the
same fine grid, computed by the same floating-point operations (``floor((s - lo) *
scale)``), so every engine cuts the same bins and the cube is the same cube. A quantile
bin is found by joining each row's grid cell to a lookup of grid cells to bins that the
engine expands from a few thousand ranges.

Validation runs as one query that counts, per column, the missing values, the non-binary
outcomes, the non-finite scores and the bad counts; an error names the table or files,
the column and the number of offending rows, as the in-process engine does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.audit.binning import _FINE, _SUB, Binning, make_binning
from waarborg.audit.cube import Cube, cube_of
from waarborg.audit.inputs import (
    BINARY,
    FINITE,
    MISSING,
    WHOLE,
    Roles,
    _check_type,
    as_text,
    check_columns,
    found,
    in_rows,
)
from waarborg.errors import DataError
from waarborg.i18n import Message

__all__ = ["Dialect", "Relation", "build_sql_cube"]


@dataclass(frozen=True)
class Dialect:
    """What differs between SQL engines, as far as the cube is concerned.

    Attributes
    ----------
    name : str
        The engine ("duckdb", "postgres", "spark").
    quote : str
        Identifier quote character.
    double, bigint : str
        Type names for 64-bit floats and integers.
    series : str
        An expression (with ``{lo}`` and ``{hi}``, both inclusive) that turns one row
        into one row per integer, used in a select list.
    text : str
        The text type a number is cast to.
    """

    name: str
    quote: str
    double: str
    bigint: str
    series: str
    text: str

    def q(self, name: str) -> str:
        """A quoted identifier."""
        return f"{self.quote}{name.replace(self.quote, self.quote * 2)}{self.quote}"

    def number(self, value: float) -> str:
        """A float64 literal that every engine parses to the same double."""
        return f"CAST('{float(value)!r}' AS {self.double})"

    def real(self, expr: str) -> str:
        return f"CAST({expr} AS {self.double})"


DUCKDB = Dialect("duckdb", '"', "DOUBLE", "BIGINT", "unnest(range({lo}, {hi} + 1))", "VARCHAR")
POSTGRES = Dialect(
    "postgres", '"', "DOUBLE PRECISION", "BIGINT", "generate_series({lo}, {hi})", "TEXT"
)
SPARK = Dialect("spark", "`", "DOUBLE", "BIGINT", "explode(sequence({lo}, {hi}))", "STRING")


@dataclass
class Relation:
    """Rows an engine can query: a FROM item, a name for errors and a way to fetch.

    Attributes
    ----------
    dialect : Dialect
    sql : str
        What goes after FROM: a quoted table, ``(query) AS q``, ``read_parquet(...)``.
    source : str
        The table, query or files, as errors name them.
    fetch : callable
        Runs a query and returns its result as an Arrow table.
    """

    dialect: Dialect
    sql: str
    source: str
    fetch: Callable[[str], pa.Table]

    def schema(self) -> pa.Schema:
        """The relation's columns and their Arrow types."""
        return self.fetch(f"SELECT * FROM {self.sql} AS r LIMIT 0").schema


# --------------------------------------------------------------------------- the queries


class _Query:
    """Expressions over the relation for given roles (the pieces every query shares)."""

    def __init__(self, relation: Relation, roles: Roles) -> None:
        self.rel, self.roles, self.d = relation, roles, relation.dialect
        self.weight = self.d.real(self.d.q(roles.count)) if roles.count else "1"
        self.score = self.d.real(self.d.q(roles.score)) if roles.score else None
        self.cases = f"{self.rel.sql} AS r" + (f" WHERE {self.weight} > 0" if roles.count else "")

    def grid(self, lo: float, scale: float) -> str:
        """Fine-grid cell of the score, as :func:`waarborg.audit.binning._grid`."""
        cell = f"FLOOR(({self.score} - {self.d.number(lo)}) * {self.d.number(scale)})"
        return f"CAST(LEAST({cell}, {_FINE - 1}) AS {self.d.bigint})"

    def sub(self, lo: float, scale: float) -> str:
        """Sub-cell of the score in its grid cell, as :func:`waarborg.audit.binning._split`."""
        inner = (
            f"(({self.score} - {self.d.number(lo)}) * {self.d.number(scale)} "
            f"- {self.grid(lo, scale)}) * {_SUB}"
        )
        return f"CAST(LEAST(GREATEST(FLOOR({inner}), 0), {_SUB - 1}) AS {self.d.bigint})"


class _SqlPasses:
    """:class:`waarborg.audit.binning.ScorePasses` answered by queries."""

    def __init__(self, query: _Query, known_range: tuple[float, float]) -> None:
        self.x, self.known_range = query, known_range

    def _run(self, sql: str) -> pa.Table:
        return self.x.rel.fetch(sql)

    def range(self) -> tuple[float, float]:
        row = self._run(
            f"SELECT MIN({self.x.score}) AS lo, MAX({self.x.score}) AS hi FROM {self.x.cases}"
        ).to_pylist()[0]
        return (0.0, 0.0) if row["lo"] is None else (float(row["lo"]), float(row["hi"]))

    def distinct(self, limit: int) -> np.ndarray | None:
        sql = f"SELECT DISTINCT {self.x.score} AS s FROM {self.x.cases} LIMIT {limit + 1}"
        values = _floats(self._run(sql).column("s"))
        return None if values.size > limit else np.sort(values)

    def histogram(self, lo: float, scale: float) -> np.ndarray:
        sql = (
            f"SELECT g, SUM(w) AS n FROM (SELECT {self.x.grid(lo, scale)} AS g, "
            f"{self.x.weight} AS w FROM {self.x.cases}) AS c GROUP BY g"
        )
        found = self._run(sql)
        hist = np.zeros(_FINE)
        hist[_ints(found.column("g"))] = _floats(found.column("n"))
        return hist

    def split(self, lo: float, scale: float, heavy: np.ndarray) -> np.ndarray:
        cells = ", ".join(str(int(c)) for c in heavy)
        sql = (
            f"SELECT g, s, SUM(w) AS n FROM (SELECT {self.x.grid(lo, scale)} AS g, "
            f"{self.x.sub(lo, scale)} AS s, {self.x.weight} AS w FROM {self.x.cases}) AS c "
            f"WHERE g IN ({cells}) GROUP BY g, s"
        )
        found = self._run(sql)
        which = np.searchsorted(heavy, _ints(found.column("g")))
        out = np.zeros(heavy.size * _SUB)
        out[which * _SUB + _ints(found.column("s"))] = _floats(found.column("n"))
        return out


def build_sql_cube(relation: Relation, roles: Roles, n_bins: int) -> Cube:
    """Validate the relation, cut the score bins and count the cube, all in the engine.

    Parameters
    ----------
    relation
        The rows, in an engine.
    roles
        Which column plays which role.
    n_bins
        Most score bins.

    Returns
    -------
    Cube
        The same cube as :func:`waarborg.audit.build_cube` of the same rows.
    """
    schema = relation.schema()
    check_columns(schema.names, roles, relation.source)
    for column in roles.columns():
        _check_type(pa.array([], schema.field(column).type), relation.source, column, roles)
    query = _Query(relation, roles)
    score_range = _validate(query, schema)
    binning = make_binning(_SqlPasses(query, score_range), n_bins) if roles.score else None
    return _count(query, binning, n_bins)


# --------------------------------------------------------------------------- validation


def _checks(query: _Query, schema: pa.Schema) -> list[tuple[str, str, str]]:
    """(column, check, condition of a bad row) in the order the in-process checks run."""
    d, roles = query.d, query.roles
    out = []
    for column in roles.columns():
        q, kind = d.q(column), schema.field(column).type
        x = d.real(q)
        out.append((column, "missing", f"({q} IS NULL{_nan(d, q, kind, column, roles)})"))
        finite = f"({x} > {d.number(-np.inf)} AND {x} < {d.number(np.inf)})"
        if column in (roles.outcome, roles.selected) and not pa.types.is_boolean(kind):
            out.append((column, "binary", f"{q} IS NOT NULL AND NOT ({x} = 0 OR {x} = 1)"))
        elif column == roles.score and pa.types.is_floating(kind):
            out.append((column, "finite", f"{q} IS NOT NULL AND NOT {finite}"))
        elif column == roles.count:
            whole = f"{x} >= 0 AND {finite} AND {x} = FLOOR({x})"
            out.append((column, "count", f"{q} IS NOT NULL AND NOT ({whole})"))
    return out


def _nan(d: Dialect, q: str, kind: pa.DataType, column: str, roles: Roles) -> str:
    """A NaN in a floating group or band column is missing, as in-process.

    Compared as text: DuckDB folds ``isnan`` and ``= 'NaN'`` to false when the Parquet
    statistics (which leave NaN out) say the column is finite.
    """
    if not pa.types.is_floating(kind) or not (column in roles.groups or column == roles.band):
        return ""
    return f" OR LOWER(CAST({q} AS {d.text})) = 'nan'"


def _validate(query: _Query, schema: pa.Schema) -> tuple[float, float]:
    """One query counting the offending rows of every check; the first that fails raises.

    Returns the smallest and largest score of the cases (count > 0), found on the way.
    """
    checks = _checks(query, schema)
    parts = []
    if query.score is not None:
        score = f"CASE WHEN {query.weight} > 0 THEN {query.score} END"
        parts += [f"MIN({score}) AS lo", f"MAX({score}) AS hi"]
    for i, (column, check, bad) in enumerate(checks):
        parts.append(f"SUM(CASE WHEN {bad} THEN 1 ELSE 0 END) AS n{i}")
        if check != "missing":
            example = query.d.real(query.d.q(column))
            parts.append(f"MIN(CASE WHEN {bad} THEN {example} END) AS x{i}")
    found = query.rel.fetch(f"SELECT {', '.join(parts)} FROM {query.rel.sql} AS r")
    row = found.to_pylist()[0]
    for i, (column, check, _) in enumerate(checks):
        rows = int(row[f"n{i}"] or 0)
        if rows:
            reason = _reason(check, row.get(f"x{i}"))
            raise DataError(in_rows(reason, rows), query.rel.source, column=column)
    if row.get("lo") is None:
        return 0.0, 0.0
    return float(row["lo"]), float(row["hi"])


def _reason(check: str, example: float | None) -> Message:
    """The same words as the in-process check (an example value where one exists)."""
    if check == "missing":
        return MISSING
    shown = example if example is None or not float(example).is_integer() else int(example)
    if check == "binary":
        return found(BINARY, shown)
    if check == "finite":
        return FINITE if example is None or np.isnan(example) else found(FINITE, shown)
    return found(WHOLE, shown)


# --------------------------------------------------------------------------- counting


def _ranges(binning: Binning) -> list[tuple[int, int, int]]:
    """(first key, last key, bin) runs of the lookup from row key to quantile bin.

    A row's key is its grid cell, or for a crowded (heavy) cell
    ``_FINE + cell * _SUB + sub-cell``.
    """
    assert binning.lookup is not None
    out = _runs(binning.lookup, 0)
    if binning.heavy is not None and binning.sub is not None:
        for cell in np.flatnonzero(binning.heavy >= 0):
            which = int(binning.heavy[cell])
            subs = binning.sub[which * _SUB : (which + 1) * _SUB]
            out += _runs(subs, _FINE + int(cell) * _SUB)
    return out


def _runs(bins: np.ndarray, offset: int) -> list[tuple[int, int, int]]:
    starts = np.flatnonzero(np.diff(bins, prepend=bins[0] - 1))
    ends = np.append(starts[1:], bins.size) - 1
    pairs = zip(starts, ends, strict=True)
    return [(offset + int(a), offset + int(b), int(bins[a])) for a, b in pairs]


def _count(query: _Query, binning: Binning | None, n_bins: int) -> Cube:
    """The GROUP BY, its result turned into the cube's cells (labels as in-process)."""
    d, roles = query.d, query.roles
    keys = [(c, d.q(c)) for c in roles.groups]
    keys += [(c, f"CAST({d.q(c)} AS INTEGER)") for c in (roles.outcome, roles.selected) if c]
    keys += [(roles.band, d.q(roles.band))] if roles.band else []
    names = [f"k{i}" for i in range(len(keys))]
    select = [f"{expr} AS {n}" for (_, expr), n in zip(keys, names, strict=True)]
    select.append(f"{query.weight} AS w")
    join = ""
    if binning is not None:
        select.append(f"{query.score} AS s")
        if binning.method == "exact":
            names.append("s")
        else:
            select.append(_row_key(query, binning) + " AS key")
            lookup = ", ".join(f"({a}, {b}, {c})" for a, b, c in _ranges(binning))
            series = d.series.format(lo="lo", hi="hi")
            join = (
                f" JOIN (SELECT {series} AS key, bin FROM (VALUES {lookup}) AS v(lo, hi, bin))"
                " AS b ON c.key = b.key"
            )
            names.append("bin")
    sums = ", SUM(w * s) AS ssum, SUM(w * s * s) AS ssq" if binning is not None else ""
    by = ", ".join(names)
    sql = (
        f"SELECT {by + ', ' if by else ''}SUM(w) AS n{sums} FROM "
        f"(SELECT {', '.join(select)} FROM {query.cases}) AS c{join}"
        + (f" GROUP BY {by}" if by else "")
    )
    return _cells(query.rel.fetch(sql), keys, binning, roles, n_bins, query.rel.source)


def _row_key(query: _Query, binning: Binning) -> str:
    """A row's key in the bin lookup (see :func:`_ranges`)."""
    grid = query.grid(binning.lo, binning.scale)
    if binning.heavy is None:
        return grid
    heavy = ", ".join(str(int(c)) for c in np.flatnonzero(binning.heavy >= 0))
    sub = query.sub(binning.lo, binning.scale)
    return f"CASE WHEN {grid} IN ({heavy}) THEN {_FINE} + {grid} * {_SUB} + {sub} ELSE {grid} END"


def _cells(
    found: pa.Table,
    keys: Sequence[tuple[str, str]],
    binning: Binning | None,
    roles: Roles,
    n_bins: int,
    source: str,
) -> Cube:
    """The engine's cells as a cube: labels as text, flags as int8, bins' keys."""
    found = found.filter(pc.greater(found.column("n"), 0))  # no rows: one row of NULL
    binary = {roles.outcome, roles.selected} - {None}
    table: dict[str, pa.Array] = {}
    for i, (column, _) in enumerate(keys):
        values = found.column(f"k{i}").combine_chunks()
        table[column] = pc.cast(values, pa.int8()) if column in binary else as_text(values)
    bins = None
    if binning is not None:
        if binning.method == "exact":
            bins = np.searchsorted(binning.keys, _floats(found.column("s")))
        else:
            bins = _ints(found.column("bin"))
        table[roles.score] = pa.array(binning.keys[bins], pa.float64())
    count = np.rint(_floats(found.column("n"))).astype(np.int64)
    sums = None
    if binning is not None and binning.method != "exact":
        sums = (_floats(found.column("ssum")), _floats(found.column("ssq")))
    return cube_of(table, count, sums, bins, roles, binning, n_bins, [source])


def _floats(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), np.float64)


def _ints(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), np.int64)
