"""Two synthetic selections that the outcome test cannot tell apart and the threshold test can.

The threshold test (:mod:`waarborg.selectivity.threshold`) must separate a *lower bar*
for one group from a *different base rate* (the infra-marginality problem of the
outcome test). This module plants each, with known sizes, in a selection table
(see :mod:`waarborg.selectivity`).

Data-generating process (numbers are the module constants)
----------------------------------------------------------
Cases belong to one of :data:`UNITS` units (``U01`` …, e.g. teams or regions) and to
group ``A`` (share :data:`GROUP_SHARES` [0]) or ``B``.

* **Risk.** Each case's risk ``p`` — the probability of the outcome given everything the
  selecting official knows — follows the threshold test's beta discriminant distribution:
  mean ``expit(phi_g + phi_u)`` and concentration ``exp(lambda_g + lambda_u)`` (shape
  parameters ``mean * conc`` and ``(1 - mean) * conc``), with :data:`RISK_LOGIT` and
  :data:`LOG_CONCENTRATION` for group A. The outcome is Bernoulli(``p``).
* **Selection.** A case is selected when ``p`` exceeds its threshold
  ``expit(t_g + t_u)``, with :data:`THRESHOLD_LOGIT` for group A.
* **Units.** ``phi_u``, ``lambda_u`` and ``t_u`` are drawn once per seed from normal
  distributions with standard deviations :data:`UNIT_SD` (unit ``U01`` is 0).
* **Scenarios.** ``"lower-threshold"``: group B's threshold is
  :data:`PLANTED_THRESHOLD_SHIFT` lower on the logit scale, with group A's risk
  distribution. ``"base-rate"``: group B's mean risk is :data:`PLANTED_RISK_SHIFT` higher
  on the logit scale, with group A's threshold. In the second scenario the hit rate of
  group B is higher although nobody is treated differently: an outcome test would call
  it a higher bar for B.
* **Instrument score.** The instrument sees less than the official:
  ``logit(score) = SCORE_SLOPE * (logit p + e) + SCORE_SHIFT`` with ``e`` ~ N(0,
  :data:`SCORE_NOISE`\\ :sup:`2`): a noisy, miscalibrated view of the risk.
* **Reference sample and outcomes.** A share :data:`REFERENCE_SHARE` of all cases is drawn
  uniformly at random (``reference``); the outcome is known for selected and reference
  cases and null for the rest.

Examples
--------
>>> cases = synthesize_thresholds("lower-threshold", 2_000, seed=1)
>>> cases.column_names
['case_id', 'unit', 'group', 'score', 'selected', 'reference', 'outcome']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy import special

from waarborg.synth.population import generator

__all__ = [
    "SCENARIOS",
    "Truth",
    "synthesize_thresholds",
    "truth",
]

SCENARIOS = ("lower-threshold", "base-rate")
UNITS = 10
GROUPS = ("A", "B")
GROUP_SHARES = (0.6, 0.4)
RISK_LOGIT = -1.4
"""Logit of group A's mean risk in unit U01 (about 20%)."""
LOG_CONCENTRATION = float(np.log(6.0))
"""Log of the beta concentration (shape parameters' sum) of the risk distribution."""
THRESHOLD_LOGIT = -0.9
"""Logit of group A's selection threshold in unit U01 (about 29%)."""
UNIT_SD = {"risk": 0.4, "concentration": 0.3, "threshold": 0.4}
"""Standard deviations of the unit effects on the logit / log scale."""
PLANTED_THRESHOLD_SHIFT = -0.6
"""Scenario ``lower-threshold``: group B's threshold minus group A's, logit scale."""
PLANTED_RISK_SHIFT = 0.8
"""Scenario ``base-rate``: group B's mean risk minus group A's, logit scale."""
SCORE_SLOPE = 0.8
SCORE_SHIFT = -0.3
SCORE_NOISE = 0.2
REFERENCE_SHARE = 0.10
_CLIP = 1e-9


