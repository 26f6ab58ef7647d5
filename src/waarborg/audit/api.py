"""``audit()``: from data (rows, aggregated counts or cubes) to an :class:`AuditResult`."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg import __version__
from waarborg.audit import fairness, judgement, validity
from waarborg.audit.binning import N_BINS
from waarborg.audit.cube import Cube, is_cube
from waarborg.audit.engines import build_with
from waarborg.audit.inputs import Roles, split_names
from waarborg.audit.keys import append_dim, code_type, split_key
from waarborg.audit.result import AuditResult, entry, skipped
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.tables import TableLike, fingerprint

__all__ = ["audit"]

Progress = Callable[[str], None]
_T = TypeVar("_T")


@contextmanager
def _collector_held() -> Iterator[None]:
    """Hold Python's cyclic garbage collector for the duration (restored after).

    An audit's result is some 10^5 small dicts and lists (an entry per group, metric
    and comparison), none in a reference cycle; the collector, started by every 700
    new ones, would walk all live objects again and again (~0.3 s CPU of ~1.1 s for
    the group metrics of five attributes with intersections). Nothing is left for it
    to find afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_held()
def audit(
    data: TableLike | Sequence[TableLike],
    *,
    score: str | None = None,
    outcome: str | None = None,
    band: str | None = None,
    select: str | Sequence[str] | None = None,
    selected: str | None = None,
    group: str | Sequence[str] = (),
    intersections: bool = False,
    count: str | None = None,
    reference: Mapping[str, str] | Sequence[str] | None = None,
    instrument: Any = None,
    band_order: str | Sequence[str] | None = None,
    min_group_size: int = 30,
    n_bins: int = N_BINS,
    confidence: float = 0.95,
    seed: int = 0,
    progress: Progress | None = None,
    engine: str = "auto",
    table: str | None = None,
    query: str | None = None,
) -> AuditResult:
    """Audit a risk instrument's scores, bands or selections: validity and fairness.

    One pass over the data builds a count cube; every metric, interval and test is then
    computed from the cube's cells (see ``docs/audit.md`` for all definitions).

    Parameters
    ----------
    data
        Row-level data (one row per case), aggregated data (with a `count` column), or a
        cube written by ``waarborg cube build``: pandas/polars DataFrame, pyarrow Table,
        .csv/.parquet path, or a list of these (rows are read as one data set, cubes
        are merged).
    score
        Score or predicted probability column. In [0, 1] it is read as a probability
        (Brier score, expected counts, calibration slope).
    outcome
        Observed outcome column, 0/1 or false/true. Without it: selection metrics only.
    band
        Band column (laag/midden/hoog, 1-6, ...).
    select
        Bands that count as selected ("hoog" or ["midden", "hoog"] or "midden,hoog").
    selected
        Or: a 0/1 column saying who was selected.
    group
        Group attribute column(s).
    intersections
        Also audit every pair of attributes (named ``a×b``, groups ``x×y``) and, with
        three or more, all of them together.
    count
        Number of cases per row, for aggregated data.
    reference
        Reference group per attribute, ``{"origin": "dutch"}`` or ``["origin=dutch"]``;
        default: the largest group.
    instrument
        A bundled instrument id, spec file or :class:`~waarborg.Instrument`: recorded in
        the provenance; its band labels give the band order.
    band_order
        Bands from low to high risk, when not numeric nor a known scale.
    min_group_size
        Groups with fewer cases are flagged ``too_small``: reported, no verdicts.
    n_bins
        Most score bins (a score with more distinct values gets quantile bins).
    confidence
        Confidence level of every interval.
    seed
        Seed of the bootstrap.
    progress
        Called with the name of each stage as it starts.
    engine
        Which engine builds the cube: ``local`` (in-process; alias ``polars``),
        ``duckdb``, ``postgres``, ``spark`` or ``auto`` (see
        :mod:`waarborg.audit.engines`); the one used is ``inputs.engine``.
    table, query
        For ``postgres`` (data: a ``postgresql://`` URL): the table or query to audit;
        for ``spark``: a table of the session's catalog.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["f", "m"] * 200, "y": [0, 1, 1, 0] * 100,
    ...                    "band": ["laag", "hoog", "hoog", "laag"] * 100})
    >>> res = audit(df, outcome="y", band="band", select="hoog", group="sex")
    >>> res["groups"]["sex"]["m"]["selection_rate"]["value"]
    0.5
    >>> res["reference"]
    {'sex': 'f'}
    """
    step = _Stages(progress)
    groups = [group] if isinstance(group, str) else list(group)
    roles = Roles(tuple(groups), outcome, score, band, selected, count)
    select_list, order = split_names(select), split_names(band_order)
    _check_options(select_list, selected, min_group_size, n_bins)
    inst = _instrument(instrument)

    step("reading")
    items = list(data) if isinstance(data, list | tuple) else [data]
    if count is not None and any(is_cube(i) for i in items):
        raise DataError(
            "a cube carries its own counts: the count option is for aggregated row data",
            ", ".join(
                "<cube>" if isinstance(i, Cube | pa.Table) else str(i) for i in items if is_cube(i)
            ),
            column=count,
        )
    step("building the cube")
    cube, choice = build_with(items, roles, n_bins, engine=engine, table=table, query=query)
    sources = list(cube.meta.get("sources", []))
    source = ", ".join(sources) or "<table>"
    if cube.n == 0 and not cube.meta.get("disclosure"):  # nothing to measure (a published
        # cube's suppressed cells still bound its statistics): said here, not as a failure later
        raise DataError(_nothing(count is not None or any(is_cube(i) for i in items)), source)
    cube = published = _with_roles(cube, roles, source)
    data_fingerprint = _meanwhile(cube_fingerprint, published)
    if cube.meta.get("disclosure"):  # output-controlled: its suppressed cells, counting 0
        from waarborg.audit.disclosure import with_hidden_cells

        cube = with_hidden_cells(cube)
    step("computing metrics")
    names = list(groups or cube.roles.groups)
    order = order or _instrument_order(inst, cube)
    cells = cube.cells(names, select=select_list, band_order=order, source=source)
    checked = _meanwhile(_validity, cells, names, confidence)
    attrs = fairness.attributes(cells, names, intersections)
    parts = fairness.assess(
        cells,
        attrs,
        fairness.parse_reference(reference),
        min_group_size=min_group_size,
        confidence=confidence,
        seed=seed,
        source=source,
    )
    valid, flags = checked.result()
    if "roc" in valid:
        valid["roc"]["groups"] = parts["roc"]
    result = {
        "n": entry(int(cells.n), None, None, cells.n),
        "inputs": _inputs(cube, cells, names, intersections, count, reference, instrument, sources)
        | {
            "min_group_size": min_group_size,
            "n_bins": n_bins,
            "confidence": confidence,
            "seed": seed,
            "engine": choice.engine,
            "engine_why": choice.why,
        },
        "provenance": _provenance(published, cells, inst, data_fingerprint.result()),
        "reference": parts["reference"],
        "overall": fairness.overall(cells, confidence),
        "validity": valid,
        "validity_verdicts": judgement.validity_verdicts(valid, round(confidence * 100)),
        "groups": parts["groups"],
        "disparities": parts["disparities"],
        "verdicts": parts["verdicts"],
        "tests": parts["tests"],
        "flags": _cube_flags(cube, cells) + flags + parts["flags"],
    }
    if cube.meta.get("disclosure"):  # every interval covers every true cube it allows
        from waarborg.audit.disclosure import count_box
        from waarborg.audit.published import widen

        widen(result, cells, count_box(cube), attrs, confidence, seed)
    if inst is not None:
        step("proxy analysis")
        proxies = _proxies(data, inst, groups, select_list, reference, confidence, seed)
        if isinstance(proxies, dict) and "association" in proxies:
            result["proxies"] = proxies
        else:
            result["flags"].append(proxies)
    out = AuditResult(result)
    out.timings = step.done()
    return out


