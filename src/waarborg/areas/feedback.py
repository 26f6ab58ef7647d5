"""The feedback loop of area selection, simulated: the urn model and a synthetic city.

**The urn model** (Ensign et al., "Runaway Feedback Loops in Predictive Policing",
FAT* 2018). Two areas A and B with crime rates ``λA``, ``λB``; the urn holds
``nA``, ``nB`` balls (the recorded incidents). Each day one officer is sent to an area
drawn from the urn (A with probability ``p = nA / (nA + nB)``); in the area visited a
crime is discovered with probability ``λ`` of that area, and the discovery is recorded:
a ball of its colour goes into the urn. Only discovered incidents, no reports.

* ``discovered`` (no correction): a generalised Pólya urn with replacement
  ``diag(λA, λB)``; for ``λA > λB`` the share of A tends to 1, however small the
  difference — the runaway loop.
* ``discovered_weighted``: each discovered incident is weighted by the inverse of the
  probability that police were sent there (``1 / p`` balls for A), the correction
  the paper proposes. The expected increment per day is then ``λA`` for A and ``λB``
  for B whatever ``p`` is, so the share tends to ``λA / (λA + λB)``.

**The city** (:func:`simulate_feedback`). Cells with true crime rates (area effects
times cell noise, lognormal); per area a reporting rate. Each period: crimes
``N ~ Poisson(λ)``; residents report each with the area's rate; the model's score is the
(optionally discounted) recorded count plus a prior; patrols go to cells with inclusion
probability ``π`` proportional to the score (capped at 1, on average ``patrol_share``
of the cells) — a random selection, so that the probability of being sent is known;
in a patrolled cell each unreported crime is discovered with probability
``discovery``. Recorded incidents feed the score by one of three update policies:

* ``all_recorded``: reported + discovered;
* ``reported_only``: reported incidents only (independent of patrols; biased by
  reporting rates instead);
* ``discovered_weighted``: reported + discovered weighted by ``1 / π`` (Ensign et al.).

Reported over time: the patrol share per area (``Σ π`` in the area over ``Σ π``) against
the true crime share, and their divergence (total variation distance, ½ Σ |difference|).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from waarborg.audit.result import jsonable

__all__ = ["POLICIES", "FeedbackResult", "simulate_feedback", "urn_simulation"]

POLICIES = ("all_recorded", "reported_only", "discovered_weighted")
UrnPolicy = Literal["discovered", "discovered_weighted"]


def urn_simulation(
    lam_a: float,
    lam_b: float,
    *,
    days: int = 10_000,
    runs: int = 100,
    policy: UrnPolicy = "discovered",
    start: tuple[float, float] = (1.0, 1.0),
    record_every: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """Ensign et al.'s two-area urn, ``runs`` independent runs at once.

    Parameters
    ----------
    lam_a, lam_b : float
        Probability that a visit to A (B) discovers a crime, in [0, 1].
    days : int
        Days simulated (one visit a day).
    runs : int
        Independent runs.
    policy : {"discovered", "discovered_weighted"}
        Record every discovery as one ball, or as ``1 / p`` balls (the correction).
    start : tuple of float
        Balls of A and B at the start.
    record_every : int
        Record the share of A every this many days.
    seed : int
        Random seed.

    Returns
    -------
    ndarray
        Share of A in the urn (the probability of sending police to A), shape
        ``(days // record_every, runs)``.

    Examples
    --------
    >>> share = urn_simulation(0.55, 0.45, days=2000, runs=20, policy="discovered_weighted")
    >>> share.shape
    (20, 20)
    """
    if not (0 <= lam_a <= 1 and 0 <= lam_b <= 1):
        raise ValueError("lam_a and lam_b are probabilities, in [0, 1]")
    if policy not in ("discovered", "discovered_weighted"):
        raise ValueError(f"unknown policy {policy!r}")
    rng = np.random.default_rng(seed)
    n_a = np.full(runs, float(start[0]))
    n_b = np.full(runs, float(start[1]))
    out = np.empty((days // record_every, runs))
    weighted = policy == "discovered_weighted"
    block = 1000
    for first in range(0, days, block):
        u = rng.random((min(block, days - first), 2, runs))
        for i in range(u.shape[0]):
            p_a = n_a / (n_a + n_b)
            to_a = u[i, 0] < p_a
            found = u[i, 1] < np.where(to_a, lam_a, lam_b)
            # the correction: a discovery counts 1 / P(police were sent there)
            add = found / np.where(to_a, p_a, 1 - p_a) if weighted else found.astype(float)
            n_a += add * to_a
            n_b += add * ~to_a
            day = first + i + 1
            if day % record_every == 0:
                out[day // record_every - 1] = n_a / (n_a + n_b)
    return out


@dataclass
class City:
    """A synthetic city: true rates and reporting rates per cell, areas of cells."""

    rate: np.ndarray
    reporting: np.ndarray
    area: np.ndarray
    n_areas: int


def make_city(
    n_cells: int = 40_000,
    areas_per_side: int = 4,
    mean_rate: float = 0.05,
    reporting: tuple[float, float] = (0.3, 0.8),
    seed: int = 0,
) -> City:
    """A square city of about ``n_cells`` cells in ``areas_per_side²`` areas.

    Area crime levels are lognormal (sd 0.6), cells vary within an area (lognormal,
    sd 0.8); reporting rates per area are uniform on ``reporting``.
    """
    rng = np.random.default_rng(seed)
    side = max(areas_per_side, round(np.sqrt(n_cells)))
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    area = ((ix * areas_per_side) // side) * areas_per_side + (iy * areas_per_side) // side
    area = area.ravel()
    n_areas = areas_per_side**2
    level = rng.lognormal(0.0, 0.6, n_areas)
    cell = rng.lognormal(0.0, 0.8, area.size)
    rate = level[area] * cell
    rate *= mean_rate / rate.mean()
    return City(
        rate=rate,
        reporting=rng.uniform(*reporting, n_areas)[area],
        area=area,
        n_areas=n_areas,
    )


def inclusion(score: np.ndarray, expected: float) -> np.ndarray:
    """Inclusion probabilities proportional to ``score``, summing to ``expected``, ≤ 1.

    Cells whose share would exceed 1 get 1; the rest is shared again (the usual
    πps capping).

    Examples
    --------
    >>> inclusion(np.array([10.0, 1.0, 1.0]), 2.0).tolist()
    [1.0, 0.5, 0.5]
    """
    pi = np.zeros_like(score, dtype=float)
    capped = np.zeros(score.size, bool)
    for _ in range(score.size):
        rest = expected - capped.sum()
        free = ~capped
        total = score[free].sum()
        pi[free] = rest * score[free] / total if total > 0 else 0.0
        over = free & (pi >= 1.0)
        if not over.any():
            break
        capped |= over
        pi[capped] = 1.0
    return pi


@dataclass
class FeedbackResult:
    """The simulation's outcome per policy; ``to_json()`` as documented in the module."""

    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return jsonable(self.data)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON: ``policies.<policy>.patrol_share`` (last period), ``true_share``, series."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def summary(self, lang: str = "en") -> str:
        """The final divergence and patrol share of the most over-patrolled area per policy."""
        from waarborg.areas.report import policy_label

        nl = lang == "nl"
        lines = [
            "Terugkoppelingssimulatie" if nl else "Feedback simulation",
            ("periodes: " if nl else "periods: ") + str(self.data["parameters"]["periods"]),
        ]
        true = np.array(self.data["true_share"])
        for key, p in self.data["policies"].items():
            name = policy_label(key, lang)
            share = np.array(p["patrol_share"])
            worst = int(np.argmax(share - true))
            div = f"{p['divergence'][-1]:.3f}"
            a, b = f"{share[worst]:.3f}", f"{true[worst]:.3f}"
            if nl:
                div, a, b = (x.replace(".", ",") for x in (div, a, b))
                lines.append(
                    f"- {name}: divergentie {div}; gebied {worst}: patrouilleaandeel {a} "
                    f"tegen misdaadaandeel {b}"
                )
            else:
                lines.append(
                    f"- {name}: divergence {div}; area {worst}: patrol share {a} against "
                    f"crime share {b}"
                )
        return "\n".join(lines)


def simulate_feedback(
    *,
    n_cells: int = 40_000,
    periods: int = 100,
    areas_per_side: int = 4,
    patrol_share: float = 0.03,
    discovery: float = 0.5,
    memory: float = 1.0,
    mean_rate: float = 0.05,
    reporting: tuple[float, float] = (0.3, 0.8),
    policies: tuple[str, ...] = POLICIES,
    seed: int = 0,
) -> FeedbackResult:
    """Simulate area selection feeding on its own records, under each update policy.

    Parameters
    ----------
    n_cells : int
        Cells in the city (a square; rounded to a whole side).
    periods : int
        Periods simulated.
    areas_per_side : int
        The city is cut into ``areas_per_side²`` areas for the shares.
    patrol_share : float
        Expected share of cells patrolled each period.
    discovery : float
        Probability that a patrol discovers an unreported crime in its cell.
    memory : float
        Weight of the past in the score (1: every record counts forever, as in the urn).
    mean_rate : float
        Mean true crimes per cell per period.
    reporting : tuple of float
        Range of the areas' reporting rates (uniform); ``(0, 0)``: discovered only, as in
        the urn model.
    policies : tuple of str
        Update policies to compare (see the module).
    seed : int
        Random seed; crimes and reports are the same for every policy.

    Returns
    -------
    FeedbackResult

    Examples
    --------
    >>> res = simulate_feedback(n_cells=400, periods=5, areas_per_side=2)
    >>> sorted(res["policies"]), len(res["true_share"])
    (['all_recorded', 'discovered_weighted', 'reported_only'], 4)
    """
    unknown = set(policies) - set(POLICIES)
    if unknown:
        raise ValueError(f"unknown policies {sorted(unknown)}; choose from {POLICIES}")
    if not 0 < patrol_share <= 1:
        raise ValueError("patrol_share must be in (0, 1]")
    city = make_city(n_cells, areas_per_side, mean_rate, reporting, seed)
    rng = np.random.default_rng(seed + 1)
    crimes = rng.poisson(city.rate, (periods, city.rate.size)).astype(np.int32)
    reported = rng.binomial(crimes, city.reporting).astype(np.int32)
    true_share = np.bincount(city.area, city.rate, city.n_areas) / city.rate.sum()
    expected = patrol_share * city.rate.size
    out: dict[str, Any] = {}
    for k, policy in enumerate(policies):
        out[policy] = _run(city, crimes, reported, policy, expected, discovery, memory, seed, k)
        share = np.array(out[policy]["patrol_share_series"])
        out[policy]["divergence"] = (0.5 * np.abs(share - true_share).sum(axis=1)).tolist()
        out[policy]["patrol_share"] = share[-1].tolist()
    return FeedbackResult(
        {
            "parameters": {
                "cells": int(city.rate.size),
                "periods": periods,
                "areas": city.n_areas,
                "patrol_share": patrol_share,
                "discovery": discovery,
                "memory": memory,
                "mean_rate": mean_rate,
                "reporting": list(reporting),
                "seed": seed,
            },
            "true_share": true_share.tolist(),
            "reporting_rate": np.bincount(city.area, city.reporting, city.n_areas)
            / np.bincount(city.area, minlength=city.n_areas),
            "policies": out,
        }
    )


def _run(
    city: City,
    crimes: np.ndarray,
    reported: np.ndarray,
    policy: str,
    expected: float,
    discovery: float,
    memory: float,
    seed: int,
    k: int,
) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 2 + k])
    score = np.full(city.rate.size, city.rate.mean())  # a flat prior: one period's mean
    series, recorded, cells = [], [], []
    true = city.rate / city.rate.sum()
    for p in range(crimes.shape[0]):
        pi = inclusion(score, expected)
        series.append(np.bincount(city.area, pi, city.n_areas) / pi.sum())
        cells.append(float(0.5 * np.abs(pi / pi.sum() - true).sum()))
        patrolled = rng.random(pi.size) < pi
        unreported = crimes[p] - reported[p]
        found = np.zeros_like(unreported)
        found[patrolled] = rng.binomial(unreported[patrolled], discovery)
        if policy == "all_recorded":
            new = reported[p] + found
        elif policy == "reported_only":
            new = reported[p].astype(float)
        else:
            new = reported[p] + np.divide(found, pi, out=np.zeros(pi.size), where=found > 0)
        score = memory * score + new
        recorded.append(int(reported[p].sum() + found.sum()))
    return {
        "patrol_share_series": np.array(series).tolist(),
        "cell_divergence": cells,
        "recorded": recorded,
    }
