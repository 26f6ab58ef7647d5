"""Synthetic student-grant recipients for ``generic-selection`` (the student-grant case).

Data-generating process (numbers are the module constants)
----------------------------------------------------------
Population: recipients of the away-from-home grant; 53% women; migration background
76% Dutch, 8% Western, 16% non-Western. Age 17–30 (:data:`AGE_SHARES`), independent of
everything else.

* **Proxies.** Education type and distance to the parents' address depend on migration
  background (:data:`EDUCATION_SHARES`, :data:`NEAR_SHARE`): non-Western students are
  more often in vocational education (mbo) and more often live near their parents
  (their parents live in the same cities as the schools). Distance is a mixture: with
  probability ``NEAR_SHARE`` uniform on 0.1–5 km, otherwise log-normal with median
  :data:`FAR_MEDIAN_KM` km (sd of the log 0.9), capped at 2,000 km. The profile's points
  for mbo and for a short distance therefore select non-Western students about twice as
  often (bands 5 and 6), as in the student-grant case.
* **True outcome** ``outcome_selection`` — an irregular claim of living away from home,
  as a complete check would find it — from ``logit p = b0 + g * sum(TRUE_EFFECTS) + 0.5 u``:
  :data:`TRUE_EFFECTS` gives +1.0 under 21, +0.5 at 21–25, +0.5 within 1 km and +0.25
  at 1–5 km of the parents; ``u`` ~ N(0, 1) is unobserved (e.g. household finances).
  Education type, worth up to 3 points in the profile, has no true effect, and distance
  only a small one, so the true rate of non-Western students equals that of Dutch
  students (age does not depend on migration background).
* **Drift.** ``b0`` stays at -3.3 while ``g`` falls from 1.0 (2019) to 0.2 (2024): what
  little the profile once captured fades, and the base rate falls with it.

The measured sizes are in :data:`MECHANISMS`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from waarborg.synth.population import (
    along,
    bernoulli,
    categorical,
    draw_levels,
    draw_values,
    generator,
    outcome,
    population,
    sigmoid,
    table,
)

INSTRUMENT = "generic-selection"
MALE_SHARE = 0.47
MIGRATION_SHARES = (0.76, 0.08, 0.16)
AGE_SHARES = dict(zip(range(17, 31), (6, 12, 13, 12, 11, 10, 9, 7, 6, 4, 3, 3, 2, 2), strict=True))
"""Relative frequency of each age (17 to 30)."""
EDUCATION = ("mbo", "hbo", "wo")
EDUCATION_SHARES = ((0.30, 0.40, 0.30), (0.30, 0.38, 0.32), (0.42, 0.37, 0.21))
"""Shares of mbo, hbo and wo per migration background (Dutch, Western, non-Western)."""
NEAR_SHARE = (0.08, 0.10, 0.17)
"""Share living within 5 km of their parents per migration background."""
FAR_MEDIAN_KM = 45.0
TRUE_EFFECTS = {"under_21": 1.0, "21_to_25": 0.5, "under_1km": 0.5, "1_to_5km": 0.25}
"""True log-odds effects of age and distance bins (first cohort; reference: the rest)."""
INTERCEPT = (-3.3, -3.3)
PROFILE_EFFECT = (1.0, 0.2)
"""Multiplier of :data:`TRUE_EFFECTS` in the first and the last cohort."""

MECHANISMS: dict[str, str] = {
    "proxies": (
        f"mbo shares {[shares[0] for shares in EDUCATION_SHARES]} and within-5-km shares "
        f"{NEAR_SHARE} (Dutch, Western, non-Western). Measured: selected (band 5 or 6) "
        "10.4% of non-Western vs 5.0% of Dutch students (ratio 2.06); true irregularity "
        "rate 6.0% vs 6.0% (ratio 1.00)."
    ),
    "true_outcome": (
        f"Irregularity from age and distance ({TRUE_EFFECTS}) and an unobserved factor; "
        "education type has no true effect. Measured: true rate 7.4% among the selected "
        "vs 5.9% among the others."
    ),
    "drift": (
        f"Intercept {INTERCEPT[0]} -> {INTERCEPT[1]}, age/distance effects x"
        f"{PROFILE_EFFECT[0]} -> x{PROFILE_EFFECT[1]} from 2019 to 2024. Measured AUC of the "
        "points score: 0.55 -> 0.51; irregularity rate 7.8% -> 4.5%."
    ),
}
"""The planted ground truth, in words and numbers (measured with n = 1,000,000, seed 0)."""


def synthesize(n: int, seed: int = 0, *, latent: bool = False) -> pa.Table:
    """Synthesize ``n`` student-grant recipients scored by ``generic-selection``.

    Parameters
    ----------
    n
        Number of cases.
    seed
        Random seed: the same seed gives the same table.
    latent
        Also return ``latent_irregularity_probability``, each student's true probability
        of an irregular claim.
    """
    rng = generator(seed, INSTRUMENT)
    pop = population(rng, n, male_share=MALE_SHARE, migration_shares=MIGRATION_SHARES)
    age = draw_values(rng, n, AGE_SHARES).astype(np.int8)
    education = draw_levels(rng, pop.migration, EDUCATION_SHARES)
    distance = _distance(rng, pop.migration)
    profile = (
        TRUE_EFFECTS["under_21"] * (age < 21)
        + TRUE_EFFECTS["21_to_25"] * ((age >= 21) & (age < 26))
        + TRUE_EFFECTS["under_1km"] * (distance < 1)
        + TRUE_EFFECTS["1_to_5km"] * ((distance >= 1) & (distance < 5))
    )
    probability = sigmoid(
        along(pop.drift, *INTERCEPT)
        + along(pop.drift, *PROFILE_EFFECT) * profile
        + 0.5 * rng.standard_normal(n)
    )
    columns = pop.columns() | {
        "education_type": categorical(education, EDUCATION),
        "age": age,
        "distance_to_parents_km": distance,
        "outcome_selection": outcome(bernoulli(rng, probability)),
    }
    if latent:
        columns["latent_irregularity_probability"] = probability
    return table(columns)


def _distance(rng: np.random.Generator, migration: np.ndarray) -> np.ndarray:
    """Distance to the parents' address in km (0.1 km resolution)."""
    n = len(migration)
    near = rng.random(n) < np.asarray(NEAR_SHARE)[migration]
    far = FAR_MEDIAN_KM * np.exp(0.9 * rng.standard_normal(n))
    km = np.where(near, rng.uniform(0.1, 5.0, n), np.minimum(far, 2000.0))
    return np.round(km, 1)
