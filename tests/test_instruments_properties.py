"""Property tests: declared monotonicity, and bands that agree with the probabilities."""

from __future__ import annotations

import bisect
import itertools

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference import random_case, raw_spec
from waarborg import list_instruments, load_instrument, score

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _columns(cases: list[dict]) -> pa.Table:
    return pa.table({k: [c[k] for c in cases] for k in cases[0]})


def _quantity(row: dict, outcome: str, band: dict) -> float:
    if band["quantity"] == "score":
        return row[f"score_{outcome}"]
    key = f"probability_{outcome}_{band['horizon']:g}y" if "horizon" in band else None
    return row[key or f"probability_{outcome}"]


@SETTINGS
@given(
    instrument_id=st.sampled_from(list_instruments()),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_declared_monotonicity_holds(instrument_id: str, seed: int, data: st.DataObject) -> None:
    spec = raw_spec(instrument_id)
    if not spec.get("monotone"):
        return
    name = data.draw(st.sampled_from(sorted(spec["monotone"])))
    pred = next(p for p in spec["predictors"] if p["name"] == name)
    case = random_case(spec, np.random.default_rng(seed))
    low, high = pred.get("range", [0, 1])
    values = sorted({low, high, *(data.draw(st.integers(int(low), int(high))) for _ in range(4))})
    cases = [case | {name: v} for v in values]
    result = score(instrument_id, _columns(cases)).to_pylist()
    sign = 1 if spec["monotone"][name] == "increasing" else -1
    for outcome in (o["name"] for o in spec["outcomes"]):
        band = spec["bands"][outcome]
        got = [_quantity(r, outcome, band) for r in result]
        assert all(sign * (b - a) >= -1e-12 for a, b in itertools.pairwise(got))
        codes = [band["labels"].index(r[f"band_{outcome}"]) for r in result]
        assert all(sign * (b - a) >= 0 for a, b in itertools.pairwise(codes))


@SETTINGS
@given(instrument_id=st.sampled_from(list_instruments()), seed=st.integers(0, 2**32 - 1))
def test_band_is_the_cut_of_its_quantity(instrument_id: str, seed: int) -> None:
    spec = raw_spec(instrument_id)
    rng = np.random.default_rng(seed)
    cases = [random_case(spec, rng) for _ in range(20)]
    result = score(instrument_id, _columns(cases)).to_pylist()
    for row in result:
        for outcome in (o["name"] for o in spec["outcomes"]):
            band = spec["bands"][outcome]
            value = _quantity(row, outcome, band)
            expected = band["labels"][bisect.bisect_right(band["cutoffs"], value)]
            assert row[f"band_{outcome}"] == expected
            probabilities = [v for k, v in row.items() if k.startswith(f"probability_{outcome}")]
            assert all(0.0 <= p <= 1.0 for p in probabilities)
            assert probabilities == sorted(probabilities), "risk grows with the horizon"


def test_every_bundled_instrument_declares_its_monotone_predictors() -> None:
    declared = {i: load_instrument(i).spec.monotone for i in list_instruments()}
    assert all(declared[i] for i in ("oxrec-style", "preselect-style", "ritax-style"))
