"""The append-only, hash-chained log of every read and write of personal data.

Each entry has a number ``seq`` (1, 2, 3, ... without gaps), a UTC timestamp ``at``, the
``actor`` and their ``role``, the ``action`` (``case.read``, ``decision.create``, ...),
the ``process_id`` and ``case_id`` it concerns (pseudonymous keys, never a subject's
reference) and a ``detail`` object as canonical JSON text. Its hash is::

    hash = sha256(canonical_json(entry) + prev_hash)

where ``entry`` is the object ``{seq, at, actor, role, action, process_id, case_id,
detail}`` (``detail`` as the stored text) plus ``records`` when the entry binds records,
``canonical_json`` is JSON with sorted keys, no spaces, UTF-8, and ``prev_hash`` the
previous entry's hash as hex (64 zeros before the first). One more row, the *chain
head*, holds the last entry's number and hash.

**Bound records.** ``records`` (canonical JSON text) lists ``[kind, id, hash]`` for every
record (case, decision, user, reference seed, draw, outcome) the entry created or
changed (``hash`` of its canonical content, :mod:`waarborg.service.records`), and
``[kind, id, null]`` for one it deleted (the retention job). Bind a record by passing
it to :func:`append`::

    auditlog.append(session, actor, "user.role", detail={...}, records=[user])
    auditlog.append(session, SYSTEM, "retention.delete", deleted=[("case", 12)])

**Witness.** After the commit, the new entries' numbers and hashes are appended, signed,
to the witness outside the database (:mod:`waarborg.service.witness`).

Entries are written at the end of the transaction that records the work: right before
it commits, the chain head is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
write lock, taken by ``BEGIN IMMEDIATE``), the entries are chained onto it and the head
is moved. So concurrent appends queue, the chain stays linear, the lock is held only for
that last moment, and an entry commits or rolls back with the work it records.

:func:`verify` walks the chain and names the first bad entry: a changed entry (its hash
does not match its content), an inserted or deleted one (a gap in the numbers, a
previous-hash that does not match, or a chain head that does not match the last entry),
an entry whose hash differs from the witnessed one (the chain was rewritten after that
point, or renumbered), witnessed entries that are gone (truncation, even with the head
reset) and forged witness lines; then it re-hashes every live bound record and reports
each one changed, deleted or added outside the log. :func:`verify_recent` does the cheap
part for a page view: only the entries after the last signed checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from waarborg.service import records as bound
from waarborg.service.store.models import AuditEntry, AuditHead, Base, utcnow
from waarborg.service.witness import (
    WitnessError,
    WitnessRecord,
    load_public_key,
    read_records,
    records_since_checkpoint,
)

if TYPE_CHECKING:
    from waarborg.service.store import Database
    from waarborg.service.witness import Witness

log = logging.getLogger("waarborg.auditlog")

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
    if entry.records is not None:  # entries from before records were bound have none
        content["records"] = entry.records
    return hashlib.sha256((canonical_json(content) + entry.prev_hash).encode()).hexdigest()


def append(
    session: Session,
    actor: Actor,
    action: str,
    *,
    process_id: int | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
    records: Sequence[Base] = (),
    deleted: Sequence[bound.RecordRef] = (),
) -> None:
    """Record an entry in ``session``'s transaction: it commits with the work it records.

    The entry is chained and written just before the transaction commits, so the chain
    head stays locked only for the last moment of the transaction; on a rollback it is
    dropped with the rest.

    Parameters
    ----------
    session
        The transaction of the work being recorded.
    actor
        Who did it.
    action
        What was done, e.g. ``case.read``.
    process_id, case_id
        What it concerns (pseudonymous keys).
    detail
        More about it (no personal data); stored as canonical JSON.
    records
        Cases, decisions or users this action created or changed: each is bound into the
        entry by the hash of its content as it is when the transaction commits.
    deleted
        ``(kind, id)`` of bound records this action deleted (e.g. ``("case", 12)``).

    Examples
    --------
    >>> from waarborg.service.store import Database
    >>> db = Database("sqlite://"); db.upgrade()
    >>> with db.transaction() as session:
    ...     append(session, SYSTEM, "test.example", detail={"n": 1})
    >>> with db.transaction() as session:
    ...     verify(session).intact
    True
    """
    for record in records:
        bound.kind_of(record)  # refuse a record that cannot be bound, now rather than later
    pending = session.info.setdefault(_PENDING, [])
    pending.append(
        (actor, action, process_id, case_id, canonical_json(detail or {}), records, deleted)
    )


_PENDING = "waarborg.auditlog.pending"
_WITNESS = "waarborg.auditlog.witness"
DATABASE = "waarborg.database"
"""Key of ``Session.info`` that holds the :class:`Database` (and so its witness)."""


def _binding(records: Sequence[Base], deleted: Sequence[bound.RecordRef]) -> str | None:
    if not records and not deleted:
        return None
    refs = [[*bound.ref(r), bound.record_hash(r)] for r in records]
    return canonical_json(refs + [[kind, id_, None] for kind, id_ in deleted])


def _witness_of(session: Session) -> Witness | None:
    db = session.info.get(DATABASE)
    return None if db is None else db.witness


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Lock the chain head, then chain and write the transaction's entries."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    witness = _witness_of(session)  # a missing setting fails here, before the commit
    session.flush()  # the recorded work first: the lock is held only for the entries
    rows = [(*item[:5], _binding(item[5], item[6])) for item in pending]
    first, hashes = _chain(session, rows)
    if witness is not None:
        session.info.setdefault(_WITNESS, []).append((first, hashes))


def _chain(session: Session, rows: list[tuple[Any, ...]]) -> tuple[int, list[str]]:
    """Lock the head, write ``rows`` as chained entries, move the head; (first seq, hashes)."""
    seq, prev = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
    ).one()
    hashes = []
    for actor, action, process_id, case_id, detail, records in rows:
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=utcnow().isoformat(timespec="microseconds"),
            actor=actor.name,
            role=actor.role,
            action=action,
            process_id=process_id,
            case_id=case_id,
            detail=detail,
            records=records,
            prev_hash=prev,
        )
        entry.hash = prev = entry_hash(entry)
        hashes.append(entry.hash)
        session.add(entry)
    session.flush()  # the entries first: the head may only point at an entry (a trigger checks)
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=prev))
    return seq - len(hashes) + 1, hashes


@event.listens_for(Session, "after_commit")
def _witness_commit(session: Session) -> None:
    """After the commit (never before: the witness is never ahead), witness the new head."""
    for first, hashes in session.info.pop(_WITNESS, ()):
        witness = _witness_of(session)
        assert witness is not None
        try:
            witness.head(first, hashes)
        except OSError:  # the work is committed; the next commit's record pins these too
            log.exception("could not witness entries %d-%d", first, first + len(hashes) - 1)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WITNESS, None)


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
class RecordProblem:
    """A bound record that does not match the log: changed, deleted or never logged."""

    kind: str
    id: int
    seq: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify` or :func:`verify_recent`.

    Attributes
    ----------
    intact
        True when the chain, the chain head, the witness and every checked record agree.
    entries
        Entries in the chain (up to the last one read).
    first_bad
        Number (``seq``) of the first bad entry, or None.
    reason
        What is wrong with it (or with the witness), or None.
    head_seq, head_hash
        The chain head as recorded.
    hashed
        Entries whose hash this verification recomputed (all of them for :func:`verify`,
        only those after the checkpoint for :func:`verify_recent`).
    witnessed_seq
        The last entry the witness vouches for (None: no witness configured).
    unwitnessed
        Entries after the last witnessed one: committed, their witness record not (yet)
        written (a crash between the commit and the witness write leaves these).
    records_checked
        Live cases, decisions and users re-hashed (None: records were not checked).
    record_problems
        Each record that was changed, deleted or added outside the log.
    """

    intact: bool
    entries: int
    first_bad: int | None
    reason: str | None
    head_seq: int
    head_hash: str
    hashed: int = 0
    witnessed_seq: int | None = None
    unwitnessed: int = 0
    records_checked: int | None = None
    record_problems: list[RecordProblem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class _Walk:
    """State of a walk along the chain, checked against witnessed hashes."""

    witnessed: dict[int, str]
    expected: int = 1
    prev: str = GENESIS
    hashed: int = 0
    problem: tuple[int, str] | None = None
    bindings: dict[bound.RecordRef, tuple[str | None, int]] | None = None

    def step(self, entry: AuditEntry) -> bool:
        """Check one entry; False once a problem is found."""
        self.problem = _check(entry, self.expected, self.prev) or _check_witnessed(
            entry, self.witnessed
        )
        if self.problem is not None:
            return False
        self.expected, self.prev, self.hashed = entry.seq + 1, entry.hash, self.hashed + 1
        if self.bindings is not None and entry.records is not None:
            for kind, id_, hash_ in json.loads(entry.records):
                self.bindings[(kind, id_)] = (hash_, entry.seq)
        return True


def _check_witnessed(entry: AuditEntry, witnessed: dict[int, str]) -> tuple[int, str] | None:
    expected = witnessed.get(entry.seq)
    if expected is not None and expected != entry.hash:
        return entry.seq, (
            f"entry {entry.seq} differs from what the witness recorded: the chain was "
            "rewritten or renumbered from here on"
        )
    return None


def _witnessed(records: Iterable[WitnessRecord]) -> tuple[dict[int, str], tuple[int, str] | None]:
    """Witnessed hash per entry number, and the first forged or conflicting line."""
    witnessed: dict[int, str] = {}
    problem: tuple[int, str] | None = None
    for record in records:
        if not record.valid:
            problem = problem or (record.seq, str(record.problem))
            continue
        for seq in range(record.first, record.seq + 1):
            hash_ = record.hash_of(seq)
            if witnessed.setdefault(seq, hash_) != hash_:
                problem = problem or (seq, f"the witness holds two hashes for entry {seq}")
    return witnessed, problem


def _first(*problems: tuple[int, str] | None) -> tuple[int, str] | None:
    found = [p for p in problems if p is not None]
    return min(found, key=lambda p: p[0]) if found else None


def _finish(
    walk: _Walk,
    head: AuditHead | None,
    witness_problem: tuple[int, str] | None,
    witnessing: bool,
) -> Verification:
    """Check the head and the witnessed end against where the walk stopped."""
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    last = walk.expected - 1
    problem = walk.problem
    if problem is None:
        problem = _check_head(last, walk.prev, head_seq, head_hash)
    top = max(walk.witnessed, default=0)
    if top > last and walk.problem is None:
        truncated = (last + 1, f"entries {last + 1} to {top} were witnessed but are missing "
                     "(the log was truncated)")  # fmt: skip
        problem = _first(problem, truncated)
    problem = _first(problem, witness_problem)
    first_bad, reason = problem if problem else (None, None)
    return Verification(
        intact=problem is None,
        entries=last,
        first_bad=first_bad,
        reason=reason,
        head_seq=head_seq,
        head_hash=head_hash,
        hashed=walk.hashed,
        witnessed_seq=min(top, last) if witnessing else None,
        unwitnessed=max(0, last - top) if witnessing else 0,
    )


def verify(
    session: Session,
    witness: Iterable[WitnessRecord] | None = None,
    *,
    check_records: bool = False,
) -> Verification:
    """Walk the whole chain against the witness; then (optionally) re-hash bound records.

    Parameters
    ----------
    session
        Best a snapshot (:meth:`Database.snapshot`), opened *after* the witness was read:
        a witness record is written after its commit, so the snapshot holds its entries.
    witness
        The witness's records (:func:`witness.read_records`); None: chain only.
    check_records
        Re-hash the live cases, decisions and users and compare with their bindings.
    """
    witnessed, witness_problem = _witnessed(witness or ())
    walk = _Walk(witnessed, bindings={} if check_records else None)
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    for entry in session.execute(query).scalars():
        if not walk.step(entry):
            break
    result = _finish(walk, session.get(AuditHead, HEAD_ID), witness_problem, witness is not None)
    if not check_records or walk.problem is not None:
        return result
    checked, problems = _check_records(session, walk.bindings or {})
    return replace(
        result,
        intact=result.intact and not problems,
        records_checked=checked,
        record_problems=problems,
    )


def _check_records(
    session: Session, bindings: dict[bound.RecordRef, tuple[str | None, int]]
) -> tuple[int, list[RecordProblem]]:
    """Compare every live bound record with its last binding in the log."""
    problems: list[RecordProblem] = []
    seen = 0
    for key, hash_ in bound.live(session):
        seen += 1
        logged = bindings.pop(key, None)
        kind, id_ = key
        if logged is None:
            problems.append(RecordProblem(kind, id_, None, f"{kind} {id_} is not in the log "
                                          "(added or changed outside the service)"))  # fmt: skip
        elif logged[0] is None:
            problems.append(RecordProblem(kind, id_, logged[1], f"{kind} {id_} was deleted "
                                          f"(entry {logged[1]}) but is there again"))  # fmt: skip
        elif logged[0] != hash_:
            problems.append(RecordProblem(kind, id_, logged[1], f"{kind} {id_} was changed "
                                          f"after entry {logged[1]} recorded it"))  # fmt: skip
    for (kind, id_), (hash_, seq) in sorted(bindings.items()):
        if hash_ is not None:
            problems.append(RecordProblem(kind, id_, seq, f"{kind} {id_} (entry {seq}) was "
                                          "deleted outside the service"))  # fmt: skip
    return seen, problems


def verify_database(
    db: Database,
    *,
    check_records: bool = True,
    witness_file: Path | None = None,
    public_key_file: Path | None = None,
) -> Verification:
    """Everything :func:`verify` checks, against the witness (the CLI's full check).

    The witness file and public key default to ``db``'s witness settings; only the
    public key is read (an auditor needs nothing else). Without a witness file yet
    (nothing was ever committed) the witness is empty.
    """
    settings = db.witness.settings if db.witness is not None else None
    witness_file = witness_file or (settings.path if settings else None)
    public_key_file = public_key_file or (settings.public_key_file if settings else None)
    records = None
    if witness_file is not None and public_key_file is not None:
        if public_key_file.exists():
            records = list(read_records(witness_file, load_public_key(public_key_file)))
        elif witness_file.exists():
            raise WitnessError(f"{public_key_file}: the witness's public key is missing")
        else:
            records = []
    with db.snapshot() as session:
        return verify(session, records, check_records=check_records)


def verify_recent(db: Database) -> Verification:
    """Verify only what is new since the last signed checkpoint; then move the checkpoint.

    The checkpoint (a witness record: entry number and hash, signed) says "the chain was
    verified up to here". This checks that that entry still has that hash, walks the
    entries after it, checks them against the witness records written since, and the
    head; if all is well it writes a new checkpoint. It reads a snapshot, so it never
    holds the write lock. Tampering before the checkpoint that keeps the checkpointed
    entry's hash is found by the full :func:`verify` (``waarborg auditlog verify``).
    """
    witness = db.witness
    if witness is None:  # in memory: nothing outside to anchor to
        with db.snapshot() as session:
            return verify(session, check_records=False)
    checkpoint, recent = records_since_checkpoint(witness.settings.path, witness.public_key())
    witnessed, witness_problem = _witnessed(recent)
    with db.snapshot() as session:
        walk = _Walk(witnessed)
        start = 0
        if checkpoint is not None:
            anchor = session.get(AuditEntry, checkpoint.seq)
            if anchor is None or anchor.hash != checkpoint.hash_of(checkpoint.seq):
                walk.problem = (checkpoint.seq, f"entry {checkpoint.seq} no longer matches the "
                                f"checkpoint of {checkpoint.at}: the log was rewritten or "
                                "truncated (run `waarborg auditlog verify`)")  # fmt: skip
            else:
                start = checkpoint.seq
                walk.expected, walk.prev = start + 1, anchor.hash
                witnessed[start] = anchor.hash
        if walk.problem is None:
            older = [s for s in witnessed if s <= start]
            for entry in session.execute(select(AuditEntry).where(AuditEntry.seq.in_(older))):
                walk.problem = walk.problem or _check_witnessed(entry[0], witnessed)
        if walk.problem is None:
            query = (
                select(AuditEntry)
                .where(AuditEntry.seq > start)
                .order_by(AuditEntry.seq)
                .execution_options(yield_per=2000)
            )
            for entry in session.execute(query).scalars():
                if not walk.step(entry):
                    break
        result = _finish(walk, session.get(AuditHead, HEAD_ID), witness_problem, True)
    if result.intact and result.entries > start:
        witness.checkpoint(result.entries, result.head_hash)
    return result


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
