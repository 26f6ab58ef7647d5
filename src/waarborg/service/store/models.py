"""The service's tables, as SQLAlchemy 2 declarative models.

Personal data lives in ``cases`` (subject reference, inputs, score), ``case_views`` and
``decisions``; retention deletes those rows for real and keeps ``retained_counts``
(aggregates, no personal data). ``auditlog`` is append-only and hash-chained (triggers
refuse UPDATE and DELETE on it); its ``auditlog_head`` row is locked by every append,
which serialises the chain, and may only move forward to an entry of the log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("caseworker", "supervisor", "auditor", "admin")
"""The four roles; see docs/service.md for what each may do."""

OUTCOMES = ("selected", "not_selected")
"""A decision's outcome: the consequence (a check, an intervention) follows, or not."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and read back timezone-aware (same on every backend)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of every model."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Setting(Base):
    """A key/value setting kept in the database (never a secret: see ``service/keys.py``)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Team(Base):
    """A team of case workers and supervisors; teams belong to registered processes."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class User(Base):
    """A person who logs in; ``role`` is one of :data:`ROLES`.

    ``token_version`` is in every token the user holds; raising it (log out, password,
    role or team changed, deactivated) revokes them all at once. Ids are never reused
    (SQLite ``AUTOINCREMENT``; PostgreSQL sequences never go back), so a token or a log
    entry naming a deleted user's id can never point at a new one.
    """

    __tablename__ = "users"
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    team: Mapped[Team | None] = relationship(lazy="joined")


CHANGE_KINDS = ("create", "reactivate", "role", "team")
"""Changes that give an account access, and so wait for a second admin's approval."""


