"""Synthetic youth suspects for ``preselect-style``, and their police event records.

Data-generating process (all numbers are the module constants below)
--------------------------------------------------------------------
Population: suspects aged 12–17 at the current registration (``reference_date``, a day
in the cohort year), 80% boys; migration background 55% Dutch, 8% Western, 37%
non-Western; neighbourhood from the shared residence model
(:mod:`waarborg.synth.population`: 15% of Dutch, 51% of non-Western youths live in an
over-policed neighbourhood).

Two latent traits, both N(0, 1) and independent of group: offending *propensity* ``z``
and *family adversity* ``f``.

* **Behaviour.** True offences in the five years before the reference date:
  Poisson with mean ``exp(0.2 + 0.9 z + 0.15 (age - 14.5))`` (2.1 on average).
* **Measurement bias.** Each offence becomes a registration as a suspect with
  probability :data:`DETECTION` — 0.40 elsewhere, 0.70 in an over-policed
  neighbourhood: at equal behaviour, 1.75× the registrations. Registrations as an
  involved party (Poisson, mean ``exp(-1.0 + 0.5 f)``) and housemates' registrations
  (Poisson, mean ``exp(-0.3 + 0.7 f)``) are multiplied by :data:`POLICING_BOOST` (1.5)
  in over-policed neighbourhoods.
* **Age at the first registration** is the age at the earliest counted registration as
  a suspect (within the five-year window: that is what the spec's data rules compute):
  ``age - Binomial(age - a5, 1 - 0.75 ** registrations)`` where ``a5`` is the age five
  years before the reference date; empty for a youth without such registrations.
* **True outcome** ``outcome_reoffending_2y`` — true reoffending within two years, as a
  perfect follow-up would record it (no measurement bias):
  ``logit p = b0 + beta (1.1 z + 0.3 f) + 0.3 male + 0.15 violence - 0.08 (age - 14.5)``.
  The instrument instead weighs the (biased) registration counts, housemates'
  registrations (no true effect of their own) and sex with 0.4.
* **Drift.** ``b0`` moves from -0.6 (2019) to -1.1 (2024) and ``beta`` from 1.0 to 0.45,
  so the base rate falls and the registration history predicts less each year.

The measured sizes of what an audit should find are in :data:`MECHANISMS`.

Event records
-------------
:func:`synthesize_events` writes, for a case table from :func:`synthesize`, the police
events whose counting under the spec's ``data_rules`` gives back exactly the table's
``prior_suspect_registrations``, ``involved_party_registrations`` and
``age_at_first_registration``, plus events the rules must remove: acquittals and
dismissals as wrongly suspected (twice as frequent in over-policed neighbourhoods: more
people wrongly suspected), registrations older than five years, and registrations after
the reference date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from waarborg.synth.calendar import Dates, completed_years, year_start
from waarborg.synth.population import (
    OVER_POLICED,
    Population,
    along,
    bernoulli,
    categorical,
    draw_levels,
    draw_values,
    generator,
    outcome,
    over_policed_share,
    population,
    residence,
    sigmoid,
    table,
)

INSTRUMENT = "preselect-style"
MALE_SHARE = 0.8
MIGRATION_SHARES = (0.55, 0.08, 0.37)
AGE_SHARES = {12: 0.05, 13: 0.10, 14: 0.16, 15: 0.21, 16: 0.23, 17: 0.25}
OFFENCES = ("property", "violence", "vandalism", "drugs", "other")
OFFENCE_SHARES = (0.35, 0.25, 0.15, 0.10, 0.15)
DETECTION = (0.40, 0.70)
"""Probability that an offence is registered: elsewhere, in an over-policed neighbourhood."""
POLICING_BOOST = 1.5
"""Factor on involved-party and housemates' registrations in over-policed neighbourhoods."""
INTERCEPT = (-0.6, -1.1)
"""The true outcome's intercept in the first and the last cohort."""
BEHAVIOUR_EFFECT = (1.0, 0.45)
"""The true effect of the latent behaviour in the first and the last cohort."""
LOOKBACK_YEARS = 5
EXCLUDED_RATE = {"acquittal": 0.10, "dismissed_wrongly_suspected": 0.06}
"""Mean number of such events per case outside over-policed neighbourhoods (×2 inside)."""
OLD_RATE = 0.25
LATE_RATE = 0.08
SUSPECT_DISPOSITIONS = ("conviction", "settlement", "pending")
SUSPECT_DISPOSITION_SHARES = (0.45, 0.35, 0.20)
INVOLVED_DISPOSITION = "not_applicable"

