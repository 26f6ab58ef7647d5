"""A synthetic city for area instruments (``cas-style``), with documented, planted mechanisms.

Data-generating process (numbers are the module constants)
----------------------------------------------------------
The city is a square of ``size × size`` cells of 125 m on the RD New grid, lower-left
corner :data:`ORIGIN` (the default 200 × 200 = 40,000 cells cover 25 km × 25 km around
Amersfoort), over ``periods`` two-week periods from :data:`START` (default 130: five
years). Smooth random fields are Gaussian-filtered white noise, standardised.

* **Residents and planted segregation.** Residents per cell are Poisson with a mean that
  falls off from the centre (:data:`RESIDENTS_PEAK` at the centre), with about
  :data:`EMPTY_SHARE` of cells empty (parks, water, industry). Groups are ``dutch``,
  ``western`` and ``non_western`` (the labels of :mod:`waarborg.synth`). The
  non-Western share is ``sigmoid(-2.4 + 2.2 z)`` for a smooth field ``z`` that is high in
  a few districts (:data:`SEGREGATION`): about 15% city-wide, more than half in the
  segregated districts. Western residents are 9% everywhere.
* **Static attributes.** ``addresses`` ≈ residents / 2.2; ``shops`` Poisson, many near the
  centre and in a few shopping streets; ``stations`` 1 in a few cells (:data:`STATIONS`).
* **True crime, spatially heterogeneous.** Per type, a base rate per cell and period
  ``mu = exp(b_type + 0.35 log(1 + addresses) + 0.45 log(1 + shops) + 0.8 station +
  UNOBSERVED u + DEPRIVATION z)``, with ``u`` a smooth field of its own (unobserved causes) and
  a small true excess in the segregated districts (:data:`DEPRIVATION`), times a
  seasonal factor ``1 + 0.15 cos(2π day/365.25)`` (more in winter).
* **Near-repeat victimisation.** The rate in a period adds :data:`NEAR_REPEAT` times the
  true incidents of the same type in the cell in the previous period, and per
  neighbouring cell :data:`NEAR_REPEAT_NEIGHBOUR` times theirs (a stable self-exciting
  process: the branching ratio is below 1). The true incidents are Poisson with that rate;
  ``truth.parquet`` has it (summed over the four types) as ``true_rate``.
* **Reporting rates that differ by area.** A true incident is reported with probability
  ``REPORTING[type] × (1 - 0.35 × non-Western share)`` (less trust, less insurance):
  the segregated districts' crime is under-recorded.
* **Patrols follow the selection.** From the first period with complete feature windows,
  the ``cas-style`` instrument is scored each period on the incidents recorded so far
  (reported ones, as its spec says) and its selected 3% of cells are patrolled
  (``patrolled`` in ``truth.parquet``).
* **Discovered incidents track patrols (the planted feedback mechanism).** An incident
  that is not reported is discovered by police with probability
  ``DISCOVERY[type] + PATROL_DISCOVERY[type] × patrolled``: in patrolled cells police find
  many more (street crimes especially) with no change in true crime. A model fed on
  discovered incidents sees crime where it sent police.
* **Police actions.** Per patrolled cell and period a Poisson(:data:`STOPS_PER_PATROL`)
  number of stops with basis ``area_selection`` (people present in the cell: residents of
  the cell or a neighbouring one, drawn by group share, and visitors drawn by the city's
  shares); a ``concrete_suspicion`` action for :data:`SUSPICION_SHARE` of recorded
  incidents; and ``other`` actions spread over the city. ``person`` is a pseudonym (a
  person is stopped again with some probability), ``group`` is known for
  :data:`GROUP_KNOWN` of actions.

Tables: ``cells`` (cell_id, x, y lower-left corner, addresses, shops, stations),
``residents`` (long: cell_id, group, residents; cells with residents only), ``incidents``
(incident_id, time, type, source, cell_id, and x, y within the cell), ``actions``
(cell_id, time, basis, person, group), ``truth`` (cell_id, period, true_rate,
true_incidents, patrolled).

Examples
--------
>>> city = synthesize_city(size=20, periods=30, seed=1)
>>> city.cells.num_rows, sorted(set(city.incidents.column("source").to_pylist()))
(400, ['discovered', 'reported'])
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy.ndimage import gaussian_filter

from waarborg.areas.data import Cells, Incidents, read_cells
from waarborg.areas.engine import linear_scores, select
from waarborg.areas.features import build_features
from waarborg.areas.grid import cell_keys, ids_of, neighbour_index
from waarborg.areas.spec import Grid, Period
from waarborg.instruments.spec import InstrumentSpec, load_spec
from waarborg.synth.population import MIGRATION_LEVELS, generator
from waarborg.tables import write_table

INSTRUMENT = "cas-style"
CELL = 125.0
ORIGIN = (142500.0, 450500.0)
START = date(2020, 12, 14)
"""The first day of period 0: ``area.period.start`` of the cas-style spec."""
TYPES = ("burglary", "street_robbery", "pickpocketing", "vehicle_crime")
BASE_LOG_RATE = {
    "burglary": -6.3,
    "street_robbery": -8.2,
    "pickpocketing": -7.4,
    "vehicle_crime": -6.6,
}
RESIDENTS_PEAK = 180.0
EMPTY_SHARE = 0.12
SEGREGATION = (-2.4, 2.2)
"""Intercept and slope of the non-Western share's logit on the district field."""
WESTERN_SHARE = 0.09
STATIONS = 6
UNOBSERVED = 1.2
"""Standard deviation of the unobserved smooth log-rate field (crime concentration)."""
DEPRIVATION = 0.15
"""True log-rate excess per standard deviation of the segregation field."""
NEAR_REPEAT = {
    "burglary": 0.20,
    "street_robbery": 0.08,
    "pickpocketing": 0.10,
    "vehicle_crime": 0.10,
}
NEAR_REPEAT_NEIGHBOUR = {
    "burglary": 0.03,
    "street_robbery": 0.01,
    "pickpocketing": 0.01,
    "vehicle_crime": 0.015,
}
REPORTING = {"burglary": 0.85, "street_robbery": 0.55, "pickpocketing": 0.45, "vehicle_crime": 0.6}
DISCOVERY = {"burglary": 0.02, "street_robbery": 0.05, "pickpocketing": 0.05, "vehicle_crime": 0.05}
PATROL_DISCOVERY = {
    "burglary": 0.10,
    "street_robbery": 0.40,
    "pickpocketing": 0.40,
    "vehicle_crime": 0.30,
}
STOPS_PER_PATROL = 3.0
SUSPICION_SHARE = 0.08
OTHER_ACTIONS_PER_PERIOD = 40
GROUP_KNOWN = 0.7
VISITOR_SHARE = 0.3

