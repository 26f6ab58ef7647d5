"""Synthetic young people in youth probation, rated with ``ritax-style``.

Data-generating process (numbers are the module constants or written inline)
----------------------------------------------------------------------------
Population: ages 12–23 (mostly 15–19), 82% boys; migration background 55% Dutch, 8%
Western, 37% non-Western.

A latent *propensity* ``z`` ~ N(0, 1), independent of group, loads on a true latent
state ``d_k`` per life domain: ``d_k = l_k z + sqrt(1 - l_k^2) e_k`` with the loadings
:data:`LOADINGS`. The professional rates each domain from what they see:

* risk item ``= clip(round(1.6 + 1.0 (d_k + bias_k) + N(0, 0.5)), 0, 4)``,
* protective item ``= clip(round(1.0 - 0.6 (d_k + bias_k) + N(0, 0.5)), 0, 2)``.

* **Measurement bias (rater bias).** For young people with a non-Western background the
  professional's view of ``aggression`` and ``attitude`` is shifted by :data:`RATER_BIAS`
  (+0.5 on the latent scale): at equal true state, higher risk and lower protective
  ratings, so a higher profile.
* **Proxy.** The ``finances`` domain carries true socio-economic disadvantage
  (+0.6 for non-Western young people) that has no effect on reoffending.
* **True outcome** ``outcome_profile`` — reoffending within two years — from
  ``logit p = b0 + beta * sum_k w_k d_k + 0.3 male - 0.08 (age - 17)`` with the true
  weights :data:`TRUE_WEIGHTS` (attitude, relations, alcohol/drugs and aggression
  matter; family, mental health and finances hardly or not), while the instrument adds
  every item with weight 1 and knows neither sex nor age.
* **Missing values.** ``mental_health_protective`` and ``finances_protective`` (policy
  ``range``) are empty for 2% each.
* **Drift.** ``b0`` moves from -0.55 (2019) to -0.95 (2024), ``beta`` from 1.0 to 0.45.

The measured sizes are in :data:`MECHANISMS`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from waarborg.synth.population import (
    along,
    bernoulli,
    draw_values,
    generator,
    outcome,
    population,
    sigmoid,
    table,
)

INSTRUMENT = "ritax-style"
MALE_SHARE = 0.82
MIGRATION_SHARES = (0.55, 0.08, 0.37)
AGE_SHARES = dict(zip(range(12, 24), (1, 2, 4, 7, 10, 12, 12, 11, 10, 8, 6, 5), strict=True))
"""Relative frequency of each age (12 to 23)."""
DOMAINS = (
    "family",
    "school_work",
    "relations",
    "leisure",
    "alcohol_drugs",
    "mental_health",
    "aggression",
    "attitude",
    "finances",
)
LOADINGS = dict(zip(DOMAINS, (0.6, 0.6, 0.7, 0.5, 0.5, 0.4, 0.6, 0.7, 0.4), strict=True))
"""How strongly each domain's true state follows the general propensity."""
TRUE_WEIGHTS = dict(zip(DOMAINS, (0.1, 0.2, 0.35, 0.1, 0.25, 0.0, 0.25, 0.4, 0.0), strict=True))
"""The true effect of each domain's state on reoffending (first cohort)."""
RATER_BIAS = {"aggression": 0.5, "attitude": 0.5}
"""Shift of the rater's view for non-Western young people, on the latent scale."""
DISADVANTAGE = {"finances": 0.6}
"""True (outcome-irrelevant) disadvantage of non-Western young people, latent scale."""
MISSING = ("mental_health_protective", "finances_protective")
MISSING_SHARE = 0.02
INTERCEPT = (-0.55, -0.95)
BEHAVIOUR_EFFECT = (1.0, 0.45)

MECHANISMS: dict[str, str] = {
    "measurement_bias": (
        f"Rater bias {RATER_BIAS} (latent scale) for non-Western young people. Measured at "
        "equal latent propensity: aggression_risk and attitude_risk +0.47 points, "
        "aggression_protective -0.25; profile score +2.3 (rater bias and the finances "
        "disadvantage together)."
    ),
    "proxies": (
        f"The finances domain carries disadvantage {DISADVANTAGE} (latent scale) for "
        "non-Western young people and has no true effect. Measured: finances_risk +0.56 "
        "points, correlation with being non-Western +0.24."
    ),
    "true_outcome": (
        f"Reoffending from the true domain states with weights {TRUE_WEIGHTS}, plus sex "
        "and age, which the equal-weight profile ignores. Measured observed reoffending, "
        "non-Western vs Dutch: band laag 0.22 vs 0.25, midden 0.39 vs 0.44, hoog 0.58 vs "
        "0.61 (the same band means a lower risk for non-Western young people)."
    ),
    "drift": (
        f"Intercept {INTERCEPT[0]} -> {INTERCEPT[1]}, behaviour weight "
        f"{BEHAVIOUR_EFFECT[0]} -> {BEHAVIOUR_EFFECT[1]} from 2019 to 2024. Measured AUC of "
        "the profile score: 0.74 -> 0.63; base rate 0.42 -> 0.32."
    ),
}
"""The planted ground truth, in words and numbers (measured with n = 1,000,000, seed 0)."""


def synthesize(n: int, seed: int = 0, *, latent: bool = False) -> pa.Table:
    """Synthesize ``n`` young people rated with ``ritax-style``; see the module docs.

    Parameters
    ----------
    n
        Number of cases.
    seed
        Random seed: the same seed gives the same table.
    latent
        Also return ``latent_propensity`` (the general propensity ``z``).
    """
    rng = generator(seed, INSTRUMENT)
    pop = population(rng, n, male_share=MALE_SHARE, migration_shares=MIGRATION_SHARES)
    age = draw_values(rng, n, AGE_SHARES).astype(np.int8)
    z = rng.standard_normal(n)
    nw = pop.non_western
    columns = pop.columns() | {"age": age}
    true_score = np.zeros(n)
    for domain in DOMAINS:
        loading = LOADINGS[domain]
        state = loading * z + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        true_score += TRUE_WEIGHTS[domain] * state
        shift = DISADVANTAGE.get(domain, 0.0) + RATER_BIAS.get(domain, 0.0)
        columns |= _items(rng, domain, state + shift * nw)
    logit = (
        along(pop.drift, *INTERCEPT)
        + along(pop.drift, *BEHAVIOUR_EFFECT) * true_score
        + 0.3 * pop.male
        - 0.08 * (age - 17)
    )
    columns["outcome_profile"] = outcome(bernoulli(rng, sigmoid(logit)))
    if latent:
        columns["latent_propensity"] = z
    return table(columns)


def _items(rng: np.random.Generator, domain: str, seen: np.ndarray) -> dict[str, pa.Array]:
    """The professional's risk (0-4) and protective (0-2) ratings of one domain."""
    n = len(seen)
    risk = np.clip(np.rint(1.6 + seen + 0.5 * rng.standard_normal(n)), 0, 4)
    protective = np.clip(np.rint(1.0 - 0.6 * seen + 0.5 * rng.standard_normal(n)), 0, 2)
    name = f"{domain}_protective"
    missing = bernoulli(rng, MISSING_SHARE, n) if name in MISSING else None
    return {
        f"{domain}_risk": pa.array(risk.astype(np.int8)),
        name: pa.array(protective.astype(np.int8), mask=missing),
    }
