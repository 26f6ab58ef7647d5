"""Synthetic adults released from prison or starting probation, for ``oxrec-style``.

Data-generating process (numbers are the module constants or written inline)
----------------------------------------------------------------------------
Population: 40% prisoners, 60% probationers; 90% men; migration background 55% Dutch,
10% Western, 35% non-Western; age 18 + Gamma(2, 8.5) years (mean about 35, capped at
85); neighbourhood from the shared residence model (:mod:`waarborg.synth.population`),
whose deprivation decile is the ``neighbourhood_deprivation`` predictor.

A latent criminal *propensity* ``z`` ~ N(0, 1) (+0.3 for prisoners), independent of
migration background, drives behaviour:

* **True offending history.** Prior offences ``K`` ~ Poisson(``exp(0.8 + 0.6 z + 0.15
  male + 0.5 ln(age / 25))``); of them ``Binomial(K, 0.25 + 0.15 violent index)`` violent
  and ``Binomial(rest, 0.2 + 0.3 drug use disorder)`` drug offences.
* **Measurement bias.** An offence is registered with probability :data:`DETECTION`
  (0.45 elsewhere, 0.70 in an over-policed neighbourhood; drug offences
  :data:`DRUG_DETECTION`, 0.30 vs 0.60). ``previous_violent_crime`` /
  ``previous_drug_crime`` say whether any such offence was registered; ``prior_custody``
  ~ Binomial(registered offences, 0.3 + 0.15 prisoner). Same behaviour, more flags and
  more custody in over-policed neighbourhoods — where non-Western people live more often.
* **Proxies.** Deprivation decile and income correlate with migration background
  (income's latent: ``0.9 employed + 0.3 education - 0.4 non-Western - 0.15
  deprivation z + N(0,1)``); neither has any true effect on reoffending.
* **Other predictors.** Disorders, employment and education depend on ``z`` and, for
  employment and education, on migration background (labour-market disadvantage).
  ``education`` and ``psychiatric_disorder`` are empty for 2% of cases each (their
  missing-value policy is ``range``).
* **True outcome.** Reoffending times are Weibull (shape 0.8) with log hazards

  - any: ``a_any + beta (0.8 z + 0.1 min(K, 10)) + 0.3 male - 0.3 (age - 35)/10 + 0.35
    drug use disorder + 0.2 alcohol use disorder - 0.45 employed``
  - violent: ``a_violent + beta (0.7 z + 0.15 min(K_violent, 5)) + 0.5 male - 0.35
    (age - 35)/10 + 0.4 violent index + 0.3 alcohol + 0.25 severe mental illness``

  with the intercepts of :data:`INTERCEPTS` per population. ``outcome_<o>_<h>y`` is 1
  when the time is within ``h`` years (so a 1-year event is a 2-year event), and a
  violent reoffence is also an ``any`` reoffence. Income, deprivation and psychiatric
  disorder have no true effect; the instrument's weights differ throughout.
* **Drift.** ``beta`` falls from 1.0 (2019) to 0.4 (2024); ``a_any`` falls by 0.3 and
  ``a_violent`` rises by 0.2 over the cohorts.

The measured sizes are in :data:`MECHANISMS`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from waarborg.synth.population import (
    Population,
    Residence,
    along,
    bernoulli,
    boolean,
    categorical,
    generator,
    ordinal,
    outcome,
    population,
    residence,
    sigmoid,
    table,
)

INSTRUMENT = "oxrec-style"
MALE_SHARE = 0.9
MIGRATION_SHARES = (0.55, 0.10, 0.35)
PRISONER_SHARE = 0.4
DETECTION = (0.45, 0.70)
"""Probability an offence is registered: elsewhere, in an over-policed neighbourhood."""
DRUG_DETECTION = (0.30, 0.60)
"""The same for drug offences, where policing intensity matters more."""
MISSING_SHARE = 0.02
"""Share of empty ``education`` and ``psychiatric_disorder`` (policy ``range``)."""
WEIBULL_SHAPE = 0.8
INTERCEPTS = {"prisoner": (-2.65, -3.6), "probationer": (-3.05, -3.9)}
"""Log-hazard intercepts (any, violent) in the first cohort, per population."""
INTERCEPT_DRIFT = (-0.3, 0.2)
"""Change of the (any, violent) intercepts from the first to the last cohort."""
BEHAVIOUR_EFFECT = (1.0, 0.4)
"""The weight of the latent behaviour in the first and the last cohort."""
LEVELS = {
    "population": ("prisoner", "probationer"),
    "education": ("primary", "secondary", "higher"),
    "income": ("low", "medium", "high"),
}

MECHANISMS: dict[str, str] = {
    "measurement_bias": (
        f"An offence is registered with probability {DETECTION[0]} elsewhere, {DETECTION[1]} "
        f"in an over-policed neighbourhood (drug offences {DRUG_DETECTION}). Measured "
        "(over-policed vs elsewhere, same mean true history of 3.8 prior offences): "
        "previous_violent_crime 0.50 vs 0.38, previous_drug_crime 0.32 vs 0.19, "
        "prior_custody per true prior offence 0.25 vs 0.15 (1.6x)."
    ),
    "proxies": (
        "Measured correlation with being non-Western: neighbourhood_deprivation +0.39, "
        "income (low=0, medium=1, high=2) -0.23; mean deprivation decile 7.3 (non-Western) "
        "vs 4.8 (Dutch); low income 0.71 vs 0.48; living in an over-policed neighbourhood "
        "0.51 vs 0.15. Neither deprivation nor income has a true effect."
    ),
    "true_outcome": (
        "Weibull reoffending times from latent propensity and true history (not the "
        "registered flags), other weights, no effect of income, deprivation or psychiatric "
        "disorder. Measured (all cohorts): 2-year any reoffending observed 0.28 in every "
        "group, predicted 0.216 (Dutch) vs 0.247 (non-Western): observed / expected 1.30 "
        "vs 1.15; by band (any) laag 0.22 observed vs 0.17 predicted, midden 0.47 vs 0.37, "
        "hoog 0.69 vs 0.61. 2-year violent: observed 0.137 vs 0.134, predicted 0.133 vs "
        "0.154 (Dutch vs non-Western)."
    ),
    "drift": (
        f"Behaviour weight {BEHAVIOUR_EFFECT[0]} -> {BEHAVIOUR_EFFECT[1]}, intercepts "
        f"shift {INTERCEPT_DRIFT} (any, violent) from 2019 to 2024. Measured AUC: 2-year "
        "any 0.74 -> 0.67, 2-year violent 0.73 -> 0.66; 2-year any rate 0.34 -> 0.23, "
        "violent 0.149 -> 0.124 (the weaker behaviour effect outweighs the intercept rise)."
    ),
}
"""The planted ground truth, in words and numbers (measured with n = 1,000,000, seed 0)."""


def synthesize(n: int, seed: int = 0, *, latent: bool = False) -> pa.Table:
    """Synthesize ``n`` cases scored by ``oxrec-style``; see the module docs.

    Parameters
    ----------
    n
        Number of cases.
    seed
        Random seed: the same seed gives the same table.
    latent
        Also return the latent ground truth: ``latent_propensity``,
        ``latent_prior_offences`` (true prior offences, registered or not) and
        ``latent_over_policed``.
    """
    rng = generator(seed, INSTRUMENT)
    pop = population(rng, n, male_share=MALE_SHARE, migration_shares=MIGRATION_SHARES)
    home = residence(rng, pop.migration)
    person = _person(rng, pop, home)
    history = _history(rng, person, pop.male, home.over_policed)
    outcomes = _outcomes(rng, pop, person, history)
    columns = pop.columns() | _predictor_columns(rng, person, history, home)
    columns |= {name: outcome(events) for name, events in outcomes.items()}
    if latent:
        columns |= {
            "latent_propensity": person["z"],
            "latent_prior_offences": history["offences"].astype(np.int16),
            "latent_over_policed": home.over_policed,
        }
    return table(columns)


def _person(rng: np.random.Generator, pop: Population, home: Residence) -> dict[str, np.ndarray]:
    """Population, age, latent propensity ``z``, disorders, education, employment, income."""
    n, nw, male = pop.n, pop.non_western, pop.male
    prisoner = bernoulli(rng, PRISONER_SHARE, n)
    age = np.minimum(18 + rng.gamma(2.0, 8.5, n), 85).astype(np.int8)
    age_z = (age - 35) / 10
    z = rng.standard_normal(n) + 0.3 * prisoner
    x = {"prisoner": prisoner, "age": age, "age_z": age_z, "z": z}
    x["violent_index_offence"] = bernoulli(
        rng, sigmoid(-1.0 + 0.5 * z + 0.4 * male + 0.3 * prisoner)
    )
    x["alcohol_use_disorder"] = bernoulli(rng, sigmoid(-1.5 + 0.4 * z + 0.3 * male - 0.5 * nw))
    x["drug_use_disorder"] = bernoulli(rng, sigmoid(-1.2 + 0.6 * z - 0.25 * age_z))
    x["psychiatric_disorder"] = bernoulli(rng, sigmoid(-1.0 + 0.3 * z))
    x["severe_mental_illness"] = bernoulli(
        rng, sigmoid(-2.8 + 0.3 * z + 0.8 * x["psychiatric_disorder"])
    )
    education = ordinal(rng.standard_normal(n) - 0.3 * z - 0.3 * nw, [-0.4, 1.0])
    x["education"] = education
    x["employed"] = bernoulli(rng, sigmoid(-0.1 - 0.5 * z - 0.5 * nw + 0.4 * (education - 1)))
    income_latent = (
        0.9 * x["employed"]
        + 0.3 * (education - 1)
        - 0.4 * nw
        - 0.15 * (home.deprivation - 5.5) / 2.8723
        + rng.standard_normal(n)
    )
    x["income"] = ordinal(income_latent, [0.3, 1.6])
    return x


def _history(
    rng: np.random.Generator, x: dict[str, np.ndarray], male: np.ndarray, over_policed: np.ndarray
) -> dict[str, np.ndarray]:
    """True prior offences and what the police registered of them (the biased flags)."""
    prisoner = x["prisoner"]
    offences = rng.poisson(np.exp(0.8 + 0.6 * x["z"] + 0.15 * male + 0.5 * np.log(x["age"] / 25)))
    violent = rng.binomial(offences, 0.25 + 0.15 * x["violent_index_offence"])
    drug = rng.binomial(offences - violent, 0.2 + 0.3 * x["drug_use_disorder"])
    detection = np.where(over_policed, DETECTION[1], DETECTION[0])
    drug_detection = np.where(over_policed, DRUG_DETECTION[1], DRUG_DETECTION[0])
    registered_violent = rng.binomial(violent, detection)
    registered_drug = rng.binomial(drug, drug_detection)
    registered = (
        registered_violent + registered_drug + rng.binomial(offences - violent - drug, detection)
    )
    return {
        "offences": offences,
        "violent": violent,
        "previous_violent": registered_violent > 0,
        "previous_drug": registered_drug > 0,
        "custody": np.minimum(rng.binomial(registered, 0.3 + 0.15 * prisoner), 100),
    }


def _outcomes(
    rng: np.random.Generator,
    pop: Population,
    x: dict[str, np.ndarray],
    history: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The observed true outcomes ``outcome_<violent|any>_<1|2>y``."""
    beta = along(pop.drift, *BEHAVIOUR_EFFECT)
    log_hazard_any = (
        _intercept(x["prisoner"], pop.drift, 0)
        + beta * (0.8 * x["z"] + 0.1 * np.minimum(history["offences"], 10))
        + 0.3 * pop.male
        - 0.3 * x["age_z"]
        + 0.35 * x["drug_use_disorder"]
        + 0.2 * x["alcohol_use_disorder"]
        - 0.45 * x["employed"]
    )
    log_hazard_violent = (
        _intercept(x["prisoner"], pop.drift, 1)
        + beta * (0.7 * x["z"] + 0.15 * np.minimum(history["violent"], 5))
        + 0.5 * pop.male
        - 0.35 * x["age_z"]
        + 0.4 * x["violent_index_offence"]
        + 0.3 * x["alcohol_use_disorder"]
        + 0.25 * x["severe_mental_illness"]
    )
    violent = _reoffending(rng, log_hazard_violent)
    any_ = {h: events | violent[h] for h, events in _reoffending(rng, log_hazard_any).items()}
    return {
        f"outcome_{name}_{h}y": events[h]
        for name, events in (("violent", violent), ("any", any_))
        for h in (1, 2)
    }


