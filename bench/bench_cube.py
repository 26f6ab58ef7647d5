"""The audit against the hardware limit, measured in the same run (issue 14).

The limit: a bare numpy pass that builds the same cube — read the audited columns (from
Parquet, or take them from memory), find the score's range, a histogram on the same
fine grid of 2**20 cells, the same quantile bins, each row's bin, one integer key per
row from the dictionary codes, and three ``bincount`` (cases, Σscore, Σscore²). One
thread, no validation, no metrics: what the audit cannot do without.

Measured, on the ``bench_audit`` cohort (10 million rows, three attributes and their
intersections, continuous score), alternating audit and limit runs, medians:

* the full audit from Parquet, from an Arrow table and from a polars frame, each against
  the limit from the same source (goal: ≤ 1.3× from Parquet, ≤ 1.2× from Arrow/polars);
* five attributes with intersections at 10 million rows (goal: ≤ 1.5 s), with the limit
  for the same five attributes beside it (the seconds depend on the machine, the ratio
  much less);
* peak memory (``VmHWM`` of a fresh process) of the audit from Parquet at 10 and 100
  million rows (``bench_engines`` data: 10 files of 10 million), goal: flat.

Run: ``python -m bench.bench_cube [speed|five|memory]`` (default: all); the machine's load
average is recorded with each part, since other work shares the cores.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bench.bench_audit import ATTRIBUTES, AUDITED_COLUMNS, cohort, run_waarborg
from bench.common import RESULTS, load_average, machine

N = 10_000_000
REPEAT = int(os.environ.get("WAARBORG_BENCH_REPEAT", "5"))
FINE = 1 << 20
N_BINS = 1000


def numpy_cube(data: Path | pa.Table, attributes: Sequence[str] = ATTRIBUTES) -> np.ndarray:
    """The limit: the cube's counts and score sums by bare numpy, one thread."""
    if isinstance(data, Path):
        data = pq.read_table(data, columns=AUDITED_COLUMNS)
    score = data.column("score").to_numpy()
    lo, hi = score.min(), score.max()
    cells = ((score - lo) * (FINE / (hi - lo))).astype(np.int32)
    np.minimum(cells, FINE - 1, out=cells)
    cum = np.cumsum(np.bincount(cells, minlength=FINE))
    starts = np.unique(np.searchsorted(cum, cum[-1] * np.arange(1, N_BINS) / N_BINS) + 1)
    lookup = np.searchsorted(starts, np.arange(FINE), side="right")
    key = np.zeros(score.size, np.int64)
    size = 1
    for name in [*attributes, "band"]:
        col = data.column(name).combine_chunks()
        key *= len(col.dictionary)
        key += col.indices.to_numpy()
        size *= len(col.dictionary)
    key *= 2
    key += data.column("outcome").to_numpy()
    key *= N_BINS
    key += lookup[cells]
    size *= 2 * N_BINS
    count = np.bincount(key, minlength=size)
    sums = np.bincount(key, weights=score, minlength=size)
    squares = np.bincount(key, weights=score * score, minlength=size)
    return np.flatnonzero(count) + sums.sum() + squares.sum()


def alternate(audit: Callable[[], object], limit: Callable[[], object]) -> dict[str, Any]:
    """Median seconds of REPEAT alternating runs of each (after a warm-up of each).

    Also the CPU seconds of the process (all threads): other work on the machine slows
    the wall clock of both, the audit's two threads more; the CPU ratio is what the
    audit costs more than the limit whatever the load (an upper bound on the wall ratio
    of a quiet machine, where the audit's second thread is free).
    """
    audit(), limit()
    times: dict[str, list[float]] = {"audit": [], "limit": []}
    cpu: dict[str, list[float]] = {"audit": [], "limit": []}
    for _ in range(REPEAT):
        for name, work in (("audit", audit), ("limit", limit)):
            start, used = time.perf_counter(), time.process_time()
            work()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - used)
    a, b = statistics.median(times["audit"]), statistics.median(times["limit"])
    ca, cb = statistics.median(cpu["audit"]), statistics.median(cpu["limit"])
    return {
        "audit_s": a,
        "limit_s": b,
        "ratio": a / b,
        "cpu": {"audit_s": ca, "limit_s": cb, "ratio": ca / cb, "runs": cpu},
        "runs": times,
    }


