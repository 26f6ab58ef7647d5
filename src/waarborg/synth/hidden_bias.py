"""A selection table with a planted biased subgroup that no single feature describes.

For the bias search (:mod:`waarborg.selectivity.clusters`): can it find over-selection
of a group nobody named?

Data-generating process (numbers are the module constants)
----------------------------------------------------------
Student-grant recipients come from five latent profiles (:data:`PROFILES`: share, age,
distance to the parents' address, yearly income, education type). The planted profile,
``young-near``, is young (around 19), lives 1–5 km from the parents and earns 10–20
thousand euro a year; each of those traits alone is shared with a larger profile (young
and far away; older and near; mid-income working students).

* **Planted subgroup** ``planted`` = age ≤ :data:`PLANTED_MAX_AGE` AND distance in
  :data:`PLANTED_KM` AND income in :data:`PLANTED_INCOME` (a box in feature space, about
  4% of cases, nearly all of the ``young-near`` profile).
* **Selection**: ``selected`` ~ Bernoulli(:data:`BASE_RATE`), and
  Bernoulli(:data:`PLANTED_RATE`) inside the planted subgroup (``planted_rate=None``
  keeps the base rate everywhere: no bias to find).
* **Random reference sample**: ``reference`` ~ Bernoulli(``reference_share``),
  independent of everything.
* **Outcome**: checked cases (selected or reference) get ``outcome`` ~
  Bernoulli(:data:`OUTCOME_RATE`), the same everywhere, so the over-selection of the
  planted subgroup is not justified by a higher rate of irregularities; unchecked cases
  have no outcome (null).
* **Protected attribute** ``migration_background`` (``dutch``/``western``/
  ``non_western``; not used by the selection): non-Western more often in the planted
  profile (:data:`NON_WESTERN_SHARE`), for relating clusters to it.

Each feature alone shows little: the best single-feature slice (a decile of a number or
a level) is far from the planted subgroup (see ``docs/selectivity.md`` for the measured
overlap and rates).

Examples
--------
>>> cases = hidden_bias_cases(2_000, seed=1)
>>> cases.column_names[:5]
['case_id', 'selected', 'reference', 'outcome', 'age']
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

from waarborg.synth.population import generator

__all__ = ["PROFILES", "hidden_bias_cases", "planted_mask"]


class Profile(NamedTuple):
    """A latent profile: share, age (mean, sd), distance, income (mean, sd), education."""

    share: float
    age: tuple[float, float]
    km: tuple[str, float, float]  # ("uniform", low, high) or ("lognormal", median, sd of log)
    income: tuple[float, float]  # thousand euro a year
    education: tuple[float, float, float]  # mbo, hbo, wo


EDUCATION = ("mbo", "hbo", "wo")
PROFILES = {
    "young-near": Profile(0.05, (18.5, 0.7), ("uniform", 1.5, 4.5), (15.0, 1.5), (0.6, 0.3, 0.1)),
    "young-far": Profile(0.25, (19.5, 1.2), ("lognormal", 60.0, 0.8), (8.0, 2.5), (0.2, 0.4, 0.4)),
    "older-near": Profile(0.15, (25.0, 2.5), ("uniform", 0.5, 8.0), (28.0, 5.0), (0.3, 0.4, 0.3)),
    "working": Profile(0.25, (23.0, 2.0), ("lognormal", 30.0, 1.0), (19.0, 4.0), (0.5, 0.35, 0.15)),
    "older-far": Profile(0.30, (26.0, 2.5), ("lognormal", 80.0, 0.8), (30.0, 6.0), (0.2, 0.4, 0.4)),
}
"""The latent profiles (shares sum to 1)."""
PLANTED_MAX_AGE = 20.0
PLANTED_KM = (1.0, 5.0)
PLANTED_INCOME = (10.0, 20.0)
BASE_RATE = 0.06
PLANTED_RATE = 0.24
"""Selection rate inside the planted subgroup (four times the base rate)."""
OUTCOME_RATE = 0.08
NON_WESTERN_SHARE = {"young-near": 0.40}
"""Share of non-Western migration background per profile; 0.14 where not listed."""
WESTERN_SHARE = 0.08


def hidden_bias_cases(
    n: int,
    seed: int,
    *,
    planted_rate: float | None = PLANTED_RATE,
    reference_share: float = 0.02,
) -> pa.Table:
    """Draw ``n`` cases of the selection table with a planted biased subgroup.

    Parameters
    ----------
    n : int
        Number of cases.
    seed : int
        Seed; the same seed gives the same table.
    planted_rate : float or None, default :data:`PLANTED_RATE`
        Selection rate inside the planted subgroup; None for no planted bias.
    reference_share : float, default 0.02
        Share drawn into the random reference sample.

    Returns
    -------
    pyarrow.Table
        ``case_id``, ``selected``, ``reference``, ``outcome``, ``age``,
        ``distance_to_parents_km``, ``income``, ``education_type``,
        ``migration_background``, ``profile`` and ``planted`` (the truth; not a feature).
    """
    rng = generator(seed, "hidden-bias")
    names = list(PROFILES)
    profile = rng.choice(len(names), size=n, p=[PROFILES[k].share for k in names])
    age, km, income = np.empty(n), np.empty(n), np.empty(n)
    education = np.empty(n, dtype=object)
    non_western = np.empty(n)
    for i, name in enumerate(names):
        spec, idx = PROFILES[name], np.flatnonzero(profile == i)
        m = len(idx)
        age[idx] = np.clip(rng.normal(*spec.age, m), 17, 30).round()
        km[idx] = _distance(rng, spec.km, m)
        income[idx] = np.clip(rng.normal(*spec.income, m), 0, None).round(1)
        education[idx] = rng.choice(EDUCATION, size=m, p=spec.education)
        non_western[idx] = NON_WESTERN_SHARE.get(name, 0.14)
    planted = planted_mask(age, km, income)
    rate = np.where(planted & (planted_rate is not None), planted_rate or 0.0, BASE_RATE)
    selected = rng.random(n) < rate
    reference = rng.random(n) < reference_share
    checked = selected | reference
    outcome = np.where(checked, rng.random(n) < OUTCOME_RATE, False)
    u = rng.random(n)
    migration = np.where(
        u < non_western,
        "non_western",
        np.where(u < non_western + WESTERN_SHARE, "western", "dutch"),
    )
    return pa.table(
        {
            "case_id": pa.array(np.arange(1, n + 1), pa.int64()),
            "selected": selected,
            "reference": reference,
            "outcome": pa.array(outcome, mask=~checked),
            "age": age,
            "distance_to_parents_km": km,
            "income": income,
            "education_type": pa.array(education.astype(str)),
            "migration_background": pa.array(migration.astype(str)),
            "profile": pa.array(np.array(names)[profile]),
            "planted": planted,
        }
    )


def planted_mask(age: np.ndarray, km: np.ndarray, income: np.ndarray) -> np.ndarray:
    """Whether each case lies in the planted subgroup (the box of the module docstring)."""
    return (
        (age <= PLANTED_MAX_AGE)
        & (km >= PLANTED_KM[0])
        & (km <= PLANTED_KM[1])
        & (income >= PLANTED_INCOME[0])
        & (income <= PLANTED_INCOME[1])
    )


def _distance(rng: np.random.Generator, spec: tuple[str, float, float], m: int) -> np.ndarray:
    """Distances to the parents (km, one decimal) from a profile's distribution."""
    kind, a, b = spec
    values = rng.uniform(a, b, m) if kind == "uniform" else np.exp(rng.normal(np.log(a), b, m))
    return np.clip(values, 0.1, 2000).round(1)
