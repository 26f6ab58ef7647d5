"""Synthetic selection tables with a known truth, for the selectivity report and its tests.

Data-generating process (a :class:`Scenario`)
---------------------------------------------
* ``n`` cases, split over the groups of column ``group`` in fixed sizes
  ``round(n * shares[g])``.
* Each case has a true risk ``r ~ Beta(prevalence[g] * concentration,
  (1 - prevalence[g]) * concentration)``, so the group's **true prevalence** is
  ``prevalence[g]``; the outcome (irregularity found by a check) is ``Bernoulli(r)``.
* **Selection rule**: the instrument sees ``r`` (its ``score``) and selects a case when
  ``r`` exceeds the group's threshold, set so that the group's **selection rate** is
  ``selection_rate[g]`` (a lower threshold for a group selected more often: with the same
  prevalence that is a planted disparity).
* The **random reference sample**: every case independently with probability
  ``reference_share``, regardless of score.
* Outcomes are known for the selected and the drawn (checked) cases, except a share
  ``missing`` of them at random; unknown otherwise (``None``).

:meth:`Scenario.truth` gives the true prevalence, hit rate, lift, recall and burden per
group and overall, from the Beta distribution exactly.

Examples
--------
>>> s = Scenario(n=1_000)
>>> table = selection_table(s, seed=1)
>>> table.column_names
['group', 'score', 'selected', 'reference', 'outcome']
>>> round(s.truth()["B"]["selection_rate"], 2)
0.2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats

__all__ = ["Scenario", "planted", "selection_table", "simulate_counts"]


def _shares() -> dict[str, float]:
    return {"A": 0.7, "B": 0.3}


def _prevalence() -> dict[str, float]:
    return {"A": 0.1, "B": 0.1}


def _selection() -> dict[str, float]:
    return {"A": 0.1, "B": 0.2}


@dataclass(frozen=True)
class Scenario:
    """A population, its selection rule and its reference draw (see the module docs).

    The default plants a disparity: group B is selected twice as often as group A at the
    same prevalence, so B bears more checks per irregularity found.

    Parameters
    ----------
    n : int
        Cases in the period.
    shares : dict
        Each group's share of the cases.
    prevalence : dict
        Each group's true prevalence of the outcome.
    selection_rate : dict
        Each group's share selected (by a threshold on the true risk).
    concentration : float
        ``a + b`` of the Beta risk distribution: lower means more spread in risk, so a
        higher hit rate for the same selection rate.
    reference_share : float
        Probability that a case is drawn into the random reference sample.
    missing : float
        Share of checked cases whose outcome stays unknown (at random).
    """

    n: int = 10_000
    shares: dict[str, float] = field(default_factory=_shares)
    prevalence: dict[str, float] = field(default_factory=_prevalence)
    selection_rate: dict[str, float] = field(default_factory=_selection)
    concentration: float = 4.0
    reference_share: float = 0.05
    missing: float = 0.0

    @property
    def groups(self) -> list[str]:
        """The group names, in the order of ``shares``."""
        return list(self.shares)

    def sizes(self) -> np.ndarray:
        """Cases per group."""
        return np.array([round(self.n * self.shares[g]) for g in self.groups], dtype=np.int64)

    def _beta(self, g: str) -> Any:
        p, k = self.prevalence[g], self.concentration
        return stats.beta(p * k, (1 - p) * k)

    def threshold(self, g: str) -> float:
        """The risk above which group ``g`` is selected."""
        return float(self._beta(g).isf(self.selection_rate[g]))

    def rates(self, g: str) -> tuple[float, float, float]:
        """``(selection rate, hit rate among selected, rate among not selected)`` of ``g``."""
        p, k, s = self.prevalence[g], self.concentration, self.selection_rate[g]
        hits = p * stats.beta(p * k + 1, (1 - p) * k).sf(self.threshold(g))  # E[r; r > t]
        return s, hits / s, (p - hits) / (1 - s)

    def truth(self) -> dict[str, dict[str, float]]:
        """True values per group and ``"overall"``: prevalence, rates, lift, recall, burden."""
        w = self.sizes() / self.sizes().sum()
        out: dict[str, dict[str, float]] = {}
        found = total = picked = 0.0
        for weight, g in zip(w, self.groups, strict=True):
            s, h, q = self.rates(g)
            p = self.prevalence[g]
            out[g] = _measures(p, s, h, q)
            found, total, picked = found + weight * s * h, total + weight * p, picked + weight * s
        h_all = found / picked
        q_all = (total - found) / (1 - picked)
        out["overall"] = _measures(total, picked, h_all, q_all)
        return out


def _measures(p: float, s: float, h: float, q: float) -> dict[str, float]:
    return {
        "prevalence": p,
        "selection_rate": s,
        "hit_rate": h,
        "prevalence_not_selected": q,
        "lift": h / p,
        "recall": s * h / p,
        "checks_per_outcome": 1 / h,
    }


def selection_table(scenario: Scenario, seed: int | np.random.Generator = 0) -> pa.Table:
    """One period's selection table (one row per case) drawn from ``scenario``.

    Columns: ``group`` (string), ``score`` (the true risk), ``selected``, ``reference``
    (bool) and ``outcome`` (bool, null for cases not checked or with a missing outcome).
    """
    rng = np.random.default_rng(seed)
    parts = []
    for g, size in zip(scenario.groups, scenario.sizes(), strict=True):
        risk = scenario._beta(g).rvs(size=int(size), random_state=rng)
        selected = risk > scenario.threshold(g)
        parts.append((np.full(int(size), g, dtype=object), risk, selected))
    group = np.concatenate([p[0] for p in parts])
    risk = np.concatenate([p[1] for p in parts])
    selected = np.concatenate([p[2] for p in parts])
    reference = rng.random(group.size) < scenario.reference_share
    outcome = rng.random(group.size) < risk
    known = (selected | reference) & (rng.random(group.size) >= scenario.missing)
    return pa.table(
        {
            "group": pa.array(group.tolist(), pa.string()),
            "score": pa.array(risk),
            "selected": pa.array(selected),
            "reference": pa.array(reference),
            "outcome": pa.array(outcome, mask=~known),
        }
    )


def simulate_counts(
    scenario: Scenario, repeats: int, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """Counts of ``repeats`` independent periods, shape ``(repeats, groups, 2, 2, 3)``.

    The same layout as :class:`waarborg.selectivity.inputs.SelectionCounts` (selected,
    reference, outcome state no/yes/unknown), drawn as multinomials per group with the
    scenario's cell probabilities: equivalent to :func:`selection_table` followed by
    counting, at the cost of the cells only.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((repeats, len(scenario.groups), 2, 2, 3), np.int64)
    for i, (g, size) in enumerate(zip(scenario.groups, scenario.sizes(), strict=True)):
        probs = _cell_probabilities(scenario, *scenario.rates(g))
        draws = rng.multinomial(int(size), probs.ravel(), size=repeats)
        out[:, i] = draws.reshape(repeats, 2, 2, 3)
    return out


def _cell_probabilities(scenario: Scenario, s: float, h: float, q: float) -> np.ndarray:
    """P(selected, reference, outcome state) for one group."""
    pi, miss = scenario.reference_share, scenario.missing
    cells = np.zeros((2, 2, 3))
    for sel, p_sel, rate in ((1, s, h), (0, 1 - s, q)):
        for ref, p_ref in ((1, pi), (0, 1 - pi)):
            mass = p_sel * p_ref
            if sel or ref:
                cells[sel, ref] = mass * np.array(
                    [(1 - rate) * (1 - miss), rate * (1 - miss), miss]
                )
            else:
                cells[sel, ref, 2] = mass
    return cells


def planted(scenario: Scenario) -> Mapping[str, float]:
    """The planted selection ratio and burden ratio of B against A (default scenario).

    Examples
    --------
    >>> {k: round(v, 2) for k, v in planted(Scenario()).items()}["selection_ratio"]
    2.0
    """
    truth = scenario.truth()
    a, b = truth["A"], truth["B"]
    return {
        "selection_ratio": b["selection_rate"] / a["selection_rate"],
        "burden_ratio": a["hit_rate"] / b["hit_rate"],
        "lift": truth["overall"]["lift"],
    }
