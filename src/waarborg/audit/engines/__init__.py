"""Engines that build the count cube: in-process, DuckDB, PostgreSQL and Spark.

The in-process engine (:mod:`waarborg.audit.cube`, named ``local``; ``polars`` is
accepted for it too) reads files and data frames in batches. The others compute the
same cube where the data lives, from one SQL definition (:mod:`.sql`): DuckDB over
Parquet datasets larger than memory, PostgreSQL in the database (only cells leave it),
Spark on a cluster. Every engine gives the same cube for the same rows.

``auto`` picks ``postgres`` for a ``postgresql://`` URL, ``duckdb`` for a Parquet folder or
glob or for Parquet files larger than a quarter of the memory, else ``local``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waarborg.audit.cube import Cube, as_cube, build_cube_from, is_cube, load_inputs, merge
from waarborg.audit.inputs import Roles
from waarborg.errors import DataError
from waarborg.report.i18n import N_

__all__ = ["ENGINES", "Choice", "build_with", "choose_engine"]

ENGINES = ("auto", "local", "polars", "duckdb", "postgres", "spark")


@dataclass(frozen=True)
class Choice:
    """The engine that builds the cube, and why (said in the output; English, marked with
    ``N_`` so that the command line can say it in the reader's language)."""

    engine: str
    why: str


def _memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def choose_engine(items: Sequence[Any], engine: str = "auto") -> Choice:
    """Which engine builds the cube of ``items``.

    Examples
    --------
    >>> choose_engine(["cases.csv"]).engine
    'local'
    >>> choose_engine(["postgresql://localhost/db"]).engine
    'postgres'
    """
    from waarborg.audit.engines.in_duckdb import is_dataset
    from waarborg.audit.engines.in_postgres import is_postgres_url

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    urls = [i for i in items if is_postgres_url(i)]
    if urls and len(urls) != len(items):
        raise ValueError("a PostgreSQL source cannot be combined with other inputs")
    if engine == "polars":
        engine = "local"
    if engine != "auto":
        if urls and engine != "postgres":
            raise ValueError(f"a postgresql:// source needs --engine postgres, not {engine}")
        if engine == "postgres" and not urls:
            raise ValueError("the postgres engine reads a postgresql://... source")
        if engine == "local" and any(is_dataset(i) for i in items):
            raise ValueError("a Parquet folder or glob needs --engine duckdb or spark")
        return Choice(engine, N_("chosen"))
    if urls:
        return Choice("postgres", N_("a PostgreSQL source"))
    if any(is_dataset(i) for i in items):
        return Choice("duckdb", N_("a Parquet dataset (folder or glob)"))
    size = sum(
        Path(i).stat().st_size
        for i in items
        if isinstance(i, str | os.PathLike)
        and str(i).lower().endswith(".parquet")
        and Path(i).is_file()
    )
    if size > _memory() // 4:
        return Choice("duckdb", f"Parquet of {size / 2**30:.1f} GiB, over a quarter of the memory")
    return Choice("local", N_("data that fit in memory"))


def build_with(
    data: Any,
    roles: Roles,
    n_bins: int,
    *,
    engine: str = "auto",
    table: str | None = None,
    query: str | None = None,
) -> tuple[Cube, Choice]:
    """The cube of ``data`` built by the chosen engine, cubes among the inputs merged in."""
    items = list(data) if isinstance(data, list | tuple) else [data]
    choice = choose_engine(items, engine)
    if (table or query) and choice.engine not in ("postgres", "spark"):
        raise ValueError("--table and --query are for the postgres (and spark: --table) engine")
    if choice.engine == "local":
        cubes, rows = load_inputs(items, roles)
        return build_cube_from(cubes, rows, roles, n_bins=n_bins), choice
    cubes = [as_cube(i) for i in items if is_cube(i)]
    rows = [i for i in items if not is_cube(i)]
    if rows or table or query:
        cubes.append(_sql_cube(choice.engine, rows, roles, n_bins, table, query))
    if not cubes:
        raise DataError("no data given")
    return merge(*cubes), choice


def _sql_cube(
    engine: str, rows: list[Any], roles: Roles, n_bins: int, table: str | None, query: str | None
) -> Cube:
    from waarborg.audit.engines.sql import build_sql_cube

    if engine == "duckdb":
        from waarborg.audit.engines.in_duckdb import duckdb_relation

        with duckdb_relation(rows) as relation:
            return build_sql_cube(relation, roles, n_bins)
    if engine == "postgres":
        from waarborg.audit.engines.in_postgres import postgres_relation

        with postgres_relation(rows[0], table, query) as relation:
            return build_sql_cube(relation, roles, n_bins)
    if query:
        raise ValueError("--query is for the postgres engine; Spark reads --table or files")
    from waarborg.audit.engines.in_spark import spark_relation

    with spark_relation(rows, table) as relation:
        return build_sql_cube(relation, roles, n_bins)
