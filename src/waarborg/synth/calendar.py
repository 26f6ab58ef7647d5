"""Fast vectorised calendar arithmetic for the synthetic populations.

numpy's conversions between ``datetime64[D]``, ``[M]`` and ``[Y]`` and int64 integer
division each cost several nanoseconds per element, and the populations need many per
row. Dates are therefore handled as day numbers (days since 1970-01-01, as in Arrow's
``date32``) and split into year, month and day, or assembled from them, by lookups in
tables built once for the years :data:`FIRST_YEAR` to :data:`LAST_YEAR`.

Ages and anniversaries follow :mod:`waarborg.instruments.rules`: a person has completed
``k`` years on the first day whose (month, day) is not before the birthday's in the year
``birth + k`` — so a 29 February birthday is reached on 1 March in other years — and
"``k`` years before" a 29 February is 28 February.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_YEAR, LAST_YEAR = 1900, 2099
"""The years the lookup tables cover."""

_FIRST_DAY = int(np.datetime64(f"{FIRST_YEAR}-01-01", "D").astype(np.int64))
_DAYS = np.arange(
    np.datetime64(f"{FIRST_YEAR}-01-01"), np.datetime64(f"{LAST_YEAR + 1}-01-01"), dtype="M8[D]"
)
_YEAR = (_DAYS.astype("M8[Y]").astype(np.int64) + 1970).astype(np.int16)
_MONTH = (_DAYS.astype("M8[M]").astype(np.int64) % 12 + 1).astype(np.int8)
_DAY = ((_DAYS - _DAYS.astype("M8[M]").astype("M8[D]")).astype(np.int64) + 1).astype(np.int8)
_MONTH_START = (
    np.arange(
        np.datetime64(f"{FIRST_YEAR}-01"), np.datetime64(f"{LAST_YEAR + 1}-02"), dtype="M8[M]"
    )
    .astype("M8[D]")
    .astype(np.int64)
)
"""Day number of the first of every month, and of the month after the last."""


@dataclass(frozen=True)
class Dates:
    """Dates as day numbers with their year, month (1-12) and day (1-31)."""

    days: np.ndarray

    @classmethod
    def of(cls, year: np.ndarray, month: np.ndarray, day: np.ndarray) -> Dates:
        """The dates with these calendar parts (the day must exist in its month)."""
        return cls(_month_index_start(year, month) + day - 1)

    @property
    def _index(self) -> np.ndarray:
        return self.days - _FIRST_DAY

    @property
    def year(self) -> np.ndarray:
        """The year."""
        return _YEAR[self._index].astype(np.int64)

    @property
    def month(self) -> np.ndarray:
        """The month, 1 to 12."""
        return _MONTH[self._index].astype(np.int64)

    @property
    def day(self) -> np.ndarray:
        """The day of the month."""
        return _DAY[self._index].astype(np.int64)

    def datetime64(self) -> np.ndarray:
        """As ``datetime64[D]``."""
        return self.days.astype(np.int64).view("datetime64[D]")

    def years_earlier(self, years: np.ndarray | int) -> Dates:
        """The same calendar day ``years`` earlier (29 February → 28 February).

        Examples
        --------
        >>> d = Dates(np.array([19782]))  # 2024-02-29
        >>> d.years_earlier(5).datetime64().astype(str).tolist()
        ['2019-02-28']
        """
        year, month = self.year - years, self.month
        return Dates.of(year, month, np.minimum(self.day, month_length(year, month)))

    def anniversary(self, years: np.ndarray | int) -> Dates:
        """The day a person born on these dates completes ``years`` years.

        Examples
        --------
        >>> d = Dates(np.array([13938]))  # 2008-02-29
        >>> d.anniversary(1).datetime64().astype(str).tolist()
        ['2009-03-01']
        """
        year, month, day = self.year + years, self.month, self.day
        start = _month_index_start(year, month)
        return Dates(np.minimum(start + day - 1, start + month_length(year, month)))


def _month_index_start(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    return _MONTH_START[(year - FIRST_YEAR) * 12 + month - 1]


def month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """The number of days in each month."""
    index = (year - FIRST_YEAR) * 12 + month - 1
    return _MONTH_START[index + 1] - _MONTH_START[index]


def year_start(year: np.ndarray) -> np.ndarray:
    """Day number of 1 January of each year."""
    return _MONTH_START[(year - FIRST_YEAR) * 12]


def completed_years(birth: Dates, on: Dates) -> np.ndarray:
    """Age in completed years on ``on`` of a person born on ``birth``.

    Examples
    --------
    >>> def dates(*iso):
    ...     return Dates(np.array(iso, dtype="datetime64[D]").astype(np.int64))
    >>> born = dates("2008-02-29", "2008-02-29")
    >>> completed_years(born, dates("2024-02-28", "2024-02-29")).tolist()
    [15, 16]
    """
    before = on.month * 100 + on.day < birth.month * 100 + birth.day
    return on.year - birth.year - before
