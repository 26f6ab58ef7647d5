"""The service's request and response models (pydantic), shared by the API and the pages.

Requests are validated here (types, lengths, allowed values); what needs the database
or the instrument (team membership, the band, the inputs an instrument takes) is checked
in :mod:`waarborg.service.casework`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

if TYPE_CHECKING:
    from waarborg.service.store.models import (
        AccessChange,
        Case,
        CaseView,
        Process,
        ReferenceSeed,
        User,
    )

Role = Literal["caseworker", "supervisor", "auditor", "admin"]
Outcome = Literal["selected", "not_selected"]
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
"""No control characters (a NUL byte cannot even be stored in PostgreSQL)."""
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Tabs and line breaks allowed, no other control characters."""
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NAME_PATTERN),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000, pattern=TEXT_PATTERN)
]
InputValue = str | int | float | bool | None
MAX_INPUTS = 200


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------- users


Password = Annotated[
    str,
    Field(
        max_length=200,
        description="At least 12 characters, not a common or easily guessed password, "
        "not containing the user name (checked by the password policy).",
    ),
]
"""A new password (the policy itself is :func:`waarborg.service.auth.hash_password`)."""


class TokenOut(_Out):
    """A bearer token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    must_change_password: bool = Field(
        False, description="True: choose a new password first (POST /api/me/password)."
    )


class UserIn(_In):
    """A new user. Case workers and supervisors belong to a team."""

    name: Name
    password: Password
    role: Role
    team: Name | None = None
    display_name: Name | None = None


class UserOut(_Out):
    """A user, without the password hash."""

    id: int
    name: str
    display_name: str | None
    role: str
    team: str | None
    active: bool
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        """From the stored user."""
        return cls(
            id=user.id,
            name=user.name,
            display_name=user.display_name,
            role=user.role,
            team=user.team.name if user.team else None,
            active=user.active,
            must_change_password=user.must_change_password,
        )


class PasswordChangeIn(_In):
    """Your own new password; the current one proves it is you."""

    current_password: Annotated[str, Field(max_length=1000)]
    new_password: Password


class PasswordResetIn(_In):
    """A one-off password for a user, who must change it at next sign-in."""

    password: Password


class RoleIn(_In):
    """Another role (case workers and supervisors: with a team; else the current one)."""

    role: Role
    team: Name | None = None


class TeamIn(_In):
    """Another team for a case worker or supervisor."""

    team: Name


class AccessChangeOut(_Out):
    """A change that gives an account access: pending until a second admin approves it."""

    id: int
    user_id: int
    user: str = Field(description="The account's user name.")
    kind: Literal["create", "reactivate", "role", "team"]
    role: str | None = Field(description="The role the account gets.")
    team: str | None = Field(description="The team the account gets.")
    status: Literal["pending", "approved", "rejected"]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, change: AccessChange) -> AccessChangeOut:
        """From the stored change."""
        return cls(
            id=change.id,
            user_id=change.user_id,
            user=change.user.name,
            kind=change.kind,  # type: ignore[arg-type]
            role=change.role,
            team=change.team,
            status=change.status,  # type: ignore[arg-type]
            requested_by=change.requested_by,
            requested_at=change.requested_at,
            decided_by=change.decided_by,
            decided_at=change.decided_at,
        )


class AccessChangesOut(_Out):
    """Pending access changes (oldest first) and the 50 most recently decided."""

    pending: list[AccessChangeOut]
    recent: list[AccessChangeOut]


# --------------------------------------------------------------------------- processes


ReferenceShare = Annotated[
    float,
    Field(
        ge=0.0,
        lt=1.0,
        description="Share of all cases drawn at random, regardless of score, into the "
        "reference sample that is checked the same way (e.g. 0.02; 0: none).",
    ),
]


class ProcessIn(_In):
    """A process to register: the purpose an instrument may be used for, and by whom."""

    name: Name
    instrument: Name = Field(description="A bundled instrument id (`waarborg instruments list`).")
    team: Name | list[Name] = Field(description="The team, or teams, that work in the process.")
    purpose: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=5000, pattern=TEXT_PATTERN
        ),
    ]
    retention_days: Annotated[int, Field(ge=1, le=36500)] = Field(
        description="Days after which a case, its score and its decision are deleted."
    )
    lawful_basis: Text | None = None
    register_ref: Text | None = Field(
        None, description="Reference in the algorithm register, quoted in notices."
    )
    organisation: Name | None = None
    contact: Text | None = Field(None, description="Whom the person concerned can contact.")
    objection: Text | None = Field(None, description="How the person concerned can object.")
    decider_disclosure: Literal["role", "name"] = Field(
        "role", description="Whether notices name the decider or only their role."
    )
    retest_interval_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        365, description="Days within which a new discrimination test must follow the last."
    )
    reference_share: ReferenceShare = 0.0


class ProcessOut(_Out):
    """A registered process; the instrument is pinned by its spec hash."""

    id: int
    name: str
    instrument_id: str
    instrument_version: str
    spec_hash: str
    teams: list[str]
    purpose: str
    retention_days: int
    lawful_basis: str | None
    register_ref: str | None
    organisation: str | None
    contact: str | None
    objection: str | None
    decider_disclosure: str
    retest_interval_days: int
    reference_share: float = Field(description="Share of cases drawn into the reference sample.")
    created_at: datetime

    @classmethod
    def of(cls, process: Process) -> ProcessOut:
        """From the stored process."""
        fields = {name: getattr(process, name) for name in cls.model_fields if name != "teams"}
        return cls(**fields, teams=[t.name for t in process.teams])


class ReferenceShareIn(_In):
    """A new reference share; a new seed is recorded with it."""

    reference_share: ReferenceShare


class ReferenceSeedOut(_Out):
    """A reference share and its seed, from when it was set (to re-derive the draws)."""

    id: int
    process_id: int
    share: float
    seed: str | None = Field(
        description="64 hex digits: the HMAC key of the draws; null while the seed is "
        "in use (whoever knew it could tell which future cases will be drawn)."
    )
    seed_sha256: str = Field(
        description="SHA-256 of the seed's bytes: published while it is in use, so the "
        "seed revealed once it is replaced can be checked against it."
    )
    set_by: str
    set_at: datetime

    @classmethod
    def of(cls, seed: ReferenceSeed, current_id: int | None) -> ReferenceSeedOut:
        """The seed as an auditor may see it: revealed only once it is no longer in use."""
        return cls(
            id=seed.id,
            process_id=seed.process_id,
            share=seed.share,
            seed=None if seed.id == current_id else seed.seed,
            seed_sha256=hashlib.sha256(bytes.fromhex(seed.seed)).hexdigest(),
            set_by=seed.set_by,
            set_at=seed.set_at,
        )


# --------------------------------------------------------------------------- audits


class AuditIn(_In):
    """An audit of the process's selections, recorded as evidence (conditions 1 and 2)."""

    kind: Literal["pre_deployment", "periodic"] = Field(
        description="`pre_deployment`: before the process went live; `periodic`: a re-test."
    )
    result: dict[str, Any] = Field(
        description="The audit result's JSON, as `waarborg audit --json` writes it "
        "(aggregates only: no personal data)."
    )
    justification: Text | None = Field(
        None, description="Why a significant disparity that remains is justified."
    )


