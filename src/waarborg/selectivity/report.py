"""The selectivity report as one self-contained HTML page, in Dutch or English.

Inline CSS (the audit report's style sheet) and one inline SVG figure (prevalence and
hit rate per group, drawn with :func:`waarborg.report.plots.figure_svg`); no scripts and
nothing from the network. Everything that came from the data (group names, the source)
is escaped by Jinja2's autoescaping; only the SVG made here is inserted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure

from waarborg import __version__
from waarborg.report import i18n, plots
from waarborg.report.html import report_environment
from waarborg.selectivity.estimate import KEY_FIGURES, SelectivityResult, shown
from waarborg.selectivity.text import say

__all__ = ["render_html"]

_COMPOSITION = ("share_all", "share_selected", "share_outcome", "selection_rate", "selection_ratio")
_RATES = ("prevalence", "prevalence_not_selected", "hit_rate", "lift", "recall")
_BURDEN = ("checks_per_outcome", "burden_ratio", "extra_checks")
_VERSUS_REFERENCE = frozenset(
    {"selection_ratio", "burden_ratio", "extra_checks", "hit_rate_difference"}
)


def render_html(result: SelectivityResult | Mapping[str, Any], lang: str = "en") -> str:
    """The selectivity result as a self-contained HTML page.

    Parameters
    ----------
    result : SelectivityResult or Mapping
        The result of :func:`~waarborg.selectivity.selectivity_report` (or its
        ``to_dict()``).
    lang : str, default "en"
        ``"en"`` or ``"nl"`` (entirely Dutch, decimal comma).

    Returns
    -------
    str
        The HTML document; the same result and language give the same string.

    Examples
    --------
    >>> from waarborg.selectivity import selectivity_report
    >>> from waarborg.synth.selectivity import Scenario, selection_table
    >>> res = selectivity_report(selection_table(Scenario(n=3_000), seed=1), ["group"])
    >>> page = render_html(res, "nl")
    >>> '<html lang="nl">' in page and "<script" not in page
    True
    """
    data = result.to_dict() if isinstance(result, SelectivityResult) else dict(result)
    view = _view(data, i18n.check_lang(lang))
    return (
        report_environment("waarborg.selectivity")
        .get_template("selectivity.html.j2")
        .render(**view)
    )


def _cell(measure: str, leaf: Mapping[str, Any] | None, lang: str) -> dict[str, Any]:
    if not leaf:
        return {"value": "—", "ci": "—", "n": None, "missing": True}
    value, ci = shown(measure, leaf, lang)
    n = leaf.get("n")
    return {
        "value": value,
        "ci": ci,
        "n": None if n is None else i18n.fmt_count(n, lang),
        "missing": leaf.get("value") is None,
    }


def _view(d: Mapping[str, Any], lang: str) -> dict[str, Any]:
    level = round(d["confidence"] * 100)

    def t(key: str, **fields: Any) -> str:
        return say(key, lang, **fields)

    design = d["design"]
    key_rows = [
        {"label": t(key), "note": None} | _cell(key, d["overall"][key], lang) for key in KEY_FIGURES
    ]
    lift_p = d["overall"]["lift"].get("p")
    key_rows[KEY_FIGURES.index("lift")]["note"] = f"{t('lift_p')} {i18n.fmt_p(lift_p, lang)}"
    attributes = [_attribute(attr, rows, d, lang) for attr, rows in d["by_group"].items()]
    return {
        "lang": lang,
        "t": t,
        "level": level,
        "source": d["source"],
        "n": i18n.fmt_count(d["n"], lang),
        "n_selected": i18n.fmt_count(design["n_selected"], lang),
        "n_reference": i18n.fmt_count(design["n_reference"], lang),
        "n_both": i18n.fmt_count(design["n_both"], lang),
        "key_rows": key_rows,
        "attributes": attributes,
        "k": d["outcome_test"]["k"],
        "notes": [note[f"text_{lang}"] for note in d["notes"]],
        "svg": Markup(_figure(d, lang)) if d["by_group"] or d["overall"] else None,
        "version": __version__,
    }


def _attribute(
    attr: str, rows: Mapping[str, Any], d: Mapping[str, Any], lang: str
) -> dict[str, Any]:
    def table(measures: tuple[str, ...]) -> dict[str, Any]:
        return {
            "heads": [say(m, lang) for m in measures],
            "rows": [
                {
                    "name": group,
                    "reference": row["reference"],
                    "cells": [_cell(m, _leaf(row, m), lang) for m in measures],
                }
                for group, row in rows.items()
            ],
        }

    tests = []
    for group, row in rows.items():
        if row["reference"]:
            continue
        diff = row["hit_rate_difference"]
        tests.append(
            {
                "name": group,
                "hit_rate": _cell("hit_rate", row["hit_rate"], lang),
                "difference": _cell("hit_rate_difference", diff, lang),
                "p": i18n.fmt_p(diff.get("p"), lang),
                "p_holm": i18n.fmt_p(diff.get("p_holm"), lang),
                "significant": (diff.get("p_holm") or 1.0) < d["outcome_test"]["alpha"],
            }
        )
    return {
        "name": attr,
        "reference": d["reference_groups"][attr],
        "composition": table(_COMPOSITION),
        "rates": table(_RATES),
        "burden": table(_BURDEN),
        "tests": tests,
    }


def _leaf(row: Mapping[str, Any], measure: str) -> Mapping[str, Any] | None:
    """A group's entry; none for a comparison of the reference group with itself."""
    return None if row["reference"] and measure in _VERSUS_REFERENCE else row[measure]


def _points(d: Mapping[str, Any], lang: str) -> list[tuple[str, Mapping, Mapping]]:
    """(label, prevalence, hit rate) for all cases and every group."""
    points = [(say("overall", lang), d["overall"]["prevalence"], d["overall"]["hit_rate"])]
    for attr, rows in d["by_group"].items():
        for group, row in rows.items():
            points.append((f"{attr}: {group}", row["prevalence"], row["hit_rate"]))
    return points


def _figure(d: Mapping[str, Any], lang: str) -> str:
    points = _points(d, lang)
    series = (
        (say("prevalence", lang), 1, "o", -0.15),
        (say("hit_rate", lang), 2, "^", 0.15),
    )

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        y = np.arange(len(points))[::-1]
        for (label, index, marker, shift), colour in zip(series, plots.PALETTE, strict=False):
            values = [_triple(p[index]) for p in points]
            xs = np.array([v[0] for v in values], dtype=float)
            lows = np.array([v[1] for v in values], dtype=float)
            highs = np.array([v[2] for v in values], dtype=float)
            err = np.vstack([np.clip(xs - lows, 0, None), np.clip(highs - xs, 0, None)])
            ax.errorbar(
                xs, y + shift, xerr=err, fmt=marker, color=colour, capsize=2, lw=1, label=label
            )
        ax.set_yticks(y, [str(p[0]).replace("$", r"\$") for p in points])
        ax.set_xlim(0, None)
        ax.set_xlabel(say("rate_axis", lang))
        ax.xaxis.set_major_formatter(lambda x, _pos: i18n.fmt_number(100 * x, lang, 0) + "%")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)

    height = 1.2 + 0.45 * len(points)
    return plots.figure_svg("selectivity", say("figure_alt", lang), draw, (6.4, height))


def _triple(leaf: Mapping[str, Any]) -> tuple[float, float, float]:
    value = leaf.get("value")
    low, high = leaf.get("ci") or (None, None)
    nan = float("nan")
    return (
        nan if value is None else value,
        nan if low is None else low,
        nan if high is None else high,
    )
