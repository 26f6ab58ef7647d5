"""Dutch and English strings and number formatting for the audit report.

Every piece of fixed text in the report lives here, so the two languages stay
side by side and a missing translation is an error at import time (see
:func:`_check_complete`). Numbers follow the language's conventions: a decimal
point and thousands comma in English, a decimal comma and thousands point in
Dutch.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "LANGUAGES",
    "RATE_METRICS",
    "TWO_DECIMALS",
    "check_lang",
    "fmt_count",
    "fmt_interval",
    "fmt_number",
    "fmt_p",
    "fmt_value",
    "metric_help",
    "metric_label",
    "t",
]

LANGUAGES = ("en", "nl")

#: Metrics that are proportions; shown as percentages.
RATE_METRICS = frozenset(
    {
        "selection_rate",
        "base_rate",
        "fpr",
        "fnr",
        "tpr",
        "tnr",
        "ppv",
        "npv",
        "share",
        "share_selected",
    }
)

#: Metrics shown with two decimals (ratios and calibration); others get three.
TWO_DECIMALS = frozenset(
    {"ratio", "oe", "calibration_slope", "calibration_intercept", "representation"}
)

_STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Audit report", "nl": "Auditrapport"},
    "subtitle": {
        "en": "Does the risk instrument predict what it claims, and does it treat groups "
        "differently?",
        "nl": "Voorspelt het risico-instrument wat het belooft, en behandelt het groepen "
        "verschillend?",
    },
    "instrument": {"en": "Instrument", "nl": "Instrument"},
    "instrument_unknown": {"en": "not named", "nl": "niet genoemd"},
    "cases": {"en": "Cases", "nl": "Gevallen"},
    "audit_date": {"en": "Audit date", "nl": "Datum audit"},
    "contents": {"en": "Contents", "nl": "Inhoud"},
    # verdicts
    "verdicts": {"en": "Verdicts", "nl": "Conclusies"},
    "validity_verdicts": {"en": "Does it predict well?", "nl": "Voorspelt het goed?"},
    "group_verdicts": {"en": "Does it treat groups alike?", "nl": "Behandelt het groepen gelijk?"},
    "status_ok": {"en": "in order", "nl": "in orde"},
    "status_concern": {"en": "concern", "nl": "zorg"},
    "conditions": {"en": "The five conditions", "nl": "De vijf voorwaarden"},
    "conditions_intro": {
        "en": "The data protection authority's conditions for automated risk selection, for "
        "process {process} on {date}, checked against the evidence waarborg holds.",
        "nl": "De voorwaarden van de Autoriteit Persoonsgegevens voor geautomatiseerde "
        "risicoselectie, voor proces {process} op {date}, getoetst aan het bewijs in waarborg.",
    },
    "status_met": {"en": "met", "nl": "voldaan"},
    "status_not_met": {"en": "not met", "nl": "niet voldaan"},
    "status_unknown": {"en": "unknown", "nl": "onbekend"},
    "evidence": {"en": "Evidence", "nl": "Bewijs"},
    "missing": {"en": "Missing", "nl": "Ontbreekt"},
    "warnings": {"en": "Warnings", "nl": "Waarschuwingen"},
    "verdicts_intro": {
        "en": "What the audit found, in plain words. Each finding is backed by the figures "
        "and tables further down.",
        "nl": "Wat de audit vond, in gewone woorden. Elke bevinding wordt onderbouwd door de "
        "figuren en tabellen verderop.",
    },
    "no_verdicts": {
        "en": "The audit result contains no verdicts.",
        "nl": "Het auditresultaat bevat geen conclusies.",
    },
    "significant": {"en": "Significant difference", "nl": "Significant verschil"},
    "not_significant": {"en": "No significant difference", "nl": "Geen significant verschil"},
    "significance_unknown": {"en": "Significance not tested", "nl": "Significantie niet getoetst"},
    "ratio": {"en": "ratio", "nl": "ratio"},
    "key_figures": {
        "en": "Predictive validity in brief",
        "nl": "Voorspellende validiteit in het kort",
    },
    "auc_sentence": {
        "en": "Discrimination: AUC {value} ({level}% CI {ci}; n = {n}). 0.5 is chance, "
        "1 is perfect ranking.",
        "nl": "Onderscheidend vermogen: AUC {value} ({level}%-BI {ci}; n = {n}). 0,5 is toeval, "
        "1 is een perfecte rangorde.",
    },
    "slope_sentence": {
        "en": "Calibration slope {value} ({level}% CI {ci}; n = {n}); 1 means predicted risks are "
        "neither too extreme nor too flat.",
        "nl": "Kalibratiehelling {value} ({level}%-BI {ci}; n = {n}); 1 betekent dat voorspelde "
        "risico's niet te extreem en niet te vlak zijn.",
    },
    "intercept_sentence": {
        "en": "Calibration intercept {value} ({level}% CI {ci}; n = {n}); 0 means predicted "
        "risks are on average neither too high nor too low.",
        "nl": "Kalibratie-intercept {value} ({level}%-BI {ci}; n = {n}); 0 betekent dat voorspelde "
        "risico's gemiddeld niet te hoog en niet te laag zijn.",
    },
    "base_rate_sentence": {
        "en": "Observed outcome rate {value} ({level}% CI {ci}; n = {n}).",
        "nl": "Waargenomen uitkomstpercentage {value} ({level}%-BI {ci}; n = {n}).",
    },
    # not assessed / flags
    "limits": {"en": "What could not be assessed", "nl": "Wat niet beoordeeld kon worden"},
    "flags": {"en": "Warnings from the audit", "nl": "Waarschuwingen uit de audit"},
    "no_outcome": {
        "en": "No outcome column was given, so predictive validity was not assessed, and error "
        "rates per group (false positives, false negatives, predictive values) could not be "
        "computed.",
        "nl": "Er is geen uitkomstkolom opgegeven, dus de voorspellende validiteit is niet "
        "beoordeeld en foutpercentages per groep (vals-positieven, vals-negatieven, "
        "voorspellende waarden) konden niet worden berekend.",
    },
    "no_validity": {
        "en": "The audit result contains no validity section, so predictive validity was not "
        "assessed.",
        "nl": "Het auditresultaat bevat geen validiteitsonderdeel, dus de voorspellende "
        "validiteit is niet beoordeeld.",
    },
    "no_score": {
        "en": "No score column was given, so discrimination (AUC, ROC curves) and calibration "
        "against predicted risks could not be assessed.",
        "nl": "Er is geen scorekolom opgegeven, dus onderscheidend vermogen (AUC, ROC-curves) en "
        "kalibratie ten opzichte van voorspelde risico's konden niet worden beoordeeld.",
    },
    "no_roc": {
        "en": "The audit result contains no ROC curves, so they are not plotted.",
        "nl": "Het auditresultaat bevat geen ROC-curves, dus die zijn niet getekend.",
    },
    "no_calibration": {
        "en": "The audit result contains no calibration table, so calibration is not plotted.",
        "nl": "Het auditresultaat bevat geen kalibratietabel, dus kalibratie is niet getekend.",
    },
    "no_groups": {
        "en": "No group attribute was given, so differences between groups were not assessed.",
        "nl": "Er is geen groepskenmerk opgegeven, dus verschillen tussen groepen zijn niet "
        "beoordeeld.",
    },
    "no_disparities": {
        "en": "The audit result contains no disparities (differences and ratios between groups).",
        "nl": "Het auditresultaat bevat geen verschillen of verhoudingen tussen groepen.",
    },
    "too_small_present": {
        "en": "Some groups are too small to draw conclusions from; they are shown, marked "
        "\u201ctoo small\u201d and greyed out, but should not be interpreted.",
        "nl": "Sommige groepen zijn te klein om conclusies uit te trekken; ze worden getoond, "
        "gemarkeerd als \u201cte klein\u201d en grijs weergegeven, maar moeten niet worden "
        "ge\u00efnterpreteerd.",
    },
    "min_group": {
        "en": "Groups with fewer than {n} cases are flagged too small and get no verdicts.",
        "nl": "Groepen met minder dan {n} gevallen zijn gemarkeerd als te klein en krijgen geen "
        "conclusies.",
    },
    "family": {
        "en": "Adjusted p-values are corrected ({method}) for a family of {k} tests.",
        "nl": "P-waarden zijn gecorrigeerd ({method}) voor een familie van {k} toetsen.",
    },
    # figures
    "figures": {"en": "Figures", "nl": "Figuren"},
    "roc_heading": {"en": "ROC curves by group", "nl": "ROC-curves per groep"},
    "roc_caption": {
        "en": "How well the score ranks cases with the outcome above cases without it, per "
        "group. The dashed grey line is the whole population; the diagonal is chance.",
        "nl": "Hoe goed de score gevallen met de uitkomst boven gevallen zonder de uitkomst "
        "rangschikt, per groep. De gestippelde grijze lijn is de hele populatie; de diagonaal "
        "is toeval.",
    },
    "cal_heading": {"en": "Calibration", "nl": "Kalibratie"},
    "cal_caption": {
        "en": "Observed outcome rate against predicted risk, with {level}% confidence intervals. "
        "Points on the diagonal mean the predicted risks are right.",
        "nl": "Waargenomen uitkomstpercentage tegen voorspeld risico, met {level}%-"
        "betrouwbaarheidsintervallen. Punten op de diagonaal betekenen dat de voorspelde "
        "risico's kloppen.",
    },
    "cal_overall_note": {
        "en": "Calibration per group is not part of the audit result; the plot shows the whole "
        "population.",
        "nl": "Kalibratie per groep maakt geen deel uit van het auditresultaat; de figuur toont "
        "de hele populatie.",
    },
    "cal_band_caption": {
        "en": "Observed outcome rate per band, with {level}% confidence intervals. No predicted "
        "risks were available, so there is no diagonal to compare with.",
        "nl": "Waargenomen uitkomstpercentage per band, met {level}%-betrouwbaarheidsintervallen. "
        "Er waren geen voorspelde risico's, dus er is geen diagonaal om mee te vergelijken.",
    },
    "forest_heading": {"en": "Disparities: {metric}", "nl": "Verschillen: {metric}"},
    "forest_caption": {
        "en": "Ratio of each group's {metric} to the reference group's, with {level}% confidence "
        "intervals, on a log scale. The vertical line at 1 means no difference. Grey rows are "
        "groups too small to draw conclusions from.",
        "nl": "Verhouding van {metric} van elke groep tot die van de referentiegroep, met {level}%-"
        "betrouwbaarheidsintervallen, op een logaritmische schaal. De verticale lijn bij 1 "
        "betekent geen verschil. Grijze rijen zijn groepen die te klein zijn om conclusies uit "
        "te trekken.",
    },
    # plot text
    "fpr_axis": {"en": "False positive rate", "nl": "Fout-positief percentage"},
    "tpr_axis": {"en": "True positive rate", "nl": "Terecht-positief percentage"},
    "overall": {"en": "All cases", "nl": "Alle gevallen"},
    "chance": {"en": "Chance", "nl": "Toeval"},
    "predicted_axis": {"en": "Predicted risk", "nl": "Voorspeld risico"},
    "observed_axis": {"en": "Observed outcome rate", "nl": "Waargenomen uitkomstpercentage"},
    "perfect": {"en": "Perfect calibration", "nl": "Perfecte kalibratie"},
    "deciles": {"en": "Score deciles", "nl": "Scoredecielen"},
    "bands": {"en": "Bands", "nl": "Banden"},
    "band_axis": {"en": "Band", "nl": "Band"},
    "ratio_axis": {
        "en": "Ratio to reference group (log scale)",
        "nl": "Verhouding tot referentiegroep (log-schaal)",
    },
    "too_small_tag": {"en": "too small", "nl": "te klein"},
    "reference_tag": {"en": "reference", "nl": "referentie"},
    "not_estimable": {"en": "not estimable", "nl": "niet te schatten"},
    "roc_alt": {
        "en": "ROC curves by group. {groups}",
        "nl": "ROC-curves per groep. {groups}",
    },
    "cal_groups_heading": {"en": "Calibration by group", "nl": "Kalibratie per groep"},
    "cal_groups_caption": {
        "en": "Observed outcome rate per band for each group, with {level}% confidence "
        "intervals. Where groups with the same predicted risk have different observed rates, "
        "the instrument is miscalibrated for one of them.",
        "nl": "Waargenomen uitkomstpercentage per categorie voor elke groep, met {level}%-"
        "betrouwbaarheidsintervallen. Hebben groepen met hetzelfde voorspelde risico een "
        "ander waargenomen percentage, dan klopt het instrument voor een van hen niet.",
    },
    "cal_alt": {
        "en": "Calibration plot of observed against predicted outcome rate.",
        "nl": "Kalibratiefiguur van waargenomen tegen voorspeld uitkomstpercentage.",
    },
    "forest_alt": {
        "en": "Forest plot of {metric} ratios with {level}% confidence intervals: {rows}.",
        "nl": "Forestplot van ratio's voor {metric} met {level}%-betrouwbaarheidsintervallen: "
        "{rows}.",
    },
    # tables
    "tables": {"en": "Tables", "nl": "Tabellen"},
    "validity_table": {"en": "Predictive validity", "nl": "Voorspellende validiteit"},
    "calibration_table": {"en": "Calibration per {what}", "nl": "Kalibratie per {what}"},
    "bin": {"en": "Bin", "nl": "Klasse"},
    "band": {"en": "band", "nl": "band"},
    "decile": {"en": "score decile", "nl": "scoredeciel"},
    "expected": {"en": "Expected rate", "nl": "Verwacht percentage"},
    "observed": {"en": "Observed rate", "nl": "Waargenomen percentage"},
    "oe": {"en": "Observed / expected", "nl": "Waargenomen / verwacht"},
    "metric": {"en": "Metric", "nl": "Maat"},
    "value": {"en": "Value", "nl": "Waarde"},
    "ci": {"en": "{level}% CI", "nl": "{level}%-BI"},
    "n": {"en": "n", "nl": "n"},
    "group": {"en": "Group", "nl": "Groep"},
    "groups_table_selection": {
        "en": "Composition and selection per group: {attribute}",
        "nl": "Samenstelling en selectie per groep: {attribute}",
    },
    "groups_table_outcome": {
        "en": "Outcomes and errors per group: {attribute}",
        "nl": "Uitkomsten en fouten per groep: {attribute}",
    },
    "verdicts_none": {
        "en": "No significant difference found",
        "nl": "Geen significant verschil gevonden",
    },
    "no_significant": {
        "en": "The audit found no significant differences.",
        "nl": "De audit vond geen significante verschillen.",
    },
    "intersection": {"en": "intersection", "nl": "intersectie"},
    "reference_is": {"en": "Reference group: {group}.", "nl": "Referentiegroep: {group}."},
    "status": {"en": "Status", "nl": "Status"},
    "disparity_table": {
        "en": "Disparities against the reference group: {attribute}",
        "nl": "Verschillen met de referentiegroep: {attribute}",
    },
    "difference": {"en": "Difference", "nl": "Verschil"},
    "ratio_col": {"en": "Ratio", "nl": "Ratio"},
    "p": {"en": "p", "nl": "p"},
    "p_adj": {"en": "p ({method}-adjusted)", "nl": "p ({method}-gecorrigeerd)"},
    "n_group_ref": {"en": "n (group / reference)", "nl": "n (groep / referentie)"},
    "sig_note": {
        "en": "Rows in bold with * have an adjusted p below {alpha}. Differences in rates are "
        "in percentage points (pp).",
        "nl": "Vetgedrukte rijen met * hebben een gecorrigeerde p onder {alpha}. Verschillen in "
        "percentages staan in procentpunten (%-punt).",
    },
    "missing_note": {
        "en": "\u2014 means the number could not be computed (for example: no cases in the "
        "denominator, or the input needed was not given).",
        "nl": "\u2014 betekent dat het getal niet berekend kon worden (bijvoorbeeld: geen "
        "gevallen in de noemer, of de benodigde invoer ontbrak).",
    },
    "cell_n": {"en": "n = {n}", "nl": "n = {n}"},
    # proxies
    "proxies": {
        "en": "Indirect discrimination: proxies",
        "nl": "Indirecte discriminatie: proxy's",
    },
    "proxies_intro": {
        "en": "A neutral-looking predictor can stand in for a protected attribute. The first "
        "table shows how strongly each predictor is associated with each attribute; the second "
        "shows group metrics before and after neutralising the predictor.",
        "nl": "Een neutraal ogende voorspeller kan een beschermd kenmerk vervangen. De eerste "
        "tabel toont hoe sterk elke voorspeller samenhangt met elk kenmerk; de tweede toont "
        "groepsmaten voor en na het neutraliseren van de voorspeller.",
    },
    "association_table": {
        "en": "Association of predictors with protected attributes",
        "nl": "Samenhang van voorspellers met beschermde kenmerken",
    },
    "neutralised_table": {
        "en": "Group metrics before and after neutralising a predictor",
        "nl": "Groepsmaten voor en na het neutraliseren van een voorspeller",
    },
    "predictor": {"en": "Predictor", "nl": "Voorspeller"},
    "attribute": {"en": "Attribute", "nl": "Kenmerk"},
    "cramers_v": {"en": "Cram\u00e9r's V", "nl": "Cram\u00e9rs V"},
    "proxy_auc": {
        "en": "AUC (predictor \u2192 attribute)",
        "nl": "AUC (voorspeller \u2192 kenmerk)",
    },
    "before": {"en": "Before", "nl": "Voor"},
    "after": {"en": "After", "nl": "Na"},
    # inputs, glossary, footer
    "inputs": {"en": "Inputs of this audit", "nl": "Invoer van deze audit"},
    "in_sources": {"en": "Data", "nl": "Data"},
    "in_confidence": {"en": "Confidence level", "nl": "Betrouwbaarheidsniveau"},
    "in_min_group": {"en": "Minimum group size", "nl": "Minimale groepsgrootte"},
    "in_band_order": {
        "en": "Band order (low to high)",
        "nl": "Volgorde van banden (laag naar hoog)",
    },
    "overall_table": {"en": "All cases", "nl": "Alle gevallen"},
    "in_score": {"en": "Score column", "nl": "Scorekolom"},
    "in_outcome": {"en": "Outcome column", "nl": "Uitkomstkolom"},
    "in_band": {"en": "Band column", "nl": "Bandkolom"},
    "in_select": {"en": "Selection rule", "nl": "Selectieregel"},
    "in_selected": {"en": "Selected column", "nl": "Selectiekolom"},
    "in_group": {"en": "Group attributes", "nl": "Groepskenmerken"},
    "in_intersections": {"en": "Intersections", "nl": "Intersecties"},
    "in_count": {"en": "Count column (aggregated data)", "nl": "Aantalkolom (geaggregeerde data)"},
    "in_reference": {"en": "Reference groups", "nl": "Referentiegroepen"},
    "none": {"en": "none", "nl": "geen"},
    "yes": {"en": "yes", "nl": "ja"},
    "no": {"en": "no", "nl": "nee"},
    "glossary": {"en": "How to read the metrics", "nl": "Hoe de maten te lezen"},
    "footer": {"en": "Provenance", "nl": "Herkomst"},
    "spec_hash": {"en": "Instrument spec hash", "nl": "Hash van de instrumentspecificatie"},
    "fingerprint": {
        "en": "Data fingerprint (SHA-256 of the count cube audited)",
        "nl": "Vingerafdruk van de data (SHA-256 van de geauditeerde telkubus)",
    },
    "software": {"en": "Software", "nl": "Software"},
    "created": {"en": "Created", "nl": "Aangemaakt"},
    "unknown": {"en": "unknown", "nl": "onbekend"},
    "footer_note": {
        "en": "This report was generated by waarborg from the audit result named above; the same "
        "spec, data and software version give the same report.",
        "nl": "Dit rapport is door waarborg gemaakt uit het hierboven genoemde auditresultaat; "
        "dezelfde specificatie, data en softwareversie geven hetzelfde rapport.",
    },
}

_METRICS: dict[str, dict[str, str]] = {
    "selection_rate": {"en": "selection rate", "nl": "selectiepercentage"},
    "base_rate": {"en": "outcome rate", "nl": "uitkomstpercentage"},
    "fpr": {"en": "false positive rate", "nl": "fout-positief percentage"},
    "fnr": {"en": "false negative rate", "nl": "fout-negatief percentage"},
    "tpr": {"en": "true positive rate", "nl": "terecht-positief percentage"},
    "tnr": {"en": "true negative rate", "nl": "terecht-negatief percentage"},
    "ppv": {"en": "positive predictive value", "nl": "positief voorspellende waarde"},
    "npv": {"en": "negative predictive value", "nl": "negatief voorspellende waarde"},
    "auc": {"en": "AUC", "nl": "AUC"},
    "brier": {"en": "Brier score", "nl": "Brier-score"},
    "share": {"en": "share of population", "nl": "aandeel in populatie"},
    "share_selected": {"en": "share of selected", "nl": "aandeel in selectie"},
    "auc_band": {"en": "AUC of the bands", "nl": "AUC van de banden"},
    "representation": {"en": "representation in selection", "nl": "vertegenwoordiging in selectie"},
    "calibration_slope": {"en": "calibration slope", "nl": "kalibratiehelling"},
    "calibration_intercept": {"en": "calibration intercept", "nl": "kalibratie-intercept"},
}

_METRIC_HELP: dict[str, dict[str, str]] = {
    "selection_rate": {
        "en": "Share of the group that was selected (flagged, put in the high band).",
        "nl": "Deel van de groep dat geselecteerd werd (gemarkeerd, in de hoge band gezet).",
    },
    "base_rate": {
        "en": "Share of the group in which the outcome actually occurred.",
        "nl": "Deel van de groep waarbij de uitkomst zich werkelijk voordeed.",
    },
    "fpr": {
        "en": "Of those without the outcome, the share that was selected anyway.",
        "nl": "Van wie de uitkomst niet had, het deel dat toch geselecteerd werd.",
    },
    "fnr": {
        "en": "Of those with the outcome, the share that was not selected.",
        "nl": "Van wie de uitkomst wel had, het deel dat niet geselecteerd werd.",
    },
    "tpr": {
        "en": "Of those with the outcome, the share that was selected.",
        "nl": "Van wie de uitkomst wel had, het deel dat geselecteerd werd.",
    },
    "tnr": {
        "en": "Of those without the outcome, the share that was not selected.",
        "nl": "Van wie de uitkomst niet had, het deel dat niet geselecteerd werd.",
    },
    "ppv": {
        "en": "Of those selected, the share in which the outcome occurred.",
        "nl": "Van de geselecteerden, het deel waarbij de uitkomst zich voordeed.",
    },
    "npv": {
        "en": "Of those not selected, the share in which the outcome did not occur.",
        "nl": "Van de niet-geselecteerden, het deel waarbij de uitkomst uitbleef.",
    },
    "auc": {
        "en": "Probability that a random case with the outcome scores higher than a random case "
        "without it (0.5 is chance).",
        "nl": "Kans dat een willekeurig geval met de uitkomst hoger scoort dan een willekeurig "
        "geval zonder de uitkomst (0,5 is toeval).",
    },
    "brier": {
        "en": "Mean squared difference between predicted risk and outcome (lower is better).",
        "nl": "Gemiddeld gekwadrateerd verschil tussen voorspeld risico en uitkomst (lager is "
        "beter).",
    },
    "representation": {
        "en": "The group's share of the selected divided by its share of all cases "
        "(1 = in proportion).",
        "nl": "Het aandeel van de groep in de selectie gedeeld door het aandeel in alle "
        "gevallen (1 = naar verhouding).",
    },
    "share": {
        "en": "The group's share of all cases audited.",
        "nl": "Het aandeel van de groep in alle geauditeerde gevallen.",
    },
    "share_selected": {
        "en": "The group's share of all selected cases.",
        "nl": "Het aandeel van de groep in alle geselecteerde gevallen.",
    },
}


def _check_complete() -> None:
    """Raise if any string lacks a language, so a gap is caught at import time."""
    for table in (_STRINGS, _METRICS, _METRIC_HELP):
        for key, entry in table.items():
            missing = [lang for lang in LANGUAGES if lang not in entry]
            if missing:
                raise RuntimeError(f"report string {key!r} lacks {missing}")


_check_complete()


def check_lang(lang: str) -> str:
    """Return ``lang`` if the report supports it.

    Parameters
    ----------
    lang : str
        Language code, ``"en"`` or ``"nl"``.

    Returns
    -------
    str
        The same code.

    Raises
    ------
    ValueError
        If the language is not supported.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return lang


