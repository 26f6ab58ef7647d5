"""The core of the service: processes, cases, scores and decisions, bound to their purpose.

Every function takes the database session of the request's one transaction and the user
acting, checks what that user may do, does it, and appends what it did to the audit log.
The JSON API (:mod:`waarborg.service.api`) and server-rendered pages call these same
functions, so the rules live here once:

* **Purpose binding.** A case, its score, its decision and its notice are visible only to
  case workers and supervisors of a team of the case's process; anyone else is told there
  is no such case (404), and the refusal is logged.
* **A human decides.** A score never becomes a decision by itself: a decision needs a
  logged-in case worker or supervisor who opened the score (that moment is recorded, so
  the time to decide is known), an outcome and a rationale. Whether the outcome follows
  the band is stated by the decider and checked against the band.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from waarborg.errors import DataError
from waarborg.i18n import Message, OneOf
from waarborg.instruments.engine import Instrument, list_instruments, load_instrument, score
from waarborg.instruments.spec import parse_spec
from waarborg.service import auditlog
from waarborg.service.auth import actor, team
from waarborg.service.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from waarborg.service.schemas import CaseIn, DecisionIn, ProcessIn
from waarborg.service.store.models import (
    Case,
    CaseView,
    Decision,
    Process,
    ProcessTeam,
    User,
    utcnow,
)
from waarborg.service.words import role_name

TEAM_ROLES = ("caseworker", "supervisor")
"""Roles that work on cases, inside their team's processes."""


def require_role(user: User, roles: Collection[str], doing: str | Message) -> None:
    """Raise :class:`ForbiddenError` unless ``user`` has one of ``roles``.

    ``doing`` says what needs the role (a :class:`~waarborg.i18n.Message` for a page).
    """
    if user.role not in roles:
        raise ForbiddenError(
            Message(
                "%(doing)s needs the role %(roles)s; you are %(role)s",
                doing=doing,
                roles=OneOf([role_name(r) for r in roles]),
                role=role_name(user.role),
            )
        )


def works_in(user: User, process: Process) -> bool:
    """Whether ``user`` is a case worker or supervisor of a team of ``process``."""
    return user.role in TEAM_ROLES and user.team_id in {t.id for t in process.teams}


def team_process_ids(user: User) -> Any:
    """A subquery of the ids of the processes ``user``'s team works in."""
    return select(ProcessTeam.process_id).where(ProcessTeam.team_id == user.team_id)


# --------------------------------------------------------------------------- processes


def create_process(session: Session, user: User, data: ProcessIn) -> Process:
    """Register a process (admin only); the instrument's spec is pinned by content."""
    require_role(user, ["admin"], Message("registering a process"))
    if data.instrument not in list_instruments():
        raise InvalidError(
            Message(
                "unknown instrument '%(id)s' (bundled: %(ids)s)",
                id=data.instrument,
                ids=", ".join(list_instruments()),
            ),
            field="instrument",
        )
    if session.execute(select(Process.id).where(Process.name == data.name)).first():
        raise ConflictError(Message("a process called '%(name)s' exists already", name=data.name))
    inst = load_instrument(data.instrument)
    names = [data.team] if isinstance(data.team, str) else list(dict.fromkeys(data.team))
    if not names:
        raise InvalidError(Message("give at least one team"), field="team")
    fields = data.model_dump(exclude={"instrument", "team"})
    process = Process(
        **fields,
        instrument_id=inst.id,
        instrument_version=inst.version,
        spec_hash=inst.spec_hash,
        spec=inst.spec.model_dump(mode="json", by_alias=True),
        teams=[team(session, name) for name in names],
    )
    session.add(process)
    session.flush()
    detail = {"name": process.name, "instrument": inst.id, "version": inst.version, "teams": names}
    auditlog.append(session, actor(user), "process.create", process_id=process.id, detail=detail)
    return process


def get_process(session: Session, process_id: int) -> Process:
    """A process by id (process metadata is public, as in the algorithm register)."""
    process = session.get(Process, process_id)
    if process is None:
        raise NotFoundError(Message("no process %(id)s", id=process_id))
    return process


def find_process(session: Session, name_or_id: str) -> Process:
    """A process by its name, or by its id written as digits."""
    process = session.execute(
        select(Process).where(Process.name == name_or_id)
    ).scalar_one_or_none()
    if process is None and name_or_id.isdigit():
        process = session.get(Process, int(name_or_id))
    if process is None:
        names = ", ".join(p.name for p in list_processes(session)) or "none"
        raise NotFoundError(f"no process named {name_or_id!r} (registered: {names})")
    return process


def list_processes(session: Session) -> Sequence[Process]:
    """Every registered process."""
    return session.execute(select(Process).order_by(Process.id)).scalars().all()


_instruments: dict[str, Instrument] = {}
_instruments_lock = threading.Lock()


