"""The scoring engine: run an instrument on a table of cases, vectorised over columns.

:func:`score` validates the data against the spec, applies the data rules to event
records if given, chooses each case's population variant from its declared field,
computes scores, probabilities, bands and per-predictor contributions, and returns an
Arrow table that names the instrument, its version and its spec hash on every row.

Output columns, in order: ``case_id`` (when the input has one), ``variant`` (when the
instrument has population variants), then per outcome ``score_<outcome>``,
``probability_<outcome>_<horizon>y`` (or ``probability_<outcome>`` for a model without a
horizon) where the model gives a probability, ``band_<outcome>`` and, for instruments
with a ``range`` missing-value policy, ``band_<outcome>_lowest`` and ``_highest``;
``contribution_<predictor>`` (to the first outcome's score) and
``contribution_<outcome>_<predictor>`` for any further outcome; ``domain_<name>`` and
``level_<name>`` for domain-sum profiles; ``instrument_id``, ``instrument_version``,
``spec_hash``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from waarborg.errors import DataError, WaarborgError
from waarborg.i18n import Message
from waarborg.instruments.encode import Encoded, Frame, encode, encode_levels
from waarborg.instruments.models import OutcomeScore, score_outcome
from waarborg.instruments.rules import CASE_ID, RuleReport, apply_event_rules
from waarborg.instruments.spec import (
    Band,
    InstrumentSpec,
    Outcome,
    Predictor,
    catalog_ids,
    load_spec,
    spec_hash,
)
from waarborg.tables import TableLike, read_table

METADATA_KEY = b"waarborg"
_CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class Instrument:
    """A validated instrument specification, ready to score.

    Examples
    --------
    >>> inst = load_instrument("generic-selection")
    >>> inst.id, inst.version, inst.predictors[0].name
    ('generic-selection', '1.0.1', 'education_type')
    """

    spec: InstrumentSpec

    @property
    def id(self) -> str:
        """The instrument's catalog id."""
        return self.spec.id

    @property
    def version(self) -> str:
        """The spec's semantic version."""
        return self.spec.version

    @property
    def predictors(self) -> list[Predictor]:
        """The declared predictors, in spec order."""
        return self.spec.predictors

    @property
    def outcomes(self) -> list[Outcome]:
        """The declared outcomes; the first is the primary one."""
        return self.spec.outcomes

    @cached_property
    def spec_hash(self) -> str:
        """SHA-256 of the spec's canonical content."""
        return spec_hash(self.spec)

    def score(self, data: TableLike, *, events: TableLike | None = None) -> pa.Table:
        """Score ``data``; see :func:`score`."""
        return score(self, data, events=events)


def list_instruments(unit: Literal["case", "area"] | None = "case") -> list[str]:
    """The ids of the bundled instruments that score ``unit`` (``None``: all of them).

    By default the instruments that score cases (people), which is what every per-case
    tool (scoring a case table, verification, casework, test vectors) works on; area
    instruments (``unit: area``) score grid cells and have their own engine
    (:mod:`waarborg.areas`).

    Examples
    --------
    >>> "oxrec-style" in list_instruments(), list_instruments("area")
    (True, ['cas-style'])
    """
    ids = catalog_ids()
    return ids if unit is None else [i for i in ids if _catalog_unit(i) == unit]


@cache
def _catalog_unit(instrument_id: str) -> str:
    """What a bundled instrument scores (the catalog does not change while running)."""
    return load_spec(instrument_id).unit


def load_instrument(source: str | Path | Instrument) -> Instrument:
    """Load a bundled instrument by id, or a spec from a YAML file."""
    if isinstance(source, Instrument):
        return source
    return Instrument(load_spec(source))


def case_instrument(source: str | Path | Instrument) -> Instrument:
    """:func:`load_instrument`, refusing an area instrument (it scores cells, not cases)."""
    inst = load_instrument(source)
    if inst.spec.is_area:
        areas = Message(
            "instrument '%(id)s' scores areas (grid cells per period), not cases: use "
            "waarborg.areas.score_areas or `waarborg score ID INCIDENTS --cells CELLS`",
            domain="reports",
            id=inst.id,
        )
        raise WaarborgError(areas)
    return inst


