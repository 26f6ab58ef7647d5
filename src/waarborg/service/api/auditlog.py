"""The audit log, for auditors: read it, and verify it (incrementally, or in full)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from waarborg.service import auditlog
from waarborg.service.api.deps import MAX_ID, Token, as_user, state
from waarborg.service.auth import actor
from waarborg.service.casework import require_role
from waarborg.service.schemas import AuditEntryOut, AuditLogOut, VerificationOut

router = APIRouter(tags=["audit log"])


@router.get("/auditlog", response_model=AuditLogOut)
def read_log(
    request: Request,
    token: Token,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Entries after this number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditLogOut:
    """Entries of the log after ``after``, oldest first (auditors only; reading is logged)."""
    with as_user(request, token) as (session, user):
        require_role(user, ["auditor"], "reading the audit log")
        rows, head = auditlog.read_entries(session, actor(user), after, limit)
        entries = [AuditEntryOut.model_validate(e) for e in rows]
        return AuditLogOut(entries=entries, head_seq=head.seq, head_hash=head.hash)


@router.get("/auditlog/verify", response_model=VerificationOut)
def verify_log(
    request: Request,
    token: Token,
    full: Annotated[
        bool,
        Query(description="Walk the whole chain and re-hash every case, decision and user."),
    ] = False,
) -> VerificationOut:
    """Verify the chain against the witness; name the first bad entry.

    By default only what is new since the last signed checkpoint is verified (cheap, on
    a snapshot, no lock held); ``full=true`` checks everything, as ``waarborg auditlog
    verify`` does.
    """
    with as_user(request, token) as (_, user):
        require_role(user, ["auditor"], "verifying the audit log")
    db = state(request).db
    result = auditlog.verify_database(db) if full else auditlog.verify_recent(db)
    return VerificationOut(**result.to_dict())