def instrument(process: Process) -> Instrument:
    """The process's instrument, exactly as registered (its spec pinned by hash)."""
    with _instruments_lock:
        found = _instruments.get(process.spec_hash)
        if found is None:
            found = Instrument(parse_spec(process.spec, origin=f"process {process.id}"))
            if found.spec_hash != process.spec_hash:
                raise RuntimeError(f"process {process.id}: stored spec does not match its hash")
            _instruments[process.spec_hash] = found
    return found


# --------------------------------------------------------------------------- cases


def create_case(session: Session, user: User, process_id: int, data: CaseIn) -> Case:
    """Score a new case in a process the user works in.

    Creating a case is not opening it: the time to decide starts when a person first
    opens the case and sees its score (:func:`open_case`), also for its creator.
    """
    process = get_process(session, process_id)
    require_role(user, TEAM_ROLES, Message("adding a case"))
    if not works_in(user, process):
        raise ForbiddenError(Message("your team does not work in process %(id)s", id=process_id))
    _check_subject_ref(data.subject_ref)
    inst = instrument(process)
    result = score_inputs(inst, data.inputs)
    case = Case(
        process=process,
        subject_ref=data.subject_ref,
        inputs=data.inputs,
        score=result,
        band=result["band"],
        suggests_selection=result["suggests_selection"],
        spec_hash=inst.spec_hash,
        created_by=user.id,
        created_at=utcnow(),
    )
    session.add(case)
    session.flush()
    detail = {"band": case.band}
    auditlog.append(
        session,
        actor(user),
        "case.create",
        process_id=process.id,
        case_id=case.id,
        detail=detail,
        records=[case],
    )
    return case


def _check_subject_ref(ref: str) -> None:
    """Refuse what looks like a citizen service number (BSN): the reference is pseudonymous."""
    if len(ref) == 9 and ref.isdigit():
        weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
        if sum(w * int(d) for w, d in zip(weights, ref, strict=True)) % 11 == 0:
            raise InvalidError(
                "subject_ref looks like a citizen service number: use a pseudonymous reference",
                field="subject_ref",
            )


def score_inputs(inst: Instrument, inputs: dict[str, Any]) -> dict[str, Any]:
    """Score one case's inputs; the stored score (band, probabilities, contributions).

    Raises
    ------
    InvalidError
        Naming the input at fault: an input the instrument does not take (only what it
        uses is stored), or the engine's own complaint (missing, wrong type, unknown
        category, out of range).
    """
    allowed = [p.name for p in inst.predictors] + [f.name for f in inst.spec.case_fields]
    unknown = [name for name in inputs if name not in allowed]
    if unknown:
        raise InvalidError(
            f"inputs.{unknown[0]}: not an input of {inst.id} (it takes: {', '.join(allowed)})",
            field=unknown[0],
        )
    try:
        row = score(inst, {k: [v] for k, v in inputs.items()}).to_pylist()[0]
    except DataError as exc:
        where = f"inputs.{exc.column}" if exc.column else "inputs"
        raise InvalidError(f"{where}: {exc.reason}", field=exc.column) from None
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise InvalidError(f"inputs: cannot be read: {exc}") from None
    return _score_record(inst, row)


def _score_record(inst: Instrument, row: dict[str, Any]) -> dict[str, Any]:
    outcome = inst.outcomes[0].name
    selected = inst.spec.bands[outcome].selected_labels
    band = row.get(f"band_{outcome}")
    low, high = row.get(f"band_{outcome}_lowest"), row.get(f"band_{outcome}_highest")

    def pick(prefix: str) -> dict[str, float | None]:
        return {k[len(prefix) :]: _number(v) for k, v in row.items() if k.startswith(prefix)}

    return {
        "instrument_id": inst.id,
        "instrument_version": inst.version,
        "spec_hash": inst.spec_hash,
        "outcome": outcome,
        "band": band,
        "band_range": [low, high] if band is None and low is not None else None,
        "selected_bands": selected,
        "suggests_selection": _suggests(
            band, (low, high), inst.spec.bands[outcome].labels, selected
        ),
        "bands": {o.name: row.get(f"band_{o.name}") for o in inst.outcomes},
        "scores": pick("score_"),
        "probabilities": pick("probability_"),
        "contributions": pick("contribution_"),
    }


def _suggests(
    band: str | None,
    band_range: tuple[str | None, str | None],
    labels: list[str],
    selected: list[str],
) -> bool | None:
    """Whether the band suggests selection; for a range of bands (an unknown input), only
    when every band in it agrees, else None (the decider says whether they follow it)."""
    if band is not None:
        return band in selected
    low, high = band_range
    if low is None or high is None:
        return None
    possible = {label in selected for label in labels[labels.index(low) : labels.index(high) + 1]}
    return possible.pop() if len(possible) == 1 else None


def _number(value: Any) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def readable_case(session: Session, user: User, case_id: int, doing: str) -> Case:
    """The case, if ``user`` works in its process; else :class:`NotFoundError`, logged."""
    case = session.get(Case, case_id)
    if case is None or not works_in(user, case.process):
        raise NotFoundError(
            Message("no case %(id)s", id=case_id),
            audit={"action": "access.denied", "case_id": case_id, "detail": {"doing": doing}},
        )
    return case


