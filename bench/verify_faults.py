"""How often does ``waarborg verify`` name a planted fault? The table in docs/verify.md.

Every single parameter of every bundled spec (``tests/fault_sweep.py`` walks the raw
YAML) is planted wrong in turn, and the pairs of faults; each is found when the
diagnosis names the planted parameter (or one the data cannot tell apart from it) with
the planted value inside its interval. Writes ``results/verify_faults.json`` and
replaces the table between the markers in ``docs/verify.md``.

Run from the repository root: ``.venv/bin/python -m bench.verify_faults``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from tests.fault_sweep import N, judge, pair_faults, single_faults

from bench.common import write
from waarborg import list_instruments

DOCS = Path(__file__).parents[1] / "docs" / "verify.md"
BEGIN = "<!-- verify_faults table: begin (bench/verify_faults.py) -->"
END = "<!-- verify_faults table: end -->"


def main() -> None:
    started = time.perf_counter()
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    missed = []
    for instrument in list_instruments():
        for fault in single_faults(instrument):
            verdict = judge((fault,))
            cell = counts[(fault.kind, instrument)]
            cell[0] += verdict.found
            cell[1] += 1
            if not verdict.found:
                missed.append(f"{fault.id}: {verdict.why}")
    pairs = pair_faults()
    pairs_found = 0
    for pair in pairs:
        verdict = judge(pair)
        pairs_found += verdict.found
        if not verdict.found:
            missed.append(f"{pair[0].id} + {pair[1].id}: {verdict.why}")
    singles = sum(c[1] for c in counts.values())
    singles_found = sum(c[0] for c in counts.values())
    seconds = time.perf_counter() - started
    table = _table(counts, singles_found, singles, pairs_found, len(pairs))
    print(table)
    print("\n".join(missed) or "nothing missed")
    _replace_table(table)
    write(
        "verify_faults",
        {
            "cases_per_fault": N,
            "singles": {"found": singles_found, "planted": singles},
            "pairs": {"found": pairs_found, "planted": len(pairs)},
            "by_class": {f"{k}|{i}": v for (k, i), v in sorted(counts.items())},
            "missed": missed,
            "seconds": seconds,
            "goal": "100% of single faults, at least 90% of pairs",
            "goal_met": singles_found == singles and pairs_found >= 0.9 * len(pairs),
        },
    )


def _table(
    counts: dict[tuple[str, str], list[int]],
    singles_found: int,
    singles: int,
    pairs_found: int,
    pairs: int,
) -> str:
    instruments = list_instruments()
    kinds = sorted({k for k, _ in counts})
    lines = [
        "| fault class | " + " | ".join(instruments) + " |",
        "| --- |" + " --- |" * len(instruments),
    ]
    for kind in kinds:
        cells = []
        for instrument in instruments:
            found, planted = counts.get((kind, instrument), [0, 0])
            cells.append(f"{found}/{planted}" if planted else "—")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Single-parameter faults found: **{singles_found}/{singles} "
        f"({100 * singles_found / singles:.1f}%)**; pairs: **{pairs_found}/{pairs} "
        f"({100 * pairs_found / pairs:.1f}%)** ({N:,} synthetic cases per fault)."
    )
    return "\n".join(lines)


def _replace_table(table: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
