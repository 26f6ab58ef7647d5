"""Spark: the cube computed by a Spark session (local, a cluster, or Spark Connect).

The session is ``SPARK_REMOTE`` (Spark Connect) when set, else a classic session whose
master is ``spark.master`` from ``SPARK_MASTER`` (default ``local[2]``). Inputs are
Parquet files or folders, Delta tables (a folder with ``_delta_log``), a table of the
session's catalog (``--table``), or data frames handed over as Arrow.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from waarborg.audit.engines.sql import SPARK, Relation
from waarborg.errors import DataError
from waarborg.tables import read_table

__all__ = ["plain", "spark_frame", "spark_relation", "spark_session"]


def spark_session() -> Any:
    """The active Spark session, or a new one (``SPARK_REMOTE`` or ``SPARK_MASTER``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            "the spark engine needs pyspark: pip install 'waarborg[spark]' (and Java 17+)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("waarborg")
    if os.environ.get("SPARK_REMOTE"):
        return builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    master = os.environ.get("SPARK_MASTER", "local[2]")
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import this waarborg
    builder = builder.master(master)
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
    }.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_frame(spark: Any, items: Sequence[Any], table: str | None = None) -> tuple[Any, str]:
    """The inputs as one Spark DataFrame, and a name for errors."""
    frames, names = [], []
    if table:
        frames.append(spark.table(table))
        names.append(table)
    for item in items:
        if isinstance(item, str | os.PathLike) and _is_spark_path(item):
            path = Path(item)
            if not path.exists() and not set("*?[") & set(str(item)):
                raise DataError("no such file", str(item))
            reader = spark.read.format("delta" if (path / "_delta_log").is_dir() else "parquet")
            frames.append(reader.load(str(item)))
            names.append(str(item))
        else:
            data, source = read_table(item)
            frames.append(spark.createDataFrame(plain(data)))
            names.append(source)
    if not frames:
        raise DataError("no data given")
    frame = frames[0]
    for other in frames[1:]:
        frame = frame.unionByName(other, allowMissingColumns=True)
    return frame, ", ".join(names)


def _is_spark_path(item: Any) -> bool:
    text = str(item)
    return Path(text).is_dir() or text.lower().endswith(".parquet") or bool(set("*?[") & set(text))


def plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded (Spark has no dictionary type)."""
    columns = [
        c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    return pa.table(columns, names=table.column_names)


@contextmanager
def spark_relation(items: Sequence[Any], table: str | None = None) -> Iterator[Relation]:
    """The inputs as a temporary view of the Spark session."""
    spark = spark_session()
    frame, source = spark_frame(spark, items, table)
    view = f"waarborg_rows_{uuid.uuid4().hex}"
    frame.createOrReplaceTempView(view)

    def fetch(query: str) -> pa.Table:
        try:
            return spark.sql(query).toArrow()
        except Exception as exc:  # Spark raises its own (Py4J / Connect) exception types
            if type(exc).__name__ in ("AnalysisException", "ParseException"):
                raise DataError(f"Spark: {exc}".splitlines()[0], source) from None
            raise

    try:
        yield Relation(SPARK, SPARK.q(view), source, fetch)
    finally:
        spark.catalog.dropTempView(view)
