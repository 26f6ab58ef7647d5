"""Proxy analysis: association with protected attributes, and neutralising a predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats.contingency import association
from sklearn.metrics import roc_auc_score

from tests.reference import raw_spec, score_case
from waarborg import score
from waarborg.audit import audit, build_cube
from waarborg.audit.proxies import proxy_analysis
from waarborg.synth import synthesize


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return synthesize("preselect-style", 4000, seed=5)


@pytest.fixture(scope="module")
def analysis(cohort: pa.Table) -> dict:
    return proxy_analysis(cohort, "preselect-style", group=["migration_background"])


def test_cramers_v_and_auc_match_scipy_and_sklearn(cohort: pa.Table, analysis: dict) -> None:
    scored = score("preselect-style", cohort)
    frame = pd.DataFrame(
        {
            "c": scored.column("contribution_offence").to_numpy(),
            "g": cohort.column("migration_background").to_pylist(),
        }
    )
    expected_v = association(pd.crosstab(frame["c"], frame["g"]).to_numpy(), method="cramer")
    got = analysis["association"]["offence"]["migration_background"]
    assert got["cramers_v"]["value"] == pytest.approx(expected_v, rel=1e-9)
    low, high = got["cramers_v"]["ci"]
    assert low <= expected_v <= high
    reference = analysis["reference"]["migration_background"]
    assert reference == frame["g"].value_counts().idxmax()
    for name, auc in got["auc"].items():
        pair = frame[frame["g"].isin([name, reference])]
        expected = roc_auc_score(pair["g"] == name, pair["c"])
        assert auc["value"] == pytest.approx(expected, rel=1e-9)
        assert auc["n"] == len(pair)


def test_neutralised_selection_matches_reference_implementation(
    cohort: pa.Table, analysis: dict
) -> None:
    spec = raw_spec("preselect-style")
    names = [p["name"] for p in spec["predictors"]]
    rows = cohort.select([*names, "migration_background"]).to_pylist()
    mean = float(np.mean([r["prior_suspect_registrations"] for r in rows]))
    selected = []
    for r in rows:
        case = {n: r[n] for n in names} | {"prior_suspect_registrations": mean}
        selected.append(score_case(spec, case)["band_reoffending"] == "hoog")
    frame = pd.DataFrame({"g": [r["migration_background"] for r in rows], "s": selected})
    expected = frame.groupby("g")["s"].mean()
    after = analysis["neutralised"]["prior_suspect_registrations"]["migration_background"]
    for name, rate in expected.items():
        assert after[name]["selection_rate"]["after"]["value"] == pytest.approx(rate, abs=1e-12)


def test_a_predictor_that_carries_the_whole_selection_is_named() -> None:
    n = 400
    data = {
        "education_type": ["mbo"] * n,
        "age": [19] * n,
        # group b lives next to the parents (4 points → 9 in total, category 6),
        # group a far away (0 points → 5, category 4)
        "distance_to_parents_km": [50.0] * (n // 2) + [0.5] * (n // 2),
        "origin": ["a"] * (n // 2) + ["b"] * (n // 2),
    }
    result = proxy_analysis(data, "generic-selection", group=["origin"])
    texts = " ".join(v["text_en"] for v in result["verdicts"])
    assert "'distance_to_parents_km'" in texts and "nobody" in texts
    v = result["association"]["distance_to_parents_km"]["origin"]["cramers_v"]["value"]
    assert v == pytest.approx(1.0)


def test_audit_adds_proxies_when_given_the_instrument(cohort: pa.Table) -> None:
    scored = score("preselect-style", cohort)
    table = cohort.append_column("band", scored.column("band_reoffending"))
    result = audit(
        table,
        band="band",
        select="hoog",
        group="migration_background",
        instrument="preselect-style",
    )
    assert set(result["proxies"]["association"]) == {
        p["name"] for p in raw_spec("preselect-style")["predictors"]
    }
    cube = build_cube(table, band="band", select="hoog", group=["migration_background"])
    from_cube = audit(cube.to_arrow(), group="migration_background", instrument="preselect-style")
    assert "proxies" not in from_cube.to_dict()
    assert any("not a cube" in f.get("text_en", "") for f in from_cube["flags"])
