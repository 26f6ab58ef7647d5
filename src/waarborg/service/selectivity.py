"""The selection table of a process, from the case workflow (issue 15).

:func:`selection_table` reads a process's cases into the *selection table* that
:mod:`waarborg.selectivity` analyses: one row per case with ``selected`` (the band
suggested selection), ``reference`` (drawn into the random reference sample),
``outcome`` (the latest recorded outcome of the check; null when none),
``score`` and ``band``, how the case came to be checked (``route``), the seed the case
was drawn under (``seed_id``; null for cases from before the reference sample), the case
id and the pseudonymous ``subject_ref`` (to join group columns the service does not
hold), and the instrument's inputs (usable as group columns). The read is logged.

:func:`process_selectivity` estimates a process's selectivity from it (auditors and
admins): over the cases drawn under the process's current reference share, so that one
sampling design holds for the whole period, with that declared share as the design
(:func:`design_share`, which the command line uses too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from waarborg.errors import DataError
from waarborg.i18n import Message, Number
from waarborg.instruments.engine import Instrument, score_column
from waarborg.service import auditlog
from waarborg.service.auditlog import SYSTEM, Actor
from waarborg.service.auth import actor
from waarborg.service.casework import find_process, instrument, require_role
from waarborg.service.errors import ConflictError, InvalidError
from waarborg.service.store.models import Case, CheckOutcome, Process, ReferenceDraw

if TYPE_CHECKING:
    import polars as pl

    from waarborg.selectivity import SelectivityResult
    from waarborg.service.store import Database
    from waarborg.service.store.models import User

BASE_COLUMNS = ("case_id", "subject_ref", "selected", "reference", "outcome", "score", "band",
                "route", "seed_id")  # fmt: skip
"""The columns every selection table from the service has; the inputs follow."""
MAX_GROUP_VALUES = 50
"""An input with more distinct values than this is no group column (a number, e.g.)."""


def selection_table(
    session_or_db: Session | Database, process: Process | str, *, by: Actor = SYSTEM
) -> pl.DataFrame:
    """The selection table of ``process`` (a process or its name), its read logged as ``by``.

    Parameters
    ----------
    session_or_db
        A session (the read joins its transaction) or a database (a transaction of its own).
    process
        The process, or its name (or id as digits).
    by
        Who reads (the log names them).

    Returns
    -------
    polars.DataFrame
        One row per case of the process, oldest first (see the module docstring).

    Examples
    --------
    >>> from waarborg.service.store import Database
    >>> db = Database("sqlite://"); db.upgrade()  # doctest: +SKIP
    >>> selection_table(db, "controle-uitwonendenbeurs").columns[:4]  # doctest: +SKIP
    ['case_id', 'subject_ref', 'selected', 'reference']
    """
    if isinstance(session_or_db, Session):
        return _read(session_or_db, process, by)
    with session_or_db.transaction() as session:
        return _read(session, process, by)


def _read(session: Session, process: Process | str, by: Actor) -> pl.DataFrame:
    import polars as pl

    if isinstance(process, str):
        process = find_process(session, process)
    inst = instrument(process)
    inputs = [p.name for p in inst.predictors] + [f.name for f in inst.spec.case_fields]
    rows: dict[str, list[Any]] = {name: [] for name in (*BASE_COLUMNS, *inputs)}
    for row in session.execute(_query(process.id)):
        values = {
            "case_id": row.id,
            "subject_ref": row.subject_ref,
            "selected": bool(row.suggests_selection),
            "reference": bool(row.drawn),
            "outcome": row.outcome,
            "score": _score(inst, row.score),
            "band": row.band,
            "route": row.route or ("selection" if row.suggests_selection else "neither"),
            "seed_id": row.seed_id,
        }
        for name in BASE_COLUMNS:
            rows[name].append(values[name])
        for name in inputs:
            rows[name].append(row.inputs.get(name))
    schema = {"case_id": pl.Int64, "subject_ref": pl.String, "selected": pl.Boolean,
              "reference": pl.Boolean, "outcome": pl.Boolean, "score": pl.Float64,
              "band": pl.String, "route": pl.String, "seed_id": pl.Int64}  # fmt: skip
    table = pl.DataFrame({name: rows[name] for name in BASE_COLUMNS}, schema=schema)
    if inputs:
        table = table.hstack(pl.DataFrame({name: rows[name] for name in inputs}, strict=False))
    detail = {"cases": table.height, "reference": int(table["reference"].sum())}
    auditlog.append(session, by, "selectivity.table", process_id=process.id, detail=detail)
    return table


def _query(process_id: int) -> Any:
    """Cases of the process with their draw and their latest recorded outcome."""
    latest = (
        select(CheckOutcome.case_id, func.max(CheckOutcome.id).label("id"))
        .group_by(CheckOutcome.case_id)
        .subquery()
    )
    return (
        select(
            Case.id,
            Case.subject_ref,
            Case.suggests_selection,
            Case.score,
            Case.band,
            Case.inputs,
            ReferenceDraw.drawn,
            ReferenceDraw.route,
            ReferenceDraw.seed_id,
            CheckOutcome.outcome,
        )
        .outerjoin(ReferenceDraw, ReferenceDraw.case_id == Case.id)
        .outerjoin(latest, latest.c.case_id == Case.id)
        .outerjoin(CheckOutcome, CheckOutcome.id == latest.c.id)
        .where(Case.process_id == process_id)
        .order_by(Case.id)
        .execution_options(yield_per=2000)
    )


def _score(inst: Instrument, score: dict[str, Any]) -> float | None:
    """The case's value of the instrument's score column (:func:`score_column`).

    The case's score record holds the scored row's outputs by kind without their
    prefix; a probability the model left empty falls back to the score.
    """
    outputs = {
        f"{prefix}_{name}": value
        for prefix, kind in (("probability", "probabilities"), ("score", "scores"))
        for name, value in score.get(kind, {}).items()
        if value is not None
    }
    return outputs.get(score_column(inst, outputs))


@dataclass(frozen=True)
class Period:
    """A process's current period: its selection table and the share of its design."""

    table: pl.DataFrame
    """The cases drawn under the process's current share (see :func:`selection_table`)."""
    reference_share: float
    """The declared share of :func:`design_share`."""
    source: str
    """The period's name in results and messages: ``process <name>``."""