def _nothing(counted: bool) -> Message:
    """What is wrong with data of no cases: no rows, or (counted data) counts all 0."""
    if counted:
        return Message("the data has no cases", domain="reports")
    return Message("the data has no rows", domain="reports")


def _proxies(
    data: Any,
    inst: Any,
    groups: list[str],
    select: list[str] | None,
    reference: Any,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """The proxy analysis, or a flag saying why the data do not allow it."""
    from waarborg.audit.proxies import proxy_analysis
    from waarborg.tables import read_table

    items = list(data) if isinstance(data, list | tuple) else [data]
    if len(items) != 1 or is_cube(items[0]):
        return skipped(
            "the proxy analysis of the instrument's predictors",
            "it needs one row per case with the instrument's inputs, not a cube",
            "die één rij per zaak met de invoer van het instrument nodig heeft, geen kubus",
            "de proxyanalyse van de kenmerken van het instrument",
        )
    table, _ = read_table(items[0])
    missing = [p.name for p in inst.predictors if p.name not in table.column_names]
    if missing:
        return skipped(
            "the proxy analysis of the instrument's predictors",
            f"the data do not hold its inputs ({', '.join(missing)})",
            f"de gegevens de invoer niet bevatten ({', '.join(missing)})",
            "de proxyanalyse van de kenmerken van het instrument",
        )
    labels = inst.spec.bands[inst.outcomes[0].name].labels
    chosen = select if select and set(select) <= set(labels) else None
    return proxy_analysis(
        table,
        inst,
        group=groups,
        select=chosen,
        reference=fairness.parse_reference(reference),
        confidence=confidence,
        seed=seed,
    )


# --------------------------------------------------------------------------- helpers


class _Stages:
    """Report stages to the progress callback and time them."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.times, self.current, self.start = progress, {}, None, 0.0

    def __call__(self, stage: str) -> None:
        self._close()
        self.current, self.start = stage, time.perf_counter()
        if self.progress is not None:
            self.progress(stage)

    def _close(self) -> None:
        if self.current is not None:
            self.times[self.current] = time.perf_counter() - self.start

    def done(self) -> dict[str, float]:
        self._close()
        self.current = None
        return dict(self.times)


def _check_options(
    select: list[str] | None, selected: str | None, min_group_size: int, n_bins: int
) -> None:
    if select and selected:
        raise ValueError("give either select (bands) or selected (a column), not both")
    if min_group_size < 0:
        raise ValueError("min_group_size must be >= 0")
    if n_bins < 2:
        raise ValueError("n_bins must be at least 2")


def _instrument(instrument: Any) -> Any:
    if instrument is None:
        return None
    from waarborg.instruments.engine import load_instrument

    return load_instrument(instrument)


def _instrument_order(inst: Any, cube: Cube) -> list[str] | None:
    """The instrument's band labels, if they cover the bands in the data."""
    band = cube.roles.band
    if inst is None or band is None:
        return None
    present = {str(v) for v in pc.unique(cube.table.column(band)).to_pylist()}
    for spec_band in inst.spec.bands.values():
        if present <= set(spec_band.labels):
            return list(spec_band.labels)
    return None


def _with_roles(cube: Cube, roles: Roles, source: str) -> Cube:
    """Check the roles asked for against a cube's; unspecified roles come from the cube."""
    have = cube.roles
    for role in ("outcome", "score", "band", "selected"):
        asked = getattr(roles, role)
        if asked is not None and asked != getattr(have, role):
            found = getattr(have, role)
            raise DataError(
                f"the cube has {'no ' + role if found is None else f'{role} column {found!r}'}",
                source,
                column=asked,
            )
    for g in roles.groups:
        if g not in have.groups:
            raise DataError(
                f"not a group attribute of the cube (it has: {', '.join(have.groups)})",
                source,
                column=g,
            )
    return cube


def _inputs(
    cube: Cube,
    cells: Any,
    names: list[str],
    intersections: bool,
    count: str | None,
    reference: Any,
    instrument: Any,
    sources: list[str],
) -> dict[str, Any]:
    r = cube.roles
    return {
        "sources": sources,
        "score": r.score,
        "outcome": r.outcome,
        "band": r.band,
        "select": cells.select,
        "selected": r.selected,
        "groups": names,
        "intersections": intersections,
        "count": count,
        "reference": fairness.parse_reference(reference),
        "instrument": None if instrument is None else str(getattr(instrument, "id", instrument)),
        "band_order": cells.band_labels if cells.band is not None else None,
        "band_order_source": cells.band_order_source,
    }


def _meanwhile(work: Callable[..., _T], *args: Any) -> Future[_T]:
    """``work(*args)`` on a thread of its own while the audit goes on (numpy, Arrow and
    hashlib let go of the GIL for most of it); the result waits in the future.
    """
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(work, *args)
    finally:
        pool.shutdown(wait=False)  # the thread ends when the work is done


def _validity(
    cells: Any, names: list[str], confidence: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The validity part of the result (calibration per group included) and its flags."""
    valid, flags = validity.assess(cells, confidence)
    by_group = validity.calibration_by_group(cells, {n: cells.groups[n] for n in names}, confidence)
    if by_group:
        valid["calibration_groups"] = by_group
    return valid, flags


def _provenance(cube: Cube, cells: Any, inst: Any, data_fingerprint: str) -> dict[str, Any]:
    binning = None
    if cells.score_keys is not None:
        binning = {
            "method": cells.binning,
            "bins": int(cells.score_keys.size),
            "max_bins": int(cube.meta.get("n_bins", N_BINS)),
        }
    return {
        "waarborg_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_fingerprint": data_fingerprint,
        "fingerprint_of": "count cube, canonical form 2 (the same data as rows, aggregated "
        "counts or cube)",
        "instrument": None
        if inst is None
        else {"id": inst.id, "version": inst.version, "spec_hash": inst.spec_hash},
        "score_binning": binning,
    }


def cube_fingerprint(cube: Cube) -> str:
    """SHA-256 of the cube's cells in canonical form 2 (keys and counts, not score sums).

    The cube is what the audit reads, so the fingerprint identifies the audited data
    whether it came as rows, as aggregated counts, as an in-memory cube (dictionary
    columns, whatever their dictionaries hold) or as a cube file (plain columns), and
    costs O(cells) instead of hashing every row. The canonical form (``docs/audit.md``,
    *Provenance*): each key column as a dictionary column of the sorted values that
    cells use, its indices (the narrowest of int8, int16, int32) the values' ranks; the
    cells sorted by those ranks, then by count; the count as int64. Ranks stand in for
    the values throughout, so no key column is decoded to strings.
    """
    table = cube.table
    names = [c for c in table.column_names if c not in (cube.count_column, *_sums(cube))]
    keys = [_KeyColumn.of(table.column(name)) for name in names]
    count = table.column(cube.count_column).combine_chunks().cast(pa.int64())
    ranks, order = _in_runs(keys) or _sorted(keys, count)
    columns = {}
    for name, key, (rank, lengths) in zip(names, keys, ranks, strict=True):
        dense, values = key.used(rank)
        dense = dense.astype(code_type(len(values)), copy=False)  # narrow: fewer bytes
        indices = dense if lengths is None else np.repeat(dense, lengths)
        columns[name] = pa.DictionaryArray.from_arrays(pa.array(indices), values, safe=False)
    columns[cube.count_column] = count.take(pa.array(order))
    return fingerprint(pa.table(columns), decode=False)


Ranks = list[tuple[np.ndarray, np.ndarray | None]]
"""Each key column's ranks in canonical cell order: all of them (and None), or one per
run of cells and how many cells each run has."""


@dataclass(frozen=True)
class _KeyColumn:
    """A key column as codes into its dictionary (its own, or one encoded here), and the
    rank of each code's value: Arrow's order (NaN after numbers, -0.0 tied with 0.0),
    null last, the code ``len(dictionary)`` for a null. Unused and repeated dictionary
    entries leave gaps and ties in these ranks, which :meth:`used` closes.
    """

    codes: np.ndarray
    rank: np.ndarray
    dictionary: pa.Array

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> _KeyColumn:
        encoded = _encoded(column)
        dictionary = encoded.dictionary
        rank = pc.rank(dictionary, tiebreaker="dense").to_numpy().astype(np.int32) - 1
        valid = dictionary.is_valid().to_numpy(zero_copy_only=False)
        null = int(rank[valid].max(initial=-1)) + 1  # after every value, as Arrow sorts nulls
        codes = encoded.indices
        if codes.null_count:  # the null's code may not fit the index type (int8: 128)
            codes = codes.cast(pa.int64()).fill_null(len(dictionary))
        rank = np.append(np.where(valid, rank, null), np.int32(null))
        return cls(codes.to_numpy(), rank, dictionary)

    @property
    def size(self) -> int:
        """How many ranks there can be (the null's is the last)."""
        return int(self.rank[-1]) + 1

    def ranks(self) -> np.ndarray:
        """Each cell's rank (int32)."""
        return pc.take(pa.array(self.rank), pa.array(self.codes)).to_numpy()

    def used(self, ranks: np.ndarray) -> tuple[np.ndarray, pa.Array]:
        """``ranks`` renumbered to the ranks they use (0, 1, ...), and the values of
        those, sorted and canonical (:func:`_canonical_values`), a null last.
        """
        used = np.zeros(self.size, bool)
        used[ranks] = True
        present = np.flatnonzero(used)
        if present.size and present[-1] != present.size - 1:  # gaps: unused entries
            ranks = (np.cumsum(used, dtype=np.int32) - 1)[ranks]
        entry = np.empty(self.size, np.int64)
        entry[self.rank[:-1]] = np.arange(len(self.dictionary))  # an entry of each rank
        null = self.size - 1
        values = _canonical_values(self.dictionary.take(pa.array(entry[present[present < null]])))
        if used[null]:
            values = pa.concat_arrays([values, pa.nulls(1, values.type)])
        return ranks, values


def _canonical_values(values: pa.Array) -> pa.Array:
    """Floats with 0.0 for -0.0 and one NaN for all: the value of a rank, whichever of its
    tied entries gave it (other types are their own canonical values).
    """
    if not pa.types.is_floating(values.type):
        return values
    zero, nan = pa.scalar(0, values.type), pa.scalar(float("nan"), values.type)
    return pc.if_else(pc.is_nan(values), nan, pc.if_else(pc.equal(values, zero), zero, values))


def _in_runs(keys: list[_KeyColumn]) -> tuple[Ranks, np.ndarray] | None:
    """The ranks in canonical order, and the order of the cells, when the cells come in
    runs that share every key but the last, whose ranks ascend in the run, no two runs
    with the same other keys: the runs sorted by those. A cube built here, or its file,
    comes so (its cells are in the order of the dictionaries' codes, and a score's bins
    ascend), and then this costs a few passes over the cells and a sort of the runs,
    instead of a sort of the cells. None when the cells do not come so.
    """
    if not keys:
        return None
    *prefix, last = keys
    n = last.codes.size
    last_ranks = last.ranks()
    change = last_ranks[1:] <= last_ranks[:-1]
    for key in prefix:
        change |= key.codes[1:] != key.codes[:-1]
    starts = np.append(0, np.flatnonzero(change) + 1)
    if starts.size > n // 16:  # short runs (or none): sorting the cells is cheaper
        return None
    heads = [key.rank[key.codes[starts]] for key in prefix]
    runs = np.lexsort(heads[::-1]) if heads else np.arange(starts.size)  # one key column
    heads = [head[runs] for head in heads]
    differ = np.zeros(runs.size - 1, bool)
    for head in heads:
        differ |= head[1:] != head[:-1]
    if not differ.all():  # two runs with the same other keys
        return None
    lengths = np.diff(starts, append=n)[runs]
    order = np.repeat(starts[runs] - (np.cumsum(lengths) - lengths), lengths) + np.arange(n)
    return [*((head, lengths) for head in heads), (last_ranks[order], None)], order


def _sorted(keys: list[_KeyColumn], count: pa.Array) -> tuple[Ranks, np.ndarray]:
    """The ranks in canonical order, and the order of the cells, for cells in any order:
    sorted by their key columns' ranks (lexicographically, in column order), then by
    count (two cells with the same keys only in a cube that holds them twice).

    The ranks make one integer key, sorted by one ``argsort`` (a sort of integers instead
    of a comparison sort of rows); the sorted key is split back into the ranks. Keys past
    64 bits (many columns of many values) are sorted by ``lexsort`` instead.
    """
    ranks, sizes = [key.ranks() for key in keys], [key.size for key in keys]
    if math.prod(sizes) >= 1 << 63:
        order = np.lexsort((count.to_numpy(zero_copy_only=False), *reversed(ranks)))
        return [(rank[order], None) for rank in ranks], order
    key = np.zeros(len(count), np.int32 if math.prod(sizes) <= 1 << 31 else np.int64)
    for rank, size in zip(ranks, sizes, strict=True):
        append_dim(key, rank, size)
    order = np.argsort(key)
    ordered = key[order]
    if np.any(ordered[1:] == ordered[:-1]):
        order = np.lexsort((count.to_numpy(zero_copy_only=False), key))  # nulls last
        ordered = key[order]
    return [(rank, None) for rank in split_key(ordered, sizes)], order


def _encoded(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """The column as one dictionary array (its chunks' dictionaries unified).

    An 8-bit integer column (outcome, selected) is its own codes into a dictionary of
    all 256 values, which spares hashing every cell.
    """
    whole = column.combine_chunks()
    if pa.types.is_dictionary(whole.type):
        return whole
    if whole.type in (pa.int8(), pa.uint8()):
        every = pa.array(np.arange(256, dtype=np.uint8)).view(whole.type)
        return pa.DictionaryArray.from_arrays(whole.view(pa.uint8()), every)
    return pc.dictionary_encode(whole)


def _sums(cube: Cube) -> tuple[str, ...]:
    return cube.sum_columns if cube.roles.score else ()


def _cube_flags(cube: Cube, cells: Any) -> list[dict[str, Any]]:
    flags = []
    if cube.meta.get("disclosure"):
        from waarborg.audit.disclosure import disclosure_flag

        flags.append(disclosure_flag(cube.meta))
    if cells.selected is None:
        flags.append(
            skipped(
                "selection rates, error rates and shares of the selected",
                "no selection is given (select bands, or a selected column)",
                "er geen selectie is opgegeven (te selecteren categorieën, of een kolom selected)",
                "selectiepercentages, foutpercentages en aandelen in de selectie",
            )
        )
    if cells.binning == "mixed":
        flags.append(
            {
                "kind": "mixed_bins",
                "text_en": "Merged cubes cut the score into different bins: counts and rates are "
                "exact, the AUC and calibration slope are approximate.",
                "text_nl": "Samengevoegde kubussen delen de score verschillend in: aantallen en "
                "percentages zijn exact, de AUC en kalibratiehelling bij benadering.",
            }
        )
    if cells.band_order_source == "mean score":
        flags.append(
            {
                "kind": "band_order",
                "text_en": f"Band order taken from the mean score per band: "
                f"{' < '.join(cells.band_labels)}.",
                "text_nl": f"Volgorde van de banden afgeleid uit de gemiddelde score per band: "
                f"{' < '.join(cells.band_labels)}.",
            }
        )
    return flags
