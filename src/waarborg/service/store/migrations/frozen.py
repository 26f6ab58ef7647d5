"""What data migrations share, frozen by contract: never change what is here.

A migration must do on an old database, years later, what it did when it was written.
So a revision that writes data defines the tables it reads and writes itself, as they
were at that revision, and never imports the live models (a later model would change
what it does). What several revisions share lives here instead, once, and is frozen:

* never change what a table or function here does; a later revision that needs
  something else (say, an audit log with one more column) adds a new definition here,
  named for the revision that introduces it, and leaves these as they are;
* each definition says which revisions it is right for.

What this module keeps from the code is only the log's hash format
(:func:`waarborg.service.auditlog.entry_hash` and its ``canonical_json``), which must
stay stable for ``waarborg auditlog verify`` to check old entries anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from waarborg.service.auditlog import canonical_json, entry_hash

_TABLES = sa.MetaData()
LOG = sa.Table(
    "auditlog",
    _TABLES,
    *[sa.Column(name, sa.Integer()) for name in ("seq", "process_id", "case_id")],
    *[
        sa.Column(name, sa.Text())
        for name in ("at", "actor", "role", "action", "detail", "records", "prev_hash", "hash")
    ],
)
"""The audit log's columns from revision 0003 (which added ``records``) to 0005 at least."""
HEAD = sa.Table(
    "auditlog_head",
    _TABLES,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("seq", sa.Integer()),
    sa.Column("hash", sa.Text()),
)
"""The chain head, as revision 0001 created it: the last entry's number and hash (row 1)."""


def append_entry(bind: sa.Connection, action: str, detail: dict[str, Any], bound: list) -> None:
    """Chain one unwitnessed entry by the system onto the head, binding ``bound``.

    For revisions 0003 to 0005 (the log as :data:`LOG`). The entry is not witnessed: a
    migration runs outside the service, and the next witnessed commit pins it.

    Parameters
    ----------
    bind
        The migration's connection.
    action
        What was done, e.g. ``records.baseline``.
    detail
        More about it (no personal data); stored as canonical JSON.
    bound
        ``[kind, id, hash]`` of each record the entry binds, in the order given.
    """
    head = sa.select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()
    seq, prev = bind.execute(head).one()  # locked as auditlog's append locks it
    entry = SimpleNamespace(
        seq=seq + 1, at=datetime.now(UTC).isoformat(timespec="microseconds"), actor="system",
        role="system", action=action, process_id=None, case_id=None,
        detail=canonical_json(detail), records=canonical_json(bound), prev_hash=prev,
    )  # fmt: skip
    entry.hash = entry_hash(entry)
    bind.execute(LOG.insert().values(vars(entry)))
    bind.execute(HEAD.update().where(HEAD.c.id == 1).values(seq=entry.seq, hash=entry.hash))
