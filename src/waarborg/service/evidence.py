"""Evidence for the five conditions, gathered from the service's database and audit log.

Audits are recorded per process (:func:`record_audit`); :func:`gather` collects the
:class:`waarborg.register.conditions.Evidence` of a process (recorded audits, decisions,
the log's reads of personal data, retention, notices, the revalidation status) and
:func:`conditions` hands it to the library's pure checks. Supervisors of the process,
auditors and administrators may record audits and read the conditions; none of this
contains personal data.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from waarborg.i18n import Message
from waarborg.register.audits import missing_parts
from waarborg.register.conditions import (
    AccessEvidence,
    AuditEvidence,
    ConditionsReport,
    DecisionEvidence,
    Evidence,
    NoticeEvidence,
    check_conditions,
)
from waarborg.register.revalidation import RevalidationStatus, revalidation_status
from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.casework import TEAM_ROLES, get_process, instrument, works_in
from waarborg.service.errors import ForbiddenError, InvalidError
from waarborg.service.oversight import checked_by_draw
from waarborg.service.schemas import AuditIn
from waarborg.service.store.models import (
    AuditEntry,
    Case,
    Decision,
    Process,
    RecordedAudit,
    ReferenceDraw,
    RetainedCount,
    User,
    utcnow,
)

PERSONAL_DATA_ACTIONS = ("case.create", "case.read", "decision.create", "notice.read")
"""Log actions that read or write a person's data (condition 4 checks who did them)."""


def check_evidence_access(user: User, process: Process, doing: str | Message) -> None:
    """Auditors, administrators and the process's supervisors; others get 403."""
    if user.role in ("auditor", "admin"):
        return
    if user.role == "supervisor" and works_in(user, process):
        return
    raise ForbiddenError(
        Message(
            "%(doing)s is for auditors, administrators and supervisors of process %(id)s",
            doing=doing,
            id=process.id,
        )
    )


def record_audit(session: Session, by: Actor, process: Process, data: AuditIn) -> RecordedAudit:
    """Record an audit of a process as evidence; the recording is logged.

    The caller has checked that ``by`` may (:func:`check_evidence_access`).
    """
    missing = missing_parts(data.result)
    if missing:
        raise InvalidError(
            f"result: not an audit result from waarborg audit --json (no {', '.join(missing)})",
            field="result",
        )
    audit = RecordedAudit(
        process_id=process.id,
        kind=data.kind,
        result=data.result,
        justification=data.justification,
        recorded_by=by.name,
        recorded_at=utcnow(),
    )
    session.add(audit)
    session.flush()
    evidence = AuditEvidence.of(audit.result, data.kind, audit.recorded_at)
    detail = {"audit": audit.id, "kind": data.kind, "significant": len(evidence.significant_en)}
    auditlog.append(session, by, "audit.record", process_id=process.id, detail=detail)
    return audit


def list_audits(session: Session, user: User, process_id: int) -> list[RecordedAudit]:
    """The audits recorded for a process, oldest first."""
    process = get_process(session, process_id)
    check_evidence_access(user, process, Message("reading the recorded audits"))
    return list_recorded(session, process.id)


def list_recorded(session: Session, process_id: int) -> list[RecordedAudit]:
    """The audits recorded for a process, oldest first (no access check: for the CLI)."""
    query = (
        select(RecordedAudit)
        .where(RecordedAudit.process_id == process_id)
        .order_by(RecordedAudit.recorded_at, RecordedAudit.id)
    )
    return list(session.execute(query).scalars())


def conditions(
    session: Session, by: Actor, process: Process, today: date, rubber_stamp_seconds: float
) -> ConditionsReport:
    """The five conditions of a process on ``today``; the reading is logged.

    The caller has checked that ``by`` may (:func:`check_evidence_access`).
    """
    report = check_conditions(gather(session, process, today, rubber_stamp_seconds), today)
    statuses = {str(c.number): c.status for c in report.conditions}
    auditlog.append(session, by, "conditions.read", process_id=process.id, detail=statuses)
    return report


def gather(
    session: Session, process: Process, today: date, rubber_stamp_seconds: float
) -> Evidence:
    """Everything the five checks need, for one process."""
    audits = list_recorded(session, process.id)
    return Evidence(
        process=process.name,
        process_created=process.created_at,
        retest_interval_days=process.retest_interval_days,
        audits=[AuditEvidence.of(a.result, a.kind, a.recorded_at, a.justification) for a in audits],  # type: ignore[arg-type]
        decisions=_decisions(session, process.id, rubber_stamp_seconds),
        access=_access(session, process),
        notices=_notices(session, process.id),
        revalidation=revalidation_status(
            instrument(process).spec, [a.result for a in audits], today
        ),
    )


