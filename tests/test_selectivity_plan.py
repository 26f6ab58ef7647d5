"""The reference-share plan: power against statsmodels and against the report by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import power_proportions_2indep, proportion_effectsize

from waarborg.audit.stats import newcombe_interval, two_proportion_pvalue
from waarborg.selectivity import plan_reference_share
from waarborg.selectivity.estimate import domain_estimates
from waarborg.selectivity.plan import two_proportion_power


@pytest.mark.parametrize(
    ("p1", "n1", "p2", "n2"), [(0.2, 500, 0.1, 300), (0.05, 80, 0.12, 900), (0.3, 40, 0.31, 40)]
)
def test_power_is_statsmodels_power_proportions_2indep(
    p1: float, n1: int, p2: float, n2: int
) -> None:
    expected = power_proportions_2indep(p1 - p2, p2, n1, ratio=n2 / n1, alpha=0.05).power
    assert two_proportion_power(p1, n1, p2, n2, 0.05) == pytest.approx(expected, rel=1e-9)


def test_power_is_close_to_the_arcsine_approximation() -> None:
    effect = proportion_effectsize(0.2, 0.1)
    arcsine = NormalIndPower().power(effect, nobs1=500, alpha=0.05, ratio=0.6)
    assert two_proportion_power(0.2, 500, 0.1, 300, 0.05) == pytest.approx(arcsine, abs=0.03)


def test_plan_share_is_the_smallest_reaching_the_power() -> None:
    plan = plan_reference_share(20_000, selection_share=0.05, prevalence=0.1, lift=2)
    goal = plan.goals[0]
    assert goal.power >= 0.8
    h, q = goal.assumptions["hit_rate"], goal.assumptions["not_selected"]
    fewer = (goal.n_reference - 1) / 20_000
    assert two_proportion_power(h, 1_000, q, fewer * 19_000, 0.05) < 0.8
    assert plan.reference_share == goal.reference_share
    assert plan.n_reference == goal.n_reference


def test_lift_plan_gives_the_power_in_the_report_by_simulation() -> None:
    n, s, prevalence, lift = 20_000, 0.05, 0.1, 2.0
    plan = plan_reference_share(n, selection_share=s, prevalence=prevalence, lift=lift)
    pi = plan.reference_share
    h, q = lift * prevalence, prevalence * (1 - s * lift) / (1 - s)
    rng = np.random.default_rng(8)
    reps, selected, not_selected = 4_000, round(s * n), n - round(s * n)
    hits = rng.binomial(selected, h, reps)
    drawn = rng.binomial(not_selected, pi, reps)
    found = rng.binomial(drawn, q)
    counts = np.zeros((reps, 1, 2, 2, 3))
    counts[:, 0, 1, 0, 1], counts[:, 0, 1, 0, 0] = hits, selected - hits
    counts[:, 0, 0, 1, 1], counts[:, 0, 0, 1, 0] = found, drawn - found
    counts[:, 0, 0, 0, 2] = not_selected - drawn
    est = domain_estimates(counts, np.ones((1, 1), bool))
    # the report's test of lift = 1 (its p-value) rejects as often as planned ...
    pvalues = two_proportion_pvalue(hits, selected, found, drawn)
    assert np.mean(pvalues < 0.05) == pytest.approx(plan.goals[0].power, abs=0.03)
    # ... and its interval, a little more cautious with few reference outcomes, nearly so
    by_interval = np.mean(est.lift_ci[0][:, 0] > 1)
    assert plan.goals[0].power - 0.08 < by_interval <= plan.goals[0].power + 0.02


def test_disparity_plan_gives_the_power_by_simulation() -> None:
    groups = [(0.3, 0.12), (0.7, 0.08)]
    plan = plan_reference_share(20_000, selection_share=0.1, disparity=groups)
    pi = plan.reference_share
    rng = np.random.default_rng(9)
    n_a = rng.binomial(6_000, pi, 4_000)
    n_b = rng.binomial(14_000, pi, 4_000)
    y_a, y_b = rng.binomial(n_a, 0.12), rng.binomial(n_b, 0.08)
    low, high = newcombe_interval(y_a, n_a, y_b, n_b)
    power = np.mean((low > 0) | (high < 0))
    assert power == pytest.approx(plan.goals[0].power, abs=0.04)


def test_impossible_plan_says_so() -> None:
    plan = plan_reference_share(500, selection_share=0.05, prevalence=0.1, lift=1.1)
    assert plan.reference_share is None and plan.goals[0].power < 0.8
    assert "Zelfs als elk geval" in plan.summary("nl")


def test_both_goals_take_the_larger_share() -> None:
    plan = plan_reference_share(
        20_000, selection_share=0.05, prevalence=0.1, lift=2, disparity=[(0.3, 0.12), (0.7, 0.08)]
    )
    assert plan.reference_share == max(g.reference_share for g in plan.goals)
    assert set(plan.to_dict()) >= {"reference_share", "n_reference", "goals"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lift": 2}, "prevalence"),
        ({"lift": 0.9, "prevalence": 0.1}, "above 1"),
        ({"lift": 30, "prevalence": 0.1}, "impossible"),
        ({"disparity": [(0.3, 0.1)]}, "two groups"),
        ({"disparity": [(0.3, 0.1), (0.7, 0.1)]}, "equal"),
        ({}, "give a lift"),
    ],
)
def test_bad_plans_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_reference_share(10_000, selection_share=0.05, **kwargs)
