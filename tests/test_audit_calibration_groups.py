"""Calibration by group: each group's band table, and its plot in the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from waarborg.audit import audit


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n = 6000
    p = rng.uniform(0.02, 0.6, n)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    lift = np.where(group == "b", 1.3, 1.0)  # planted: under-predicted for group b
    return pd.DataFrame(
        {
            "p": p,
            "y": (rng.random(n) < np.minimum(p * lift, 1)).astype(int),
            "band": np.select([p < 0.2, p < 0.4], ["laag", "midden"], "hoog"),
            "g": group,
        }
    )


def test_calibration_groups_match_pandas(frame: pd.DataFrame) -> None:
    result = audit(frame, score="p", outcome="y", band="band", select="hoog", group="g")
    tables = result["validity"]["calibration_groups"]["g"]
    for (group, band), part in frame.groupby(["g", "band"]):
        row = next(r for r in tables[group] if r["label"] == band)
        assert row["n"] == len(part)
        assert row["observed"] == part["y"].sum()
        assert row["expected"] == pytest.approx(part["p"].sum(), rel=1e-9)
    # the planted under-prediction shows: O/E above 1 for b in every band, CI excluding 1
    assert all(r["oe"]["ci"][0] > 1 for r in tables["b"] if r["label"] != "laag")


def test_report_plots_calibration_by_group(frame: pd.DataFrame) -> None:
    result = audit(frame, score="p", outcome="y", band="band", select="hoog", group="g")
    html = result.to_html("en")
    assert 'id="fig-calibration-groups"' in html
    assert "Calibration per group is not part of the audit result" not in html


def test_count_option_on_a_cube_is_an_error(frame: pd.DataFrame) -> None:
    from waarborg import DataError
    from waarborg.audit import build_cube

    cube = build_cube(frame, outcome="y", band="band", select="hoog", group=["g"])
    with pytest.raises(DataError, match="carries its own counts"):
        audit(cube.to_arrow(), group="g", count="count")