def t(key: str, lang: str, **fields: Any) -> str:
    """Return the fixed text ``key`` in ``lang``, with ``fields`` filled in.

    Parameters
    ----------
    key : str
        Key of the string.
    lang : str
        Language code.
    **fields : Any
        Values for ``{placeholders}`` in the string.

    Returns
    -------
    str
        The translated text.
    """
    text = _STRINGS[key][lang]
    return text.format(**fields) if fields else text


def metric_label(metric: str, lang: str) -> str:
    """Return the readable name of a metric, or the key itself when unknown.

    Parameters
    ----------
    metric : str
        Metric key as in the audit result (``"fpr"``, ``"selection_rate"``...).
    lang : str
        Language code.

    Returns
    -------
    str
        The metric's name.
    """
    entry = _METRICS.get(metric)
    return entry[lang] if entry else metric.replace("_", " ")


def metric_help(metric: str, lang: str) -> str | None:
    """Return a one-sentence explanation of a metric, or ``None`` when there is none.

    Parameters
    ----------
    metric : str
        Metric key.
    lang : str
        Language code.

    Returns
    -------
    str or None
        The explanation.
    """
    entry = _METRIC_HELP.get(metric)
    return entry[lang] if entry else None


def _finite(x: Any) -> bool:
    """Return True when ``x`` is a real, finite number."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _localise(text: str, lang: str) -> str:
    """Swap decimal and thousands separators for Dutch."""
    if lang != "nl":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_number(x: Any, lang: str, digits: int | None = 2) -> str:
    """Format a number with ``digits`` decimals, ``"—"`` when missing.

    Parameters
    ----------
    x : Any
        The number (``None``, ``nan`` and infinities are handled).
    lang : str
        Language code.
    digits : int or None, optional
        Decimals to show; ``None`` shows a value as it was given (a whole number without
        decimals, otherwise up to six, trailing zeros dropped), for values a person typed.

    Returns
    -------
    str
        The formatted number; ``"∞"`` for infinity.

    Examples
    --------
    >>> fmt_number(36.6, "nl", None), fmt_number(1234.5, "nl")
    ('36,6', '1.234,50')
    """
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    if not _finite(x):
        return "\u2014"
    if digits is None:
        text = f"{x:,.6f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"
    else:
        text = f"{x:,.{digits}f}"
    return _localise(text, lang).replace("-", "\u2212")


def fmt_count(n: Any, lang: str) -> str:
    """Format a count with a thousands separator, ``"—"`` when missing.

    Parameters
    ----------
    n : Any
        The count.
    lang : str
        Language code.

    Returns
    -------
    str
        The formatted count.
    """
    if not _finite(n):
        return "\u2014"
    return _localise(f"{int(n):,}", lang)


def fmt_value(x: Any, metric: str, lang: str, *, signed: bool = False) -> str:
    """Format a metric value: percentages for rates, three decimals otherwise.

    Parameters
    ----------
    x : Any
        The value.
    metric : str
        Metric key; rates (see :data:`RATE_METRICS`) become percentages.
    lang : str
        Language code.
    signed : bool, optional
        Show a sign (for differences). Rate differences are in percentage points.

    Returns
    -------
    str
        The formatted value.
    """
    if not _finite(x):
        return fmt_number(x, lang)
    rate = metric in RATE_METRICS
    shown = x * 100 if rate else x
    text = fmt_number(shown, lang, 1 if rate else (2 if metric in TWO_DECIMALS else 3))
    if signed and x > 0:
        text = "+" + text
    if rate:
        unit = (" pp" if lang == "en" else " %-punt") if signed else "%"
        text += unit
    return text


def fmt_interval(ci: Any, metric: str, lang: str, *, signed: bool = False) -> str:
    """Format a confidence interval ``[lo, hi]`` as ``"lo–hi"``, ``"—"`` when missing.

    Parameters
    ----------
    ci : Any
        A two-element sequence, or ``None``.
    metric : str
        Metric key (rates become percentages).
    lang : str
        Language code.
    signed : bool, optional
        Format as a difference (signs, percentage points). Differences and
        intervals with a negative bound use ``"to"`` as the separator, so a minus
        sign cannot be mistaken for a dash.

    Returns
    -------
    str
        The formatted interval.
    """
    if not isinstance(ci, list | tuple) or len(ci) != 2:
        return "\u2014"
    lo, hi = ci
    if lo is None and hi is None:
        return "\u2014"
    negative = any(_finite(bound) and bound < 0 for bound in (lo, hi))
    sep = (" to " if lang == "en" else " tot ") if signed or negative else "\u2013"
    if metric in RATE_METRICS and _finite(lo) and _finite(hi):
        # the unit once, after the upper bound: "21.0–25.2%", "+2.0 to +8.0 pp"
        a, b = (("+" if signed and x > 0 else "") + fmt_number(x * 100, lang, 1) for x in (lo, hi))
        unit = (" pp" if lang == "en" else " %-punt") if signed else "%"
        return f"{a}{sep}{b}{unit}"
    a, b = (fmt_value(x, metric, lang, signed=signed) for x in (lo, hi))
    return f"{a}{sep}{b}"


def fmt_p(p: Any, lang: str) -> str:
    """Format a p-value: three decimals, ``"< 0.001"`` below that.

    Parameters
    ----------
    p : Any
        The p-value.
    lang : str
        Language code.

    Returns
    -------
    str
        The formatted p-value.
    """
    if not _finite(p):
        return "\u2014"
    if p < 0.001:
        return "< " + fmt_number(0.001, lang, 3)
    return fmt_number(p, lang, 3)
