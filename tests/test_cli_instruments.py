"""The instrument commands: list, show, validate, schema, score, explain."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from waarborg import __version__, list_instruments, load_instrument
from waarborg.cli import app

runner = CliRunner()
CASES = {
    "case_id": [10, 11, 12],
    "education_type": ["mbo", "hbo", "wo"],
    "age": [19, 23, 30],
    "distance_to_parents_km": [0.5, 3.0, 80.0],
}


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_list_names_every_bundled_instrument() -> None:
    result = runner.invoke(app, ["instruments", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for instrument_id in list_instruments():
        assert instrument_id in result.stdout


def test_show_then_score_the_shown_file(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["instruments", "show", "generic-selection"])
    assert shown.exit_code == 0
    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text(shown.stdout)
    validated = runner.invoke(app, ["instruments", "validate", str(spec_file)])
    assert validated.exit_code == 0
    assert load_instrument("generic-selection").spec_hash[:12] in validated.stdout
    source = tmp_path / "cases.csv"
    pacsv.write_csv(pa.table(CASES), source)
    by_file = tmp_path / "by_file.csv"
    by_id = tmp_path / "by_id.csv"
    assert (
        runner.invoke(app, ["score", str(spec_file), str(source), "-o", str(by_file)]).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["score", "generic-selection", str(source), "-o", str(by_id)]).exit_code
        == 0
    )
    assert by_file.read_text() == by_id.read_text()


def test_score_writes_parquet_with_the_documented_columns(tmp_path: Path) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(pa.table(CASES), source)
    output = tmp_path / "scores.parquet"
    result = runner.invoke(app, ["score", "generic-selection", str(source), "-o", str(output)])
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(output)
    assert table.column("case_id").to_pylist() == [10, 11, 12]
    expected = {"band_selection", "score_selection", "contribution_age", "spec_hash"}
    assert expected <= set(table.column_names)
    assert table.column("band_selection").to_pylist() == ["6", "3", "1"]


def test_schema_is_written_as_json(tmp_path: Path) -> None:
    output = tmp_path / "spec.schema.json"
    result = runner.invoke(app, ["instruments", "schema", "-o", str(output)])
    assert result.exit_code == 0
    schema = json.loads(output.read_text())
    assert "predictors" in schema["properties"]


@pytest.mark.parametrize(
    ("lang", "words", "distance"),
    [("en", "raises the score by 4", "0.5 km"), ("nl", "verhoogt de score met 4", "0,5 km")],
)
def test_explain_in_both_languages(tmp_path: Path, lang: str, words: str, distance: str) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"education_type": "mbo", "age": 19, "distance_to_parents_km": 0.5}))
    result = runner.invoke(
        app,
        ["explain", "generic-selection", "--case", str(case), "--lang", lang],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.stderr
    assert words in result.stdout
    first_factor = result.stdout.splitlines()[1]
    assert distance in first_factor, "the largest contribution comes first"


def test_explain_reports_an_unreadable_case(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text("{not json")
    result = runner.invoke(app, ["explain", "generic-selection", "--case", str(case)])
    assert result.exit_code == 2
    assert "case.json" in result.stderr
