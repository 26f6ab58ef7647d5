"""PostgreSQL: the cube computed in the database; only its cells leave it.

The rows are a table (``--table schema.name``) or a query (``--query "SELECT ..."``) in
the database at ``postgresql://...``; every query runs in one read-only transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pyarrow as pa

from waarborg.audit.engines.sql import POSTGRES, Relation
from waarborg.errors import DataError

__all__ = ["is_postgres_url", "postgres_relation"]

# type OIDs -> Arrow types (others are read as text)
_TYPES = {16: pa.bool_(), 20: pa.int64(), 21: pa.int64(), 23: pa.int64()}
_TYPES |= {700: pa.float64(), 701: pa.float64(), 1700: pa.float64()}


def is_postgres_url(item: Any) -> bool:
    """Whether ``item`` is a PostgreSQL connection URL."""
    return isinstance(item, str) and item.startswith(("postgresql://", "postgres://"))


def _table_sql(name: str) -> str:
    parts = [p.strip() for p in name.split(".")]
    if not all(parts):
        raise DataError("a table is named NAME or SCHEMA.NAME", name)
    return ".".join(POSTGRES.q(p) for p in parts)


@contextmanager
def postgres_relation(url: str, table: str | None, query: str | None) -> Iterator[Relation]:
    """The table or query at ``url`` as a relation; queries run read-only."""
    import psycopg

    if (table is None) == (query is None):
        raise DataError("give either a table (--table) or a query (--query)", _safe(url))
    sql = _table_sql(table) if table else f"({query.strip().rstrip(';')})"  # type: ignore[union-attr]
    source = f"{_safe(url)} {table or 'query'}"
    try:
        con = psycopg.connect(url)
    except psycopg.Error as exc:
        raise DataError(f"cannot connect: {exc}".strip(), _safe(url)) from None
    try:
        con.read_only = True

        def fetch(statement: str) -> pa.Table:
            try:
                with con.cursor() as cur:
                    cur.execute(statement)  # type: ignore[arg-type]
                    return _arrow(cur.description or [], cur.fetchall())
            except psycopg.Error as exc:
                con.rollback()
                raise DataError(f"PostgreSQL: {exc}".strip(), source) from None

        yield Relation(POSTGRES, sql, source, fetch)
    finally:
        con.close()


def _arrow(description: Any, rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows as an Arrow table, typed by the columns' PostgreSQL types."""
    columns = {}
    for i, col in enumerate(description):
        kind = _TYPES.get(col.type_code, pa.string())
        values = [r[i] for r in rows]
        if kind == pa.float64():
            values = [float(v) if isinstance(v, Decimal) else v for v in values]
        elif kind == pa.string():
            values = [None if v is None else str(v) for v in values]
        columns[col.name] = pa.array(values, kind)
    return pa.table(columns)


def _safe(url: str) -> str:
    """The URL without a password."""
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, user = head.partition("://")
    return f"{scheme}://{user.split(':')[0]}@{tail}"
