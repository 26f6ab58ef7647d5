"""The full audit against fairlearn's MetricFrame, side by side on the same data.

waarborg: ``audit()`` end to end from a Parquet file — read, count cube, validity (AUC
with DeLong CI, Brier, calibration, recalibration), group metrics with Wilson CIs,
disparities with Newcombe/Katz CIs and Holm-adjusted tests — for three attributes, every
pair and all three together (``intersections=True``). Also timed: reading the file alone
and the audit of the same data already in memory as an Arrow table.

fairlearn: ``MetricFrame`` point estimates only (no intervals) of the same group metrics
(selection rate, TPR, FPR, FNR, TNR, PPV, base rate, count) for the same seven attribute
sets, from a pandas frame already in memory: its read time is not counted, an advantage
to fairlearn. At one million rows it runs all seven sets once. At ten million all seven
would take about half an hour, so it runs the first set (``sex``) once and the total is
extrapolated by the ratio of all sets to that set at one million rows; the results file
says so (``fairlearn_extrapolated``, ``fairlearn_method``).

Every point estimate both compute (every group of every set at one million rows, the
``sex`` groups at ten million) is checked to agree within 1e-12.

Goals (DESIGN §5): the 10-million-case audit in ≤ 2 s from Parquet; ≥ 100× faster than
MetricFrame. Run from the repository root: ``.venv/bin/python -m bench.bench_audit``.
"""

from __future__ import annotations

import gc
import importlib.metadata
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

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
FULL_FAIRLEARN_UP_TO = 1_000_000  # above: the first attribute set only, extrapolated
REPEAT = 7
TOLERANCE = 1e-12
GOAL_SECONDS = 2.0
GOAL_SPEEDUP = 100.0


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


AUDITED_COLUMNS = ["score", "outcome", "band", *ATTRIBUTES]


def run_waarborg(data: Any, engine: str = "auto") -> Any:
    """The benchmarks' audit: validity, three attributes and their intersections."""
    return audit(
        data,
        score="score",
        outcome="outcome",
        band="band",
        select=["hoog"],
        group=list(ATTRIBUTES),
        intersections=True,
        engine=engine,
    )


# --------------------------------------------------------------------------- fairlearn


def ppv(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return precision_score(y_true, y_pred, zero_division=0)


def base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true))


METRICS = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "ppv": ppv,
    "base_rate": base_rate,
    "count": count,
}


def attribute_sets() -> list[tuple[str, ...]]:
    """The attributes, every pair and all three: what ``intersections=True`` audits."""
    return [
        *((a,) for a in ATTRIBUTES),
        *itertools.combinations(ATTRIBUTES, 2),
        ATTRIBUTES,
    ]


def set_name(names: tuple[str, ...]) -> str:
    """The attribute set as the audit result names it: ``sex×age_group``."""
    return "×".join(names)


def run_fairlearn(
    frame: pd.DataFrame, sets: list[tuple[str, ...]]
) -> tuple[dict[tuple[str, ...], MetricFrame], dict[str, float]]:
    """MetricFrame for each attribute set, and the seconds each took (one run each)."""
    frames, seconds = {}, {}
    for names in sets:
        start = time.perf_counter()
        frames[names] = MetricFrame(
            metrics=METRICS,
            y_true=frame["outcome"],
            y_pred=frame["selected"],
            sensitive_features=frame[list(names)],
        )
        seconds[set_name(names)] = time.perf_counter() - start
        print(f"    fairlearn {set_name(names)}: {seconds[set_name(names)]:.1f} s", flush=True)
    return frames, seconds


def compare(result: Any, frames: dict[tuple[str, ...], MetricFrame]) -> dict[str, Any]:
    """Every point estimate both give, per group and metric: agree within TOLERANCE?"""
    worst, compared, missing = 0.0, 0, []
    for names, mf in frames.items():
        ours = result["groups"][set_name(names)]
        for key, row in mf.by_group.iterrows():
            group = "×".join(map(str, key if isinstance(key, tuple) else (key,)))
            for metric in METRICS:
                theirs = float(row[metric])
                mine = ours[group]["n"] if metric == "count" else ours[group][metric]["value"]
                if mine is None:
                    missing.append(f"{set_name(names)}/{group}/{metric}")
                    continue
                worst = max(worst, abs(float(mine) - theirs))
                compared += 1
    return {
        "compared_values": compared,
        "metrics": list(METRICS),
        "attribute_sets": [set_name(s) for s in frames],
        "max_abs_difference": worst,
        "tolerance": TOLERANCE,
        "missing_in_waarborg": missing,
        "passed": worst <= TOLERANCE and not missing and compared > 0,
    }


# --------------------------------------------------------------------------- measuring


def timed_audit(data: Path | pa.Table) -> tuple[dict[str, float], dict[str, float]]:
    """Summary of REPEAT audits of ``data``, and the median seconds of each audit stage."""
    stages: list[dict[str, float]] = []

    def work() -> None:
        stages.append(dict(getattr(run_waarborg(data), "timings", {}) or {}))

    figures = summary(timings(work, repeat=REPEAT))
    measured = stages[1:]  # drop the warm-up run
    names = measured[0].keys() if measured else ()
    return figures, {s: statistics.median(t[s] for t in measured) for s in names}


def pandas_frame(table: pa.Table) -> pd.DataFrame:
    """The cohort as fairlearn is usually given it: plain columns, string groups."""
    frame = table.to_pandas()
    for name in ATTRIBUTES:
        frame[name] = frame[name].astype(str)
    return frame