def revalidation_of(
    process: Process, audits: Sequence[RecordedAudit], today: date
) -> RevalidationStatus:
    """The process's instrument against its revalidation policy, over its recorded audits."""
    return revalidation_status(instrument(process).spec, [a.result for a in audits], today)


def revalidation_warnings(
    session: Session, process_ids: Sequence[int], today: date, lang: str = "en"
) -> list[str]:
    """For the oversight dashboard: one line per breach of a process's instrument, in ``lang``."""
    lines = []
    for process_id in process_ids:
        process = get_process(session, process_id)
        status = revalidation_of(process, list_recorded(session, process_id), today)
        breaches = status.breaches_nl if lang == "nl" else status.breaches
        lines += [f"{process.name}: {b}" for b in breaches]
    return lines


def _decisions(session: Session, process_id: int, threshold: float) -> DecisionEvidence:
    rows = session.execute(
        select(
            Decision.decider_role,
            Decision.rationale,
            Decision.follows_score,
            checked_by_draw().label("drawn"),
            Decision.seconds_to_decide,
        )
        .join(Case, Case.id == Decision.case_id)
        .outerjoin(ReferenceDraw, ReferenceDraw.case_id == Case.id)
        .where(Case.process_id == process_id)
    ).all()
    seconds = [r.seconds_to_decide for r in rows]
    return DecisionEvidence(
        decisions=len(rows),
        by_humans=sum(r.decider_role in TEAM_ROLES for r in rows),
        with_rationale=sum(len(r.rationale.strip()) >= 10 for r in rows),
        overrides=sum(not (r.follows_score or r.drawn) for r in rows),
        drawn=sum(r.drawn for r in rows),
        fast=sum(s < threshold for s in seconds),
        rubber_stamp_seconds=threshold,
        median_seconds=statistics.median(seconds) if seconds else None,
    )


def _access(session: Session, process: Process) -> AccessEvidence:
    check = auditlog.verify(session)
    if not check.intact:
        return AccessEvidence(chain_intact=False, chain_problem=check.reason)
    team_ids = {t.id for t in process.teams}
    members = {
        u.name
        for u in session.execute(select(User)).scalars()
        if u.role in TEAM_ROLES and u.team_id in team_ids
    }
    reads = (
        session.execute(
            select(AuditEntry.actor).where(
                AuditEntry.process_id == process.id, AuditEntry.action.in_(PERSONAL_DATA_ACTIONS)
            )
        )
        .scalars()
        .all()
    )
    case_ids = select(Case.id).where(Case.process_id == process.id)
    refused = session.execute(
        select(func.count()).where(
            AuditEntry.action == "access.denied", AuditEntry.case_id.in_(case_ids)
        )
    ).scalar_one()
    cutoff = utcnow() - timedelta(days=process.retention_days)
    expired = session.execute(
        select(func.count(Case.id)).where(Case.process_id == process.id, Case.created_at < cutoff)
    ).scalar_one()
    deleted = session.execute(
        select(func.coalesce(func.sum(RetainedCount.count), 0)).where(
            RetainedCount.process_id == process.id
        )
    ).scalar_one()
    return AccessEvidence(
        personal_data_reads=len(reads),
        outside_process=sum(name not in members for name in reads),
        refused=refused,
        expired_live_cases=expired,
        retention_deleted=int(deleted),
    )


def _notices(session: Session, process_id: int) -> NoticeEvidence:
    decided = (
        select(Decision.case_id)
        .join(Case, Case.id == Decision.case_id)
        .where(Case.process_id == process_id)
    )
    n_decided = session.execute(select(func.count()).select_from(decided.subquery())).scalar_one()
    with_notice = session.execute(
        select(func.count(func.distinct(AuditEntry.case_id))).where(
            AuditEntry.action == "notice.read", AuditEntry.case_id.in_(decided)
        )
    ).scalar_one()
    return NoticeEvidence(decided=n_decided, with_notice=with_notice)


def audit_summaries(audits: Sequence[RecordedAudit]) -> list[dict[str, object]]:
    """The recorded audits as API answers (without the full result)."""
    out = []
    for a in audits:
        evidence = AuditEvidence.of(a.result, a.kind, a.recorded_at)  # type: ignore[arg-type]
        out.append(
            {
                "id": a.id,
                "process_id": a.process_id,
                "kind": a.kind,
                "recorded_by": a.recorded_by,
                "recorded_at": a.recorded_at,
                "justification": a.justification,
                "n": evidence.n,
                "significant": evidence.significant_en,
            }
        )
    return out
