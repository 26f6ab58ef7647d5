"""Records bound into the audit log: a record's canonical content and its hash.

The log proves what happened only if the records it speaks of cannot change behind its
back. So a **case** (reference, inputs, score, band), a **decision** (who, outcome,
rationale, what was shown, when), a **user** (name, role, team, active), a process's
**reference seed** (share, seed), a case's **draw** for the reference sample (seed,
share, value, result) and a check's **outcome** (found or not, when, by whom) are *bound*
into the log entry that created or changed them: the entry carries the record's kind, id
and the SHA-256 of its canonical content, and ``waarborg auditlog verify`` re-hashes the
live rows and compares (:func:`waarborg.service.auditlog.verify`).

Canonical content: the fields listed in :data:`BOUND_FIELDS` as a JSON object with sorted
keys, no spaces, UTF-8 (``ensure_ascii`` off); timestamps as ISO 8601 in UTC with
microseconds (``2026-12-01T10:00:00.000000+00:00``), dates as ``2026-12-01``; JSON
columns as their value (re-serialised canonically, so key order and spacing in the
database do not matter); numbers as Python's shortest round-trip form.

Code that creates or changes one of these records binds it by passing it to
:func:`waarborg.service.auditlog.append` (``records=[obj]``); code that deletes one
passes ``deleted=[ref(obj)]``. The hash is taken when the transaction commits, so
later changes in the same transaction are covered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.service.store.models import (
    Base,
    Case,
    CheckOutcome,
    Decision,
    ReferenceDraw,
    ReferenceSeed,
    User,
)

CASE_FIELDS = ("id", "process_id", "subject_ref", "inputs", "score", "band",
               "suggests_selection", "spec_hash", "created_by", "created_at")  # fmt: skip
DECISION_FIELDS = ("id", "case_id", "user_id", "decider_name", "decider_role", "team",
                   "outcome", "rationale", "follows_score", "band_shown", "spec_hash_shown",
                   "opened_at", "decided_at", "seconds_to_decide")  # fmt: skip
USER_FIELDS = ("id", "name", "role", "team_id", "active")
SEED_FIELDS = ("id", "process_id", "share", "seed", "set_by", "set_at")
DRAW_FIELDS = ("case_id", "seed_id", "share", "value", "drawn", "selected", "route")
OUTCOME_FIELDS = ("id", "case_id", "outcome", "observed_on", "note", "user_id", "recorded_by",
                  "recorded_at", "supersedes_id")  # fmt: skip

BOUND_FIELDS: dict[str, tuple[type[Base], tuple[str, ...]]] = {
    "case": (Case, CASE_FIELDS),
    "decision": (Decision, DECISION_FIELDS),
    "user": (User, USER_FIELDS),
    "reference_seed": (ReferenceSeed, SEED_FIELDS),
    "draw": (ReferenceDraw, DRAW_FIELDS),
    "outcome": (CheckOutcome, OUTCOME_FIELDS),
}
"""Kind of record → (model, the fields its hash covers; the first is the record's id)."""

_KINDS = {model: kind for kind, (model, _) in BOUND_FIELDS.items()}

RecordRef = tuple[str, int]
"""A record's kind and id, e.g. ``("case", 12)``."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def kind_of(record: Base) -> str:
    """The kind of a bound record (a key of :data:`BOUND_FIELDS`, e.g. ``case``).

    Raises
    ------
    TypeError
        For a record that is not bound into the log.
    """
    try:
        return _KINDS[type(record)]
    except KeyError:
        bound = ", ".join(m.__name__ for m in _KINDS)
        raise TypeError(
            f"{type(record).__name__} is not bound into the log ({bound} are)"
        ) from None


def ref(record: Base) -> RecordRef:
    """A record's kind and id (a draw's id is its case's)."""
    kind = kind_of(record)
    return kind, getattr(record, BOUND_FIELDS[kind][1][0])


def content(record: Base) -> dict[str, Any]:
    """The fields of ``record`` that its hash covers, as plain JSON values."""
    _, names = BOUND_FIELDS[kind_of(record)]
    return {name: _plain(getattr(record, name)) for name in names}


def record_hash(record: Base) -> str:
    """SHA-256 (hex) of the record's canonical content.

    Examples
    --------
    >>> from waarborg.service.store.models import User
    >>> len(record_hash(User(id=1, name="ann", role="auditor", team_id=None, active=True)))
    64
    """
    return content_hash(content(record))


def content_hash(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of canonical JSON of ``fields`` (see the module docstring).

    ``fields`` are a record's hashed fields, as values of Python or as plain JSON values
    (timestamps and dates are written in their canonical form either way).
    """
    from waarborg.service.auditlog import canonical_json

    plain = {name: _plain(value) for name, value in fields.items()}
    return hashlib.sha256(canonical_json(plain).encode()).hexdigest()


def live(session: Session, chunk: int = 5000) -> Iterator[tuple[RecordRef, str]]:
    """Every bound record in the database with its hash, kind by kind (columns only)."""
    for kind, (model, names) in BOUND_FIELDS.items():
        columns = [getattr(model, name) for name in names]
        rows = session.execute(
            select(*columns).order_by(columns[0]).execution_options(yield_per=chunk)
        )
        for row in rows:
            yield (kind, row[0]), content_hash(dict(zip(names, row, strict=True)))
