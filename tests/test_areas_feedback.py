"""The feedback loop: Ensign et al.'s urn results, and the synthetic city's bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from waarborg.areas import simulate_feedback, urn_simulation
from waarborg.areas.feedback import POLICIES, inclusion

LAM_A, LAM_B = 0.55, 0.45


@pytest.mark.slow
def test_urn_without_correction_runs_away_to_the_higher_rate() -> None:
    share = urn_simulation(LAM_A, LAM_B, days=20_000, runs=300, record_every=1000, seed=1)
    early, late = share[1], share[-1]  # day 2,000 and day 20,000
    truth = LAM_A / (LAM_A + LAM_B)
    # far beyond the true ratio, still growing towards 1, and more runs near 1 over time
    assert late.mean() > truth + 0.15
    assert late.mean() > early.mean() + 0.02
    assert np.median(late) > 0.75
    assert (late > 0.9).mean() > (early > 0.9).mean() + 0.05
    # the mirror image: the higher rate in B drives A's share down
    mirror = urn_simulation(LAM_B, LAM_A, days=20_000, runs=300, record_every=1000, seed=2)
    assert mirror[-1].mean() < 1 - truth - 0.15


@pytest.mark.slow
def test_urn_with_inverse_probability_weights_learns_the_true_ratio() -> None:
    share = urn_simulation(
        LAM_A, LAM_B, days=20_000, runs=300, record_every=1000, policy="discovered_weighted"
    )
    truth = LAM_A / (LAM_A + LAM_B)
    assert share[-1].mean() == pytest.approx(truth, abs=0.01)
    assert np.quantile(share[-1], [0.025, 0.975]) == pytest.approx([truth, truth], abs=0.03)
    assert (share[-1] > 0.9).sum() == 0


def test_urn_rejects_rates_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        urn_simulation(1.5, 0.5, days=10)


def test_inclusion_probabilities_sum_to_the_budget_and_stay_proportional() -> None:
    score = np.random.default_rng(0).lognormal(0, 2, 500)
    pi = inclusion(score, 40.0)
    assert pi.sum() == pytest.approx(40.0)
    assert pi.max() <= 1.0
    free = pi < 1
    ratio = pi[free] / score[free]
    assert ratio == pytest.approx(np.full(free.sum(), ratio[0]))
    assert (score[~free].min() >= score[free].max()) if (~free).any() else True


def test_city_result_has_the_documented_json() -> None:
    res = simulate_feedback(n_cells=900, periods=12, areas_per_side=3, seed=4)
    data = json.loads(res.to_json())
    assert set(data["policies"]) == set(POLICIES)
    assert sum(data["true_share"]) == pytest.approx(1.0)
    for policy in data["policies"].values():
        assert len(policy["patrol_share"]) == 9
        assert sum(policy["patrol_share"]) == pytest.approx(1.0)
        assert len(policy["patrol_share_series"]) == 12 and len(policy["divergence"]) == 12
        share = np.array(policy["patrol_share_series"][-1])
        truth = np.array(data["true_share"])
        assert policy["divergence"][-1] == pytest.approx(0.5 * np.abs(share - truth).sum())
    assert "divergentie" in res.summary("nl")


def test_reported_only_ignores_patrols_and_weighting_beats_raw_records() -> None:
    weighted, raw = [], []
    for seed in range(3):
        res = simulate_feedback(n_cells=2500, periods=60, seed=seed)
        policies = res["policies"]
        weighted.append(policies["discovered_weighted"]["divergence"][-1])
        raw.append(policies["all_recorded"]["divergence"][-1])
    assert np.mean(weighted) < np.mean(raw)
    # without reports nothing is learned from reported-only records: patrols stay uniform
    none = simulate_feedback(n_cells=400, periods=5, areas_per_side=2, reporting=(0.0, 0.0))
    series = np.array(none["policies"]["reported_only"]["patrol_share_series"])
    assert series == pytest.approx(np.full_like(series, 0.25))
