"""Oversight for supervisors and auditors: override rates, time to decide, the cube."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from waarborg.service import oversight
from waarborg.service.api.deps import MAX_ID, Token, as_user, state
from waarborg.service.schemas import OversightOut

router = APIRouter(tags=["oversight"])
ProcessQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this process (default: all you oversee).")
]


@router.get("/oversight", response_model=OversightOut)
def get_oversight(
    request: Request,
    token: Token,
    process_id: ProcessQuery = None,
    rubber_stamp_seconds: Annotated[
        float | None, Query(ge=0, le=86_400, description="Flag decisions taken faster.")
    ] = None,
) -> OversightOut:
    """Do people really decide? Override rates per case worker, team and band; time from
    first opening the score to deciding, with decisions under the rubber-stamp threshold
    flagged; agreement with the score per week. Supervisors see their team's processes,
    auditors every process. Every rate has its n and a 95% Wilson interval.
    """
    threshold = rubber_stamp_seconds
    if threshold is None:
        threshold = state(request).settings.rubber_stamp_seconds
    with as_user(request, token) as (session, user):
        return oversight.summary(session, user, threshold, process_id)


@router.get(
    "/oversight/cube",
    response_class=Response,
    responses={200: {"content": {"application/vnd.apache.parquet": {}}}},
)
def get_cube(request: Request, token: Token, process_id: ProcessQuery = None) -> Response:
    """Selections and decisions as a waarborg count cube (Parquet), without personal data.

    Groups ``process``, ``team`` and ``suggested`` (what the band suggested), band
    ``band``, selected flag ``selected`` (the person's decision), counts ``count``.
    ``waarborg audit cube.parquet`` reads it directly for the periodic re-test; it
    includes the counts retention kept of deleted cases.
    """
    with as_user(request, token) as (session, user):
        cube = oversight.decision_cube(session, user, process_id)
    headers = {"Content-Disposition": 'attachment; filename="decisions-cube.parquet"'}
    return Response(
        oversight.cube_parquet(cube), media_type="application/vnd.apache.parquet", headers=headers
    )
