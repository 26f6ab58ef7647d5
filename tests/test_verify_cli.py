"""``waarborg verify`` on files: exit codes, bad input, mappings, JSON and HTML output."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.reference import raw_spec
from tests.test_verify_support import deployed
from waarborg import DataError
from waarborg.cli import app
from waarborg.synth import synthesize
from waarborg.verify import demo_faulty_implementation, verify

runner = CliRunner()


def _files(tmp_path: Path, cases: pa.Table, observed: pa.Table) -> tuple[str, str]:
    cases_file, observed_file = tmp_path / "cases.parquet", tmp_path / "observed.csv"
    pq.write_table(cases, cases_file)
    pacsv.write_csv(observed, observed_file)
    return str(cases_file), str(observed_file)


def test_agreement_exits_zero(tmp_path: Path) -> None:
    cases = synthesize("generic-selection", 300, seed=1)
    files = _files(tmp_path, cases, deployed(raw_spec("generic-selection"), cases))
    run = runner.invoke(app, ["verify", "generic-selection", *files, "--id", "case_id"])
    assert run.exit_code == 0, run.output
    assert "AGREES" in run.stdout


def test_disagreement_exits_one_and_writes_json_and_report(tmp_path: Path) -> None:
    cases = synthesize("oxrec-style", 1500, seed=2)
    files = _files(tmp_path, cases, demo_faulty_implementation(cases))
    out, report = tmp_path / "v.json", tmp_path / "v.html"
    args = ["verify", "oxrec-style", *files, "--json", str(out), "--report", str(report)]
    run = runner.invoke(app, [*args, "--lang", "nl"])
    assert run.exit_code == 1, run.output
    data = json.loads(out.read_text())
    violent = data["outcomes"]["violent"]
    assert set(violent["disagreement"]) >= {"value", "ci", "n"}
    assert violent["band_matrix"]["labels"] == raw_spec("oxrec-style")["bands"]["violent"]["labels"]
    assert [f["fault"] for f in data["diagnosis"]] == ["variant_swapped", "coefficient_wrong"]
    assert all({"fault", "detail", "explains_share"} <= set(f) for f in data["diagnosis"])
    assert '<html lang="nl">' in report.read_text()


def test_ids_in_one_file_only_are_listed(tmp_path: Path) -> None:
    cases = synthesize("generic-selection", 200, seed=3)
    observed = deployed(raw_spec("generic-selection"), cases)
    extra = pa.table({"case_id": [9001, 9002], "band_selection": ["1", "2"]})
    observed = pa.concat_tables([observed.slice(0, 190), extra], promote_options="default")
    result = verify("generic-selection", cases, observed)
    ids = cases.column("case_id").to_pylist()
    assert result["cases"]["matched"] == 190
    assert result["cases"]["only_in_cases"] == {"n": 10, "ids": ids[190:]}
    assert result["cases"]["only_in_observed"] == {"n": 2, "ids": [9001, 9002]}
    assert result["outcomes"]["selection"]["disagreement"]["k"] == 0
    assert result.exit_code == 1
    files = _files(tmp_path, cases, observed)
    assert runner.invoke(app, ["verify", "generic-selection", *files]).exit_code == 1


def test_column_and_label_mapping(tmp_path: Path) -> None:
    cases = synthesize("preselect-style", 400, seed=4)
    ours = deployed(raw_spec("preselect-style"), cases)
    short = {"laag": "L", "midden": "M", "hoog": "H"}
    theirs = pa.table(
        {
            "ID": ours.column("case_id"),
            "P_REOFF_24M": ours.column("probability_reoffending_2y"),
            "ARR": [short[b] for b in ours.column("band_reoffending").to_pylist()],
        }
    )
    renamed = cases.rename_columns(["ID" if c == "case_id" else c for c in cases.column_names])
    files = _files(tmp_path, renamed, theirs)
    maps = ["--map", "band_reoffending=ARR", "--map", "probability_reoffending_2y=P_REOFF_24M"]
    labels = ["--band-labels", "reoffending=L:laag,M:midden,H:hoog"]
    run = runner.invoke(app, ["verify", "preselect-style", *files, "--id", "ID", *maps, *labels])
    assert run.exit_code == 0, run.output
    wrong = runner.invoke(app, ["verify", "preselect-style", *files, "--id", "ID", *maps])
    assert wrong.exit_code == 2 and "unknown band 'L'" in wrong.stderr


@pytest.mark.parametrize(
    ("change", "row", "column", "words"),
    [
        ("drop_id", None, "case_id", "id column is missing"),
        ("duplicate", 6, "case_id", "occurs more than once"),
        ("null_id", 3, "case_id", "id is missing"),
        ("bad_band", 4, "band_selection", "unknown band 'X'"),
        ("no_outputs", None, None, "no output column"),
    ],
)
def test_bad_input_exits_two_and_names_file_row_column(
    tmp_path: Path, change: str, row: int | None, column: str | None, words: str
) -> None:
    cases = synthesize("generic-selection", 50, seed=5)
    observed = deployed(raw_spec("generic-selection"), cases).to_pandas()
    if change == "drop_id":
        observed = observed.drop(columns=["case_id"])
    elif change == "duplicate":
        observed.loc[5, "case_id"] = observed.loc[4, "case_id"]
    elif change == "null_id":
        observed["case_id"] = observed["case_id"].astype("Int64")
        observed.loc[2, "case_id"] = None
    elif change == "bad_band":
        observed.loc[3, "band_selection"] = "X"
    else:
        observed = observed.rename(columns={"band_selection": "risk"})
    with pytest.raises(DataError) as caught:
        verify("generic-selection", cases, observed)
    assert caught.value.column == column and caught.value.row == row
    assert words in str(caught.value)
    files = _files(tmp_path, cases, pa.Table.from_pandas(observed, preserve_index=False))
    out = tmp_path / "v.json"
    run = runner.invoke(app, ["verify", "generic-selection", *files, "--json", str(out)])
    assert run.exit_code == 2
    assert files[1] in run.stderr and words in run.stderr and not out.exists()
    if row is not None:
        assert f"row {row}" in run.stderr


def test_bad_band_labels_option_is_a_usage_error(tmp_path: Path) -> None:
    cases = synthesize("generic-selection", 20, seed=6)
    files = _files(tmp_path, cases, deployed(raw_spec("generic-selection"), cases))
    run = runner.invoke(app, ["verify", "generic-selection", *files, "--band-labels", "selection"])
    assert run.exit_code == 2


@pytest.mark.parametrize(
    ("lang", "heading"), [("en", "Likely causes"), ("nl", "Waarschijnlijke oorzaken")]
)
def test_html_report_is_self_contained_and_leads_with_the_diagnosis(
    lang: str, heading: str
) -> None:
    cases = synthesize("oxrec-style", 800, seed=7)
    result = verify("oxrec-style", cases, demo_faulty_implementation(cases))
    html = result.to_html(lang)
    assert f'<html lang="{lang}">' in html
    assert html.index(heading) < html.index("<table")
    key = "detail_nl" if lang == "nl" else "detail"
    assert result["diagnosis"][0][key].replace("'", "&#39;") in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    matrix = result["outcomes"]["violent"]["band_matrix"]
    assert all(f">{label}</th>" in html for label in matrix["labels"])
