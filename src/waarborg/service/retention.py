"""Retention (principle 5): cases past their process's retention period are deleted for real.

A case expires ``retention_days`` after it was created. :func:`run` deletes, per process
and in one transaction each, the expired cases with their scores, decisions, first
views, draws for the reference sample and outcomes of checks; before deleting it adds
their aggregate counts (team, band, what the band suggested, the outcome, whether it
followed the score: no personal data) to
``retained_counts``, and it logs one ``retention.delete`` entry with the number of cases.
The expired case rows are locked first, so a decision arriving at the same moment either
commits before (and is counted) or fails.

The server runs this on a schedule (``WAARBORG_RETENTION_INTERVAL``); ``waarborg
retention run`` runs it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from waarborg.service import auditlog
from waarborg.service.auditlog import SYSTEM, Actor
from waarborg.service.store import Database
from waarborg.service.store.models import (
    Case,
    CaseView,
    CheckOutcome,
    Decision,
    Process,
    ReferenceDraw,
    RetainedCount,
    utcnow,
)


@dataclass
class RetentionReport:
    """What a retention run deleted: cases per process id, and in all."""

    ran_at: datetime
    per_process: dict[int, int] = field(default_factory=dict)

    @property
    def deleted(self) -> int:
        """Cases deleted in all."""
        return sum(self.per_process.values())


def run(db: Database, now: datetime | None = None, by: Actor = SYSTEM) -> RetentionReport:
    """Delete every case past its retention period (as of ``now``), process by process."""
    report = RetentionReport(ran_at=now or utcnow())
    with db.transaction() as session:
        ids = list(session.execute(select(Process.id).order_by(Process.id)).scalars())
    for process_id in ids:
        with db.transaction() as session:
            deleted = expire(session, process_id, report.ran_at, by)
        if deleted:
            report.per_process[process_id] = deleted
    return report


def expire(session: Session, process_id: int, now: datetime, by: Actor = SYSTEM) -> int:
    """Delete one process's expired cases in ``session``; return how many."""
    process = session.execute(
        select(Process).where(Process.id == process_id).with_for_update()
    ).scalar_one()
    cutoff = now - timedelta(days=process.retention_days)
    expired = select(Case.id).where(Case.process_id == process_id, Case.created_at < cutoff)
    locked = session.execute(expired.with_for_update()).scalars().all()
    if not locked:
        return 0
    decisions = session.execute(select(Decision.id).where(Decision.case_id.in_(expired)))
    gone = [("case", id_) for id_ in locked] + [("decision", id_) for id_ in decisions.scalars()]
    draws = session.execute(select(ReferenceDraw.case_id).where(ReferenceDraw.case_id.in_(expired)))
    checks = session.execute(select(CheckOutcome.id).where(CheckOutcome.case_id.in_(expired)))
    gone += [("draw", id_) for id_ in draws.scalars()] + [("outcome", i) for i in checks.scalars()]
    _keep_counts(session, process_id, expired, now)
    quiet = {"synchronize_session": False}
    session.execute(delete(CaseView).where(CaseView.case_id.in_(expired)), execution_options=quiet)
    session.execute(delete(Decision).where(Decision.case_id.in_(expired)), execution_options=quiet)
    for model in (ReferenceDraw, CheckOutcome):
        session.execute(delete(model).where(model.case_id.in_(expired)), execution_options=quiet)
    session.execute(delete(Case).where(Case.id.in_(expired)), execution_options=quiet)
    detail = {"cases": len(locked), "created_before": cutoff.isoformat(timespec="seconds")}
    auditlog.append(
        session, by, "retention.delete", process_id=process_id, detail=detail, deleted=gone
    )
    return len(locked)


def _keep_counts(session: Session, process_id: int, expired: object, now: datetime) -> None:
    keys = (
        Decision.team,
        Case.band,
        Case.suggests_selection,
        Decision.outcome,
        Decision.follows_score,
    )
    rows = session.execute(
        select(*keys, func.count())
        .select_from(Case)
        .outerjoin(Decision, Decision.case_id == Case.id)
        .where(Case.id.in_(expired))  # type: ignore[arg-type]
        .group_by(*keys)
    ).all()
    for team, band, suggests, outcome, follows, count in rows:
        session.add(
            RetainedCount(
                process_id=process_id,
                deleted_at=now,
                team=team,
                band=band,
                suggests_selection=suggests,
                outcome=outcome,
                follows_score=follows,
                count=count,
            )
        )
