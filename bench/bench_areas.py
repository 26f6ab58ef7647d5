"""Area audit and feedback simulation at CAS scale (issue 13).

Goals: the audit of 40,000 cells × 130 periods (5.2 million cell-periods) from Parquet
within about 1.5 s (scoring and audit together within 3 s), and the feedback
simulation of 100 periods on a 40,000-cell city within 10 s. The yardstick measured in
the same run is the bare Parquet read of the scored table's columns.

The tables come from :mod:`bench.areas_data` (a stand-in city in the engine's formats)
until ``waarborg synth cas-style`` is merged.

Run: ``.venv/bin/python -m bench.bench_areas``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from bench.areas_data import generate
from bench.common import summary, timings, write
from waarborg.areas import audit_areas, simulate_feedback, urn_simulation


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = generate(Path(folder))
        scored, incidents = str(paths["scored"]), str(paths["incidents"])
        columns = ["cell_id", "period", "score", "selected", "expected_incidents"]
        read = summary(
            timings(
                lambda: pq.read_table(scored, columns=columns, read_dictionary=["cell_id"]),
                repeat=5,
            )
        )
        audit = summary(timings(lambda: audit_areas(scored, incidents), repeat=5))
        full = summary(
            timings(
                lambda: audit_areas(
                    scored,
                    incidents,
                    residents=paths["residents"],
                    actions=paths["actions"],
                    cells=paths["cells"],
                ),
                repeat=3,
            )
        )
        result = audit_areas(scored, incidents)
    simulation = summary(timings(lambda: simulate_feedback(n_cells=40_000, periods=100), repeat=3))
    urn = urn_simulation(0.55, 0.45, days=20_000, runs=300, record_every=20_000)
    fixed = urn_simulation(
        0.55, 0.45, days=20_000, runs=300, record_every=20_000, policy="discovered_weighted"
    )
    results = {
        "cell_periods": result["n"]["value"],
        "parquet_read_s": read,
        "audit_s": audit,
        "audit_to_read": audit["median_s"] / read["median_s"],
        "audit_full_s": full,
        "audit_goal_s": 1.5,
        "simulation_100_periods_40000_cells_s": simulation,
        "simulation_goal_s": 10.0,
        "urn_share_a_after_20000_days": {
            "discovered": float(urn[-1].mean()),
            "discovered_weighted": float(fixed[-1].mean()),
            "true_ratio": 0.55,
        },
    }
    for key, value in results.items():
        print(f"{key}: {value}")
    print("wrote", write("areas", results))


if __name__ == "__main__":
    main()
