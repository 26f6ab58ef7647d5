"""``waarborg demo``: the whole pipeline on a synthetic cohort, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from waarborg.cli.app import app, out, reports_errors
from waarborg.demo import DemoRun


@app.command("demo")
@reports_errors
def demo_command(
    folder: Annotated[Path, typer.Option("-o", "--output", help="Folder for all outputs.")] = Path(
        "waarborg-demo"
    ),
    n: Annotated[int, typer.Option("-n", min=100, help="Cases per instrument.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic cohorts.")] = 2026,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Run waarborg end to end on synthetic cohorts and write everything to one folder."""
    run = DemoRun(folder, n=n, seed=seed)
    steps = list(run.steps())
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out, disable=quiet, transient=True) as progress:
        task = progress.add_task("demo", total=len(steps))
        for step in steps:
            progress.update(task, description=step.title)
            for line in step.run():
                out.print(line, highlight=False)
            progress.advance(task)
    out.print(f"[bold green]done.[/] All outputs are in {folder.resolve()}", highlight=False)
