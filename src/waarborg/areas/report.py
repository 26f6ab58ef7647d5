"""The area audit's report (self-contained HTML, Dutch or English) and text summary.

The page leads with the verdicts — success criteria, exposure findings and warnings
such as the feedback loop — then the accuracy figures, the baselines, a map of the
selections (inline SVG drawn from the cells' coordinates: no tiles, no network, no
scripts), exposure by group, stops and checks, calibration, inputs and provenance.
Everything from files (cell ids, group names, descriptions) goes through Jinja2's
autoescaping or :func:`html.escape` in the SVG; Dutch output uses the decimal comma.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from waarborg.report import i18n
from waarborg.report.html import report_environment
from waarborg.report.i18n import N_, tr

__all__ = ["policy_label", "render", "render_feedback", "summary"]

_S: dict[str, str] = {
    "title": N_("Area audit"),
    "subtitle": N_(
        "Accuracy, baselines, exposure of residents and stops of an area-based risk instrument"
    ),
    "instrument": N_("Instrument"),
    "unknown_instrument": N_("not named"),
    "span": N_("Periods"),
    "span_text": N_("{periods} periods of {days} days, {first} to {last}; {cells} cells"),
    "created": N_("Audit date"),
    "verdicts": N_("Verdicts"),
    "goal": N_("Goal"),
    "criteria": N_("Success criteria"),
    "no_criteria": N_(
        "No goal with measurable success criteria was given: whether the instrument works as "
        "intended cannot be judged."
    ),
    "met": N_("met"),
    "not_met": N_("not met"),
    "unknown": N_("unknown"),
    "exposure_findings": N_("Exposure findings"),
    "no_exposure_finding": N_(
        "No group's exposure differs significantly from the reference group's."
    ),
    "significant": N_("significant"),
    "warnings": N_("Warnings and notes"),
    "accuracy": N_("Accuracy"),
    "accuracy_intro": N_(
        "Pooled over all periods; intervals from a block bootstrap over periods ({level}%)."
    ),
    "metric": N_("Metric"),
    "value": N_("Value"),
    "ci": N_("{level}% CI"),
    "hit_rate": N_("Hit rate"),
    "hit_rate_help": N_("share of the period's incidents in selected cells"),
    "area_share": N_("Area selected"),
    "area_share_help": N_("share of cells selected"),
    "pai": N_("PAI"),
    "pai_help": N_("hit rate divided by area share (1 = no better than chance)"),
    "pei": N_("PEI"),
    "pei_help": N_("incidents caught over the most a selection of that size could catch"),
    "auc": N_("AUC over cells"),
    "auc_help": N_("mean over periods; 0.5 is chance"),
    "jaccard": N_("Stability (Jaccard)"),
    "jaccard_help": N_("overlap of the selection with the previous period's"),
    "oe": N_("Calibration O/E"),
    "oe_help": N_("observed over expected incidents (exact Poisson interval)"),
    "baselines": N_("Against simple alternatives"),
    "baselines_intro": N_(
        "Each alternative selects as many cells as the model did, on the same periods; the "
        "difference is paired over periods."
    ),
    "baseline": N_("Alternative"),
    "periods": N_("Periods"),
    "base_hit": N_("Its hit rate"),
    "model_hit": N_("Model hit rate"),
    "difference": N_("Difference"),
    "gain": N_("Relative gain"),
    "last_period": N_("last period's hot spots"),
    "long_run": N_("long-run hot spots"),
    "random": N_("random selection"),
    "model": N_("model"),
    "hit_figure": N_("Hit rate per period"),
    "map": N_("Map of the selections"),
    "map_caption": N_(
        "Left: how often each cell was selected (darker = more often; cells never selected "
        "are blank). Right: the selection in the last periods. North is up."
    ),
    "no_map": N_("No map: the cells' coordinates were not given (--cells)."),
    "exposure": N_("Exposure of residents by group"),
    "exposure_intro": N_(
        "Share of each group's residents living in a selected cell (average over periods), "
        "its ratio to the reference group '{ref}', and the same for the incidents recorded "
        "around them."
    ),
    "no_exposure": N_("No residents table was given: exposure by group is not assessed."),
    "group": N_("Group"),
    "residents": N_("Residents"),
    "share_selected": N_("Share in selected cells"),
    "ratio": N_("Ratio to reference"),
    "incident_ratio": N_("Incidents: ratio"),
    "given_incidents": N_("Residents ratio ÷ incidents ratio"),
    "reference": N_("reference"),
    "too_small": N_("too small"),
    "years": N_("Per year"),
    "year": N_("Year from period"),
    "at_least_once": N_("selected at least once"),
    "average": N_("on average"),
    "stops": N_("Stops and checks"),
    "stops_intro": N_(
        "Police actions by their recorded basis. Those based only on the area selection are "
        "the ones without a concrete suspicion."
    ),
    "no_stops": N_(
        "No table of police actions was given: stops based on the selection are not counted."
    ),
    "basis": N_("Basis"),
    "actions": N_("Actions"),
    "persons": N_("Distinct persons"),
    "area_selection": N_("area selection only"),
    "concrete_suspicion": N_("concrete suspicion"),
    "other": N_("other"),
    "stops_by_group": N_("Based only on the area selection, by group"),
    "stops_figure": N_("Actions based only on the area selection, per period"),
    "calibration": N_("Calibration per decile"),
    "decile": N_("Decile of expected"),
    "cells": N_("Cell-periods"),
    "observed": N_("Observed"),
    "expected": N_("Expected"),
    "inputs": N_("Inputs and method"),
    "sources": N_("Files"),
    "incidents_read": N_("Incidents read / used"),
    "discovered": N_("Of which discovered by police"),
    "bootstrap": N_("Intervals"),
    "bootstrap_text": N_(
        "circular block bootstrap over periods, {resamples} resamples, blocks of {block} "
        "periods, seed {seed}"
    ),
    "provenance": N_("Provenance"),
    "fingerprint": N_("Data fingerprint"),
    "software": N_("Software"),
    "fb_title": N_("Feedback-loop simulation"),
    "fb_intro": N_(
        "A synthetic city of {cells} cells in {areas} areas over {periods} periods. Police "
        "patrol cells with a probability proportional to the model's score; patrols discover "
        "unreported crimes; the model is re-scored each period on what was recorded, under "
        "each update policy. The divergence is the total variation distance between the "
        "patrol share per area and the true crime share (0 = in proportion)."
    ),
    "fb_divergence": N_("Divergence per period"),
    "fb_shares": N_("Patrol share per area in the last period against the true crime share"),
    "fb_area": N_("Area"),
    "fb_true": N_("True crime share"),
    "fb_reporting": N_("Reporting rate"),
    "all_recorded": N_("all recorded"),
    "reported_only": N_("reported only"),
    "discovered_weighted": N_("discovered weighted (Ensign et al.)"),
    "urn_discovered": N_("discovered, unweighted"),
}

_STATUS_CLASS = {"met": "met", "not_met": "not_met", "unknown": "unknown"}
_KEY_METRICS = ("hit_rate", "area_share", "pai", "pei", "auc", "jaccard")
_PERCENT = frozenset({"hit_rate", "area_share", "jaccard"})
_COLOURS = {
    "model": "#0072B2",
    "last_period": "#D55E00",
    "long_run": "#009E73",
    "random": "#8a8a8a",
}


def _t(key: str, lang: str, **fields: Any) -> str:
    text = tr(_S[key], lang)
    return text.format(**fields) if fields else text


# --------------------------------------------------------------------------- formatting


def _fmt(x: Any, metric: str, lang: str) -> str:
    if metric == "points":  # a difference of rates, in percentage points
        if not isinstance(x, int | float):
            return "—"
        return i18n.fmt_number(x * 100, lang, 1) + (" pp" if lang == "en" else " %-punt")
    if metric in _PERCENT:
        return "—" if not isinstance(x, int | float) else i18n.fmt_number(x * 100, lang, 1) + "%"
    return i18n.fmt_number(x, lang, 3 if metric in ("auc", "pei", "oe") else 2)


def _cell(leaf: Any, metric: str, lang: str, signed: bool = False) -> dict[str, Any]:
    leaf = leaf if isinstance(leaf, Mapping) else {"value": None, "ci": [None, None]}
    value = leaf.get("value")
    low, high = (leaf.get("ci") or [None, None])[:2]
    text = _fmt(value, metric, lang)
    if signed and isinstance(value, int | float) and value > 0:
        text = "+" + text
    ci = "—"
    if isinstance(low, int | float) and isinstance(high, int | float):
        sep = (" to " if lang == "en" else " tot ") if low < 0 or signed else "–"
        ci = f"{_fmt(low, metric, lang)}{sep}{_fmt(high, metric, lang)}"
    n = leaf.get("n")
    return {
        "value": text,
        "ci": ci,
        "n": i18n.fmt_count(n, lang) if n is not None else None,
        "missing": value is None,
    }


# --------------------------------------------------------------------------- view


def build_view(result: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Everything the template shows, formatted and translated."""
    inputs = result.get("inputs") or {}
    level = round(float(inputs.get("confidence", 0.95)) * 100)

    def t(key: str, **fields: Any) -> str:
        return _t(key, lang, **({"level": level} | fields))

    prov = result.get("provenance") or {}
    inst = prov.get("instrument")
    accuracy = result.get("accuracy") or {}
    pooled = accuracy.get("pooled") or {}
    n = result.get("n") or {}
    rows = [
        {"label": t(m), "help": t(f"{m}_help"), **_cell(pooled.get(m), m, lang)}
        for m in _KEY_METRICS
        if m in pooled
    ]
    calibration = accuracy.get("calibration")
    if calibration:
        rows.append(
            {"label": t("oe"), "help": t("oe_help"), **_cell(calibration["overall"], "oe", lang)}
        )
    goal = result.get("goal")
    return {
        "lang": lang,
        "t": t,
        "instrument": f"{inst['id']} {inst['version']}" if inst else t("unknown_instrument"),
        "span": t(
            "span_text",
            periods=i18n.fmt_count(n.get("periods"), lang),
            days=inputs.get("period_days"),
            first=inputs.get("first_period"),
            last=inputs.get("last_period"),
            cells=i18n.fmt_count(n.get("cells"), lang),
        ),
        "created": str(prov.get("created", ""))[:16].replace("T", " "),
        "goal": (goal or {}).get("statement_nl" if lang == "nl" else "statement"),
        "criteria": [
            {
                "status": _STATUS_CLASS[c["status"]],
                "label": t(c["status"]),
                "text": c["text_nl" if lang == "nl" else "text_en"],
            }
            for c in result.get("criteria") or []
        ],
        "exposure_verdicts": [
            v[f"text_{lang}"] for v in result.get("verdicts") or [] if v.get("significant")
        ],
        "has_exposure": result.get("exposure") is not None,
        "flags": [f.get(f"text_{lang}") or f.get("text_en", "") for f in result.get("flags") or []],
        "key_rows": rows,
        "baselines": _baselines(result.get("baselines") or {}, lang, t),
        "hit_svg": Markup(_hit_svg(result, lang, t)) if pooled else None,
        "map_svg": Markup(_map_svg(result["map"], lang)) if result.get("map") else None,
        "exposure": _exposure(result.get("exposure"), lang, t),
        "stops": _stops(result.get("stops"), lang, t),
        "calibration": _calibration(calibration, lang),
        "inputs": _inputs(result, lang, t),
        "provenance": prov,
    }


