"""Program text and number formatting for the reports and the command line.

The fixed text of the reports is written here (and in the report modules) in English,
marked with :func:`N_`; the Dutch lives in the ``reports`` gettext catalog
(``waarborg/locale/nl/LC_MESSAGES/reports.po``, see ``docs/translating.md``), which
:func:`tr` and :func:`texts` read. A missing or inconsistent translation is caught by
``scripts/i18n check`` and the catalog tests. Numbers follow the language's conventions:
a decimal point and thousands comma in English, a decimal comma and thousands point in
Dutch, always through :func:`fmt_number`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from waarborg.i18n import N_, gettext_for

__all__ = [
    "LANGUAGES",
    "N_",
    "RATE_METRICS",
    "TWO_DECIMALS",
    "check_lang",
    "fmt_count",
    "fmt_interval",
    "fmt_number",
    "fmt_p",
    "fmt_value",
    "localise_number",
    "metric_help",
    "metric_label",
    "t",
    "texts",
    "tr",
]

LANGUAGES = ("en", "nl")


def tr(text: str, lang: str) -> str:
    """The English program text ``text`` in ``lang``, from the ``reports`` catalog.

    Examples
    --------
    >>> tr("Audit report", "nl")
    'Auditrapport'
    """
    return gettext_for(check_lang(lang), "reports")[0](text)


def texts(table: Mapping[str, str], lang: str) -> dict[str, str]:
    """A table of English program text (key to text) in ``lang``.

    Examples
    --------
    >>> texts({"title": N_("Audit report")}, "nl")
    {'title': 'Auditrapport'}
    """
    return {key: tr(text, lang) for key, text in table.items()}


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

_STRINGS: dict[str, str] = {
    "title": N_("Audit report"),
    "subtitle": N_(
        "Does the risk instrument predict what it claims, and does it treat groups differently?"
    ),
    "instrument": N_("Instrument"),
    "instrument_unknown": N_("not named"),
    "cases": N_("Cases"),
    "audit_date": N_("Audit date"),
    "contents": N_("Contents"),
    "verdicts": N_("Verdicts"),
    "validity_verdicts": N_("Does it predict well?"),
    "group_verdicts": N_("Does it treat groups alike?"),
    "status_ok": N_("in order"),
    "status_concern": N_("concern"),
    "conditions": N_("The five conditions"),
    "conditions_intro": N_(
        "The data protection authority's conditions for automated risk selection, for process"
        " {process} on {date}, checked against the evidence waarborg holds."
    ),
    "status_met": N_("met"),
    "status_not_met": N_("not met"),
    "status_unknown": N_("unknown"),
    "evidence": N_("Evidence"),
    "missing": N_("Missing"),
    "warnings": N_("Warnings"),
    "verdicts_intro": N_(
        "What the audit found, in plain words. Each finding is backed by the figures and "
        "tables further down."
    ),
    "no_verdicts": N_("The audit result contains no verdicts."),
    "significant": N_("Significant difference"),
    "not_significant": N_("No significant difference"),
    "significance_unknown": N_("Significance not tested"),
    "ratio": N_("ratio"),
    "key_figures": N_("Predictive validity in brief"),
    "auc_sentence": N_(
        "Discrimination: AUC {value} ({level}% CI {ci}; n = {n}). 0.5 is chance, 1 is perfect"
        " ranking."
    ),
    "slope_sentence": N_(
        "Calibration slope {value} ({level}% CI {ci}; n = {n}); 1 means predicted risks are "
        "neither too extreme nor too flat."
    ),
    "intercept_sentence": N_(
        "Calibration intercept {value} ({level}% CI {ci}; n = {n}); 0 means predicted risks "
        "are on average neither too high nor too low."
    ),
    "base_rate_sentence": N_("Observed outcome rate {value} ({level}% CI {ci}; n = {n})."),
    "limits": N_("What could not be assessed"),
    "flags": N_("Warnings from the audit"),
    "no_outcome": N_(
        "No outcome column was given, so predictive validity was not assessed, and error "
        "rates per group (false positives, false negatives, predictive values) could not be "
        "computed."
    ),
    "no_validity": N_(
        "The audit result contains no validity section, so predictive validity was not assessed."
    ),
    "no_score": N_(
        "No score column was given, so discrimination (AUC, ROC curves) and calibration "
        "against predicted risks could not be assessed."
    ),
    "no_roc": N_("The audit result contains no ROC curves, so they are not plotted."),
    "no_calibration": N_(
        "The audit result contains no calibration table, so calibration is not plotted."
    ),
    "no_groups": N_(
        "No group attribute was given, so differences between groups were not assessed."
    ),
    "no_disparities": N_(
        "The audit result contains no disparities (differences and ratios between groups)."
    ),
    "too_small_present": N_(
        "Some groups are too small to draw conclusions from; they are shown, marked “too "
        "small” and greyed out, but should not be interpreted."
    ),
    "min_group": N_("Groups with fewer than {n} cases are flagged too small and get no verdicts."),
    "family": N_("Adjusted p-values are corrected ({method}) for a family of {k} tests."),
    "figures": N_("Figures"),
    "roc_heading": N_("ROC curves by group"),
    "roc_caption": N_(
        "How well the score ranks cases with the outcome above cases without it, per group. "
        "The dashed grey line is the whole population; the diagonal is chance."
    ),
    "cal_heading": N_("Calibration"),
    "cal_caption": N_(
        "Observed outcome rate against predicted risk, with confidence intervals ({level}%). "
        "Points on the diagonal mean the predicted risks are right."
    ),
    "cal_overall_note": N_(
        "Calibration per group is not part of the audit result; the plot shows the whole "
        "population."
    ),
    "cal_band_caption": N_(
        "Observed outcome rate per band, with confidence intervals ({level}%). No predicted "
        "risks were available, so there is no diagonal to compare with."
    ),
    "forest_heading": N_("Disparities: {metric}"),
    "forest_caption": N_(
        "Ratio of each group's {metric} to the reference group's, with confidence "
        "intervals ({level}%), on a log scale. The vertical line at 1 means no difference. "
        "Grey rows are groups too small to draw conclusions from."
    ),
    "fpr_axis": N_("False positive rate"),
    "tpr_axis": N_("True positive rate"),
    "overall": N_("All cases"),
    "chance": N_("Chance"),
    "predicted_axis": N_("Predicted risk"),
    "observed_axis": N_("Observed outcome rate"),
    "perfect": N_("Perfect calibration"),
    "deciles": N_("Score deciles"),
    "bands": N_("Bands"),
    "band_axis": N_("Band"),
    "ratio_axis": N_("Ratio to reference group (log scale)"),
    "too_small_tag": N_("too small"),
    "reference_tag": N_("reference"),
    "not_estimable": N_("not estimable"),
    "roc_alt": N_("ROC curves by group. {groups}"),
    "cal_groups_heading": N_("Calibration by group"),
    "cal_groups_caption": N_(
        "Observed outcome rate per band for each group, with confidence intervals ({level}%). "
        "Where groups with the same predicted risk have different observed rates, the "
        "instrument is miscalibrated for one of them."
    ),
    "cal_alt": N_("Calibration plot of observed against predicted outcome rate."),
    "forest_alt": N_(
        "Forest plot of {metric} ratios with confidence intervals ({level}%): {rows}."
    ),
    "tables": N_("Tables"),
    "validity_table": N_("Predictive validity"),
    "calibration_table": N_("Calibration per {what}"),
    "bin": N_("Bin"),
    "band": N_("band"),
    "decile": N_("score decile"),
    "decile_n": N_("decile {n}"),
    "expected": N_("Expected rate"),
    "observed": N_("Observed rate"),
    "oe": N_("Observed / expected"),
    "metric": N_("Metric"),
    "value": N_("Value"),
    "ci": N_("{level}% CI"),
    "n": N_("n"),
    "group": N_("Group"),
    "groups_table_selection": N_("Composition and selection per group: {attribute}"),
    "groups_table_outcome": N_("Outcomes and errors per group: {attribute}"),
    "verdicts_none": N_("No significant difference found"),
    "no_significant": N_("The audit found no significant differences."),
    "intersection": N_("intersection"),
    "reference_is": N_("Reference group: {group}."),
    "status": N_("Status"),
    "disparity_table": N_("Disparities against the reference group: {attribute}"),
    "difference": N_("Difference"),
    "ratio_col": N_("Ratio"),
    "p": N_("p"),
    "p_adj": N_("p ({method}-adjusted)"),
    "n_group_ref": N_("n (group / reference)"),
    "sig_note": N_(
        "Rows in bold with * have an adjusted p below {alpha}. Differences in rates are in "
        "percentage points (pp)."
    ),
    "missing_note": N_(
        "— means the number could not be computed (for example: no cases in the denominator, "
        "or the input needed was not given)."
    ),
    "cell_n": N_("n = {n}"),
    "proxies": N_("Indirect discrimination: proxies"),
    "proxies_intro": N_(
        "A neutral-looking predictor can stand in for a protected attribute. The first table "
        "shows how strongly each predictor is associated with each attribute; the second "
        "shows group metrics before and after neutralising the predictor."
    ),
    "association_table": N_("Association of predictors with protected attributes"),
    "neutralised_table": N_("Group metrics before and after neutralising a predictor"),
    "proxies_shown": N_(
        "Shown: the predictors associated with an attribute (Cramér's V at least "
        "{threshold}, lower bound of the interval) or whose neutralisation moves a group's "
        "selection ratio by at least {move} percent."
    ),
    "proxies_none": N_("No predictor passes these thresholds."),
    "proxies_rest": N_("The other predictor–attribute pairs ({n}), below the thresholds"),
    "predictor": N_("Predictor"),
    "attribute": N_("Attribute"),
    "cramers_v": N_("Cramér's V"),
    "proxy_auc": N_("AUC (predictor → attribute)"),
    "before": N_("Before"),
    "after": N_("After"),
    "inputs": N_("Inputs of this audit"),
    "in_sources": N_("Data"),
    "in_confidence": N_("Confidence level"),
    "in_min_group": N_("Minimum group size"),
    "in_band_order": N_("Band order (low to high)"),
    "overall_table": N_("All cases"),
    "in_score": N_("Score column"),
    "in_outcome": N_("Outcome column"),
    "in_band": N_("Band column"),
    "in_select": N_("Selection rule"),
    "in_selected": N_("Selected column"),
    "in_group": N_("Group attributes"),
    "in_intersections": N_("Intersections"),
    "in_count": N_("Count column (aggregated data)"),
    "in_reference": N_("Reference groups"),
    "none": N_("none"),
    "yes": N_("yes"),
    "no": N_("no"),
    "glossary": N_("How to read the metrics"),
    "footer": N_("Provenance"),
    "spec_hash": N_("Instrument spec hash"),
    "fingerprint": N_("Data fingerprint (SHA-256 of the count cube audited)"),
    "software": N_("Software"),
    "created": N_("Created"),
    "unknown": N_("unknown"),
    "footer_note": N_(
        "This report was generated by waarborg from the audit result named above; the same "
        "spec, data and software version give the same report."
    ),
}

_METRICS: dict[str, str] = {
    "selection_rate": N_("selection rate"),
    "base_rate": N_("outcome rate"),
    "fpr": N_("false positive rate"),
    "fnr": N_("false negative rate"),
    "tpr": N_("true positive rate"),
    "tnr": N_("true negative rate"),
    "ppv": N_("positive predictive value"),
    "npv": N_("negative predictive value"),
    "auc": N_("AUC"),
    "brier": N_("Brier score"),
    "share": N_("share of population"),
    "share_selected": N_("share of selected"),
    "auc_band": N_("AUC of the bands"),
    "representation": N_("representation in selection"),
    "calibration_slope": N_("calibration slope"),
    "calibration_intercept": N_("calibration intercept"),
}

_METRIC_HELP: dict[str, str] = {
    "selection_rate": N_("Share of the group that was selected (flagged, put in the high band)."),
    "base_rate": N_("Share of the group in which the outcome actually occurred."),
    "fpr": N_("Of those without the outcome, the share that was selected anyway."),
    "fnr": N_("Of those with the outcome, the share that was not selected."),
    "tpr": N_("Of those with the outcome, the share that was selected."),
    "tnr": N_("Of those without the outcome, the share that was not selected."),
    "ppv": N_("Of those selected, the share in which the outcome occurred."),
    "npv": N_("Of those not selected, the share in which the outcome did not occur."),
    "auc": N_(
        "Probability that a random case with the outcome scores higher than a random case "
        "without it (0.5 is chance)."
    ),
    "brier": N_("Mean squared difference between predicted risk and outcome (lower is better)."),
    "representation": N_(
        "The group's share of the selected divided by its share of all cases (1 = in proportion)."
    ),
    "share": N_("The group's share of all cases audited."),
    "share_selected": N_("The group's share of all selected cases."),
}


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
    text = tr(_STRINGS[key], lang)
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
    return tr(entry, lang) if entry else metric.replace("_", " ")


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
    return tr(entry, lang) if entry else None


def _finite(x: Any) -> bool:
    """Return True when ``x`` is a real, finite number."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def localise_number(text: str, lang: str) -> str:
    """A number written the English way (as :func:`fmt_number` writes it) in ``lang``:
    decimal and thousands separators swapped for Dutch.

    Lets a text with numbers be formatted once and written in both languages.

    Examples
    --------
    >>> localise_number("1,234.50 (1.20–1.30)", "nl")
    '1.234,50 (1,20–1,30)'
    """
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
    if not _finite(x):
        if isinstance(x, int | float) and not isinstance(x, bool) and math.isinf(x):
            return "\u221e" if x > 0 else "\u2212\u221e"
        return "\u2014"
    if digits is None:
        text = f"{x:,.6f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"
    else:
        text = f"{x:,.{digits}f}"
    return localise_number(text, lang).replace("-", "\u2212")


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
    return localise_number(f"{int(n):,}", lang)


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
