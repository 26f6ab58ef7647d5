"""Self-contained HTML audit report, in English or Dutch.

:func:`render` turns the audit result dict (``AuditResult.to_dict()``) into one HTML
file that opens offline: inline CSS, inline SVG plots, no scripts, fonts or links to
the network. The page leads with the verdicts in plain words, then the figures (ROC
by group, calibration, forest plots of disparities), then the tables, the proxy
analysis when present, the inputs, and a provenance footer (spec hash, data
fingerprint, software version, date).

Every number is shown with its confidence interval and n; groups flagged too small
are shown greyed and labelled, never hidden; whatever the result lacks (no outcome,
no score, no ROC curves) is said in words. All text from the data is escaped by
Jinja2's autoescaping; only the SVG produced by :mod:`waarborg.report.plots` is
inserted as markup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from waarborg.report import i18n, plots

__all__ = ["build_view", "render"]

_GROUP_METRICS = (
    "share",
    "share_selected",
    "representation",
    "selection_rate",
    "base_rate",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "ppv",
    "npv",
    "auc",
)
_VALIDITY_METRICS = (
    "base_rate",
    "auc",
    "auc_band",
    "brier",
    "calibration_slope",
    "calibration_intercept",
)
_INPUTS = (
    ("sources", "in_sources"),
    ("score", "in_score"),
    ("outcome", "in_outcome"),
    ("band", "in_band"),
    ("select", "in_select"),
    ("selected", "in_selected"),
    ("groups", "in_group"),
    ("group", "in_group"),
    ("intersections", "in_intersections"),
    ("count", "in_count"),
    ("band_order", "in_band_order"),
    ("confidence", "in_confidence"),
    ("min_group_size", "in_min_group"),
)
_SELECTION_METRICS = frozenset({"share", "share_selected", "representation", "selection_rate"})
_FOREST_METRICS = ("selection_rate", "fpr", "fnr", "ppv")
_CORRECTIONS = {
    "holm": "Holm",
    "bh": "Benjamini\u2013Hochberg",
    "fdr_bh": "Benjamini\u2013Hochberg",
}
_INTERSECTION = "\u00d7"

Tr = Callable[..., str]


# --------------------------------------------------------------------------- entry point


@functools.cache
def _environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescaping on, strict undefined."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("waarborg.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def report_environment(package: str) -> jinja2.Environment:
    """A Jinja2 environment for another report: ``package``'s templates, then these.

    The same settings as the audit report's (autoescaping on, strict undefined), so a
    report of :mod:`waarborg.areas` or :mod:`waarborg.selectivity` can extend this
    package's templates and share its style sheet.
    """
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates"),
                jinja2.PackageLoader("waarborg.report", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    result: Mapping[str, Any], lang: str = "en", conditions: Mapping[str, Any] | None = None
) -> str:
    """Render an audit result as a self-contained HTML report.

    Parameters
    ----------
    result : Mapping
        The audit result, as returned by ``AuditResult.to_dict()``. Sections may be
        missing (for example no ``validity`` without an outcome column); the report
        then says what could not be assessed and why.
    lang : str, optional
        ``"en"`` (English, default) or ``"nl"`` (Dutch).
    conditions : Mapping, optional
        A five-conditions report of the process the audit is about
        (``ConditionsReport.model_dump(mode="json")``): shown as a section of its own.

    Returns
    -------
    str
        The HTML document. The same result and language always give the same string.

    Raises
    ------
    ValueError
        If ``lang`` is not supported.

    Examples
    --------
    >>> from waarborg.report.html import render
    >>> page = render({"n": 0, "groups": {}, "verdicts": [], "flags": []}, lang="nl")
    >>> page.startswith("<!DOCTYPE html>") and '<html lang="nl">' in page
    True
    """
    view = build_view(result, i18n.check_lang(lang))
    view["conditions"] = _conditions_view(conditions, lang) if conditions else None
    return _environment().get_template("audit.html.j2").render(**view)


def _conditions_view(report: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The conditions report in the report's language."""
    return {
        "intro": i18n.t("conditions_intro", lang, process=report["process"], date=report["date"]),
        "warnings": report[f"warnings_{lang}"],
        "items": [
            {
                "number": c["number"],
                "title": c[f"title_{lang}"],
                "status": c["status"],
                "label": i18n.t(f"status_{c['status']}", lang),
                "evidence": c[f"evidence_{lang}"],
                "missing": c[f"missing_{lang}"],
            }
            for c in report["conditions"]
        ],
    }


