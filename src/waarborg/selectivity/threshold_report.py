"""Words, summary, HTML section and plot of the threshold test, in English and Dutch.

Every piece of fixed text of the threshold test is English in :data:`_TEXT`, marked with
``N_``; the Dutch is in the ``reports`` gettext catalog (``docs/translating.md``). Numbers
go through :mod:`waarborg.report.i18n` (decimal comma in Dutch). The HTML section is rendered by
Jinja2 with autoescaping: group names from a file are escaped; the plot is an inline SVG
made by :func:`waarborg.report.plots.figure_svg`, whose text matplotlib escapes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

from waarborg.report import i18n
from waarborg.report.i18n import N_
from waarborg.report.plots import PALETTE, figure_svg, literal_label, tick_label

__all__ = ["render_html", "summary", "thresholds_svg", "verdict_text"]

_TEXT: dict[str, str] = {
    "title": N_("Threshold test"),
    "intro": N_(
        "At what risk were cases of each group effectively selected? A lower threshold for a "
        "group means its cases are selected at a lower risk than the reference group's "
        "(Simoiu, Corbett-Davies & Goel, 2017). Unlike the hit rate, the threshold does not "
        "change when only the group's base rate differs."
    ),
    "method": N_(
        "Method: beta discriminant model on counts per group and unit ({units} units, column "
        "{unit}); maximum a posteriori, intervals from {boot} draws of the normal (Laplace) "
        "approximation to the posterior."
    ),
    "group": N_("Group"),
    "reference": N_("reference"),
    "cases": N_("Cases"),
    "search_rate": N_("Selected"),
    "hit_rate": N_("Hit rate"),
    "base_rate": N_("Base rate"),
    "threshold": N_("Threshold"),
    "difference": N_("Difference (logit)"),
    "ci": N_("{level} interval"),
    "verdicts": N_("Verdict"),
    "lower_threshold": N_(
        "Lower threshold for group {group}: its cases are selected at a lower risk than those "
        "of group {reference} (difference {diff} on the logit scale, {ci})."
    ),
    "higher_threshold": N_(
        "Higher threshold for group {group}: its cases are selected only at a higher risk than "
        "those of group {reference} (difference {diff} on the logit scale, {ci})."
    ),
    "base_rates": N_(
        "Hit-rate difference explained by different base rates: group {group}'s hit rate "
        "differs from group {reference}'s by {hit} ({hit_ci}), but its threshold does not "
        "(difference {diff}, {ci})."
    ),
    "undetermined": N_(
        "Undetermined for group {group}: its hit rate differs from group {reference}'s by "
        "{hit} ({hit_ci}), but the threshold test cannot tell a different threshold "
        "(difference {diff}, {ci}) from a different base rate."
    ),
    "no_difference": N_(
        "No difference shown for group {group}: neither its threshold (difference {diff}, "
        "{ci}) nor its hit rate differs from group {reference}'s."
    ),
    "not_estimable": N_("The threshold of group {group} could not be estimated."),
    "notes": N_("Notes"),
    "aggregate_model": N_(
        "The aggregate model assumes each group's risk follows a beta distribution per unit "
        "and that cases above the threshold are selected; with few units the thresholds are "
        "weakly identified and the intervals are wide."
    ),
    "not_converged": N_("The model fit did not converge: treat the thresholds as unreliable."),
    "point_outside_interval": N_(
        "An estimate lies outside its own interval: the estimator is biased at these data "
        "(weak identification); rely on the interval."
    ),
    "plot_title": N_("Effective selection threshold per group ({level} intervals)"),
    "plot_axis": N_("risk at which cases are selected"),
    "plot_alt": N_("Thresholds with intervals: {rows}"),
}


def _t(key: str, lang: str, **fields: Any) -> str:
    text = i18n.tr(_TEXT[key], lang)
    return text.format(**fields) if fields else text


def _pct(x: Any, lang: str) -> str:
    return i18n.fmt_value(x, "share", lang)


def _pct_ci(ci: Any, lang: str, *, signed: bool = False) -> str:
    return i18n.fmt_interval(list(ci) if ci else None, "share", lang, signed=signed)


def _signed(x: Any, lang: str) -> str:
    return i18n.fmt_value(x, "difference_logit", lang, signed=True)


def _signed_ci(ci: Any, lang: str) -> str:
    return i18n.fmt_interval(list(ci) if ci else None, "difference_logit", lang, signed=True)


def verdict_text(group: Mapping[str, Any], reference: str, lang: str) -> str:
    """The verdict on one group in plain words.

    Examples
    --------
    >>> g = {"group": "B", "verdict": "lower_threshold", "difference_logit": -0.6,
    ...      "difference_logit_ci": [-0.9, -0.3]}
    >>> verdict_text(g, "A", "nl")[:28]
    'Lagere drempel voor groep B:'
    """
    return _t(
        group["verdict"],
        lang,
        group=group["group"],
        reference=reference,
        diff=_signed(group.get("difference_logit"), lang),
        ci=_signed_ci(group.get("difference_logit_ci"), lang),
        hit=i18n.fmt_value(group.get("hit_rate_difference"), "share", lang, signed=True),
        hit_ci=_pct_ci(group.get("hit_rate_difference_ci"), lang, signed=True),
    )


def _level(result: Mapping[str, Any]) -> str:
    """The confidence level as a percentage, ``"95%"``."""
    return f"{round(100 * float(result['confidence']))}%"


def _method(result: Mapping[str, Any], lang: str) -> str:
    return _t(
        "method",
        lang,
        units=i18n.fmt_count(result["units"], lang),
        unit=result.get("unit_column") or "—",
        boot=i18n.fmt_count(result["n_boot"], lang),
    )


def _rows(result: Mapping[str, Any], lang: str) -> list[dict[str, str]]:
    out = []
    for g in result["groups"]:
        ref = g["group"] == result["reference"]
        out.append(
            {
                "group": g["group"] + (f" ({_t('reference', lang)})" if ref else ""),
                "cases": i18n.fmt_count(g["cases"], lang),
                "search_rate": _pct(g["search_rate"], lang),
                "hit_rate": _pct(g["hit_rate"], lang),
                "base_rate": f"{_pct(g['base_rate'], lang)} ({_pct_ci(g['base_rate_ci'], lang)})",
                "threshold": f"{_pct(g['threshold'], lang)} ({_pct_ci(g['threshold_ci'], lang)})",
                "difference": "—"
                if ref
                else f"{_signed(g['difference_logit'], lang)} "
                f"({_signed_ci(g['difference_logit_ci'], lang)})",
            }
        )
    return out


_COLUMNS = ("group", "cases", "search_rate", "hit_rate", "base_rate", "threshold", "difference")


def summary(result: Mapping[str, Any], lang: str = "en") -> str:
    """Plain-text summary of a threshold result (its ``to_dict()``).

    Parameters
    ----------
    result : Mapping
        :meth:`ThresholdResult.to_dict` output.
    lang : str
        ``"en"`` or ``"nl"``.

    Returns
    -------
    str
        Title, method, one line per group, the verdicts and notes.
    """
    lines = [_t("title", lang), _method(result, lang), ""]
    level = _level(result)
    head = {k: _t(k, lang) for k in _COLUMNS}
    head["threshold"] += f" ({_t('ci', lang, level=level)})"
    for row in [head, *_rows(result, lang)]:
        lines.append("  ".join(row[k] for k in _COLUMNS))
    lines += ["", _t("verdicts", lang) + ":"]
    for g in result["groups"]:
        if g["group"] != result["reference"]:
            lines.append("- " + verdict_text(g, result["reference"], lang))
    if result.get("notes"):
        lines += ["", _t("notes", lang) + ":"]
        lines += [f"- {_t(note, lang)}" for note in result["notes"]]
    return "\n".join(lines)


def thresholds_svg(result: Mapping[str, Any], lang: str) -> str:
    """Dot-and-interval plot of each group's threshold (probability scale), inline SVG."""
    groups = result["groups"]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for i, g in enumerate(groups):
            y = len(groups) - 1 - i
            value, (low, high) = g["threshold"], g["threshold_ci"]
            colour = PALETTE[i % len(PALETTE)]
            if low is not None and high is not None:
                ax.plot([low, high], [y, y], color=colour, lw=2)
            if value is not None:
                ax.plot([value], [y], "o", color=colour)
        ax.set_yticks(range(len(groups)), [literal_label(g["group"]) for g in reversed(groups)])
        ax.xaxis.set_major_formatter(lambda x, _pos: tick_label(round(100 * x, 6), lang) + "%")
        ax.set_xlabel(_t("plot_axis", lang))
        ax.set_title(_t("plot_title", lang, level=_level(result)))

    rows = "; ".join(
        f"{g['group']}: {_pct(g['threshold'], lang)} ({_pct_ci(g['threshold_ci'], lang)})"
        for g in groups
    )
    size = (6.4, 0.45 * len(groups) + 1.1)
    return figure_svg("thresholds", _t("plot_alt", lang, rows=rows), draw, size)


