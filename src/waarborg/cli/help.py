"""Readable ``--help``: value names as people know them from other tools.

Typer labels each value in the help with its Python type (``<bool>`` after a flag,
``<list[Path]>`` after the data files). :func:`readable_help` gives every parameter of
the command tree a click-style value name instead: nothing after a flag or an argument
(their names say what they are), ``TEXT``, ``PATH``, ``INTEGER``, ``NUMBER`` or the
choices after an option, unless the option names its own (``metavar``). Command
descriptions come from docstrings: their paragraphs are rewrapped to the terminal and
reStructuredText literals (````x````) are shown as 'x'.

The same classes keep ``waarborg COMMAND --help`` quick: a parameter that was not given
is not coerced (:func:`_not_given`), so pydantic is not imported for it.
"""

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption


def _not_given(param: Any, ctx: Any) -> Any:
    """Typer's processing of an optional parameter that was not given, without coercion.

    Typer coerces every value through a pydantic adapter, which it builds even for a
    value of ``None``; for ``waarborg COMMAND --help`` that imported pydantic (0.1 s of
    CPU) only to coerce the main options ``--sep`` and ``--decimal``, not given. The
    value is what Typer's coercion makes of ``None`` (``()`` for a parameter that takes
    several), passed to the parameter's callback as Typer would.
    """
    value = () if param.multiple or param.nargs == -1 else None
    return value if param.callback is None else param.callback(ctx, param, value)


class _Argument(TyperArgument):
    def process_value(self, ctx: Any, value: Any) -> Any:
        if value is None and not self.required:
            return _not_given(self, ctx)
        return super().process_value(ctx, value)

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _Option(TyperOption):
    def process_value(self, ctx: Any, value: Any) -> Any:
        if value is None and not self.required:
            return _not_given(self, ctx)
        return super().process_value(ctx, value)

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        if self.metavar is not None:
            return self.metavar
        return value_name(super().display_type(ctx))


_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN"}


def value_name(label: str) -> str:
    """The click-style name for one of Typer's type labels (``<list[Path]>`` → ``PATH...``).

    >>> value_name("<int range>"), value_name("<list[str]>"), value_name("<csv|json>")
    ('INTEGER', 'TEXT...', 'csv|json')
    """
    label = label.strip("<>")
    many = label.startswith("list[")
    label = label.removeprefix("list[").removesuffix("]").removesuffix(" range")
    if "|" not in label:
        label = _NAMES.get(label, "PATH" if label.lower() in ("path", "file", "dir") else label)
    return label + ("..." if many else "")


def plain_text(docstring: str) -> str:
    """A docstring as help text: paragraphs on one line each, literals in quotes.

    >>> plain_text("Writes ``a.db``\\nin the folder.\\n\\nThen serves it.")
    "Writes 'a.db' in the folder.\\n\\nThen serves it."
    """
    paragraphs = docstring.replace("``", "'").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def readable_help(command: Any) -> Any:
    """Give every parameter in ``command``'s tree a readable value name; return it."""
    if command.help:
        command.help = plain_text(command.help)
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, *([help_option] if help_option else [])]:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            readable_help(sub)
    return command
