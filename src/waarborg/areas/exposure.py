"""Exposure of residents' groups to the area selection, and stops based on it.

**Residents.** For group ``g`` with ``R_g`` residents, the share living in a selected
cell in period ``p`` is ``Σ_c sel_pc R_gc / R_g``. Reported: per period; per year
(blocks of ``round(365.25 / period_days)`` periods from the first) the share living in
a cell selected *at least once* and the *average* share; pooled over all periods the
average share and its ratio to the reference group (largest by default).

**Incidents.** The incidents recorded in a cell are attributed to its groups in
proportion to its residents; the group's incident share in selected cells is
``Σ sel·I·w_g / Σ I·w_g``. ``residents_vs_incidents`` is the residents ratio divided
by the incidents ratio: above 1, the group lives in selected cells more often, relative
to the reference group, than the incidents recorded around it account for.

**What is random.** The residents are a fixed count (a census table), so the
uncertainty is over periods: the intervals come from the same circular block bootstrap
over periods as the accuracy figures. They do not cover error in the residents
table itself (statistics offices round small counts; area weighting assumes residents
spread evenly within a square). The at-least-once shares per year are exact facts about
a fixed population and a fixed selection history and carry no interval. Verdicts use
Bonferroni-adjusted intervals over the groups and both metrics; a group with fewer
than ``min_group_size`` residents is reported but gets no verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from waarborg.areas.accuracy import Bootstrap, Estimate
from waarborg.areas.inputs import ACTION_BASES, Actions

__all__ = ["exposure", "stops"]


def _pooled_share(boot: Bootstrap, part: np.ndarray, total: float) -> Estimate:
    return boot.ratio(part, np.full(part.size, total), int(total))


def exposure(
    selected: np.ndarray,
    residents: np.ndarray,
    groups: list[str],
    current: np.ndarray,
    boot: Bootstrap,
    *,
    reference: str | None,
    period_days: int,
    confidence: float,
    min_group_size: int,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``exposure`` part of the result, its disparities and verdicts."""
    totals = residents.sum(axis=0)
    ref = reference if reference is not None else groups[int(np.argmax(totals))]
    if ref not in groups:
        raise ValueError(f"reference group {ref!r} is not among {groups}")
    r = groups.index(ref)
    sel = selected.astype(np.float64)
    in_selected = sel @ residents
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.nan_to_num(residents / residents.sum(axis=1, keepdims=True))
        per_period = in_selected / totals
    inc_all = current @ weights
    inc_sel = (current * sel) @ weights
    res_est = [_pooled_share(boot, in_selected[:, g], totals[g]) for g in range(len(groups))]
    inc_est = [boot.ratio(inc_sel[:, g], inc_all[:, g]) for g in range(len(groups))]
    others = [g for g in range(len(groups)) if g != r and totals[g] >= min_group_size]
    family = max(1, 2 * len(others))
    strict = 1 - (1 - confidence) / family
    out_groups: dict[str, Any] = {}
    disparities, verdicts = [], []
    for g, name in enumerate(groups):
        res_ratio = boot.combine(np.divide, res_est[g], res_est[r], n=int(totals[g]))
        inc_ratio = boot.combine(np.divide, inc_est[g], inc_est[r], n=int(totals[g]))
        relative = boot.combine(np.divide, res_ratio, inc_ratio, n=int(totals[g]))
        out_groups[name] = {
            "residents": float(totals[g]),
            "too_small": bool(totals[g] < min_group_size),
            "share_selected": res_est[g].entry(confidence),
            "ratio": res_ratio.entry(confidence),
            "incidents_attributed": float(inc_all[:, g].sum()),
            "incident_share_selected": inc_est[g].entry(confidence),
            "incident_ratio": inc_ratio.entry(confidence),
            "residents_vs_incidents": relative.entry(confidence),
            "per_period": [float(v) if np.isfinite(v) else None for v in per_period[:, g]],
        }
        if g not in others:
            continue
        for metric, est in (("exposure", res_ratio), ("exposure_given_incidents", relative)):
            low, high = est.interval(strict)
            significant = bool(np.isfinite(low) and (low > 1 or high < 1))
            item = {
                "attribute": "residents",
                "group": name,
                "reference": ref,
                "metric": metric,
                "ratio": est.entry(confidence),
                "ci_adjusted": [low, high],
                "significant": significant,
            }
            disparities.append(item)
            verdicts.append(item | _verdict_text(name, ref, metric, est.value, low, high, strict))
    result = {
        "reference": ref,
        "groups": out_groups,
        "years": _years(sel, residents, totals, per_period, groups, period_days),
        "method": (
            "block bootstrap over periods; residents fixed; verdicts Bonferroni-adjusted "
            f"over {family} comparisons"
        ),
    }
    return result, disparities, verdicts


