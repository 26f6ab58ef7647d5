"""The ``waarborg`` command line: a thin layer over the library.

Each module adds its commands to the one Typer application in :mod:`waarborg.cli.app`;
importing them here registers them. Every command turns waarborg's own errors (bad
spec, bad data) into one red line on stderr that names the file, row and column, in the
command's ``--lang``, and exit code 2; nothing is half-written. What the commands share
is in :mod:`waarborg.cli.common`.

``waarborg --help`` must start quickly (``bench/bench_startup.py``;
``tests/test_cli_startup.py``): a command imports what it uses inside its function, and
the modules here do not use ``from __future__ import annotations``, since Typer reads
every command's annotations at each start and would compile and evaluate each string.
"""

import typer

from waarborg.cli import (  # noqa: F401  (registers the commands)
    areas,
    audit,
    conditions,
    demo,
    register,
    selectivity,
    selectivity_clusters,
    selectivity_thresholds,
    service,
    synth,
    verify,
)
from waarborg.cli.app import app
from waarborg.cli.help import readable_help

__all__ = ["app", "main"]


def main() -> None:
    """Run the ``waarborg`` console script: the one application, with readable help."""
    command = readable_help(typer.main.get_command(app))
    command(prog_name="waarborg")
