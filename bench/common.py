"""Shared bench helpers: repeat a timing, describe the machine, write the results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def timings(work: Callable[[], object], repeat: int = 7) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``work`` (after one warm-up run)."""
    work()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        out.append(time.perf_counter() - start)
    return out


def summary(seconds: list[float]) -> dict[str, float]:
    """Median, best and worst of a list of timings."""
    return {"median_s": statistics.median(seconds), "best_s": min(seconds), "worst_s": max(seconds)}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": load_average(),
    }


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages (other work sharing the cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def write(name: str, results: dict[str, Any]) -> Path:
    """Write ``results`` with the machine description to ``results/<name>.json``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    return path
