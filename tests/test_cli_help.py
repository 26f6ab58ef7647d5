"""Every command's ``--help`` as the console script shows it: readable, not Python types."""

from __future__ import annotations

import sys

import pytest
import typer

from waarborg.cli import app, main


def _paths(command: typer.core.TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in command.commands.items():
        if isinstance(sub, typer.core.TyperGroup):
            found += _paths(sub, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "waarborg")
def test_help_shows_value_names_not_python_types(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["waarborg", *path, "--help"])
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "Usage: waarborg" in text
    for artefact in ("<bool>", "<str>", "<list[", "<path>", "<int", "<float", "``"):
        assert artefact not in text, f"{artefact!r} in the help of {' '.join(path)}"


def test_options_say_what_value_they_take(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["waarborg", "audit", "--help"])
    monkeypatch.setenv("COLUMNS", "120")
    with pytest.raises(SystemExit):
        main()
    lines = {
        line.split()[1]: line for line in capsys.readouterr().out.splitlines() if "│ --" in line
    }
    assert " TEXT " in lines["--score"]
    assert " INTEGER " in lines["--bins"]
    assert " PATH " in lines["--json"]
    assert "TEXT" not in lines["--intersections"], "a flag takes no value"


def test_piped_output_is_not_wrapped() -> None:
    import subprocess

    long_folder = "/tmp/" + "a-rather-long-folder-name/" * 6 + "x"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from waarborg.cli.common import out; import sys; out.print(sys.argv[1])",
            long_folder,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == long_folder + "\n"
