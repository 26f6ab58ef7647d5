"""The SQL engines at scale: 1 billion rows of Parquet through DuckDB, 100 million through Spark.

The data: the ``bench_audit`` cohort (probability score, outcome, band, selected flag and
three group attributes) in Parquet files of 10 million rows each (``WAARBORG_BENCH_DATA``,
default ``/tmp/waarborg-bench``; 1 billion rows take about 9.5 GB): the first 10 files
generated with their own seeds, the other 90 byte copies of them (see :func:`generate`).
Each audit (the same call as ``bench_audit``: validity and three attributes with
intersections) runs in a fresh Python process, which reports its wall-clock seconds and
its peak memory (``ru_maxrss``); for Spark the driver JVM's memory is its own and not
counted (its heap is bounded by ``spark.driver.memory``), only the Python side's.

Runs (each appends to ``results/engines.json`` as it finishes, so a long run that is
stopped keeps what it measured)::

    python -m bench.bench_engines generate 1000000000   # or fewer rows
    python -m bench.bench_engines duckdb 100000000      # the first 10 files
    python -m bench.bench_engines spark 100000000
    python -m bench.bench_engines duckdb 1000000000
    python -m bench.bench_engines clean                 # delete the data

Goal (issue 14): both run on this 2-core machine with bounded memory; times recorded.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, load_average, machine

CHUNK = 10_000_000
DISTINCT = 10  # files generated; the rest are copies of these
DATA = Path(os.environ.get("WAARBORG_BENCH_DATA", "/tmp/waarborg-bench"))
RESULT = RESULTS / "engines.json"


def part(i: int) -> Path:
    return DATA / f"part-{i:05d}.parquet"


def generate(rows: int) -> dict[str, Any]:
    """Write ``rows`` rows in files of ``CHUNK`` rows (files already there are kept).

    The first ``DISTINCT`` files are generated (each its own seed); file ``i`` after them
    is a byte copy of file ``i % DISTINCT``: on this shared 2-core machine generating a
    billion rows would take over an hour, and the engines read every file all the same.
    """
    import pyarrow.parquet as pq

    from bench.bench_audit import cohort

    DATA.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i in range(rows // CHUNK):
        if part(i).exists():
            continue
        tmp = part(i).with_suffix(".tmp")
        if i < DISTINCT:
            pq.write_table(cohort(CHUNK, seed=1000 + i), tmp, row_group_size=1 << 20)
        else:
            shutil.copyfile(part(i % DISTINCT), tmp)
        tmp.rename(part(i))
        print(f"  wrote {part(i).name}", flush=True)
    size = sum(p.stat().st_size for p in DATA.glob("part-*.parquet"))
    return {"rows": rows, "seconds": time.perf_counter() - start, "gigabytes": size / 1e9}


def audit_child(engine: str, rows: int) -> None:
    """In the child process: audit the first ``rows`` rows; print seconds and peak memory."""
    from bench.bench_audit import run_waarborg

    files = [str(part(i)) for i in range(rows // CHUNK)]
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        raise SystemExit(f"generate the data first: {missing[0]} is missing")
    data: Any = str(DATA) if len(files) == len(list(DATA.glob("part-*.parquet"))) else files
    start = time.perf_counter()
    result = run_waarborg(data, engine)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_bytes": peak,
                "n": result["n"]["value"],
                "auc": result["validity"]["auc"]["value"],
                "stages_s": dict(result.timings),
            }
        )
    )


def run_audit(engine: str, rows: int) -> dict[str, Any]:
    """Audit in a fresh process; its figures and the machine's load around it."""
    load = load_average()
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_engines", "child", engine, str(rows)],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(child.stderr[-3000:])
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    assert figures["n"] == rows, figures
    settings = {
        "duckdb": {"memory_limit": os.environ.get("WAARBORG_DUCKDB_MEMORY", "2GB")},
        "spark": {"master": os.environ.get("SPARK_MASTER", "local[2]")},
    }[engine]
    return {
        "engine": engine,
        "rows": rows,
        **figures,
        "rows_per_s": rows / figures["seconds"],
        "peak_rss_gb": figures["peak_rss_bytes"] / 1e9,
        "settings": settings,
        "load_average_before": load,
        "load_average_after": load_average(),
    }


def record(key: str, figures: dict[str, Any]) -> None:
    """Add one run to ``results/engines.json`` (runs of other keys are kept)."""
    old = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    runs = old.get("runs", {})
    runs[key] = {"machine": machine(), **figures}
    RESULTS.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps({"data": str(DATA), "runs": runs}, indent=2) + "\n")


def main(argv: list[str]) -> None:
    what = argv[0]
    if what == "child":
        audit_child(argv[1], int(argv[2]))
    elif what == "generate":
        figures = generate(int(argv[1]))
        record(f"generate_{figures['rows']}", figures)
        print(figures)
    elif what in ("duckdb", "spark", "local"):
        figures = run_audit(what, int(argv[1]))
        record(f"{what}_{figures['rows']}", figures)
        print({k: v for k, v in figures.items() if k != "stages_s"})
    elif what == "clean":
        shutil.rmtree(DATA, ignore_errors=True)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
