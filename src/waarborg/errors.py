"""The errors waarborg raises for bad input: each says where, so it can be fixed.

An error may be raised with a :class:`~waarborg.i18n.Message` (of the ``reports``
catalog) instead of English text: ``str()`` is still the English, and
:meth:`WaarborgError.translate` gives it in the reader's language, as the command line's
``--lang`` asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

    from waarborg.i18n import Message


class WaarborgError(Exception):
    """Base of all of waarborg's own errors; the CLI turns these into exit code 2.

    Parameters
    ----------
    message
        English text, or a :class:`~waarborg.i18n.Message` (kept as ``text``).
    """

    def __init__(self, message: str | Message = "") -> None:
        super().__init__(str(message))
        self.text = message

    def translate(self, lang: str) -> str:
        """The message in ``lang``; an error raised with English text only stays English."""
        from waarborg.i18n import localise

        return localise(self.text, lang)


class SpecError(WaarborgError):
    """A malformed instrument specification (message names the file and YAML path)."""


class DataError(WaarborgError):
    """Bad case data: a missing column, a wrong type, an unknown category, a value out of range.

    Parameters
    ----------
    message
        What is wrong: English text, or a :class:`~waarborg.i18n.Message` of the
        ``reports`` catalog that :meth:`translate` gives in another language. ``reason``
        keeps it as English text, ``text`` as given.
    source
        The file (or ``"<table>"`` for an in-memory table).
    row
        1-based data row number (the header is not counted), if one row is at fault.
    column
        The column at fault, if any.

    Examples
    --------
    >>> str(DataError("value 120 is outside [18, 100]", "cases.csv", row=7, column="age"))
    'cases.csv, row 7, column age: value 120 is outside [18, 100]'
    """

    def __init__(
        self,
        message: str | Message,
        source: str = "<table>",
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.source, self.row, self.column, self.reason = source, row, column, str(message)

    def __str__(self) -> str:
        return self.translate("en")

    def __reduce__(self) -> tuple[type[DataError], tuple[Any, ...]]:
        return type(self), (self.text, self.source, self.row, self.column)

    def translate(self, lang: str) -> str:
        """The error in ``lang``: where (file, row, column), then the reason.

        Examples
        --------
        >>> from waarborg.i18n import Message
        >>> bad = DataError(Message("no such file", domain="reports"), "cases.csv", row=3)
        >>> bad.translate("nl")
        'cases.csv, rij 3: bestand bestaat niet'
        """
        from waarborg.i18n import Message, localise

        where = [self.source]
        if self.row is not None:
            where.append(Message("row %(row)s", domain="reports", row=self.row).translate(lang))
        if self.column is not None:
            column = Message("column %(column)s", domain="reports", column=self.column)
            where.append(column.translate(lang))
        return f"{', '.join(where)}: {localise(self.text, lang)}"


def describe_validation(origin: str, exc: ValidationError) -> str:
    """A pydantic error as lines ``<origin>: <path>: <message> (got <value>)``.

    The one way waarborg words a bad YAML or JSON document (a spec, an owner file), so
    each fault names the file and where in it.
    """
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"] if not _is_union_tag(part))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] != "value_error" and isinstance(err.get("input"), str | int | float):
            message += f" (got {err['input']!r})"
        lines.append(f"{origin}: {loc or '(top level)'}: {message}")
    return "\n".join(dict.fromkeys(lines))


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts union member names (``LinearFormula``, ``function-after[...]``) in paths."""
    text = str(part)
    return text[:1].isupper() or "[" in text or text in {"str", "float", "bool", "int"}
