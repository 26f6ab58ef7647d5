"""Cases: read one (with its score), the queue, decide, and the notice to the person."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from waarborg.service import casework, notices
from waarborg.service.api.deps import CaseId, Token, as_user
from waarborg.service.schemas import (
    CaseOut,
    DecisionIn,
    DecisionOut,
    OutcomeIn,
    OutcomeOut,
    QueueItem,
    QueueOut,
)

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(request: Request, token: Token, case_id: CaseId) -> CaseOut:
    """A case with its score and decision, for case workers and supervisors of its process.

    Anyone else gets 404, as if there were no such case (the attempt is logged). The
    first time you open a case, that moment is recorded (``opened_at``): the time you
    take to decide is measured from it.
    """
    with as_user(request, token) as (session, user):
        return CaseOut.of(*casework.open_case(session, user, case_id))


@router.get("/queue", response_model=QueueOut)
def get_queue(
    request: Request,
    token: Token,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> QueueOut:
    """Undecided cases of your team's processes, oldest first (without their scores)."""
    with as_user(request, token) as (session, user):
        cases, total = casework.queue(session, user, limit, offset)
        return QueueOut(cases=[QueueItem.of(c) for c in cases], total=total)


@router.post("/cases/{case_id}/decision", response_model=DecisionOut)
def decide(request: Request, token: Token, case_id: CaseId, body: DecisionIn) -> DecisionOut:
    """Decide on a case whose score you opened: outcome, rationale, and whether it follows.

    The score never decides: this records who decided, when they first saw the score,
    which band and spec they saw, the outcome and why. ``follows_score`` must agree with
    the band (422 otherwise); a departure is recorded as such, with its rationale.
    409 when the case is decided already or you have not opened it.
    """
    with as_user(request, token) as (session, user):
        return DecisionOut.model_validate(casework.decide(session, user, case_id, body))


@router.post("/cases/{case_id}/outcome", response_model=OutcomeOut)
def record_outcome(request: Request, token: Token, case_id: CaseId, body: OutcomeIn) -> OutcomeOut:
    """Record the outcome of the case's check (e.g. an irregularity found: true or false).

    For case workers and supervisors of the case's process (404 for anyone else), for
    cases selected by their band and cases drawn into the random reference sample alike
    (and cases decided to be checked); 409 for a case that went to no check. A
    correction is a new outcome that supersedes the previous one; the history stays.
    ``observed_on`` lies between the case's creation and today (422 otherwise).
    """
    with as_user(request, token) as (session, user):
        return OutcomeOut.model_validate(casework.record_outcome(session, user, case_id, body))


@router.get(
    "/cases/{case_id}/notice",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def get_notice(
    request: Request,
    token: Token,
    case_id: CaseId,
    lang: Literal["nl", "en"] = "nl",
    format: Literal["html", "pdf"] = "html",
) -> Response:
    """The notice to the person concerned about the decision, in Dutch or English.

    It says that a risk assessment was used and which (with its register reference),
    the band, the main factors in words, that a person decided (and who, as the
    process allows), how to object and whom to contact. ``format=pdf`` gives a
    print-ready A4 PDF. 409 while the case has no decision.
    """
    with as_user(request, token) as (session, user):
        case, notice = notices.read_notice(session, user, case_id, lang, format)
    return notices.as_response(case, notice, format)