def build_view(result: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Everything the template shows, formatted and translated.

    Parameters
    ----------
    result : Mapping
        The audit result.
    lang : str
        Language code.

    Returns
    -------
    dict
        Template variables.
    """
    level = _level(result)
    tests = result.get("tests") or {}
    method = tests.get("correction") or "holm"
    common = {
        "level": level,
        "method": _CORRECTIONS.get(str(method).lower(), str(method)),
        "alpha": i18n.fmt_number(tests.get("alpha", 0.05), lang, 2),
    }

    def tr(key: str, **fields: Any) -> str:
        return i18n.t(key, lang, **(common | fields))

    groups = _attribute_order(result.get("groups") or {})
    return {
        "lang": lang,
        "t": tr,
        "header": _header(result, lang, tr),
        "validity_verdicts": [
            {
                "status": v["status"],
                "badge": tr(f"status_{v['status']}"),
                "text": v.get(f"text_{lang}") or v["text_en"],
            }
            for v in result.get("validity_verdicts") or []
        ],
        "verdicts": _verdicts(result.get("verdicts") or [], lang),
        "has_verdicts": bool(result.get("verdicts")),
        "key_figures": _key_figures(result.get("validity") or {}, lang, tr),
        "limits": _limits(result, groups, tr),
        "flags": [_flag_text(f, lang) for f in result.get("flags") or []],
        "figures": _figures(result, groups, lang, tr),
        "validity_rows": _validity_rows(result, lang),
        "overall_rows": _leaf_rows(result.get("overall") or {}, _GROUP_METRICS, lang),
        "calibration_tables": _calibration_tables(result, lang, tr),
        "group_tables": _group_tables(result, groups, lang, tr),
        "disparity_tables": _disparity_tables(result, groups, lang, tr),
        "family_size": tests.get("family_size"),
        "proxies": _proxies(result.get("proxies"), lang),
        "inputs": _inputs(result, lang, tr),
        "glossary": _glossary(result, lang),
        "footer": _footer(result, lang, tr),
    }


# --------------------------------------------------------------------------- small helpers


def _is_leaf(x: Any) -> bool:
    """Whether ``x`` is a metric leaf ``{"value", "ci", "n"}``."""
    return isinstance(x, Mapping) and "value" in x


def _leaf_n(x: Any) -> Any:
    """The n of a leaf, or ``x`` itself when it is a bare count."""
    return x.get("n") if isinstance(x, Mapping) else x


def _count_value(x: Any) -> Any:
    """A count that may be given bare or as a leaf (the result's top-level ``n``)."""
    return x.get("value") if isinstance(x, Mapping) else x


def _level(result: Mapping[str, Any]) -> int:
    """The confidence level in percent (95 unless the inputs say otherwise)."""
    confidence = (result.get("inputs") or {}).get("confidence")
    return round(confidence * 100) if isinstance(confidence, float) else 95


def _cap(text: str) -> str:
    """``text`` with its first letter in upper case (for labels that start a cell)."""
    return text[:1].upper() + text[1:]


def _pretty_date(stamp: Any) -> str | None:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM`` (UTC noted), other text unchanged."""
    if not isinstance(stamp, str):
        return None
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::[\d.]+)?(Z|[+-]00:?00)?", stamp)
    if not m:
        return stamp
    return f"{m[1]} {m[2]}{' UTC' if m[3] else ''}"


def _cell(leaf: Any, metric: str, lang: str, *, signed: bool = False) -> dict[str, Any]:
    """A table cell: value, interval and n, formatted; ``missing`` when no value."""
    leaf = leaf if isinstance(leaf, Mapping) else {"value": leaf}
    n = leaf.get("n")
    return {
        "value": i18n.fmt_value(leaf.get("value"), metric, lang, signed=signed),
        "ci": i18n.fmt_interval(leaf.get("ci"), metric, lang, signed=signed),
        "n": i18n.fmt_count(n, lang) if n is not None else None,
        "missing": leaf.get("value") is None,
    }


def _ordered_metrics(entries: Iterable[Mapping[str, Any]], order: Sequence[str]) -> list[str]:
    """Leaf metrics present in any of ``entries``: known ones in ``order``, then the rest."""
    present: dict[str, None] = {}
    for entry in entries:
        present.update({k: None for k, v in entry.items() if _is_leaf(v)})
    known = [m for m in order if m in present]
    return known + sorted(m for m in present if m not in order)


def _attribute_order(groups: Mapping[str, Any]) -> dict[str, Any]:
    """Single attributes first, then intersections (``a×b``), each in given order."""
    ordered = sorted(groups, key=lambda a: _INTERSECTION in a)
    return {a: groups[a] for a in ordered}


def _text(x: Any, lang: str) -> str:
    """A readable value for the inputs list: lists joined, ``None`` as "none"."""
    if x is None or x == [] or x == "":
        return i18n.t("none", lang)
    if isinstance(x, bool):
        return i18n.t("yes" if x else "no", lang)
    if isinstance(x, Mapping):
        return ", ".join(f"{k} = {_text(v, lang)}" for k, v in x.items())
    if isinstance(x, list | tuple):
        return ", ".join(_text(v, lang) for v in x)
    if isinstance(x, float):
        return i18n.fmt_number(x, lang, 2)
    return str(x)


# --------------------------------------------------------------------------- top sections


def _header(result: Mapping[str, Any], lang: str, tr: Tr) -> dict[str, Any]:
    """Title block: instrument, number of cases, audit date."""
    prov = result.get("provenance") or {}
    inst = prov.get("instrument")
    name = f"{inst.get('id', '')} {inst.get('version', '')}".strip() if inst else ""
    return {
        "instrument": name or tr("instrument_unknown"),
        "n": i18n.fmt_count(_count_value(result.get("n")), lang),
        "created": _pretty_date(prov.get("created")) or tr("unknown"),
    }


def _verdicts(verdicts: Sequence[Mapping[str, Any]], lang: str) -> dict[str, list[dict]]:
    """Verdicts in the chosen language: ``found`` (significant or untested) and ``none``.

    Significant differences come first, as cards; verdicts of no significant
    difference follow in a compact list, so the findings are not buried.
    """
    out: dict[str, list[dict]] = {"found": [], "none": []}
    for v in sorted(verdicts, key=lambda v: v.get("significant") is False):
        text = v.get(f"text_{lang}") or v.get("text_en") or ""
        significant = v.get("significant")
        badge = {True: "significant", False: "not_significant"}.get(
            significant, "significance_unknown"
        )
        raw = v.get("ratio")
        ratio = raw.get("value") if isinstance(raw, Mapping) else raw
        ci = v.get("ci") or (raw.get("ci") if isinstance(raw, Mapping) else None)
        out["none" if significant is False else "found"].append(
            {
                "text": text,
                "badge": i18n.t(badge, lang),
                "significant": significant,
                "attribute": v.get("attribute"),
                "group": v.get("group"),
                "metric": i18n.metric_label(v["metric"], lang) if v.get("metric") else None,
                "ratio": i18n.fmt_number(ratio, lang, 2) if ratio is not None else None,
                "ci": i18n.fmt_interval(ci, "ratio", lang) if ci else None,
            }
        )
    return out


def _key_figures(validity: Mapping[str, Any], lang: str, tr: Tr) -> list[str]:
    """Plain sentences on discrimination and calibration, with CI and n."""
    sentences = []
    for metric, key in (
        ("auc", "auc_sentence"),
        ("calibration_slope", "slope_sentence"),
        ("calibration_intercept", "intercept_sentence"),
        ("base_rate", "base_rate_sentence"),
    ):
        leaf = validity.get(metric)
        if _is_leaf(leaf) and leaf.get("value") is not None:
            cell = _cell(leaf, metric, lang)
            sentences.append(tr(key, value=cell["value"], ci=cell["ci"], n=cell["n"] or "\u2014"))
    return sentences


def _limits(result: Mapping[str, Any], groups: Mapping[str, Any], tr: Tr) -> list[str]:
    """What the result cannot tell, in words."""
    inputs = result.get("inputs") or {}
    validity = result.get("validity") or {}
    has_outcome = bool(inputs.get("outcome")) if "outcome" in inputs else bool(validity)
    out = []
    if not has_outcome:
        out.append(tr("no_outcome"))
    elif not validity:
        out.append(tr("no_validity"))
    else:
        if "score" in inputs and not inputs.get("score"):
            out.append(tr("no_score"))
        elif "roc" not in validity:
            out.append(tr("no_roc"))
        if not (validity.get("calibration") or validity.get("calibration_deciles")):
            out.append(tr("no_calibration"))
    if not groups:
        out.append(tr("no_groups"))
    elif not result.get("disparities"):
        out.append(tr("no_disparities"))
    if any(g.get("too_small") for gs in groups.values() for g in gs.values()):
        out.append(tr("too_small_present"))
        if inputs.get("min_group_size"):
            out.append(tr("min_group", n=inputs["min_group_size"]))
    return out


def _flag_text(flag: Any, lang: str) -> str:
    """A flag as text: a string as is, a dict by its text in ``lang`` or its fields."""
    if not isinstance(flag, Mapping):
        return str(flag)
    for key in (f"text_{lang}", "text_en", "message", "text"):
        if flag.get(key):
            return str(flag[key])
    return "; ".join(f"{k}: {v}" for k, v in flag.items())


# --------------------------------------------------------------------------- figures


def _figures(
    result: Mapping[str, Any], groups: Mapping[str, Any], lang: str, tr: Tr
) -> list[dict[str, Any]]:
    """The plots, in reading order: ROC, calibration (overall, by group), forest plots."""
    validity = result.get("validity") or {}
    figures = []
    if validity.get("roc"):
        svg = plots.roc_svg(validity["roc"], lang, groups)
        figures.append(_figure("fig-roc", tr("roc_heading"), svg, tr("roc_caption")))
    if validity.get("calibration") or validity.get("calibration_deciles"):
        figures.append(_calibration_figure(result, lang, tr))
        figures.append(_calibration_groups_figure(result, tr, lang))
    disparities = result.get("disparities") or {}
    for metric in _forest_metrics(disparities):
        name = i18n.metric_label(metric, lang)
        svg = plots.forest_svg(
            disparities,
            metric,
            lang,
            reference=result.get("reference"),
            groups=groups,
            level=_level(result),
        )
        figures.append(
            _figure(
                f"fig-forest-{metric}",
                tr("forest_heading", metric=name),
                svg,
                tr("forest_caption", metric=name),
            )
        )
    return [f for f in figures if f]


def _figure(fid: str, heading: str, svg: str, caption: str, note: str = "") -> dict[str, Any]:
    """One figure for the template; the SVG is trusted markup from :mod:`plots`."""
    return {"id": fid, "heading": heading, "svg": Markup(svg), "caption": caption, "note": note}


def _calibration_figure(result: Mapping[str, Any], lang: str, tr: Tr) -> dict[str, Any] | None:
    """The calibration plot, or ``None`` when no row has an observed rate."""
    try:
        svg = plots.calibration_svg(result, lang)
    except ValueError:
        return None
    validity = result.get("validity") or {}
    rows = [*(validity.get("calibration") or []), *(validity.get("calibration_deciles") or [])]
    has_expected = any(r.get("expected") is not None for r in rows)
    caption = tr("cal_caption") if has_expected else tr("cal_band_caption")
    note = "" if validity.get("calibration_groups") else tr("cal_overall_note")
    return _figure("fig-calibration", tr("cal_heading"), svg, caption, note)


def _calibration_groups_figure(result: Mapping[str, Any], tr: Tr, lang: str) -> dict | None:
    """Calibration by group, when the audit result has it."""
    try:
        svg = plots.calibration_groups_svg(result, lang)
    except ValueError:
        return None
    return _figure(
        "fig-calibration-groups", tr("cal_groups_heading"), svg, tr("cal_groups_caption")
    )


def _forest_metrics(disparities: Mapping[str, Any]) -> list[str]:
    """Metrics to draw forest plots for: the fairness metrics the verdicts are about.

    Selection rate, false positive and negative rates and positive predictive value
    when present (their complements add nothing); otherwise whatever metric there is.
    All disparities remain in the tables.
    """
    present: dict[str, None] = {}
    for per_group in disparities.values():
        for metrics in per_group.values():
            present.update(dict.fromkeys(metrics or {}))
    chosen = [m for m in _FOREST_METRICS if m in present]
    return chosen or sorted(present)[:1]


# --------------------------------------------------------------------------- tables


def _leaf_rows(section: Mapping[str, Any], order: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """Rows ``metric | value | CI | n`` for the leaves of one section."""
    return [
        {"metric": _cap(i18n.metric_label(m, lang)), **_cell(section[m], m, lang)}
        for m in _ordered_metrics([section], order)
    ]


def _validity_rows(result: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """Validity leaves (AUC, Brier, calibration slope...) as table rows."""
    return _leaf_rows(result.get("validity") or {}, _VALIDITY_METRICS, lang)


def _calibration_tables(result: Mapping[str, Any], lang: str, tr: Tr) -> list[dict[str, Any]]:
    """One table per calibration section (bands, score deciles)."""
    validity = result.get("validity") or {}
    confidence = (result.get("inputs") or {}).get("confidence") or 0.95
    tables = []
    for key, default_kind in (("calibration", "band"), ("calibration_deciles", "decile")):
        rows = validity.get(key) or []
        if not rows:
            continue
        kind = rows[0].get("kind") or default_kind
        what = tr(kind) if kind in ("band", "decile") else str(kind)
        points = {p.label: p for p in plots.calibration_points(rows, confidence)}
        tables.append(
            {
                "caption": tr("calibration_table", what=what),
                "has_expected": any(r.get("expected") is not None for r in rows),
                "rows": [_calibration_row(r, points, lang, kind) for r in rows],
            }
        )
    return tables


def _calibration_row(
    row: Mapping[str, Any], points: Mapping[str, plots.CalPoint], lang: str, kind: str = "band"
) -> dict[str, Any]:
    """One calibration bin: observed rate with CI, expected rate, O/E with CI."""
    label = str(row.get("label", row.get("bin", "")))
    p = points.get(label)
    if kind == "decile" and label.startswith("decile "):  # "decile 3" in the audit result
        label = i18n.t("decile_n", lang, n=label.removeprefix("decile "))
    observed = {"value": p.observed, "ci": [p.low, p.high]} if p else {"value": None}
    oe = {**row["oe"], "n": None} if isinstance(row.get("oe"), Mapping) else row.get("oe")
    return {
        "label": label,
        "n": i18n.fmt_count(_count_value(row.get("n")), lang),
        "observed": _cell(observed, "base_rate", lang),
        "expected": i18n.fmt_value(p.expected if p else None, "base_rate", lang),
        "oe": _cell(oe, "oe", lang),
    }


def _group_tables(
    result: Mapping[str, Any], groups: Mapping[str, Any], lang: str, tr: Tr
) -> list[dict[str, Any]]:
    """Per attribute, a selection table and an outcome table: rows are groups.

    Splitting the metrics in two keeps each table narrow enough to read and print:
    composition and selection (share, share selected, representation, selection
    rate), then outcome and error rates (base rate, TPR, FPR, FNR, TNR, PPV, NPV,
    AUC and anything else). A table whose metrics are all absent is left out.
    """
    reference = result.get("reference") or {}
    tables = []
    for attr, per_group in groups.items():
        metrics = _ordered_metrics(per_group.values(), _GROUP_METRICS)
        ref = reference.get(attr)
        for part in ("selection", "outcome"):
            chosen = [m for m in metrics if (m in _SELECTION_METRICS) == (part == "selection")]
            if chosen:
                tables.append(_group_table(attr, per_group, chosen, ref, part, lang, tr))
    return tables


def _group_table(
    attr: str,
    per_group: Mapping[str, Any],
    metrics: Sequence[str],
    ref: Any,
    part: str,
    lang: str,
    tr: Tr,
) -> dict[str, Any]:
    """One table of ``metrics`` for the groups of ``attr``."""
    rows = [
        {
            "group": str(group),
            "n": i18n.fmt_count(_group_n(g), lang),
            "too_small": bool(g.get("too_small")),
            "reference": ref is not None and str(group) == str(ref),
            "cells": [_cell(g.get(m), m, lang) for m in metrics],
        }
        for group, g in per_group.items()
    ]
    return {
        "attribute": attr,
        "intersection": _INTERSECTION in attr,
        "caption": tr(f"groups_table_{part}", attribute=attr),
        "reference": tr("reference_is", group=ref) if ref is not None else "",
        "columns": [_cap(i18n.metric_label(m, lang)) for m in metrics],
        "rows": rows,
    }


def _group_n(g: Mapping[str, Any]) -> Any:
    """A group's number of cases: its ``n``, else the n of its share."""
    if g.get("n") is not None:
        return _count_value(g["n"])
    return _leaf_n(g.get("share") or {})


def _disparity_tables(
    result: Mapping[str, Any], groups: Mapping[str, Any], lang: str, tr: Tr
) -> list[dict[str, Any]]:
    """One table per attribute: each group against the reference, per metric."""
    disparities = result.get("disparities") or {}
    reference = result.get("reference") or {}
    tables = []
    for attr in _attribute_order(disparities):
        per_group = groups.get(attr) or {}
        ref = reference.get(attr)
        ref_entry = per_group.get(str(ref), {}) if ref is not None else {}
        rows = [
            _disparity_row(group, metric, d, per_group.get(group) or {}, ref_entry, lang)
            for group, metrics in disparities[attr].items()
            for metric, d in (metrics or {}).items()
        ]
        tables.append(
            {
                "caption": tr("disparity_table", attribute=attr),
                "reference": tr("reference_is", group=ref) if ref is not None else "",
                "rows": rows,
            }
        )
    return tables


def _disparity_row(
    group: str,
    metric: str,
    d: Mapping[str, Any],
    entry: Mapping[str, Any],
    ref_entry: Mapping[str, Any],
    lang: str,
) -> dict[str, Any]:
    """One group-metric comparison: difference, ratio, p, adjusted p, and both n."""
    diff, ratio = d.get("difference") or {}, d.get("ratio") or {}
    p = diff.get("p_value", ratio.get("p_value"))
    p_adj = diff.get("p_adjusted", ratio.get("p_adjusted"))
    n_group = _leaf_n(entry.get(metric)) if entry.get(metric) else _group_n(entry)
    n_ref = _leaf_n(ref_entry.get(metric)) if ref_entry.get(metric) else _group_n(ref_entry)
    return {
        "group": str(group),
        "metric": _cap(i18n.metric_label(metric, lang)),
        "difference": _cell({**diff, "n": None}, metric, lang, signed=True),
        "ratio": _cell({**ratio, "n": None}, "ratio", lang),
        "p": i18n.fmt_p(p, lang),
        "p_adj": i18n.fmt_p(p_adj, lang),
        "n": f"{i18n.fmt_count(n_group, lang)} / {i18n.fmt_count(n_ref, lang)}",
        "too_small": bool(entry.get("too_small")),
        "significant": isinstance(p_adj, int | float) and p_adj < 0.05,
    }


#: A predictor–attribute pair is shown in the proxy tables when the lower bound of its
#: Cramér's V reaches this (a weak association in Cohen's terms), or when neutralising the
#: predictor moves a group's selection ratio enough to get a verdict (audit.proxies).
PROXY_ASSOCIATION = 0.1


def _proxies(proxies: Any, lang: str) -> dict[str, Any] | None:
    """The proxy section: the pairs that matter in the tables, the others folded away.

    An association is shown when the two are associated (Cramér's V, lower bound at least
    :data:`PROXY_ASSOCIATION`) or neutralising the predictor earned a verdict; a row of the
    neutralisation table when its group's selection ratio moved enough for a verdict (or,
    for a predictor the whole selection rests on, the selection rates). Columns without a
    value in any row are left out.
    """
    from waarborg.audit.proxies import RATIO_MOVE  # the audit imports this module

    if not isinstance(proxies, Mapping) or not proxies:
        return None
    verdicts = proxies.get("verdicts") or []
    moved = {(v["predictor"], v["attribute"], v["group"]) for v in verdicts}
    decisive = {v["predictor"] for v in verdicts if v["attribute"] is None}

    def associated(pred: str, attr: str) -> bool:
        v = ((proxies.get("association") or {}).get(pred) or {}).get(attr) or {}
        low = (v.get("cramers_v") or {}).get("ci") or [None]
        strong = low[0] is not None and low[0] >= PROXY_ASSOCIATION
        return strong or pred in decisive or any(m[:2] == (pred, attr) for m in moved)

    def changed(pred: str, attr: str, group: str, metric: str) -> bool:
        if pred in decisive:
            return metric == "selection_rate"
        return (pred, attr, group) in moved and metric == "selection_rate_ratio"

    association = [
        {
            "predictor": str(pred),
            "attribute": str(attr),
            "cramers_v": _cell(m.get("cramers_v"), "cramers_v", lang),
            "auc": _proxy_auc(m.get("auc"), lang),
            "matters": associated(pred, attr),
        }
        for pred, per_attr in (proxies.get("association") or {}).items()
        for attr, m in per_attr.items()
    ]
    neutralised = [
        {
            "predictor": str(pred),
            "attribute": str(attr),
            "group": str(group),
            "metric": _cap(i18n.metric_label(metric, lang)),
            "before": _cell(ba.get("before"), metric, lang),
            "after": _cell(ba.get("after"), metric, lang),
            "matters": changed(pred, attr, group, metric),
        }
        for pred, per_attr in (proxies.get("neutralised") or {}).items()
        for attr, per_group in per_attr.items()
        for group, per_metric in per_group.items()
        for metric, ba in per_metric.items()
    ]
    return {
        "association": [r for r in association if r["matters"]],
        "association_rest": [r for r in association if not r["matters"]],
        "neutralised": [r for r in neutralised if r["matters"]],
        "neutralised_rest": [r for r in neutralised if not r["matters"]],
        "has_auc": any(not r["auc"]["missing"] for r in association),
        "threshold": i18n.fmt_number(PROXY_ASSOCIATION, lang, 1),
        "move": i18n.fmt_number((RATIO_MOVE - 1) * 100, lang, 0),
    }


def _proxy_auc(per_group: Any, lang: str) -> dict[str, Any]:
    """The AUC of the group the predictor separates best (farthest from 0.5), labelled."""
    leaves = {
        g: leaf
        for g, leaf in (per_group or {}).items()
        if isinstance(leaf, Mapping) and leaf.get("value") is not None
    }
    if not leaves:
        return _cell(None, "auc", lang)
    group, leaf = max(leaves.items(), key=lambda item: abs(item[1]["value"] - 0.5))
    cell = _cell(leaf, "auc", lang)
    return cell | {"value": f"{group}: {cell['value']}"}


# --------------------------------------------------------------------------- end matter


def _inputs(result: Mapping[str, Any], lang: str, tr: Tr) -> list[tuple[str, str]]:
    """The audit's inputs as label-value pairs."""
    inputs = result.get("inputs") or {}
    rows = [(tr(label), _input_text(key, inputs, lang)) for key, label in _INPUTS if key in inputs]
    reference = result.get("reference") or inputs.get("reference")
    if reference:
        rows.append((tr("in_reference"), _text(reference, lang)))
    return rows


def _input_text(key: str, inputs: Mapping[str, Any], lang: str) -> str:
    """One input, readable: the selection rule, intersections and confidence level spelt out."""
    value = inputs[key]
    if key == "select" and isinstance(value, list | tuple) and value:
        return f"{inputs.get('band') or 'band'} \u2208 {{{', '.join(map(str, value))}}}"
    if key == "intersections" and isinstance(value, list | tuple) and value:
        return ", ".join(
            _INTERSECTION.join(map(str, v)) if isinstance(v, list | tuple) else str(v)
            for v in value
        )
    if key == "confidence" and isinstance(value, float):
        return f"{round(value * 100)}%"
    return _text(value, lang)


def _glossary(result: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """Short explanations of the metrics that appear in the report."""
    entries = [result.get("validity") or {}]
    entries += [g for gs in (result.get("groups") or {}).values() for g in gs.values()]
    metrics = _ordered_metrics(entries, tuple(dict.fromkeys(_GROUP_METRICS + _VALIDITY_METRICS)))
    out = []
    for m in metrics:
        text = i18n.metric_help(m, lang)
        if text:
            out.append((_cap(i18n.metric_label(m, lang)), text))
    return out


def _footer(result: Mapping[str, Any], lang: str, tr: Tr) -> list[tuple[str, str]]:
    """Provenance: instrument and spec hash, data fingerprint, software, date."""
    prov = result.get("provenance") or {}
    inst = prov.get("instrument") or {}
    unknown = tr("unknown")
    name = f"{inst.get('id', '')} {inst.get('version', '')}".strip()
    return [
        (tr("instrument"), name or tr("instrument_unknown")),
        (tr("spec_hash"), inst.get("spec_hash") or unknown),
        (tr("fingerprint"), prov.get("data_fingerprint") or unknown),
        (tr("software"), f"waarborg {prov.get('waarborg_version') or unknown}"),
        (tr("created"), prov.get("created") or unknown),
    ]