def current_period(
    db: Database, name: str, *, by: Actor = SYSTEM, reference_share: float | None = None
) -> Period:
    """The cases of process ``name`` drawn under its current share, and that share.

    What ``waarborg selectivity report PROCESS --database-url URL`` reads (logged as
    ``by``); ``reference_share`` is its ``--reference-share``, checked by
    :func:`design_share`. Raises :class:`~waarborg.service.errors.ConflictError` when
    the process draws no reference sample or has no cases since its share was set.
    """
    with db.transaction() as session:
        return _current_period(session, find_process(session, name), by, reference_share)


def design_share(process: Process, given: float | None = None) -> float:
    """The reference share to estimate ``process``'s selectivity with: its declared share.

    The one rule for the command line and the API. The declared share is the design
    probability with which every case was drawn, so the report states it and tests the
    realised share against it, rather than taking the realised share as the design.
    (The Hájek estimates use the realised reference counts either way.)

    Parameters
    ----------
    process
        The process.
    given
        A share the caller states (``--reference-share``): it must be the declared one.

    Raises
    ------
    waarborg.service.errors.ConflictError
        When the process draws no reference sample (share 0), or ``given`` is not its
        declared share.
    """
    share = process.reference_share
    if share <= 0:
        raise ConflictError(
            Message(
                "process '%(name)s' draws no random reference sample (its reference share is "
                "0): without one the prevalence, and so the lift, cannot be estimated",
                name=process.name,
            )
        )
    if given is not None and not math.isclose(given, share, rel_tol=1e-9):
        raise ConflictError(
            Message(
                "process '%(name)s' draws its reference sample with share %(declared)s, not "
                "%(given)s: its declared share is the design of its draw",
                name=process.name,
                declared=Number(share),
                given=Number(given),
            )
        )
    return share


def _current_period(
    session: Session, process: Process, by: Actor, given: float | None = None
) -> Period:
    """The cases of ``process`` drawn under its current share, and its :func:`design_share`."""
    share = design_share(process, given)
    table = selection_table(session, process, by=by)
    table = table.filter(table["seed_id"] == process.reference_seed_id)
    if table.height == 0:
        raise ConflictError(
            Message("process '%(name)s' has no cases since its share was set", name=process.name)
        )
    return Period(table, share, f"process {process.name}")