MECHANISMS: dict[str, str] = {
    "segregation": (
        f"non-Western share sigmoid({SEGREGATION[0]} + {SEGREGATION[1]} z) for a smooth "
        f"district field z; Western share {WESTERN_SHARE} of the others."
    ),
    "true_crime": (
        f"log-rate per type {BASE_LOG_RATE} + 0.35 log(1+addresses) + 0.45 log(1+shops) + "
        f"0.8 station + {UNOBSERVED} u + {DEPRIVATION} z; "
        "seasonal factor 1 + 0.15 cos(2π day/365.25)."
    ),
    "near_repeat": (
        f"rate += {NEAR_REPEAT} × last period's true incidents in the cell + "
        f"{NEAR_REPEAT_NEIGHBOUR} × those in each of the 8 neighbours."
    ),
    "reporting": f"reported with probability {REPORTING} × (1 - 0.35 × non-Western share).",
    "patrols": "the cas-style selection (top 3% of cells) on reported incidents, each period.",
    "discovery": (
        f"an unreported incident is discovered with probability {DISCOVERY} + "
        f"{PATROL_DISCOVERY} × patrolled."
    ),
    "actions": (
        f"Poisson({STOPS_PER_PATROL}) area_selection stops per patrolled cell-period; "
        f"concrete_suspicion for {SUSPICION_SHARE:.0%} of recorded incidents; "
        f"{OTHER_ACTIONS_PER_PERIOD} other actions per period; group known for {GROUP_KNOWN:.0%}."
    ),
}
"""Each planted mechanism in words, with its parameters."""


