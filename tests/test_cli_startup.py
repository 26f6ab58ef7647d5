"""`waarborg --help` starts quickly: importing the command line loads no heavy library.

The timing itself is a bench (``bench/bench_startup.py``); this test checks the cause:
which modules an import of :mod:`waarborg.cli` leaves out of ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
import typer

HEAVY = (
    "numpy",
    "polars",
    "pyarrow",
    "scipy",
    "pandas",
    "duckdb",
    "fastapi",
    "sqlalchemy",
    "matplotlib",
    "jinja2",
)


#: Modules the command line imports only when a command uses them.
ON_USE = ("rich.progress", "waarborg.i18n", "babel", "yaml", "waarborg.tables")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout.splitlines()[-1]))


def _loaded_after(code: str) -> set[str]:
    return {name.partition(".")[0] for name in _modules_after(code)}


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import waarborg.cli")
    assert sorted(loaded & {*HEAVY, "pydantic"}) == []


def test_importing_the_command_line_leaves_what_commands_use_for_later() -> None:
    modules = _modules_after("import waarborg.cli")
    assert sorted(m for m in modules if m.startswith(ON_USE)) == []


def test_the_catalogs_need_babel_only_to_compile() -> None:
    """English needs no catalog: messages (and errors) are made without Babel."""
    modules = _modules_after(
        "from waarborg.i18n import Message\nstr(Message('no such file', domain='reports'))"
    )
    assert sorted(m for m in modules if m.startswith("babel")) == []


@pytest.mark.parametrize(
    "args", [["--help"], ["audit", "--help"], ["cube", "build", "--help"], ["areas", "--help"]]
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    """As the console script runs it (``main``): not even pydantic, which Typer's coercion
    of the options not given (``--sep``, ``--decimal``) would import."""
    code = (
        f"sys.argv = ['waarborg', *{args!r}]\n"
        "from waarborg.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert sorted(loaded & {*HEAVY, "pydantic"}) == []


def test_command_annotations_are_objects_not_strings() -> None:
    """Typer reads every command's annotations at start-up; a string (as ``from __future__
    import annotations`` makes them) is compiled and evaluated there, twice per command."""
    from waarborg.cli import app

    def callbacks(typer_app: typer.Typer) -> list[Callable[..., object]]:
        found = [c.callback for c in typer_app.registered_commands if c.callback]
        if typer_app.registered_callback and typer_app.registered_callback.callback:
            found.append(typer_app.registered_callback.callback)
        for group in typer_app.registered_groups:
            if group.typer_instance is not None:
                found += callbacks(group.typer_instance)
        return found

    found = callbacks(app)
    assert len(found) > 30
    strings = {
        f"{f.__module__}.{f.__name__}: {name}"
        for f in found
        for name, annotation in f.__annotations__.items()
        if isinstance(annotation, str)
    }
    assert sorted(strings) == []


def test_the_api_names_still_load_on_use() -> None:
    code = (
        "import waarborg\n"
        "from waarborg.audit import cube\n"  # binds the subpackage: the name stays the function
        "assert callable(waarborg.audit) and callable(waarborg.verify)\n"
        "assert waarborg.audit.__module__ == 'waarborg.audit.api'\n"
        "assert waarborg.load_instrument('generic-selection').id == 'generic-selection'"
    )
    assert "numpy" in _loaded_after(code)
