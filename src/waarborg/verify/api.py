"""``verify()``: does a deployed implementation give the outputs its spec prescribes?"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg import __version__
from waarborg.audit.result import entry, jsonable
from waarborg.audit.stats import wilson_interval
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.instruments.engine import Instrument, case_instrument
from waarborg.instruments.rules import CASE_ID
from waarborg.tables import TableLike, fingerprint, read_table
from waarborg.verify.compare import (
    Outputs,
    compared_columns,
    disagreeing,
    match_ids,
    observed_outputs,
    scored_outputs,
)
from waarborg.verify.diagnose import diagnose
from waarborg.verify.hypothesis import Hypothesis, Setting
from waarborg.verify.result import VerifyResult

WORST = 10
MIN_GRID_VALUES = 20
"""At least this many observed probabilities are needed to call them rounded."""
MAX_GRID_DECIMALS = 6
LISTED_IDS = 100
HISTOGRAM_EDGES = (0.001, 0.01, 0.05, 0.1)
"""Upper edges (absolute probability difference) of the histogram's bins after the tolerance."""


def verify(
    instrument: str | Instrument,
    cases: TableLike,
    observed: TableLike,
    *,
    id: str = "case_id",
    tolerance: float = 1e-6,
    columns: Mapping[str, str] | None = None,
    band_labels: Mapping[str, Mapping[str, str]] | None = None,
    events: TableLike | None = None,
) -> VerifyResult:
    """Compare a deployed system's outputs with the spec's, and diagnose the differences.

    Parameters
    ----------
    instrument
        Catalog id, spec file or :class:`~waarborg.Instrument`.
    cases
        The inputs the deployed system scored (one row per case, with the id column).
    observed
        The deployed system's outputs per case id: ``band_<outcome>`` and/or
        ``probability_<outcome>_<h>y`` columns (see ``columns`` for other names).
    id
        The id column, present in both files.
    tolerance
        Largest absolute difference of probabilities that still counts as agreement.
    columns
        waarborg's output names for the observed file's columns, e.g.
        ``{"band_violent": "RISK_CAT_VIOL", "probability_violent_2y": "P_VIOL_24M"}``.
    band_labels
        Per outcome, the observed file's band labels mapped to the spec's, e.g.
        ``{"violent": {"L": "laag", "M": "midden", "H": "hoog"}}``.
    events
        Event records, for an instrument with data rules.

    Returns
    -------
    VerifyResult

    Examples
    --------
    >>> from waarborg import score
    >>> from waarborg.synth import synthesize
    >>> cases = synthesize("generic-selection", 500, seed=1)
    >>> deployed = score("generic-selection", cases).select(["case_id", "band_selection"])
    >>> verify("generic-selection", cases, deployed).agrees
    True
    """
    if not tolerance >= 0:
        raise ValueError(f"the tolerance must be 0 or more, got {tolerance}")
    inst = case_instrument(instrument)
    case_table, case_source = read_table(cases)
    obs_table, obs_source = read_table(observed)
    obs_table = _mapped(obs_table, columns or {}, band_labels or {}, obs_source)
    compared = compared_columns(inst, obs_table)
    if not compared:
        no_output = Message(
            "no output column of the instrument (band_<outcome> or probability_<outcome>_<h>y)",
            domain="reports",
        )
        raise DataError(no_output, obs_source)
    rows, obs_rows, only_cases, only_observed = match_ids(
        case_table, obs_table, id, (case_source, obs_source)
    )
    obs = observed_outputs(inst, obs_table.take(obs_rows), compared, obs_source)
    rounding = detect_rounding(obs.probabilities, tolerance)
    setting = Setting(compared, obs, max(tolerance, rounding.get("suggested_tolerance", 0.0)))
    base = _matched(inst, case_table, rows, events)
    reference = base.score()
    ref = scored_outputs(reference, compared)
    wrong = disagreeing(compared, ref, obs, tolerance)
    ids = base.cases.column(id).to_pylist()
    outcomes = {
        o: _outcome(inst, o, names, (ref, obs), wrong[o], ids, tolerance)
        for o, names in compared.items()
    }
    found = (
        diagnose(base, setting, reference)
        if any(w.any() for w in wrong.values())
        else {"faults": [], "disagreeing_outputs": 0, "unexplained_outputs": 0}
    )
    data = {
        "instrument": {"id": inst.id, "version": inst.version, "spec_hash": inst.spec_hash},
        "tolerance": tolerance,
        "headline": {"band_changed": _band_changed(outcomes)},
        "rounding": rounding,
        "cases": {
            "matched": int(rows.size),
            "only_in_cases": {"n": len(only_cases), "ids": only_cases[:LISTED_IDS]},
            "only_in_observed": {"n": len(only_observed), "ids": only_observed[:LISTED_IDS]},
        },
        "outcomes": outcomes,
        "diagnosis": jsonable(found["faults"]),
        "unexplained": {
            "disagreeing_outputs": found["disagreeing_outputs"],
            "unexplained_outputs": found["unexplained_outputs"],
            "share": found["unexplained_outputs"] / found["disagreeing_outputs"]
            if found["disagreeing_outputs"]
            else 0.0,
            "diagnosis_tolerance": setting.tolerance,
        },
        "provenance": {
            "waarborg_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "cases_fingerprint": fingerprint(case_table),
            "observed_fingerprint": fingerprint(obs_table),
        },
    }
    return VerifyResult(data)


