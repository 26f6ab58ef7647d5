"""Scoring an area instrument: every cell in one period, or in every period (backtest).

:func:`score_areas` reads the cells and incident tables (:mod:`waarborg.areas.data`),
derives the spec's features (:mod:`waarborg.areas.features`), scores them with the
instrument's linear predictor (:func:`waarborg.instruments.models.score_outcome`, the
same machinery as for cases) and applies the selection rule per period.

Output: one row per cell × period, periods in order and cells in the cells table's
order, with columns ``cell_id`` (string), ``period`` (date: the period's first day),
``score`` (the linear predictor), ``expected_incidents`` (Poisson: ``exp(score)``, the
expected number of target incidents in the period; logistic: the probability of at
least one), ``selected`` (bool) and ``contrib_<feature>`` (weight × transformed value;
``score`` is the intercept plus their sum).

Which periods: ``period=`` one period (it must start on a period boundary, and all its
feature windows must lie after the first period); ``backtest=True`` every period from
the first with complete feature windows (``area.period.start`` + the largest lag) up to
the last period with an incident record; neither: the period after the last record (a
forecast).
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from waarborg.areas.data import (
    EPOCH,
    Cells,
    Incidents,
    period_index,
    period_start,
    read_cells,
    read_incidents,
)
from waarborg.areas.features import FeatureBuilder
from waarborg.areas.spec import AreaRules, Selection
from waarborg.errors import DataError, WaarborgError
from waarborg.i18n import Message
from waarborg.instruments.encode import Encoded, apply_steps
from waarborg.instruments.engine import METADATA_KEY, Instrument, load_instrument
from waarborg.instruments.models import score_outcome
from waarborg.instruments.spec import InstrumentSpec, Predictor
from waarborg.tables import TableLike

CONTRIBUTION = "contrib_"


@dataclass
class AreaScores:
    """Scores of every cell in the periods scored, and the report of the data read.

    Attributes
    ----------
    table
        The columns described in this module's docstring.
    report
        Incidents read, used, left out per reason and per source; cells; periods.
    instrument
        The instrument that scored.
    """

    table: pl.DataFrame
    report: dict[str, Any]
    instrument: Instrument
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_arrow(self) -> pa.Table:
        """The table as Arrow, with the instrument, spec hash and data report as metadata."""
        meta = {
            "instrument_id": self.instrument.id,
            "instrument_version": self.instrument.version,
            "spec_hash": self.instrument.spec_hash,
            "rows": self.table.height,
            "area_data": self.report,
        }
        table = self.table.to_arrow()
        return table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})


def score_areas(
    spec: str | Path | Instrument | InstrumentSpec,
    incidents: TableLike,
    cells: TableLike,
    period: date | str | None = None,
    backtest: bool = False,
) -> pl.DataFrame:
    """Score every cell with an area instrument and select the highest per period.

    Parameters
    ----------
    spec
        A catalog id (e.g. ``cas-style``), a spec file, or a loaded instrument or spec.
    incidents
        Incident records (see :mod:`waarborg.areas.data`): table or .csv/.parquet path.
    cells
        The cells of the area: ``cell_id`` and any static attributes.
    period
        The first day of the one period to score.
    backtest
        Score every period with complete feature windows up to the last record.

    Returns
    -------
    polars.DataFrame
        ``cell_id``, ``period``, ``score``, ``expected_incidents``, ``selected``,
        ``contrib_<feature>``.

    Raises
    ------
    DataError
        Naming the file, row and column of a bad record.

    Examples
    --------
    >>> from waarborg.areas.synth import synthesize_city
    >>> city = synthesize_city(size=20, periods=30, seed=1)
    >>> out = score_areas("cas-style", city.incidents, city.cells, backtest=True)
    >>> out.columns[:5]
    ['cell_id', 'period', 'score', 'expected_incidents', 'selected']
    """
    return area_scores(spec, incidents, cells, period=period, backtest=backtest).table


def area_scores(
    spec: str | Path | Instrument | InstrumentSpec,
    incidents: TableLike,
    cells: TableLike,
    period: date | str | None = None,
    backtest: bool = False,
) -> AreaScores:
    """:func:`score_areas` with the data report and provenance (for the CLI and audits)."""
    inst = _instrument(spec)
    rules = inst.spec.area
    assert rules is not None
    if period is not None and backtest:
        raise WaarborgError(
            Message("give a period or ask for a backtest, not both", domain="reports")
        )
    area = read_cells(cells, rules)
    records = read_incidents(incidents, rules, area)
    periods = _periods(rules, records, period, backtest)
    table = _score(inst.spec, records, area, periods, rules)
    report = dict(records.report)
    report |= {
        "cells": len(area),
        "periods_scored": len(periods),
        "first_period": period_start(int(periods[0]), rules).isoformat() if len(periods) else None,
        "last_period": period_start(int(periods[-1]), rules).isoformat() if len(periods) else None,
    }
    return AreaScores(table, report, inst)


def _instrument(spec: str | Path | Instrument | InstrumentSpec) -> Instrument:
    inst = Instrument(spec) if isinstance(spec, InstrumentSpec) else load_instrument(spec)
    if not inst.spec.is_area:
        reason = Message(
            "instrument '%(id)s' scores cases, not areas (its spec has no 'unit: area')",
            domain="reports",
            id=inst.id,
        )
        raise WaarborgError(reason)
    return inst


def _periods(
    rules: AreaRules, records: Incidents, period: date | str | None, backtest: bool
) -> np.ndarray:
    """The period indices to score (see the module docstring)."""
    first = rules.max_lag
    if backtest:
        return np.arange(first, records.last_period + 1, dtype=np.int64)
    if period is None:
        return np.array([max(records.last_period + 1, first)], dtype=np.int64)
    day = date.fromisoformat(period) if isinstance(period, str) else period
    index = period_index(day, rules)
    if index is None:
        reason = Message(
            "period %(day)s is not the first day of a period: periods of %(days)s days start "
            "on %(start)s",
            domain="reports",
            day=day.isoformat(),
            days=rules.period.days,
            start=rules.period.start.isoformat(),
        )
        raise WaarborgError(reason)
    if index < first:
        reason = Message(
            "period %(day)s needs %(n)s earlier periods of incidents: the first period that "
            "can be scored starts on %(start)s",
            domain="reports",
            day=day.isoformat(),
            n=first,
            start=period_start(first, rules).isoformat(),
        )
        raise WaarborgError(reason)
    return np.array([index], dtype=np.int64)


def _check_ranges(
    spec: InstrumentSpec,
    features: dict[str, np.ndarray],
    cells: Cells,
    records: Incidents,
    periods: np.ndarray,
    rules: AreaRules,
) -> None:
    """Every feature value within its predictor's range, or an error naming where."""
    for p in spec.predictors:
        values = features[p.name]
        low, high = p.bounds
        if values.size == 0 or (values.min() >= low and values.max() <= high):
            continue
        outside = (values < low) | (values > high)
        at_period, at_cell = np.unravel_index(int(np.argmax(outside)), values.shape)
        feature = next(f for f in rules.features if f.name == p.name)
        source = cells.frame.source if feature.attribute else records.source
        reason = Message(
            "feature value %(value)s of cell %(cell)s in the period starting %(start)s is "
            "outside the range [%(low)s, %(high)s] the spec gives",
            domain="reports",
            value=format(values[at_period, at_cell], "g"),
            cell=cells.ids[int(at_cell)].as_py(),
            start=period_start(int(periods[at_period]), rules).isoformat(),
            low=format(low, "g"),
            high=format(high, "g"),
        )
        raise DataError(
            reason,
            source,
            column=p.name,
        )


