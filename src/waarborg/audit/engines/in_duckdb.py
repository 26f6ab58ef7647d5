"""DuckDB: the cube over Parquet datasets (files, folders, globs, hive partitions) or tables.

DuckDB reads only the needed columns, streams the data and spills to disk past its
memory limit, so a dataset larger than memory is audited in bounded memory. The limit
and the spill folder come from ``WAARBORG_DUCKDB_MEMORY`` (default ``2GB``) and
``WAARBORG_DUCKDB_TEMP`` (default a ``waarborg-duckdb`` folder in the temp directory).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from waarborg.audit.engines.sql import DUCKDB, Relation
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.tables import read_table

__all__ = ["duckdb_relation", "is_dataset"]

_GLOB = set("*?[")


def is_dataset(item: Any) -> bool:
    """Whether ``item`` names a Parquet dataset: a folder or a glob pattern."""
    if not isinstance(item, str | os.PathLike):
        return False
    text = str(item)
    return Path(text).is_dir() or bool(_GLOB & set(text))


def _pattern(item: str | os.PathLike[str]) -> str:
    path = Path(item)
    if path.is_dir():
        return str(path / "**" / "*.parquet")
    if not (_GLOB & set(str(item))) and not path.exists():
        raise DataError(Message("no such file", domain="reports"), str(item))
    return str(item)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def duckdb_relation(items: Sequence[Any]) -> Iterator[Relation]:
    """The inputs as one DuckDB relation, in a connection with a memory limit.

    Parquet files, folders and globs are read in place (hive partitions become
    columns); other inputs (CSV, data frames, Arrow) are read as waarborg reads them
    and handed to DuckDB as Arrow.
    """
    import duckdb

    temp = os.environ.get("WAARBORG_DUCKDB_TEMP") or str(
        Path(tempfile.gettempdir()) / "waarborg-duckdb"
    )
    con = duckdb.connect(
        config={
            "memory_limit": os.environ.get("WAARBORG_DUCKDB_MEMORY", "2GB"),
            "temp_directory": temp,
            "preserve_insertion_order": False,
        }
    )
    try:
        parts, names = [], []
        files = [i for i in items if _is_parquet(i)]
        if files:
            listed = ", ".join(_literal(_pattern(f)) for f in files)
            parts.append(f"SELECT * FROM read_parquet([{listed}], hive_partitioning = true)")
            names += [str(f) for f in files]
        for i, item in enumerate(i for i in items if not _is_parquet(i)):
            table, source = read_table(item)
            con.register(f"waarborg_input_{i}", table)
            parts.append(f"SELECT * FROM waarborg_input_{i}")
            names.append(source)
        sql = "(" + " UNION ALL BY NAME ".join(parts) + ")"

        def fetch(query: str) -> pa.Table:
            try:
                result = con.sql(query)
                to_arrow = getattr(result, "to_arrow_table", None)  # DuckDB 2
                return to_arrow() if to_arrow else result.arrow()
            except duckdb.Error as exc:
                raise DataError(f"DuckDB: {exc}", ", ".join(names)) from None

        yield Relation(DUCKDB, sql, ", ".join(names), fetch)
    finally:
        con.close()


def _is_parquet(item: Any) -> bool:
    return is_dataset(item) or (
        isinstance(item, str | os.PathLike) and str(item).lower().endswith(".parquet")
    )
