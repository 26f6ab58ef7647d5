"""Evidence for the five conditions: recorded audits, and the conditions themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from waarborg.register.conditions import ConditionsReport
from waarborg.service import casework, evidence
from waarborg.service.api.deps import ProcessId, Token, as_user, state
from waarborg.service.auth import actor
from waarborg.service.schemas import AuditIn, AuditOut

router = APIRouter(tags=["conditions"])


@router.post(
    "/processes/{process_id}/audits", response_model=AuditOut, status_code=status.HTTP_201_CREATED
)
def record_audit(request: Request, token: Token, process_id: ProcessId, body: AuditIn) -> AuditOut:
    """Record an audit of the process (the JSON of ``waarborg audit --json``) as evidence.

    ``pre_deployment`` before the process went live (condition 1), ``periodic`` for the
    re-tests (condition 2). A significant disparity that remains needs a
    ``justification``. For auditors, administrators and the process's supervisors.
    """
    with as_user(request, token) as (session, user):
        process = casework.get_process(session, process_id)
        evidence.check_evidence_access(user, process, "recording an audit")
        audit = evidence.record_audit(session, actor(user), process, body)
        return AuditOut(**evidence.audit_summaries([audit])[0])


@router.get("/processes/{process_id}/audits", response_model=list[AuditOut])
def list_audits(request: Request, token: Token, process_id: ProcessId) -> list[AuditOut]:
    """The audits recorded for the process, oldest first."""
    with as_user(request, token) as (session, user):
        audits = evidence.list_audits(session, user, process_id)
        return [AuditOut(**a) for a in evidence.audit_summaries(audits)]


@router.get("/processes/{process_id}/conditions", response_model=ConditionsReport)
def get_conditions(request: Request, token: Token, process_id: ProcessId) -> ConditionsReport:
    """The five conditions of the data protection authority for this process, today.

    Each has a status (``met``, ``not_met``, ``unknown``), the evidence behind it and what
    is missing, in English and Dutch; warnings (such as an overdue revalidation) follow.
    No personal data. For auditors, administrators and the process's supervisors.
    """
    threshold = state(request).settings.rubber_stamp_seconds
    today = datetime.now(UTC).date()
    with as_user(request, token) as (session, user):
        process = casework.get_process(session, process_id)
        evidence.check_evidence_access(user, process, "reading the conditions")
        return evidence.conditions(session, actor(user), process, today, threshold)