class AccessChange(Base):
    """A change that gives an account access, pending until another admin approves it.

    ``kind`` is one of :data:`CHANGE_KINDS`; ``role`` and ``team`` are the new ones (for
    ``create``, ``role`` and ``team``). ``status`` is ``pending``, ``approved`` or
    ``rejected``. ``requested_by_id`` is None when the operator asked on the command line.
    """

    __tablename__ = "access_changes"
    __table_args__ = (
        Index("ix_access_changes_status", "status", "requested_at"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column()
    user: Mapped[User] = relationship(lazy="joined")


class ProcessTeam(Base):
    """Which teams work in which process (purpose binding)."""

    __tablename__ = "process_teams"
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)


class Process(Base):
    """A registered process (purpose): one instrument, pinned by its spec, used by its teams."""

    __tablename__ = "processes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    instrument_id: Mapped[str] = mapped_column(String(100))
    instrument_version: Mapped[str] = mapped_column(String(40))
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[str | None] = mapped_column(Text)
    register_ref: Mapped[str | None] = mapped_column(String(500))
    organisation: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(Text)
    objection: Mapped[str | None] = mapped_column(Text)
    decider_disclosure: Mapped[str] = mapped_column(String(10), default="role")
    retention_days: Mapped[int] = mapped_column(Integer)
    retest_interval_days: Mapped[int] = mapped_column(Integer, default=365, server_default="365")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    teams: Mapped[list[Team]] = relationship(
        secondary="process_teams", lazy="selectin", order_by=Team.name
    )
    reference_seed_id: Mapped[int | None] = mapped_column(Integer, default=None)
    reference_seed: Mapped[ReferenceSeed | None] = relationship(
        primaryjoin="foreign(Process.reference_seed_id) == ReferenceSeed.id",
        lazy="selectin",
        viewonly=True,
    )

    @property
    def reference_share(self) -> float:
        """The share of cases drawn into the random reference sample (0: none)."""
        return self.reference_seed.share if self.reference_seed is not None else 0.0


class Case(Base):
    """A person's case in a process: pseudonymous reference, inputs and the score."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_process_created", "process_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    subject_ref: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[dict[str, Any]] = mapped_column(JSON)
    band: Mapped[str | None] = mapped_column(String(100))
    suggests_selection: Mapped[bool | None] = mapped_column(Boolean)
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    process: Mapped[Process] = relationship(lazy="joined")
    decision: Mapped[Decision | None] = relationship(lazy="joined", uselist=False)
    draw: Mapped[ReferenceDraw | None] = relationship(lazy="joined", uselist=False)
    checks: Mapped[list[CheckOutcome]] = relationship(
        lazy="selectin", order_by="CheckOutcome.id", viewonly=True
    )

    @property
    def reference(self) -> bool:
        """Whether the case was drawn into the random reference sample."""
        return self.draw is not None and self.draw.drawn

    @property
    def check_outcome(self) -> CheckOutcome | None:
        """The check's latest recorded outcome (a correction supersedes), or None."""
        return self.checks[-1] if self.checks else None


class CaseView(Base):
    """When a user first opened a case's score (decision time is measured from it)."""

    __tablename__ = "case_views"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    first_opened_at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(Base):
    """A person's decision on a case: who, when, what they saw and why."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("case_id", name="uq_decisions_case"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decider_name: Mapped[str] = mapped_column(String(200))
    decider_role: Mapped[str] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    rationale: Mapped[str] = mapped_column(Text)
    follows_score: Mapped[bool] = mapped_column(Boolean)
    band_shown: Mapped[str | None] = mapped_column(String(100))
    spec_hash_shown: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds_to_decide: Mapped[float] = mapped_column(Float)


class RetainedCount(Base):
    """Aggregate counts of cases deleted by retention (no personal data)."""

    __tablename__ = "retained_counts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    deleted_at: Mapped[datetime] = mapped_column()
    team: Mapped[str | None] = mapped_column(String(200))
    band: Mapped[str | None] = mapped_column(String(100))
    suggests_selection: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(20))
    follows_score: Mapped[bool | None] = mapped_column(Boolean)
    count: Mapped[int] = mapped_column(Integer)


class RecordedAudit(Base):
    """An audit of a process's selections, recorded as evidence for conditions 1 and 2.

    ``result`` is the audit result's JSON (aggregates only, no personal data); a
    significant disparity that remains needs a recorded ``justification``.
    """

    __tablename__ = "recorded_audits"
    __table_args__ = (Index("ix_recorded_audits_process", "process_id", "recorded_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    kind: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    justification: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained log; see :mod:`waarborg.service.auditlog`."""

    __tablename__ = "auditlog"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    process_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    records: Mapped[str | None] = mapped_column(Text, default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head: the last entry's number and hash (one row, locked by every append)."""

    __tablename__ = "auditlog_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


CHECK_ROUTES = ("selection", "reference", "both", "neither")
"""How a case came to be checked: selected by the instrument's band, drawn into the random
reference sample, both, or neither."""


def check_route(selected: bool, drawn: bool) -> str:
    """One of :data:`CHECK_ROUTES` from the two ways into a check.

    Examples
    --------
    >>> check_route(True, False), check_route(False, True), check_route(True, True)
    ('selection', 'reference', 'both')
    """
    if drawn:
        return "both" if selected else "reference"
    return "selection" if selected else "neither"


class ReferenceSeed(Base):
    """A process's random reference share from a moment on, with the seed of its draws.

    Every change of the share records a new seed (64 hex digits); the process points at
    its current one. Draws name the seed they were made with, so each can be re-derived
    (:func:`waarborg.selectivity.draws.draw_value`).
    """

    __tablename__ = "reference_seeds"
    __table_args__ = (
        Index("ix_reference_seeds_process", "process_id", "id"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    share: Mapped[float] = mapped_column(Float)
    seed: Mapped[str] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferenceDraw(Base):
    """How a case came to be checked: the service's draw at creation, and the band's say.

    ``value`` is the draw (uniform on [0, 1), from the seed and the case id); ``drawn``
    is ``value < share``; ``selected`` whether the band suggested selection (None: the
    band was uncertain); ``route`` one of :data:`CHECK_ROUTES`.
    """

    __tablename__ = "reference_draws"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    seed_id: Mapped[int] = mapped_column(ForeignKey("reference_seeds.id"))
    share: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    drawn: Mapped[bool] = mapped_column(Boolean)
    selected: Mapped[bool | None] = mapped_column(Boolean)
    route: Mapped[str] = mapped_column(String(20))


class CheckOutcome(Base):
    """The outcome of a case's check (e.g. an irregularity found), as recorded by a person.

    A correction is a new row that ``supersedes`` the previous one; the latest row counts
    and the history stays.
    """

    __tablename__ = "check_outcomes"
    __table_args__ = (
        Index("ix_check_outcomes_case", "case_id", "id"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    outcome: Mapped[bool] = mapped_column(Boolean)
    observed_on: Mapped[date] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(Integer)
