"""The tree model kind: ordered rules, first match decides, unknowns scored as a range."""

from __future__ import annotations

from pathlib import Path

import pytest

from waarborg import score

TREE = Path(__file__).parent / "specs" / "tree-example.yaml"


@pytest.mark.parametrize(
    ("priors", "offence", "age", "band", "probability", "used"),
    [
        (7, "other", 16, "hoog", 0.6, {"priors"}),
        (5, "violence", 12, "hoog", 0.6, {"priors"}),
        (3, "violence", 16, "hoog", 0.5, {"priors", "offence"}),
        (2, "property", 16, "midden", 0.3, {"priors"}),
        (1, "property", 13, "midden", 0.25, {"age", "offence"}),
        (1, "other", 13, "laag", 0.1, set()),
        (0, "violence", 14, "laag", 0.1, set()),
    ],
)
def test_first_matching_rule_decides(
    priors: int, offence: str, age: int, band: str, probability: float, used: set[str]
) -> None:
    row = score(TREE, {"priors": [priors], "offence": [offence], "age": [age]}).to_pylist()[0]
    assert row["band_risk"] == band
    assert row["probability_risk"] == probability
    assert {p for p in ("priors", "offence", "age") if row[f"contribution_{p}"] == 1} == used


@pytest.mark.parametrize(
    ("offence", "age", "lowest", "highest"),
    [
        ("violence", 16, "laag", "hoog"),  # priors 0-1 → laag, 2-4 → hoog, 5+ → hoog
        ("property", 13, "midden", "hoog"),  # 0-1 → midden (age rule), 2-4 midden, 5+ hoog
        ("other", 16, "laag", "hoog"),
    ],
)
def test_unknown_priors_give_a_band_range(
    offence: str, age: int, lowest: str, highest: str
) -> None:
    row = score(TREE, {"priors": [None], "offence": [offence], "age": [age]}).to_pylist()[0]
    assert (row["band_risk_lowest"], row["band_risk_highest"]) == (lowest, highest)
    assert row["band_risk"] is None
    assert row["probability_risk"] is None
