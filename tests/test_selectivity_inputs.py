"""The selection table: one checker, errors naming file, row, column and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from waarborg.errors import DataError
from waarborg.selectivity.inputs import selection_counts
from waarborg.synth.selectivity import Scenario, selection_table


def _table(**overrides: list) -> dict[str, list]:
    base = {
        "g": ["a", "b", "a", "b"],
        "selected": [True, False, False, True],
        "reference": [False, True, False, True],
        "outcome": [True, False, None, None],
    }
    return base | overrides


def _error(data: object, groups: list[str] | None = None) -> DataError:
    with pytest.raises(DataError) as info:
        selection_counts(data, groups or ["g"])
    return info.value


def test_missing_column_is_named() -> None:
    data = _table()
    del data["reference"]
    err = _error(data)
    assert err.column == "reference" and "missing column" in err.reason


def test_missing_group_column_is_named() -> None:
    err = _error(_table(), ["g", "region"])
    assert err.column == "region"


@pytest.mark.parametrize("column", ["selected", "reference"])
def test_empty_selected_or_reference_is_refused(column: str) -> None:
    values = _table()[column][:]
    values[2] = None
    err = _error(_table(**{column: values}))
    assert (err.row, err.column) == (3, column) and "missing value" in err.reason


def test_value_not_boolean_names_row_and_value() -> None:
    err = _error(_table(selected=[1, 0, 2, 1]))
    assert (err.row, err.column) == (3, "selected") and "found 2" in err.reason


def test_text_outcome_is_refused_with_its_value() -> None:
    err = _error(_table(outcome=["ja", "misschien", None, None]))
    assert (err.row, err.column) == (2, "outcome") and "'misschien'" in err.reason


def test_text_booleans_are_read() -> None:
    data = _table(selected=["ja", "Nee", "false", "TRUE"], outcome=["yes", "0", None, None])
    counts = selection_counts(data, ["g"])
    assert counts.counts[0, 1, 0, 1] == 1 and counts.counts[1, 0, 1, 0] == 1


def test_empty_group_is_refused() -> None:
    err = _error(_table(g=["a", None, "a", "b"]))
    assert (err.row, err.column) == (2, "g")


def test_bad_count_is_refused() -> None:
    err = _error(_table(count=[1, 2, -1, 1]))
    assert (err.row, err.column) == (3, "count") and "whole number" in err.reason


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sel.csv"
    path.write_text("g,selected,reference,outcome\na,1,0,1\nb,0,1,\nb,soms,0,\n")
    with pytest.raises(DataError) as info:
        selection_counts(path, ["g"])
    assert str(path) in str(info.value) and info.value.row == 3
    assert info.value.column == "selected"


def test_counts_match_a_direct_count() -> None:
    table = selection_table(Scenario(n=3_000, missing=0.1), seed=4)
    counts = selection_counts(table, ["group"])
    df = table.to_pandas()
    state = df["outcome"].map({True: 1, False: 0}).fillna(2).astype(int)
    for i, (g,) in enumerate(counts.cells):
        for sel in (0, 1):
            for ref in (0, 1):
                for s in range(3):
                    expected = (
                        (df["group"] == g)
                        & (df["selected"] == bool(sel))
                        & (df["reference"] == bool(ref))
                        & (state == s)
                    ).sum()
                    assert counts.counts[i, sel, ref, s] == expected


def test_every_input_kind_gives_the_same_counts(tmp_path: Path) -> None:
    table = selection_table(Scenario(n=800), seed=5)
    expected = selection_counts(table, ["group"]).counts
    csv, parquet = tmp_path / "s.csv", tmp_path / "s.parquet"
    table.to_pandas().to_csv(csv, index=False)
    pl.from_arrow(table).write_parquet(parquet)
    for data in (table.to_pandas(), pl.from_arrow(table), csv, parquet):
        np.testing.assert_array_equal(selection_counts(data, ["group"]).counts, expected)


def test_spreadsheet_is_read(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "s.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (("g", "selected", "reference", "outcome"), ("a", 1, 0, 1), ("b", 0, 1, None)):
        sheet.append(row)
    book.save(path)
    counts = selection_counts(path, ["g"])
    assert counts.n == 2 and counts.counts[0, 1, 0, 1] == 1 and counts.counts[1, 0, 1, 2] == 1


def test_aggregate_round_trip_and_count_column() -> None:
    table = selection_table(Scenario(n=2_000, missing=0.05), seed=6)
    counts = selection_counts(table, ["group"])
    again = selection_counts(counts.to_table(), ["group"])
    np.testing.assert_array_equal(again.counts, counts.counts)
    assert again.rows < counts.rows  # far fewer aggregate rows than cases


def test_no_groups_is_one_cell() -> None:
    counts = selection_counts(pd.DataFrame(_table()))
    assert counts.cells == [()] and counts.n == 4


def test_numeric_group_labels_are_text() -> None:
    data = pa.table(_table(g=[1.0, 2.0, 1.0, 2.0]))
    assert selection_counts(data, ["g"]).cells == [("1",), ("2",)]


def test_sparse_and_dense_cell_keys_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    base = selection_table(Scenario(n=1_000), seed=3)
    data = base.append_column("region", pa.array(rng.choice(["n", "z", "w"], base.num_rows)))
    dense = selection_counts(data, ["group", "region"])
    monkeypatch.setattr("waarborg.selectivity.inputs._DENSE_KEYS", 0)
    sparse = selection_counts(data, ["group", "region"])
    assert sparse.cells == dense.cells and len(dense.cells) == 6
    np.testing.assert_array_equal(sparse.counts, dense.counts)