def _years(
    sel: np.ndarray,
    residents: np.ndarray,
    totals: np.ndarray,
    per_period: np.ndarray,
    groups: list[str],
    period_days: int,
) -> list[dict[str, Any]]:
    size = max(1, round(365.25 / period_days))
    out = []
    for start in range(0, sel.shape[0], size):
        block = slice(start, start + size)
        ever = (sel[block].max(axis=0) @ residents) / totals
        average = per_period[block].mean(axis=0)
        out.append(
            {
                "first_period": start,
                "periods": int(sel[block].shape[0]),
                "at_least_once": {g: _num(ever[i]) for i, g in enumerate(groups)},
                "average": {g: _num(average[i]) for i, g in enumerate(groups)},
            }
        )
    return out


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _verdict_text(
    group: str, ref: str, metric: str, value: float, low: float, high: float, level: float
) -> dict[str, str]:
    ci = f"{low:.2f}–{high:.2f}" if np.isfinite(low) else "—"  # ratios are positive
    ci_nl = ci.replace(".", ",")
    pct = f"{level * 100:.1f}".rstrip("0").rstrip(".")
    if metric == "exposure":
        en = (
            f"Residents of group '{group}' live in a selected cell {value:.2f} times as often "
            f"as group '{ref}' ({pct}% CI {ci})."
        )
        nl = (
            f"Bewoners uit groep '{group}' wonen {value:.2f} keer zo vaak in een geselecteerde "
            f"cel als groep '{ref}' ({pct.replace('.', ',')}%-BI {ci_nl})."
        ).replace(f"{value:.2f}", f"{value:.2f}".replace(".", ","))
    else:
        en = (
            f"Given the incidents recorded around them, group '{group}' is selected "
            f"{value:.2f} times as often as group '{ref}' ({pct}% CI {ci})."
        )
        nl = (
            f"Gegeven de geregistreerde incidenten in hun buurt wordt groep '{group}' "
            f"{value:.2f} keer zo vaak geselecteerd als groep '{ref}' "
            f"({pct.replace('.', ',')}%-BI {ci_nl})."
        ).replace(f"{value:.2f}", f"{value:.2f}".replace(".", ","))
    return {"text_en": en, "text_nl": nl}


def stops(actions: Actions, selected: np.ndarray, starts: list[str]) -> dict[str, Any]:
    """Actions and distinct persons per basis, period and group; those based only on
    the area selection are parliament's question."""
    n_periods = selected.shape[0]
    persons, person_code = np.unique(actions.person.astype(str), return_inverse=True)
    area = actions.basis == ACTION_BASES.index("area_selection")
    per_period: dict[str, Any] = {"start": starts}
    totals = {}
    for i, basis in enumerate(ACTION_BASES):
        mine = actions.basis == i
        per_period[f"{basis}_actions"] = np.bincount(
            actions.period[mine], minlength=n_periods
        ).tolist()
        totals[basis] = {
            "actions": int(mine.sum()),
            "persons": int(np.unique(person_code[mine]).size),
        }
    pairs = np.unique(actions.period[area] * max(1, persons.size) + person_code[area])
    per_period["area_selection_persons"] = np.bincount(
        pairs // max(1, persons.size), minlength=n_periods
    ).tolist()
    outside = area & ~selected[actions.period, actions.cell] if actions.period.size else area
    out: dict[str, Any] = {
        "source": actions.source,
        "read": actions.read,
        "outside_periods": actions.outside,
        "unknown_cell": actions.unknown_cell,
        "totals": totals,
        "per_period": per_period,
        "area_selection_outside_selected_cells": int(outside.sum()),
        "by_group": None,
    }
    if actions.group is not None:
        by_group = {}
        for g in sorted(set(actions.group[area].tolist())):
            mine = area & (actions.group == g)
            by_group[g or "unknown"] = {
                "actions": int(mine.sum()),
                "persons": int(np.unique(person_code[mine]).size),
                "per_period_actions": np.bincount(
                    actions.period[mine], minlength=n_periods
                ).tolist(),
            }
        out["by_group"] = by_group
    return out