def _baselines(baselines: Mapping[str, Any], lang: str, t: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": t(name),
            "periods": b["periods"],
            "base": _cell(b["hit_rate"], "hit_rate", lang),
            "model": _cell(b["model_hit_rate"], "hit_rate", lang),
            "difference": _cell(b["difference"], "points", lang, signed=True),
            "gain": _cell(b["gain"], "hit_rate", lang, signed=True),
        }
        for name, b in baselines.items()
    ]


def _exposure(exposure: Mapping[str, Any] | None, lang: str, t: Any) -> dict[str, Any] | None:
    if not exposure:
        return None
    ref = exposure["reference"]
    groups = [
        {
            "name": name,
            "ref": name == ref,
            "too_small": g["too_small"],
            "residents": i18n.fmt_count(round(g["residents"]), lang),
            "share": _cell(g["share_selected"], "hit_rate", lang),
            "ratio": _cell(g["ratio"], "ratio", lang),
            "incident_ratio": _cell(g["incident_ratio"], "ratio", lang),
            "given": _cell(g["residents_vs_incidents"], "ratio", lang),
        }
        for name, g in exposure["groups"].items()
    ]
    years = [
        {
            "first": y["first_period"] + 1,
            "cells": [
                (
                    _fmt(y["at_least_once"][g], "hit_rate", lang),
                    _fmt(y["average"][g], "hit_rate", lang),
                )
                for g in exposure["groups"]
            ],
        }
        for y in exposure["years"]
    ]
    return {
        "intro": t("exposure_intro", ref=ref),
        "groups": groups,
        "names": list(exposure["groups"]),
        "years": years,
        "svg": Markup(_ratio_svg(exposure, lang)),
    }


