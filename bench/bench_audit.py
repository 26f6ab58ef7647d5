"""The full audit against fairlearn's MetricFrame, side by side on the same data.

waarborg: ``audit()`` end to end from a Parquet file — read, count cube, validity (AUC
with DeLong CI, Brier, calibration, recalibration), group metrics with Wilson CIs,
disparities with Newcombe/Katz CIs and Holm-adjusted tests — for three attributes and
all their intersections. fairlearn: ``MetricFrame`` point estimates only (no intervals)
of the same group metrics for the same attributes and intersections, from a pandas
frame already in memory (its read time is not counted: an advantage to fairlearn).

Goals (DESIGN §5): the 10-million-case audit in ≤ 2 s from Parquet; ≥ 100× faster than
MetricFrame. MetricFrame takes about three minutes for all seven attribute sets at one
million rows, so at ten million it is timed on the first set (``sex``) only and the
total is extrapolated by the ratio of all sets to that set measured at one million;
the results file says so.
Run from the repository root: ``.venv/bin/python -m bench.bench_audit``.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score

from bench.common import summary, timings, write
from waarborg.audit import audit

ATTRIBUTES = ("sex", "migration_background", "age_group")
SIZES = (1_000_000, 10_000_000)


def cohort(n: int, seed: int = 0) -> pa.Table:
    """Probability score, 0/1 outcome, band, selection and three group attributes."""
    rng = np.random.default_rng(seed)
    sex = rng.integers(0, 2, n)
    origin = rng.choice(3, n, p=[0.75, 0.15, 0.10])
    age = rng.integers(0, 4, n)
    logit = -1.6 + 0.3 * sex + 0.25 * origin - 0.2 * age + rng.normal(0, 1, n)
    score = 1 / (1 + np.exp(-logit))
    outcome = (rng.random(n) < score).astype(np.int8)
    band = np.searchsorted([0.2, 0.4], score, side="right")

    def labels(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(names))

    return pa.table(
        {
            "score": score,
            "outcome": outcome,
            "band": labels(band, ["laag", "midden", "hoog"]),
            "selected": (band == 2).astype(np.int8),
            "sex": labels(sex, ["female", "male"]),
            "migration_background": labels(origin, ["dutch", "non_western", "western"]),
            "age_group": labels(age, ["12-17", "18-24", "25-39", "40+"]),
        }
    )


def run_waarborg(path: Path) -> object:
    return audit(
        path,
        score="score",
        outcome="outcome",
        band="band",
        select=["hoog"],
        group=list(ATTRIBUTES),
        intersections=True,
    )


def _ppv(y_true: pd.Series, y_pred: pd.Series) -> float:
    return precision_score(y_true, y_pred, zero_division=0)


METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "ppv": _ppv,
    "count": count,
}


def attribute_sets() -> list[tuple[str, ...]]:
    """The attributes, every pair and all three: what ``intersections=True`` audits."""
    return [
        *((a,) for a in ATTRIBUTES),
        *itertools.combinations(ATTRIBUTES, 2),
        ATTRIBUTES,
    ]


def run_fairlearn(
    frame: pd.DataFrame, sets: list[tuple[str, ...]]
) -> tuple[dict[tuple[str, ...], MetricFrame], dict[str, float]]:
    """MetricFrame for each attribute set, and the seconds each took."""
    frames, seconds = {}, {}
    for names in sets:
        start = time.perf_counter()
        frames[names] = MetricFrame(
            metrics=METRICS,
            y_true=frame["outcome"],
            y_pred=frame["selected"],
            sensitive_features=frame[list(names)],
        )
        seconds["×".join(names)] = time.perf_counter() - start
    return frames, seconds


def agree(result: object, frames: dict[tuple[str, ...], MetricFrame]) -> bool:
    """Selection rates and FPR of every single attribute's groups agree to 1e-12."""
    for (name,), mf in ((k, v) for k, v in frames.items() if len(k) == 1):
        for group, row in mf.by_group.iterrows():
            ours = result["groups"][name][str(group)]
            for metric in ("selection_rate", "fpr"):
                if abs(ours[metric]["value"] - row[metric]) > 1e-12:
                    return False
    return True


def measure(n: int, folder: Path, share_of_first: float | None) -> dict[str, object]:
    """Time both at ``n`` rows; with ``share_of_first``, fairlearn runs the first set only."""
    table = cohort(n)
    path = folder / f"cohort-{n}.parquet"
    pq.write_table(table, path)
    ours = summary(timings(lambda: run_waarborg(path), repeat=5))
    frame = table.to_pandas()
    for name in ATTRIBUTES:
        frame[name] = frame[name].astype(str)
    sets = attribute_sets() if share_of_first is None else attribute_sets()[:1]
    frames, seconds = run_fairlearn(frame, sets)
    measured = sum(seconds.values())
    total = measured if share_of_first is None else measured / share_of_first
    return {
        "rows": n,
        "waarborg_from_parquet": ours,
        "fairlearn_seconds_per_set": seconds,
        "fairlearn_metricframe_s": total,
        "fairlearn_extrapolated": share_of_first is not None,
        "speedup_median": total / ours["median_s"],
        "point_estimates_agree": agree(run_waarborg(path), frames),
    }


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        share = None
        for n in SIZES:
            row = measure(n, Path(tmp), share)
            results.append(row)
            per_set = row["fairlearn_seconds_per_set"]
            share = next(iter(per_set.values())) / row["fairlearn_metricframe_s"]
            print(
                f"{n:>11,} rows: waarborg {row['waarborg_from_parquet']['median_s']:.2f} s "
                f"(full audit, all CIs, from Parquet) · fairlearn "
                f"{row['fairlearn_metricframe_s']:.1f} s (point estimates, in memory"
                f"{', extrapolated' if row['fairlearn_extrapolated'] else ''}) · "
                f"{row['speedup_median']:.0f}× · agree: {row['point_estimates_agree']}"
            )
    largest = results[-1]
    path = write(
        "audit",
        {
            "attributes": list(ATTRIBUTES),
            "attribute_sets": [list(s) for s in attribute_sets()],
            "metrics": list(METRICS),
            "sizes": results,
            "goal_10m_seconds": 2.0,
            "goal_10m_met": largest["waarborg_from_parquet"]["median_s"] <= 2.0,
            "goal_speedup": 100,
            "goal_speedup_met": all(r["speedup_median"] >= 100 for r in results),
        },
    )
    print(f"results → {path}")


if __name__ == "__main__":
    main()
