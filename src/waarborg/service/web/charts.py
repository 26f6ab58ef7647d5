"""Small inline SVG charts for the pages (no scripts, no external files)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from waarborg.service.schemas import TrendOut

WIDTH, HEIGHT, PAD = 640, 200, 36


def agreement_svg(trend: Sequence[TrendOut], title: str) -> Markup:
    """Agreement with the score per week: a dot per week with its 95% interval.

    Returns an empty string when there are no decisions yet. The chart has a ``<title>``
    and ``role="img"`` for screen readers; the same figures are in a table beside it.
    Every text in it is escaped here, so the result is markup a template shows as is.
    """
    points = [t for t in trend if t.agreement.rate is not None]
    if not points:
        return Markup("")
    step = (WIDTH - 2 * PAD) / max(len(points), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
        _axis(),
    ]
    for i, week in enumerate(points):
        x = PAD + step * (i + 0.5)
        rate = week.agreement
        low, high = rate.ci_low or rate.rate, rate.ci_high or rate.rate
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_y(low):.1f}" y2="{_y(high):.1f}" '
            'stroke="#1a4f8b" stroke-width="2"/>'
            f'<circle cx="{x:.1f}" cy="{_y(rate.rate):.1f}" r="4" fill="#1a4f8b">'
            f"<title>{escape(week.week)}: {rate.rate:.0%} (n = {rate.n})</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _y(rate: float | None) -> float:
    return HEIGHT - PAD - (rate or 0.0) * (HEIGHT - 2 * PAD)


def _axis() -> str:
    ticks = "".join(
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{_y(v):.1f}" y2="{_y(v):.1f}" '
        f'stroke="#ccc"/><text x="{PAD - 6}" y="{_y(v) + 4:.1f}" text-anchor="end" '
        f'font-size="11" fill="#333">{v:.0%}</text>'
        for v in (0.0, 0.5, 1.0)
    )
    return f'<g aria-hidden="true">{ticks}</g>'