@dataclass(frozen=True)
class City:
    """A synthetic city's tables (see the module docstring) and its grid and periods."""

    cells: pa.Table
    residents: pa.Table
    incidents: pa.Table
    actions: pa.Table
    truth: pa.Table
    grid: Grid
    period: Period

    def write(self, folder: str | Path) -> list[Path]:
        """Write the five tables as Parquet files into ``folder``; return their paths.

        All five are written to a temporary folder beside it first and moved into place
        only when complete, so a failure leaves no half-written city.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{folder.name}.", dir=folder.parent) as tmp:
            written = [
                write_table(getattr(self, name), Path(tmp) / f"{name}.parquet") for name in TABLES
            ]
            folder.mkdir(exist_ok=True)
            return [
                Path(os.replace(path, folder / path.name) or folder / path.name) for path in written
            ]


TABLES = ("cells", "residents", "incidents", "actions", "truth")
"""The tables of a city, each written as ``<name>.parquet``."""


def synthesize_city(
    size: int = 200, periods: int = 130, seed: int = 0, spec: InstrumentSpec | None = None
) -> City:
    """A synthetic city of ``size × size`` cells over ``periods`` periods.

    Parameters
    ----------
    size
        Cells per side (200 gives 40,000 cells of 125 m).
    periods
        Number of two-week periods (130 is five years).
    seed
        Non-negative random seed: the same seed gives identical tables.
    spec
        The area instrument whose selection the patrols follow (default ``cas-style``).
    """
    if size < 3 or periods < 1:
        raise ValueError(f"size must be at least 3 and periods at least 1, got {size}, {periods}")
    rng = generator(seed, "cas-style city")
    spec = spec or load_spec(INSTRUMENT)
    grid = Grid(cell_size=CELL, origin=(0.0, 0.0))
    layout = _layout(size, rng)
    history = _crime(layout, spec, periods, rng)
    return City(
        cells=layout.cells_table(),
        residents=layout.residents_table(),
        incidents=_incident_table(layout, history, rng),
        actions=_actions(layout, history, rng),
        truth=_truth_table(layout, history),
        grid=grid,
        period=Period(start=START, days=14),
    )


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Where things are: cells (row-major), residents by group, attributes, the fields."""

    size: int
    col: np.ndarray
    row: np.ndarray
    residents: np.ndarray
    """(cells, groups) residents per group, groups in :data:`MIGRATION_LEVELS` order."""
    addresses: np.ndarray
    shops: np.ndarray
    stations: np.ndarray
    district: np.ndarray
    unobserved: np.ndarray

    @property
    def ids(self) -> list[str]:
        """The cell ids, ``E{x}N{y}``."""
        return ids_of(self.col, self.row, Grid(cell_size=CELL))

    @property
    def non_western_share(self) -> np.ndarray:
        """The non-Western share of residents per cell (the city's share where nobody lives)."""
        total = self.residents.sum(axis=1)
        city = self.residents[:, 2].sum() / max(total.sum(), 1)
        return np.where(total > 0, self.residents[:, 2] / np.maximum(total, 1), city)

    def cells_table(self) -> pa.Table:
        """cell_id, x, y (lower-left corner, RD New), addresses, shops, stations."""
        return pa.table(
            {
                "cell_id": pa.array(self.ids, pa.string()),
                "x": self.col * CELL,
                "y": self.row * CELL,
                "addresses": self.addresses,
                "shops": self.shops,
                "stations": self.stations,
            }
        )

    def residents_table(self) -> pa.Table:
        """Long format: cell_id, group, residents (only positive counts)."""
        cell, group = np.nonzero(self.residents)
        ids = np.asarray(self.ids, dtype=object)
        return pa.table(
            {
                "cell_id": pa.array(ids[cell], pa.string()),
                "group": pa.array(np.asarray(MIGRATION_LEVELS, dtype=object)[group], pa.string()),
                "residents": self.residents[cell, group].astype(np.int64),
            }
        )


