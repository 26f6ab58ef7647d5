"""Data rules: which event records may count, applied before scoring.

Police registrations and similar event records only count within the rules the law
sets: acquittals and dismissals as wrongly suspected never count, and registrations
older than the lookback window (five years for police data) drop out. The rules are
declared in the spec (``data_rules``); this module applies them, derives the predictors
(counts, age at first event) from what remains, and reports how many events each rule
removed, so that an inspector can see the rules were honoured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.instruments.encode import Frame
from waarborg.instruments.spec import Derivation, EventRules

CASE_ID = "case_id"


@dataclass
class RuleReport:
    """How many events came in, what each rule removed, and how many were used.

    Examples
    --------
    >>> RuleReport(10, {"disposition 'acquittal'": 2}, 8).lines()[0]
    '10 events read'
    """

    events_read: int
    removed: dict[str, int] = field(default_factory=dict)
    events_used: int = 0

    def lines(self) -> list[str]:
        """The report as short English lines for a terminal or log."""
        out = [f"{self.events_read} events read"]
        out += [f"{n} removed: {rule}" for rule, n in self.removed.items()]
        out.append(f"{self.events_used} events used")
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "events_read": self.events_read,
            "removed": dict(self.removed),
            "events_used": self.events_used,
        }


def apply_event_rules(
    rules: EventRules, cases: Frame, events: Frame
) -> tuple[dict[str, np.ndarray], RuleReport]:
    """Apply the rules to ``events`` and derive the predictors for every case.

    Returns the derived predictor columns (aligned with the rows of ``cases``) and the
    report of what each rule removed.
    """
    owner = _case_index(cases, events)
    dates = _dates(events, rules.date_field)
    reference = _dates(cases, rules.reference_date_field)[owner]
    keep = np.ones(len(owner), dtype=bool)
    report = RuleReport(events_read=len(owner))

    disposition = events.column(rules.disposition_field).cast(pa.string())
    for excluded in rules.exclude_dispositions:
        hit = keep & np.asarray(pc.equal(disposition, excluded).fill_null(False))
        report.removed[f"disposition '{excluded}' never counts"] = int(hit.sum())
        keep &= ~hit
    late = keep & (dates > reference)
    report.removed["event after the case's reference date"] = int(late.sum())
    keep &= ~late
    if rules.lookback_years is not None:
        old = keep & (dates < years_before(reference, rules.lookback_years))
        report.removed[f"older than {rules.lookback_years:g} years"] = int(old.sum())
        keep &= ~old
    report.events_used = int(keep.sum())

    derived = {
        name: _derive(how, cases, events, owner, dates, keep) for name, how in rules.derive.items()
    }
    return derived, report


def _case_index(cases: Frame, events: Frame) -> np.ndarray:
    """For every event, the row of its case; an event of an unknown case is an error."""
    ids = cases.column(CASE_ID).cast(pa.string())
    index = pc.index_in(events.column(CASE_ID).cast(pa.string()), value_set=ids.combine_chunks())
    owner = index.to_numpy(zero_copy_only=False)
    unknown = np.isnan(owner) if owner.dtype.kind == "f" else np.zeros(len(owner), dtype=bool)
    if unknown.any():
        raise events.fail(unknown, CASE_ID, "event of a case that is not in the case data")
    return np.nan_to_num(owner).astype(np.int64)


def _dates(frame: Frame, name: str) -> np.ndarray:
    """A column as ``datetime64[D]``; an empty or unreadable date is an error."""
    column = frame.column(name)
    try:
        column = column.cast(pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        bad = np.array([_not_date(v) for v in column.to_pylist()])
        raise frame.fail(bad, name, "not a date (use YYYY-MM-DD)") from None
    nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if nulls.any():
        raise frame.fail(nulls, name, "missing date")
    return column.to_numpy().astype("datetime64[D]")


def _not_date(value: object) -> bool:
    try:
        np.datetime64(str(value), "D")
    except ValueError:
        return True
    return False


def years_before(dates: np.ndarray, years: float) -> np.ndarray:
    """The same calendar day ``years`` whole years earlier (29 February → 28 February).

    Examples
    --------
    >>> years_before(np.array(["2024-02-29"], dtype="datetime64[D]"), 5)
    array(['2019-02-28'], dtype='datetime64[D]')
    """
    month = dates.astype("datetime64[M]")
    day = (dates - month.astype("datetime64[D]")).astype(np.int64)
    earlier = month - np.timedelta64(round(12 * years), "M")
    length = ((earlier + 1).astype("datetime64[D]") - earlier.astype("datetime64[D]")).astype(
        np.int64
    )
    return earlier.astype("datetime64[D]") + np.minimum(day, length - 1)


def whole_years_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Age in completed years from ``start`` to ``end`` (both ``datetime64[D]``).

    Examples
    --------
    >>> d = lambda s: np.array([s], dtype="datetime64[D]")
    >>> int(whole_years_between(d("2008-06-15"), d("2024-06-14"))[0])
    15
    """
    years = end.astype("datetime64[Y]").astype(np.int64) - start.astype("datetime64[Y]").astype(
        np.int64
    )
    return years - (_month_day(end) < _month_day(start)).astype(np.int64)


def _month_day(dates: np.ndarray) -> np.ndarray:
    """Month and day as one sortable number: 1 March is 200, 31 December 1130."""
    month = dates.astype("datetime64[M]")
    day = (dates - month.astype("datetime64[D]")).astype(np.int64)
    return (month.astype(np.int64) % 12) * 100 + day


def _derive(
    how: Derivation,
    cases: Frame,
    events: Frame,
    owner: np.ndarray,
    dates: np.ndarray,
    keep: np.ndarray,
) -> np.ndarray:
    n_cases = cases.table.num_rows
    selected = keep.copy()
    for column, value in how.where.items():
        values = events.column(column).cast(pa.string())
        selected &= np.asarray(pc.equal(values, value).fill_null(False))
    if how.kind == "count":
        return np.bincount(owner[selected], minlength=n_cases).astype(np.float64)
    never = np.datetime64("9999-12-31")
    first = np.full(n_cases, never, dtype="datetime64[D]")
    np.minimum.at(first, owner[selected], dates[selected])
    has_event = first < never
    births = _dates(cases, how.birth_date_field)  # type: ignore[arg-type]
    ages = np.full(n_cases, np.nan if how.default is None else how.default)
    ages[has_event] = whole_years_between(births[has_event], first[has_event])
    return ages