def open_case(session: Session, user: User, case_id: int) -> tuple[Case, CaseView]:
    """Read a case with its score; the first opening by this user is recorded."""
    case = readable_case(session, user, case_id, "case.read")
    view = session.get(CaseView, (case.id, user.id))
    if view is None:
        view = _first_view(session, case, user)
    auditlog.append(session, actor(user), "case.read", process_id=case.process_id, case_id=case.id)
    return case, view


def _first_view(session: Session, case: Case, user: User) -> CaseView:
    try:
        with session.begin_nested():
            view = CaseView(case_id=case.id, user_id=user.id, first_opened_at=utcnow())
            session.add(view)
    except IntegrityError:  # the same user opened it at the same moment elsewhere
        view = session.get(CaseView, (case.id, user.id))
        assert view is not None
    return view


def queue(session: Session, user: User, limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
    """Undecided cases of the processes of the user's team, oldest first, and their number."""
    require_role(user, TEAM_ROLES, Message("the queue"))
    undecided = (
        select(Case)
        .outerjoin(Decision, Decision.case_id == Case.id)
        .where(Decision.id.is_(None), Case.process_id.in_(team_process_ids(user)))
    )
    total = session.execute(select(func.count()).select_from(undecided.subquery())).scalar_one()
    page = undecided.order_by(Case.created_at, Case.id).limit(limit).offset(offset)
    cases = list(session.execute(page).unique().scalars())
    detail = {"cases": [c.id for c in cases]}
    auditlog.append(session, actor(user), "queue.read", detail=detail)
    return cases, total


# --------------------------------------------------------------------------- decisions


def decide(session: Session, user: User, case_id: int, data: DecisionIn) -> Decision:
    """Record a person's decision on a case whose score they opened."""
    case = readable_case(session, user, case_id, "decision.create")
    if case.decision is not None:
        raise ConflictError(Message("case %(id)s is decided already", id=case_id))
    view = session.get(CaseView, (case.id, user.id))
    if view is None:
        raise ConflictError(
            Message(
                "open case %(id)s first: a decision records what its decider saw "
                "and when they first saw it",
                id=case_id,
            )
        )
    _check_follows(case, data)
    now = utcnow()
    decision = Decision(
        case_id=case.id,
        user_id=user.id,
        decider_name=user.display_name or user.name,
        decider_role=user.role,
        team=user.team.name if user.team else None,
        outcome=data.outcome,
        rationale=data.rationale,
        follows_score=data.follows_score,
        band_shown=case.band,
        spec_hash_shown=case.spec_hash,
        opened_at=view.first_opened_at,
        decided_at=now,
        seconds_to_decide=max(0.0, (now - view.first_opened_at).total_seconds()),
    )
    try:
        with session.begin_nested():
            session.add(decision)
    except IntegrityError:
        raise ConflictError(Message("case %(id)s is decided already", id=case_id)) from None
    case.decision = decision
    detail = {
        "outcome": data.outcome,
        "follows_score": data.follows_score,
        "band": case.band,
        "seconds": round(decision.seconds_to_decide, 3),
    }
    auditlog.append(
        session,
        actor(user),
        "decision.create",
        process_id=case.process_id,
        case_id=case.id,
        detail=detail,
        records=[decision],
    )
    return decision


def follows_band(suggests_selection: bool | None, outcome: str) -> bool | None:
    """Whether ``outcome`` is what the band suggests.

    Parameters
    ----------
    suggests_selection
        The case's ``suggests_selection``: whether its band is one of the instrument's
        selected bands, or None when the band could not be set.
    outcome
        ``"selected"`` or ``"not_selected"``.

    Returns
    -------
    bool or None
        True when the outcome follows the band, False for a departure, None when the band
        is unknown (then only the decider can say).
    """
    if suggests_selection is None:
        return None
    return (outcome == "selected") == suggests_selection


def _check_follows(case: Case, data: DecisionIn) -> None:
    """``follows_score`` must agree with the band (when the band is known)."""
    follows = follows_band(case.suggests_selection, data.outcome)
    if follows is not None and follows != data.follows_score:
        suggested = "selected" if case.suggests_selection else "not_selected"
        bands = ", ".join(case.score["selected_bands"])
        raise InvalidError(
            Message(
                "follows_score is %(follows)s, but band %(band)s suggests %(suggested)s "
                "(bands that suggest selection: %(bands)s) and the outcome is %(outcome)s",
                follows=str(data.follows_score).lower(),
                band=case.band,
                suggested=suggested,
                bands=bands,
                outcome=data.outcome,
            ),
            field="follows_score",
        )


def decided_case(session: Session, user: User, case_id: int, doing: str) -> Case:
    """A readable case that has a decision (a notice follows a decision)."""
    case = readable_case(session, user, case_id, doing)
    if case.decision is None:
        raise ConflictError(
            Message("case %(id)s has no decision yet: a notice follows a decision", id=case_id)
        )
    return case