def speed(folder: Path) -> dict[str, Any]:
    """Audit / limit from Parquet, Arrow and polars at N rows."""
    table = cohort(N)
    path = folder / "cohort.parquet"
    pq.write_table(table, path)
    frame = pl.from_arrow(table)
    out: dict[str, Any] = {"rows": N, "load_average_before": load_average()}
    goals = {"parquet": 1.3, "arrow": 1.2, "polars": 1.2}
    sources: dict[str, tuple[Any, Any]] = {
        "parquet": (path, path),
        "arrow": (table, table),
        "polars": (frame, frame.to_arrow()),
    }
    for name, (data, plain) in sources.items():
        figures = alternate(lambda d=data: run_waarborg(d), lambda p=plain: numpy_cube(p))
        figures |= {"goal_ratio": goals[name], "goal_met": figures["ratio"] <= goals[name]}
        out[name] = figures
        print(
            f"  {name:<8} audit {figures['audit_s']:.3f} s · limit {figures['limit_s']:.3f} s"
            f" · ratio {figures['ratio']:.2f} (goal ≤ {goals[name]})"
            f" · CPU ratio {figures['cpu']['ratio']:.2f}",
            flush=True,
        )
    out["load_average_after"] = load_average()
    return out


def five_attributes() -> dict[str, Any]:
    """Five attributes with intersections at N rows, in memory (goal ≤ 1.5 s)."""
    from waarborg import audit
    from waarborg.audit import build_cube

    rng = np.random.default_rng(3)
    table = cohort(N)
    extra = {"region": 12, "education": 6}

    def labels(k: int) -> pa.DictionaryArray:
        codes = pa.array(rng.integers(0, k, N).astype(np.int32))
        return pa.DictionaryArray.from_arrays(codes, pa.array([f"v{i}" for i in range(k)]))

    for name, k in extra.items():
        table = table.append_column(name, labels(k))
    groups = [*ATTRIBUTES, *extra]

    def work() -> object:
        return audit(
            table,
            score="score",
            outcome="outcome",
            band="band",
            select=["hoog"],
            group=groups,
            intersections=True,
        )

    load = load_average()
    cube_cells = build_cube(
        table, score="score", outcome="outcome", band="band", group=groups
    ).table.num_rows
    figures = alternate(work, lambda: numpy_cube(table, groups))
    print(
        f"  five attributes: {figures['audit_s']:.3f} s, CPU {figures['cpu']['audit_s']:.3f} s"
        f" (goal ≤ 1.5 s) · limit {figures['limit_s']:.3f} s · ratio {figures['ratio']:.2f}",
        flush=True,
    )
    return {
        "rows": N,
        "groups": groups,
        "cells": cube_cells,
        **figures,
        "goal_s": 1.5,
        "goal_met": figures["audit_s"] <= 1.5,
        "load_average_before": load,
        "load_average_after": load_average(),
    }


def memory() -> dict[str, Any]:
    """Peak memory of the audit from Parquet at 10 and 100 million rows (fresh processes)."""
    from bench.bench_engines import CHUNK, part

    out: dict[str, Any] = {}
    for files in (1, 10):
        paths = [str(part(i)) for i in range(files)]
        if not all(Path(p).exists() for p in paths):
            print("  memory: run `python -m bench.bench_engines generate 100000000` first")
            return {}
        code = (  # VmHWM: ru_maxrss would count the parent's memory, copied at the fork
            "import json, re, time\n"
            "from bench.bench_audit import run_waarborg\n"
            f"paths = {paths!r}\n"
            "start = time.perf_counter()\n"
            "n = run_waarborg(paths if len(paths) > 1 else paths[0])['n']['value']\n"
            "seconds = time.perf_counter() - start\n"
            "status = open('/proc/self/status').read()\n"
            "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024\n"
            "print(json.dumps({'n': n, 'seconds': seconds, 'peak_rss_bytes': peak}))"
        )
        load = load_average()
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        assert figures["n"] == files * CHUNK
        figures |= {"peak_rss_gb": figures["peak_rss_bytes"] / 1e9, "load_average": load}
        out[f"{files * CHUNK}"] = figures
        print(
            f"  {files * CHUNK:>11,} rows: {figures['seconds']:.1f} s, "
            f"peak {figures['peak_rss_gb']:.2f} GB",
            flush=True,
        )
    return out


def main(parts: list[str]) -> None:
    path = RESULTS / "cube.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    chosen = parts or ["speed", "five", "memory"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            print(name, flush=True)
            figures = {
                "speed": lambda: speed(Path(tmp)),
                "five": five_attributes,
                "memory": memory,
            }[name]()
            results[name] = {"machine": machine(), **figures}
            RESULTS.mkdir(exist_ok=True)
            path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results → {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
