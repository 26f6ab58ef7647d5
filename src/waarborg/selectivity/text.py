"""Every fixed text of the selectivity report, English and Dutch side by side.

Kept in one place so it can move to the gettext catalogs as a whole. A missing
translation is an error at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LANGUAGES", "TEXT", "say"]

LANGUAGES = ("en", "nl")

TEXT: dict[str, dict[str, str]] = {
    # the report's parts
    "title": {
        "en": "Selectivity of the risk selection",
        "nl": "Selectiviteit van de risicoselectie",
    },
    "subtitle": {
        "en": "Does the selection find more than chance, and which groups bear its checks?",
        "nl": "Vindt de selectie meer dan toeval, en welke groepen dragen de controles?",
    },
    "source": {"en": "Data", "nl": "Gegevens"},
    "cases": {"en": "Cases", "nl": "Gevallen"},
    "selected": {"en": "Selected", "nl": "Geselecteerd"},
    "reference": {"en": "Random reference sample", "nl": "Aselecte referentiesteekproef"},
    "both": {"en": "both", "nl": "beide"},
    "overall": {"en": "All cases", "nl": "Alle gevallen"},
    "key_figures": {"en": "Key figures", "nl": "Kerncijfers"},
    "measure": {"en": "Measure", "nl": "Maat"},
    "value": {"en": "Estimate", "nl": "Schatting"},
    "ci": {"en": "{level}% CI", "nl": "{level}%-BI"},
    "n": {"en": "n", "nl": "n"},
    "group": {"en": "Group", "nl": "Groep"},
    "p": {"en": "p", "nl": "p"},
    "p_holm": {"en": "p (Holm)", "nl": "p (Holm)"},
    "lift_p": {"en": "p for lift 1", "nl": "p voor lift 1"},
    "reference_tag": {"en": "reference", "nl": "referentie"},
    "by_group": {"en": "By group: {attribute}", "nl": "Per groep: {attribute}"},
    "composition": {"en": "Who is selected", "nl": "Wie wordt geselecteerd"},
    "burden": {
        "en": "Checks per irregularity found",
        "nl": "Controles per gevonden onregelmatigheid",
    },
    "rates_heading": {
        "en": "Prevalence, hit rate and lift",
        "nl": "Prevalentie, trefkans en lift",
    },
    "outcome_test": {"en": "Outcome (hit-rate) test", "nl": "Uitkomsttoets (trefkans)"},
    "outcome_test_intro": {
        "en": "If the selection treated groups alike, the hit rate among the selected would be "
        "the same in every group. Differences to the reference group (Newcombe intervals), "
        "p-values Holm-adjusted (number of comparisons: {k}).",
        "nl": "Als de selectie groepen gelijk behandelde, zou de trefkans onder de geselecteerden "
        "in elke groep gelijk zijn. Verschillen met de referentiegroep (Newcombe-intervallen), "
        "p-waarden met Holm gecorrigeerd (aantal vergelijkingen: {k}).",
    },
    "design": {"en": "Design and assumptions", "nl": "Opzet en aannames"},
    "figure": {
        "en": "Prevalence and hit rate per group",
        "nl": "Prevalentie en trefkans per groep",
    },
    "figure_caption": {
        "en": "Per group: the prevalence of the outcome in the population (from the random "
        "reference sample) and the hit rate among the selected, with {level}% confidence "
        "intervals. A selection better than chance has its hit rate above the prevalence.",
        "nl": "Per groep: de prevalentie van de uitkomst in de populatie (uit de aselecte "
        "referentiesteekproef) en de trefkans onder de geselecteerden, met {level}%-"
        "betrouwbaarheidsintervallen. Een selectie die beter is dan toeval heeft een trefkans "
        "boven de prevalentie.",
    },
    "figure_alt": {
        "en": "Prevalence and hit rate per group with confidence intervals.",
        "nl": "Prevalentie en trefkans per groep met betrouwbaarheidsintervallen.",
    },
    "rate_axis": {"en": "Share with the outcome", "nl": "Aandeel met de uitkomst"},
    "generated": {"en": "Made by waarborg {version}", "nl": "Gemaakt met waarborg {version}"},
    # measures
    "prevalence": {"en": "Prevalence in the population", "nl": "Prevalentie in de populatie"},
    "prevalence_not_selected": {
        "en": "Prevalence among the not selected",
        "nl": "Prevalentie onder de niet-geselecteerden",
    },
    "hit_rate": {"en": "Hit rate among the selected", "nl": "Trefkans onder de geselecteerden"},
    "lift": {"en": "Lift over random selection", "nl": "Lift ten opzichte van aselecte selectie"},
    "recall": {
        "en": "Share of all outcomes found by the selection",
        "nl": "Deel van alle uitkomsten dat de selectie vindt",
    },
    "selection_rate": {"en": "Selection rate", "nl": "Selectiekans"},
    "checks_per_outcome": {
        "en": "Checks per outcome found",
        "nl": "Controles per gevonden uitkomst",
    },
    "share_all": {"en": "Share of all cases", "nl": "Aandeel in alle gevallen"},
    "share_selected": {"en": "Share of the selected", "nl": "Aandeel in de geselecteerden"},
    "share_outcome": {
        "en": "Share of those with the outcome",
        "nl": "Aandeel in wie de uitkomst heeft",
    },
    "selection_ratio": {
        "en": "Selection rate / reference group's",
        "nl": "Selectiekans / die van de referentiegroep",
    },
    "burden_ratio": {
        "en": "Checks per outcome / reference group's",
        "nl": "Controles per uitkomst / die van de referentiegroep",
    },
    "extra_checks": {
        "en": "Extra checks per outcome vs reference group",
        "nl": "Extra controles per uitkomst t.o.v. referentiegroep",
    },
    "hit_rate_difference": {
        "en": "Hit rate minus reference group's",
        "nl": "Trefkans min die van de referentiegroep",
    },
    "prevalence_difference": {
        "en": "Prevalence minus reference group's",
        "nl": "Prevalentie min die van de referentiegroep",
    },
    # notes
    "share_inferred": {
        "en": "No reference share was given: it is taken as the realised share, {share} "
        "({n_reference} of {n} cases).",
        "nl": "Er is geen referentieaandeel opgegeven: het gerealiseerde aandeel wordt gebruikt, "
        "{share} ({n_reference} van {n} gevallen).",
    },
    "share_given": {
        "en": "The reference share was set at {given}; realised {share} ({n_reference} of {n} "
        "cases, {level}% CI {ci}; binomial test p = {p}).",
        "nl": "Het referentieaandeel was vastgesteld op {given}; gerealiseerd {share} "
        "({n_reference} van {n} gevallen, {level}%-BI {ci}; binomiale toets p = {p}).",
    },
    "share_off": {
        "en": "The realised reference share differs from the one set (p < {alpha}): check that "
        "the draw was made as declared.",
        "nl": "Het gerealiseerde referentieaandeel wijkt af van het vastgestelde (p < {alpha}): "
        "controleer of de trekking is gedaan zoals vastgelegd.",
    },
    "mar": {
        "en": "{unknown_reference} of {n_reference} reference cases and {unknown_selected} of "
        "{n_selected} selected cases have no known outcome; they are assumed missing at random "
        "within their group cell.",
        "nl": "{unknown_reference} van {n_reference} referentiegevallen en {unknown_selected} van "
        "{n_selected} geselecteerde gevallen hebben geen bekende uitkomst; aangenomen wordt dat "
        "die willekeurig ontbreken binnen hun groepscel.",
    },
    "outside_design": {
        "en": "{count} cases have an outcome but were neither selected nor drawn: they are left "
        "out, since the design says nothing about how they came to be checked.",
        "nl": "{count} gevallen hebben een uitkomst maar werden niet geselecteerd en niet "
        "getrokken: die blijven buiten beschouwing, omdat de opzet niets zegt over waarom zij "
        "gecontroleerd zijn.",
    },
    "not_poststratified": {
        "en": "Some group cells have no not-selected reference case with a known outcome, so "
        "the prevalence among the not selected is not post-stratified on group sizes where "
        "that happens ({where}).",
        "nl": "Sommige groepscellen hebben geen niet-geselecteerd referentiegeval met bekende "
        "uitkomst; daar wordt de prevalentie onder de niet-geselecteerden niet "
        "nageschikt naar groepsgrootte ({where}).",
    },
    "no_reference": {
        "en": "There is no reference case with a known outcome among the not selected: the "
        "prevalence, the lift and the share of outcomes found cannot be estimated.",
        "nl": "Er is geen referentiegeval met bekende uitkomst onder de niet-geselecteerden: de "
        "prevalentie, de lift en het deel van de gevonden uitkomsten zijn niet te schatten.",
    },
    "no_reference_group": {
        "en": "No not-selected reference case with a known outcome in {where}: the prevalence, "
        "the lift and the share of outcomes found are not estimable there.",
        "nl": "Geen niet-geselecteerd referentiegeval met bekende uitkomst in {where}: de "
        "prevalentie, de lift en het deel van de gevonden uitkomsten zijn daar niet te "
        "schatten.",
    },
    "assumption": {
        "en": "The check finds an irregularity as often in a randomly drawn case as in a "
        "selected one with the same irregularity; the reference draw is independent of the "
        "selection and of the outcome.",
        "nl": "De controle vindt een onregelmatigheid even vaak bij een aselect getrokken geval "
        "als bij een geselecteerd geval met dezelfde onregelmatigheid; de referentietrekking "
        "staat los van de selectie en van de uitkomst.",
    },
    # plan
    "plan_title": {"en": "Reference sample plan", "nl": "Plan referentiesteekproef"},
    "plan_lift": {
        "en": "To detect a lift of {lift} (prevalence {prevalence}, {selected} of cases "
        "selected) with power {power} at alpha {alpha}: a reference share of {share}, "
        "{n_reference} reference cases over {n} cases (power reached {reached}).",
        "nl": "Om een lift van {lift} te ontdekken (prevalentie {prevalence}, {selected} van de "
        "gevallen geselecteerd) met onderscheidend vermogen {power} bij alfa {alpha}: een "
        "referentieaandeel van {share}, {n_reference} referentiegevallen op {n} gevallen "
        "(bereikt vermogen {reached}).",
    },
    "plan_disparity": {
        "en": "To detect prevalences of {p_a} and {p_b} in two groups ({share_a} and {share_b} "
        "of cases) with power {power} at alpha {alpha}: a reference share of {share}, "
        "{n_reference} reference cases over {n} cases (power reached {reached}).",
        "nl": "Om prevalenties van {p_a} en {p_b} in twee groepen ({share_a} en {share_b} van de "
        "gevallen) te onderscheiden met vermogen {power} bij alfa {alpha}: een "
        "referentieaandeel van {share}, {n_reference} referentiegevallen op {n} gevallen "
        "(bereikt vermogen {reached}).",
    },
    "plan_impossible": {
        "en": "Even drawing every case ({n}) does not reach power {power}: reached {reached}. "
        "More periods or a larger effect are needed.",
        "nl": "Zelfs als elk geval wordt getrokken ({n}) wordt vermogen {power} niet gehaald: "
        "bereikt {reached}. Meer periodes of een groter effect zijn nodig.",
    },
}


def _check_complete() -> None:
    for key, entry in TEXT.items():
        missing = [lang for lang in LANGUAGES if lang not in entry]
        if missing:
            raise RuntimeError(f"selectivity text {key!r} lacks {missing}")


_check_complete()


def say(key: str, lang: str, **fields: Any) -> str:
    """The text ``key`` in ``lang`` with ``fields`` filled in.

    Examples
    --------
    >>> say("lift", "nl")
    'Lift ten opzichte van aselecte selectie'
    """
    text = TEXT[key][lang]
    return text.format(**fields) if fields else text
