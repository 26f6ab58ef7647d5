"""Errors on the command line follow ``--lang``: a bad file, column or value, in Dutch too.

The error names the file, the row and the column in the reader's language, and the
reason comes from the ``reports`` catalog; with ``--lang en`` (the default) it is English.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from waarborg.cli import app

runner = CliRunner()
AUDIT = ["--score", "p", "--outcome", "y", "--group", "sex", "--quiet"]
GOOD = {"p": [0.1, 0.8, 0.4, 0.6], "y": [0, 1, 0, 1], "sex": ["v", "m", "v", "m"]}


def _error(args: list[str]) -> str:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    return " ".join(result.stderr.split())


def _csv(tmp_path: Path, **columns: list[object]) -> Path:
    path = tmp_path / "cases.csv"
    pacsv.write_csv(pa.table({**GOOD, **columns}), path)
    return path


def _parquet(tmp_path: Path, **columns: list[object]) -> Path:
    """Parquet keeps a NaN a NaN (a CSV reads it back as a missing value)."""
    path = tmp_path / "cases.parquet"
    pq.write_table(pa.table({**GOOD, **columns}), path)
    return path


def test_a_missing_file_in_dutch_and_in_english(tmp_path: Path) -> None:
    missing = tmp_path / "nergens.csv"
    dutch = _error(["audit", str(missing), *AUDIT, "--lang", "nl"])
    assert dutch == f"fout: {missing}: bestand bestaat niet"
    english = _error(["audit", str(missing), *AUDIT, "--lang", "en"])
    assert english == f"error: {missing}: no such file"
    assert _error(["audit", str(missing), *AUDIT]) == english, "English is the default"


def test_a_missing_parquet_file_in_dutch(tmp_path: Path) -> None:
    missing = tmp_path / "nergens.parquet"
    assert _error(["audit", str(missing), *AUDIT, "--lang", "nl"]).endswith(
        f"{missing}: bestand bestaat niet"
    )


def test_a_missing_column_names_file_and_column_in_dutch(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    args = ["audit", str(path), "--score", "p", "--outcome", "uitkomst", "--quiet"]
    dutch = _error([*args, "--lang", "nl"])
    assert dutch == f"fout: {path}, kolom uitkomst: kolom ontbreekt (de data heeft: p, y, sex)"
    english = _error([*args, "--lang", "en"])
    assert english == f"error: {path}, column uitkomst: missing column (the data has: p, y, sex)"


@pytest.mark.parametrize(
    ("column", "values", "row", "dutch", "english"),
    [
        (
            "y",
            [0, 1, 2, 1],
            3,
            "moet 0/1 of false/true zijn, gevonden: 2 (1 rij)",
            "must be 0/1 or false/true, found 2 (1 row)",
        ),
        (
            "p",
            [0.1, float("nan"), 0.4, float("nan")],
            2,
            "de score moet een eindig getal zijn (2 rijen)",
            "the score must be a finite number (2 rows)",
        ),
        (
            "sex",
            ["v", None, "v", "m"],
            2,
            "ontbrekende waarde: vul een expliciete categorie in",
            "missing value: fill it with an explicit category",
        ),
    ],
    ids=["non-binary outcome", "NaN score", "missing group"],
)
def test_a_bad_value_names_file_row_and_column_in_the_language(
    tmp_path: Path, column: str, values: list[object], row: int, dutch: str, english: str
) -> None:
    path = _parquet(tmp_path, **{column: values})
    args = ["audit", str(path), *AUDIT]
    said = _error([*args, "--lang", "nl"])
    assert said.startswith(f"fout: {path}, rij {row}, kolom {column}: {dutch}")
    said = _error([*args, "--lang", "en"])
    assert said.startswith(f"error: {path}, row {row}, column {column}: {english}")


def test_a_count_that_is_not_numeric_in_dutch(tmp_path: Path) -> None:
    path = _csv(tmp_path, n=["1", "2", "drie", "4"])
    said = _error(["audit", str(path), *AUDIT, "--count", "n", "--lang", "nl"])
    assert said.startswith(f"fout: {path}, kolom n: een aantal moet numeriek zijn, gevonden: ")


def test_a_value_out_of_range_for_the_instrument_in_dutch(tmp_path: Path) -> None:
    """The scoring errors (``waarborg score``'s) in a command with --lang: explain."""
    case = tmp_path / "zaak.json"
    case.write_text(
        json.dumps({"education_type": "wo", "age": 130.5, "distance_to_parents_km": 50})
    )
    args = ["explain", "generic-selection", "--case", str(case)]
    said = _error([*args, "--lang", "nl"])
    assert said.startswith(f"fout: {case}, kolom age: waarde 130,5 ligt buiten het bereik [")
    said = _error([*args, "--lang", "en"])
    assert said.startswith(f"error: {case}, column age: value 130.5 is outside the range [")


def test_an_unknown_category_in_dutch(tmp_path: Path) -> None:
    case = tmp_path / "zaak.json"
    case.write_text(json.dumps({"education_type": "phd", "age": 30, "distance_to_parents_km": 50}))
    said = _error(["explain", "generic-selection", "--case", str(case), "--lang", "nl"])
    assert said.startswith(
        f"fout: {case}, kolom education_type: onbekende categorie 'phd'; toegestaan: "
    )


def test_an_unreadable_case_in_dutch(tmp_path: Path) -> None:
    case = tmp_path / "zaak.json"
    case.write_text("{geen json")
    said = _error(["explain", "generic-selection", "--case", str(case), "--lang", "nl"])
    assert said.startswith(f"fout: {case}: kan de zaak niet lezen: ")


def test_an_unknown_language_is_a_usage_error() -> None:
    result = runner.invoke(app, ["audit", "x.csv", "--lang", "de"])
    assert result.exit_code == 2
    assert "use en or nl" in result.output


def test_the_duckdb_engine_words_a_bad_value_the_same_in_dutch(tmp_path: Path) -> None:
    path = _parquet(tmp_path, y=[0, 2, 2, 1])
    args = ["audit", str(path), *AUDIT, "--engine", "duckdb", "--lang", "nl"]
    local = _error(["audit", str(path), *AUDIT, "--engine", "local", "--lang", "nl"])
    reason = "moet 0/1 of false/true zijn, gevonden: 2 (2 rijen)"
    assert local == f"fout: {path}, rij 2, kolom y: {reason}"
    assert _error(args) == local.replace(", rij 2", "")  # SQL names no row


@pytest.mark.parametrize(
    ("options", "dutch"),
    [
        (
            ["--band", "band", "--select", "hoog,extreem"],
            "kolom band: geen band 'extreem' in de data (banden: laag, hoog)",
        ),
        (["--reference", "sex=x"], "kolom sex: geen groep 'x' om als referentie te gebruiken"),
    ],
    ids=["unknown band", "unknown reference group"],
)
def test_an_unknown_band_or_reference_in_dutch(
    tmp_path: Path, options: list[str], dutch: str
) -> None:
    path = _csv(tmp_path, band=["laag", "hoog", "laag", "hoog"])
    said = _error(["audit", str(path), *AUDIT, *options, "--lang", "nl"])
    assert said.startswith(f"fout: {path}, {dutch}")


def test_the_engine_line_follows_the_language(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    args = ["audit", str(path), "--score", "p", "--outcome", "y", "--group", "sex"]
    dutch = runner.invoke(app, [*args, "--lang", "nl"])
    assert dutch.exit_code == 0, dutch.output
    assert "rekenomgeving: local (data die in het geheugen passen)" in dutch.stderr
    english = runner.invoke(app, args)
    assert "engine: local (data that fit in memory)" in english.stderr


def _case(tmp_path: Path) -> Path:
    case = tmp_path / "zaak.json"
    case.write_text(json.dumps({"education_type": "wo", "age": 30, "distance_to_parents_km": 5}))
    return case


def test_an_unknown_instrument_in_dutch(tmp_path: Path) -> None:
    args = ["explain", "onbekend", "--case", str(_case(tmp_path))]
    said = _error([*args, "--lang", "nl"])
    assert said.startswith(
        "fout: 'onbekend' is geen specificatiebestand en geen meegeleverd instrument (meegeleverd: "
    )
    assert "is neither a spec file" in _error([*args, "--lang", "en"])


def test_a_spec_that_is_not_yaml_in_dutch(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("id: [niet afgesloten\n")
    said = _error(["explain", str(spec), "--case", str(_case(tmp_path)), "--lang", "nl"])
    assert said.startswith(f"fout: {spec}: geen geldige YAML: ")


def test_a_spec_that_is_not_a_mapping_in_dutch(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("- een lijst\n")
    said = _error(["explain", str(spec), "--case", str(_case(tmp_path)), "--lang", "nl"])
    assert said == f"fout: {spec}: een specificatie is op het hoogste niveau een mapping " + (
        "(sleutels met waarden)"
    )


def test_an_audit_result_that_is_not_json_in_dutch(tmp_path: Path) -> None:
    audit = tmp_path / "audit.json"
    audit.write_text("{geen json")
    card = tmp_path / "kaart.md"
    args = ["modelcard", "generic-selection", "-o", str(card), "--audit", str(audit)]
    assert _error([*args, "--lang", "nl"]).startswith(f"fout: {audit}: geen JSON: ")
    assert _error([*args, "--lang", "en"]).startswith(f"error: {audit}: not JSON: ")
    assert not card.exists()


def test_verify_names_a_missing_id_column_in_dutch(tmp_path: Path) -> None:
    cases = tmp_path / "zaken.csv"
    pacsv.write_csv(
        pa.table(
            {
                "case_id": [1, 2],
                "education_type": ["wo", "mbo"],
                "age": [30, 19],
                "distance_to_parents_km": [5.0, 50.0],
            }
        ),
        cases,
    )
    observed = tmp_path / "geleverd.csv"
    pacsv.write_csv(pa.table({"nummer": [1, 2], "band_selection": ["1", "2"]}), observed)
    args = ["verify", "generic-selection", str(cases), str(observed)]
    said = _error([*args, "--lang", "nl"])
    assert said == f"fout: {observed}, kolom case_id: de id-kolom ontbreekt"
    assert _error(args) == f"error: {observed}, column case_id: the id column is missing"


def test_brackets_from_the_data_are_shown_as_they_are(tmp_path: Path) -> None:
    """A column or group named like Rich markup is printed verbatim, never read as markup
    (a closing tag such as ``[/x]`` used to stop the command with Rich's MarkupError)."""
    path = _csv(tmp_path, sex=["[/v]", "[bold]m", "[/v]", "[bold]m"])
    error = _error(["audit", str(path), "--score", "p", "--outcome", "[/y]", "--quiet"])
    assert error == f"error: {path}, column [/y]: missing column (the data has: p, y, sex)"
    result = runner.invoke(app, ["audit", str(path), *AUDIT], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[/v]" in result.stdout and "[bold]m" in result.stdout


# ------------------------------------------------ score, register export, areas, selectivity, cube


def test_score_says_what_it_wrote_and_its_errors_in_the_language(tmp_path: Path) -> None:
    cases, scored = tmp_path / "zaken.csv", tmp_path / "scores.csv"
    cases.write_text("education_type,age,distance_to_parents_km\nwo,30,5\nmbo,19,50\n")
    args = ["score", "generic-selection", str(cases), "-o", str(scored)]
    dutch = runner.invoke(app, [*args, "--lang", "nl"])
    assert dutch.exit_code == 0, dutch.output
    assert dutch.stdout.startswith("2 zaken gescoord met generic-selection ")
    assert dutch.stdout.rstrip().endswith(f"→ {scored}")
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert english.stdout.startswith("scored 2 cases with generic-selection ")
    missing = tmp_path / "nergens.csv"
    args = ["score", "generic-selection", str(missing), "-o", str(scored)]
    assert _error([*args, "--lang", "nl"]) == f"fout: {missing}: bestand bestaat niet"
    assert _error([*args, "--lang", "en"]) == f"error: {missing}: no such file"


def test_score_of_an_area_instrument_reports_incidents_and_errors_in_the_language(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "stad"
    made = runner.invoke(app, ["synth", "cas-style", "-o", str(folder), "--size", "6"])
    assert made.exit_code == 0, made.output
    args = ["score", "cas-style", str(folder / "incidents.parquet"), "--cells"]
    args += [str(folder / "cells.parquet"), "--backtest", "-o", str(tmp_path / "s.parquet")]
    dutch = runner.invoke(app, [*args, "--lang", "nl"])
    assert dutch.exit_code == 0, dutch.output
    assert dutch.stdout.startswith("36 cellen × ")
    assert dutch.stderr.startswith("incidenten: ")
    assert "niet gebruikt: bron discovered" in dutch.stderr
    assert "incidents" not in dutch.stderr and "used" not in dutch.stderr
    english = runner.invoke(app, [*args, "--lang", "en"])
    assert english.stdout.startswith("scored 36 cells × ")
    assert english.stderr.startswith("incidents: ")
    incidents = tmp_path / "incidenten.csv"
    incidents.write_text(
        "incident_id,time,type,source,cell_id\n"
        "I1,2020-12-21T12:13:00,burglary,reported,E142750N450625\n"
        "I2,2020-12-22T12:13:00,fietsdiefstal,reported,E142750N450625\n"
    )
    wrong_day = [*args[:5], "--period", "2021-07-27", *args[6:]]
    said = _error([*wrong_day, "--lang", "nl"])
    assert said.startswith("fout: periode 2021-07-27 is niet de eerste dag van een periode: ")
    said = _error([*wrong_day, "--lang", "en"])
    assert said.startswith("error: period 2021-07-27 is not the first day of a period: ")
    args[2] = str(incidents)
    said = _error([*args, "--lang", "nl"])
    assert said.startswith(
        f"fout: {incidents}, rij 2, kolom type: onbekende waarde 'fietsdiefstal'; "
    )
    said = _error([*args, "--lang", "en"])
    assert said.startswith(
        f"error: {incidents}, row 2, column type: unknown value 'fietsdiefstal'; "
    )


def test_register_export_speaks_the_language_but_the_entry_stays_dutch(tmp_path: Path) -> None:
    said, entries = {}, {}
    for lang in ("nl", "en"):
        entry = tmp_path / f"entry-{lang}.json"
        args = ["register", "export", "generic-selection", "-o", str(entry), "--lang", lang]
        said[lang] = runner.invoke(app, args)
        assert said[lang].exit_code == 0, said[lang].output
        entries[lang] = json.loads(entry.read_text(encoding="utf-8"))
    assert entries["nl"] == entries["en"], "--lang sets the messages, not the entry"
    assert said["nl"].stdout.startswith("registerinvoer van ")
    assert said["nl"].stderr.startswith("waarschuwing: de eigenaarsteksten in ")
    assert said["en"].stdout.startswith("register entry of ")
    assert said["en"].stderr.startswith("warning: the owner texts in ")
    audit = tmp_path / "audit.json"
    audit.write_text("{geen json")
    args = ["register", "export", "generic-selection", "-o", str(tmp_path / "e.json")]
    args += ["--audit", str(audit)]
    assert f"fout: {audit}: geen JSON: " in _error([*args, "--lang", "nl"])
    assert f"error: {audit}: not JSON: " in _error([*args, "--lang", "en"])


def _areas_missing_column(tmp_path: Path) -> tuple[list[str], Path]:
    from tests.test_areas_audit import City

    scored, incidents = tmp_path / "gescoord.parquet", tmp_path / "incidenten.csv"
    pq.write_table(City().scored(), scored)
    incidents.write_text("cell_id,when\nc001,2025-01-06\n")
    return ["areas", "audit", str(scored), "--incidents", str(incidents)], incidents


def _areas_scored_twice(tmp_path: Path) -> tuple[list[str], Path]:
    scored, incidents = tmp_path / "gescoord.csv", tmp_path / "incidenten.csv"
    scored.write_text("cell_id,period,score,selected\n" + "c1,2025-01-06,0.5,true\n" * 2)
    incidents.write_text("cell_id,date,type,source\nc1,2025-01-06,burglary,reported\n")
    return ["areas", "audit", str(scored), "--incidents", str(incidents)], scored


def _selection_not_boolean(tmp_path: Path) -> tuple[list[str], Path]:
    table = tmp_path / "selectie.csv"
    table.write_text("g,selected,reference,outcome\nA,1,0,1\nB,misschien,1,0\nA,0,1,1\n")
    return ["selectivity", "report", str(table), "--group", "g", "--quiet"], table


def _counts_inconsistent(tmp_path: Path) -> tuple[list[str], Path]:
    counts = tmp_path / "aantallen.csv"
    counts.write_text("g,u,cases,selected,hits\nA,x,10,5,2\nB,x,10,12,2\n")
    return ["selectivity", "thresholds", str(counts), "--group", "g", "--unit", "u"], counts


def _not_a_cube(tmp_path: Path) -> tuple[list[str], Path]:
    table = tmp_path / "tabel.csv"
    table.write_text("a,b\n1,2\n")
    return ["cube", "export", str(table), "-o", str(tmp_path / "uit.parquet")], table


def _cube(tmp_path: Path, rows: str = "a,1\nb,0\n") -> tuple[Path, Path]:
    """A cube built from a CSV file (its source), and that file."""
    from waarborg.audit import build_cube

    data, cube = tmp_path / "zaken.csv", tmp_path / "kubus.parquet"
    data.write_text("g,y\n" + rows)
    build_cube(data, group=["g"], outcome="y").write(cube)
    return cube, data


def _rules_not_yaml(tmp_path: Path) -> tuple[list[str], Path]:
    rules = tmp_path / "regels.yaml"
    rules.write_text("min_frequency: [1\n")
    args = ["cube", "export", str(_cube(tmp_path)[0]), "--disclosure", str(rules)]
    return [*args, "-o", str(tmp_path / "uit.parquet")], rules


def _empty_cube(tmp_path: Path) -> tuple[list[str], Path]:
    cube, data = _cube(tmp_path, rows="")
    return ["cube", "export", str(cube), "-o", str(tmp_path / "uit.parquet")], data


def _merge_published(tmp_path: Path) -> tuple[list[str], Path]:
    from waarborg.audit.cube import read_cube
    from waarborg.audit.disclosure import Rules, export_cube

    cube, data = _cube(tmp_path)
    published = tmp_path / "gepubliceerd.parquet"
    export_cube(read_cube(cube), Rules(min_frequency=1)).write(published)
    args = ["cube", "build", str(published), str(published), "--quiet"]
    return [*args, "-o", str(tmp_path / "samen.parquet")], data


@pytest.mark.parametrize(
    ("make", "dutch", "english"),
    [
        (
            _areas_missing_column,
            ", kolom date: kolom ontbreekt (de tabel heeft: cell_id, when)",
            ", column date: missing column (the table has: cell_id, when)",
        ),
        (
            _areas_scored_twice,
            ", rij 2, kolom cell_id: cel 'c1' is twee keer gescoord voor periode 2025-01-06",
            ", row 2, column cell_id: cell 'c1' is scored twice for period 2025-01-06",
        ),
        (
            _selection_not_boolean,
            ", rij 2, kolom selected: moet true/false zijn (of 1/0, yes/no, ja/nee), "
            "gevonden: 'misschien' (1 rij)",
            ", row 2, column selected: must be true/false (or 1/0, yes/no, ja/nee), "
            "found 'misschien' (1 row)",
        ),
        (
            _counts_inconsistent,
            ", rij 2, kolom selected: meer selected dan cases",
            ", row 2, column selected: more selected than cases",
        ),
        (
            _not_a_cube,
            ": geen waarborg-kubus (geen schema-metadata 'waarborg.cube')",
            ": not a waarborg cube (no 'waarborg.cube' schema metadata)",
        ),
        (_rules_not_yaml, ": geen geldige YAML: ", ": not valid YAML: "),
        (_empty_cube, ": de kubus heeft geen cellen", ": the cube has no cells"),
        (
            _merge_published,
            ": kubussen die onder outputcontrole zijn gepubliceerd, zijn niet samen te voegen: "
            "audit elk afzonderlijk",
            ": cannot merge cubes published under output control: audit each one separately",
        ),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else "",
)
def test_areas_selectivity_and_cube_errors_in_the_language(
    tmp_path: Path, make: Callable[[Path], tuple[list[str], Path]], dutch: str, english: str
) -> None:
    """Each names the file (and row and column where one is at fault) as the English does."""
    args, source = make(tmp_path)
    assert _error([*args, "--lang", "nl"]).startswith(f"fout: {source}{dutch}")
    assert _error([*args, "--lang", "en"]).startswith(f"error: {source}{english}")


def test_a_csv_of_only_a_header_has_no_rows_in_dutch(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("p,y,sex\n")
    assert _error(["audit", str(path), *AUDIT, "--lang", "nl"]) == (
        f"fout: {path}: de data heeft geen rijen"
    )
    assert _error(["audit", str(path), *AUDIT]) == f"error: {path}: the data has no rows"