class AuditOut(_Out):
    """A recorded audit, without the full result."""

    id: int
    process_id: int
    kind: str
    recorded_by: str
    recorded_at: datetime
    justification: str | None
    n: int | None
    significant: list[str] = Field(description="The significant findings, in English.")


# --------------------------------------------------------------------------- cases


class CaseIn(_In):
    """A case to score: a pseudonymous subject reference and the instrument's inputs."""

    subject_ref: Name = Field(
        description="A pseudonymous reference to the person (not a citizen service number)."
    )
    inputs: dict[Annotated[str, StringConstraints(max_length=200)], InputValue] = Field(
        max_length=MAX_INPUTS, description="One value per instrument predictor (and case field)."
    )


class ScoreOut(_Out):
    """What the instrument said: band, probabilities and each factor's contribution."""

    instrument_id: str
    instrument_version: str
    spec_hash: str
    outcome: str = Field(description="The primary outcome, whose band is shown.")
    band: str | None
    band_range: list[str] | None = Field(
        None, description="Lowest and highest band when an input is unknown (range policy)."
    )
    selected_bands: list[str] = Field(description="Bands that suggest selection.")
    suggests_selection: bool | None
    bands: dict[str, str | None]
    scores: dict[str, float | None]
    probabilities: dict[str, float | None]
    contributions: dict[str, float | None]


