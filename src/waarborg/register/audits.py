"""Reading audit results (an ``AuditResult`` or the JSON of ``waarborg audit --json``).

The register, the conditions, the model card and the revalidation all read the same few
things from an audit result; they read them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PARTS = ("validity", "verdicts", "provenance")
"""Top-level parts every audit result has."""


def as_mapping(audit: Any) -> Mapping[str, Any]:
    """An audit result as a plain mapping (an ``AuditResult`` or its JSON already)."""
    return audit.to_dict() if hasattr(audit, "to_dict") else audit


def missing_parts(result: Any) -> list[str]:
    """The :data:`PARTS` that ``result`` lacks (all of them if it is not a mapping).

    Examples
    --------
    >>> missing_parts({"validity": {}, "verdicts": []})
    ['provenance']
    """
    if not isinstance(result, Mapping):
        return list(PARTS)
    return [part for part in PARTS if part not in result]


def cases(audit: Mapping[str, Any]) -> int | None:
    """The number of cases the audit covers (``n``, plain or as ``{"value": n}``)."""
    n = audit.get("n")
    return n.get("value") if isinstance(n, Mapping) else n


def day(audit: Mapping[str, Any]) -> str:
    """The date the audit was made, ``YYYY-MM-DD`` (empty if unknown)."""
    return str(audit.get("provenance", {}).get("created", ""))[:10]
