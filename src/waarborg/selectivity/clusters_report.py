"""The bias search in words and on a page: plain-language descriptions, summary, HTML.

All user-facing text of the bias search is English in :data:`_TEXT`, marked with ``N_``;
the Dutch is in the ``reports`` gettext catalog (``docs/translating.md``). Dutch output is
entirely Dutch, with a decimal comma (:mod:`waarborg.report.i18n`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup
from matplotlib.figure import Figure

from waarborg.report import plots
from waarborg.report.i18n import N_, check_lang, fmt_count, fmt_number, fmt_p, texts, tr

if TYPE_CHECKING:
    from waarborg.selectivity.clusters import ClusterSearch, FeatureContrast, FoundCluster

__all__ = ["describe", "rates_svg", "render_html", "render_page", "summary"]

_TEXT: dict[str, str] = {
    "title": N_("Bias search (HBAC)"),
    "metric.selection": N_("selection rate"),
    "metric.error": N_("false-positive rate (reference sample)"),
    "metric.false-hit": N_("share of selected checks without a finding"),
    "intro": N_(
        "{n} cases were clustered on {features}. The clusters were found on {search} cases and "
        "the {tested} most deviating were tested on the other {test} (held out): {confirmed} "
        "of them deviate upwards in {metric} after Holm's correction (alpha {alpha})."
    ),
    "none": N_(
        "No cluster deviates demonstrably on the held-out cases. This does not prove that "
        "there is no bias: a small or weak deviation can go unseen."
    ),
    "cluster": N_(
        "Cluster {id}: {size} cases ({share} of all). On the held-out cases its {metric} is "
        "{rate_in} ({ci_in}) against {rate_out} ({ci_out}) for the rest: {ratio} times as high "
        "({ratio_ci}), p {p} after Holm."
    ),
    "profile": N_("Profile: {items}."),
    "profile_none": N_("No single feature sets it clearly apart."),
    "numeric": N_("{feature} {low}–{high} (mean {inside} against {outside} outside)"),
    "level": N_("{feature} {level} ({inside} against {outside})"),
    "composition": N_("By {column}: {items}."),
    "composition_item": N_("{value} {share} ({ci}) against {rest} in the rest"),
    "and": N_("and"),
    "plot_title": N_(
        "{metric} per tested cluster on the held-out cases, with intervals ({level}%)"
    ),
    "plot_rest": N_("rest"),
    "plot_caption": N_(
        "Dots: the cluster's rate; the grey line: the rate of the rest. Filled dots are "
        "confirmed by the held-out test."
    ),
    "method": N_(
        "Method: bias-aware hierarchical k-means (HBAC, after Algorithm Audit's unsupervised "
        "bias detection tool), seed {seed}, smallest cluster {min_size} cases, at most "
        "{max_splits} splits. Clusters describe cases, not people's protected traits; a "
        "deviating cluster is a lead to examine, not proof of discrimination."
    ),
    "cluster_heading": N_("Cluster {id}"),
    "col.cluster": N_("Cluster"),
    "col.size": N_("Cases"),
    "col.rate_in": N_("Rate in cluster"),
    "col.rate_out": N_("Rate in rest"),
    "col.ratio": N_("Ratio"),
    "col.p": N_("p (Holm)"),
    "col.confirmed": N_("Confirmed"),
    "yes": N_("yes"),
    "no": N_("no"),
}
"""Every user-facing string of the bias search, per key, in English."""


def _t(key: str, lang: str, **fields: Any) -> str:
    return tr(_TEXT[key], lang).format(**fields)


def _pct(x: float, lang: str) -> str:
    return fmt_number(100 * x, lang, 1) + "%"


def _interval(ci: tuple[float, float], lang: str, pct: bool = True) -> str:
    if pct:
        return f"{fmt_number(100 * ci[0], lang, 1)}–{fmt_number(100 * ci[1], lang, 1)}%"
    return f"{fmt_number(ci[0], lang, 2)}–{fmt_number(ci[1], lang, 2)}"


def _p(p: float, lang: str) -> str:
    text = fmt_p(p, lang)
    return text if text.startswith("<") else f"= {text}"


def _title(search: ClusterSearch, feature: str) -> str:
    return search.titles.get(feature) or feature


def _join(items: list[str], lang: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_t('and', lang)} {items[-1]}"


def _contrast(search: ClusterSearch, c: FeatureContrast, lang: str) -> str:
    name = _title(search, c.feature)
    if c.level is None:
        return _t(
            "numeric",
            lang,
            feature=name,
            low=fmt_number(c.low, lang, 1),
            high=fmt_number(c.high, lang, 1),
            inside=fmt_number(c.inside, lang, 1),
            outside=fmt_number(c.outside, lang, 1),
        )
    return _t(
        "level",
        lang,
        feature=name,
        level=c.level,
        inside=fmt_number(100 * c.inside, lang, 0) + "%",
        outside=fmt_number(100 * c.outside, lang, 0) + "%",
    )


def describe(search: ClusterSearch, cluster: FoundCluster, lang: str = "en") -> str:
    """One confirmed cluster in plain language: size, metric against the rest, profile.

    Examples
    --------
    >>> from waarborg.synth.hidden_bias import hidden_bias_cases
    >>> from waarborg.selectivity.clusters import search_clusters
    >>> found = search_clusters(hidden_bias_cases(6_000, seed=2), ["age", "income"])
    >>> describe(found, found.clusters[0], "nl").startswith("Cluster 1: ")
    True
    """
    ci = cluster.intervals(search.params["confidence"])
    text = _t(
        "cluster",
        lang,
        id=cluster.id,
        size=fmt_count(cluster.size, lang),
        share=_pct(cluster.share, lang),
        metric=_t(f"metric.{search.metric}", lang),
        rate_in=_pct(cluster.rate_in, lang),
        ci_in=_interval(ci["rate_in"], lang),
        rate_out=_pct(cluster.rate_out, lang),
        ci_out=_interval(ci["rate_out"], lang),
        ratio=fmt_number(cluster.rate_in / cluster.rate_out if cluster.rate_out else None, lang),
        ratio_ci=_interval(ci["ratio"], lang, pct=False),
        p=_p(cluster.p_adjusted, lang),
    )
    items = [_contrast(search, c, lang) for c in cluster.profile]
    text += " " + (
        _t("profile", lang, items="; ".join(items)) if items else _t("profile_none", lang)
    )
    if cluster.composition:
        parts = [
            _t(
                "composition_item",
                lang,
                value=m.value,
                share=_pct(m.share, lang),
                ci=_interval(m.ci, lang),
                rest=_pct(m.rest_share, lang),
            )
            for m in cluster.composition
        ]
        text += " " + _t("composition", lang, column=search.relate_column, items="; ".join(parts))
    return text


def _intro(search: ClusterSearch, lang: str) -> str:
    return _t(
        "intro",
        lang,
        n=fmt_count(search.n_cases, lang),
        features=_join([_title(search, f) for f in search.features], lang),
        search=fmt_count(search.n_search, lang),
        test=fmt_count(search.n_test, lang),
        tested=len(search.clusters),
        confirmed=len(search.confirmed),
        metric=_t(f"metric.{search.metric}", lang),
        alpha=fmt_number(search.params["alpha"], lang),
    )


def summary(search: ClusterSearch, lang: str = "en") -> str:
    """The search as plain text: what was done, then each confirmed cluster."""
    lines = [_t("title", lang), "", _intro(search, lang), ""]
    if not search.confirmed:
        lines.append(_t("none", lang))
    lines.extend(describe(search, c, lang) for c in search.confirmed)
    lines += ["", _t("method", lang, **search.params)]
    return "\n".join(lines) + "\n"


def rates_svg(search: ClusterSearch, lang: str) -> str:
    """Dot plot: the metric per tested cluster (held out) with intervals, and the rest."""
    confidence = search.params["confidence"]
    level = round(100 * confidence)
    title = _t("plot_title", lang, metric=_t(f"metric.{search.metric}", lang), level=level)
    clusters = search.clusters

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        for row, c in enumerate(clusters):
            ci = c.intervals(confidence)
            lo, hi = ci["rate_in"]
            ax.plot([100 * lo, 100 * hi], [row, row], color=plots.PALETTE[0], lw=1.5)
            face = plots.PALETTE[0] if c.confirmed else "white"
            ax.plot(100 * c.rate_in, row, "o", color=plots.PALETTE[0], mfc=face, ms=6)
            ax.plot([100 * c.rate_out] * 2, [row - 0.3, row + 0.3], color="#8a8a8a", lw=2)
        ax.set_yticks(
            range(len(clusters)), [_t("cluster_heading", lang, id=c.id) for c in clusters]
        )
        ax.invert_yaxis()
        ax.set_xlabel(plots.literal_label(_t(f"metric.{search.metric}", lang)) + " (%)")
        ax.xaxis.set_major_formatter(lambda x, _pos: fmt_number(x, lang, 0))

    return plots.figure_svg("bias-search", title, draw, (6.0, 0.5 + 0.45 * max(len(clusters), 1)))


_TEMPLATE = """<section class="bias-search" lang="{{ lang }}">
<h2>{{ t.title }}</h2>
<p>{{ intro }}</p>
{% if not described %}<p>{{ t.none }}</p>{% endif %}
{% for text in described %}<p>{{ text }}</p>
{% endfor %}
{% if rows %}<table>
<thead><tr>{% for h in header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr>{% for cell in r %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>
<figure>{{ svg }}<figcaption>{{ t.plot_caption }}</figcaption></figure>{% endif %}
<p class="method">{{ method }}</p>
</section>
"""


def render_html(search: ClusterSearch, lang: str = "en") -> str:
    """The bias search as an HTML section (autoescaped; the plot is waarborg's own SVG).

    Examples
    --------
    >>> from waarborg.synth.hidden_bias import hidden_bias_cases
    >>> from waarborg.selectivity.clusters import search_clusters
    >>> found = search_clusters(hidden_bias_cases(6_000, seed=2), ["age", "income"])
    >>> render_html(found, "nl").startswith('<section class="bias-search" lang="nl">')
    True
    """
    lang = check_lang(lang)
    env = jinja2.Environment(autoescape=True)
    conf = search.params["confidence"]
    rows = []
    for c in search.clusters:
        ci = c.intervals(conf)
        rows.append(
            [
                c.id,
                fmt_count(c.size, lang),
                f"{_pct(c.rate_in, lang)} ({_interval(ci['rate_in'], lang)})",
                f"{_pct(c.rate_out, lang)} ({_interval(ci['rate_out'], lang)})",
                f"{fmt_number(c.rate_in / c.rate_out if c.rate_out else None, lang)} "
                f"({_interval(ci['ratio'], lang, pct=False)})",
                fmt_p(c.p_adjusted, lang),
                _t("yes" if c.confirmed else "no", lang),
            ]
        )
    columns = ("cluster", "size", "rate_in", "rate_out", "ratio", "p", "confirmed")
    view = {
        "lang": lang,
        "t": texts(_TEXT, lang),
        "intro": _intro(search, lang),
        "described": [describe(search, c, lang) for c in search.confirmed],
        "header": [_t(f"col.{k}", lang) for k in columns],
        "rows": rows,
        "svg": Markup(rates_svg(search, lang)) if rows else "",
        "method": _t("method", lang, **search.params),
    }
    return env.from_string(_TEMPLATE).render(**view)


_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left}
</style></head><body>{{ section }}</body></html>
"""


def render_page(search: ClusterSearch, lang: str = "en") -> str:
    """A standalone HTML page holding :func:`render_html`'s section."""
    env = jinja2.Environment(autoescape=True)
    section = Markup(render_html(search, lang))
    return env.from_string(_PAGE).render(lang=lang, title=_t("title", lang), section=section)