class DecisionIn(_In):
    """A person's decision: outcome, rationale, and whether it follows the score's band."""

    outcome: Outcome = Field(
        description="`selected`: the consequence (check, intervention) follows; "
        "`not_selected`: it does not."
    )
    rationale: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=10, max_length=5000, pattern=TEXT_PATTERN
        ),
    ] = Field(description="Why: in the decider's words (at least 10 characters).")
    follows_score: bool = Field(
        description="True when the outcome is what the band suggests; false: a departure, "
        "which the rationale explains."
    )


class DecisionOut(_Out):
    """A recorded decision: who, when, what they saw and why."""

    id: int
    outcome: str
    rationale: str
    follows_score: bool
    band_shown: str | None
    spec_hash_shown: str
    decider_name: str
    decider_role: str
    team: str | None
    opened_at: datetime = Field(description="When the decider first opened the score.")
    decided_at: datetime
    seconds_to_decide: float


class DrawOut(_Out):
    """How the case came to be checked: the service's draw and the band's say."""

    seed_id: int
    share: float = Field(description="The reference share when the case was drawn.")
    value: float = Field(description="The draw, uniform on [0, 1): drawn when below the share.")
    drawn: bool = Field(description="Drawn at random into the reference sample.")
    selected: bool | None = Field(description="The band suggested selection (null: uncertain).")
    route: Literal["selection", "reference", "both", "neither"]


class OutcomeIn(_In):
    """The outcome of a case's check."""

    outcome: bool = Field(description="True: the check found what it looks for (e.g. an "
                          "irregularity); false: it did not.")  # fmt: skip
    observed_on: date = Field(description="The day the outcome was established (YYYY-MM-DD).")
    note: Text | None = None


class OutcomeOut(_Out):
    """A recorded outcome of a check; ``supersedes`` the one it corrects."""

    id: int
    case_id: int
    outcome: bool
    observed_on: date
    note: str | None
    recorded_by: str
    recorded_at: datetime
    supersedes_id: int | None


class CaseOut(_Out):
    """A case with its score and its decision (null until decided)."""

    id: int
    process_id: int
    process: str
    subject_ref: str
    inputs: dict[str, InputValue]
    created_at: datetime
    score: ScoreOut
    decision: DecisionOut | None
    opened_at: datetime | None = Field(None, description="When you first opened this score.")
    draw: DrawOut | None = Field(
        None, description="The draw for the random reference sample (null: made before it)."
    )
    outcomes: list[OutcomeOut] = Field(
        default_factory=list, description="Recorded outcomes of the check, oldest first."
    )

    @classmethod
    def of(cls, case: Case, view: CaseView | None = None) -> CaseOut:
        """From the stored case (and the reader's first view of it)."""
        decision = case.decision
        return cls(
            id=case.id,
            process_id=case.process_id,
            process=case.process.name,
            subject_ref=case.subject_ref,
            inputs=case.inputs,
            created_at=case.created_at,
            score=ScoreOut(**case.score),
            decision=DecisionOut.model_validate(decision) if decision else None,
            opened_at=view.first_opened_at if view else None,
            draw=DrawOut.model_validate(case.draw) if case.draw else None,
            outcomes=[OutcomeOut.model_validate(o) for o in case.checks],
        )


