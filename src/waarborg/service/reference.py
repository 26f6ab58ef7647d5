"""The random reference sample in the case workflow: seeds, draws, and their re-derivation.

A process declares a reference share (0 by default). Each time the share is set, a new
random seed is recorded (:class:`ReferenceSeed`, bound into the log); the process points
at its current seed. When a case is created the service draws for it, uniformly and
regardless of its score, with :func:`waarborg.selectivity.draws.draw_value` of the seed
and the case's id; the draw (seed, share, value, result) and how the case came to be
checked (:data:`CHECK_ROUTES`) are recorded in :class:`ReferenceDraw`, bound into the
``case.create`` entry with the case. :func:`rederive` lets an auditor check every draw
from the recorded seeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.selectivity.draws import check_share, draw_value, in_reference, new_seed
from waarborg.service.store.models import (
    Case,
    Process,
    ReferenceDraw,
    ReferenceSeed,
    check_route,
    utcnow,
)


def new_seed_record(session: Session, process: Process, share: float, by: str) -> ReferenceSeed:
    """Record a new seed for ``process`` with ``share`` and make it the current one."""
    seed = ReferenceSeed(
        process_id=process.id, share=check_share(share), seed=new_seed(), set_by=by, set_at=utcnow()
    )
    session.add(seed)
    session.flush()
    process.reference_seed_id = seed.id
    session.flush()
    session.refresh(process, ["reference_seed"])
    return seed


def draw(session: Session, case: Case) -> ReferenceDraw | None:
    """Draw ``case`` (flushed, so it has its id) under its process's current seed.

    None when the process has no seed (only possible for a database changed by hand).
    """
    seed = case.process.reference_seed
    if seed is None:
        return None
    value = draw_value(seed.seed, case.id)
    drawn = in_reference(value, seed.share)
    selected = case.suggests_selection
    record = ReferenceDraw(
        case_id=case.id,
        seed_id=seed.id,
        share=seed.share,
        value=value,
        drawn=drawn,
        selected=selected,
        route=check_route(bool(selected), drawn),
    )
    session.add(record)
    case.draw = record
    return record


@dataclass(frozen=True)
class DrawMismatch:
    """A recorded draw that its seed does not reproduce."""

    case_id: int
    recorded: float
    rederived: float
    reason: str


def rederive(session: Session, process_id: int | None = None) -> Iterator[DrawMismatch]:
    """Re-derive every recorded draw from its seed; yield each one that differs.

    A draw differs when its value is not the seed's value for the case, when its result
    is not ``value < share``, or when its share is not the seed's.
    """
    query = (
        select(ReferenceDraw, ReferenceSeed)
        .join(ReferenceSeed, ReferenceSeed.id == ReferenceDraw.seed_id)
        .order_by(ReferenceDraw.case_id)
    )
    if process_id is not None:
        query = query.where(ReferenceSeed.process_id == process_id)
    for record, seed in session.execute(query.execution_options(yield_per=2000)):
        expected = draw_value(seed.seed, record.case_id)
        reason = None
        if record.value != expected:
            reason = "its value is not the seed's"
        elif record.share != seed.share:
            reason = "its share is not the seed's"
        elif record.drawn != in_reference(record.value, record.share):
            reason = "its result does not follow from its value and share"
        if reason is not None:
            yield DrawMismatch(record.case_id, record.value, expected, reason)