MECHANISMS: dict[str, str] = {
    "population": (
        f"Suspects aged 12-17, {MALE_SHARE:.0%} boys; migration background Dutch/Western/"
        f"non-Western {MIGRATION_SHARES}; {over_policed_share()['non_western']:.0%} of "
        f"non-Western and {over_policed_share()['dutch']:.0%} of Dutch youths live in one of "
        f"the over-policed neighbourhoods {', '.join(OVER_POLICED)}."
    ),
    "measurement_bias": (
        f"An offence is registered with probability {DETECTION[0]} elsewhere and "
        f"{DETECTION[1]} in an over-policed neighbourhood ({DETECTION[1] / DETECTION[0]:.2f}x "
        "registrations at equal behaviour); involved-party and housemates' registrations "
        f"x{POLICING_BOOST}. Measured: suspect registrations per true offence 0.70 vs 0.40; "
        "mean prior_suspect_registrations 1.15 (non-Western) vs 0.93 (Dutch) at the same "
        "mean number of true offences (2.09); housemates' registrations 1.19 vs 1.02."
    ),
    "proxies": (
        "Neighbourhood correlates with migration background, and through over-policing so "
        "do the registration counts the instrument weighs."
    ),
    "true_outcome": (
        "Reoffending within 2 years from logit = b0 + beta (1.1 z + 0.3 f) + 0.3 male + "
        "0.15 violence - 0.08 (age - 14.5): true behaviour, not registrations; housemates' "
        "registrations have no effect of their own. Measured (all cohorts): observed rate "
        "0.37 in every group; the instrument's linear predictor is 0.09 higher for "
        "non-Western than for Dutch youths (mean probability 0.151 vs 0.138; observed / "
        "expected 2.43 vs 2.65, i.e. 0.92x). Overall the spec's probabilities are far "
        "below the observed rate (0.14 vs 0.37; band laag 0.13 predicted vs 0.35 observed)."
    ),
    "drift": (
        f"Intercept {INTERCEPT[0]} -> {INTERCEPT[1]} and behaviour effect "
        f"{BEHAVIOUR_EFFECT[0]} -> {BEHAVIOUR_EFFECT[1]} from 2019 to 2024. Measured: base "
        "rate 0.43 -> 0.31, AUC of the instrument 0.65 -> 0.59."
    ),
    "events": (
        f"synthesize_events adds acquittals ({EXCLUDED_RATE['acquittal']} per case, x2 in "
        "over-policed neighbourhoods), dismissals as wrongly suspected "
        f"({EXCLUDED_RATE['dismissed_wrongly_suspected']}, x2), both inside the five-year "
        f"window; registrations older than five years ({OLD_RATE} per case old enough) and "
        f"in the two years after the reference date ({LATE_RATE} per case)."
    ),
}
"""The planted ground truth, in words and numbers (measured with n = 1,000,000, seed 0)."""


def synthesize(n: int, seed: int = 0, *, latent: bool = False) -> pa.Table:
    """Synthesize ``n`` youth suspects scored by ``preselect-style``; see the module docs.

    Parameters
    ----------
    n
        Number of cases.
    seed
        Random seed: the same seed gives the same table.
    latent
        Also return the latent ground truth: ``latent_propensity``,
        ``latent_family_adversity``, ``latent_offences`` (true offences in the five-year
        window) and ``latent_over_policed``.
    """
    rng = generator(seed, INSTRUMENT)
    pop = population(rng, n, male_share=MALE_SHARE, migration_shares=MIGRATION_SHARES)
    home = residence(rng, pop.migration)
    reference, birth, age = _dates(rng, pop)
    z, f = rng.standard_normal(n), rng.standard_normal(n)
    offences = rng.poisson(np.exp(0.2 + 0.9 * z + 0.15 * (age - 14.5)))
    suspect = rng.binomial(offences, np.where(home.over_policed, DETECTION[1], DETECTION[0]))
    boost = np.where(home.over_policed, POLICING_BOOST, 1.0)
    involved = rng.poisson(np.exp(-1.0 + 0.5 * f) * boost)
    housemates = rng.poisson(np.exp(-0.3 + 0.7 * f) * boost)
    first_age = _age_at_first(rng, reference, birth, age, suspect)
    offence = draw_levels(rng, np.zeros(n, dtype=np.int8), [OFFENCE_SHARES])
    logit = (
        along(pop.drift, *INTERCEPT)
        + along(pop.drift, *BEHAVIOUR_EFFECT) * (1.1 * z + 0.3 * f)
        + 0.3 * pop.male
        + 0.15 * (offence == OFFENCES.index("violence"))
        - 0.08 * (age - 14.5)
    )
    columns = pop.columns() | {
        "neighbourhood": home.column(),
        "reference_date": pa.array(reference.datetime64()),
        "birth_date": pa.array(birth.datetime64()),
        "age": age.astype(np.int8),
        "offence": categorical(offence, OFFENCES),
        "prior_suspect_registrations": suspect.astype(np.int16),
        "age_at_first_registration": pa.array(first_age, mask=first_age < 0),
        "involved_party_registrations": involved.astype(np.int16),
        "housemate_suspect_registrations": housemates.astype(np.int16),
        "outcome_reoffending_2y": outcome(bernoulli(rng, sigmoid(logit))),
    }
    if latent:
        columns |= {
            "latent_propensity": z,
            "latent_family_adversity": f,
            "latent_offences": offences.astype(np.int16),
            "latent_over_policed": home.over_policed,
        }
    return table(columns)


