"""The cube pass against a straightforward reference (polars ``group_by``) on random data.

Random batches, row groups, dictionaries with unused values (empty groups), rows with a
count of 0, and nulls or NaN (which must be refused at the first offending row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waarborg.audit import build_cube, inputs
from waarborg.audit import cube as cube_module
from waarborg.errors import DataError

KEYS = ["g", "h", "y", "band"]


def _data(
    seed: int, n: int, discrete: bool, weighted: bool, banded_by_score: bool = False
) -> pa.Table:
    """Random rows; ``banded_by_score``: the band cut from the score, as an instrument's."""
    rng = np.random.default_rng(seed)
    labels = pa.array(["a", "b", "c", "unused"])  # "unused" never occurs: an empty group
    g = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 3, n).astype(np.int32)), labels)
    score = rng.choice([0.1, 0.2, 0.55], n) if discrete else rng.gamma(0.5, 2.0, n)
    columns: dict[str, Any] = {
        "g": g,
        "h": rng.integers(-2, 3, n),
        "y": rng.integers(0, 2, n).astype(np.int8),
        "band": pa.array(rng.choice(["laag", "midden", "hoog"], n).tolist()),
        "s": score,
    }
    if banded_by_score:
        cut = np.digitize(score, np.quantile(score, [0.3, 0.8]))
        columns["band"] = pa.array(np.array(["laag", "midden", "hoog"])[cut].tolist())
    if weighted:
        columns["w"] = rng.integers(0, 3, n)  # 0: no cases
    return pa.table(columns)


def _reference(table: pa.Table, weighted: bool, by: list[str]) -> pl.DataFrame:
    frame = pl.from_arrow(table).with_columns(
        pl.col("g").cast(pl.String), pl.col("h").cast(pl.String), pl.col("y").cast(pl.Int8)
    )
    if not weighted:
        frame = frame.with_columns(w=pl.lit(1, pl.Int64))
    w = pl.col("w")
    frame = frame.filter(w > 0)
    agg = frame.group_by(by).agg(
        n=w.sum().cast(pl.Int64), ssum=(w * pl.col("s")).sum(), ssq=(w * pl.col("s") ** 2).sum()
    )
    return agg.sort(by)