_TEMPLATE = """\
<section class="threshold-test" lang="{{ lang }}">
<h2>{{ title }}</h2>
<p>{{ intro }}</p>
<p>{{ method }}</p>
<ul class="verdicts">{% for v in verdicts %}<li>{{ v }}</li>{% endfor %}</ul>
<figure>{{ svg }}</figure>
<table>
<thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for k in columns %}<td>{{ row[k] }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% if notes %}<h3>{{ notes_title }}</h3>
<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</section>
"""


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATE)


def render_html(result: Any, lang: str = "en") -> str:
    """An HTML ``<section>`` with the verdicts, the plot and the table, for the report.

    Parameters
    ----------
    result : ThresholdResult or Mapping
        The result or its ``to_dict()``.
    lang : str
        ``"en"`` or ``"nl"``.

    Returns
    -------
    str
        Self-contained HTML (inline SVG, no scripts); text from files is escaped.
    """
    data = result.to_dict() if hasattr(result, "to_dict") else result
    lang = i18n.check_lang(lang)
    level = _level(data)
    head = [_t(k, lang) for k in _COLUMNS]
    head[_COLUMNS.index("threshold")] += f" ({_t('ci', lang, level=level)})"
    return _template().render(
        lang=lang,
        title=_t("title", lang),
        intro=_t("intro", lang),
        method=_method(data, lang),
        verdicts=[
            verdict_text(g, data["reference"], lang)
            for g in data["groups"]
            if g["group"] != data["reference"]
        ],
        svg=Markup(thresholds_svg(data, lang)),
        head=head,
        rows=_rows(data, lang),
        columns=_COLUMNS,
        notes=[_t(n, lang) for n in data.get("notes", [])],
        notes_title=_t("notes", lang),
    )
