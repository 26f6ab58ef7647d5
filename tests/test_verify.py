"""Conformance verification: planted faults are measured exactly and diagnosed first.

Each fault is planted in an independent per-row implementation (``tests/reference.py``
scoring a modified raw spec, or unmodified but fed wrongly treated inputs); its outputs
for a synthetic cohort are what the "deployed system" produced. The expected
disagreement is counted by comparing that implementation's faulty and correct outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.reference import raw_spec
from tests.test_verify_support import (
    any_disagreeing,
    deployed,
    derived_predictors,
    disagreeing,
    moved_bands,
    planted,
)
from waarborg import list_instruments
from waarborg.synth import synthesize, synthesize_events
from waarborg.verify import demo_faulty_implementation, verify

N = 3000
Edit = Callable[[dict[str, Any]], None]
CaseEdit = Callable[[pa.Table], pa.Table]


def _weight(*path: str, value: float) -> Edit:
    def edit(spec: dict) -> None:
        node = spec["model"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _predictor(name: str, **changes: Any) -> Edit:
    def edit(spec: dict) -> None:
        next(p for p in spec["predictors"] if p["name"] == name).update(changes)

    return edit


def _shift_bins(name: str, shift: float) -> Edit:
    def edit(spec: dict) -> None:
        pred = next(p for p in spec["predictors"] if p["name"] == name)
        bins = pred["transform"][-1]["bins"]
        bins["edges"] = [e + shift for e in bins["edges"]]

    return edit


def _cutoffs(outcome: str, cutoffs: list[float]) -> Edit:
    def edit(spec: dict) -> None:
        spec["bands"][outcome]["cutoffs"] = cutoffs

    return edit


def _swap(spec: dict) -> None:
    v = spec["model"]["variants"]
    v["prisoner"], v["probationer"] = v["probationer"], v["prisoner"]


PRISONER_VIOLENT = ("variants", "prisoner", "outcomes", "violent", "weights")
SPEC_FAULTS = [
    ("oxrec-style", "variant_swapped", _swap),
    ("oxrec-style", "coefficient_wrong", _weight(*PRISONER_VIOLENT, "income", "low", value=0.55)),
    (
        "oxrec-style",
        "transform_wrong",
        _predictor("neighbourhood_deprivation", transform=[]),  # decile not standardised
    ),
    (
        "oxrec-style",
        "unit_error",
        _predictor("age", transform=[{"linear": {"centre": 35, "scale": 1}}]),  # per year
    ),
    ("oxrec-style", "cutoffs_shifted", _cutoffs("violent", [0.12, 0.2])),
    (
        "preselect-style",
        "coefficient_wrong",
        _weight("outcomes", "reoffending", "weights", "offence", "violence", value=0.6),
    ),
    ("preselect-style", "transform_wrong", _predictor("prior_suspect_registrations", transform=[])),
    ("preselect-style", "transform_wrong", _shift_bins("age_at_first_registration", 1.0)),
    ("preselect-style", "cutoffs_shifted", _cutoffs("reoffending", [0.3, 0.5])),
    ("ritax-style", "coefficient_wrong", _predictor("family_protective", direction="risk")),
    ("ritax-style", "cutoffs_shifted", _cutoffs("profile", [7, 14])),
    (
        "generic-selection",
        "coefficient_wrong",
        _weight("outcomes", "selection", "weights", "distance_to_parents_km", "under_1km", value=3),
    ),
    ("generic-selection", "transform_wrong", _shift_bins("age", 1.0)),
    (
        "generic-selection",
        "unit_error",  # metres read as kilometres
        _predictor(
            "distance_to_parents_km",
            transform=[
                {"linear": {"centre": 0, "scale": 0.001}},
                {
                    "bins": {
                        "edges": [1, 5, 20],
                        "labels": ["under_1km", "1_to_5km", "5_to_20km", "20km_and_over"],
                    }
                },
            ],
        ),
    ),
    ("generic-selection", "cutoffs_shifted", _cutoffs("selection", [2, 4, 5, 7, 8])),
]


def _check_measured(
    instrument_id: str, result: Any, correct: pa.Table, faulty: pa.Table, fault: str
) -> None:
    """The disagreement figures equal the independent count; the fault is ranked first."""
    spec = raw_spec(instrument_id)
    assert not result.agrees and result.exit_code == 1
    for o in spec["outcomes"]:
        got = result["outcomes"][o["name"]]
        expected = int(disagreeing(correct, faulty, o["name"]).sum())
        assert got["disagreement"]["k"] == expected
        assert got["disagreement"]["n"] == correct.num_rows
        low, high = got["disagreement"]["ci"]
        assert low <= got["disagreement"]["value"] == pytest.approx(expected / correct.num_rows)
        assert got["disagreement"]["value"] <= high
        moved, higher, lower = moved_bands(spec, correct, faulty, o["name"])
        assert got["band_disagreement"]["k"] == moved
        assert got["direction"]["observed_higher"] == higher
        assert got["direction"]["observed_lower"] == lower
        assert sum(map(sum, got["band_matrix"]["counts"])) == got["band_disagreement"]["n"]
    first = result["diagnosis"][0]
    if fault == "unit_error" and first["fault"] != fault:
        # metres read as kilometres move these cases exactly as a changed level weight
        # does: a recovered parameter that explains everything is preferred
        assert first["fault"] == "coefficient_wrong", result["diagnosis"]
    else:
        assert first["fault"] == fault, result["diagnosis"]
    assert first["explains_cases"] == any_disagreeing(spec, correct, faulty)
    assert first["explains_share"] == 1.0


@pytest.mark.parametrize(("instrument_id", "fault", "edit"), SPEC_FAULTS)
def test_planted_spec_fault_is_measured_and_ranked_first(
    instrument_id: str, fault: str, edit: Edit
) -> None:
    cases = synthesize(instrument_id, N, seed=3)
    correct = deployed(raw_spec(instrument_id), cases)
    faulty = deployed(planted(instrument_id, edit), cases)
    result = verify(instrument_id, cases, faulty)
    _check_measured(instrument_id, result, correct, faulty, fault)


def test_every_bundled_instrument_is_covered() -> None:
    assert {i for i, _, _ in SPEC_FAULTS} == set(list_instruments())


def test_estimated_weight_and_interval() -> None:
    cases = synthesize("oxrec-style", N, seed=3)
    edit = _weight(*PRISONER_VIOLENT, "income", "low", value=0.55)
    result = verify("oxrec-style", cases, deployed(planted("oxrec-style", edit), cases))
    evidence = result["diagnosis"][0]["evidence"]
    path = "model.variants.prisoner.outcomes.violent.weights.income.low"
    assert evidence["parameter"] == path
    assert (evidence["variant"], evidence["outcome"]) == ("prisoner", "violent")
    assert evidence["estimate"] == pytest.approx(0.55)
    assert evidence["ci"][0] <= 0.55 <= evidence["ci"][1]
    assert evidence["spec"] == 0.25


def _fill(name: str, value: Any) -> CaseEdit:
    def edit(cases: pa.Table) -> pa.Table:
        column = cases.column(name)
        column = (
            column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        )
        filled = column.fill_null(pa.scalar(value).cast(column.type))
        return cases.set_column(cases.column_names.index(name), name, filled)

    edit.__name__ = name
    return edit


MISSING_FAULTS = [
    ("oxrec-style", _fill("education", "primary"), "'primary'"),
    ("oxrec-style", _fill("psychiatric_disorder", False), "False"),
    ("preselect-style", _fill("age_at_first_registration", 0), "0"),  # 'none' read as age 0
    ("ritax-style", _fill("finances_protective", 0), "0"),
]


@pytest.mark.parametrize(("instrument_id", "fill", "words"), MISSING_FAULTS)
def test_missing_values_handled_differently(instrument_id: str, fill: CaseEdit, words: str) -> None:
    cases = synthesize(instrument_id, N, seed=4)
    spec = raw_spec(instrument_id)
    correct, faulty = deployed(spec, cases), deployed(spec, fill(cases))
    result = verify(instrument_id, cases, faulty)
    first = result["diagnosis"][0]
    if first["fault"] != "missing_policy_different":
        # a missing *level* scored as a value has the same outputs as that level's weight
        # changed: the diagnosis names the weight and lists the missing policy as equivalent
        assert f"predictors.{fill.__name__}.missing" in first["equivalent"]
        fault = first["fault"]
    else:
        fault = "missing_policy_different"
        assert words in first["detail"]
    _check_measured(instrument_id, result, correct, faulty, fault)


def test_variant_chosen_by_the_wrong_field() -> None:
    cases = synthesize("oxrec-style", N, seed=5)
    rng = np.random.default_rng(5)
    population = cases.column("population").cast(pa.string()).to_pylist()
    intake = [
        p if rng.random() < 0.7 else rng.choice(["prisoner", "probationer"]) for p in population
    ]
    cases = cases.append_column("population_at_intake", pa.array(intake, pa.string()))
    spec = raw_spec("oxrec-style")
    as_deployed = cases.set_column(
        cases.column_names.index("population"), "population", pa.array(intake, pa.string())
    )
    correct, faulty = deployed(spec, cases), deployed(spec, as_deployed)
    result = verify("oxrec-style", cases, faulty)
    _check_measured("oxrec-style", result, correct, faulty, "variant_wrong_field")
    assert "population_at_intake" in result["diagnosis"][0]["detail"]


DERIVED = [
    "prior_suspect_registrations",
    "involved_party_registrations",
    "age_at_first_registration",
]


@pytest.mark.parametrize(
    ("exclude", "lookback", "words"),
    [([], 5, "disposition"), (["acquittal", "dismissed_wrongly_suspected"], None, "older than")],
)
def test_data_rules_not_applied(exclude: list[str], lookback: int | None, words: str) -> None:
    full = synthesize("preselect-style", N, seed=6)
    cases, events = full.drop_columns(DERIVED), synthesize_events(full, seed=6)
    spec = raw_spec("preselect-style")
    rules = spec["data_rules"]
    correct = deployed(
        spec,
        derived_predictors(cases, events, rules["exclude_dispositions"], rules["lookback_years"]),
    )
    faulty = deployed(spec, derived_predictors(cases, events, exclude, lookback))
    result = verify("preselect-style", cases, faulty, events=events)
    _check_measured("preselect-style", result, correct, faulty, "data_rules_not_applied")
    assert words in result["diagnosis"][0]["detail"]


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_a_correct_implementation_agrees(instrument_id: str) -> None:
    cases = synthesize(instrument_id, N, seed=7)
    events = None
    if instrument_id == "preselect-style":
        events = synthesize_events(cases, seed=7)
        cases = cases.drop_columns(DERIVED)
        spec = raw_spec(instrument_id)
        rules = spec["data_rules"]
        observed = deployed(
            spec,
            derived_predictors(
                cases, events, rules["exclude_dispositions"], rules["lookback_years"]
            ),
        )
    else:
        observed = deployed(raw_spec(instrument_id), cases)
    result = verify(instrument_id, cases, observed, events=events)
    assert result.agrees and result.exit_code == 0
    assert result["diagnosis"] == []
    for outcome in result["outcomes"].values():
        assert outcome["disagreement"]["k"] == 0 and outcome["disagreement"]["value"] == 0
        assert outcome["disagreement"]["n"] == N


def test_demo_implementation_has_both_inspection_faults() -> None:
    cases = synthesize("oxrec-style", N, seed=8)

    def edit(spec: dict) -> None:
        _swap(spec)
        _weight(*PRISONER_VIOLENT, "income", "low", value=0.55)(spec)

    spec, faulty_spec = raw_spec("oxrec-style"), planted("oxrec-style", edit)
    observed = demo_faulty_implementation(cases)
    independent = deployed(faulty_spec, cases)
    for o in spec["outcomes"]:
        assert not disagreeing(independent, observed, o["name"]).any()
    result = verify("oxrec-style", cases, observed)
    faults = [f["fault"] for f in result["diagnosis"]]
    assert faults == ["variant_swapped", "coefficient_wrong"]
    total = any_disagreeing(spec, deployed(spec, cases), independent)
    assert sum(f["explains_cases"] for f in result["diagnosis"]) == total
    assert result["diagnosis"][1]["evidence"]["estimate"] == pytest.approx(0.55)


def test_bands_only_still_find_the_weight() -> None:
    """With only the bands exported, the wrong weight is bracketed by the band constraints."""
    cases = synthesize("preselect-style", N, seed=9)
    edit = _weight("outcomes", "reoffending", "weights", "offence", "violence", value=0.9)
    faulty = deployed(planted("preselect-style", edit), cases).select(
        ["case_id", "band_reoffending"]
    )
    result = verify("preselect-style", cases, faulty)
    first = result["diagnosis"][0]
    assert first["fault"] == "coefficient_wrong" and first["explains_share"] == 1.0
    assert first["evidence"]["method"] == "bands"
    assert first["evidence"]["ci"][0] <= 0.9 < first["evidence"]["ci"][1]


def test_rounded_exports_with_a_tolerance() -> None:
    """Probabilities exported to 4 decimals: within the tolerance the weight is still found."""
    cases = synthesize("oxrec-style", N, seed=10)
    edit = _weight(*PRISONER_VIOLENT, "income", "low", value=0.55)
    faulty = deployed(planted("oxrec-style", edit), cases)
    for name in faulty.column_names:
        if name.startswith("probability_"):
            index = faulty.column_names.index(name)
            faulty = faulty.set_column(index, name, pc.round(faulty.column(name), 4))
    result = verify("oxrec-style", cases, faulty, tolerance=5e-5 + 1e-12)
    first = result["diagnosis"][0]
    assert first["fault"] == "coefficient_wrong"
    assert first["evidence"]["estimate"] == pytest.approx(0.55)
