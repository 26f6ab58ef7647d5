"""Is an instrument due for revalidation? Its policy against the date and its audits.

Predictive power decays: populations, policing and the law change. The spec's
``revalidation`` block (:class:`waarborg.instruments.spec.Revalidation`) says how often
to validate again and how much decline is tolerated in between. Three checks:

* **Overdue**: ``today`` is past ``last_validated + every_years``.
* **AUC decline** between the earliest audit (the development or pre-deployment audit)
  and the latest: ``d = AUC_first - AUC_latest`` with the 95% interval
  ``d ± 1.96 sqrt(se_first² + se_latest²)`` (DeLong standard errors, independent
  samples). Breached when ``d`` exceeds ``max_auc_decline``.
* **Calibration drift** in the latest audit: calibration-in-the-large
  ``ln(O / E)``, O the observed outcomes and E the sum of predicted probabilities over
  all cases, with the interval ``ln(O / E) ± 1.96 / sqrt(O)`` (O as Poisson). Breached
  when ``|ln(O / E)|`` exceeds ``max_calibration_drift``. Needs a probability score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from waarborg.instruments.spec import InstrumentSpec
from waarborg.register.audits import as_mapping

Z95 = 1.959963984540054


class Estimate(BaseModel):
    """A point estimate with its 95% confidence interval."""

    value: float
    ci: tuple[float, float]


class RevalidationStatus(BaseModel):
    """Where an instrument stands against its revalidation policy."""

    has_policy: bool
    last_validated: date | None = None
    next_due: date | None = None
    overdue: bool = False
    auc_decline: Estimate | None = Field(None, description="AUC earliest minus AUC latest.")
    calibration_drift: Estimate | None = Field(None, description="ln(O/E) in the latest audit.")
    audits: int = 0
    breaches: list[str] = Field(default_factory=list)
    breaches_nl: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """A policy exists, the instrument is not overdue and nothing is breached."""
        return self.has_policy and not self.overdue and not self.breaches

    def summary(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"last validated: {self.last_validated or 'unknown'}; next due: "
            f"{self.next_due or 'unknown'}; audits compared: {self.audits}"
        ]
        if self.auc_decline is not None:
            lines.append(f"AUC decline: {_fmt(self.auc_decline)}")
        if self.calibration_drift is not None:
            lines.append(f"calibration drift ln(O/E): {_fmt(self.calibration_drift)}")
        lines += [f"BREACH: {b}" for b in self.breaches] or ["within policy"]
        return "\n".join(lines)


def _fmt(e: Estimate) -> str:
    return f"{e.value:.3f} (95% CI {e.ci[0]:.3f} to {e.ci[1]:.3f})"


def revalidation_status(
    spec: InstrumentSpec, audits: Sequence[Mapping[str, Any]], today: date
) -> RevalidationStatus:
    """The instrument's revalidation status on ``today``, given its audits.

    Parameters
    ----------
    spec
        The instrument's spec, with its ``revalidation`` policy.
    audits
        Audit results (``AuditResult`` or their JSON) in the order of the data they
        cover: the first is the baseline (development or pre-deployment), the last the
        latest.
    today
        The date to judge on.

    Examples
    --------
    >>> from datetime import date
    >>> from waarborg import load_instrument
    >>> status = revalidation_status(load_instrument("oxrec-style").spec, [], date(2030, 1, 1))
    >>> status.overdue, status.next_due
    (True, datetime.date(2029, 6, 1))
    """
    policy = spec.revalidation
    if policy is None:
        return RevalidationStatus(
            has_policy=False,
            breaches=["the spec has no revalidation policy"],
            breaches_nl=["de specificatie heeft geen beleid voor hervalidatie"],
        )
    ordered = [as_mapping(a) for a in audits]
    status = RevalidationStatus(
        has_policy=True, last_validated=policy.last_validated, audits=len(ordered)
    )
    if policy.last_validated is not None:
        status.next_due = _add_years(policy.last_validated, policy.every_years)
        if today > status.next_due:
            status.overdue = True
            _breach(
                status,
                f"revalidation was due on {status.next_due}",
                f"hervalidatie was nodig op {status.next_due}",
            )
    else:
        _breach(
            status,
            "the instrument has no recorded validation date",
            "er is geen datum van de laatste validatie vastgelegd",
        )
    if len(ordered) >= 2:
        status.auc_decline = auc_decline(ordered[0], ordered[-1])
        if status.auc_decline is not None and status.auc_decline.value > policy.max_auc_decline:
            d = status.auc_decline.value
            _breach(
                status,
                f"the AUC fell by {d:.3f}, more than {policy.max_auc_decline}",
                f"de AUC daalde met {d:.3f}, meer dan {policy.max_auc_decline}",
            )
    if ordered:
        status.calibration_drift = calibration_drift(ordered[-1])
        drift = status.calibration_drift
        if drift is not None and abs(drift.value) > policy.max_calibration_drift:
            _breach(
                status,
                f"calibration is off: ln(O/E) = {drift.value:.3f}, beyond "
                f"±{policy.max_calibration_drift}",
                f"de kalibratie wijkt af: ln(O/E) = {drift.value:.3f}, buiten "
                f"±{policy.max_calibration_drift}",
            )
    return status


def _breach(status: RevalidationStatus, en: str, nl: str) -> None:
    status.breaches.append(en)
    status.breaches_nl.append(nl)


def _add_years(start: date, years: float) -> date:
    """``start`` plus whole years on the calendar (29 Feb becomes 28 Feb), plus any rest."""
    whole = int(years)
    try:
        moved = start.replace(year=start.year + whole)
    except ValueError:
        moved = start.replace(year=start.year + whole, day=28)
    return moved + timedelta(days=round((years - whole) * 365.25))


def auc_decline(first: Mapping[str, Any], latest: Mapping[str, Any]) -> Estimate | None:
    """``AUC_first - AUC_latest`` with its 95% interval (None without both AUCs)."""
    a, b = (audit.get("validity", {}).get("auc") or {} for audit in (first, latest))
    if a.get("value") is None or b.get("value") is None or a.get("se") is None:
        return None
    d = a["value"] - b["value"]
    se = math.hypot(a["se"], b["se"])
    return Estimate(value=d, ci=(d - Z95 * se, d + Z95 * se))


def calibration_drift(audit: Mapping[str, Any]) -> Estimate | None:
    """Calibration-in-the-large ``ln(O/E)`` over all cases, with its 95% interval."""
    cells = audit.get("validity", {}).get("calibration_deciles") or []
    observed = sum(c.get("observed", 0) for c in cells)
    expected = sum(c.get("expected") or 0.0 for c in cells)
    if not cells or any(c.get("expected") is None for c in cells) or observed == 0:
        return None
    value = math.log(observed / expected)
    half = Z95 / math.sqrt(observed)
    return Estimate(value=value, ci=(value - half, value + half))