@dataclass(frozen=True)
class Truth:
    """The planted parameters of a scenario (group effects; unit effects per seed).

    ``risk``, ``log_concentration`` and ``threshold`` map a group to its effect (logit or
    log scale, unit U01); ``unit_*`` are the unit effects, U01 first.
    """

    scenario: str
    risk: dict[str, float]
    log_concentration: dict[str, float]
    threshold: dict[str, float]
    unit_risk: tuple[float, ...]
    unit_concentration: tuple[float, ...]
    unit_threshold: tuple[float, ...]

    @property
    def threshold_difference(self) -> float:
        """Group B's threshold minus group A's on the logit scale (the planted value)."""
        return self.threshold["B"] - self.threshold["A"]


def truth(scenario: str, seed: int = 0) -> Truth:
    """The planted parameters of ``scenario`` with the unit effects drawn for ``seed``.

    Examples
    --------
    >>> truth("lower-threshold").threshold_difference
    -0.6
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    rng = generator(seed, f"thresholds-units-{scenario}")
    effects = [np.r_[0.0, rng.normal(0.0, UNIT_SD[k], UNITS - 1)] for k in UNIT_SD]
    lower = scenario == "lower-threshold"
    return Truth(
        scenario=scenario,
        risk={"A": RISK_LOGIT, "B": RISK_LOGIT + (0.0 if lower else PLANTED_RISK_SHIFT)},
        log_concentration={"A": LOG_CONCENTRATION, "B": LOG_CONCENTRATION},
        threshold={
            "A": THRESHOLD_LOGIT,
            "B": THRESHOLD_LOGIT + (PLANTED_THRESHOLD_SHIFT if lower else 0.0),
        },
        unit_risk=tuple(effects[0].tolist()),
        unit_concentration=tuple(effects[1].tolist()),
        unit_threshold=tuple(effects[2].tolist()),
    )


def synthesize_thresholds(scenario: str, n: int, seed: int = 0) -> pa.Table:
    """A selection table of ``n`` cases with the planted mechanism of ``scenario``.

    Parameters
    ----------
    scenario
        ``"lower-threshold"`` or ``"base-rate"`` (:data:`SCENARIOS`).
    n
        Number of cases.
    seed
        Non-negative seed: the same seed gives the same table.

    Returns
    -------
    pyarrow.Table
        ``case_id``, ``unit``, ``group``, ``score`` (probability), ``selected``,
        ``reference`` (bool) and ``outcome`` (bool, null when not checked).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    planted = truth(scenario, seed)
    rng = generator(seed, f"thresholds-{scenario}")
    unit = rng.integers(0, UNITS, n)
    group = (rng.random(n) >= GROUP_SHARES[0]).astype(np.int64)
    pick = np.asarray(GROUPS)[group]

    def effect(by_group: dict[str, float], by_unit: tuple[float, ...]) -> np.ndarray:
        return np.array([by_group[g] for g in GROUPS])[group] + np.asarray(by_unit)[unit]

    mean = special.expit(effect(planted.risk, planted.unit_risk))
    conc = np.exp(effect(planted.log_concentration, planted.unit_concentration))
    risk = np.clip(rng.beta(mean * conc, (1 - mean) * conc), _CLIP, 1 - _CLIP)
    selected = risk > special.expit(effect(planted.threshold, planted.unit_threshold))
    events = rng.random(n) < risk
    noise = rng.normal(0.0, SCORE_NOISE, n)
    score = special.expit(SCORE_SLOPE * (special.logit(risk) + noise) + SCORE_SHIFT)
    reference = rng.random(n) < REFERENCE_SHARE
    known = selected | reference
    return pa.table(
        {
            "case_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "unit": pa.array([f"U{u + 1:02d}" for u in range(UNITS)])
            .take(pa.array(unit))
            .dictionary_encode(),
            "group": pa.array(pick).dictionary_encode(),
            "score": pa.array(score),
            "selected": pa.array(selected),
            "reference": pa.array(reference),
            "outcome": pa.array(events, mask=~known),
        }
    )
