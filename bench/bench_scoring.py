"""Scoring throughput: 10 million in-memory cases through a logistic instrument.

The cases are an Arrow table as a Parquet file or a polars frame would give them:
integer columns and dictionary-encoded categorical columns. File reading is excluded.
Goal: at least 10 million cases per second on the 2-core reference machine.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bench.common import summary, timings, write
from waarborg import load_instrument, score

N = 10_000_000


def cases(n: int, seed: int = 0) -> pa.Table:
    """Valid preselect-style cases: counts, ages and dictionary-encoded categories."""
    rng = np.random.default_rng(seed)

    def categorical(levels: list[str]) -> pa.DictionaryArray:
        codes = rng.integers(0, len(levels), n).astype(np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(levels))

    return pa.table(
        {
            "case_id": np.arange(n),
            "prior_suspect_registrations": rng.poisson(2, n),
            "age_at_first_registration": rng.integers(8, 18, n),
            "involved_party_registrations": rng.poisson(1, n),
            "housemate_suspect_registrations": rng.poisson(1, n),
            "offence": categorical(["property", "violence", "vandalism", "drugs", "other"]),
            "age": rng.integers(12, 18, n),
            "sex": categorical(["female", "male"]),
        }
    )


def main() -> None:
    instrument = load_instrument("preselect-style")
    table = cases(N)
    result = summary(timings(lambda: score(instrument, table)))
    rate = N / result["median_s"]
    print(f"scored {N:,} cases: median {result['median_s']:.3f} s → {rate / 1e6:.1f} M cases/s")
    path = write(
        "scoring",
        {
            "instrument": "preselect-style (logistic, 7 predictors)",
            "cases": N,
            **result,
            "cases_per_second_median": rate,
            "goal_cases_per_second": 10_000_000,
            "goal_met": rate >= 10_000_000,
        },
    )
    print(f"results → {path}")


if __name__ == "__main__":
    main()
