"""The errors waarborg raises for bad input: each says where, so it can be fixed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class WaarborgError(Exception):
    """Base of all of waarborg's own errors; the CLI turns these into exit code 2."""


class SpecError(WaarborgError):
    """A malformed instrument specification (message names the file and YAML path)."""


class DataError(WaarborgError):
    """Bad case data: a missing column, a wrong type, an unknown category, a value out of range.

    Parameters
    ----------
    message
        What is wrong.
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
        message: str,
        source: str = "<table>",
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source, self.row, self.column, self.reason = source, row, column, message
        where = [source]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")


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
