"""The cube's fast paths over its inputs give what the plain paths give.

Each shortcut of the one pass (numpy reductions for a column's range, one ``min_max`` for
an integer column's checks, the histogram deciding that a score is continuous, polars
columns read without ``to_arrow``) is checked against the slower way it replaces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from waarborg.audit import audit, build_cube
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