def _band_changed(outcomes: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Per outcome with bands, the share of cases in another band, largest first."""
    shares = {
        name: float(o["band_disagreement"]["value"])
        for name, o in outcomes.items()
        if "band_disagreement" in o and o["band_disagreement"]["n"]
    }
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def detect_rounding(probabilities: Mapping[str, np.ndarray], tolerance: float) -> dict[str, Any]:
    """Whether the observed probabilities lie on a grid of ``10**-d`` (rounded exports).

    Returns ``{}`` when they do not (or no probabilities were exported); else the
    ``decimals``, the ``step``, the ``suggested_tolerance`` (half a step, and a hair
    more for the binary representation of decimals), whether the given tolerance
    covers it, and a ``message``.

    Examples
    --------
    >>> detect_rounding({"p": np.array([0.12, 0.5, 0.07] * 10)}, 1e-6)["message"]
    'observed probabilities are rounded to 0.01: use --tolerance 0.005'
    """
    values = np.concatenate([v[np.isfinite(v)] for v in probabilities.values()] or [np.zeros(0)])
    if values.size < MIN_GRID_VALUES:
        return {}
    for decimals in range(1, MAX_GRID_DECIMALS + 1):
        scaled = values * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            step = 10.0**-decimals
            suggested = step / 2
            return {
                "decimals": decimals,
                "step": step,
                "suggested_tolerance": suggested * (1 + 1e-9),
                "tolerance_covers_it": tolerance >= suggested,
                "message": f"observed probabilities are rounded to {step:g}: use --tolerance "
                f"{suggested:g}",
            }
    return {}


def _matched(
    inst: Instrument, cases: pa.Table, rows: np.ndarray, events: TableLike | None
) -> Hypothesis:
    """The spec and the matched cases (in case order), with their events: the reference."""
    event_table = read_table(events)[0] if events is not None else None
    if rows.size == cases.num_rows:
        return Hypothesis(inst.spec, cases, event_table)
    cases = cases.take(rows)
    if event_table is not None and CASE_ID in cases.column_names:
        ids = cases.column(CASE_ID).combine_chunks()
        event_table = event_table.filter(pc.is_in(event_table.column(CASE_ID), value_set=ids))
    return Hypothesis(inst.spec, cases, event_table)


def _mapped(
    table: pa.Table,
    columns: Mapping[str, str],
    band_labels: Mapping[str, Mapping[str, str]],
    source: str,
) -> pa.Table:
    """The observed table with waarborg's column names and band labels.

    ``columns`` maps waarborg's names to the file's (``band_violent`` → ``RISK_CAT_VIOL``);
    ``band_labels`` maps, per outcome, the file's labels to the spec's.
    """
    present = set(table.column_names)
    for ours, theirs in columns.items():
        if theirs not in present:
            missing = Message(
                "the column mapped to %(ours)s is missing", domain="reports", ours=ours
            )
            if ours in present:
                pair = theirs + "=" + ours
                missing = Message(
                    "the column mapped to %(ours)s is missing (give OURS=THEIRS: %(hint)s?)",
                    domain="reports",
                    ours=ours,
                    hint=pair,
                )
            raise DataError(missing, source, column=theirs)
    renames = {theirs: ours for ours, theirs in columns.items()}
    table = table.rename_columns([renames.get(c, c) for c in table.column_names])
    for outcome, labels in band_labels.items():
        name = f"band_{outcome}"
        if name not in table.column_names:
            unmapped = Message(
                "band labels are mapped for this column, but it is missing", domain="reports"
            )
            raise DataError(unmapped, source, column=name)
        values = [
            labels.get(v, v) if v is not None else None
            for v in table.column(name).cast(pa.string()).to_pylist()
        ]
        table = table.set_column(
            table.column_names.index(name), name, pa.array(values, pa.string())
        )
    return table


def _outcome(
    inst: Instrument,
    outcome: str,
    names: list[str],
    sides: tuple[Outputs, Outputs],
    wrong: np.ndarray,
    ids: list[Any],
    tolerance: float,
) -> dict[str, Any]:
    """One outcome's figures: disagreement, band matrix, direction, differences, worst cases."""
    ref, obs = sides
    n, k = wrong.size, int(wrong.sum())
    low, high = wilson_interval(k, n)
    out: dict[str, Any] = {
        "columns": names,
        "disagreement": entry(k / n if n else np.nan, low, high, n, k=k),
    }
    labels = inst.spec.bands[outcome].labels
    if outcome in obs.bands:
        r, o = ref.bands[outcome], obs.bands[outcome]
        matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
        both = (r >= 0) & (o >= 0)
        np.add.at(matrix, (r[both], o[both]), 1)
        out["band_matrix"] = {
            "labels": labels,
            "rows": "reference",
            "columns": "observed",
            "counts": matrix.tolist(),
        }
        moved = (r != o) & both
        b_low, b_high = wilson_interval(int(moved.sum()), int(both.sum()))
        out["band_disagreement"] = entry(
            moved.sum() / both.sum() if both.any() else np.nan,
            b_low,
            b_high,
            int(both.sum()),
            k=int(moved.sum()),
        )
        out["direction"] = {
            "observed_higher": int(((o > r) & both).sum()),
            "observed_lower": int(((o < r) & both).sum()),
            "band_only_in_reference": int(((r >= 0) & (o < 0)).sum()),
            "band_only_in_observed": int(((o >= 0) & (r < 0)).sum()),
        }
    out["probabilities"] = {
        name: _differences(ref.probabilities[name], obs.probabilities[name], tolerance)
        for name in names
        if name in obs.probabilities
    }
    out["worst_cases"] = _worst(outcome, names, ref, obs, wrong, ids, labels)
    return out


def _differences(reference: np.ndarray, observed: np.ndarray, tolerance: float) -> dict[str, Any]:
    """How the observed probabilities differ: how many beyond the tolerance, which way, how far.

    ``histogram`` counts the absolute differences in bins: up to the tolerance, then up
    to each of :data:`HISTOGRAM_EDGES`, then above the last.
    """
    diff = observed - reference
    finite = diff[np.isfinite(diff)]
    if not finite.size:
        return {"n": 0}
    size = np.abs(finite)
    beyond = finite[size > tolerance]
    edges = [tolerance, *(e for e in HISTOGRAM_EDGES if e > tolerance)]
    counts = np.bincount(np.searchsorted(edges, size, side="left"), minlength=len(edges) + 1)
    out: dict[str, Any] = {
        "n": int(finite.size),
        "beyond_tolerance": int(beyond.size),
        "observed_higher": int((beyond > 0).sum()),
        "observed_lower": int((beyond < 0).sum()),
        "mean_difference": float(finite.mean()),
        "max_abs_difference": float(size.max()),
        "histogram": {"upper_edges": edges, "counts": counts.tolist()},
    }
    if beyond.size:
        q = np.quantile(np.abs(beyond), [0.5, 0.9, 0.99])
        out["beyond_tolerance_quantiles"] = {
            "50": float(q[0]),
            "90": float(q[1]),
            "99": float(q[2]),
        }
    return out


def _worst(
    outcome: str,
    names: list[str],
    ref: Outputs,
    obs: Outputs,
    wrong: np.ndarray,
    ids: list[Any],
    labels: list[str],
) -> list[dict[str, Any]]:
    """The disagreeing cases with the largest probability (else band) differences."""
    prob = next((n for n in names if n in obs.probabilities), None)
    if prob is not None:
        size = np.nan_to_num(np.abs(obs.probabilities[prob] - ref.probabilities[prob]))
    else:
        size = np.abs(obs.bands[outcome] - ref.bands[outcome]).astype(float)
    order = [i for i in np.argsort(-size, kind="stable") if wrong[i]][:WORST]
    rows = []
    for i in order:
        row: dict[str, Any] = {"id": ids[i]}
        if outcome in obs.bands:
            row["reference_band"] = _label(labels, ref.bands[outcome][i])
            row["observed_band"] = _label(labels, obs.bands[outcome][i])
        if prob is not None:
            row["reference_probability"] = _num(ref.probabilities[prob][i])
            row["observed_probability"] = _num(obs.probabilities[prob][i])
        rows.append(row)
    return rows


def _label(labels: list[str], code: int) -> str | None:
    return labels[code] if code >= 0 else None


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
