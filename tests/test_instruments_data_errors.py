"""Bad case data fails with the file, the row and the column, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from waarborg import DataError, score
from waarborg.cli import app

GOOD = {
    "case_id": [1, 2, 3, 4],
    "education_type": ["mbo", "hbo", "wo", "mbo"],
    "age": [19, 23, 30, 40],
    "distance_to_parents_km": [0.5, 3.0, 12.0, 80.0],
}


def _with(column: str, values: list) -> dict[str, list]:
    return GOOD | {column: values}


CASES = {
    "missing column": (
        {k: v for k, v in GOOD.items() if k != "age"},
        None,
        "age",
        "column is missing",
    ),
    "wrong type": (_with("age", ["19", "23", "thirty", "40"]), 3, "age", "expected a number"),
    "unknown category": (
        _with("education_type", ["mbo", "hbo", "wo", "phd"]),
        4,
        "education_type",
        "unknown category 'phd'",
    ),
    "out of range": (_with("age", [19, 23, 130, 40]), 3, "age", "outside the range"),
    "not a whole number": (_with("age", [19, 23.5, 30, 40]), 2, "age", "whole number"),
    "undeclared missing value": (
        _with("distance_to_parents_km", [0.5, None, 12.0, 80.0]),
        2,
        "distance_to_parents_km",
        "missing-value policy is 'error'",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_python_api_names_row_and_column(case: str) -> None:
    data, row, column, words = CASES[case]
    with pytest.raises(DataError) as caught:
        score("generic-selection", pa.table(data))
    assert caught.value.row == row
    assert caught.value.column == column
    assert words in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_cli_exits_nonzero_names_file_and_writes_nothing(tmp_path: Path, case: str) -> None:
    data, row, column, words = CASES[case]
    source = tmp_path / "cases.csv"
    pacsv.write_csv(pa.table(data), source)
    output = tmp_path / "scores.csv"
    result = CliRunner().invoke(app, ["score", "generic-selection", str(source), "-o", str(output)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert str(source) in message
    assert f"column {column}" in message
    assert words in message
    if row is not None:
        assert f"row {row}" in message
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [source], "no temporary or partial file is left"


def test_error_row_counts_across_parallel_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import waarborg.instruments.engine as engine

    monkeypatch.setattr(engine, "_CHUNK_ROWS", 3)
    ages = [20] * 10
    ages[7] = 200
    data = {k: (v * 3)[:10] for k, v in GOOD.items()} | {"age": ages}
    with pytest.raises(DataError) as caught:
        score("generic-selection", data)
    assert caught.value.row == 8


def test_variant_field_is_required_and_checked() -> None:
    base = {
        "sex": ["male"],
        "age": [30.0],
        "violent_index_offence": [True],
        "previous_violent_crime": [1],
        "previous_drug_crime": [0],
        "prior_custody": [2],
        "alcohol_use_disorder": [0],
        "drug_use_disorder": [0],
        "psychiatric_disorder": [0],
        "severe_mental_illness": [0],
        "income": ["low"],
        "employed": [1],
        "education": ["secondary"],
        "neighbourhood_deprivation": [7],
    }
    with pytest.raises(DataError, match="column population: the column is missing"):
        score("oxrec-style", base)
    with pytest.raises(DataError, match="unknown category 'tbs'"):
        score("oxrec-style", base | {"population": ["tbs"]})
    with pytest.raises(DataError, match="row 1, column population: missing value"):
        score("oxrec-style", base | {"population": [None]})
    prisoner = score("oxrec-style", base | {"population": ["prisoner"]}).to_pylist()[0]
    probationer = score("oxrec-style", base | {"population": ["probationer"]}).to_pylist()[0]
    assert prisoner["variant"] == "prisoner" and probationer["variant"] == "probationer"
    assert prisoner["probability_violent_2y"] != probationer["probability_violent_2y"]
