"""``waarborg selectivity``: the selectivity of a risk selection (issue 15).

``waarborg selectivity SOURCE`` is short for ``waarborg selectivity report SOURCE``: a
first argument that is not one of the group's commands goes to ``report``.
"""

from __future__ import annotations

import click
import typer
from typer.core import TyperGroup

from waarborg.cli.app import app


class ReportByDefault(TyperGroup):
    """A command group whose first argument, if it names no command, goes to ``report``."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["report", *args]
        return super().resolve_command(ctx, args)


selectivity_app = typer.Typer(
    cls=ReportByDefault,
    help="Selectivity of a risk selection: prevalence from a random reference sample, "
    "hit rates, lift, burden per group, outcome and threshold tests, bias search.",
    no_args_is_help=True,
)
app.add_typer(selectivity_app, name="selectivity")
