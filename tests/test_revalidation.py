"""Revalidation: the policy in the spec against the date and the audits of two cohorts.

The synthetic OxRec-style population has planted drift (the behaviour effect weakens
from the 2019 to the 2024 cohort), so an audit of each cohort must show the AUC decline;
the figures are checked against scikit-learn and plain sums over the rows.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

import waarborg
from waarborg.cli import app
from waarborg.instruments.spec import parse_spec
from waarborg.register.revalidation import revalidation_status
from waarborg.synth import synthesize

runner = CliRunner()


@pytest.fixture(scope="module")
def cohorts() -> dict[int, pa.Table]:
    """Scored 2019 and 2024 OxRec-style cohorts: probability ``p``, band, outcome ``y``."""
    inst = waarborg.load_instrument("oxrec-style")
    cases = synthesize("oxrec-style", 60_000, seed=11)
    scored = waarborg.score(inst, cases)
    table = pa.table(
        {
            "cohort": cases["cohort"],
            "p": scored["probability_any_2y"],
            "band": scored["band_any"],
            "y": cases["outcome_any_2y"],
        }
    ).filter(pc.is_valid(scored["probability_any_2y"]))
    return {year: table.filter(pc.equal(table["cohort"], year)) for year in (2019, 2024)}


def audited(table: pa.Table) -> Any:
    return waarborg.audit(table, score="p", outcome="y", band="band", select="hoog")


def test_drift_between_cohorts_breaches_the_auc_policy(cohorts: dict[int, pa.Table]) -> None:
    spec = waarborg.load_instrument("oxrec-style").spec
    first, latest = audited(cohorts[2019]), audited(cohorts[2024])
    status = revalidation_status(spec, [first, latest], date(2026, 11, 23))
    expected = roc_auc_score(cohorts[2019]["y"], cohorts[2019]["p"]) - roc_auc_score(
        cohorts[2024]["y"], cohorts[2024]["p"]
    )
    assert status.auc_decline is not None
    assert status.auc_decline.value == pytest.approx(expected, abs=2e-3)  # quantile bins
    low, high = status.auc_decline.ci
    assert low < status.auc_decline.value < high and low > 0  # a real decline
    assert expected > spec.revalidation.max_auc_decline
    assert any("AUC fell" in b for b in status.breaches) and not status.ok
    assert any("AUC daalde" in b for b in status.breaches_nl)
    assert not status.overdue  # 2024-06-01 + 5 years is still ahead


def test_calibration_drift_is_ln_observed_over_expected(cohorts: dict[int, pa.Table]) -> None:
    spec = waarborg.load_instrument("oxrec-style").spec
    latest = cohorts[2024]
    status = revalidation_status(spec, [audited(latest)], date(2026, 11, 23))
    y = np.asarray(latest["y"], dtype=float)
    p = np.asarray(latest["p"], dtype=float)
    assert status.calibration_drift is not None
    assert status.calibration_drift.value == pytest.approx(math.log(y.sum() / p.sum()), rel=1e-9)
    half = 1.959963984540054 / math.sqrt(y.sum())
    assert status.calibration_drift.ci[1] - status.calibration_drift.ci[0] == pytest.approx(
        2 * half
    )
    assert status.auc_decline is None  # one audit: nothing to compare with


def test_calibration_drift_beyond_the_policy_is_a_breach(cohorts: dict[int, pa.Table]) -> None:
    spec = waarborg.load_instrument("oxrec-style").spec
    tight = spec.model_copy(
        update={
            "revalidation": spec.revalidation.model_copy(update={"max_calibration_drift": 1e-6})
        }
    )
    status = revalidation_status(tight, [audited(cohorts[2024])], date(2026, 11, 23))
    assert any("calibration is off" in b for b in status.breaches)


@pytest.mark.parametrize(
    ("last", "years", "today", "due", "overdue"),
    [
        (date(2024, 6, 1), 5, date(2029, 6, 1), date(2029, 6, 1), False),
        (date(2024, 6, 1), 5, date(2029, 6, 2), date(2029, 6, 1), True),
        (date(2024, 2, 29), 1, date(2025, 3, 1), date(2025, 2, 28), True),
        (date(2024, 1, 1), 0.5, date(2024, 6, 1), date(2024, 7, 2), False),
    ],
)
def test_overdue_on_the_calendar(
    last: date, years: float, today: date, due: date, overdue: bool
) -> None:
    spec = waarborg.load_instrument("ritax-style").spec
    policy = spec.revalidation.model_copy(update={"last_validated": last, "every_years": years})
    status = revalidation_status(spec.model_copy(update={"revalidation": policy}), [], today)
    assert (status.next_due, status.overdue) == (due, overdue)


def test_no_policy_is_never_ok() -> None:
    spec = waarborg.load_instrument("ritax-style").spec
    raw = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw.pop("revalidation")
    status = revalidation_status(parse_spec(raw), [], date(2026, 1, 1))
    assert not status.has_policy and not status.ok


def test_cli_exit_code_says_whether_revalidation_is_due() -> None:
    ok = runner.invoke(app, ["revalidation", "oxrec-style", "--today", "2026-11-23"])
    assert ok.exit_code == 0 and "within policy" in ok.output
    due = runner.invoke(app, ["revalidation", "oxrec-style", "--today", "2030-01-01"])
    assert due.exit_code == 1 and "revalidation was due on 2029-06-01" in due.output
    bad = runner.invoke(app, ["revalidation", "oxrec-style", "--audit", "missing.json"])
    assert bad.exit_code == 2 and "missing.json" in bad.output
