"""The demo's selectivity report finds the student-grant case's planted disparity (issue 15).

The synthetic cohort (:mod:`waarborg.synth.selection`) selects non-Western students about
twice as often as Dutch students at an equal true irregularity rate. The report, from
the selected cases and a 2% random reference sample drawn with the service's draw
function, must find both: the selection ratio's interval contains the ratio computed
from the full cohort, and each group's prevalence interval contains its true rate in the
full cohort.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from waarborg.demo import (
    REFERENCE_SHARE,
    SELECTIVITY_INSTRUMENT,
    DemoRun,
    demo_draw_seed,
    reference_selection_table,
)
from waarborg.instruments.engine import load_instrument
from waarborg.selectivity.draws import draw_value


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, Path]:
    folder = tmp_path_factory.mktemp("demo")
    run = DemoRun(folder, n=100_000, seed=2026)
    run._score_instrument(SELECTIVITY_INSTRUMENT)
    run._selectivity()
    return run, folder / SELECTIVITY_INSTRUMENT


def _within(ci: list[float], value: float) -> bool:
    return ci[0] <= value <= ci[1]


def test_the_report_finds_the_planted_disparity_with_the_right_size(
    demo: tuple[DemoRun, Path],
) -> None:
    _, folder = demo
    result = json.loads((folder / "selectivity.json").read_text("utf-8"))
    cases = pq.read_table(folder / "cases.parquet").to_pandas()
    scored = pq.read_table(folder / "scores.parquet").to_pandas()
    inst = load_instrument(SELECTIVITY_INSTRUMENT)
    selected_bands = inst.spec.bands["selection"].selected_labels
    cases["selected"] = scored["band_selection"].isin(selected_bands)
    full = cases.groupby("migration_background", observed=True).agg(
        selected=("selected", "mean"), truth=("outcome_selection", "mean")
    )
    groups = result["by_group"]["migration_background"]
    assert groups["dutch"]["reference"]
    ratio = groups["non_western"]["selection_ratio"]
    true_ratio = full.loc["non_western", "selected"] / full.loc["dutch", "selected"]
    assert 1.8 < true_ratio < 2.4  # the planted size (MECHANISMS: 2.06)
    assert _within(ratio["ci"], true_ratio) and ratio["ci"][0] > 1.5
    for group in ("dutch", "non_western"):
        assert _within(groups[group]["prevalence"]["ci"], full.loc[group, "truth"]), group
    true_gap = full.loc["non_western", "truth"] - full.loc["dutch", "truth"]
    assert abs(true_gap) < 0.01  # equal true rates, as planted
    assert _within(groups["non_western"]["prevalence_difference"]["ci"], true_gap)
    assert result["design"]["reference_share"]["given"] == REFERENCE_SHARE
    assert 1700 < result["design"]["n_reference"] < 2300  # 2% of 100,000


def test_the_demo_draws_as_the_service_does_and_writes_both_languages(
    demo: tuple[DemoRun, Path],
) -> None:
    run, folder = demo
    inst = load_instrument(SELECTIVITY_INSTRUMENT)
    cases = pq.read_table(folder / "cases.parquet")
    scored = pq.read_table(folder / "scores.parquet")
    seed = demo_draw_seed(run.seed)
    table = reference_selection_table(inst, cases, scored, seed)
    for i in (0, 1, 77, table.num_rows - 1):
        case_id = table["case_id"][i].as_py()
        assert table["reference"][i].as_py() == (draw_value(seed, case_id) < REFERENCE_SHARE)
    checked = np.asarray(table["selected"]) | np.asarray(table["reference"])
    assert (np.asarray(table["outcome"].is_valid()) == checked).all()
    nl = (folder / "selectivity-nl.html").read_text("utf-8")
    en = (folder / "selectivity-en.html").read_text("utf-8")
    assert '<html lang="nl">' in nl and '<html lang="en">' in en
    assert run.summary[SELECTIVITY_INSTRUMENT]["selectivity"]["reference_cases"] > 1000
