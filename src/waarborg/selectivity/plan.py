"""How large must the random reference share be? Power, before the process starts.

Two questions, each answered by the smallest reference share that reaches the power:

* **lift**: will the report show that the selection finds more than chance? Under
  H0 the lift is 1, i.e. the hit rate among the selected ``h`` equals the outcome rate
  among the not selected ``q``. For an expected lift ``L`` at prevalence ``p`` with a
  share ``s`` selected, ``h = L p`` and ``q = p (1 - s L) / (1 - s)``; the test compares
  the ``s N`` selected (all checked) with the ``pi (1 - s) N`` not selected reference
  cases.
* **disparity**: will a difference in prevalence between two groups (shares ``w_a``,
  ``w_b`` of the cases, prevalences ``p_a``, ``p_b``) be found? The test compares the
  ``pi w_a N`` and ``pi w_b N`` reference cases of the two groups. This is
  conservative: the report's prevalence also uses the checked selected cases.

Power is that of the two-sided two-proportion z test (pooled variance under H0,
unpooled under the alternative, both tails), as statsmodels'
``power_proportions_2indep``; the tests check it against statsmodels and against the
report's own intervals by simulation.

Examples
--------
>>> plan = plan_reference_share(20_000, selection_share=0.05, prevalence=0.1, lift=2)
>>> 0 < plan.reference_share < 0.05
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy import optimize, stats

from waarborg.report.i18n import fmt_count, fmt_number
from waarborg.selectivity.text import say

__all__ = ["Goal", "ReferencePlan", "plan_reference_share", "two_proportion_power"]

_SMALLEST = 1e-9


def two_proportion_power(p1: float, n1: float, p2: float, n2: float, alpha: float) -> float:
    """Power of the two-sided two-proportion z test of ``p1 == p2``.

    Examples
    --------
    >>> round(two_proportion_power(0.2, 500, 0.1, 500, 0.05), 3)
    0.994
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0
    pooled = (n1 * p1 + n2 * p2) / (n1 + n2)
    sd_null = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    sd_alt = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if sd_alt == 0:
        return 1.0 if p1 != p2 else alpha
    z = stats.norm.isf(alpha / 2)
    diff = abs(p1 - p2)
    return float(stats.norm.cdf((diff - z * sd_null) / sd_alt)) + float(
        stats.norm.cdf((-diff - z * sd_null) / sd_alt)
    )


@dataclass(frozen=True)
class Goal:
    """One question the reference sample must answer, and the share it needs.

    ``reference_share`` is ``None`` when even drawing every case does not reach the
    power; ``power`` is the power reached at the share (or at a share of 1).
    """

    kind: str  # "lift" or "disparity"
    reference_share: float | None
    n_reference: int
    power: float
    assumptions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferencePlan:
    """The smallest reference share that answers every goal (see the module docs)."""

    n_cases: int
    selection_share: float
    power: float
    alpha: float
    goals: list[Goal]

    @property
    def reference_share(self) -> float | None:
        """The share needed for all goals (the largest of them), or None if out of reach."""
        shares = [g.reference_share for g in self.goals]
        return None if any(s is None for s in shares) else max(shares)  # type: ignore[type-var]

    @property
    def n_reference(self) -> int | None:
        """Reference cases at that share over all cases planned."""
        share = self.reference_share
        return None if share is None else math.ceil(share * self.n_cases)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {
            "reference_share": self.reference_share,
            "n_reference": self.n_reference,
        }

    def summary(self, lang: str = "en") -> str:
        """The plan in a sentence per goal, in English or Dutch."""
        lines = [say("plan_title", lang)]
        for goal in self.goals:
            lines.append(_sentence(self, goal, lang))
        return "\n".join(lines)


def _pct(x: float, lang: str) -> str:
    digits = 2 if x < 0.1 else 1
    return fmt_number(100 * x, lang, digits) + "%"


def _sentence(plan: ReferencePlan, goal: Goal, lang: str) -> str:
    common = {
        "power": fmt_number(plan.power, lang, 2),
        "alpha": fmt_number(plan.alpha, lang, 2),
        "n": fmt_count(plan.n_cases, lang),
        "reached": fmt_number(goal.power, lang, 3),
    }
    if goal.reference_share is None:
        return say("plan_impossible", lang, **common)
    common |= {
        "share": _pct(goal.reference_share, lang),
        "n_reference": fmt_count(goal.n_reference, lang),
    }
    a = goal.assumptions
    if goal.kind == "lift":
        return say(
            "plan_lift",
            lang,
            lift=fmt_number(a["lift"], lang, 2),
            prevalence=_pct(a["prevalence"], lang),
            selected=_pct(plan.selection_share, lang),
            **common,
        )
    return say(
        "plan_disparity",
        lang,
        p_a=_pct(a["prevalence_a"], lang),
        p_b=_pct(a["prevalence_b"], lang),
        share_a=_pct(a["share_a"], lang),
        share_b=_pct(a["share_b"], lang),
        **common,
    )


