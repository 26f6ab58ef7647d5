"""The cube's fast paths over its inputs give what the plain paths give.

Each shortcut of the one pass (numpy reductions for a column's range, one ``min_max`` for
an integer column's checks, the histogram deciding that a score is continuous, polars
columns read without ``to_arrow``) is checked against the slower way it replaces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from waarborg.audit import audit, build_cube, inputs
from waarborg.audit import cube as cube_module
from waarborg.audit.cube import decoded
from waarborg.audit.inputs import _min_max
from waarborg.errors import DataError

# --------------------------------------------------------------------------- range


@pytest.mark.parametrize(
    "chunks",
    [
        [[0.5, float("nan"), None, -2.0], [7.0]],
        [[float("nan")], [1.0, None, 3.0]],
        [[3, None, -4], [9]],
        [[None, None], [2, 5]],
    ],
)
def test_range_of_a_column_is_arrows_min_max(chunks: list[list[Any]]) -> None:
    kind = pa.float64() if any(isinstance(v, float) for c in chunks for v in c) else pa.int64()
    col = pa.chunked_array(chunks, kind)
    low, high = pc.min_max(col).values()
    assert _min_max(col) == (float(low.as_py()), float(high.as_py()))


def test_a_column_without_values_has_an_empty_range() -> None:
    for col in (pa.chunked_array([], pa.float64()), pa.chunked_array([[None]], pa.int64())):
        assert _min_max(col) == (np.inf, -np.inf)


# --------------------------------------------------------------------------- integer checks


@pytest.mark.parametrize("kind", [pa.int8(), pa.uint8(), pa.int64()])
def test_integer_outcome_out_of_range_names_the_first_row(kind: pa.DataType) -> None:
    y = np.tile(np.array([0, 1], np.int64), 50)
    y[[12, 40]] = 2
    table = pa.table({"g": ["a", "b"] * 50, "y": pa.array(y, kind)})
    with pytest.raises(DataError) as info:
        audit(table, outcome="y", group=["g"])
    assert (info.value.column, info.value.row) == ("y", 13)
    assert "found 2" in str(info.value) and "(2 rows)" in str(info.value)


def test_negative_integer_count_names_the_row() -> None:
    table = pa.table({"g": ["a", "b", "a"], "n": pa.array([3, -1, 2], pa.int32())})
    with pytest.raises(DataError) as info:
        build_cube(table, group=["g"], count="n")
    assert (info.value.column, info.value.row) == ("n", 2) and "found -1" in str(info.value)


# --------------------------------------------------------------------------- exact or quantile


@pytest.mark.parametrize(("distinct", "binning"), [(50, "exact"), (51, "quantile")])
def test_a_score_is_exact_up_to_n_bins_distinct_values(distinct: int, binning: str) -> None:
    values = np.tile(np.linspace(0.0, 1.0, distinct), 40)
    c = build_cube(pa.table({"s": values}), score="s", n_bins=50)
    assert c.meta["binning"] == binning
    if binning == "exact":
        assert sorted(c.table.column("s").to_pylist()) == np.linspace(0.0, 1.0, distinct).tolist()


# --------------------------------------------------------------------------- polars and chunks


def _cases(n: int = 3000, seed: int = 4) -> pa.Table:
    """Rows with two string attributes, a band, a 0/1 outcome and a continuous score."""
    rng = np.random.default_rng(seed)
    pick = lambda values: pa.array(rng.choice(values, n))  # noqa: E731
    return pa.table(
        {
            "sex": pick(["f", "m"]),
            "origin": pick(["nl", "eu", "other"]),
            "band": pick(["laag", "midden", "hoog"]),
            "y": pa.array(rng.integers(0, 2, n), pa.int8()),
            "p": rng.random(n),
        }
    )


CUBE_ROLES: dict[str, Any] = {"group": ["sex", "origin"], "outcome": "y", "band": "band"}


def _sorted(c: Any) -> list[dict[str, Any]]:
    """The cube's cells as plain rows in a fixed order (dictionaries decoded)."""
    table = decoded(c.table)
    return sorted(table.to_pylist(), key=lambda row: [str(v) for v in row.values()])


