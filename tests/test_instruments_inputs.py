"""Every accepted input type gives the same scores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from waarborg import score

DATA = {
    "case_id": [1, 2, 3],
    "education_type": ["mbo", "wo", "hbo"],
    "age": [19, 30, 22],
    "distance_to_parents_km": [0.4, 50.0, 4.0],
}


def _bands(data: object) -> list[str]:
    return score("generic-selection", data).column("band_selection").to_pylist()


def test_all_input_types_agree(tmp_path: Path) -> None:
    csv, parquet = tmp_path / "c.csv", tmp_path / "c.parquet"
    pacsv.write_csv(pa.table(DATA), csv)
    pq.write_table(pa.table(DATA), parquet)
    categorical = pl.DataFrame(DATA).with_columns(pl.col("education_type").cast(pl.Categorical))
    results = [
        _bands(x)
        for x in (
            DATA,
            pa.table(DATA),
            pd.DataFrame(DATA),
            pl.DataFrame(DATA),
            categorical,
            csv,
            parquet,
        )
    ]
    assert results[0] == ["6", "1", "3"]
    assert all(r == results[0] for r in results)


def test_empty_table_gives_an_empty_result_with_all_columns() -> None:
    result = score("generic-selection", pa.table(DATA).slice(0, 0))
    assert result.num_rows == 0
    assert "band_selection" in result.column_names


def test_large_input_is_scored_in_blocks_and_keeps_order() -> None:
    n = 600_000
    data = {k: (v * (n // 3)) for k, v in DATA.items()} | {"case_id": list(range(n))}
    result = score("generic-selection", data)
    assert result.column("case_id").to_pylist() == list(range(n))
    assert result.column("band_selection").to_pylist()[:6] == ["6", "1", "3"] * 2
