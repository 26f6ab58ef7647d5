"""Reading and writing tables: one place that turns every accepted input into Arrow.

waarborg accepts pandas and polars data frames, pyarrow tables, and CSV or Parquet
files. Everything is converted to a :class:`pyarrow.Table` here, so the rest of the
code sees one type. Writing is atomic: a file is written next to its destination and
renamed into place only when complete, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc
import pyarrow.parquet as pq

from waarborg.errors import DataError

TableLike = Any
"""pandas / polars DataFrame, pyarrow Table, or a path to a .csv or .parquet file."""


def read_table(data: TableLike) -> tuple[pa.Table, str]:
    """Convert ``data`` to a pyarrow Table; also return a name for it used in errors.

    Examples
    --------
    >>> table, source = read_table({"case_id": [1, 2]})
    >>> table.num_rows, source
    (2, '<table>')
    """
    if isinstance(data, pa.Table):
        return data, "<table>"
    if isinstance(data, str | os.PathLike):
        return _read_file(Path(data)), str(data)
    if isinstance(data, dict):
        return pa.table(data), "<table>"
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow(), "<table>"
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False), "<table>"
    raise TypeError(
        f"cannot read {type(data).__name__}: give a pandas or polars DataFrame, a pyarrow "
        "Table, or the path of a .csv or .parquet file"
    )


def _read_file(path: Path) -> pa.Table:
    if not path.exists():
        raise DataError("no such file", str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix == ".csv":
            options = pacsv.ConvertOptions(strings_can_be_null=True)
            return pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read the file: {exc}", str(path)) from None
    raise DataError("unknown file type: use .csv or .parquet", str(path))


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` (.csv or .parquet) atomically; return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError("unknown output type: use .csv or .parquet", str(path))
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(_plain(table), tmp)
    return path


def _plain(table: pa.Table) -> pa.Table:
    """Decode dictionary columns, which the CSV writer does not take."""
    columns = [
        col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
        for col in table.columns
    ]
    return pa.table(columns, names=table.column_names)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # as an ordinary new file, not mkstemp's private 0600
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def fingerprint(table: pa.Table) -> str:
    """SHA-256 of the table's content (Arrow IPC stream of its columns), for provenance.

    The same data gives the same fingerprint whichever file format it was read from.
    """
    digest = hashlib.sha256()
    plain = _plain(table).replace_schema_metadata(None).combine_chunks()
    sink = _HashSink(digest)
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        for batch in plain.to_batches(max_chunksize=1 << 16):
            writer.write_batch(batch)
    return digest.hexdigest()


class _HashSink:
    """A write-only file object that feeds a hash instead of storing bytes."""

    def __init__(self, digest: hashlib._Hash) -> None:
        self.digest = digest
        self.closed = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        self.closed = True
