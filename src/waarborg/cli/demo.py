"""``waarborg demo``: the whole pipeline on a synthetic cohort, with a progress bar."""

from pathlib import Path
from typing import Annotated

import typer

from waarborg.cli.app import app
from waarborg.cli.common import out, progress_display, reports_errors, shown


@app.command("demo")
@reports_errors
def demo_command(
    folder: Annotated[Path, typer.Option("-o", "--output", help="Folder for all outputs.")] = Path(
        "waarborg-demo"
    ),
    n: Annotated[int, typer.Option("-n", min=100, help="Cases per instrument.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic cohorts.")] = 2026,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then start the web UI on the demo organisation.")
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the web UI.")] = 8000,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="With --serve: run the demo again even if it is there.")
    ] = False,
) -> None:
    """Run waarborg end to end on synthetic cohorts and write everything to one folder.

    It also seeds a demo organisation (users of every role, two processes with scored
    cases) into ``service.sqlite`` in that folder; ``--serve`` then starts the web UI, on
    the demo already in the folder if there is one (``--fresh`` runs it again first).
    """
    if serve and not fresh and _finished(folder):
        out.print(f"serving the demo already in {folder.resolve()} (--fresh runs it again)")
        _serve(_service_url(folder), port)
        return
    from waarborg.demo import DemoRun

    run = DemoRun(folder, n=n, seed=seed)
    steps = list(run.steps())
    with progress_display(quiet=quiet, console=out) as progress:
        task = progress.add_task("demo", total=len(steps))
        for step in steps:
            progress.update(task, description=step.title)
            for line in step.run():
                out.print(line, highlight=False)
            progress.advance(task)
    url = _seed_service(folder)
    out.print(
        f"[bold green]done.[/] All outputs are in {shown(folder.resolve())}",
        markup=True,
        highlight=False,
    )
    if serve:
        _serve(url, port)


def _finished(folder: Path) -> bool:
    """Whether ``folder`` holds a whole demo: its summary (the last step) and service."""
    return (folder / "summary.json").is_file() and (folder / "service.sqlite").is_file()


def _service_url(folder: Path) -> str:
    return f"sqlite:///{(folder / 'service.sqlite').resolve()}"


def _seed_service(folder: Path) -> str:
    """Seed the demo organisation into the folder's SQLite file; say how to log in."""
    from waarborg.service.seed import DEMO_PASSWORD, DEMO_REFERENCE_CASES, seed_demo
    from waarborg.service.store import Database

    url = _service_url(folder)
    db = Database(url)
    org = seed_demo(db, reference_cases=DEMO_REFERENCE_CASES)
    db.dispose()
    users = ", ".join(f"{name} ({role})" for name, role in org.users)
    out.print(f"service: demo organisation in {folder / 'service.sqlite'}", highlight=False)
    out.print(f"  users: {users}; password: {DEMO_PASSWORD}", highlight=False)
    out.print(f"  web UI: waarborg demo --serve, or waarborg serve --database-url {url}")
    return url


def _serve(url: str, port: int) -> None:
    """The web UI on plain-HTTP localhost (so the session cookie may go without HTTPS)."""
    import uvicorn

    from waarborg.service.app import create_app
    from waarborg.service.settings import Settings

    app = create_app(settings=Settings.from_env(url, cookie_secure=False))
    out.print(f"[bold]web UI:[/] http://127.0.0.1:{port}/ (Ctrl+C stops it)", markup=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
