"""Plots for the audit report, each returned as an inline-ready SVG string.

The figures use matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`),
which needs no GUI backend. Text stays text in the SVG (``svg.fonttype = "none"``),
and ids are derived from a fixed salt, so the same input always gives the same
bytes. Each SVG gets a ``<title>`` and ``role="img"`` for screen readers, and its
ids are prefixed so several plots can live in one HTML page. Group names are
escaped for matplotlib's mathtext (``$``) and for XML by matplotlib itself.

Colours follow the Okabe-Ito palette, which stays distinguishable for the common
forms of colour blindness; lines also differ in style once colours run out.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from waarborg.audit.stats import wilson_interval
from waarborg.report import i18n

__all__ = ["PALETTE", "calibration_groups_svg", "calibration_svg", "forest_svg", "roc_svg"]

#: Okabe-Ito colours, most distinct first (yellow left out: too light on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_LINESTYLES = ("-", "--", "-.", ":")
_GREY = "#8a8a8a"
_INK = "#222222"
_STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": _INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "text.color": _INK,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
}
_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
_FINE_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4)
_TAG = re.compile(r"<[^<>]+>")


# --------------------------------------------------------------------------- helpers


@contextmanager
def _style(key: str) -> Iterator[None]:
    """Apply the report style and a fixed, per-plot hash salt for deterministic ids."""
    with mpl.rc_context(_STYLE | {"svg.hashsalt": f"waarborg-{key}"}):
        yield


def _slug(key: str) -> str:
    """Make ``key`` usable as an XML id prefix."""
    return "w-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _prefix_ids(tag: str, prefix: str) -> str:
    """Prefix the ids and the internal id references inside one XML tag."""
    tag = re.sub(r'(\s)id="([^"]*)"', rf'\1id="{prefix}-\2"', tag)
    tag = re.sub(r'href="#([^"]*)"', rf'href="#{prefix}-\1"', tag)
    return re.sub(r"url\(#([^)]*)\)", rf"url(#{prefix}-\1)", tag)


def _inline(svg: str, key: str, title: str) -> str:
    """Strip the XML prolog, make ids page-unique, and add an accessible title."""
    text = svg[svg.index("<svg") :]
    prefix = _slug(key)
    text = _TAG.sub(lambda m: _prefix_ids(m.group(0), prefix), text)
    end = text.index(">")
    title_id = f"{prefix}-title"
    head = f'{text[:end]} role="img" aria-labelledby="{title_id}" class="plot">'
    return f'{head}<title id="{title_id}">{html.escape(title)}</title>{text[end + 1 :]}'


def _to_svg(fig: Figure, key: str, title: str) -> str:
    """Save ``fig`` as SVG (inside the style context) and make it inline-ready."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_METADATA, bbox_inches="tight")
    return _inline(buf.getvalue(), key, title)


def _label(text: Any) -> str:
    """Return ``text`` as a string matplotlib shows literally (no mathtext)."""
    return str(text).replace("$", r"\$")


