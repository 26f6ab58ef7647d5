"""A stand-in city for the area benchmarks, in the engine's table formats.

Until the real ``waarborg synth cas-style`` is merged, this writes what the audit reads:
a scored table (``cell_id``, ``period``, ``score``, ``expected_incidents``,
``selected``), incidents (``incident_id``, ``time``, ``type``, ``source``, ``cell_id``),
residents per cell and group, police actions and the cells' coordinates. Crime rates
are lognormal with a smooth spatial component; the "model" is an exponentially
weighted count of past incidents, the top 3% of cells selected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SIDE = 200
PERIODS = 130
HISTORY = 26
PERIOD_DAYS = 14
FIRST = np.datetime64("2021-01-04")
ORIGIN = (120_000.0, 480_000.0)
CELL = 125.0


def cell_ids(side: int) -> np.ndarray:
    """Ids like ``E1200000N4800000`` (lower-left corner in metres)."""
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (ORIGIN[0] + ix.ravel() * CELL).astype(int)
    y = (ORIGIN[1] + iy.ravel() * CELL).astype(int)
    return np.char.add(np.char.add("E", x.astype(str)), np.char.add("N", y.astype(str)))


def generate(
    folder: Path, side: int = SIDE, periods: int = PERIODS, seed: int = 0
) -> dict[str, Path]:
    """Write the tables to ``folder``; return their paths by name."""
    rng = np.random.default_rng(seed)
    n = side * side
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    smooth = np.sin(ix / 17.0) + np.cos(iy / 23.0) + 0.5 * np.sin((ix + iy) / 11.0)
    rate = np.exp(smooth.ravel() + rng.normal(0, 0.8, n))
    rate *= 0.05 / rate.mean()
    total = HISTORY + periods
    counts = rng.poisson(rate, (total, n))
    ewma = np.zeros(n)
    scores = np.empty((periods, n))
    for p in range(total):
        if p >= HISTORY:
            scores[p - HISTORY] = ewma + rng.uniform(0, 1e-3, n)
        ewma = 0.8 * ewma + counts[p]
    expected = scores * (rate.mean() / max(scores.mean(), 1e-9))
    k = round(0.03 * n)
    threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    selected = scores >= threshold
    ids = cell_ids(side)
    starts = FIRST + PERIOD_DAYS * np.arange(periods)
    codes = np.tile(np.arange(n, dtype=np.int32), periods)
    scored = pa.table(
        {
            "cell_id": pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(ids)),
            "period": pa.array(np.repeat(starts, n)),
            "score": scores.ravel(),
            "expected_incidents": expected.ravel(),
            "selected": selected.ravel(),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        name: folder / f"{name}.parquet"
        for name in ("scored", "incidents", "residents", "actions", "cells")
    }
    pq.write_table(scored, paths["scored"])
    period, cell = np.nonzero(counts)
    reps = counts[period, cell]
    period, cell = np.repeat(period, reps), np.repeat(cell, reps)
    day = (
        (FIRST - PERIOD_DAYS * HISTORY)
        + period * PERIOD_DAYS
        + rng.integers(0, PERIOD_DAYS, period.size)
    )
    time = day.astype("datetime64[s]") + rng.integers(0, 86_400, period.size).astype(
        "timedelta64[s]"
    )
    pq.write_table(
        pa.table(
            {
                "incident_id": np.arange(period.size),
                "time": time,
                "type": rng.choice(
                    ["burglary", "street_robbery", "pickpocketing", "vehicle"], period.size
                ),
                "source": np.where(rng.random(period.size) < 0.2, "discovered", "reported"),
                "cell_id": ids[cell],
            }
        ),
        paths["incidents"],
    )
    share_b = 1 / (1 + np.exp(-(smooth.ravel() - 0.5) * 2))
    people = rng.poisson(40, n)
    b = rng.binomial(people, share_b * 0.6)
    pq.write_table(
        pa.table(
            {
                "cell_id": np.concatenate([ids, ids]),
                "group": np.repeat(["a", "b"], n),
                "residents": np.concatenate([people - b, b]),
            }
        ),
        paths["residents"],
    )
    n_actions = 50_000
    act_period = rng.integers(0, periods, n_actions)
    act_cell = rng.integers(0, n, n_actions)
    pq.write_table(
        pa.table(
            {
                "cell_id": ids[act_cell],
                "time": (starts[act_period] + rng.integers(0, PERIOD_DAYS, n_actions)).astype(
                    "datetime64[s]"
                ),
                "basis": rng.choice(["area_selection", "concrete_suspicion", "other"], n_actions),
                "person": np.char.add("p", rng.integers(0, 20_000, n_actions).astype(str)),
                "group": rng.choice(["a", "b"], n_actions),
            }
        ),
        paths["actions"],
    )
    pq.write_table(
        pa.table(
            {
                "cell_id": ids,
                "x": ORIGIN[0] + ix.ravel() * CELL,
                "y": ORIGIN[1] + iy.ravel() * CELL,
            }
        ),
        paths["cells"],
    )
    return paths
