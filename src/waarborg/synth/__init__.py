"""Synthetic populations with documented, planted mechanisms: a known ground truth.

An audit is only as trustworthy as its ability to find what is there. These generators
produce case tables for every bundled instrument in which the mechanisms an audit must
detect are *planted*, with known sizes, so the audit engine's tests, the benchmarks and
``waarborg demo`` can check that they are found:

1. **Measurement bias** — at equal true behaviour, more police registrations (or higher
   professional ratings) for some people: over-policed neighbourhoods, where people with
   a non-Western migration background live more often (``preselect-style``,
   ``oxrec-style``); rater bias (``ritax-style``).
2. **Proxies** — neutral-looking predictors that correlate with migration background:
   neighbourhood deprivation and income (``oxrec-style``), education type and distance
   to the parents' address (``generic-selection``, the student-grant case: about twice
   the selection rate for non-Western students at a nearly equal true rate).
3. **True outcome ≠ instrument** — outcomes come from a latent behaviour process with
   other weights, effects the instrument lacks and none of the measurement bias, so the
   instrument is miscalibrated in some bands and groups.
4. **Drift** — base rates and the predictor-outcome relation change over the yearly
   cohorts 2019–2024, so discrimination (AUC) decays in later cohorts.

Every table has a unique int64 ``case_id``, an int16 ``cohort``, ``sex`` and
``migration_background`` (dictionary-encoded strings), every predictor and case field
the instrument's spec needs (valid under the spec; empty values only where its missing-
value policy allows), and the observed true outcomes: ``outcome_<outcome>_<h>y`` for
models with horizons, ``outcome_<outcome>`` otherwise (0/1, int8). Each instrument
family's module documents its data-generating process; :data:`MECHANISMS` states the
planted mechanisms and their measured sizes.

Examples
--------
>>> from waarborg.synth import synthesize
>>> cases = synthesize("generic-selection", 1_000, seed=1)
>>> cases.num_rows, cases.column_names[:4]
(1000, ['case_id', 'cohort', 'sex', 'migration_background'])
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from waarborg.synth import oxrec, preselect, ritax, selection
from waarborg.synth.population import COHORTS, NEIGHBOURHOODS, OVER_POLICED
from waarborg.synth.preselect import synthesize_events

_GENERATORS: dict[str, Callable[..., pa.Table]] = {
    "oxrec-style": oxrec.synthesize,
    "preselect-style": preselect.synthesize,
    "ritax-style": ritax.synthesize,
    "generic-selection": selection.synthesize,
}

MECHANISMS: dict[str, dict[str, str]] = {
    "oxrec-style": oxrec.MECHANISMS,
    "preselect-style": preselect.MECHANISMS,
    "ritax-style": ritax.MECHANISMS,
    "generic-selection": selection.MECHANISMS,
}
"""Per instrument id: each planted mechanism in words, with its parameters and sizes."""


def synthesize(instrument_id: str, n: int, seed: int = 0, *, latent: bool = False) -> pa.Table:
    """A synthetic population of ``n`` cases for a bundled instrument.

    Parameters
    ----------
    instrument_id
        One of :func:`known_instruments`.
    n
        Number of cases (rows).
    seed
        Non-negative random seed: the same seed gives an identical table.
    latent
        Also return the latent ground truth (columns starting with ``latent_``: the
        propensity, true offence counts, over-policing), for tests of the mechanisms.
        The other columns are the same as without it.

    Returns
    -------
    pyarrow.Table
        The columns described in this module's docstring.

    Raises
    ------
    ValueError
        For an unknown instrument id (the message lists the known ones), a negative
        ``n`` or an invalid seed.
    """
    generate = _GENERATORS.get(instrument_id)
    if generate is None:
        known = ", ".join(known_instruments())
        raise ValueError(f"no synthetic population for '{instrument_id}'; known: {known}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return generate(n, seed, latent=latent)


def known_instruments() -> list[str]:
    """The instrument ids :func:`synthesize` knows, sorted."""
    return sorted(_GENERATORS)


__all__ = [
    "COHORTS",
    "MECHANISMS",
    "NEIGHBOURHOODS",
    "OVER_POLICED",
    "known_instruments",
    "synthesize",
    "synthesize_events",
]
