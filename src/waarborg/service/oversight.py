"""Oversight (conditions 2 and 3): do people really decide, and the cube for re-testing.

:func:`summary` gives supervisors (their team's processes) and auditors (every process)
the override rate per case worker, team and band, the time from first opening a score
to deciding (decisions under the rubber-stamp threshold are flagged: a signal that the
score is being signed off rather than weighed), and agreement with the score per week.
Every rate carries its n and a 95% Wilson interval.

A case drawn for the random reference sample whose band did not suggest selection is
checked because of the draw, not against the score: selecting it is no human override.
Such decisions (:func:`checked_by_draw`) are counted apart (``drawn``) and left out of
the override rate and the agreement with the score.

:func:`decision_cube` exports selections and decisions as a waarborg count cube, without
personal data, which ``waarborg audit`` reads directly for the periodic re-test. The
counts come from a ``GROUP BY`` in the database, plus the aggregate counts that retention
kept of deleted cases, so the cube covers the whole period.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from waarborg.audit import build_cube
from waarborg.audit.cube import Cube
from waarborg.audit.stats import wilson_interval
from waarborg.i18n import Message
from waarborg.service import auditlog
from waarborg.service.auth import actor
from waarborg.service.casework import instrument, require_role, team_process_ids
from waarborg.service.errors import ForbiddenError, InvalidError, NotFoundError
from waarborg.service.schemas import FlaggedOut, GroupOut, OversightOut, RateOut, TrendOut
from waarborg.service.store.models import (
    Case,
    Decision,
    Process,
    ReferenceDraw,
    RetainedCount,
    User,
)

OVERSIGHT_ROLES = ("supervisor", "auditor")
UNKNOWN_BAND = "unknown"
MAX_FLAGGED = 100
CUBE_GROUPS = ["process", "team", "suggested"]


def scope(session: Session, user: User, process_id: int | None = None) -> list[int]:
    """The process ids ``user`` oversees (optionally just ``process_id``)."""
    require_role(user, OVERSIGHT_ROLES, Message("oversight"))
    query = select(Process.id).order_by(Process.id)
    if user.role == "supervisor":
        query = query.where(Process.id.in_(team_process_ids(user)))
    ids = list(session.execute(query).scalars())
    if process_id is None:
        return ids
    if process_id not in ids:
        if session.get(Process, process_id) is None:
            raise NotFoundError(Message("no process %(id)s", id=process_id))
        raise ForbiddenError(Message("process %(id)s is not one of your team's", id=process_id))
    return [process_id]


def rate(count: int, n: int) -> RateOut:
    """A proportion with its Wilson interval.

    Examples
    --------
    >>> rate(3, 10).ci_low
    0.1078
    """
    if n == 0:
        return RateOut(count=0, n=0, rate=None, ci_low=None, ci_high=None)
    low, high = wilson_interval(count, n)
    return RateOut(
        count=count,
        n=n,
        rate=round(count / n, 4),
        ci_low=round(float(low), 4),
        ci_high=round(float(high), 4),
    )


_COLUMNS = {
    "decision_id": pl.Int64,
    "case_id": pl.Int64,
    "decider": pl.String,
    "team": pl.String,
    "band": pl.String,
    "follows": pl.Boolean,
    "drawn": pl.Boolean,
    "seconds": pl.Float64,
    "decided_at": pl.Datetime("us", "UTC"),
}


def checked_by_draw() -> ColumnElement[bool]:
    """Whether a decision's check came from the random draw (SQL; never null).

    True when the case was drawn for the reference sample, its band did not suggest
    selection (route ``reference``) and it was selected: the check the draw asked for,
    neither following nor departing from the score. A query outer-joins
    :class:`~waarborg.service.store.models.ReferenceDraw` on the decision's case.
    """
    route = func.coalesce(ReferenceDraw.route, "neither")
    return and_(route == "reference", Decision.outcome == "selected")


def _decisions(session: Session, processes: Sequence[int]) -> pl.DataFrame:
    rows = session.execute(
        select(
            Decision.id,
            Decision.case_id,
            User.name,
            Decision.team,
            Decision.band_shown,
            Decision.follows_score,
            checked_by_draw(),
            Decision.seconds_to_decide,
            Decision.decided_at,
        )
        .join(Case, Case.id == Decision.case_id)
        .join(User, User.id == Decision.user_id)
        .outerjoin(ReferenceDraw, ReferenceDraw.case_id == Case.id)
        .where(Case.process_id.in_(processes))
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=_COLUMNS, orient="row")


_BY_SCORE = ~pl.col("drawn")
"""Decisions the score guided: all but the checks that came from the draw."""
_SCORE_COUNTS = {
    "overrides": (~pl.col("follows") & _BY_SCORE).sum(),
    "agrees": (pl.col("follows") & _BY_SCORE).sum(),
    "by_score": _BY_SCORE.sum(),
    "drawn": pl.col("drawn").sum(),
}
"""Per group of decisions: departures from and agreement with the score, among those it
guided, and the checks that came from the draw (one rule for every table)."""


def _groups(frame: pl.DataFrame, key: str, threshold: float) -> list[GroupOut]:
    table = (
        frame.with_columns(pl.col(key).fill_null(UNKNOWN_BAND if key == "band" else "none"))
        .group_by(key)
        .agg(
            n=pl.len(),
            **_SCORE_COUNTS,
            fast=(pl.col("seconds") < threshold).sum(),
            median=pl.col("seconds").median(),
        )
        .sort(key)
    )
    return [
        GroupOut(
            key=str(row[key]),
            decisions=row["n"],
            drawn=row["drawn"],
            overrides=rate(row["overrides"], row["by_score"]),
            fast=rate(row["fast"], row["n"]),
            median_seconds=_round(row["median"]),
        )
        for row in table.iter_rows(named=True)
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _trend(frame: pl.DataFrame) -> list[TrendOut]:
    table = (
        frame.with_columns(week=pl.col("decided_at").dt.strftime("%G-W%V"))
        .group_by("week")
        .agg(n=pl.len(), **_SCORE_COUNTS)
        .sort("week")
    )
    return [
        TrendOut(
            week=row["week"], decisions=row["n"], agreement=rate(row["agrees"], row["by_score"])
        )
        for row in table.iter_rows(named=True)
    ]


def _flagged(frame: pl.DataFrame, threshold: float) -> list[FlaggedOut]:
    fast = frame.filter(pl.col("seconds") < threshold).sort("decided_at", descending=True)
    return [
        FlaggedOut(
            decision_id=row["decision_id"],
            case_id=row["case_id"],
            decider=row["decider"],
            team=row["team"],
            seconds_to_decide=round(row["seconds"], 3),
            decided_at=row["decided_at"],
        )
        for row in fast.head(MAX_FLAGGED).iter_rows(named=True)
    ]


def summary(
    session: Session, user: User, threshold: float, process_id: int | None = None
) -> OversightOut:
    """Override rates, time to decide and agreement trend over the processes ``user`` oversees."""
    processes = scope(session, user, process_id)
    frame = _decisions(session, processes)
    cases = session.execute(
        select(func.count(Case.id)).where(Case.process_id.in_(processes))
    ).scalar_one()
    deleted = session.execute(
        select(func.coalesce(func.sum(RetainedCount.count), 0)).where(
            RetainedCount.process_id.in_(processes)
        )
    ).scalar_one()
    n = frame.height
    median = frame["seconds"].median() if n else None
    totals = frame.select(**_SCORE_COUNTS).row(0, named=True)
    result = OversightOut(
        processes=processes,
        cases=cases,
        decided=n,
        undecided=cases - n,
        drawn=totals["drawn"],
        rubber_stamp_seconds=threshold,
        overrides=rate(totals["overrides"], totals["by_score"]),
        fast=rate(int((frame["seconds"] < threshold).sum()), n),
        median_seconds=_round(median),  # type: ignore[arg-type]
        by_caseworker=_groups(frame, "decider", threshold),
        by_team=_groups(frame, "team", threshold),
        by_band=_groups(frame, "band", threshold),
        trend=_trend(frame),
        flagged=_flagged(frame, threshold),
        deleted_by_retention=int(deleted),
    )
    auditlog.append(session, actor(user), "oversight.read", detail={"processes": processes})
    return result


# --------------------------------------------------------------------------- the cube


def decision_cube(session: Session, user: User, process_id: int | None = None) -> Cube:
    """Decided cases as a count cube: process, team, suggested (groups), band, selected.

    ``suggested`` is what the band suggested (``selected``/``not_selected``), ``selected``
    is 1 when the person's decision selected the case. Undecided cases are not in it:
    nothing has been selected yet. No personal data: only counts per cell.
    """
    processes = scope(session, user, process_id)
    counts = _live_counts(session, processes) + _retained_counts(session, processes)
    if not counts:
        raise NotFoundError(Message("no decided cases to export in the processes you oversee"))
    table = pa.table(
        {
            "process": [c[0] for c in counts],
            "team": [c[1] or "none" for c in counts],
            "suggested": [_suggested(c[3]) for c in counts],
            "band": [c[2] or UNKNOWN_BAND for c in counts],
            "selected": np.array([c[4] == "selected" for c in counts], dtype=np.int8),
            "count": np.array([c[5] for c in counts], dtype=np.int64),
        }
    )
    cube = build_cube(
        table,
        group=CUBE_GROUPS,
        band="band",
        selected="selected",
        count="count",
        band_order=_band_order(session, processes, table),
    )
    auditlog.append(session, actor(user), "oversight.cube", detail={"processes": processes})
    return cube


def cube_parquet(cube: Cube) -> bytes:
    """A cube as the bytes of a Parquet file (what ``waarborg audit`` reads)."""
    buffer = io.BytesIO()
    pq.write_table(cube.to_arrow(), buffer)
    return buffer.getvalue()


def _suggested(value: bool | None) -> str:
    return "unknown" if value is None else ("selected" if value else "not_selected")


def _live_counts(session: Session, processes: Sequence[int]) -> list[tuple[Any, ...]]:
    keys = (Process.name, Decision.team, Case.band, Case.suggests_selection, Decision.outcome)
    query = (
        select(*keys, func.count())
        .select_from(Decision)
        .join(Case, Case.id == Decision.case_id)
        .join(Process, Process.id == Case.process_id)
        .where(Case.process_id.in_(processes))
        .group_by(*keys)
    )
    return [tuple(r) for r in session.execute(query)]


def _retained_counts(session: Session, processes: Sequence[int]) -> list[tuple[Any, ...]]:
    keys = (
        Process.name,
        RetainedCount.team,
        RetainedCount.band,
        RetainedCount.suggests_selection,
        RetainedCount.outcome,
    )
    query = (
        select(*keys, func.sum(RetainedCount.count))
        .join(Process, Process.id == RetainedCount.process_id)
        .where(RetainedCount.process_id.in_(processes), RetainedCount.outcome.is_not(None))
        .group_by(*keys)
    )
    return [tuple(r) for r in session.execute(query)]


def _band_order(session: Session, processes: Sequence[int], table: pa.Table) -> list[str]:
    """The instrument's band labels, low to high; one set for all exported processes."""
    orders = {
        tuple(instrument(p).spec.bands[instrument(p).outcomes[0].name].labels)
        for p in session.execute(select(Process).where(Process.id.in_(processes))).scalars()
    }
    if len(orders) > 1:
        raise InvalidError(
            "these processes use instruments with different bands: export one process "
            "at a time (process_id)",
            field="process_id",
        )
    order = list(orders.pop())
    if UNKNOWN_BAND in table.column("band").to_pylist():
        order.append(UNKNOWN_BAND)
    return order
