"""The top-level Python API names what the README and the issues promise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import waarborg
from waarborg.audit import build_cube
from waarborg.errors import DataError
from waarborg.synth import synthesize


def test_audit_and_verify_are_callable_from_the_package() -> None:
    frame = pd.DataFrame({"sex": ["f", "m"] * 50, "sel": [0, 1, 1, 0] * 25})
    result = waarborg.audit(frame, selected="sel", group="sex")
    assert result["groups"]["sex"]["m"]["selection_rate"]["value"] == 0.5
    cases = synthesize("generic-selection", 100, seed=1)
    outputs = waarborg.score("generic-selection", cases).select(["case_id", "band_selection"])
    assert waarborg.verify("generic-selection", cases, outputs).agrees
    assert {"audit", "verify", "score", "load_instrument"} <= set(waarborg.__all__)


@pytest.mark.parametrize(
    ("counts", "said"), [(None, "the data has no rows"), ([0, 0], "the data has no cases")]
)
def test_data_without_cases_is_a_data_error_naming_the_source(
    tmp_path: Path, counts: list[int] | None, said: str
) -> None:
    rows = pa.table({"p": [0.2, 0.7], "y": [0, 1], "sex": ["f", "m"], "n": counts or [1, 1]})
    if counts is None:
        rows = rows.slice(0, 0)
    path = tmp_path / "empty.parquet"
    pq.write_table(rows, path)
    roles = {"score": "p", "outcome": "y", "group": "sex", "count": "n" if counts else None}
    for data in (rows, path):
        with pytest.raises(DataError) as info:
            waarborg.audit(data, **roles)
        assert info.value.reason == said
        assert info.value.source == (str(path) if data is path else "<table>")


def test_a_cube_without_cases_is_a_data_error(tmp_path: Path) -> None:
    empty = pa.table({"sex": ["f"], "y": [1], "n": [0]})
    cube = build_cube(empty, group=["sex"], outcome="y", count="n")
    path = cube.write(tmp_path / "cube.parquet")
    for data in (cube, path):
        with pytest.raises(DataError, match="the data has no cases"):
            waarborg.audit(data, group="sex", outcome="y")
