"""Indirect discrimination: which predictors work as proxies for a protected attribute.

A neutral-looking predictor (a neighbourhood score, income, distance to the parents'
address) can discriminate indirectly when it is associated with a protected attribute
and moves that group's scores. This module answers the two questions an inspector asks
of each predictor, from row-level data that holds the instrument's inputs:

1. **Association.** Cramér's V between the predictor's contribution (its levels, or up to
   20 quantile bins of a number) and the attribute, with a bootstrap interval; and for
   each group, the AUC of telling it apart from the reference group by that contribution
   alone (DeLong interval). AUC 0.5 means the predictor says nothing about the group;
   above 0.5, it gives the group *higher* scores than the reference group.
2. **Neutralisation.** The instrument is re-scored with the predictor held at its
   population mean (a number) or mode (a level) for everyone, and each group's selection
   rate and its ratio to the reference group are compared before and after. If the
   disparity shrinks, that predictor carries it.

Everything is computed from counts, with the same statistics as the rest of the audit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.audit.result import entry
from waarborg.audit.stats import auc_from_counts, bootstrap_interval, cramers_v
from waarborg.errors import DataError
from waarborg.instruments.engine import Instrument, load_instrument, score
from waarborg.instruments.spec import Predictor
from waarborg.tables import TableLike, read_table

__all__ = ["RATIO_MOVE", "proxy_analysis"]

#: Neutralising a predictor earns a verdict when it moves a selection ratio by this factor.
RATIO_MOVE = 1.05

MAX_BINS = 20
Progress = Callable[[str], None]


def proxy_analysis(
    data: TableLike,
    instrument: str | Instrument,
    *,
    group: Sequence[str],
    select: Sequence[str] | None = None,
    reference: dict[str, str] | None = None,
    confidence: float = 0.95,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Association of every predictor with every attribute, and the effect of neutralising it.

    Parameters
    ----------
    data
        One row per case with the instrument's inputs and the group columns.
    instrument
        The instrument whose predictors are examined.
    group
        Protected attribute columns.
    select
        Bands of the first outcome that count as selected; default the spec's selected
        bands (the highest band unless it declares others).
    reference
        Reference group per attribute; default the largest group.
    confidence
        Confidence level of the intervals.
    seed
        Seed of the bootstrap for Cramér's V.
    progress
        Called with a line of text before each predictor (for a progress display).

    Returns
    -------
    dict
        ``{"outcome", "select", "association": {predictor: {attr: {"cramers_v", "auc":
        {group: leaf}}}}, "neutralised": {predictor: {attr: {group: {"selection_rate":
        {"before", "after"}, "selection_rate_ratio": {"before", "after"}}}}}, "verdicts"}``.

    Examples
    --------
    >>> from waarborg.synth import synthesize
    >>> cases = synthesize("generic-selection", 5000, seed=1)
    >>> p = proxy_analysis(cases, "generic-selection", group=["migration_background"])
    >>> sorted(p["association"])
    ['age', 'distance_to_parents_km', 'education_type']
    """
    from waarborg.audit.api import audit  # the audit builds on this module's callers

    table, source = read_table(data)
    inst = load_instrument(instrument)
    outcome = inst.outcomes[0].name
    chosen = list(select) if select else inst.spec.bands[outcome].selected_labels
    groups = {attr: _group_codes(table, attr, source) for attr in group}
    refs = {attr: _reference(groups[attr], (reference or {}).get(attr)) for attr in group}
    scored = score(inst, table)
    before = _selection(audit, table, scored.column(f"band_{outcome}"), group, chosen, refs)
    association, neutralised = {}, {}
    for p in inst.predictors:
        if progress:
            progress(f"proxy analysis: {p.name}")
        contribution = scored.column(f"contribution_{p.name}")
        association[p.name] = {
            attr: _association(contribution, groups[attr], refs[attr], confidence, seed)
            for attr in group
        }
        bands = score(*_neutral(inst, table, p)).column(f"band_{outcome}")
        after = _selection(audit, table, bands, group, chosen, refs)
        neutralised[p.name] = _compare(before, after)
    return {
        "outcome": outcome,
        "select": chosen,
        "reference": refs,
        "association": association,
        "neutralised": neutralised,
        "verdicts": _verdicts(neutralised, refs),
    }


# --------------------------------------------------------------------------- association


def _group_codes(table: pa.Table, attr: str, source: str) -> tuple[np.ndarray, list[str]]:
    """Group codes per row and the group names; a missing group column is an error."""
    if attr not in table.column_names:
        raise DataError("the group column is missing", source, column=attr)
    encoded = pc.dictionary_encode(table.column(attr).cast(pa.string())).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.isnan(codes), -1, codes) if codes.dtype.kind == "f" else codes
    return codes.astype(np.int64), [str(v) for v in encoded.dictionary.to_pylist()]


def _reference(groups: tuple[np.ndarray, list[str]], wanted: str | None) -> str:
    codes, names = groups
    if wanted is not None:
        if wanted not in names:
            raise DataError(f"reference group '{wanted}' does not occur; groups: {names}")
        return wanted
    return names[int(np.bincount(codes[codes >= 0], minlength=len(names)).argmax())]


