"""Synthetic cohorts: rows per second of ``waarborg.synth.synthesize`` per instrument.

Goal: at least 1 million rows per second on the 2-core reference machine.
"""

from __future__ import annotations

from bench.common import summary, timings, write
from waarborg import list_instruments
from waarborg.synth import synthesize

N = 2_000_000


def main() -> None:
    results = {}
    for instrument_id in list_instruments():
        figures = summary(timings(lambda i=instrument_id: synthesize(i, N, seed=1), repeat=3))
        rate = N / figures["median_s"]
        results[instrument_id] = {**figures, "rows_per_second_median": rate}
        print(f"{instrument_id}: {rate / 1e6:.2f} M rows/s")
    slowest = min(r["rows_per_second_median"] for r in results.values())
    path = write(
        "synth",
        {
            "rows": N,
            "instruments": results,
            "goal_rows_per_second": 1_000_000,
            "goal_met": slowest >= 1_000_000,
        },
    )
    print(f"results → {path}")


if __name__ == "__main__":
    main()
