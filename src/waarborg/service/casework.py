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
from waarborg.service import auditlog, reference
from waarborg.service.auth import actor, team
from waarborg.service.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from waarborg.service.schemas import CaseIn, DecisionIn, OutcomeIn, ProcessIn
from waarborg.service.store.models import (
    Case,
    CaseView,
    CheckOutcome,
    Decision,
    Process,
    ProcessTeam,
    ReferenceDraw,
    ReferenceSeed,
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
    fields = data.model_dump(exclude={"instrument", "team", "reference_share"})
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
    seed = reference.new_seed_record(session, process, data.reference_share, user.name)
    detail = {
        "name": process.name,
        "instrument": inst.id,
        "version": inst.version,
        "teams": names,
        "reference_share": seed.share,
        "seed_id": seed.id,
    }
    auditlog.append(
        session,
        actor(user),
        "process.create",
        process_id=process.id,
        detail=detail,
        records=[seed],
    )
    return process


def set_reference_share(session: Session, user: User, process_id: int, share: float) -> Process:
    """Set the share of a process's cases drawn into the random reference sample (admin).

    A new seed is recorded with the new share (bound into the log); cases created from
    now on are drawn under it, earlier draws keep theirs.
    """
    require_role(user, ["admin"], Message("setting the reference share"))
    process = get_process(session, process_id)
    previous = process.reference_share
    seed = reference.new_seed_record(session, process, share, user.name)
    detail = {"reference_share": seed.share, "previous": previous, "seed_id": seed.id}
    auditlog.append(
        session,
        actor(user),
        "process.reference_share",
        process_id=process.id,
        detail=detail,
        records=[seed],
    )
    return process


def reference_seeds(session: Session, user: User, process_id: int) -> Sequence[ReferenceSeed]:
    """Every seed of a process, oldest first (auditors and admins: to re-derive draws)."""
    require_role(user, ["auditor", "admin"], Message("reading the reference seeds"))
    process = get_process(session, process_id)
    seeds = session.execute(
        select(ReferenceSeed)
        .where(ReferenceSeed.process_id == process.id)
        .order_by(ReferenceSeed.id)
    )
    auditlog.append(session, actor(user), "reference.seeds.read", process_id=process.id)
    return seeds.scalars().all()


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
        raise NotFoundError(
            Message(
                "no process named '%(name)s' (registered: %(names)s)", name=name_or_id, names=names
            )
        )
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
    opens the case and sees its score (:func:`open_case`), also for its creator. The
    case is drawn for the process's random reference sample (:func:`reference.draw`).
    """
    return create_cases(session, user, process_id, [data])[0]


def create_cases(
    session: Session, user: User, process_id: int, items: Sequence[CaseIn]
) -> list[Case]:
    """Score new cases in one pass (one case for the API; many for a seed or an import).

    Each case gets the same checks, its own draw and its own ``case.create`` entry
    (binding it and its draw); the inputs are scored together, so every item must give
    the same inputs, and the rows are written in one flush.
    """
    process = get_process(session, process_id)
    require_role(user, TEAM_ROLES, Message("adding a case"))
    if not works_in(user, process):
        raise ForbiddenError(Message("your team does not work in process %(id)s", id=process_id))
    inst = instrument(process)
    for item in items:
        _check_subject_ref(item.subject_ref)
    results = score_many(inst, [item.inputs for item in items])
    now = utcnow()
    cases = [
        Case(
            process=process,
            subject_ref=item.subject_ref,
            inputs=item.inputs,
            score=result,
            band=result["band"],
            suggests_selection=result["suggests_selection"],
            spec_hash=inst.spec_hash,
            created_by=user.id,
            created_at=now,
        )
        for item, result in zip(items, results, strict=True)
    ]
    session.add_all(cases)
    session.flush()  # the ids, which the draws need
    for case in cases:
        _log_case(session, user, case, reference.draw(session, case))
    return cases


def _log_case(session: Session, user: User, case: Case, draw: ReferenceDraw | None) -> None:
    """The ``case.create`` entry: the band and the draw, binding the case and its draw."""
    detail: dict[str, Any] = {"band": case.band}
    if draw is not None:
        detail |= {
            "seed_id": draw.seed_id,
            "share": draw.share,
            "draw": draw.value,
            "drawn": draw.drawn,
            "route": draw.route,
        }
    auditlog.append(
        session,
        actor(user),
        "case.create",
        process_id=case.process_id,
        case_id=case.id,
        detail=detail,
        records=[case] if draw is None else [case, draw],
    )


def _check_subject_ref(ref: str) -> None:
    """Refuse what looks like a citizen service number (BSN): the reference is pseudonymous."""
    if len(ref) == 9 and ref.isdigit():
        weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
        if sum(w * int(d) for w, d in zip(weights, ref, strict=True)) % 11 == 0:
            raise InvalidError(
                "subject_ref looks like a citizen service number: use a pseudonymous reference",
                field="subject_ref",
            )


def score_many(inst: Instrument, many: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score the inputs of many cases in one pass (each giving the same inputs).

    Raises
    ------
    InvalidError
        Naming the input at fault: an input the instrument does not take (only what it
        uses is stored), or the engine's own complaint (missing, wrong type, unknown
        category, out of range); for more than one case the message names the case
        (``cases[3].inputs.age: …``).
    """
    if not many:
        return []
    allowed = [p.name for p in inst.predictors] + [f.name for f in inst.spec.case_fields]
    names = list(many[0])
    for i, inputs in enumerate(many):
        where = f"cases[{i}].inputs" if len(many) > 1 else "inputs"
        unknown = [name for name in inputs if name not in allowed]
        if unknown:
            raise InvalidError(
                f"{where}.{unknown[0]}: not an input of {inst.id} (it takes: {', '.join(allowed)})",
                field=unknown[0],
            )
        if set(inputs) != set(names):
            raise InvalidError(f"{where}: give the same inputs as the first case ({names})")
    try:
        rows = score(inst, {k: [inputs[k] for inputs in many] for k in names}).to_pylist()
    except DataError as exc:
        where = "inputs" if len(many) == 1 or exc.row is None else f"cases[{exc.row - 1}].inputs"
        where = f"{where}.{exc.column}" if exc.column else where
        raise InvalidError(f"{where}: {exc.reason}", field=exc.column) from None
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise InvalidError(f"inputs: cannot be read: {exc}") from None
    return [_score_record(inst, row) for row in rows]


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


# --------------------------------------------------------------------------- outcomes


def checked(case: Case) -> bool:
    """Whether the case went to a check: selected by its band, drawn, or decided so."""
    decided = case.decision is not None and case.decision.outcome == "selected"
    return bool(case.suggests_selection) or case.reference or decided


def record_outcome(session: Session, user: User, case_id: int, data: OutcomeIn) -> CheckOutcome:
    """Record the outcome of a case's check; a later one supersedes (the history stays).

    For case workers and supervisors of the case's process (404 for anyone else), for
    cases selected by their band, drawn into the reference sample, or decided to be
    checked (409 otherwise). ``observed_on`` lies between the case's creation and today.
    """
    case = readable_case(session, user, case_id, "outcome.create")
    if not checked(case):
        raise ConflictError(
            Message(
                "case %(id)s was not selected for a check (band, reference sample or decision): "
                "there is no check whose outcome could be recorded",
                id=case_id,
            )
        )
    today = utcnow().date()
    if not case.created_at.date() <= data.observed_on <= today:
        raise InvalidError(
            Message(
                "observed on %(date)s: give a date from the case's creation (%(created)s) to "
                "today (%(today)s)",
                date=data.observed_on.isoformat(),
                created=case.created_at.date().isoformat(),
                today=today.isoformat(),
            ),
            field="observed_on",
        )
    previous = case.check_outcome
    record = CheckOutcome(
        case_id=case.id,
        outcome=data.outcome,
        observed_on=data.observed_on,
        note=data.note or None,
        user_id=user.id,
        recorded_by=user.display_name or user.name,
        recorded_at=utcnow(),
        supersedes_id=previous.id if previous else None,
    )
    session.add(record)
    session.flush()
    detail = {
        "outcome": data.outcome,
        "observed_on": data.observed_on.isoformat(),
        "supersedes": record.supersedes_id,
        "route": case.draw.route if case.draw else None,
    }
    auditlog.append(
        session,
        actor(user),
        "outcome.create",
        process_id=case.process_id,
        case_id=case.id,
        detail=detail,
        records=[record],
    )
    session.expire(case, ["checks"])
    return record