def _dates(rng: np.random.Generator, pop: Population) -> tuple[Dates, Dates, np.ndarray]:
    """A reference date in the cohort year, a birth date giving the drawn age, the age."""
    start = year_start(pop.cohort.astype(np.int64))
    length = year_start(pop.cohort.astype(np.int64) + 1) - start
    reference = Dates(start + (rng.random(pop.n) * length).astype(np.int64))
    drawn = draw_values(rng, pop.n, AGE_SHARES)
    oldest = reference.years_earlier(drawn + 1).days + 1
    span = reference.years_earlier(drawn).days - oldest + 1
    birth = Dates(oldest + (rng.random(pop.n) * span).astype(np.int64))
    return reference, birth, completed_years(birth, reference)


def _age_at_first(
    rng: np.random.Generator,
    reference: Dates,
    birth: Dates,
    age: np.ndarray,
    registrations: np.ndarray,
) -> np.ndarray:
    """Age at the first counted registration (-1 where there is none).

    It lies between the age five years before the reference date and the current age;
    more registrations as a suspect make an earlier start likelier.
    """
    earliest = completed_years(birth, reference.years_earlier(LOOKBACK_YEARS))
    back = rng.binomial(age - earliest, 1.0 - 0.75**registrations)
    return np.where(registrations > 0, age - back, -1).astype(np.int8)


# --------------------------------------------------------------------------- event records


def synthesize_events(cases: pa.Table, seed: int = 0) -> pa.Table:
    """Police event records for a ``preselect-style`` case table from :func:`synthesize`.

    Applying the spec's data rules to these events gives back exactly the cases'
    ``prior_suspect_registrations``, ``involved_party_registrations`` and
    ``age_at_first_registration``; the other events are ones the rules must remove
    (see the module docs and ``MECHANISMS["events"]``).

    Parameters
    ----------
    cases
        A table with ``case_id``, ``reference_date``, ``birth_date``, ``neighbourhood``
        and the three derived columns.
    seed
        Random seed of the event draws.

    Returns
    -------
    pyarrow.Table
        ``case_id`` (int64), ``date`` (date32), ``disposition`` and ``role``
        (``suspect`` or ``involved``), sorted by case and date.

    Raises
    ------
    ValueError
        If ``cases`` lacks one of the columns the events are drawn from.
    """
    rng = generator(seed, INSTRUMENT + "/events")
    case = _Cases(cases)
    parts = [
        _counted(rng, case),
        *(_excluded(rng, case, name, rate) for name, rate in EXCLUDED_RATE.items()),
        _old(rng, case),
        _late(rng, case),
    ]
    owner, date, disposition, role = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((date, owner))
    dispositions = [*SUSPECT_DISPOSITIONS, INVOLVED_DISPOSITION, *EXCLUDED_RATE]
    return pa.table(
        {
            "case_id": pa.array(case.case_id[owner[order]]),
            "date": pa.array(date[order].astype(np.int32), pa.date32()),
            "disposition": categorical(disposition[order], dispositions),
            "role": categorical(role[order], ("suspect", "involved")),
        }
    )