def plan_reference_share(
    n_cases: int,
    *,
    selection_share: float,
    prevalence: float | None = None,
    lift: float | None = None,
    disparity: Sequence[tuple[float, float]] | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    periods: int = 1,
) -> ReferencePlan:
    """The smallest random reference share to detect a lift and/or a prevalence disparity.

    Parameters
    ----------
    n_cases : int
        Cases per period.
    selection_share : float
        Share of the cases the instrument selects (all of them checked).
    prevalence : float, optional
        Expected prevalence of the outcome in the population (needed with ``lift``).
    lift : float, optional
        The lift to detect (hit rate among the selected over the prevalence), > 1.
    disparity : sequence of two (share, prevalence) pairs, optional
        Two groups' shares of the cases and their expected prevalences.
    power : float, default 0.8
        Power wanted.
    alpha : float, default 0.05
        Two-sided significance level.
    periods : int, default 1
        Periods pooled in the analysis (cases = ``n_cases * periods``).

    Returns
    -------
    ReferencePlan
        Per goal the share, the reference cases and the power reached; the plan's
        ``reference_share`` is the largest, which answers all.

    Examples
    --------
    >>> plan = plan_reference_share(
    ...     50_000, selection_share=0.1, disparity=[(0.3, 0.12), (0.7, 0.08)])
    >>> plan.goals[0].kind, plan.n_reference <= 50_000
    ('disparity', True)
    """
    _check(selection_share, power, alpha, n_cases, periods)
    total = n_cases * periods
    goals = []
    if lift is not None:
        goals.append(_lift_goal(total, selection_share, prevalence, lift, power, alpha))
    if disparity is not None:
        goals.append(_disparity_goal(total, disparity, power, alpha))
    if not goals:
        raise ValueError("give a lift (with a prevalence) or a disparity to plan for")
    return ReferencePlan(total, selection_share, power, alpha, goals)


def _check(share: float, power: float, alpha: float, n_cases: int, periods: int) -> None:
    for name, value in (("selection share", share), ("power", power), ("alpha", alpha)):
        if not 0 < value < 1:
            raise ValueError(f"the {name} must lie strictly between 0 and 1, got {value}")
    if n_cases < 1 or periods < 1:
        raise ValueError("the number of cases and of periods must be at least 1")


def _lift_goal(
    total: int, s: float, prevalence: float | None, lift: float, power: float, alpha: float
) -> Goal:
    if prevalence is None or not 0 < prevalence < 1:
        raise ValueError("planning for a lift needs the expected prevalence, in (0, 1)")
    if lift <= 1:
        raise ValueError(f"the lift to detect must be above 1, got {lift}")
    h = lift * prevalence
    if h >= 1 or s * lift >= 1:
        raise ValueError(
            f"a lift of {lift} is impossible at prevalence {prevalence} with {s:.0%} selected "
            "(the hit rate would exceed 1 or the selection find more than all outcomes)"
        )
    q = prevalence * (1 - s * lift) / (1 - s)

    def reached(pi: float) -> float:
        return two_proportion_power(h, s * total, q, pi * (1 - s) * total, alpha)

    assumptions = {"lift": lift, "prevalence": prevalence, "hit_rate": h, "not_selected": q}
    return _solve("lift", reached, total, power, assumptions)


def _disparity_goal(
    total: int, groups: Sequence[tuple[float, float]], power: float, alpha: float
) -> Goal:
    if len(groups) != 2:
        raise ValueError("a disparity is between two groups: give two (share, prevalence)")
    (w_a, p_a), (w_b, p_b) = groups
    for value in (w_a, w_b, p_a, p_b):
        if not 0 < value < 1:
            raise ValueError(f"shares and prevalences lie strictly between 0 and 1, got {value}")
    if w_a + w_b > 1 + 1e-9:
        raise ValueError("the two groups' shares add up to more than 1")
    if p_a == p_b:
        raise ValueError("the two prevalences are equal: there is no disparity to detect")

    def reached(pi: float) -> float:
        return two_proportion_power(p_a, pi * w_a * total, p_b, pi * w_b * total, alpha)

    assumptions = {"share_a": w_a, "prevalence_a": p_a, "share_b": w_b, "prevalence_b": p_b}
    return _solve("disparity", reached, total, power, assumptions)


def _solve(kind: str, reached: Any, total: int, power: float, assumptions: dict) -> Goal:
    """The smallest share in (0, 1] whose power reaches ``power`` (power rises with it)."""
    at_most = reached(1.0)
    if at_most < power:
        return Goal(kind, None, total, at_most, assumptions)
    share = optimize.brentq(lambda pi: reached(pi) - power, _SMALLEST, 1.0, xtol=1e-10)
    n_reference = math.ceil(share * total)
    share = n_reference / total  # whole cases: round the share up to them
    return Goal(kind, share, n_reference, reached(share), assumptions)
