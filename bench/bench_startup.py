"""Start-up of the command line: ``waarborg --help`` in a fresh process, repeated.

Goal (issue 14): at most 0.3 s. Each run is a new interpreter (``subprocess``), as a user
starts it; wall-clock seconds and the CPU seconds the process used are both recorded,
because on a machine shared with other work the wall clock also measures the queue
for a core. For scale, the same is measured for a bare ``python -c pass`` and for
``import typer``, the floor any Typer command line pays.

The warm-up run of each command may write bytecode (``__pycache__``) even where
``PYTHONDONTWRITEBYTECODE`` is set, as an installed package has it: otherwise an editable
install compiles waarborg's command-line modules again in every run (about 50 ms).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import load_average, write

REPEAT = int(os.environ.get("WAARBORG_BENCH_REPEAT", "30"))
GOAL_SECONDS = 0.3
WAARBORG = str(Path(sys.executable).with_name("waarborg"))
COMMANDS = {
    "waarborg --help": [WAARBORG, "--help"],
    "waarborg audit --help": [WAARBORG, "audit", "--help"],
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
}


def run(command: list[str], repeat: int = REPEAT) -> dict[str, Any]:
    """Wall and CPU seconds of ``repeat`` runs (after one warm-up run that writes bytecode)."""
    compiles = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=compiles)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {
        "wall_median_s": statistics.median(walls),
        "wall_best_s": min(walls),
        "cpu_median_s": statistics.median(cpus),
        "cpu_best_s": min(cpus),
        "runs": repeat,
    }


def main() -> None:
    load_before = load_average()
    figures = {}
    for name, command in COMMANDS.items():
        figures[name] = run(command)
        f = figures[name]
        print(
            f"{name:<28} wall {f['wall_median_s']:.3f} s (best {f['wall_best_s']:.3f}) · "
            f"cpu {f['cpu_median_s']:.3f} s (best {f['cpu_best_s']:.3f})",
            flush=True,
        )
    help_ = figures["waarborg --help"]
    path = write(
        "startup",
        {
            "commands": figures,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "goal_seconds": GOAL_SECONDS,
            "goal_met_wall_median": help_["wall_median_s"] <= GOAL_SECONDS,
            "goal_met_cpu_median": help_["cpu_median_s"] <= GOAL_SECONDS,
            "notes": "wall: elapsed; cpu: user+system seconds of the child process. "
            "On a loaded machine (see load_average) the wall clock includes waiting for a "
            "core; the CPU time is what a quiet machine's wall clock would be.",
        },
    )
    print(f"results → {path}")


if __name__ == "__main__":
    main()
