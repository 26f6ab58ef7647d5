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


@pytest.mark.slow
@pytest.mark.parametrize("method", ["nearest", "random"])
def test_rounded_tables_give_intervals_that_hold_the_unrounded_estimate(method: str) -> None:
    """Simulation: 10 data sets, cubes rounded to 10, audited; every group rate's widened
    interval contains the estimate from the unrounded data (rate: 100%, as the box of
    possible true counts guarantees), and contains the unwidened interval."""
    rules = Rules(min_frequency=1, rounding={"base": 10, "method": method})
    held = wider = total = 0
    for seed in range(10):
        cube = build_cube(make_cases(1500, seed=100 + seed), **ROLES, select="hoog")
        truth = audit(cube.to_arrow(), select="hoog").to_dict()
        rounded = export_cube(cube, rules.model_copy(update={"seed": seed}))
        got = audit(rounded.to_arrow(), select="hoog").to_dict()
        plain = audit(_without_disclosure(rounded), select="hoog").to_dict()
        for attribute, groups in truth["groups"].items():
            for group, entries in groups.items():
                for metric in ("selection_rate", "base_rate", "tpr", "fpr", "ppv"):
                    value = entries[metric]["value"]
                    if value is None or group not in got["groups"][attribute]:
                        continue
                    low, high = got["groups"][attribute][group][metric]["ci"]
                    p_low, p_high = plain["groups"][attribute][group][metric]["ci"]
                    total += 1
                    held += low <= value <= high
                    wider += low <= p_low and p_high <= high
    assert total > 300
    assert held == total
    assert wider == total
    assert any(f["kind"] == "disclosure" for f in got["flags"])
    assert got["groups"]["sex"]["male"]["selection_rate"]["ci_rounding"] is True


def _without_disclosure(cube):
    from waarborg.audit.cube import Cube

    meta = {k: v for k, v in cube.meta.items() if k != "disclosure"}
    return Cube(cube.table, cube.roles, meta).to_arrow()
