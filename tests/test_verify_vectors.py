"""Acceptance test vectors: they cover the spec, and verify on them is the acceptance test.

Coverage is checked with the plain reference implementation, not the engine: it scores
the vectors, and every level, every variant, every missing-value case and both sides of
every cut-off must be there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from tests.reference import raw_spec, score_case, transformed
from tests.test_verify_support import TOLERANCE, deployed, planted
from waarborg import list_instruments
from waarborg.cli import app
from waarborg.verify import acceptance_vectors

runner = CliRunner()


def _variants(spec: dict[str, Any]) -> list[str | None]:
    return list(spec["model"]["variants"]) if "variants" in spec["model"] else [None]


def _of_variant(spec: dict[str, Any], rows: list[dict], variant: str | None) -> list[dict]:
    field = spec["model"].get("variant_field")
    return [r for r in rows if variant is None or r[field] == variant]


def _levels(pred: dict[str, Any]) -> set[Any]:
    """What the model distinguishes: levels, bins, both booleans, whole values of short ranges."""
    if pred["type"] == "categorical":
        return set(pred["levels"])
    if pred["type"] == "boolean":
        return {False, True}
    bins = [t["bins"] for t in pred.get("transform", []) if "bins" in t]
    if bins:
        return set(bins[0]["labels"])
    low, high = pred["range"]
    if pred["type"] == "integer" and high - low < 25:
        return set(range(int(low), int(high) + 1))
    return {low, high}


def _seen(pred: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    bins = [t for t in pred.get("transform", []) if "bins" in t]
    return transformed(pred, value) if bins else value


@pytest.fixture(scope="module")
def vectors() -> dict[str, pa.Table]:
    return {i: acceptance_vectors(i) for i in list_instruments()}


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_every_level_missing_case_and_variant_is_covered(
    instrument_id: str, vectors: dict[str, pa.Table]
) -> None:
    spec = raw_spec(instrument_id)
    rows = vectors[instrument_id].to_pylist()
    for variant in _variants(spec):
        mine = _of_variant(spec, rows, variant)
        assert mine, variant
        for pred in spec["predictors"]:
            seen = {_seen(pred, r[pred["name"]]) for r in mine}
            assert _levels(pred) <= seen, (variant, pred["name"])
            if pred.get("missing", "error") != "error":
                assert None in seen, (variant, pred["name"])


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_both_sides_of_every_cutoff_per_variant(
    instrument_id: str, vectors: dict[str, pa.Table]
) -> None:
    spec = raw_spec(instrument_id)
    rows = [r for r in vectors[instrument_id].to_pylist() if _complete(spec, r)]
    continuous = spec["model"]["kind"] in ("cox", "logistic")
    # with a continuous input the search gets within 10x the margin; else within 1%
    near = 1e-5 if any(p["type"] == "numeric" for p in spec["predictors"]) else 1e-2
    for variant in _variants(spec):
        scored = [score_case(spec, r) for r in _of_variant(spec, rows, variant)]
        for outcome in spec["outcomes"]:
            band = spec["bands"][outcome["name"]]
            q = [_quantity(spec, outcome, s) for s in scored]
            for cutoff in band["cutoffs"]:
                below = min(cutoff - x for x in q if x < cutoff)
                above = min(x - cutoff for x in q if x >= cutoff)
                if continuous:  # near, but never within the tolerance of the cut-off
                    assert TOLERANCE <= below < near and TOLERANCE <= above < near
                else:  # integer scores: exactly on the cut-off, and the next lower score
                    assert above == 0 and below == 1, (variant, cutoff)


def _complete(spec: dict[str, Any], row: dict[str, Any]) -> bool:
    return all(row[p["name"]] is not None for p in spec["predictors"])


def _quantity(spec: dict[str, Any], outcome: dict[str, Any], scored: dict[str, Any]) -> float:
    band, name = spec["bands"][outcome["name"]], outcome["name"]
    if band["quantity"] == "score":
        return scored[f"score_{name}"]
    horizon = band.get("horizon") or outcome["horizons"][0]
    return scored[f"probability_{name}_{horizon:g}y"]


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_expected_outputs_are_the_specs(instrument_id: str, vectors: dict[str, pa.Table]) -> None:
    table = vectors[instrument_id]
    reference = deployed(raw_spec(instrument_id), table)
    for name in reference.column_names[1:]:
        want, got = reference.column(name).to_pylist(), table.column(f"expected_{name}").to_pylist()
        for w, g in zip(want, got, strict=True):
            assert (w is None and g is None) or w == g or math.isclose(w, g, abs_tol=1e-12)


def _swap(spec: dict) -> None:
    v = spec["model"]["variants"]
    v["prisoner"], v["probationer"] = v["probationer"], v["prisoner"]


def _strict_cutoffs(spec: dict) -> None:
    """The supplier puts a score *on* a cut-off in the lower band (> instead of >=)."""
    for band in spec["bands"].values():
        band["cutoffs"] = [c + 1 for c in band["cutoffs"]]


def _unstandardised(spec: dict) -> None:
    next(p for p in spec["predictors"] if p["name"] == "neighbourhood_deprivation")[
        "transform"
    ] = []


def _cap_ignored(spec: dict) -> None:
    pred = next(p for p in spec["predictors"] if p["name"] == "involved_party_registrations")
    pred["transform"] = []


SUPPLIER_ERRORS = [
    ("oxrec-style", _swap),
    ("oxrec-style", _unstandardised),
    ("preselect-style", _cap_ignored),
    ("ritax-style", _strict_cutoffs),
    ("generic-selection", _strict_cutoffs),
]


def _supplier(tmp_path: Path, vectors_file: Path, spec: dict[str, Any]) -> Path:
    """The supplier reads the vectors file and returns its outputs per case id."""
    options = pacsv.ConvertOptions(strings_can_be_null=True)
    inputs = pacsv.read_csv(vectors_file, convert_options=options)
    out = tmp_path / "supplier.csv"
    pacsv.write_csv(deployed(spec, inputs), out)
    return out


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_verify_on_the_vectors_is_the_acceptance_test(instrument_id: str, tmp_path: Path) -> None:
    vectors_file = tmp_path / "vectors.csv"
    run = runner.invoke(app, ["instruments", "vectors", instrument_id, "-o", str(vectors_file)])
    assert run.exit_code == 0, run.output
    good = _supplier(tmp_path, vectors_file, raw_spec(instrument_id))
    args = ["verify", instrument_id, str(vectors_file), str(good), "--id", "case_id"]
    run = runner.invoke(app, args)
    assert run.exit_code == 0, run.output
    for edit in (e for i, e in SUPPLIER_ERRORS if i == instrument_id):
        bad = _supplier(tmp_path, vectors_file, planted(instrument_id, edit))
        run = runner.invoke(app, [*args[:3], str(bad), "--id", "case_id"])
        assert run.exit_code == 1, (edit.__name__, run.output)
