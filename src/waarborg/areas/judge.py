"""Judging an instrument's success criteria: met, not met or unknown, with the interval.

A criterion ``metric >= value`` is **met** when the whole interval (at the criterion's
own confidence level) lies at or above ``value``, **not met** when it lies wholly below,
and **unknown** when the interval straddles ``value`` or the metric cannot be computed
(no incidents, no baseline periods). ``<=`` mirrors this. So a criterion is only called
met when the data show it with the stated confidence — for
``hit_rate_gain_over_baseline`` exactly "the lower bound of its CI clears the value".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from waarborg.areas.accuracy import Accuracy, Estimate
from waarborg.areas.criteria import Goal, SuccessCriterion
from waarborg.audit.result import entry

__all__ = ["judge_criteria", "status_of"]

_NAMES = {
    "hit_rate": ("hit rate", "trefkans"),
    "pai": ("PAI", "PAI"),
    "pei": ("PEI", "PEI"),
    "auc": ("AUC", "AUC"),
    "hit_rate_gain_over_baseline": ("relative gain in hit rate", "relatieve winst in trefkans"),
}
_BASELINES = {
    "last_period": ("last period's hot spots", "de hotspots van de vorige periode"),
    "long_run": ("the long-run hot spots", "de hotspots over de hele voorgaande tijd"),
    "random": ("a random selection", "een willekeurige selectie"),
}
_STATUS = {
    "met": ("met", "voldaan"),
    "not_met": ("not met", "niet voldaan"),
    "unknown": ("unknown", "onbekend"),
}


def status_of(op: str, threshold: float, low: float, high: float) -> str:
    """``met``, ``not_met`` or ``unknown`` from an interval and a threshold.

    Examples
    --------
    >>> status_of(">=", 0.2, 0.22, 0.30), status_of(">=", 0.2, 0.1, 0.19)
    ('met', 'not_met')
    >>> status_of(">=", 0.2, 0.15, 0.25), status_of("<=", 5, float("nan"), float("nan"))
    ('unknown', 'unknown')
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return "unknown"
    if op == ">=":
        return "met" if low >= threshold else ("not_met" if high < threshold else "unknown")
    return "met" if high <= threshold else ("not_met" if low > threshold else "unknown")


def _estimate(criterion: SuccessCriterion, acc: Accuracy) -> Estimate | None:
    metric = criterion.metric
    if metric == "hit_rate_gain_over_baseline":
        return None if criterion.baseline is None else acc.gain(criterion.baseline)
    return {
        "hit_rate": acc.hit_rate,
        "pai": acc.pai,
        "pei": acc.pei,
        "auc": acc.auc_mean,
    }[metric]()


def judge_criteria(goal: Goal | None, acc: Accuracy) -> list[dict[str, Any]]:
    """Each success criterion of ``goal`` judged on the audited periods."""
    if goal is None:
        return []
    return [_judge(c, acc) for c in goal.success_criteria]


def _judge(c: SuccessCriterion, acc: Accuracy) -> dict[str, Any]:
    est = _estimate(c, acc)
    low, high = est.interval(c.confidence) if est is not None else (np.nan, np.nan)
    value = est.value if est is not None else np.nan
    status = status_of(c.op, c.value, low, high)
    name_en, name_nl = _NAMES[c.metric]
    if c.baseline is not None and c.metric == "hit_rate_gain_over_baseline":
        base_en, base_nl = _BASELINES[c.baseline]
        name_en += f" over {base_en}"
        name_nl += f" ten opzichte van {base_nl}"
    level = f"{c.confidence * 100:g}"
    shown = "—" if not np.isfinite(value) else f"{value:.3f}"
    ci = ci_nl = "—"
    if np.isfinite(low):
        sep, sep_nl = (" to ", " tot ") if low < 0 else ("–", "–")
        ci = f"{low:.3f}{sep}{high:.3f}"
        ci_nl = f"{low:.3f}".replace(".", ",") + sep_nl + f"{high:.3f}".replace(".", ",")
    why_en = why_nl = ""
    if est is None:
        why_en, why_nl = " (no baseline named)", " (geen vergelijkingsbasis genoemd)"
    en = (
        f"{c.description.rstrip('.')}: {_STATUS[status][0]} — {name_en} {shown} "
        f"({level}% CI {ci}), criterion {c.op} {c.value:g}{why_en}."
    )
    nl = (
        f"{c.description_nl.rstrip('.')}: {_STATUS[status][1]} — {name_nl} "
        f"{shown.replace('.', ',')} "
        f"({level.replace('.', ',')}%-BI {ci_nl}), criterium {c.op} "
        f"{f'{c.value:g}'.replace('.', ',')}{why_nl}."
    )
    return {
        "metric": c.metric,
        "op": c.op,
        "value": c.value,
        "baseline": c.baseline,
        "confidence": c.confidence,
        "description": c.description,
        "description_nl": c.description_nl,
        "status": status,
        "estimate": entry(value, low, high, est.n if est is not None else None),
        "text_en": en,
        "text_nl": nl,
    }
