"""Every single parameter of every bundled spec, planted wrong, is named by the diagnosis.

The faults are enumerated by walking the raw YAML (``tests/fault_sweep.py``), so a
parameter added to a catalog spec is covered without editing this file. A fault is
found when the first diagnosis names exactly that parameter (or a parameter the data
cannot tell apart from it, listed as equivalent) with the planted value inside its
interval; a pair is found when both are named.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.fault_sweep import Fault, deployed_outputs, judge, pair_faults, single_faults
from tests.reference import raw_spec
from tests.test_verify_support import deployed, disagreeing
from waarborg import list_instruments
from waarborg.synth import synthesize
from waarborg.verify import verify
from waarborg.verify.api import detect_rounding

SINGLES = [f for instrument in list_instruments() for f in single_faults(instrument)]


def test_the_sweep_covers_every_kind_of_parameter() -> None:
    kinds = {f.kind for f in SINGLES}
    expected = {"intercept", "centre", "baseline survival", "reference level", "level weight"}
    expected |= {"weight", "bin edge", "cut-off", "direction", "variant rule"}
    expected |= {"transform upper", "transform centre", "transform scale", "transform mean"}
    expected |= {"transform sd", "transform offset"}
    assert expected <= kinds
    assert {f.instrument for f in SINGLES} == set(list_instruments())


@pytest.mark.slow
@pytest.mark.parametrize("fault", SINGLES, ids=[f.id for f in SINGLES])
def test_every_single_parameter_fault_is_named(fault: Fault) -> None:
    verdict = judge((fault,))
    assert verdict.found, verdict.why


PAIRS = pair_faults()


@pytest.mark.slow
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a.id}+{b.id}" for a, b in PAIRS])
def test_pairs_of_faults_are_both_named(pair: tuple[Fault, Fault]) -> None:
    verdict = judge(pair)
    assert verdict.found, verdict.why


def test_there_are_ten_pairs_across_formulas_and_kinds() -> None:
    assert len(PAIRS) >= 10
    assert all(a.parameter != b.parameter for a, b in PAIRS)
    assert sum(a.kind != b.kind for a, b in PAIRS) >= 10


def test_counts_match_the_independent_scorer_for_a_planted_parameter() -> None:
    """The sweep's deployed outputs, counted by tests/reference.py, match verify's counts."""
    fault = next(f for f in SINGLES if f.parameter.endswith("violent.baseline_survival.1"))
    cases, observed = deployed_outputs((fault,))
    result = verify("oxrec-style", cases, observed)
    correct = deployed(raw_spec("oxrec-style"), cases)
    for outcome in ("violent", "any"):
        expected = int(disagreeing(correct, observed, outcome).sum())
        assert result["outcomes"][outcome]["disagreement"]["k"] == expected


def _rounded(table: pa.Table, decimals: int) -> pa.Table:
    for name in table.column_names:
        if name.startswith("probability_"):
            index = table.column_names.index(name)
            table = table.set_column(index, name, pc.round(table.column(name), decimals))
    return table


def test_rounded_exports_are_detected_and_still_diagnosed() -> None:
    fault = next(
        f for f in SINGLES if f.parameter.endswith("prisoner.outcomes.violent.weights.income.low")
    )
    cases, observed = deployed_outputs((fault,))
    result = verify("oxrec-style", cases, _rounded(observed, 2))
    assert result["rounding"]["decimals"] == 2
    assert "use --tolerance 0.005" in result.summary()
    first = result["diagnosis"][0]
    assert first["evidence"]["parameter"] == fault.parameter
    assert first["evidence"]["ci"][0] <= fault.value <= first["evidence"]["ci"][1]
    assert result["tolerance"] == 1e-6 and "tolerance 1e-06" in result.summary()
    html = result.to_html("en")
    assert "0.005" in html and "tolerance" in html


def test_exact_exports_are_not_called_rounded() -> None:
    rng = np.random.default_rng(0)
    assert detect_rounding({"p": rng.random(100)}, 1e-6) == {}
    assert detect_rounding({"p": np.round(rng.random(100), 3)}, 1e-6)["decimals"] == 3
    assert detect_rounding({"p": np.round(rng.random(100), 3)}, 5e-4)["tolerance_covers_it"]


def test_headline_comes_first_with_the_band_shares() -> None:
    fault = next(f for f in SINGLES if f.parameter == "bands.violent.cutoffs.0")
    cases, observed = deployed_outputs((fault,))
    result = verify("oxrec-style", cases, observed)
    lines = result.summary().splitlines()
    moved = result["outcomes"]["violent"]["band_disagreement"]["value"]
    assert lines[0] == f"band changed: violent {100 * moved:.1f}%, any 0.0%"
    assert lines[1].startswith("diagnosis")
    html = result.to_html("nl")
    assert html.index("andere categorie") < html.index("Waarschijnlijke oorzaken")
    assert f"violent {100 * moved:.1f}%".replace(".", ",") in html


def test_probabilities_at_the_bounds_are_left_out_and_counted() -> None:
    """A weight recovered from probabilities that include exact 0s and 1s stays unbiased."""
    fault = next(
        f for f in SINGLES if f.parameter.endswith("prisoner.outcomes.violent.weights.income.low")
    )
    cases, observed = deployed_outputs((fault,))
    name = "probability_violent_2y"
    values = np.asarray(observed.column(name).to_numpy(), dtype=float)
    low_income = np.array([v == "low" for v in cases.column("income").to_pylist()])
    values[np.flatnonzero(low_income)[:5]] = 1.0  # exported as certain
    observed = observed.set_column(observed.column_names.index(name), name, pa.array(values))
    result = verify("oxrec-style", cases, observed)
    found = [d for d in result["diagnosis"] if d["evidence"].get("parameter") == fault.parameter]
    assert found and found[0]["evidence"]["dropped_at_bounds"] == 5
    low, high = found[0]["evidence"]["ci"]
    assert low <= fault.value <= high


def test_a_reference_level_shift_is_named_as_that_level() -> None:
    fault = next(
        f for f in SINGLES if f.parameter.endswith("probationer.outcomes.any.weights.income.high")
    )
    verdict = judge((fault,))
    assert verdict.found and verdict.named[0] == fault.parameter


def test_the_variant_chosen_by_another_field_is_named_with_its_mapping() -> None:
    fault = next(f for f in SINGLES if f.kind == "variant rule" and "sex" in f.value)
    cases, observed = deployed_outputs((fault,))
    first = verify("oxrec-style", cases, observed)["diagnosis"][0]
    assert first["fault"] == "variant_wrong_field" and "'sex'" in first["detail"]
    assert first["evidence"]["mapping"] == fault.value["sex"]
    assert first["explains_share"] == 1.0 and first["broken"] == 0


def test_a_transform_shared_by_every_formula_is_one_change() -> None:
    """The age scale acts in all four formulas: it is named once, not as four weights."""
    fault = next(f for f in SINGLES if f.parameter == "predictors.age.transform.0.linear.scale")
    cases, observed = deployed_outputs((fault,))
    result = verify("oxrec-style", cases, observed)
    assert len(result["diagnosis"]) == 1
    assert result["diagnosis"][0]["evidence"]["parameter"] == fault.parameter
    assert result["unexplained"]["unexplained_outputs"] == 0


def test_unexplained_share_is_reported_honestly() -> None:
    """Outputs no spec change explains (noise) are left unexplained, not forced into a cause."""
    cases = synthesize("preselect-style", 1000, seed=12)
    observed = deployed(raw_spec("preselect-style"), cases)
    rng = np.random.default_rng(12)
    name = "probability_reoffending_2y"
    noisy = np.asarray(observed.column(name).to_numpy(), dtype=float)
    noisy = np.clip(noisy + rng.normal(0, 0.02, noisy.size), 0.001, 0.999)
    observed = observed.set_column(observed.column_names.index(name), name, pa.array(noisy))
    result = verify("preselect-style", cases, observed)
    explained = sum(d["explains_outputs"] for d in result["diagnosis"])
    unexplained = result["unexplained"]
    assert explained + unexplained["unexplained_outputs"] == unexplained["disagreeing_outputs"]
    assert unexplained["share"] > 0.9
