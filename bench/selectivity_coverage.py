"""Coverage of every interval of the selectivity report, by simulation (issue 15).

Not a timing: the share of simulated periods whose interval contains the true value,
for each measure of :func:`waarborg.selectivity.selectivity_report`, in three
scenarios of :mod:`waarborg.synth.selectivity`. The unit tests check lift and
prevalence (>= 94% at 95%); this script measures the rest for docs/selectivity.md.

Run: ``python -m bench.selectivity_coverage [--repeats 1000]``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from bench.common import machine, write
from waarborg.selectivity import SelectionCounts, selectivity_report
from waarborg.synth.selectivity import Scenario, simulate_counts

SCENARIOS = {
    "planted disparity (n 10,000, share 5%)": Scenario(n=10_000, reference_share=0.05),
    "rare outcome, 2% share, 10% missing (n 20,000)": Scenario(
        n=20_000, reference_share=0.02, missing=0.1, prevalence={"A": 0.05, "B": 0.15}
    ),
    "small period (n 2,000, share 10%)": Scenario(n=2_000, reference_share=0.1, concentration=10),
}


def truths(scenario: Scenario) -> dict[str, dict[str, float]]:
    """True values of the per-group measures (group B against reference group A)."""
    t = scenario.truth()
    w = dict(zip(scenario.groups, scenario.sizes() / scenario.sizes().sum(), strict=True))
    found = sum(w[g] * t[g]["prevalence"] for g in "AB")
    picked = sum(w[g] * t[g]["selection_rate"] for g in "AB")
    out: dict[str, dict[str, float]] = {"overall": t["overall"]}
    for g in "AB":
        out[g] = t[g] | {
            "share_outcome": w[g] * t[g]["prevalence"] / found,
            "share_selected": w[g] * t[g]["selection_rate"] / picked,
        }
    a, b = t["A"], t["B"]
    out["B"] |= {
        "selection_ratio": b["selection_rate"] / a["selection_rate"],
        "burden_ratio": a["hit_rate"] / b["hit_rate"],
        "extra_checks": 1 / b["hit_rate"] - 1 / a["hit_rate"],
        "hit_rate_difference": b["hit_rate"] - a["hit_rate"],
        "prevalence_difference": b["prevalence"] - a["prevalence"],
    }
    return out


def coverage(scenario: Scenario, repeats: int, seed: int) -> dict[str, float]:
    """Share of periods whose interval holds the truth, per domain and measure."""
    truth = truths(scenario)
    hits: dict[str, list[bool]] = {}
    for counts in simulate_counts(scenario, repeats, seed):
        data = SelectionCounts("<sim>", ("group",), [("A",), ("B",)], counts, 0)
        res = selectivity_report(data, ["group"], reference_group="group=A")
        rows: dict[str, Any] = {"overall": res["overall"], **res["by_group"]["group"]}
        for domain, values in truth.items():
            for key, true in values.items():
                if key not in rows[domain] or not isinstance(rows[domain][key], dict):
                    continue
                low, high = rows[domain][key]["ci"]
                ok = low is not None and high is not None and low <= true <= high
                hits.setdefault(f"{domain}.{key}", []).append(ok)
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1000)
    args = parser.parse_args()
    results = {
        name: coverage(scenario, args.repeats, seed=17) for name, scenario in SCENARIOS.items()
    }
    for name, figures in results.items():
        print(name)
        for key, value in figures.items():
            print(f"  {key:<32} {value:.3f}")
    write(
        "selectivity_coverage",
        {"machine": machine(), "repeats": args.repeats, "confidence": 0.95, "coverage": results},
    )


if __name__ == "__main__":
    main()
