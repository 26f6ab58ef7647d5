"""Conformance verification: planted faults are measured exactly and diagnosed first."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.reference import raw_spec
from waarborg import DataError, score
from waarborg.cli import app
from waarborg.instruments.engine import Instrument, output_columns, probability_column
from waarborg.instruments.spec import parse_spec
from waarborg.synth import synthesize, synthesize_events
from waarborg.verify import acceptance_vectors, verify

N = 3000
Mutation = Callable[[dict[str, Any]], None]


def _swap_variants(spec: dict) -> None:
    v = spec["model"]["variants"]
    v["prisoner"], v["probationer"] = v["probationer"], v["prisoner"]


def _weight(path: list[str], value: float) -> Mutation:
    def mutate(spec: dict) -> None:
        node = spec["model"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _drop_transform(name: str) -> Mutation:
    def mutate(spec: dict) -> None:
        next(p for p in spec["predictors"] if p["name"] == name)["transform"] = []

    return mutate


def _shift_bins(name: str, shift: float) -> Mutation:
    def mutate(spec: dict) -> None:
        bins = next(p for p in spec["predictors"] if p["name"] == name)["transform"][-1]["bins"]
        bins["edges"] = [e + shift for e in bins["edges"]]

    return mutate


def _cutoffs(outcome: str, cutoffs: list[float]) -> Mutation:
    def mutate(spec: dict) -> None:
        spec["bands"][outcome]["cutoffs"] = cutoffs

    return mutate


SPEC_FAULTS = [
    ("oxrec-style", "variant_swapped", _swap_variants),
    (
        "oxrec-style",
        "coefficient_wrong",
        _weight(["variants", "prisoner", "outcomes", "violent", "weights", "income", "low"], 0.55),
    ),
    ("oxrec-style", "transform_wrong", _drop_transform("neighbourhood_deprivation")),
    ("oxrec-style", "cutoffs_shifted", _cutoffs("violent", [0.12, 0.2])),
    (
        "preselect-style",
        "coefficient_wrong",
        _weight(["outcomes", "reoffending", "weights", "offence", "violence"], 0.6),
    ),
    ("preselect-style", "transform_wrong", _drop_transform("prior_suspect_registrations")),
    ("preselect-style", "transform_wrong", _shift_bins("age_at_first_registration", 1.0)),
    ("preselect-style", "cutoffs_shifted", _cutoffs("reoffending", [0.3, 0.5])),
    ("ritax-style", "cutoffs_shifted", _cutoffs("profile", [7, 14])),
    (
        "generic-selection",
        "coefficient_wrong",
        _weight(["outcomes", "selection", "weights", "distance_to_parents_km", "under_1km"], 3),
    ),
    ("generic-selection", "transform_wrong", _shift_bins("age", 1.0)),
    ("generic-selection", "cutoffs_shifted", _cutoffs("selection", [2, 4, 5, 7, 8])),
]


def _outputs(instrument: Any, cases: pa.Table, events: pa.Table | None = None) -> pa.Table:
    scored = score(instrument, cases, events=events)
    return scored.select(["case_id", *output_columns(scored)])


def _expected_disagreement(correct: pa.Table, faulty: pa.Table, outcome: str) -> int:
    """Cases whose band or any probability of the outcome differ, counted with pandas."""
    a, b = correct.to_pandas(), faulty.to_pandas()
    differs = pd.Series(False, index=a.index)
    for column in a.columns:
        if column == f"band_{outcome}":
            x, y = a[column].astype(object), b[column].astype(object)
            differs |= x.ne(y) & ~(x.isna() & y.isna())  # both without a band: agree
        elif column.startswith(f"probability_{outcome}_") or column == f"probability_{outcome}":
            gap = (a[column] - b[column]).abs()
            differs |= (gap > 1e-6) | (a[column].isna() != b[column].isna())
    return int(differs.sum())


@pytest.mark.parametrize(("instrument_id", "fault", "mutate"), SPEC_FAULTS)
def test_planted_spec_fault_is_measured_and_ranked_first(
    instrument_id: str, fault: str, mutate: Mutation
) -> None:
    spec = raw_spec(instrument_id)
    faulty_spec = copy.deepcopy(spec)
    mutate(faulty_spec)
    cases = synthesize(instrument_id, N, seed=3)
    correct = _outputs(instrument_id, cases)
    observed = _outputs(Instrument(parse_spec(faulty_spec)), cases)
    result = verify(instrument_id, cases, observed)
    assert not result.agrees and result.exit_code == 1
    for outcome in (o["name"] for o in spec["outcomes"]):
        got = result["outcomes"][outcome]["disagreement"]
        assert got["k"] == _expected_disagreement(correct, observed, outcome)
        assert got["n"] == N
        if f"band_{outcome}" in observed.column_names:
            a = correct.column(f"band_{outcome}").to_pylist()
            b = observed.column(f"band_{outcome}").to_pylist()
            moved = sum(
                x != y and x is not None and y is not None for x, y in zip(a, b, strict=True)
            )
            assert result["outcomes"][outcome]["band_disagreement"]["k"] == moved
    first = result["diagnosis"][0]
    assert first["fault"] == fault, result["diagnosis"]
    assert first["explains_share"] > 0.9


@pytest.mark.parametrize(
    ("instrument_id", "predictor", "value"),
    [("oxrec-style", "education", "primary"), ("ritax-style", "finances_protective", 0)],
)
def test_missing_values_handled_differently(instrument_id: str, predictor: str, value: Any) -> None:
    cases = synthesize(instrument_id, N, seed=4)
    column = cases.column(predictor)
    assert column.null_count > 0
    filled = cases.set_column(
        cases.column_names.index(predictor),
        predictor,
        column.fill_null(pa.scalar(value).cast(column.type)),
    )
    observed = _outputs(instrument_id, filled)
    result = verify(instrument_id, cases, observed)
    assert result["diagnosis"][0]["fault"] == "missing_policy_different"
    assert repr(value) in result["diagnosis"][0]["detail"]


def test_data_rules_not_applied() -> None:
    cases = synthesize("preselect-style", N, seed=5)
    events = synthesize_events(cases, seed=5)
    derived = [
        "prior_suspect_registrations",
        "involved_party_registrations",
        "age_at_first_registration",
    ]
    bare = cases.drop_columns(derived)
    spec = raw_spec("preselect-style")
    spec["data_rules"]["exclude_dispositions"] = []
    observed = _outputs(Instrument(parse_spec(spec)), bare, events)
    correct = _outputs("preselect-style", bare, events)
    result = verify("preselect-style", bare, observed, events=events)
    got = result["outcomes"]["reoffending"]["disagreement"]["k"]
    assert got == _expected_disagreement(correct, observed, "reoffending") > 0
    assert result["diagnosis"][0]["fault"] == "data_rules_not_applied"


def test_agreement_exit_zero_and_unmatched_ids_listed(tmp_path: Path) -> None:
    cases = synthesize("generic-selection", 200, seed=6)
    observed = _outputs("generic-selection", cases)
    assert verify("generic-selection", cases, observed).exit_code == 0
    fewer = observed.slice(0, 190)
    result = verify("generic-selection", cases, fewer)
    assert result["cases"]["only_in_cases"]["n"] == 10
    assert result["cases"]["only_in_cases"]["ids"] == cases.column("case_id").to_pylist()[190:]
    assert result.exit_code == 1


def test_column_and_label_mapping() -> None:
    cases = synthesize("generic-selection", 300, seed=7)
    observed = _outputs("generic-selection", cases)
    theirs = observed.rename_columns(["ID", "CAT"]).set_column(
        1,
        "CAT",
        pc.binary_join_element_wise("C", observed.column("band_selection").cast(pa.string()), ""),
    )
    result = verify(
        "generic-selection",
        cases.rename_columns([c if c != "case_id" else "ID" for c in cases.column_names]),
        theirs,
        id="ID",
        columns={"CAT": "band_selection"},
        band_labels={"selection": {f"C{i}": str(i) for i in range(1, 7)}},
    )
    assert result.agrees


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ("drop_id", "case_id", "id column is missing"),
        ("duplicate", "case_id", "occurs more than once"),
        ("bad_band", "band_selection", "unknown band 'X'"),
    ],
)
def test_bad_input_exits_two_and_names_the_column(
    tmp_path: Path, change: str, column: str, words: str
) -> None:
    cases = synthesize("generic-selection", 50, seed=8)
    observed = _outputs("generic-selection", cases).to_pandas()
    if change == "drop_id":
        observed = observed.drop(columns=["case_id"])
    elif change == "duplicate":
        observed.loc[5, "case_id"] = observed.loc[4, "case_id"]
    else:
        observed["band_selection"] = observed["band_selection"].astype(str)
        observed.loc[3, "band_selection"] = "X"
    with pytest.raises(DataError) as caught:
        verify("generic-selection", cases, observed)
    assert caught.value.column == column and words in str(caught.value)
    cases_file, observed_file = tmp_path / "cases.parquet", tmp_path / "observed.csv"
    pq.write_table(cases, cases_file)
    observed.to_csv(observed_file, index=False)
    out = tmp_path / "v.json"
    run = CliRunner().invoke(
        app,
        ["verify", "generic-selection", str(cases_file), str(observed_file), "--json", str(out)],
    )
    assert run.exit_code == 2
    assert column in run.stderr and not out.exists()


def test_vectors_cover_levels_and_both_sides_of_every_cutoff(instrument_id: str) -> None:
    spec = raw_spec(instrument_id)
    vectors = acceptance_vectors(instrument_id)
    rows = vectors.to_pylist()
    for p in spec["predictors"]:
        if p["type"] == "categorical":
            assert set(p["levels"]) <= {r[p["name"]] for r in rows}
    scored = score(instrument_id, vectors)
    for outcome in spec["outcomes"]:
        band = spec["bands"][outcome["name"]]
        name = outcome["name"]
        column = (
            f"score_{name}"
            if band["quantity"] == "score"
            else probability_column(
                name, band.get("horizon") or (outcome.get("horizons") or [None])[0]
            )
        )
        q = np.asarray(scored.column(column).to_numpy(), dtype=float)
        for cutoff in band["cutoffs"]:
            assert (q < cutoff).any() and (q >= cutoff).any()


def test_vectors_are_the_acceptance_test(tmp_path: Path) -> None:
    vectors = acceptance_vectors("oxrec-style")
    supplier = _outputs("oxrec-style", vectors)
    assert verify("oxrec-style", vectors, supplier).agrees
    spec = raw_spec("oxrec-style")
    _swap_variants(spec)
    wrong = _outputs(Instrument(parse_spec(spec)), vectors)
    result = verify("oxrec-style", vectors, wrong)
    assert not result.agrees
    assert result["diagnosis"][0]["fault"] == "variant_swapped"


@pytest.mark.parametrize(
    ("lang", "heading"), [("en", "Likely causes"), ("nl", "Waarschijnlijke oorzaken")]
)
def test_html_report_is_self_contained_and_leads_with_the_diagnosis(
    lang: str, heading: str
) -> None:
    cases = synthesize("oxrec-style", 800, seed=9)
    spec = raw_spec("oxrec-style")
    _swap_variants(spec)
    result = verify("oxrec-style", cases, _outputs(Instrument(parse_spec(spec)), cases))
    html = result.to_html(lang)
    assert f'<html lang="{lang}">' in html
    assert html.index(heading) < html.index("<table")
    key = "detail_nl" if lang == "nl" else "detail"
    assert result["diagnosis"][0][key].replace("'", "&#39;") in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