def score(
    instrument: str | Path | Instrument, data: TableLike, *, events: TableLike | None = None
) -> pa.Table:
    """Score every case in ``data`` with ``instrument``.

    Parameters
    ----------
    instrument
        A catalog id, a spec file, or a loaded :class:`Instrument`.
    data
        One row per case: pandas or polars DataFrame, pyarrow Table, or a .csv/.parquet
        path. It needs a column per predictor (and per declared case field).
    events
        Event records (e.g. police registrations) for an instrument with data rules:
        the rules are applied and the derived predictors computed from what remains.
        The report of what each rule removed is in the result's schema metadata
        (:func:`result_metadata`).

    Returns
    -------
    pyarrow.Table
        The columns described in this module's docstring.

    Raises
    ------
    DataError
        Naming the file, the 1-based row and the column of the first bad value.

    Examples
    --------
    >>> out = score("generic-selection", {"education_type": ["mbo"], "age": [19],
    ...             "distance_to_parents_km": [0.4]})
    >>> out.column("score_selection")[0].as_py(), out.column("band_selection")[0].as_py()
    (9.0, '6')

    (mbo 3 points, under 21 2, under 1 km 4: 9 points, at or above the last cut-off 8.)
    """
    inst = case_instrument(instrument)
    table, source = read_table(data)
    report = None
    if events is not None:
        table, report = with_event_predictors(inst, Frame(table, source), events)
    chunks = _chunks(table)
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda c: _score_frame(inst, Frame(c[1], source, c[0])), chunks))
    result = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    meta = {"instrument_id": inst.id, "instrument_version": inst.version}
    meta |= {"spec_hash": inst.spec_hash, "rows": table.num_rows}
    if report is not None:
        meta["data_rules"] = report.to_dict()
    return result.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})