def join_groups(table: pl.DataFrame, path: Path, on: str, source: str) -> pl.DataFrame:
    """``table`` with the columns of the file ``path`` joined on column ``on``.

    For group columns the service does not hold (e.g. migration background delivered per
    pseudonymous reference by a statistics office). Every row of ``table`` must find
    exactly one row of the file.

    Raises
    ------
    waarborg.errors.DataError
        Naming the file, row and column: ``on`` missing, a key given twice, a case
        without a row, or a column of the file that the table has already.
    """
    import polars as pl

    from waarborg.tables import read_table

    arrow, name = read_table(path)
    if on not in arrow.column_names:
        raise DataError(f"has no column {on!r} to join on", name, column=on)
    if on not in table.columns:
        raise DataError(f"has no column {on!r} (it has: {', '.join(table.columns)})", source)
    extra = pl.from_arrow(arrow)
    assert isinstance(extra, pl.DataFrame)
    clash = sorted((set(extra.columns) - {on}) & set(table.columns))
    if clash:
        raise DataError(f"column {clash[0]!r} is in {source} already", name, column=clash[0])
    extra = extra.with_columns(pl.col(on).cast(pl.String))
    twice = extra.with_row_index("row").filter(pl.col(on).is_duplicated())
    if twice.height:
        first = twice.row(0, named=True)
        raise DataError(f"{on} {first[on]!r} occurs twice", name, row=first["row"] + 1, column=on)
    joined = table.with_columns(pl.col(on).cast(pl.String)).join(extra, on=on, how="left")
    matched = joined[on].is_in(extra[on])
    if not matched.all():
        missing = joined.filter(~matched)
        raise DataError(
            f"{missing.height} of {table.height} cases of {source} have no row here "
            f"(by {on}; the first: {missing[on][0]!r})",
            name,
            column=on,
        )
    return joined


def group_columns(inst: Instrument) -> list[str]:
    """The instrument's categorical and boolean inputs: the default group columns."""
    kinds = ("categorical", "boolean")
    return [p.name for p in inst.predictors if p.type in kinds]


def process_selectivity(
    session: Session,
    user: User,
    name: str,
    groups: list[str] | None = None,
    confidence: float = 0.95,
) -> SelectivityResult:
    """The selectivity of a process, by ``groups`` (default: its categorical inputs).

    For auditors and admins (aggregates only). Over the cases drawn under the process's
    current reference share; 409 while it has none drawn or its share is 0, 422 for a
    group that is not an input or has too many values.
    """
    from waarborg.selectivity import selection_counts, selectivity_report

    require_role(user, ["auditor", "admin"], Message("reading the selectivity of a process"))
    process = find_process(session, name)
    inst = instrument(process)
    groups = list(dict.fromkeys(groups)) if groups else group_columns(inst)
    inputs = [p.name for p in inst.predictors] + [f.name for f in inst.spec.case_fields]
    for group in groups:
        if group not in inputs:
            raise InvalidError(
                Message(
                    "group '%(group)s' is not an input of %(instrument)s (inputs: %(inputs)s)",
                    group=group,
                    instrument=inst.id,
                    inputs=", ".join(inputs),
                ),
                field="group",
            )
    period = _current_period(session, process, actor(user))
    table = _as_groups(period.table, groups)
    try:
        counts = selection_counts(
            table.select("selected", "reference", "outcome", *groups),
            groups,
            source=period.source,
        )
        return selectivity_report(
            counts,
            groups,
            reference_share=period.reference_share,
            confidence=confidence,
        )
    except (DataError, ValueError) as exc:
        raise InvalidError(str(exc)) from None


def _as_groups(table: pl.DataFrame, groups: list[str]) -> pl.DataFrame:
    """Group columns as text, an unknown value as ``unknown``; too many values refused."""
    import polars as pl

    for group in groups:
        values = table[group].n_unique()
        if values > MAX_GROUP_VALUES:
            raise InvalidError(
                Message(
                    "group '%(group)s' has %(values)s values: too many to compare (at most "
                    "%(most)s); choose a categorical input",
                    group=group,
                    values=values,
                    most=MAX_GROUP_VALUES,
                ),
                field="group",
            )
    return table.with_columns(
        pl.col(group).cast(pl.String).fill_null("unknown") for group in groups
    )