class QueueItem(_Out):
    """An undecided case (no score: opening the case shows it, and that is recorded)."""

    id: int
    process_id: int
    process: str
    subject_ref: str
    created_at: datetime

    @classmethod
    def of(cls, case: Case) -> QueueItem:
        """From the stored case."""
        return cls(
            id=case.id,
            process_id=case.process_id,
            process=case.process.name,
            subject_ref=case.subject_ref,
            created_at=case.created_at,
        )


class QueueOut(_Out):
    """Undecided cases of the user's team's processes, oldest first."""

    cases: list[QueueItem]
    total: int


# --------------------------------------------------------------------------- log


class AuditEntryOut(_Out):
    """One entry of the hash-chained log."""

    seq: int
    at: str
    actor: str
    role: str
    action: str
    process_id: int | None
    case_id: int | None
    detail: str = Field(description="Canonical JSON text, as hashed.")
    records: str | None = Field(
        None, description="Bound records as canonical JSON [[kind, id, hash], ...], as hashed."
    )
    prev_hash: str
    hash: str


class AuditLogOut(_Out):
    """A page of the log (entries after ``after``, oldest first) and the chain head."""

    entries: list[AuditEntryOut]
    head_seq: int
    head_hash: str


class RecordProblemOut(_Out):
    """A case, decision or user that does not match the log."""

    kind: str = Field(description="case, decision or user.")
    id: int
    seq: int | None = Field(description="The entry that last bound the record, if any.")
    reason: str


class VerificationOut(_Out):
    """The result of verifying the chain, its witness and (in full) the bound records."""

    intact: bool
    entries: int
    first_bad: int | None = Field(description="Number of the first bad entry.")
    reason: str | None
    head_seq: int
    head_hash: str
    hashed: int = Field(description="Entries whose hash this verification recomputed.")
    witnessed_seq: int | None = Field(description="Last entry the witness vouches for.")
    unwitnessed: int = Field(description="Entries after it (committed, not yet witnessed).")
    records_checked: int | None = Field(description="Records re-hashed (null: not checked).")
    record_problems: list[RecordProblemOut]


# --------------------------------------------------------------------------- oversight


class RateOut(_Out):
    """A proportion with its n and its 95% Wilson interval (null when n is 0)."""

    count: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


DRAWN = (
    "Decisions whose check came from the random draw: a case drawn for the reference "
    "sample, which its band did not select, selected. Not departures from the score."
)
OVERRIDES = "Decisions that depart from the band, among those it guided (all but drawn)."


class GroupOut(_Out):
    """Decisions of one case worker, team or band."""

    key: str = Field(description="The case worker's user name, the team or the band.")
    decisions: int
    drawn: int = Field(description=DRAWN)
    overrides: RateOut = Field(description=OVERRIDES)
    fast: RateOut = Field(description="Decisions taken under the rubber-stamp threshold.")
    median_seconds: float | None = Field(description="Median time from opening to deciding.")


class TrendOut(_Out):
    """Agreement with the score in one ISO week."""

    week: str
    decisions: int
    agreement: RateOut = Field(
        description="Decisions that follow the band, among those it guided (see drawn)."
    )


class FlaggedOut(_Out):
    """A decision taken very soon after its score was first opened."""

    decision_id: int
    case_id: int
    decider: str
    team: str | None
    seconds_to_decide: float
    decided_at: datetime


class OversightOut(_Out):
    """Whether people really decide: overrides, time to decide, agreement over time.

    Supervisors see their team's processes; auditors every process. No personal data
    of the people concerned: case ids are internal keys.
    """

    processes: list[int]
    cases: int
    decided: int
    undecided: int
    drawn: int = Field(description=DRAWN)
    rubber_stamp_seconds: float
    overrides: RateOut = Field(description=OVERRIDES)
    fast: RateOut
    median_seconds: float | None
    by_caseworker: list[GroupOut]
    by_team: list[GroupOut]
    by_band: list[GroupOut]
    trend: list[TrendOut]
    flagged: list[FlaggedOut] = Field(description="The most recent fast decisions (at most 100).")
    deleted_by_retention: int = Field(description="Cases deleted at the end of their retention.")