def _stops(stops: Mapping[str, Any] | None, lang: str, t: Any) -> dict[str, Any] | None:
    if not stops:
        return None
    totals = [
        {
            "basis": t(basis),
            "actions": i18n.fmt_count(v["actions"], lang),
            "persons": i18n.fmt_count(v["persons"], lang),
        }
        for basis, v in stops["totals"].items()
    ]
    groups = [
        {
            "name": g,
            "actions": i18n.fmt_count(v["actions"], lang),
            "persons": i18n.fmt_count(v["persons"], lang),
        }
        for g, v in (stops.get("by_group") or {}).items()
    ]
    series = stops["per_period"]["area_selection_actions"]
    return {"totals": totals, "groups": groups, "svg": Markup(_bars_svg(series, lang))}


def _calibration(calibration: Mapping[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    if not calibration:
        return []
    return [
        {
            "label": row["label"],
            "n": i18n.fmt_count(row["n"], lang),
            "observed": i18n.fmt_count(row["observed"], lang),
            "expected": i18n.fmt_number(row["expected"], lang, 1),
            "oe": _cell(row["oe"], "oe", lang),
        }
        for row in calibration["deciles"]
    ]


def _inputs(result: Mapping[str, Any], lang: str, t: Any) -> list[tuple[str, str]]:
    inputs = result.get("inputs") or {}
    inc = inputs.get("incidents") or {}
    boot = inputs.get("bootstrap") or {}
    return [
        (t("sources"), ", ".join(str(s) for s in inputs.get("sources", []))),
        (
            t("incidents_read"),
            f"{i18n.fmt_count(inc.get('read'), lang)} / {i18n.fmt_count(inc.get('used'), lang)}",
        ),
        (t("discovered"), i18n.fmt_count(inc.get("discovered_used"), lang)),
        (
            t("bootstrap"),
            t(
                "bootstrap_text",
                resamples=i18n.fmt_count(boot.get("resamples"), lang),
                block=boot.get("block"),
                seed=boot.get("seed"),
            ),
        ),
    ]


# --------------------------------------------------------------------------- SVG


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="plot"><title>{html.escape(title)}</title>'
        f"{body}</svg>"
    )


def _hit_svg(result: Mapping[str, Any], lang: str, t: Any) -> str:
    per = result["accuracy"]["per_period"]
    series = {"model": [e["value"] for e in per["hit_rate"]]}
    for name, b in (result.get("baselines") or {}).items():
        series[name] = b["per_period_hit_rate"]
    labels = {name: t(name) for name in series}
    return _lines_svg(series, labels, _COLOURS, t("hit_figure"), t("periods"), lang)


def _lines_svg(
    series: Mapping[str, Sequence[float | None]],
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    title: str,
    x_label: str,
    lang: str,
) -> str:
    """A line chart of percentages over periods (gaps where a value is None)."""
    n = max(len(v) for v in series.values())
    width, height, left, top, bottom = 760, 240, 44, 12, 28
    plot_w, plot_h = width - left - 240, height - top - bottom
    top_value = max([v for s in series.values() for v in s if v is not None] + [0.01])

    def xy(i: int, v: float) -> str:
        x = left + (plot_w * i / max(1, n - 1))
        y = top + plot_h * (1 - v / top_value)
        return f"{x:.1f},{y:.1f}"

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>',
    ]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        label = _fmt(top_value * frac, "hit_rate", lang)
        body.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">'
            f"{html.escape(label)}</text>"
        )
    for k, (name, values) in enumerate(series.items()):
        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        dash = "" if k == 0 else ' stroke-dasharray="4 2"'
        colour = colours.get(name, "#000000")
        for run in runs:
            if run:
                body.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
                    f'points="{" ".join(run)}"/>'
                )
        y = top + 14 * k + 6
        body.append(
            f'<line x1="{left + plot_w + 10}" y1="{y}" x2="{left + plot_w + 26}" y2="{y}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{left + plot_w + 30}" y="{y + 3}" font-size="9">'
            f"{html.escape(labels[name])}</text>"
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="9" text-anchor="middle">'
        f"{html.escape(x_label)} (1–{n})</text>"
    )
    return _svg(width, height, title, "".join(body))


