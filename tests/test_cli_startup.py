"""`waarborg --help` starts quickly: importing the command line loads no heavy library.

The timing itself is a bench (``bench/bench_startup.py``); this test checks the cause:
which modules an import of :mod:`waarborg.cli` leaves out of ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {name.partition(".")[0] for name in json.loads(run.stdout.splitlines()[-1])}


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    loaded = _loaded_after("import waarborg.cli")
    assert sorted(loaded & {*HEAVY, "pydantic"}) == []


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["cube", "build", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    code = f"from waarborg.cli import app\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass"
    loaded = _loaded_after(code)
    assert sorted(loaded & set(HEAVY)) == []


def test_the_api_names_still_load_on_use() -> None:
    code = (
        "import waarborg\n"
        "from waarborg.audit import cube\n"  # binds the subpackage: the name stays the function
        "assert callable(waarborg.audit) and callable(waarborg.verify)\n"
        "assert waarborg.audit.__module__ == 'waarborg.audit.api'\n"
        "assert waarborg.load_instrument('generic-selection').id == 'generic-selection'"
    )
    assert "numpy" in _loaded_after(code)
