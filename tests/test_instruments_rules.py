"""Data rules on police event records: what never counts, what drops out, and the report."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from waarborg import DataError, score
from waarborg.instruments.engine import result_metadata
from waarborg.instruments.rules import whole_years_between, years_before

CASES = {
    "case_id": ["a", "b", "c"],
    "reference_date": [date(2024, 3, 1), date(2024, 2, 29), date(2023, 6, 15)],
    "birth_date": [date(2008, 5, 1), date(2010, 2, 28), date(2007, 6, 15)],
    "housemate_suspect_registrations": [0, 3, 1],
    "offence": ["violence", "property", "other"],
    "age": [15, 14, 16],
    "sex": ["male", "female", "male"],
}
EVENTS = [
    # case a: two counted suspect registrations, one acquittal, one involved-party
    ("a", date(2022, 1, 10), "conviction", "suspect"),
    ("a", date(2023, 9, 1), "settlement", "suspect"),
    ("a", date(2023, 10, 1), "acquittal", "suspect"),
    ("a", date(2019, 4, 4), "pending", "involved"),
    # case b: exactly five years before counts; one day more drops out; 29 Feb → 28 Feb
    ("b", date(2019, 2, 28), "conviction", "suspect"),
    ("b", date(2019, 2, 27), "conviction", "suspect"),
    ("b", date(2020, 5, 5), "dismissed_wrongly_suspected", "suspect"),
    # case c: an event after the reference date never counts
    ("c", date(2023, 6, 16), "conviction", "suspect"),
]


def _events() -> pa.Table:
    ids, dates, dispositions, roles = zip(*EVENTS, strict=True)
    return pa.table({"case_id": ids, "date": dates, "disposition": dispositions, "role": roles})


def test_rules_remove_what_never_counts_and_report_it() -> None:
    result = score("preselect-style", CASES, events=_events())
    rows = {r["case_id"]: r for r in result.to_pylist()}
    assert result.column("case_id").to_pylist() == ["a", "b", "c"]
    assert rows["a"]["contribution_prior_suspect_registrations"] == pytest.approx(
        0.75 * np.log(2 + 1)
    )
    assert rows["b"]["contribution_prior_suspect_registrations"] == pytest.approx(
        0.75 * np.log(1 + 1)
    )
    assert rows["c"]["contribution_prior_suspect_registrations"] == 0
    assert rows["a"]["contribution_involved_party_registrations"] == pytest.approx(0.06)
    # age at the first counted registration as suspect: a 13 (2022-01-10; the earlier
    # involved-party event does not count), b 8 (2019-02-28), c none
    assert rows["a"]["contribution_age_at_first_registration"] == 0.35
    assert rows["b"]["contribution_age_at_first_registration"] == 0.6
    assert rows["c"]["contribution_age_at_first_registration"] == 0
    report = result_metadata(result)["data_rules"]
    assert report == {
        "events_read": 8,
        "removed": {
            "disposition 'acquittal' never counts": 1,
            "disposition 'dismissed_wrongly_suspected' never counts": 1,
            "event after the case's reference date": 1,
            "older than 5 years": 1,
        },
        "events_used": 4,
    }


def test_events_of_unknown_cases_are_an_error() -> None:
    events = _events().set_column(0, "case_id", pa.array(["a"] * 7 + ["zzz"]))
    with pytest.raises(DataError, match="row 8, column case_id: event of a case"):
        score("preselect-style", CASES, events=events)


def test_a_bad_date_names_its_row() -> None:
    events = _events().set_column(
        1, "date", pa.array(["2022-01-10"] * 4 + ["28-02-2019"] + ["2022-01-10"] * 3)
    )
    with pytest.raises(DataError, match="row 5, column date: not a date"):
        score("preselect-style", CASES, events=events)


def test_derived_column_given_twice_is_an_error() -> None:
    with pytest.raises(DataError, match="give one"):
        score(
            "preselect-style", CASES | {"prior_suspect_registrations": [0, 0, 0]}, events=_events()
        )


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        ("2024-03-01", 5, "2019-03-01"),
        ("2024-02-29", 5, "2019-02-28"),
        ("2020-02-29", 4, "2016-02-29"),
    ],
)
def test_years_before_is_calendar_based(day: str, years: int, expected: str) -> None:
    result = years_before(np.array([day], dtype="datetime64[D]"), years)
    assert str(result[0]) == expected


def test_whole_years_between_matches_python_dates() -> None:
    rng = np.random.default_rng(3)
    starts = np.datetime64("1990-01-01") + rng.integers(0, 8000, 500)
    ends = starts + rng.integers(0, 9000, 500)
    got = whole_years_between(starts, ends)
    for s, e, g in zip(starts.tolist(), ends.tolist(), got, strict=True):
        expected = e.year - s.year - ((e.month, e.day) < (s.month, s.day))
        assert g == expected, (s, e)