def _ours(cube_table: pa.Table, by: list[str]) -> pl.DataFrame:
    frame = pl.from_arrow(cube_table).with_columns(pl.col("y").cast(pl.Int8))
    agg = frame.group_by(by).agg(
        n=pl.col("count").sum(), ssum=pl.col("score_sum").sum(), ssq=pl.col("score_sq").sum()
    )
    return agg.sort(by)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 3000),
    batch=st.sampled_from([7, 100, 1 << 20]),
    discrete=st.booleans(),
    weighted=st.booleans(),
    parquet=st.booleans(),
    dense_limit=st.sampled_from([1 << 24, 200, 8]),
    batches_counted=st.booleans(),
    banded_by_score=st.booleans(),
)
def test_cube_equals_a_group_by(
    seed: int,
    n: int,
    batch: int,
    discrete: bool,
    weighted: bool,
    parquet: bool,
    dense_limit: int,
    batches_counted: bool,
    banded_by_score: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Also with the total kept dense, summed by sorting, or turning from one to the
    other as new labels grow the key space (``dense_limit``), with each batch counted
    at once or handed on as rows (``batches_counted``), and with a band that is or is
    not a function of the score. Counting band and bin as their pairs must give the
    very cells of counting them apart, in the same order.
    """
    table = _data(seed, n, discrete, weighted, banded_by_score)
    data: Any = table
    if parquet:
        data = tmp_path / f"rows-{seed}-{n}.parquet"
        pq.write_table(table, data, row_group_size=max(1, n // 3))
    monkeypatch.setattr(inputs, "_BATCH", batch)
    monkeypatch.setattr(cube_module, "_DENSE_LIMIT", dense_limit)
    monkeypatch.setattr(cube_module, "_SMALL_SPACE", 1 << 30 if batches_counted else 0)
    monkeypatch.setattr(cube_module, "_PAIR_TABLE", 1 << 22)  # set anew for each example
    monkeypatch.setattr(cube_module, "_REORDER_BLOCK", 16)  # pairs reordered in many blocks
    roles = {"group": ["g", "h"], "outcome": "y", "band": "band", "score": "s"}
    cube = build_cube(data, **roles, count="w" if weighted else None)
    by = KEYS + (["s"] if discrete else [])  # exact bins: the score values themselves
    want, got = _reference(table, weighted, by), _ours(cube.table, by)
    assert got["n"].to_list() == want["n"].to_list()
    assert got.select(by).rows() == want.select(by).rows()
    for column in ("ssum", "ssq"):
        np.testing.assert_allclose(got[column], want[column], rtol=1e-12, atol=1e-12)
    assert "unused" not in cube.table.column("g").to_pylist()
    monkeypatch.setattr(cube_module, "_PAIR_TABLE", 0)  # band and bin counted apart
    _assert_same_cells(build_cube(data, **roles, count="w" if weighted else None), cube)


def _assert_same_cells(one: Any, other: Any) -> None:
    """Equal keys and counts, in the same order; score sums equal to 1e-12."""
    sums = ["score_sum", "score_sq"]
    assert one.table.drop_columns(sums).equals(other.table.drop_columns(sums))
    for column in sums:
        np.testing.assert_allclose(one.table[column], other.table[column], rtol=1e-12)


def test_rows_that_all_count_zero_make_an_empty_cube_with_band_and_score() -> None:
    """No cases: no score bins, so no band-bin pairs either (found by the property test)."""
    table = _data(1, 50, False, True).set_column(5, "w", pa.array(np.zeros(50, np.int64)))
    cube = build_cube(table, group=["g", "h"], outcome="y", band="band", score="s", count="w")
    assert cube.n == 0 and cube.table.num_rows == 0


@pytest.mark.parametrize("pair_table", [6, 9])
def test_pairs_stop_when_new_bands_outgrow_their_table(
    pair_table: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bands arriving batch by batch: once bands × bins exceeds the pairs' table, the
    total counts band and bin apart (re-keying what it counted as pairs), and the cube
    is the one counted apart from the start.
    """
    rng = np.random.default_rng(4)
    score = np.repeat([0.1, 0.2, 0.55], 40)  # three exact bins
    band = np.repeat(["laag", "midden", "hoog"], 40)  # a new band every 40 rows
    table = pa.table(
        {"g": rng.choice(["a", "b"], 120), "y": rng.integers(0, 2, 120), "band": band, "s": score}
    )
    monkeypatch.setattr(inputs, "_BATCH", 10)
    monkeypatch.setattr(cube_module, "_SMALL_SPACE", 0)
    monkeypatch.setattr(cube_module, "_PAIR_TABLE", pair_table)  # 6: stops at band 3; 9: never
    roles = {"group": ["g"], "outcome": "y", "band": "band", "score": "s"}
    paired = build_cube(table, **roles)
    monkeypatch.setattr(cube_module, "_PAIR_TABLE", 0)
    _assert_same_cells(paired, build_cube(table, **roles))
    assert paired.n == 120 and paired.table.num_rows == 12


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 2000),
    bad=st.sampled_from(["null", "nan"]),
    column=st.sampled_from(["h", "s", "band"]),
    batch=st.sampled_from([7, 1 << 20]),
    data=st.data(),
)
def test_a_null_or_nan_is_refused_at_its_first_row(
    seed: int,
    n: int,
    bad: str,
    column: str,
    batch: int,
    data: st.DataObject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=5)))
    table = _data(seed, n, False, False)
    values = table.column(column).to_pylist()
    if column == "h":  # a float attribute (as polars and Parquet give an income class)
        values = [float(v) for v in values]
    for row in rows:
        values[row] = None if bad == "null" or column == "band" else float("nan")
    kind = pa.string() if column == "band" else pa.float64()
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(values, kind))
    monkeypatch.setattr(inputs, "_BATCH", batch)
    with pytest.raises(DataError) as caught:
        build_cube(table, group=["g", "h"], outcome="y", band="band", score="s")
    assert (caught.value.column, caught.value.row) == (column, rows[0] + 1)
    assert f"({len(rows):,} row" in str(caught.value)