def result_metadata(result: pa.Table) -> dict[str, object]:
    """The provenance that :func:`score` stored in its result (instrument, hash, data rules)."""
    raw = (result.schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def _chunks(table: pa.Table) -> list[tuple[int, pa.Table]]:
    """Row blocks, scored in parallel (numpy releases the GIL) and small enough for the cache."""
    starts = range(0, max(table.num_rows, 1), _CHUNK_ROWS)
    return [(start, table.slice(start, _CHUNK_ROWS)) for start in starts]


def with_event_predictors(
    inst: Instrument, cases: Frame, events: TableLike
) -> tuple[pa.Table, RuleReport]:
    """The case table with the predictors the data rules derive from ``events`` added."""
    rules = inst.spec.data_rules
    if rules is None:
        raise DataError(f"instrument '{inst.id}' declares no data rules for event records")
    event_table, event_source = read_table(events)
    derived, report = apply_event_rules(rules, cases, Frame(event_table, event_source))
    table = cases.table
    for name, values in derived.items():
        if name in table.column_names:
            raise DataError(
                "the case data holds this column and the events derive it too: give one",
                cases.source,
                column=name,
            )
        table = table.append_column(name, pa.array(values))
    return table, report


def _score_frame(inst: Instrument, frame: Frame) -> pa.Table:
    spec = inst.spec
    variant_codes = _variant_codes(spec, frame)
    encoded = {p.name: encode(p, frame) for p in spec.predictors}
    columns: dict[str, pa.Array] = {}
    if CASE_ID in frame.table.column_names:
        columns[CASE_ID] = frame.table.column(CASE_ID).combine_chunks()
    if spec.model.variant_field:
        columns["variant"] = _labels(variant_codes, list(spec.model.all_variants))
    results = {o.name: score_outcome(spec, o.name, encoded, variant_codes) for o in spec.outcomes}
    for outcome in spec.outcomes:
        columns |= _outcome_columns(spec, outcome, results[outcome.name], encoded)
    columns |= _contribution_columns(spec, results)
    if spec.model.kind == "domain_sum":
        columns |= _domain_columns(spec, results[spec.outcomes[0].name])
    columns |= _provenance_columns(inst, frame.table.num_rows)
    return pa.table(columns)


def _variant_codes(spec: InstrumentSpec, frame: Frame) -> np.ndarray:
    """Each case's population variant, from its declared field; never guessed."""
    if not spec.model.variant_field:
        return np.zeros(frame.table.num_rows, dtype=np.int32)
    field = next(f for f in spec.case_fields if f.name == spec.model.variant_field)
    codes = encode_levels(field, frame)
    order = [list(spec.model.all_variants).index(level) for level in field.levels or []]
    return np.asarray(order, dtype=np.int32)[codes]


def _outcome_columns(
    spec: InstrumentSpec, outcome: Outcome, result: OutcomeScore, encoded: dict[str, Encoded]
) -> dict[str, pa.Array]:
    name = outcome.name
    band = spec.bands[name]
    columns: dict[str, pa.Array] = {f"score_{name}": _numbers(result.score)}
    for horizon, (point, _, _) in result.probabilities.items():
        columns[probability_column(name, horizon)] = _numbers(point)
    low, high = result.band_codes or _band_bounds(band, result)
    point = low if low is high else np.where(low == high, low, -1)
    columns[f"band_{name}"] = _labels(point, band.labels)
    if any(p.missing == "range" for p in spec.predictors):
        columns[f"band_{name}_lowest"] = _labels(low, band.labels)
        columns[f"band_{name}_highest"] = _labels(high, band.labels)
    return columns


def _band_bounds(band: Band, result: OutcomeScore) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest band code (the same array when nothing is unknown)."""
    low = band_codes(band, _banded(band, result, "low"))
    if result.score_low is result.score_high:
        return low, low
    return low, band_codes(band, _banded(band, result, "high"))


def output_columns(result: pa.Table) -> list[str]:
    """The outputs a deployed system reports: ``band_<o>`` and ``probability_<o>...``.

    The ``_lowest``/``_highest`` band bounds of the range policy are not included.
    """
    return [
        name
        for name in result.column_names
        if name.startswith(("band_", "probability_")) and not name.endswith(("_lowest", "_highest"))
    ]


def probability_column(outcome: str, horizon: float | None) -> str:
    """The output column of an outcome's probability at a horizon (years)."""
    return f"probability_{outcome}" if horizon is None else f"probability_{outcome}_{horizon:g}y"


def primary_horizon(inst: Instrument) -> float | None:
    """The horizon (years) the primary outcome is judged at: its band's, else its last.

    None for an outcome without horizons (a score or a probability without time).
    """
    outcome = inst.outcomes[0]
    return inst.spec.bands[outcome.name].horizon or (
        outcome.horizons[-1] if outcome.horizons else None
    )


def score_column(inst: Instrument, columns: Collection[str]) -> str:
    """The output column that scores a case on the instrument's primary outcome.

    The probability at :func:`primary_horizon` where ``columns`` (the scored table's, or
    the outputs a case has) hold it, else the outcome's score: one choice for the
    audit of the demo and for the selectivity of a process, so both rank cases by the
    same number.

    Examples
    --------
    >>> inst = load_instrument("generic-selection")
    >>> score_column(inst, ["score_selection", "band_selection"])
    'score_selection'
    """
    outcome = inst.outcomes[0].name
    probability = probability_column(outcome, primary_horizon(inst))
    return probability if probability in columns else f"score_{outcome}"


def _banded(band: Band, result: OutcomeScore, end: str) -> np.ndarray:
    """The quantity a band cuts: the score, or the probability at the band's horizon."""
    index = 1 if end == "low" else 2
    if band.quantity == "score":
        return result.score_low if end == "low" else result.score_high
    horizon = band.horizon if band.horizon in result.probabilities else None
    return result.probabilities[horizon][index]


def band_codes(band: Band, values: np.ndarray) -> np.ndarray:
    """Band position of each value (a value on a cut-off goes up); -1 for nan.

    Examples
    --------
    >>> b = Band(quantity="score", cutoffs=[2, 5], labels=["laag", "midden", "hoog"])
    >>> band_codes(b, np.array([1.0, 2.0, 7.0, np.nan])).tolist()
    [0, 1, 2, -1]
    """
    codes = np.zeros(values.shape, dtype=np.int32)
    for cutoff in band.cutoffs:  # a few passes beat a binary search per value
        codes += values >= cutoff
    missing = np.isnan(values)
    return np.where(missing, -1, codes) if missing.any() else codes


def _labels(codes: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    """Codes as a dictionary-encoded string column (null where the code is -1)."""
    missing = codes < 0
    indices = pa.array(codes.astype(np.int32, copy=False), mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.string()))


def _numbers(values: np.ndarray) -> pa.Array:
    """A float column; nan (a value unknown under the range policy) becomes null."""
    missing = np.isnan(values)
    return pa.array(values, mask=missing) if missing.any() else pa.array(values)


def _contribution_columns(
    spec: InstrumentSpec, results: dict[str, OutcomeScore]
) -> dict[str, pa.Array]:
    columns = {}
    for i, outcome in enumerate(spec.outcomes):
        prefix = "contribution_" if i == 0 else f"contribution_{outcome.name}_"
        for name, part in results[outcome.name].contributions.items():
            columns[prefix + name] = _numbers(part)
    return columns


def _domain_columns(spec: InstrumentSpec, result: OutcomeScore) -> dict[str, pa.Array]:
    columns = {}
    for domain in spec.model.domains:
        items = [p.name for p in spec.predictors if p.domain == domain.name]
        total = np.sum([result.contributions[name] for name in items], axis=0)
        columns[f"domain_{domain.name}"] = _numbers(total)
        if domain.levels is not None:
            columns[f"level_{domain.name}"] = _labels(
                band_codes(domain.levels, total), domain.levels.labels
            )
    return columns


def _provenance_columns(inst: Instrument, rows: int) -> dict[str, pa.Array]:
    zeros = pa.array(np.zeros(rows, dtype=np.int8))
    return {
        name: pa.DictionaryArray.from_arrays(zeros, pa.array([value]))
        for name, value in (
            ("instrument_id", inst.id),
            ("instrument_version", inst.version),
            ("spec_hash", inst.spec_hash),
        )
    }