def _polars(table: pa.Table, kind: str) -> pl.DataFrame:
    """The table as polars, its string columns as ``kind`` (Categorical, Enum or String)."""
    frame = pl.from_arrow(table)
    strings = [c for c, k in frame.schema.items() if k == pl.String]
    if kind == "Enum":
        return frame.with_columns(
            pl.col(c).cast(pl.Enum(sorted(set(frame[c].drop_nulls())))) for c in strings
        )
    return frame.with_columns(pl.col(strings).cast(getattr(pl, kind)))


@pytest.mark.parametrize("kind", ["Categorical", "Enum", "String"])
@pytest.mark.parametrize("score", [None, "p"])
def test_polars_columns_give_the_cube_of_the_arrow_table(kind: str, score: str | None) -> None:
    table = _cases()
    pl.Series(["zz", "other-column"], dtype=pl.Categorical)  # more shared categories
    want = build_cube(table, score=score, **CUBE_ROLES)
    got = build_cube(_polars(table, kind), score=score, **CUBE_ROLES)
    assert _sorted(got) == _sorted(want)
    assert got.meta == want.meta


def test_unused_shared_categories_do_not_widen_the_key_space(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """polars' categories are shared by every categorical column: counted over all of
    them, three attributes would span 5000**4 places and the total would fall back to
    sorting every row. Only the values a batch uses make the key space.
    """
    others = pl.Series([f"other-{i}" for i in range(5000)], dtype=pl.Categorical)
    table = _cases()
    frame = _polars(table, "Categorical")

    def no_sorting(*args: Any) -> None:
        raise AssertionError("the key space was too large to count densely")

    monkeypatch.setattr(cube_module, "_combine", no_sorting)
    assert len(frame.schema["sex"].categories.to_series()) > len(others)  # shared
    got = build_cube(frame, score="p", **CUBE_ROLES)
    assert _sorted(got) == _sorted(build_cube(table, score="p", **CUBE_ROLES))


def test_polars_frame_in_several_chunks_gives_the_same_cube(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _cases()
    frame = _polars(table, "Categorical")
    parts = pl.concat(
        [frame.slice(0, 700), frame.slice(700, 1100), frame.slice(1800)], rechunk=False
    )
    assert parts.n_chunks() == 3
    monkeypatch.setattr(inputs, "_BATCH", 1000)  # batches across the chunks' borders
    got = build_cube(parts, score="p", **CUBE_ROLES)
    assert _sorted(got) == _sorted(build_cube(table, score="p", **CUBE_ROLES))


@pytest.mark.parametrize("kind", ["Categorical", "Enum", "String"])
def test_a_missing_polars_category_names_the_row_as_arrow_does(kind: str) -> None:
    table = _cases()
    origin = table.column("origin").to_pylist()
    for row in (41, 977, 2010):
        origin[row] = None
    table = table.set_column(1, "origin", pa.array(origin, pa.string()))
    errors = []
    for data in (table, _polars(table, kind)):
        with pytest.raises(DataError) as info:
            build_cube(data, score="p", **CUBE_ROLES)
        errors.append(info.value)
    assert (errors[1].column, errors[1].row) == ("origin", 42)
    assert str(errors[1]) == str(errors[0]) and "(3 rows)" in str(errors[1])


def test_nan_score_from_polars_names_the_row() -> None:
    table = _cases()
    p = table.column("p").to_numpy().copy()
    p[[5, 600]] = np.nan
    frame = _polars(table.set_column(4, "p", pa.array(p)), "Categorical")
    with pytest.raises(DataError) as info:
        build_cube(frame, score="p", **CUBE_ROLES)
    assert (info.value.column, info.value.row) == ("p", 6) and "(2 rows)" in str(info.value)


def test_chunks_with_different_dictionaries_give_the_plain_cube(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _cases()
    chunks = []
    for start, stop in ((0, 1000), (1000, 1700), (1700, 3000)):
        part = table.slice(start, stop - start)
        encoded = {c: pc.dictionary_encode(part.column(c)) for c in ("sex", "origin", "band")}
        chunks.append(part.drop_columns(list(encoded)).append_column("sex", encoded["sex"]))
        chunks[-1] = chunks[-1].append_column("origin", encoded["origin"])
        chunks[-1] = chunks[-1].append_column("band", encoded["band"])
    dictionaries = [c.column("origin").chunk(0).dictionary.to_pylist() for c in chunks]
    assert len({tuple(d) for d in dictionaries}) > 1  # the chunks' own orders differ
    chunked = pa.concat_tables(chunks)
    monkeypatch.setattr(inputs, "_BATCH", 800)
    got = build_cube(chunked, score="p", **CUBE_ROLES)
    assert _sorted(got) == _sorted(build_cube(table, score="p", **CUBE_ROLES))


def test_keys_wider_than_16_bits_count_as_pandas_does() -> None:
    rng = np.random.default_rng(8)
    n = 40_000
    frame = pd.DataFrame(
        {"a": rng.integers(0, 300, n).astype(str), "b": rng.integers(0, 200, n).astype(str)}
    )
    frame["y"] = rng.integers(0, 2, n)
    c = build_cube(frame, group=["a", "b"], outcome="y")  # 300 * 200 * 2 keys > 2**15
    got = decoded(c.table).to_pandas().sort_values(["a", "b", "y"]).reset_index(drop=True)
    want = frame.groupby(["a", "b", "y"], as_index=False).size()
    assert got["count"].tolist() == want["size"].tolist()
    assert (
        got[["a", "b", "y"]].astype(str).values.tolist()
        == want[["a", "b", "y"]].astype(str).values.tolist()
    )


@pytest.mark.parametrize("form", ["pandas", "polars"])
def test_only_the_audited_columns_of_a_frame_are_read(form: str) -> None:
    table = _cases(400)
    frame: Any = table.to_pandas() if form == "pandas" else pl.from_arrow(table)
    junk = pd.Series([1, "x"] * 200, dtype=object)  # Arrow cannot convert it
    frame = (
        frame.assign(notes=junk)
        if form == "pandas"
        else frame.with_columns(notes=pl.Series([{"a": 1}, None] * 200))
    )
    assert _sorted(build_cube(frame, **CUBE_ROLES)) == _sorted(build_cube(table, **CUBE_ROLES))
    with pytest.raises(DataError) as info:
        build_cube(frame, group=["sex", "region"])
    assert info.value.column == "region" and "notes" in str(info.value)


def test_batches_keep_long_chunks_and_join_short_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "_BATCH", 1000)
    parts = [pa.table({"x": np.arange(n, dtype=np.float64)}) for n in (300, 400, 2600, 100)]
    table = pa.concat_tables(parts)
    batches = list(inputs._slices(table))
    assert [b.num_rows for b in batches] == [700, 1000, 1000, 700]
    assert pa.Table.from_batches(batches).equals(table)
    long = table.column("x").chunk(2).buffers()[1].address
    assert batches[1].column(0).buffers()[1].address == long  # a slice, not a copy


@pytest.mark.parametrize("kind", [pa.uint8(), pa.uint16(), pa.uint32(), pa.int8()])
def test_unsigned_dictionary_indices_count_every_category(kind: pa.DataType) -> None:
    size = 120 if kind == pa.int8() else 200  # 200 codes do not fit a signed byte
    codes = np.tile(np.arange(size), 3)
    labels = pa.array([f"v{i:03d}" for i in range(size)])
    g = pa.DictionaryArray.from_arrays(pa.array(codes, kind), labels)
    c = build_cube(pa.table({"g": g}), group=["g"])
    counts = c.table.column("count").to_pylist()
    got = dict(zip(decoded(c.table).column("g").to_pylist(), counts, strict=True))
    assert got == {label: 3 for label in labels.to_pylist()}


# --------------------------------------------------------------------------- threads


def test_work_on_threads_comes_back_in_order() -> None:
    assert list(inputs.in_threads(lambda x: x * x, iter(range(50)))) == [x * x for x in range(50)]


@pytest.mark.parametrize("where", ["items", "work"])
def test_an_error_on_either_side_of_the_threads_reaches_the_caller(where: str) -> None:
    def items() -> Any:
        for i in range(10):
            if where == "items" and i == 6:
                raise DataError("bad row", "x.csv", row=6)
            yield i

    def work(i: int) -> int:
        if where == "work" and i == 4:
            raise DataError("bad batch", "x.csv", row=4)
        return i

    with pytest.raises(DataError) as info:
        list(inputs.in_threads(work, items()))
    assert info.value.row == (6 if where == "items" else 4)
