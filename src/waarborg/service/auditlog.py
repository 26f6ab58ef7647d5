"""The append-only, hash-chained log of every read and write of personal data.

Each entry has a number ``seq`` (1, 2, 3, ... without gaps), a UTC timestamp ``at``, the
``actor`` and their ``role``, the ``action`` (``case.read``, ``decision.create``, ...),
the ``process_id`` and ``case_id`` it concerns (pseudonymous keys, never a subject's
reference) and a ``detail`` object as canonical JSON text. Its hash is::

    hash = sha256(canonical_json(entry) + prev_hash)

where ``entry`` is the object ``{seq, at, actor, role, action, process_id, case_id,
detail}`` (``detail`` as the stored text), ``canonical_json`` is JSON with sorted keys,
no spaces, UTF-8, and ``prev_hash`` the previous entry's hash as hex (64 zeros before
the first). One more row, the *chain head*, holds the last entry's number and hash.

Entries are written at the end of the transaction that records the work: right before
it commits, the chain head is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
write lock, taken by ``BEGIN IMMEDIATE``), the entries are chained onto it and the head
is moved. So concurrent appends queue, the chain stays linear, the lock is held only for
that last moment, and an entry commits or rolls back with the work it records.

:func:`verify` walks the chain and names the first bad entry: a changed entry (its hash
does not match its content), an inserted or deleted one (a gap in the numbers, a
previous-hash that does not match, or a chain head that does not match the last entry).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from waarborg.service.store.models import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True)
class Actor:
    """Who did something: a user's name and role, or the system itself."""

    name: str
    role: str


SYSTEM = Actor("system", "system")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text for one value.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1, "é"]})
    '{"a":[1,"é"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry should have, from its content and its ``prev_hash``."""
    content = {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "process_id": entry.process_id,
        "case_id": entry.case_id,
        "detail": entry.detail,
    }
    return hashlib.sha256((canonical_json(content) + entry.prev_hash).encode()).hexdigest()


def append(
    session: Session,
    actor: Actor,
    action: str,
    *,
    process_id: int | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record an entry in ``session``'s transaction: it commits with the work it records.

    The entry is chained and written just before the transaction commits, so the chain
    head stays locked only for the last moment of the transaction; on a rollback it is
    dropped with the rest.
    """
    pending = session.info.setdefault(_PENDING, [])
    pending.append((actor, action, process_id, case_id, canonical_json(detail or {})))


_PENDING = "waarborg.auditlog.pending"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Lock the chain head, then chain and write the transaction's entries."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # the recorded work first: the lock is held only for the entries
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).scalar_one()
    for actor, action, process_id, case_id, detail in pending:
        entry = AuditEntry(
            seq=head.seq + 1,
            at=utcnow().isoformat(timespec="microseconds"),
            actor=actor.name,
            role=actor.role,
            action=action,
            process_id=process_id,
            case_id=case_id,
            detail=detail,
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry)
        session.add(entry)
        head.seq, head.hash = entry.seq, entry.hash
    session.flush()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def read_entries(
    session: Session, by: Actor, after: int = 0, limit: int = 100
) -> tuple[list[AuditEntry], AuditHead]:
    """Entries after number ``after``, oldest first, and the chain head; the read is logged."""
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit)
    ).scalars()
    entries = list(rows)
    append(session, by, "auditlog.read", detail={"after": after, "n": len(entries)})
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        raise RuntimeError("the audit log has no chain head: run `waarborg db upgrade`")
    return entries, head


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    intact
        True when every entry and the chain head check out.
    entries
        Entries read.
    first_bad
        Number (``seq``) of the first bad entry, or None.
    reason
        What is wrong with it, or None.
    head_seq, head_hash
        The chain head as recorded (publish the hash elsewhere to anchor the chain).
    """

    intact: bool
    entries: int
    first_bad: int | None
    reason: str | None
    head_seq: int
    head_hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def verify(session: Session) -> Verification:
    """Walk the whole chain; name the first entry that was changed, inserted or deleted."""
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    expected, prev, count = 1, GENESIS, 0
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    rows = session.execute(query)
    for entry in rows.scalars():
        problem = _check(entry, expected, prev)
        if problem is not None:
            return Verification(False, count, problem[0], problem[1], head_seq, head_hash)
        expected, prev, count = entry.seq + 1, entry.hash, count + 1
    problem = _check_head(expected - 1, prev, head_seq, head_hash)
    if problem is not None:
        return Verification(False, count, problem[0], problem[1], head_seq, head_hash)
    return Verification(True, count, None, None, head_seq, head_hash)


def _check(entry: AuditEntry, expected: int, prev: str) -> tuple[int, str] | None:
    if entry.seq != expected:
        return expected, f"entry {expected} is missing (deleted): the next entry is {entry.seq}"
    if entry.prev_hash != prev:
        return entry.seq, (
            f"entry {entry.seq} does not follow entry {entry.seq - 1}: its previous-hash differs "
            "(an entry was inserted or replaced here)"
        )
    if entry_hash(entry) != entry.hash:
        return entry.seq, f"entry {entry.seq} was changed: its content does not match its hash"
    return None


def _check_head(last: int, last_hash: str, head_seq: int, head_hash: str) -> tuple[int, str] | None:
    if head_seq > last:
        return last + 1, (
            f"entry {last + 1} is missing (deleted): the chain head records {head_seq} entries"
        )
    if head_seq < last:
        return head_seq + 1, (
            f"entry {head_seq + 1} was inserted: the chain head records only {head_seq} entries"
        )
    if head_hash != last_hash:
        return last, f"entry {last} does not match the chain head's hash (it was replaced)"
    return None