def measure(n: int, folder: Path, ratio_all_to_first: float | None) -> dict[str, Any]:
    """Time both at ``n`` rows.

    With ``ratio_all_to_first`` fairlearn runs the first attribute set only and its
    total is that time times the ratio (all sets / first set, measured at a smaller n).
    """
    print(f"{n:,} rows", flush=True)
    table = cohort(n)
    path = folder / f"cohort-{n}.parquet"
    pq.write_table(table, path)
    size_mb = path.stat().st_size / 1e6

    read = summary(timings(lambda: pq.read_table(path, columns=AUDITED_COLUMNS), repeat=REPEAT))
    from_parquet, stages_parquet = timed_audit(path)
    in_memory, stages_memory = timed_audit(table)
    print(
        f"    waarborg: read {read['median_s']:.3f} s · audit from Parquet "
        f"{from_parquet['median_s']:.3f} s · in memory {in_memory['median_s']:.3f} s",
        flush=True,
    )
    result = run_waarborg(path)

    frame = pandas_frame(table)
    del table
    gc.collect()
    full = ratio_all_to_first is None
    sets = attribute_sets() if full else attribute_sets()[:1]
    frames, seconds = run_fairlearn(frame, sets)
    measured = sum(seconds.values())
    total = measured if full else measured * ratio_all_to_first
    check = compare(result, frames)
    del frame, frames
    gc.collect()

    first = set_name(attribute_sets()[0])
    return {
        "rows": n,
        "parquet_mb": size_mb,
        "read_parquet_only": read,
        "waarborg_from_parquet": from_parquet,
        "waarborg_from_parquet_stage_median_s": stages_parquet,
        "waarborg_in_memory": in_memory,
        "waarborg_in_memory_stage_median_s": stages_memory,
        "fairlearn_runs": 1,
        "fairlearn_seconds_per_set": seconds,
        "fairlearn_metricframe_s": total,
        "fairlearn_extrapolated": not full,
        "fairlearn_method": (
            "measured: all seven attribute sets, one run each"
            if full
            else f"extrapolated: only the '{first}' set was run (once, {measured:.1f} s); "
            f"total = that time × {ratio_all_to_first:.3f}, the ratio of all seven sets "
            f"to the '{first}' set measured at {FULL_FAIRLEARN_UP_TO:,} rows"
        ),
        "speedup_from_parquet": total / from_parquet["median_s"],
        "speedup_in_memory": total / in_memory["median_s"],
        "point_estimates": check,
    }


def versions() -> dict[str, str]:
    packages = ("waarborg", "fairlearn", "scikit-learn", "pandas", "pyarrow", "numpy")
    return {p: importlib.metadata.version(p) for p in packages}


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    head = (
        f"{'rows':>11} {'read':>7} {'parquet':>8} {'memory':>8} {'fairlearn':>10} "
        f"{'speed-up':>9} {'≤2 s':>5} {'≥100×':>6} {'agree':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        fl = f"{r['fairlearn_metricframe_s']:.1f}s{'*' if r['fairlearn_extrapolated'] else ' '}"
        lines.append(
            f"{r['rows']:>11,} {r['read_parquet_only']['median_s']:>6.3f}s "
            f"{r['waarborg_from_parquet']['median_s']:>7.3f}s "
            f"{r['waarborg_in_memory']['median_s']:>7.3f}s {fl:>10} "
            f"{r['speedup_from_parquet']:>8.0f}× "
            f"{'yes' if r['waarborg_from_parquet']['median_s'] <= GOAL_SECONDS else 'no':>5} "
            f"{'yes' if r['speedup_from_parquet'] >= GOAL_SPEEDUP else 'no':>6} "
            f"{'yes' if r['point_estimates']['passed'] else 'NO':>6}"
        )
    lines += [
        "read: Parquet → Arrow, audited columns only; parquet, memory: waarborg's full audit",
        "(median); fairlearn: MetricFrame point estimates from pandas in memory, one run",
        "(* extrapolated from one attribute set); speed-up: fairlearn / audit from Parquet.",
    ]
    return lines


def main() -> None:
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    ratio = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            row = measure(n, Path(tmp), None if n <= FULL_FAIRLEARN_UP_TO else ratio)
            results.append(row)
            if not row["fairlearn_extrapolated"]:
                per_set = row["fairlearn_seconds_per_set"]
                ratio = row["fairlearn_metricframe_s"] / next(iter(per_set.values()))
    largest = results[-1]
    path = write(
        "audit",
        {
            "versions": versions(),
            "attributes": list(ATTRIBUTES),
            "attribute_sets": [set_name(s) for s in attribute_sets()],
            "metrics": list(METRICS),
            "waarborg_call": (
                "audit(path, score='score', outcome='outcome', band='band', select=['hoog'], "
                "group=[sex, migration_background, age_group], intersections=True)"
            ),
            "waarborg_repeats": REPEAT,
            "notes": (
                f"waarborg times are medians of {REPEAT} runs after a warm-up; fairlearn is one "
                "run per set from an in-memory pandas frame (read time excluded). The speed-up "
                "compares fairlearn's point estimates with waarborg's full audit from Parquet."
            ),
            "sizes": results,
            "goal_10m_seconds": GOAL_SECONDS,
            "goal_10m_met": largest["waarborg_from_parquet"]["median_s"] <= GOAL_SECONDS,
            "goal_speedup": GOAL_SPEEDUP,
            "goal_speedup_met": all(r["speedup_from_parquet"] >= GOAL_SPEEDUP for r in results),
            "point_estimates_agree": all(r["point_estimates"]["passed"] for r in results),
            "script_seconds": time.perf_counter() - started,
        },
    )
    print("\n".join(["", *table_lines(results), ""]))
    print(f"results → {path}")


if __name__ == "__main__":
    main()