def _map_svg(m: Mapping[str, Any], lang: str) -> str:
    x0, y0, x1, y1 = m["extent"]
    size = m["cell_size"]
    span = max(x1 - x0, y1 - y0, size)
    big, small, gap = 300.0, 140.0, 12.0
    cells = m["cells"]

    def panel(ox: float, scale_px: float, chosen: Sequence[int] | None, title: str) -> str:
        k = scale_px / span
        w = max(k * size, 0.6)
        out = [
            f'<rect x="{ox:.1f}" y="16" width="{(x1 - x0) * k:.1f}" height="{(y1 - y0) * k:.1f}" '
            'fill="#fafafa" stroke="#999" stroke-width="0.5"/>',
            f'<text x="{ox:.1f}" y="11" font-size="9">{html.escape(title)}</text>',
        ]
        idx = range(len(cells)) if chosen is None else chosen
        for i in idx:
            x, y, freq = cells[i]
            px = ox + (x - x0) * k
            py = 16 + (y1 - y - size) * k
            opacity = 1.0 if chosen is not None else max(0.15, min(1.0, freq * 4))
            out.append(
                f'<rect x="{px:.1f}" y="{py:.1f}" width="{w:.2f}" height="{w:.2f}" '
                f'fill="#0072B2" fill-opacity="{opacity:.2f}"/>'
            )
        return "".join(out)

    freq_title = "selectiefrequentie" if lang == "nl" else "selection frequency"
    parts = [panel(0, big, None, freq_title)]
    for j, period in enumerate(m["periods"]):
        ox = big + gap + (j % 2) * (small + gap)
        oy_shift = (j // 2) * (small + 24)
        parts.append(
            f'<g transform="translate(0,{oy_shift})">'
            + panel(ox, small, period["cells"], str(period["start"]))
            + "</g>"
        )
    width = int(big + gap + 2 * (small + gap))
    height = int(max(big, 2 * (small + 24)) + 24)
    title = "Kaart van de selecties" if lang == "nl" else "Map of the selections"
    return _svg(width, height, title, "".join(parts))


def _ratio_svg(exposure: Mapping[str, Any], lang: str) -> str:
    groups = exposure["groups"]
    values = [
        (name, g["ratio"]["value"], *(g["ratio"]["ci"] or [None, None]))
        for name, g in groups.items()
    ]
    finite = [v for _, a, lo, hi in values for v in (a, lo, hi) if isinstance(v, int | float)]
    top = max([2.0, *finite]) * 1.05
    width, row, left = 520, 22, 150
    plot_w = width - left - 20
    height = row * len(values) + 30
    body = []
    one = left + plot_w * 1 / top
    body.append(
        f'<line x1="{one:.1f}" y1="4" x2="{one:.1f}" y2="{height - 22}" stroke="#999" '
        'stroke-dasharray="3 2"/>'
    )
    for i, (name, value, low, high) in enumerate(values):
        y = 14 + i * row
        body.append(
            f'<text x="{left - 6}" y="{y + 3}" font-size="9" text-anchor="end">'
            f"{html.escape(str(name))}</text>"
        )
        if isinstance(low, int | float) and isinstance(high, int | float):
            body.append(
                f'<line x1="{left + plot_w * low / top:.1f}" y1="{y}" '
                f'x2="{left + plot_w * high / top:.1f}" y2="{y}" stroke="#0072B2"/>'
            )
        if isinstance(value, int | float):
            body.append(
                f'<circle cx="{left + plot_w * value / top:.1f}" cy="{y}" r="3" fill="#0072B2"/>'
            )
    for tick in range(int(top) + 1):
        if len(range(int(top) + 1)) <= 12 or tick % 5 == 0:
            body.append(
                f'<text x="{left + plot_w * tick / top:.1f}" y="{height - 8}" font-size="9" '
                f'text-anchor="middle">{i18n.fmt_number(tick, lang, 0)}</text>'
            )
    title = "Verhouding tot de referentiegroep" if lang == "nl" else "Ratio to the reference group"
    return _svg(width, height, title, "".join(body))


def _bars_svg(series: Sequence[int], lang: str) -> str:
    width, height, left = 640, 120, 44
    plot_w, plot_h = width - left - 10, height - 30
    top = max([1, *series])
    bar = plot_w / max(1, len(series))
    body = [
        f'<rect x="{left + i * bar:.1f}" y="{8 + plot_h * (1 - v / top):.1f}" '
        f'width="{max(bar - 0.5, 0.5):.2f}" height="{plot_h * v / top:.1f}" fill="#D55E00"/>'
        for i, v in enumerate(series)
        if v
    ]
    body.append(
        f'<text x="{left - 4}" y="12" font-size="9" text-anchor="end">'
        f"{i18n.fmt_count(top, lang)}</text>"
        f'<line x1="{left}" y1="{8 + plot_h}" x2="{left + plot_w}" y2="{8 + plot_h}" '
        'stroke="#555"/>'
    )
    title = (
        "Handelingen alleen op grond van de gebiedsselectie"
        if lang == "nl"
        else "Actions based only on the area selection"
    )
    return _svg(width, height, title, "".join(body))


# --------------------------------------------------------------------------- entry points


def render(result: Mapping[str, Any], lang: str = "en") -> str:
    """The area audit result as one self-contained HTML page.

    Examples
    --------
    >>> page = render({"n": {"cells": 0, "periods": 0}, "flags": []}, "nl")
    >>> '<html lang="nl">' in page and "<script" not in page
    True
    """
    view = build_view(result, i18n.check_lang(lang))
    return report_environment("waarborg.areas").get_template("area_audit.html.j2").render(**view)


def summary(result: Mapping[str, Any], lang: str = "en") -> str:
    """The result as plain text: criteria and verdicts first, then the figures."""
    view = build_view(result, i18n.check_lang(lang))
    t = view["t"]
    rule = "-" * 79
    lines = ["=" * 79, f"waarborg {t('title').lower()}: {view['instrument']}", view["span"]]
    if view["goal"]:
        lines += [f"{t('goal')}: {view['goal']}"]
    lines += [rule, f"{t('criteria')}:"]
    lines += [f"- [{c['label']}] {c['text']}" for c in view["criteria"]] or [
        f"  {t('no_criteria')}"
    ]
    if view["has_exposure"]:
        lines += [rule, f"{t('exposure_findings')}:"]
        lines += [f"- {v}" for v in view["exposure_verdicts"]] or [f"  {t('no_exposure_finding')}"]
    lines += [rule, f"{t('accuracy')} ({t('ci')}):"]
    lines += [f"  {r['label']:<26}{r['value']:>10}  {r['ci']}" for r in view["key_rows"]]
    lines += [rule, f"{t('baselines')}:"]
    for b in view["baselines"]:
        lines.append(
            f"  {b['name']:<36} {t('base_hit')} {b['base']['value']:>7}; "
            f"{t('difference')} {b['difference']['value']} ({b['difference']['ci']})"
        )
    if view["stops"]:
        lines += [rule, f"{t('stops')}:"]
        lines += [
            f"  {s['basis']:<28}{s['actions']:>10} {t('actions').lower()}, "
            f"{s['persons']} {t('persons').lower()}"
            for s in view["stops"]["totals"]
        ]
    if view["flags"]:
        lines += [rule, f"{t('warnings')}:"] + [f"! {f}" for f in view["flags"]]
    return "\n".join([*lines, "=" * 79])


def policy_label(policy: str, lang: str) -> str:
    """The readable name of an update policy (the key itself when unknown)."""
    key = "urn_discovered" if policy == "discovered" else policy
    return _t(key, lang) if key in _S else policy


def render_feedback(result: Mapping[str, Any], lang: str = "en") -> str:
    """The feedback simulation as one self-contained HTML page (no scripts).

    Examples
    --------
    >>> from waarborg.areas.feedback import simulate_feedback
    >>> res = simulate_feedback(n_cells=100, periods=3, areas_per_side=2)
    >>> "<svg" in render_feedback(res.to_dict(), "nl")
    True
    """
    lang = i18n.check_lang(lang)

    def t(key: str, **fields: Any) -> str:
        return _t(key, lang, **fields)

    params = result["parameters"]
    policies = result["policies"]
    colours = dict(zip(policies, ("#D55E00", "#8a8a8a", "#009E73"), strict=False))
    svg = _lines_svg(
        {name: p["divergence"] for name, p in policies.items()},
        {name: policy_label(name, lang) for name in policies},
        colours,
        t("fb_divergence"),
        t("periods"),
        lang,
    )
    rows = [
        {
            "area": i + 1,
            "true": _fmt(share, "hit_rate", lang),
            "reporting": _fmt(result["reporting_rate"][i], "hit_rate", lang),
            "policies": [_fmt(p["patrol_share"][i], "hit_rate", lang) for p in policies.values()],
        }
        for i, share in enumerate(result["true_share"])
    ]
    return (
        report_environment("waarborg.areas")
        .get_template("feedback.html.j2")
        .render(
            lang=lang,
            t=t,
            intro=t(
                "fb_intro",
                cells=i18n.fmt_count(params["cells"], lang),
                areas=params["areas"],
                periods=params["periods"],
            ),
            svg=Markup(svg),
            names=[policy_label(name, lang) for name in policies],
            rows=rows,
        )
    )
