"""`waarborg demo` and `waarborg synth` from the command line."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from waarborg import list_instruments, load_instrument, score
from waarborg.cli import app
from waarborg.tables import fingerprint

runner = CliRunner()


def test_demo_writes_scores_and_summary_for_every_instrument(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    result = runner.invoke(
        app, ["demo", "-o", str(folder), "-n", "4000", "--quiet"], env={"COLUMNS": "500"}
    )
    assert result.exit_code == 0, result.output
    assert str(folder.resolve()) in result.stdout, "the demo names its output folder"
    summary = json.loads((folder / "summary.json").read_text())
    for instrument_id in list_instruments():
        scores = pq.read_table(folder / instrument_id / "scores.parquet")
        assert scores.num_rows == 4000
        entry = summary[instrument_id]
        assert entry["instrument"]["spec_hash"] == load_instrument(instrument_id).spec_hash
        assert sum(sum(c.values()) for c in entry["bands"].values()) == 4000 * len(entry["bands"])
        assert (folder / instrument_id / "audit-nl.html").stat().st_size > 0
        audit = json.loads((folder / instrument_id / "audit.json").read_text())
        assert audit["provenance"]["instrument"]["id"] == instrument_id
        assert "proxies" in audit
        # each fingerprint says what it is of, and the cube's matches the audit's
        cube = summary[instrument_id]["audit"]["cube_fingerprint"]
        assert cube["sha256"] == audit["provenance"]["data_fingerprint"]
        assert "count cube" in cube["of"]
        cases = pq.read_table(folder / instrument_id / "cases.parquet")
        assert summary[instrument_id]["cases_fingerprint"]["sha256"] == fingerprint(cases)
        entry = json.loads((folder / instrument_id / "register-entry.json").read_text())
        significant = next(v for v in audit["verdicts"] if v["significant"])
        assert entry["standard_version"] == "1.0"
        assert html.escape(significant["text_nl"], quote=False) in entry["risks"]
        card = (folder / instrument_id / "modelcard-en.html").read_text()
        assert f"{audit['validity']['auc']['value']:.3f}" in card
    # the planted student-grant mechanism is found: non-Western students selected more
    first = summary["generic-selection"]["audit"]["verdicts"][0]
    assert "'non_western'" in first and "selected" in first
    # the deliberately faulty OxRec-style implementation is caught and both faults named
    faults = [d["fault"] for d in summary["verification"]["diagnosis"]]
    assert faults == ["variant_swapped", "coefficient_wrong"]
    assert (folder / "verification" / "verify-nl.html").stat().st_size > 0
    rules = summary["preselect-style"]["data_rules"]
    assert rules["events_read"] == rules["events_used"] + sum(rules["removed"].values())
    assert all(n > 0 for n in rules["removed"].values())
    # the student-grant selection's selectivity report, from its 2% reference sample
    selectivity = json.loads((folder / "generic-selection" / "selectivity.json").read_text())
    assert selectivity["design"]["reference_share"]["given"] == 0.02
    assert selectivity["n"] == summary["generic-selection"]["cases"]
    assert (folder / "generic-selection" / "selectivity-nl.html").stat().st_size > 0
    # the demo organisation for the service is seeded, and its logins are printed
    assert (folder / "service.sqlite").stat().st_size > 0
    assert "caseworker" in result.stdout and "waarborg demo --serve" in result.stdout


def test_synth_writes_cases_and_events_that_score(tmp_path: Path) -> None:
    cases, events = tmp_path / "cases.csv", tmp_path / "events.csv"
    result = runner.invoke(
        app,
        [
            "synth",
            "preselect-style",
            "-n",
            "500",
            "--seed",
            "3",
            "-o",
            str(cases),
            "--events",
            str(events),
        ],
    )
    assert result.exit_code == 0, result.output
    scored = score("preselect-style", cases)
    assert scored.num_rows == 500
    assert events.stat().st_size > 0


def test_synth_rejects_an_unknown_instrument(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "nope", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code != 0
    assert "generic-selection" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_demo_serve_serves_a_finished_demo_without_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waarborg.cli.demo as demo_cli
    import waarborg.demo

    served: list[str] = []
    ran: list[Path] = []
    monkeypatch.setattr(demo_cli, "_serve", lambda url, port: served.append(url))
    monkeypatch.setattr(waarborg.demo, "DemoRun", lambda folder, **_: ran.append(folder) or 1 / 0)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "summary.json").write_text("{}")
    (folder / "service.sqlite").write_bytes(b"")

    result = runner.invoke(app, ["demo", "-o", str(folder), "--serve"])
    assert result.exit_code == 0, result.output
    assert served == [f"sqlite:///{(folder / 'service.sqlite').resolve()}"]
    assert ran == [], "a finished demo is served as it is"
    assert "--fresh" in result.stdout

    result = runner.invoke(app, ["demo", "-o", str(folder), "--serve", "--fresh"])
    assert ran == [folder], "--fresh runs the demo again"
    assert isinstance(result.exception, ZeroDivisionError)
