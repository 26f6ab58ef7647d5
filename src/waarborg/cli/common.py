"""What the command modules share: consoles, the error report, ``--lang``, progress, output.

One place for each convention of the command line, so every command follows it the same
way: waarborg's errors become one red line on stderr in the command's language and exit
code 2 (:func:`reports_errors`); ``--lang`` is checked once (:data:`LangOpt`); files are
written whole and named in that language (:func:`write_outputs`); the service's database
is opened, upgraded, by the command line's operator (:func:`open_database`,
:func:`operator`).
"""

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from waarborg.errors import WaarborgError

if TYPE_CHECKING:  # imported where used: `waarborg --help` stays quick
    from rich.progress import Progress

    from waarborg.service.auditlog import Actor
    from waarborg.service.store import Database

F = TypeVar("F", bound=Callable[..., Any])


def _console(*, stderr: bool = False) -> Console:
    """A console that wraps at the terminal's width, and not at all into a file or pipe.

    Piped output (``waarborg audit … > summary.txt``) keeps its lines whole, so paths and
    URLs are never split; tables take the width they need instead of being cut to 80.
    Rich markup is off: what is printed holds file names, column names and values from
    the data, and a ``[/x]`` among them must be shown as it is, not read as markup (or
    stop the command with Rich's error). A line that styles itself says ``markup=True``
    and passes what it shows through :func:`shown`.
    """
    console = Console(stderr=stderr, markup=False)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, markup=False, soft_wrap=True, width=10_000)


def shown(value: object) -> str:
    """``value`` as text inside a line with Rich markup: its brackets shown as they are."""
    from rich.markup import escape

    return escape(str(value))


#: Standard output: results and summaries.
out = _console()
#: Standard error: errors, warnings, progress and the files written.
err = _console(stderr=True)

LANGS = ("en", "nl")


def _check_lang(value: str) -> str:
    if value not in LANGS:
        raise typer.BadParameter("use en or nl")
    return value


#: ``--lang``: the language of the summary, the report and the errors (en or nl).
LangOpt = Annotated[
    str,
    typer.Option("--lang", help="Language of output and errors: en or nl.", callback=_check_lang),
]
#: A bundled instrument id or a spec file.
InstrumentArg = Annotated[str, typer.Argument(help="A bundled instrument id or a spec file.")]
#: The service's database.
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="WAARBORG_DATABASE_URL",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
        "[default: sqlite:///waarborg.sqlite]",
        show_default=False,
    ),
]


def reports_errors(command: F) -> F:
    """Turn waarborg's errors into one red line on stderr and exit code 2.

    The line is in the command's ``--lang`` when it has one: an error raised with a
    :class:`~waarborg.i18n.Message` (a bad file, column or value) is translated.
    """

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WaarborgError as exc:
            lang = kwargs.get("lang") or "en"
            report_error(exc.translate(lang), lang)
            raise typer.Exit(2) from None

    return run  # type: ignore[return-value]


def report_error(text: str, lang: str) -> None:
    """Print ``text`` on stderr as an error, labelled in ``lang``."""
    from waarborg.report.i18n import N_, tr

    label = tr(N_("error:"), lang)
    err.print(f"[bold red]{label}[/] {shown(text)}", markup=True, highlight=False, soft_wrap=True)


def write_outputs(outputs: list[tuple[Path | None, str | None]], lang: str = "en") -> None:
    """Write each ``(path, content)`` whole (where both are given); name it on stderr.

    Call it once everything is computed, so that a failure leaves no file half-written.
    """
    from waarborg.tables import atomic_path

    for path, content in outputs:
        if path is None or content is None:
            continue
        with atomic_path(path) as tmp:
            tmp.write_text(content, encoding="utf-8")
        say_written(path, lang)


def say_written(path: Path, lang: str = "en") -> None:
    """Name a file just written, on stderr, in ``lang``."""
    from waarborg.report.i18n import N_, tr

    err.print(tr(N_("wrote {path}"), lang).format(path=path), highlight=False)


def progress_display(*, quiet: bool = False, console: Console = err) -> "Progress":
    """A Rich progress bar (description, bar, time elapsed) that disappears when done."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, disable=quiet, transient=True)


@contextmanager
def stages(quiet: bool, total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr advanced once per named stage; silent with ``quiet``."""
    with progress_display(quiet=quiet) as bar:
        task = bar.add_task("starting", total=total)
        started = False

        def stage(name: str) -> None:
            nonlocal started
            if started:
                bar.advance(task)
            started = True
            bar.update(task, description=name)

        yield stage
        bar.update(task, completed=total)


def open_database(url: str | None) -> "Database":
    """The service's database at ``url`` (or the default), its schema upgraded."""
    from waarborg.service.settings import database_url
    from waarborg.service.store import Database

    db = Database(database_url(url))
    db.upgrade()
    return db


def operator() -> "Actor":
    """The command line's user as the audit log names them: ``cli:<login>``, operator."""
    from waarborg.service.auditlog import Actor

    return Actor(f"cli:{getpass.getuser()}", "operator")
