"""Shared helpers for the verification tests (no tests here): an independent "deployed system".

The deployed system's outputs are computed case by case with the plain reference
implementation in ``tests/reference.py`` (raw YAML, ordinary arithmetic, no engine
code), from a spec with a fault planted in it, or from inputs it treats wrongly. The
expected disagreement is then counted here by comparing two such outputs, so no
expected number comes from the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa

from tests.reference import band_range, raw_spec, score_case

TOLERANCE = 1e-6


def _unknown(spec: dict[str, Any], case: dict[str, Any]) -> bool:
    return any(
        case.get(p["name"]) is None and p.get("missing") == "range" for p in spec["predictors"]
    )


def deployed(spec: dict[str, Any], cases: pa.Table) -> pa.Table:
    """What a per-row implementation of ``spec`` outputs: ``case_id``, bands, probabilities."""
    rows = []
    for case in cases.to_pylist():
        if _unknown(spec, case):
            out = {
                f"band_{o}": low if low == high else None
                for o, (low, high) in band_range(spec, case).items()
            }
        else:
            out = {k: v for k, v in score_case(spec, case).items() if not k.startswith("score_")}
        rows.append({"case_id": case["case_id"]} | out)
    columns = _output_names(spec)
    return pa.table(
        {"case_id": [r["case_id"] for r in rows]} | {c: [r.get(c) for r in rows] for c in columns}
    )


def _output_names(spec: dict[str, Any]) -> list[str]:
    names = []
    kind = spec["model"]["kind"]
    for o in spec["outcomes"]:
        if kind == "cox":
            names += [f"probability_{o['name']}_{h:g}y" for h in o["horizons"]]
        elif kind == "logistic":
            h = (o.get("horizons") or [None])[0]
            names.append(f"probability_{o['name']}" + (f"_{h:g}y" if h else ""))
        names.append(f"band_{o['name']}")
    return names


def disagreeing(correct: pa.Table, faulty: pa.Table, outcome: str) -> pd.Series:
    """Per case: does the outcome's band or any of its probabilities differ?"""
    a, b = correct.to_pandas(), faulty.to_pandas()
    differs = pd.Series(False, index=a.index)
    for column in a.columns:
        if column == f"band_{outcome}":
            x, y = a[column].astype(object), b[column].astype(object)
            differs |= x.ne(y) & ~(x.isna() & y.isna())
        elif column.startswith(f"probability_{outcome}"):
            gap = (a[column] - b[column]).abs()
            differs |= (gap > TOLERANCE) | (a[column].isna() != b[column].isna())
    return differs


def any_disagreeing(spec: dict[str, Any], correct: pa.Table, faulty: pa.Table) -> int:
    """Cases with a disagreement on any outcome."""
    flags = [disagreeing(correct, faulty, o["name"]) for o in spec["outcomes"]]
    return int(pd.concat(flags, axis=1).any(axis=1).sum())


def moved_bands(
    spec: dict[str, Any], correct: pa.Table, faulty: pa.Table, outcome: str
) -> tuple[int, int, int]:
    """Cases whose band differs (both known): all, higher in ``faulty``, lower."""
    labels = spec["bands"][outcome]["labels"]
    pairs = [
        (labels.index(x), labels.index(y))
        for x, y in zip(
            correct.column(f"band_{outcome}").to_pylist(),
            faulty.column(f"band_{outcome}").to_pylist(),
            strict=True,
        )
        if x is not None and y is not None and x != y
    ]
    return len(pairs), sum(y > x for x, y in pairs), sum(y < x for x, y in pairs)


def planted(instrument_id: str, edit: Any) -> dict[str, Any]:
    """The raw spec with ``edit`` applied to it."""
    spec = raw_spec(instrument_id)
    edit(spec)
    return spec


# --------------------------------------------------------------------------- data rules


def derived_predictors(
    cases: pa.Table, events: pa.Table, exclude: list[str], lookback: int | None
) -> pa.Table:
    """The youth instrument's event predictors, derived here with pandas from the rules text.

    Excluded dispositions never count; events after the reference date do not count;
    events more than ``lookback`` calendar years before it drop out (29 February steps
    back to 28 February); counts by role; age in whole years at the first suspect event.
    """
    c = cases.select(["case_id", "reference_date", "birth_date"]).to_pandas()
    e = events.to_pandas().astype({"disposition": object, "role": object})
    e = e.merge(c, on="case_id")
    e = e[~e["disposition"].isin(exclude) & (e["date"] <= e["reference_date"])]
    if lookback is not None:
        e = e[e["date"] >= e["reference_date"].map(lambda d: _years_back(d, lookback))]
    suspect, involved = e[e["role"] == "suspect"], e[e["role"] == "involved"]
    first = suspect.groupby("case_id")["date"].min()
    out = c.set_index("case_id")
    out["prior_suspect_registrations"] = suspect.groupby("case_id").size()
    out["involved_party_registrations"] = involved.groupby("case_id").size()
    out[["prior_suspect_registrations", "involved_party_registrations"]] = out[
        ["prior_suspect_registrations", "involved_party_registrations"]
    ].fillna(0)
    ages = [
        _whole_years(out.loc[i, "birth_date"], first[i]) if i in first.index else None
        for i in out.index
    ]
    derived = cases
    for name in ("prior_suspect_registrations", "involved_party_registrations"):
        derived = derived.append_column(name, pa.array(out[name].astype(int).tolist()))
    return derived.append_column("age_at_first_registration", pa.array(ages, pa.int64()))


def _years_back(day: dt.date, years: int) -> dt.date:
    if day.month == 2 and day.day == 29:
        day = day.replace(day=28)
    return day.replace(year=day.year - years)


def _whole_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
