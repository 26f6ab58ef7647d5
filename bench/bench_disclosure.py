"""How much honest intervals widen for a published cube, and what they cost.

100,000 cases (two attributes, a 4 % group, a probability score in 10 quantile bins,
bands) → the cube → published rounded to 10 (nearest, random), without and with
suppression of cells < 10 → audited. Per statistic: the width of the interval of the
published cube audited as if its counts were exact, and of the honest (widened) one;
the audit's time with and without widening. Figures go to docs/audit.md (issue 14).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from bench.common import summary, timings, write
from waarborg.audit import audit, build_cube
from waarborg.audit.cube import Cube
from waarborg.audit.disclosure import Rules, export_cube

N = 100_000
Pick = Callable[[dict[str, Any]], dict[str, Any]]
STATISTICS: dict[str, Pick] = {
    "auc": lambda r: r["validity"]["auc"],
    "selection_rate (all)": lambda r: r["overall"]["selection_rate"],
    "selection_rate ratio, 16 % group": lambda r: r["disparities"]["origin"]["non_western"][
        "selection_rate"
    ]["ratio"],
    "selection_rate ratio, 4 % group": lambda r: r["disparities"]["origin"]["other"][
        "selection_rate"
    ]["ratio"],
    "auc, 4 % group": lambda r: r["groups"]["origin"]["other"]["auc"],
    "brier": lambda r: r["validity"]["brier"],
    "O/E, band hoog": lambda r: r["validity"]["calibration"][0]["oe"],
    "calibration_intercept": lambda r: r["validity"]["calibration_intercept"],
    "calibration_slope": lambda r: r["validity"]["calibration_slope"],
}


def cases(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    origin = rng.choice(["dutch", "western", "non_western", "other"], n, p=[0.6, 0.2, 0.16, 0.04])
    sex = rng.choice(["female", "male"], n)
    age = rng.choice(["<25", "25-35", "35-45", "45-55", "55+"], n)
    p = special.expit(-1.1 + 0.8 * (origin == "non_western") + rng.normal(0, 1, n))
    band = np.where(p < 0.25, "laag", np.where(p < 0.5, "midden", "hoog"))
    y = (rng.random(n) < p).astype(np.int64)
    frame = {"sex": sex, "origin": origin, "age": age, "p": p, "y": y, "band": band}
    return pd.DataFrame(frame)


def width(entry: dict[str, Any]) -> float:
    low, high = entry["ci"]
    return float(high - low)


def main() -> None:
    data = cases(N, 7)
    runs = {}
    plans = [(["sex", "origin"], m, r) for m in (1, 10) for r in ("nearest", "random")]
    plans.append((["sex", "origin", "age"], 10, "nearest"))  # many more cells: suppression
    for groups, minimum, method in plans:
        roles = {"score": "p", "outcome": "y", "band": "band", "group": groups}
        cube = build_cube(data, **roles, select="hoog", n_bins=10)
        published = export_cube(cube, Rules(min_frequency=minimum, rounding={"method": method}))
        meta = {k: v for k, v in published.meta.items() if k != "disclosure"}
        plain = Cube(published.table, published.roles, meta).to_arrow()
        shown = published.to_arrow()
        honest = audit(shown, select="hoog").to_dict()
        exact = audit(plain, select="hoog").to_dict()
        figures = {
            name: {"plain_width": width(pick(exact)), "honest_width": width(pick(honest))}
            for name, pick in STATISTICS.items()
        }
        done = published.meta["disclosure"]
        key = f"{len(groups)} attributes, min_frequency {minimum}, {method}"
        runs[key] = {
            "cells": done["cells"],
            "suppressed": done["suppressed"],
            "published_cases_share": published.n / cube.n,
            "widths": figures,
            "audit_plain": summary(timings(lambda p=plain: audit(p, select="hoog"), 3)),
            "audit_honest": summary(timings(lambda s=shown: audit(s, select="hoog"), 3)),
        }
        print(key, f"{done['suppressed']} of {done['cells']} cells suppressed")
        for name, f in figures.items():
            print(f"  {name}: {f['plain_width']:.4f} → {f['honest_width']:.4f}")
    path = write("disclosure", {"cases": N, "runs": runs})
    print(f"results → {path}")


if __name__ == "__main__":
    main()
