"""Registered processes (purposes) and adding cases to them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status

from waarborg.service import casework, selectivity
from waarborg.service.api.deps import ProcessId, Token, as_user
from waarborg.service.schemas import (
    CaseIn,
    CaseOut,
    ProcessIn,
    ProcessOut,
    ReferenceSeedOut,
    ReferenceShareIn,
)

router = APIRouter(tags=["processes"])


@router.post("/processes", response_model=ProcessOut, status_code=status.HTTP_201_CREATED)
def create_process(request: Request, token: Token, body: ProcessIn) -> ProcessOut:
    """Register a process (admin only): its purpose, instrument, teams and retention period.

    The instrument's spec is stored with the process and pinned by its content hash, so
    every case of the process is scored by exactly the registered version.
    """
    with as_user(request, token) as (session, user):
        return ProcessOut.of(casework.create_process(session, user, body))


@router.get("/processes", response_model=list[ProcessOut])
def list_processes(request: Request, token: Token) -> list[ProcessOut]:
    """Every registered process (what the algorithm register publishes; no personal data)."""
    with as_user(request, token) as (session, _):
        return [ProcessOut.of(p) for p in casework.list_processes(session)]


@router.get("/processes/{process_id}", response_model=ProcessOut)
def get_process(request: Request, token: Token, process_id: ProcessId) -> ProcessOut:
    """One registered process."""
    with as_user(request, token) as (session, _):
        return ProcessOut.of(casework.get_process(session, process_id))


@router.post(
    "/processes/{process_id}/cases", response_model=CaseOut, status_code=status.HTTP_201_CREATED
)
def create_case(request: Request, token: Token, process_id: ProcessId, body: CaseIn) -> CaseOut:
    """Add a case to a process your team works in; it is scored at once.

    The inputs must be exactly the instrument's (nothing else is stored); a value the
    instrument refuses gets 422 naming the input. The response includes the score, and
    counts as your first opening of it.
    """
    with as_user(request, token) as (session, user):
        return CaseOut.of(casework.create_case(session, user, process_id, body))


@router.put("/processes/{process_id}/reference-share", response_model=ProcessOut)
def set_reference_share(
    request: Request, token: Token, process_id: ProcessId, body: ReferenceShareIn
) -> ProcessOut:
    """Set the share of cases drawn at random into the reference sample (admin only).

    A new random seed is recorded with it and the change is logged; cases created from
    now on are drawn under the new share, earlier draws keep theirs.
    """
    with as_user(request, token) as (session, user):
        process = casework.set_reference_share(session, user, process_id, body.reference_share)
        return ProcessOut.of(process)


@router.get("/processes/{process_id}/reference-seeds", response_model=list[ReferenceSeedOut])
def reference_seeds(
    request: Request, token: Token, process_id: ProcessId
) -> list[ReferenceSeedOut]:
    """Every reference share of a process with its seed (auditors and admins).

    With a seed anyone can re-derive each draw made under it: the value of case ``id``
    is the first 8 bytes of HMAC-SHA256(seed, ``"case:<id>"``) as a big-endian integer
    divided by 2^64, and the case is drawn when that is below the share. The seed in use
    is not shown (whoever knew it could tell which future cases will be drawn), only its
    SHA-256; it is revealed once the share is set again, and checked against that hash.
    """
    with as_user(request, token) as (session, user):
        seeds = casework.reference_seeds(session, user, process_id)
        current = casework.get_process(session, process_id).reference_seed_id
        return [ReferenceSeedOut.of(s, current) for s in seeds]


ProcessName = Annotated[
    str, Path(min_length=1, max_length=200, description="The process's name (or id).")
]
GroupName = Annotated[str, Query(min_length=1, max_length=200)]


@router.get("/processes/{name}/selectivity")
def get_selectivity(
    request: Request,
    token: Token,
    name: ProcessName,
    group: Annotated[list[GroupName] | None, Query(max_length=10)] = None,
    confidence: Annotated[float, Query(gt=0.5, lt=1.0)] = 0.95,
) -> dict[str, Any]:
    """The selectivity of a process's selection (auditors and admins; aggregates only).

    From the cases drawn under the process's current random reference share: the
    prevalence of the outcome (from the reference sample), the hit rate among the
    selected, the lift over random selection, recall, each group's share of the
    selected against its share of all cases and of those with the outcome, the checks
    per outcome found, and the outcome (hit-rate) test with Holm's correction. ``group``
    (repeatable) names inputs of the instrument to report by (default: its categorical
    inputs). 409 when the process draws no reference sample or has no cases since its
    share was set; 422 for a group that is not an input or has too many values.
    """
    with as_user(request, token) as (session, user):
        result = selectivity.process_selectivity(session, user, name, group, confidence)
        return result.to_dict()