def _field(size: int, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """A smooth standardised random field, flattened row-major."""
    smooth = gaussian_filter(rng.standard_normal((size, size)), sigma=sigma, mode="reflect")
    return ((smooth - smooth.mean()) / smooth.std()).ravel()


def _layout(size: int, rng: np.random.Generator) -> Layout:
    rows, cols = np.divmod(np.arange(size * size), size)
    col0, row0 = int(ORIGIN[0] // CELL), int(ORIGIN[1] // CELL)
    centre = (size - 1) / 2
    distance = np.hypot(cols - centre, rows - centre) / max(size / 2, 1)
    density = RESIDENTS_PEAK * np.exp(-1.5 * distance**2) * np.exp(0.4 * _field(size, rng, 3))
    ground = _field(size, rng, 2)
    empty = ground < np.quantile(ground, EMPTY_SHARE)
    total = np.where(empty, 0, rng.poisson(density))
    district = _field(size, rng, max(size / 12, 1.5))
    a, b = SEGREGATION
    non_western = 1 / (1 + np.exp(-(a + b * district)))
    probs = np.column_stack(
        [(1 - non_western) * (1 - WESTERN_SHARE), (1 - non_western) * WESTERN_SHARE, non_western]
    )
    residents = rng.multinomial(total, probs)
    streets = _field(size, rng, 1.0) > 2.0
    shops = rng.poisson(8 * np.exp(-3 * distance**2) + 4 * streets + 0.2 * (total > 0))
    stations = np.zeros(len(total), dtype=np.int64)
    stations[rng.choice(len(total), size=min(STATIONS, len(total)), replace=False)] = 1
    return Layout(
        size=size,
        col=cols + col0,
        row=rows + row0,
        residents=residents,
        addresses=np.round(total / 2.2).astype(np.int64),
        shops=shops.astype(np.int64),
        stations=stations,
        district=district,
        unobserved=_field(size, rng, 2.5),
    )


# --------------------------------------------------------------------------- crime


@dataclass(frozen=True)
class History:
    """Per period and cell the expected and true incidents (all types), per type the
    reported and discovered ones; the patrolled cells."""

    rate: np.ndarray
    true: np.ndarray
    reported: np.ndarray
    discovered: np.ndarray
    patrolled: np.ndarray


def _crime(layout: Layout, spec: InstrumentSpec, periods: int, rng: np.random.Generator) -> History:
    n = layout.size**2
    neighbours = neighbour_index(cell_keys(layout.col, layout.row))
    base = np.stack([_base_rate(layout, t) for t in TYPES])
    share = layout.non_western_share
    report_p = np.stack([REPORTING[t] * (1 - 0.35 * share) for t in TYPES])
    shape = (len(TYPES), periods, n)
    rate, true = np.zeros((periods, n)), np.zeros((periods, n), dtype=np.int16)
    reported, discovered = np.zeros(shape, dtype=np.int16), np.zeros(shape, dtype=np.int16)
    cells = read_cells(layout.cells_table(), spec.area)  # type: ignore[arg-type]
    last = np.zeros((len(TYPES), n))
    patrolled = np.zeros((periods, n), dtype=bool)
    near = np.array([NEAR_REPEAT[t] for t in TYPES])[:, None]
    near_nb = np.array([NEAR_REPEAT_NEIGHBOUR[t] for t in TYPES])[:, None]
    find = np.array([DISCOVERY[t] for t in TYPES])[:, None]
    find_patrol = np.array([PATROL_DISCOVERY[t] for t in TYPES])[:, None]
    max_lag = spec.area.max_lag  # type: ignore[union-attr]
    for p in range(periods):
        season = 1 + 0.15 * np.cos(2 * np.pi * (_day_of_year(p)) / 365.25)
        padded = np.concatenate([last, np.zeros((len(TYPES), 1))], axis=1)
        expected = base * season + near * last + near_nb * padded[:, neighbours].sum(axis=2)
        if p >= max_lag:
            patrolled[p] = _patrol(spec, cells, reported, p)
        now = rng.poisson(expected)
        reported[:, p] = rng.binomial(now, report_p)
        found = find + find_patrol * patrolled[p][None, :]
        discovered[:, p] = rng.binomial(now - reported[:, p], found)
        rate[p], true[p], last = expected.sum(axis=0), now.sum(axis=0), now.astype(np.float64)
    return History(rate, true, reported, discovered, patrolled)


def _base_rate(layout: Layout, kind: str) -> np.ndarray:
    log_rate = (
        BASE_LOG_RATE[kind]
        + 0.35 * np.log1p(layout.addresses)
        + 0.45 * np.log1p(layout.shops)
        + 0.8 * layout.stations
        + UNOBSERVED * layout.unobserved
        + DEPRIVATION * layout.district
    )
    return np.exp(log_rate)


def _day_of_year(period: int) -> int:
    return (START + timedelta(days=14 * period)).timetuple().tm_yday - 1


def _patrol(spec: InstrumentSpec, cells: Cells, reported: np.ndarray, p: int) -> np.ndarray:
    """The instrument's selection for period ``p`` from the incidents reported before it."""
    rules = spec.area
    assert rules is not None
    first = p - rules.max_lag
    window = reported[:, first:p]
    types, periods, where = np.nonzero(window)
    counts = window[types, periods, where]
    records = Incidents(
        period=np.repeat(periods, counts),
        cell=np.repeat(where, counts),
        type_code=np.repeat(types, counts),
        types=list(TYPES),
        source="<city>",
    )
    shifted = rules.model_copy(
        update={"period": Period(start=START + timedelta(days=14 * first), days=14)}
    )
    features = build_features(shifted, records, cells, np.array([rules.max_lag]))
    values = linear_scores(spec, features).selection_values(rules.selection)[None, :]
    return select(values, rules.selection, cells.ids.to_numpy(zero_copy_only=False))[0]


# --------------------------------------------------------------------------- tables


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per incident: (type, period, cell) from a count cube."""
    kinds, periods, cells = np.nonzero(counts)
    n = counts[kinds, periods, cells]
    return np.repeat(kinds, n), np.repeat(periods, n), np.repeat(cells, n)


def _times(periods: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniform moment within each two-week period, as datetime64[s]."""
    start = np.datetime64(datetime.combine(START, time()), "s")
    seconds = periods.astype(np.int64) * 14 * 86400 + rng.integers(0, 14 * 86400, len(periods))
    return start + seconds.astype("timedelta64[s]")


def _incident_table(layout: Layout, history: History, rng: np.random.Generator) -> pa.Table:
    parts = []
    for source, cube in (("reported", history.reported), ("discovered", history.discovered)):
        kinds, periods, cells = _expand(cube)
        parts.append((source, kinds, periods, cells))
    sources = np.concatenate([np.full(len(p[1]), i, dtype=np.int8) for i, p in enumerate(parts)])
    kinds = np.concatenate([p[1] for p in parts])
    periods = np.concatenate([p[2] for p in parts])
    cells = np.concatenate([p[3] for p in parts])
    moments = _times(periods, rng)
    order = np.argsort(moments, kind="stable")
    x = (layout.col[cells] + rng.random(len(cells))) * CELL
    y = (layout.row[cells] + rng.random(len(cells))) * CELL
    return pa.table(
        {
            "incident_id": pa.array([f"I{i:07d}" for i in range(len(order))], pa.string()),
            "time": pa.array(moments[order], pa.timestamp("s")),
            "type": _labels(kinds[order], TYPES),
            "source": _labels(sources[order], ("reported", "discovered")),
            "cell_id": pa.array(np.asarray(layout.ids, dtype=object)[cells[order]], pa.string()),
            "x": np.floor(x[order] * 10) / 10,
            "y": np.floor(y[order] * 10) / 10,
        }
    )


def _labels(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    return pa.array(np.asarray(labels, dtype=object)[codes], pa.string())


def _truth_table(layout: Layout, history: History) -> pa.Table:
    periods, n = history.patrolled.shape
    ids = pa.array(layout.ids, pa.string())
    days = np.arange(periods) * 14 + (START - _EPOCH).days
    return pa.table(
        {
            "cell_id": pa.chunked_array([ids] * periods) if periods else pa.array([], pa.string()),
            "period": pa.array(np.repeat(days, n).astype(np.int32), pa.date32()),
            "true_rate": history.rate.ravel(),
            "true_incidents": history.true.ravel().astype(np.int32),
            "patrolled": history.patrolled.ravel(),
        }
    )


def _actions(layout: Layout, history: History, rng: np.random.Generator) -> pa.Table:
    periods, n = history.patrolled.shape
    patrol_p, patrol_c = np.nonzero(history.patrolled)
    stops = rng.poisson(STOPS_PER_PATROL, len(patrol_p))
    area_p, area_c = np.repeat(patrol_p, stops), np.repeat(patrol_c, stops)
    recorded = history.reported + history.discovered
    _, rec_p, rec_c = _expand(recorded)
    keep = rng.random(len(rec_p)) < SUSPICION_SHARE
    other_p = np.repeat(np.arange(periods), OTHER_ACTIONS_PER_PERIOD)
    other_c = rng.integers(0, n, len(other_p))
    period = np.concatenate([area_p, rec_p[keep], other_p])
    cell = np.concatenate([area_c, rec_c[keep], other_c])
    basis = np.concatenate(
        [
            np.zeros(len(area_p), np.int8),
            np.ones(int(keep.sum()), np.int8),
            np.full(len(other_p), 2, np.int8),
        ]
    )
    group, home = _people(layout, cell, rng)
    person = np.char.add("P", (home * 1000 + rng.integers(0, 40, len(home))).astype(str))
    known = rng.random(len(group)) < GROUP_KNOWN
    group_labels = np.asarray(MIGRATION_LEVELS, dtype=object)[group]
    return pa.table(
        {
            "cell_id": pa.array(np.asarray(layout.ids, dtype=object)[cell], pa.string()),
            "time": pa.array(_times(period, rng), pa.timestamp("s")),
            "basis": _labels(basis, ("area_selection", "concrete_suspicion", "other")),
            "person": pa.array(person.astype(object), pa.string()),
            "group": pa.array(np.where(known, group_labels, None), pa.string()),
        }
    )


def _people(
    layout: Layout, cell: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The group and home cell of each person met in ``cell``: a resident or a visitor."""
    residents = layout.residents.astype(np.float64)
    city = residents.sum(axis=0) / max(residents.sum(), 1)
    local = residents[cell]
    totals = local.sum(axis=1, keepdims=True)
    probs = np.where(totals > 0, local / np.maximum(totals, 1), city)
    visitor = rng.random(len(cell)) < VISITOR_SHARE
    probs[visitor] = city
    draws = rng.random(len(cell))[:, None] > np.cumsum(probs, axis=1)
    group = np.minimum(draws.sum(axis=1), len(MIGRATION_LEVELS) - 1)
    home = np.where(visitor, rng.integers(0, len(layout.col), len(cell)), cell)
    return group, home


_EPOCH = datetime(1970, 1, 1).date()