class _Cases:
    """The case columns the events are drawn from; dates as day numbers."""

    REQUIRED = (
        "case_id",
        "reference_date",
        "birth_date",
        "neighbourhood",
        "prior_suspect_registrations",
        "involved_party_registrations",
        "age_at_first_registration",
    )

    def __init__(self, cases: pa.Table) -> None:
        missing = [name for name in self.REQUIRED if name not in cases.column_names]
        if missing:
            raise ValueError(
                f"the case table lacks {missing}: give a table from "
                "synthesize('preselect-style', ...)"
            )

        def days(name: str) -> np.ndarray:
            return cases.column(name).cast(pa.int32()).to_numpy().astype(np.int64)

        self.case_id = cases.column("case_id").to_numpy()
        self.reference = days("reference_date")
        self.birth = days("birth_date")
        self.suspect = cases.column("prior_suspect_registrations").to_numpy().astype(np.int64)
        self.involved = cases.column("involved_party_registrations").to_numpy().astype(np.int64)
        first = cases.column("age_at_first_registration").fill_null(-1)
        self.first_age = first.to_numpy().astype(np.int64)
        hood = cases.column("neighbourhood").cast(pa.string()).to_numpy(zero_copy_only=False)
        self.over_policed = np.isin(hood, OVER_POLICED)
        self.window = Dates(self.reference).years_earlier(LOOKBACK_YEARS).days

    @property
    def n(self) -> int:
        """The number of cases."""
        return len(self.case_id)

    def reaches(self, age: np.ndarray | int, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The day (number) on which the cases in ``rows`` reach ``age``."""
        return Dates(self.birth[rows]).anniversary(age).days


Events = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Owner row, date (day number), disposition code and role code of a batch of events."""


def _counted(rng: np.random.Generator, case: _Cases) -> Events:
    """The events the rules keep: suspect and involved registrations in the window.

    A case's first suspect registration falls on a day at its age at the first
    registration, its other suspect registrations after that; its involved-party
    registrations anywhere in the five-year window.
    """
    has = np.flatnonzero(case.suspect > 0)
    age = case.first_age[has]
    low = np.maximum(case.window[has], case.reaches(age, has))
    high = np.minimum(case.reference[has], case.reaches(age + 1, has) - 1)
    first = _uniform_days(rng, low, high)
    later = np.repeat(np.arange(len(has)), case.suspect[has] - 1)
    later_date = _uniform_days(rng, first[later], case.reference[has][later])
    involved = np.repeat(np.arange(case.n), case.involved)
    involved_date = _uniform_days(rng, case.window[involved], case.reference[involved])
    suspects = len(has) + len(later)
    is_suspect = np.arange(suspects + len(involved)) < suspects
    return (
        np.concatenate([has, has[later], involved]),
        np.concatenate([first, later_date, involved_date]),
        _dispositions(rng, is_suspect),
        (~is_suspect).astype(np.int8),
    )


def _excluded(rng: np.random.Generator, case: _Cases, disposition: str, rate: float) -> Events:
    """Suspect registrations ending in ``disposition``, inside the window, from age 12."""
    counts = rng.poisson(np.where(case.over_policed, 2 * rate, rate))
    owner = np.repeat(np.arange(case.n), counts)
    low = np.maximum(case.window, case.reaches(12))
    date = _uniform_days(rng, low[owner], case.reference[owner])
    code = len(SUSPECT_DISPOSITIONS) + 1 + list(EXCLUDED_RATE).index(disposition)
    return owner, date, np.full(len(owner), code, np.int8), np.zeros(len(owner), np.int8)


def _old(rng: np.random.Generator, case: _Cases) -> Events:
    """Registrations from age 8 up to the day before the five-year window opens."""
    low, high = case.reaches(8), case.window - 1
    counts = np.where(low <= high, rng.poisson(OLD_RATE, case.n), 0)
    owner = np.repeat(np.arange(case.n), counts)
    return _kept_kind(rng, owner, _uniform_days(rng, low[owner], high[owner]))


def _late(rng: np.random.Generator, case: _Cases) -> Events:
    """Registrations within two years after the reference date."""
    owner = np.repeat(np.arange(case.n), rng.poisson(LATE_RATE, case.n))
    start = case.reference[owner] + 1
    return _kept_kind(rng, owner, _uniform_days(rng, start, start + 729))


def _kept_kind(rng: np.random.Generator, owner: np.ndarray, date: np.ndarray) -> Events:
    """Events of a counted kind (suspect 60%, involved 40%) at the given dates."""
    is_suspect = rng.random(len(owner)) < 0.6
    return owner, date, _dispositions(rng, is_suspect), (~is_suspect).astype(np.int8)


def _dispositions(rng: np.random.Generator, is_suspect: np.ndarray) -> np.ndarray:
    """A counted disposition for suspects; ``not_applicable`` for involved parties."""
    drawn = draw_levels(rng, np.zeros(len(is_suspect), np.int8), [SUSPECT_DISPOSITION_SHARES])
    return np.where(is_suspect, drawn, len(SUSPECT_DISPOSITIONS)).astype(np.int8)


def _uniform_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A day number drawn uniformly between ``low`` and ``high`` (both inclusive)."""
    return low + (rng.random(len(low)) * (high - low + 1)).astype(np.int64)


__all__ = ["MECHANISMS", "synthesize", "synthesize_events"]
