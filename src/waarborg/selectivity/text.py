"""Every fixed text of the selectivity report and plan, in English marked with ``N_``.

The Dutch lives in the ``reports`` gettext catalog
(``waarborg/locale/nl/LC_MESSAGES/reports.po``, see ``docs/translating.md``), read by
:func:`waarborg.report.i18n.tr`; ``scripts/i18n check`` catches a missing translation.
"""

from __future__ import annotations

from typing import Any

from waarborg.report.i18n import N_, tr

__all__ = ["say"]

_TEXT: dict[str, str] = {
    "title": N_("Selectivity of the risk selection"),
    "subtitle": N_("Does the selection find more than chance, and which groups bear its checks?"),
    "source": N_("Data"),
    "cases": N_("Cases"),
    "selected": N_("Selected"),
    "reference": N_("Random reference sample"),
    "both": N_("both"),
    "overall": N_("All cases"),
    "key_figures": N_("Key figures"),
    "measure": N_("Measure"),
    "value": N_("Estimate"),
    "ci": N_("{level}% CI"),
    "n": N_("n"),
    "group": N_("Group"),
    "p": N_("p"),
    "p_holm": N_("p (Holm)"),
    "lift_p": N_("p for lift 1"),
    "reference_tag": N_("reference"),
    "by_group": N_("By group: {attribute}"),
    "composition": N_("Who is selected"),
    "burden": N_("Checks per irregularity found"),
    "rates_heading": N_("Prevalence, hit rate and lift"),
    "outcome_test": N_("Outcome (hit-rate) test"),
    "outcome_test_intro": N_(
        "If the selection treated groups alike, the hit rate among the selected would be the "
        "same in every group. Differences to the reference group (Newcombe intervals), "
        "p-values Holm-adjusted (number of comparisons: {k})."
    ),
    "design": N_("Design and assumptions"),
    "figure": N_("Prevalence and hit rate per group"),
    "figure_caption": N_(
        "Per group: the prevalence of the outcome in the population (from the random reference "
        "sample) and the hit rate among the selected, with confidence intervals ({level}%). A "
        "selection better than chance has its hit rate above the prevalence."
    ),
    "figure_alt": N_("Prevalence and hit rate per group with confidence intervals."),
    "rate_axis": N_("Share with the outcome"),
    "generated": N_("Made by waarborg {version}"),
    "prevalence": N_("Prevalence in the population"),
    "prevalence_not_selected": N_("Prevalence among the not selected"),
    "hit_rate": N_("Hit rate among the selected"),
    "lift": N_("Lift over random selection"),
    "recall": N_("Share of all outcomes found by the selection"),
    "selection_rate": N_("Selection rate"),
    "checks_per_outcome": N_("Checks per outcome found"),
    "share_all": N_("Share of all cases"),
    "share_selected": N_("Share of the selected"),
    "share_outcome": N_("Share of those with the outcome"),
    "selection_ratio": N_("Selection rate / reference group's"),
    "burden_ratio": N_("Checks per outcome / reference group's"),
    "extra_checks": N_("Extra checks per outcome vs reference group"),
    "hit_rate_difference": N_("Hit rate minus reference group's"),
    "prevalence_difference": N_("Prevalence minus reference group's"),
    "share_inferred": N_(
        "No reference share was given: it is taken as the realised share, {share} "
        "({n_reference} of {n} cases)."
    ),
    "share_given": N_(
        "The reference share was set at {given}; realised {share} ({n_reference} of {n} cases, "
        "{level}% CI {ci}; binomial test p = {p})."
    ),
    "share_off": N_(
        "The realised reference share differs from the one set (p < {alpha}): check that the "
        "draw was made as declared."
    ),
    "mar": N_(
        "{unknown_reference} of {n_reference} reference cases and {unknown_selected} of "
        "{n_selected} selected cases have no known outcome; they are assumed missing at random "
        "within their group cell."
    ),
    "outside_design": N_(
        "{count} cases have an outcome but were neither selected nor drawn: they are left out, "
        "since the design says nothing about how they came to be checked."
    ),
    "not_poststratified": N_(
        "Some group cells have no not-selected reference case with a known outcome, so the "
        "prevalence among the not selected is not post-stratified on group sizes where that "
        "happens ({where})."
    ),
    "no_reference": N_(
        "There is no reference case with a known outcome among the not selected: the "
        "prevalence, the lift and the share of outcomes found cannot be estimated."
    ),
    "no_reference_group": N_(
        "No not-selected reference case with a known outcome in {where}: the prevalence, the "
        "lift and the share of outcomes found are not estimable there."
    ),
    "assumption": N_(
        "The check finds an irregularity as often in a randomly drawn case as in a selected "
        "one with the same irregularity; the reference draw is independent of the selection "
        "and of the outcome."
    ),
    "plan_title": N_("Reference sample plan"),
    "plan_lift": N_(
        "To detect a lift of {lift} (prevalence {prevalence}, {selected} of cases selected) "
        "with power {power} at alpha {alpha}: a reference share of {share}, {n_reference} "
        "reference cases over {n} cases (power reached {reached})."
    ),
    "plan_disparity": N_(
        "To detect prevalences of {p_a} and {p_b} in two groups ({share_a} and {share_b} of "
        "cases) with power {power} at alpha {alpha}: a reference share of {share}, "
        "{n_reference} reference cases over {n} cases (power reached {reached})."
    ),
    "plan_impossible": N_(
        "Even drawing every case ({n}) does not reach power {power}: reached {reached}. More "
        "periods or a larger effect are needed."
    ),
}


def say(key: str, lang: str, **fields: Any) -> str:
    """The text ``key`` in ``lang`` with ``fields`` filled in.

    Examples
    --------
    >>> say("lift", "nl")
    'Lift ten opzichte van aselecte selectie'
    """
    text = tr(_TEXT[key], lang)
    return text.format(**fields) if fields else text