def _predictor_columns(
    rng: np.random.Generator,
    x: dict[str, np.ndarray],
    history: dict[str, np.ndarray],
    home: Residence,
) -> dict[str, pa.Array]:
    """The case field and the predictors, with 2% empty education and psychiatric disorder."""
    psych_missing = bernoulli(rng, MISSING_SHARE, len(x["z"]))
    education_missing = bernoulli(rng, MISSING_SHARE, len(x["z"]))
    flags = (
        "violent_index_offence",
        "alcohol_use_disorder",
        "drug_use_disorder",
        "severe_mental_illness",
        "employed",
    )
    return {
        "population": categorical(~x["prisoner"], LEVELS["population"]),
        "neighbourhood": home.column(),
        "age": x["age"],
        "previous_violent_crime": boolean(history["previous_violent"]),
        "previous_drug_crime": boolean(history["previous_drug"]),
        "prior_custody": history["custody"].astype(np.int16),
        "psychiatric_disorder": boolean(x["psychiatric_disorder"], psych_missing),
        "income": categorical(x["income"], LEVELS["income"]),
        "education": categorical(x["education"], LEVELS["education"], education_missing),
        "neighbourhood_deprivation": home.deprivation,
    } | {name: boolean(x[name]) for name in flags}


def _intercept(prisoner: np.ndarray, drift: np.ndarray, which: int) -> np.ndarray:
    """The log-hazard intercept (0: any, 1: violent) per population and cohort."""
    first = np.where(prisoner, INTERCEPTS["prisoner"][which], INTERCEPTS["probationer"][which])
    return first + INTERCEPT_DRIFT[which] * drift


def _reoffending(rng: np.random.Generator, log_hazard: np.ndarray) -> dict[int, np.ndarray]:
    """Whether a Weibull reoffending time falls within 1 and within 2 years."""
    exposure = rng.standard_exponential(len(log_hazard))
    hazard = np.exp(log_hazard)
    return {h: exposure < hazard * h**WEIBULL_SHAPE for h in (1, 2)}