def _bins(values: np.ndarray) -> np.ndarray:
    """Ordered bin codes of a contribution: its distinct values, or quantile bins."""
    distinct = np.unique(values)
    if len(distinct) <= MAX_BINS:
        return np.searchsorted(distinct, values)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _association(
    contribution: pa.ChunkedArray,
    groups: tuple[np.ndarray, list[str]],
    reference: str,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    values = np.asarray(contribution.to_numpy(), dtype=float)
    codes, names = groups
    known = ~np.isnan(values) & (codes >= 0)
    bins = _bins(values[known])
    table = np.zeros((len(names), int(bins.max(initial=0)) + 1), dtype=np.int64)
    np.add.at(table, (codes[known], bins), 1)
    v = float(cramers_v(table))
    low, high = bootstrap_interval(
        cramers_v, table, confidence=confidence, seed=seed, vectorized=True
    )
    ref = names.index(reference)
    aucs = {}
    for index, name in enumerate(names):
        if name != reference:
            result = auc_from_counts(table[index], table[ref], confidence=confidence)
            n = int(table[index].sum() + table[ref].sum())
            aucs[name] = entry(result.auc, *result.ci, n)
    return {"cramers_v": entry(v, low, high, int(table.sum())), "auc": aucs}


# --------------------------------------------------------------------------- neutralisation


def _neutral(inst: Instrument, table: pa.Table, p: Predictor) -> tuple[Instrument, pa.Table]:
    """The instrument and data with ``p`` held at its population mean or mode for everyone."""
    column = table.column(p.name)
    if p.type == "categorical":
        counts = pc.value_counts(column.drop_null().cast(pa.string()).combine_chunks())
        mode = max(counts.to_pylist(), key=lambda c: c["counts"])["values"]
        constant = pa.array([mode] * table.num_rows, pa.string())
        neutral_p = p.model_copy(update={"missing": "error"})
    else:
        mean = pc.mean(column.cast(pa.float64())).as_py()
        constant = pa.array(np.full(table.num_rows, mean))
        # a mean need not be a whole number: the neutral predictor is a plain number
        neutral_p = p.model_copy(update={"type": "numeric", "range": p.bounds, "missing": "error"})
    predictors = [neutral_p if q.name == p.name else q for q in inst.predictors]
    spec = inst.spec.model_copy(update={"predictors": predictors})
    index = table.column_names.index(p.name)
    return Instrument(spec), table.set_column(index, p.name, constant)


def _selection(
    audit: Callable[..., Any],
    table: pa.Table,
    bands: pa.ChunkedArray,
    group: Sequence[str],
    select: list[str],
    reference: dict[str, str],
) -> dict[str, Any]:
    """Selection rates and their ratios to the reference group, per attribute and group."""
    chosen = pc.is_in(bands.cast(pa.string()), value_set=pa.array(select, pa.string()))
    columns = {attr: table.column(attr) for attr in group}
    columns["selected"] = chosen.fill_null(False).cast(pa.int8())
    result = audit(pa.table(columns), selected="selected", group=list(group), reference=reference)
    out: dict[str, Any] = {}
    for attr in group:
        rates = result["groups"][attr]
        ratios = result["disparities"].get(attr, {})
        out[attr] = {
            name: {
                "selection_rate": metrics["selection_rate"],
                "selection_rate_ratio": ratios.get(name, {}).get("selection_rate", {}).get("ratio"),
            }
            for name, metrics in rates.items()
        }
    return out


def _compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        attr: {
            name: {
                metric: {"before": value, "after": after[attr][name][metric]}
                for metric, value in metrics.items()
                if value is not None
            }
            for name, metrics in groups.items()
        }
        for attr, groups in before.items()
    }


def _verdicts(neutralised: dict[str, Any], reference: dict[str, str]) -> list[dict[str, Any]]:
    """For each predictor and group, how far neutralising it moves the selection ratio."""
    verdicts = [_nobody_selected(p, attrs) for p, attrs in neutralised.items()]
    verdicts = [v for v in verdicts if v is not None]
    for predictor, attrs in neutralised.items():
        for attr, groups in attrs.items():
            for name, metrics in groups.items():
                ratio = metrics.get("selection_rate_ratio")
                if not ratio or ratio["before"]["value"] is None or ratio["after"]["value"] is None:
                    continue
                b, a = ratio["before"]["value"], ratio["after"]["value"]
                if abs(np.log(max(a, 1e-9) / max(b, 1e-9))) < np.log(RATIO_MOVE):
                    continue
                verdicts.append(
                    {
                        "predictor": predictor,
                        "attribute": attr,
                        "group": name,
                        "before": b,
                        "after": a,
                        "text_en": f"Holding '{predictor}' at its population value moves the "
                        f"selection ratio of '{name}' ({attr}) to the reference group "
                        f"'{reference[attr]}' from {b:.2f}× to {a:.2f}×.",
                        "text_nl": f"Als '{predictor}' voor iedereen op de gemiddelde waarde "
                        f"staat, verandert de selectieverhouding van '{name}' ({attr}) ten "
                        f"opzichte van '{reference[attr]}' van {b:.2f}× naar {a:.2f}×.",
                    }
                )
    return sorted(verdicts, key=_strength)


def _strength(verdict: dict[str, Any]) -> float:
    """Largest moves first; 'nobody selected' (after = 0) comes first of all."""
    return -abs(np.log(max(verdict["after"], 1e-9) / max(verdict["before"], 1e-9)))


def _nobody_selected(predictor: str, attrs: dict[str, Any]) -> dict[str, Any] | None:
    """A verdict when, without the predictor, nobody reaches the selected bands."""
    rates = [
        m["selection_rate"]["after"]["value"]
        for groups in attrs.values()
        for m in groups.values()
        if "selection_rate" in m
    ]
    if not rates or any(r is None or r > 0 for r in rates):
        return None
    return {
        "predictor": predictor,
        "attribute": None,
        "group": None,
        "before": 1.0,
        "after": 0.0,
        "text_en": f"Holding '{predictor}' at its population value leaves nobody in the "
        "selected bands: the selection rests on this predictor.",
        "text_nl": f"Als '{predictor}' voor iedereen op de gemiddelde waarde staat, komt "
        "niemand meer in de geselecteerde categorieën: de selectie steunt op deze factor.",
    }
