"""Scoring on Spark: the instrument engine applied to Arrow batches with ``mapInArrow``.

The same code that scores a file in-process (:func:`waarborg.instruments.engine.score`,
batch by batch) runs in Spark's Python workers, on a laptop in local mode or on a
cluster, so a national population is scored by exactly the code that was verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from waarborg.audit.engines.in_spark import plain, spark_frame, spark_session
from waarborg.errors import DataError
from waarborg.instruments.encode import Frame
from waarborg.instruments.engine import Instrument, _score_frame, load_instrument
from waarborg.tables import TableLike

__all__ = ["collect", "score_spark"]


def score_spark(
    instrument: str | Path | Instrument,
    data: TableLike | None = None,
    output: str | Path | None = None,
    *,
    table: str | None = None,
) -> Any:
    """Score every case with Spark; write Parquet to ``output`` (a folder) if given.

    Parameters
    ----------
    instrument
        A catalog id, a spec file or an :class:`Instrument`.
    data
        Parquet files or folders, a Delta table, or a data frame (handed to Spark).
    output
        A folder to write the scored cases to, as Parquet (it must not exist).
    table
        Or a table of the Spark session's catalog.

    Returns
    -------
    pyspark.sql.DataFrame
        The scored cases (columns as :func:`waarborg.instruments.engine.score`).

    Examples
    --------
    >>> out = score_spark("generic-selection", "cases.parquet", "scored/")  # doctest: +SKIP
    """
    inst = load_instrument(instrument)
    spark = spark_session()
    frame, source = spark_frame(spark, [] if data is None else [data], table)
    where = f"{source} (a Spark batch; rows counted within it)"
    sample = frame.limit(1).toArrow()
    schema = _spark_schema(plain(_score_frame(inst, Frame(sample, where))).schema)

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            scored = _score_frame(inst, Frame(pa.Table.from_batches([batch]), where))
            yield from plain(scored).to_batches()

    result = frame.mapInArrow(score_batches, schema)
    if output is not None:
        _run(lambda: result.write.parquet(str(output)), where)
    return result


def collect(result: Any, source: str = "<spark>") -> pa.Table:
    """A scored Spark DataFrame as an Arrow table (errors from the workers made clear)."""
    return _run(result.toArrow, source)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _run(action: Any, source: str) -> Any:
    """Run a Spark action; a DataError in a worker comes back as a DataError."""
    try:
        return action()
    except Exception as exc:
        found = re.search(r"waarborg\.errors\.DataError: (.*)", str(exc))
        if found:
            where, _, reason = found.group(1).strip().partition(": ")
            raise DataError(reason, where or source) from None
        raise