def _value(leaf: Any) -> float | None:
    """The finite number in a metric leaf (or a bare number), else ``None``."""
    x = leaf.get("value") if isinstance(leaf, Mapping) else leaf
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def _style_for(i: int) -> dict[str, Any]:
    """Colour and line style of the ``i``-th series."""
    return {
        "color": PALETTE[i % len(PALETTE)],
        "linestyle": _LINESTYLES[(i // len(PALETTE)) % len(_LINESTYLES)],
    }


def _legend(ax: Axes, handles: Sequence[Any], labels: Sequence[str], **kw: Any) -> None:
    """Add a legend from explicit handles (so labels starting with ``_`` are kept)."""
    if handles:
        ax.legend(list(handles), [_label(x) for x in labels], **kw)


def _ticklabel(x: float, lang: str) -> str:
    """A compact tick label such as ``0.5`` or ``2`` (``0,5`` in Dutch)."""
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "nl" else text


# --------------------------------------------------------------------------- ROC


def _group_info(groups: Mapping[str, Any] | None, attr: str, group: str) -> Mapping[str, Any]:
    """The per-group entry of the result, or an empty mapping."""
    return ((groups or {}).get(attr) or {}).get(group) or {}


def _roc_label(group: str, info: Mapping[str, Any], lang: str) -> str:
    """Legend label for one group's ROC curve: name, AUC and n, too-small tag."""
    parts = [str(group)]
    auc = _value(info.get("auc"))
    n = info.get("n") if isinstance(info.get("n"), int) else (info.get("auc") or {}).get("n")
    extra = []
    if auc is not None:
        extra.append(f"AUC {i18n.fmt_number(auc, lang, 2)}")
    if isinstance(n, int):
        extra.append(f"n {i18n.fmt_count(n, lang)}")
    if extra:
        parts.append(f"({', '.join(extra)})")
    if info.get("too_small"):
        parts.append(f"[{i18n.t('too_small_tag', lang)}]")
    return " ".join(parts)


def _roc_panel(
    ax: Axes,
    roc: Mapping[str, Any],
    attr: str | None,
    groups: Mapping[str, Any] | None,
    lang: str,
) -> None:
    """Draw the overall curve and one attribute's group curves on ``ax``."""
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.8, ls=":")
    handles: list[Any] = []
    labels: list[str] = []
    overall = roc.get("overall")
    if overall:
        (h,) = ax.plot(overall["fpr"], overall["tpr"], color=_GREY, lw=1.4, ls="--")
        handles.append(h)
        labels.append(i18n.t("overall", lang))
    curves = ((roc.get("groups") or {}).get(attr) or {}) if attr is not None else {}
    for i, (group, curve) in enumerate(curves.items()):
        info = _group_info(groups, attr or "", group)
        style = _style_for(i)
        if info.get("too_small"):
            style = {"color": "#b0b0b0", "linestyle": ":"}
        (h,) = ax.plot(curve["fpr"], curve["tpr"], lw=1.5, **style)
        handles.append(h)
        labels.append(_roc_label(group, info, lang))
    ax.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    ax.set_xlabel(i18n.t("fpr_axis", lang))
    ax.set_ylabel(i18n.t("tpr_axis", lang))
    if attr is not None:
        ax.set_title(_label(attr), loc="left", fontweight="bold")
    _legend(ax, handles, labels, loc="lower right")


def roc_svg(roc: Mapping[str, Any], lang: str, groups: Mapping[str, Any] | None = None) -> str:
    """ROC curves, one panel per group attribute, with the overall curve in each.

    Parameters
    ----------
    roc : Mapping
        ``{"overall": {"fpr": [...], "tpr": [...]}, "groups": {attr: {group: {...}}}}``.
    lang : str
        ``"en"`` or ``"nl"``.
    groups : Mapping, optional
        The result's ``groups`` section; adds AUC and n to the legend and greys out
        groups flagged too small.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    lang = i18n.check_lang(lang)
    per_attr = roc.get("groups") or {}
    attrs: list[str | None] = list(per_attr) or [None]
    ncols = min(2, len(attrs))
    nrows = math.ceil(len(attrs) / ncols)
    with _style("roc"):
        fig = Figure(figsize=(4.6 * ncols, 4.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, attr in zip(axes, attrs, strict=False):
            _roc_panel(ax, roc, attr, groups, lang)
        for ax in axes[len(attrs) :]:
            fig.delaxes(ax)
        names = "; ".join(f"{a}: {', '.join(map(str, per_attr[a]))}" for a in per_attr)
        return _to_svg(fig, "roc", i18n.t("roc_alt", lang, groups=names))


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalPoint:
    """One calibration bin as rates: observed with its interval, expected if known."""

    label: str
    n: int
    expected: float | None
    observed: float | None
    low: float | None
    high: float | None


def calibration_points(
    rows: Sequence[Mapping[str, Any]] | None, confidence: float = 0.95
) -> list[CalPoint]:
    """Turn calibration rows of the audit result into rates with intervals.

    The observed rate and its interval come from the row's ``observed_rate`` leaf
    when the audit gives one; otherwise a Wilson interval is computed here.

    Parameters
    ----------
    rows : sequence of Mapping
        Rows with ``label`` (or ``bin``), ``n``, ``observed`` and optionally
        ``expected`` and ``observed_rate``.
    confidence : float, optional
        Confidence level of the intervals.

    Returns
    -------
    list of CalPoint
        One point per row with ``n > 0``.
    """
    if not rows:
        return []
    points = []
    for row in rows:
        n = row.get("n")
        n = n.get("value") if isinstance(n, Mapping) else n
        if not isinstance(n, int | float) or n <= 0:
            continue
        obs, exp = _value(row.get("observed")), _value(row.get("expected"))
        obs = None if obs is None else obs / n  # the audit stores counts: events, Σ risk
        exp = None if exp is None else exp / n
        low, high = _observed_interval(row, obs, n, confidence)
        if _is_leaf(row.get("observed_rate")):
            obs = _value(row["observed_rate"])
        label = row.get("label", row.get("bin", ""))
        points.append(CalPoint(str(label), int(n), exp, obs, low, high))
    return points


def _is_leaf(x: Any) -> bool:
    """Whether ``x`` is a metric leaf ``{"value", "ci", ...}``."""
    return isinstance(x, Mapping) and "value" in x


def _observed_interval(
    row: Mapping[str, Any], observed: float | None, n: float, confidence: float
) -> tuple[float | None, float | None]:
    """The interval of the observed rate: the audit's own when given, else Wilson."""
    rate = row.get("observed_rate")
    if _is_leaf(rate):
        lo, hi = [*(rate.get("ci") or []), None, None][:2]
        return _value(lo), _value(hi)
    if observed is None:
        return None, None
    lo, hi = wilson_interval(min(observed, 1.0) * n, n, confidence)
    return float(lo), float(hi)


def _errorbars(ax: Axes, pts: Sequence[CalPoint], x: Sequence[float], **kw: Any) -> Any:
    """Plot observed rates at ``x`` with their interval as error bars."""
    y = np.array([p.observed for p in pts], dtype=float)
    err = np.array([[p.observed - p.low, p.high - p.observed] for p in pts], dtype=float).T
    return ax.errorbar(x, y, yerr=err, capsize=2.5, lw=1.1, ls="none", **kw)


def _calibration_diagonal(
    ax: Axes, deciles: list[CalPoint], bands: list[CalPoint], lang: str
) -> None:
    """Observed against expected rate, with the line of perfect calibration."""
    handles, labels = [], []
    deciles = [p for p in deciles if p.expected is not None and p.observed is not None]
    bands = [p for p in bands if p.expected is not None and p.observed is not None]
    if deciles:
        handles.append(
            _errorbars(
                ax, deciles, [p.expected for p in deciles], marker="o", ms=4, color=PALETTE[0]
            )
        )
        labels.append(i18n.t("deciles", lang))
    if bands:
        handles.append(
            _errorbars(ax, bands, [p.expected for p in bands], marker="s", ms=6, color=PALETTE[1])
        )
        labels.append(i18n.t("bands", lang))
        for p in bands:
            ax.annotate(
                _label(p.label),
                (p.expected, p.observed),
                xytext=(6, -10),
                textcoords="offset points",
                fontsize=7.5,
                color=PALETTE[1],
            )
    top = max([p.expected for p in deciles + bands] + [p.high for p in deciles + bands])
    top = min(1.0, top * 1.08 + 0.01)
    (diag,) = ax.plot([0, top], [0, top], color=_GREY, lw=0.9, ls="--")
    handles.append(diag)
    labels.append(i18n.t("perfect", lang))
    ax.set(xlim=(0, top), ylim=(0, top), aspect="equal")
    ax.set_xlabel(i18n.t("predicted_axis", lang))
    ax.set_ylabel(i18n.t("observed_axis", lang))
    _legend(ax, handles, labels, loc="upper left")


def _calibration_bands(ax: Axes, bands: list[CalPoint], lang: str) -> None:
    """Observed rate per band on a categorical axis (no predicted risks to compare)."""
    pts = [p for p in bands if p.observed is not None]
    x = list(range(len(pts)))
    _errorbars(ax, pts, x, marker="s", ms=6, color=PALETTE[1])
    ax.set_xticks(x, [_label(f"{p.label}\nn {i18n.fmt_count(p.n, lang)}") for p in pts])
    ax.set_xlim(-0.5, len(pts) - 0.5)
    ax.set_ylim(0, min(1.0, max(p.high for p in pts) * 1.1 + 0.01))
    ax.set_xlabel(i18n.t("band_axis", lang))
    ax.set_ylabel(i18n.t("observed_axis", lang))


def calibration_svg(result: Mapping[str, Any], lang: str) -> str:
    """Calibration plot: observed against expected rate per score decile and band.

    Parameters
    ----------
    result : Mapping
        The audit result; reads ``validity.calibration`` (bands) and
        ``validity.calibration_deciles`` and the confidence level in ``inputs``.
    lang : str
        ``"en"`` or ``"nl"``.

    Returns
    -------
    str
        An ``<svg>`` element. Without predicted risks the observed rate per band is
        plotted on its own.

    Raises
    ------
    ValueError
        If the result holds no calibration rows with an observed rate.
    """
    lang = i18n.check_lang(lang)
    validity = result.get("validity") or {}
    confidence = (result.get("inputs") or {}).get("confidence") or 0.95
    deciles = calibration_points(validity.get("calibration_deciles"), confidence)
    bands = calibration_points(validity.get("calibration"), confidence)
    if not any(p.observed is not None for p in deciles + bands):
        raise ValueError("the result holds no calibration rows to plot")
    has_expected = any(p.expected is not None for p in deciles + bands)
    with _style("calibration"):
        fig = Figure(figsize=(4.8, 4.6) if has_expected else (5.6, 3.6), layout="constrained")
        ax = fig.add_subplot()
        if has_expected:
            _calibration_diagonal(ax, deciles, bands, lang)
        else:
            _calibration_bands(ax, bands or deciles, lang)
        return _to_svg(fig, "calibration", i18n.t("cal_alt", lang))


def calibration_groups_svg(result: Mapping[str, Any], lang: str) -> str:
    """Calibration by group: one panel per attribute, one series per group.

    Parameters
    ----------
    result : Mapping
        The audit result; reads ``validity.calibration_groups``
        (``{attr: {group: [calibration rows]}}``).
    lang : str
        ``"en"`` or ``"nl"``.

    Returns
    -------
    str
        An ``<svg>`` element: observed against predicted rate per band (with the
        diagonal) when the rows have predicted risks, else observed rate per band.

    Raises
    ------
    ValueError
        If the result holds no calibration by group.
    """
    lang = i18n.check_lang(lang)
    per_attr = (result.get("validity") or {}).get("calibration_groups") or {}
    if not per_attr:
        raise ValueError("the result holds no calibration by group")
    confidence = (result.get("inputs") or {}).get("confidence") or 0.95
    small = result.get("groups") or {}
    ncols = min(2, len(per_attr))
    nrows = math.ceil(len(per_attr) / ncols)
    with _style("calibration-groups"):
        fig = Figure(figsize=(4.8 * ncols, 4.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, (attr, groups) in zip(axes, per_attr.items(), strict=False):
            too_small = {g for g, m in (small.get(attr) or {}).items() if m.get("too_small")}
            _calibration_group_panel(ax, attr, groups, too_small, confidence, lang)
        for ax in axes[len(per_attr) :]:
            fig.delaxes(ax)
        return _to_svg(fig, "calibration-groups", i18n.t("cal_alt", lang))


def _calibration_group_panel(
    ax: Axes,
    attr: str,
    groups: Mapping[str, Any],
    too_small: set[str],
    confidence: float,
    lang: str,
) -> None:
    """Each group's band calibration as one series; too-small groups in grey."""
    series = {g: calibration_points(rows, confidence) for g, rows in groups.items()}
    series = {g: [p for p in pts if p.observed is not None] for g, pts in series.items()}
    series = {g: pts for g, pts in series.items() if pts}
    with_expected = all(p.expected is not None for pts in series.values() for p in pts)
    handles, labels = [], []
    for i, (group, pts) in enumerate(series.items()):
        small = group in too_small
        x = [p.expected for p in pts] if with_expected else [j + 0.08 * i for j in range(len(pts))]
        color = _GREY if small else PALETTE[i % len(PALETTE)]
        handles.append(_errorbars(ax, pts, x, marker="os^Dv"[i % 5], ms=5, color=color))
        labels.append(_label(group) + (f" ({i18n.t('too_small_tag', lang)})" if small else ""))
    if with_expected:
        every = [p for pts in series.values() for p in pts]
        top = min(1.0, max([p.expected for p in every] + [p.high for p in every]) * 1.08 + 0.01)
        ax.plot([0, top], [0, top], color=_GREY, lw=0.9, ls="--")
        ax.set(xlim=(0, top), ylim=(0, top), aspect="equal")
        ax.set_xlabel(i18n.t("predicted_axis", lang))
    else:
        first = next(iter(series.values()), [])
        ax.set_xticks(range(len(first)), [_label(p.label) for p in first])
    ax.set_ylabel(i18n.t("observed_axis", lang))
    ax.set_title(_label(attr), loc="left", fontweight="bold")
    _legend(ax, handles, labels, loc="upper left")


# --------------------------------------------------------------------------- forest


@dataclass(frozen=True)
class ForestRow:
    """One row of the forest plot; ``kind`` is ``header``, ``reference`` or ``group``."""

    kind: str
    attribute: str
    group: str = ""
    value: float | None = None
    low: float | None = None
    high: float | None = None
    too_small: bool = False
    significant: bool = False


def _pos(x: float | None) -> float | None:
    """``x`` if it is a positive finite number (plottable on a log axis), else ``None``."""
    return x if x is not None and 0 < x < math.inf else None


def forest_rows(
    disparities: Mapping[str, Any],
    metric: str,
    reference: Mapping[str, Any] | None = None,
    groups: Mapping[str, Any] | None = None,
) -> list[ForestRow]:
    """Collect the rows of a forest plot for one metric, attribute by attribute.

    Parameters
    ----------
    disparities : Mapping
        ``{attr: {group: {metric: {"ratio": {...}, "difference": {...}}}}}``.
    metric : str
        The metric to plot.
    reference : Mapping, optional
        ``{attr: reference group}``; adds a reference row per attribute.
    groups : Mapping, optional
        The result's ``groups`` section; marks too-small groups.

    Returns
    -------
    list of ForestRow
        Header rows followed by their groups; attributes without the metric are left out.
    """
    rows: list[ForestRow] = []
    for attr, per_group in disparities.items():
        body = []
        for group, metrics in per_group.items():
            d = (metrics or {}).get(metric)
            if not d:
                continue
            ratio = d.get("ratio") or {}
            ci = ratio.get("ci") or [None, None]
            p_adj = ratio.get("p_adjusted", (d.get("difference") or {}).get("p_adjusted"))
            body.append(
                ForestRow(
                    "group",
                    attr,
                    str(group),
                    _value(ratio),
                    _value(ci[0]),
                    _value(ci[1]),
                    bool(_group_info(groups, attr, group).get("too_small")),
                    _value(p_adj) is not None and p_adj < 0.05,
                )
            )
        if not body:
            continue
        rows.append(ForestRow("header", attr))
        ref = (reference or {}).get(attr)
        if ref is not None and all(r.group != str(ref) for r in body):
            rows.append(ForestRow("reference", attr, str(ref), 1.0, 1.0, 1.0))
        rows.extend(body)
    return rows


def _forest_limits(rows: Sequence[ForestRow]) -> tuple[float, float]:
    """Log-axis limits that include 1 and every finite estimate and bound."""
    xs = [x for r in rows for x in (_pos(r.value), _pos(r.low), _pos(r.high)) if x] + [1.0]
    lo, hi = max(min(xs) / 1.3, 1e-3), min(max(xs) * 1.3, 1e3)
    return lo, hi


def _forest_row(ax: Axes, y: float, row: ForestRow, lim: tuple[float, float], lang: str) -> None:
    """Draw one group's ratio and interval at height ``y``."""
    colour = "#a0a0a0" if row.too_small else (PALETTE[1] if row.significant else PALETTE[0])
    value = _pos(row.value)
    if value is None:
        ax.text(
            1.0,
            y,
            " " + i18n.t("not_estimable", lang),
            va="center",
            fontsize=7.5,
            color=_GREY,
            style="italic",
        )
        return
    low, high = _pos(row.low) or lim[0], _pos(row.high) or lim[1]
    ax.plot([low, high], [y, y], color=colour, lw=1.4, solid_capstyle="butt")
    if _pos(row.low) is None:
        ax.plot([lim[0]], [y], marker="<", color=colour, ms=5)
    if _pos(row.high) is None:
        ax.plot([lim[1]], [y], marker=">", color=colour, ms=5)
    marker = "o" if row.kind == "group" else "D"
    face = "white" if row.too_small else colour
    ax.plot([value], [y], marker=marker, ms=6, color=colour, markerfacecolor=face, mew=1.4)


def _row_text(row: ForestRow, lang: str) -> str:
    """Right-hand annotation of a row: ratio and interval."""
    if row.kind == "reference":
        return "1"
    if row.kind != "group" or _pos(row.value) is None:
        return ""
    ci = i18n.fmt_interval([row.low, row.high], "ratio", lang)
    return f"{i18n.fmt_number(row.value, lang, 2)} ({ci})"


def _row_label(row: ForestRow, lang: str) -> str:
    """Left-hand label of a row: attribute header, or group with its tags."""
    if row.kind == "header":
        return _label(row.attribute)
    tag = ""
    if row.kind == "reference":
        tag = f" ({i18n.t('reference_tag', lang)})"
    elif row.too_small:
        tag = f" ({i18n.t('too_small_tag', lang)})"
    return _label(f"{row.group}{tag}")


def _forest_axes(ax: Axes, rows: Sequence[ForestRow], lim: tuple[float, float], lang: str) -> None:
    """Axis scale, ticks, labels and the line of no difference."""
    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    candidates = _FINE_TICKS if lim[1] / lim[0] < 20 else _TICKS
    ticks = [x for x in candidates if lim[0] <= x <= lim[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _ticklabel(x, lang)))
    ax.axvline(1.0, color=_INK, lw=0.9)
    ys = [len(rows) - 1 - i for i in range(len(rows))]
    ax.set_yticks(ys, [_row_label(r, lang) for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.kind == "header":
            tick.set_fontweight("bold")
        elif row.too_small or row.kind == "reference":
            tick.set_color("#6b6b6b")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(i18n.t("ratio_axis", lang))
    for y, row in zip(ys, rows, strict=True):
        ax.text(
            1.01,
            y,
            _row_text(row, lang),
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=7.5,
            color="#6b6b6b" if row.too_small else _INK,
        )
        if row.kind == "header" and y != ys[0]:
            ax.axhline(y + 0.5, color="#dddddd", lw=0.6)


def forest_svg(
    disparities: Mapping[str, Any],
    metric: str,
    lang: str,
    *,
    reference: Mapping[str, Any] | None = None,
    groups: Mapping[str, Any] | None = None,
    level: int = 95,
) -> str:
    """Forest plot of one metric's ratios to the reference group, on a log axis.

    Parameters
    ----------
    disparities : Mapping
        The result's ``disparities`` section.
    metric : str
        The metric to plot (``"selection_rate"``, ``"fpr"``...).
    lang : str
        ``"en"`` or ``"nl"``.
    reference : Mapping, optional
        ``{attr: reference group}``: a reference row at 1 per attribute.
    groups : Mapping, optional
        The result's ``groups`` section: too-small groups are greyed and labelled.
    level : int, optional
        Confidence level of the intervals in percent, for the title.

    Returns
    -------
    str
        An ``<svg>`` element. Ratios significant after adjustment are drawn in
        vermillion, the rest in blue, too-small groups grey and hollow.

    Raises
    ------
    ValueError
        If no group has this metric.
    """
    lang = i18n.check_lang(lang)
    rows = forest_rows(disparities, metric, reference, groups)
    if not rows:
        raise ValueError(f"no disparities for metric {metric!r}")
    lim = _forest_limits(rows)
    name = i18n.metric_label(metric, lang)
    with _style(f"forest-{metric}"):
        fig = Figure(figsize=(7.2, 0.27 * len(rows) + 1.0), layout="constrained")
        ax = fig.add_subplot()
        for i, row in enumerate(rows):
            if row.kind != "header":
                _forest_row(ax, len(rows) - 1 - i, row, lim, lang)
        _forest_axes(ax, rows, lim, lang)
        summary = "; ".join(
            f"{r.attribute} {r.group}: {_row_text(r, lang) or i18n.t('not_estimable', lang)}"
            for r in rows
            if r.kind != "header"
        )
        return _to_svg(
            fig,
            f"forest-{metric}",
            i18n.t("forest_alt", lang, metric=name, rows=summary, level=level),
        )


# --------------------------------------------------------------------------- other reports


def figure_svg(
    key: str, title: str, draw: Callable[[Figure], None], figsize: tuple[float, float]
) -> str:
    """A figure drawn by ``draw`` in the report style, as an inline-ready SVG.

    For reports outside this module (e.g. :mod:`waarborg.selectivity.report`): the same
    style, deterministic ids prefixed by ``key`` and an accessible ``title``.

    Examples
    --------
    >>> svg = figure_svg("demo", "A line", lambda fig: fig.subplots().plot([0, 1]), (2, 2))
    >>> svg.startswith("<svg") and "A line" in svg
    True
    """
    with _style(key):
        fig = Figure(figsize=figsize, layout="constrained")
        draw(fig)
        return _to_svg(fig, key, title)
