"""Output control of cubes: suppression that margins cannot undo, rounding, honest flags."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.test_audit_cli import SCHEMA
from tests.test_audit_metrics import make_cases
from waarborg.audit import audit, build_cube, read_cube
from waarborg.audit.disclosure import Rules, export_cube, load_rules, suppress
from waarborg.cli import app
from waarborg.errors import DataError

ROLES = {"outcome": "y", "band": "band", "group": ["sex", "origin", "age"]}


@pytest.fixture(scope="module")
def cube():
    return build_cube(make_cases(20000, seed=4), **ROLES)


def test_no_suppressed_cell_is_derivable_from_margins(cube) -> None:
    keys = ["sex", "origin", "age", "y", "band"]
    frame = suppress(cube.table.to_pandas(), keys, "count", 10)
    assert frame["primary"].any() and (frame["suppressed"] & ~frame["primary"]).any()
    assert (frame.loc[frame["count"] < 10, "suppressed"]).all()
    for key in keys:  # each line (margin over `key`) has 0 or >= 2 suppressed cells
        others = [k for k in keys if k != key]
        per_line = frame.groupby(others)["suppressed"].sum()
        lone = per_line[per_line == 1]
        flagged = frame[frame["unprotected"]].groupby(others).size()
        assert set(lone.index) <= set(flagged.index), key


def test_export_rounds_records_rules_and_keeps_means(cube, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("min_frequency: 5\nrounding: {base: 5}\n")
    out = export_cube(cube, load_rules(rules_file))
    counts = np.array(out.table.column("count").to_pylist())
    assert (counts % 5 == 0).all() and (counts > 0).all()
    done = out.meta["disclosure"]
    assert done["rules"]["min_frequency"] == 5 and done["rules"]["rounding"]["base"] == 5
    assert done["published"] + done["suppressed"] >= done["cells"] - np.sum(counts == 0)
    path = out.write(tmp_path / "out.parquet")
    assert read_cube(path).meta["disclosure"] == done
    result = audit(path, select="hoog")
    jsonschema.validate(result.to_dict(), SCHEMA)  # the disclosure flag and ci_rounding
    flag = [f for f in result["flags"] if f["kind"] == "disclosure"]
    assert flag and "rounded to 5" in flag[0]["text_en"] and "afgerond op 5" in flag[0]["text_nl"]


def test_random_rounding_is_unbiased() -> None:
    cube = build_cube(pd.DataFrame({"g": np.repeat(np.arange(400), 13)}), group=["g"])
    totals = [
        sum(
            export_cube(cube, Rules(min_frequency=1, rounding={"method": "random"}, seed=s))
            .table.column("count")
            .to_pylist()
        )
        for s in range(20)
    ]
    assert abs(np.mean(totals) - 400 * 13) < 3 * np.std(totals) / np.sqrt(20) + 1


def test_bad_rules_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("min_frequency: 0\nrounding: {bse: 10}\n")
    with pytest.raises(DataError, match=r"rules\.yaml"):
        load_rules(path)


def test_cli_export(cube, tmp_path: Path) -> None:
    cube.write(tmp_path / "cube.parquet")
    result = CliRunner().invoke(
        app, ["cube", "export", str(tmp_path / "cube.parquet"), "-o", str(tmp_path / "o.parquet")]
    )
    assert result.exit_code == 0, result.output
    assert "suppressed" in result.output
    assert read_cube(tmp_path / "o.parquet").meta["disclosure"]["rules"]["min_frequency"] == 10