def _score(
    spec: InstrumentSpec,
    records: Incidents,
    cells: Cells,
    periods: np.ndarray,
    rules: AreaRules,
) -> pl.DataFrame:
    """Features, scores and selection, a block of periods at a time on two threads."""
    n_cells = len(cells)
    size = len(periods) * n_cells
    builder = FeatureBuilder(rules, records, cells, int(periods.max()) + 1 if size else 0)
    ids = cells.ids.to_numpy(zero_copy_only=False)
    names = ["score", "expected_incidents", "selected"]
    names += [CONTRIBUTION + p.name for p in spec.predictors]
    out = {name: np.empty(size, dtype=bool if name == "selected" else np.float64) for name in names}

    def run(block: np.ndarray) -> None:
        features = builder.build(periods[block])
        _check_ranges(spec, features, cells, records, periods[block], rules)
        scored = linear_scores(spec, features)
        chosen = select(
            scored.selection_values(rules.selection).reshape(len(block), n_cells),
            rules.selection,
            ids,
        )
        rows = slice(int(block[0]) * n_cells, (int(block[-1]) + 1) * n_cells)
        out["score"][rows] = scored.score
        out["expected_incidents"][rows] = scored.expected
        out["selected"][rows] = chosen.reshape(-1)
        for name, part in scored.contributions.items():
            out[CONTRIBUTION + name][rows] = part

    per_block = max(1, _BLOCK_CELLS // max(n_cells, 1))
    count = max(1, -(-len(periods) // per_block))
    blocks = [b for b in np.array_split(np.arange(len(periods)), count) if len(b)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, blocks))
    days = (np.asarray(periods) * rules.period.days + (rules.period.start - EPOCH).days).astype(
        np.int32
    )
    cell_ids = pl.Series("cell_id", cells.ids.to_pylist(), dtype=pl.String)
    columns = {
        "cell_id": cell_ids.gather(np.tile(np.arange(n_cells), len(periods))),
        "period": pl.Series("period", np.repeat(days, n_cells)).cast(pl.Date),
    }
    return pl.DataFrame(columns | out)


_BLOCK_CELLS = 1 << 18
"""About this many cell-periods are scored at a time (a block of whole periods): small
enough that the working arrays are reused rather than mapped afresh."""


@dataclass(frozen=True)
class LinearScores:
    """The model's output for every cell-period, flattened in the features' order."""

    score: np.ndarray
    expected: np.ndarray
    contributions: dict[str, np.ndarray]

    def selection_values(self, rule: Selection) -> np.ndarray:
        """What the selection rule ranks or compares: expected incidents or the score."""
        return self.expected if rule.quantity == "expected_incidents" else self.score


def linear_scores(spec: InstrumentSpec, features: dict[str, np.ndarray]) -> LinearScores:
    """Score feature arrays (any shape, all alike) with the spec's model, flattened.

    The predictors' transforms apply, then the linear predictor of
    :func:`waarborg.instruments.models.score_outcome`; the expected count is its
    exponential (Poisson) or the logistic probability.
    """
    size = next(iter(features.values())).size
    no_unknown = np.zeros(size, dtype=bool)
    encoded = {}
    for p in spec.predictors:
        raw = np.ravel(features[p.name])
        encoded[p.name] = Encoded(p, raw, _transformed(p, raw), None, no_unknown)
    result = score_outcome(spec, spec.outcomes[0].name, encoded, np.zeros(size, dtype=np.int32))
    if spec.model.kind == "poisson":
        expected = np.exp(result.score)
    else:
        expected = next(iter(result.probabilities.values()))[0]
    return LinearScores(result.score, expected, result.contributions)


def _transformed(p: Predictor, values: np.ndarray) -> np.ndarray:
    """The predictor's transforms; for counts, looked up in a table of 0..max (much faster)."""
    if p.numeric_steps and np.issubdtype(values.dtype, np.integer) and values.size:
        low, high = int(values.min()), int(values.max())
        if low >= 0 and high < _LOOKUP_LIMIT:
            return apply_steps(p.numeric_steps, np.arange(high + 1))[values]
    return apply_steps(p.numeric_steps, values)


_LOOKUP_LIMIT = 1 << 20


def select(values: np.ndarray, rule: Selection, cell_ids: np.ndarray) -> np.ndarray:
    """The selected cells per period (row) of ``values`` (periods × cells).

    Examples
    --------
    >>> rule = Selection(top_share=0.5)
    >>> select(np.array([[3.0, 1.0, 3.0, 0.0]]), rule, np.array(["a", "b", "c", "d"])).tolist()
    [[True, False, True, False]]
    """
    if rule.threshold is not None:
        return values >= rule.threshold
    n = values.shape[1]
    k = max(1, min(n, math.ceil(rule.top_share * n - 1e-9)))  # type: ignore[operator]
    kth = np.partition(values, n - k, axis=1)[:, n - k]
    chosen = values >= kth[:, None]
    if rule.ties == "include":
        return chosen
    above = values > kth[:, None]
    room = k - above.sum(axis=1)
    if (chosen.sum(axis=1) == k).all():  # no tie crosses the boundary
        return chosen
    order = np.argsort(cell_ids, kind="stable")
    tied = (values == kth[:, None])[:, order]
    first = tied & (np.cumsum(tied, axis=1) <= room[:, None])
    out = above.copy()
    out[:, order] |= first
    return out
