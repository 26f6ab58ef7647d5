"""The count cube: every form of the same data gives the same cube and the same audit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_audit_metrics import make_cases
from waarborg.audit import audit, build_cube, cube, inputs, merge, read_cube
from waarborg.audit.cube import is_cube
from waarborg.errors import DataError

ROLES: dict[str, Any] = {
    "score": "p",
    "outcome": "y",
    "band": "band",
    "group": ["sex", "origin", "age"],
}
OPTIONS: dict[str, Any] = ROLES | {"select": "hoog", "intersections": True}
KEYS = ["sex", "origin", "age", "y", "band", "p"]


def leaves(d: Any, path: str = "") -> dict[str, Any]:
    """Numeric (and null) leaves of a result by path; words are left out."""
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            if path == "" and k in ("provenance", "inputs"):
                continue
            out |= leaves(v, f"{path}.{k}")
        return out
    if isinstance(d, list):
        out = {}
        for i, v in enumerate(d):
            out |= leaves(v, f"{path}[{i}]")
        return out
    if d is None or isinstance(d, bool | int | float):
        return {path: d}
    return {}


def assert_same(a: dict, b: dict) -> None:
    la, lb = leaves(a), leaves(b)
    assert la.keys() == lb.keys()
    for path, x in la.items():
        y = lb[path]
        if isinstance(x, float) or isinstance(y, float):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-12), path
        else:
            assert x == y, path


def aggregate(df: pd.DataFrame) -> pd.DataFrame:
    return df.groupby(KEYS, as_index=False).size().rename(columns={"size": "n"})


def sorted_cube(c: cube.Cube) -> pd.DataFrame:
    table = cube.decoded(c.table).to_pandas()
    keys = [*c.roles.groups, c.roles.outcome, c.roles.band, c.roles.score]
    return table.sort_values(keys).reset_index(drop=True)


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return make_cases(4000, seed=1)


@pytest.fixture(scope="module")
def expected(cases: pd.DataFrame) -> dict:
    return audit(cases, **OPTIONS).to_dict()


@pytest.mark.parametrize("form", ["polars", "pyarrow", "csv", "parquet", "aggregated", "cube"])
def test_every_input_form_gives_the_same_audit(
    cases: pd.DataFrame, expected: dict, form: str, tmp_path: Path
) -> None:
    options = dict(OPTIONS)
    data: Any
    if form == "polars":
        data = pl.from_pandas(cases)
    elif form == "pyarrow":
        data = pa.Table.from_pandas(cases)
    elif form == "csv":
        data = tmp_path / "cases.csv"
        cases.to_csv(data, index=False)
    elif form == "parquet":
        data = tmp_path / "cases.parquet"
        cases.to_parquet(data)
    elif form == "aggregated":
        data, options["count"] = aggregate(cases), "n"
    else:
        data = tmp_path / "cube.parquet"
        build_cube(cases, **ROLES).write(data)
        assert is_cube(data)
    got = audit(data, **options).to_dict()
    assert_same(got, expected)
    assert got["provenance"]["data_fingerprint"] == expected["provenance"]["data_fingerprint"]


def test_aggregated_continuous_scores_get_the_same_quantile_bins() -> None:
    df = make_cases(6000, seed=2, continuous=True)
    rows = audit(df, **OPTIONS).to_dict()
    counts = audit(aggregate(df), count="n", **OPTIONS).to_dict()
    assert rows["provenance"]["score_binning"]["method"] == "quantile"
    assert_same(rows, counts)


def test_rows_with_count_zero_are_no_cases(cases: pd.DataFrame) -> None:
    agg = aggregate(cases)
    ghost = agg.iloc[:3].assign(n=0, p=[0.0, 1.0, 0.999], sex="ghost")
    with_ghosts = pd.concat([agg, ghost], ignore_index=True)
    a = audit(agg, count="n", **OPTIONS).to_dict()
    b = audit(with_ghosts, count="n", **OPTIONS).to_dict()
    assert_same(a, b)
    assert "ghost" not in b["groups"]["sex"]


@pytest.mark.parametrize("counts", [None, [0, 0]])
def test_no_cases_give_an_empty_cube(counts: list[int] | None) -> None:
    rows = pa.table({"g": ["a", "b"], "y": [1, 0], "n": counts or [1, 1]})
    if counts is None:
        rows = rows.slice(0, 0)
    built = build_cube(rows, group=["g"], outcome="y", count="n")
    assert built.n == 0 and built.table.num_rows == 0
    assert cube.decoded(built.table).column_names == ["g", "y", "count"]


def test_labels_are_dictionary_columns_in_process_and_strings_in_the_file(
    cases: pd.DataFrame, tmp_path: Path
) -> None:
    frame = cases.assign(sex=pd.Categorical(cases["sex"], categories=["ghost", "female", "male"]))
    built = build_cube(frame, **ROLES)
    for name in ("sex", "origin", "age", "band"):
        assert pa.types.is_dictionary(built.table.schema.field(name).type), name
    want = aggregate(cases).sort_values(KEYS).reset_index(drop=True)
    got = sorted_cube(built)
    assert got[KEYS].astype(str).values.tolist() == want[KEYS].astype(str).values.tolist()
    assert got["count"].tolist() == want["n"].tolist()
    back = read_cube(built.write(tmp_path / "cube.parquet"))
    assert all(not pa.types.is_dictionary(t) for t in back.table.schema.types)
    assert back.table.equals(cube.decoded(built.table))
    assert "ghost" not in back.table.column("sex").to_pylist()


def test_merging_halves_equals_the_whole(
    cases: pd.DataFrame, expected: dict, tmp_path: Path
) -> None:
    whole = build_cube(cases, **ROLES)
    a, b = build_cube(cases.iloc[:1500], **ROLES), build_cube(cases.iloc[1500:], **ROLES)
    merged = merge(a, b)
    pd.testing.assert_frame_equal(sorted_cube(merged), sorted_cube(whole), check_dtype=False)
    a.write(tmp_path / "a.parquet")
    b.write(tmp_path / "b.parquet")
    got = audit([tmp_path / "a.parquet", tmp_path / "b.parquet"], **OPTIONS).to_dict()
    assert_same(got, expected)


def test_merging_differently_binned_cubes_is_flagged() -> None:
    df = make_cases(4000, seed=3, continuous=True)
    merged = merge(build_cube(df.iloc[:2000], **ROLES), build_cube(df.iloc[2000:], **ROLES))
    assert merged.n == len(df) and merged.meta["binning"] == "mixed"
    res = audit(merged.to_arrow(), **OPTIONS).to_dict()
    assert any(f["kind"] == "mixed_bins" for f in res["flags"])
    whole = audit(df, **OPTIONS).to_dict()
    assert res["groups"]["sex"]["male"]["fpr"] == whole["groups"]["sex"]["male"]["fpr"]


def test_several_row_files_are_one_data_set(tmp_path: Path) -> None:
    df = make_cases(5000, seed=4, continuous=True)
    df.iloc[:2000].to_parquet(tmp_path / "a.parquet")
    df.iloc[2000:].to_csv(tmp_path / "b.csv", index=False)
    both = build_cube([tmp_path / "a.parquet", tmp_path / "b.csv"], **ROLES)
    whole = build_cube(df, **ROLES)
    assert both.meta["binning"] == "quantile"
    pd.testing.assert_frame_equal(
        sorted_cube(both), sorted_cube(whole), check_exact=False, rtol=1e-12
    )


def test_batches_row_groups_and_key_compaction_do_not_change_the_cube(
    cases: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.parquet"
    pq.write_table(pa.Table.from_pandas(cases), path, row_group_size=300)
    reference = sorted_cube(build_cube(cases, **ROLES))
    monkeypatch.setattr(inputs, "_BATCH", 1000)
    monkeypatch.setattr(cube, "_KEY_LIMIT", 64)
    for data in (cases, path):
        pd.testing.assert_frame_equal(
            sorted_cube(build_cube(data, **ROLES)), reference, check_dtype=False
        )


def test_exact_bins_include_values_first_seen_in_later_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    values = rng.choice(np.round(np.linspace(0.01, 0.99, 60), 4), 3000)
    values[2990:] = [0.005, 0.995, 0.5001, 0.5002, 0.5003, 0.5004, 0.5005, 0.5006, 0.5007, 0.3]
    monkeypatch.setattr(inputs, "_BATCH", 100)
    c = build_cube(pa.table({"g": ["a"] * 3000, "s": values}), group=["g"], score="s")
    assert c.meta["binning"] == "exact"
    assert sorted(c.table.column("s").to_pylist()) == sorted(np.unique(values).tolist())


def test_values_closer_than_the_fine_grid_stay_apart() -> None:
    values = [0.0, 1e-12, 0.5, 1.0] * 5
    c = build_cube(pa.table({"g": ["a"] * 20, "s": values}), group=["g"], score="s")
    assert c.meta["binning"] == "exact"
    assert sorted(c.table.column("s").to_pylist()) == [0.0, 1e-12, 0.5, 1.0]
    assert c.table.column("count").to_pylist() == [5, 5, 5, 5]


def test_quantile_bins_hold_about_equal_numbers_of_cases() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(0, 2, 50_000)  # skewed, long tail
    c = build_cube(
        pa.table({"s": values, "y": rng.integers(0, 2, 50_000)}), score="s", outcome="y", n_bins=100
    )
    per_bin = c.table.group_by("s").aggregate([("count", "sum")]).column("count_sum").to_numpy()
    assert c.meta["binning"] == "quantile" and 90 <= per_bin.size <= 100
    assert per_bin.min() > 0.6 * 500 and per_bin.max() < 1.4 * 500
    total = c.table.column("score_sum").to_numpy().sum()
    assert total == pytest.approx(values.sum(), rel=1e-12)  # sums stay exact


def test_cube_file_carries_its_roles(cases: pd.DataFrame, tmp_path: Path) -> None:
    c = build_cube(cases, select=["hoog"], **ROLES)
    path = c.write(tmp_path / "c.parquet")
    back = read_cube(path)
    assert back.roles == c.roles
    assert back.meta["select"] == ["hoog"] and back.n == len(cases)
    with pytest.raises(DataError, match="parquet"):
        c.write(tmp_path / "c.csv")
    with pytest.raises(DataError, match="not a waarborg cube"):
        cases.to_parquet(tmp_path / "rows.parquet")
        read_cube(tmp_path / "rows.parquet")


def test_a_cube_audits_a_subset_of_its_attributes(cases: pd.DataFrame) -> None:
    c = build_cube(cases, **ROLES).to_arrow()
    got = audit(c, group=["origin"], select="hoog").to_dict()
    want = audit(cases, **(ROLES | {"group": ["origin"], "select": "hoog"})).to_dict()
    assert_same(got, want)


# --------------------------------------------------------------------------- bad input


def _error(data: Any, **options: Any) -> DataError:
    with pytest.raises(DataError) as info:
        audit(data, **options)
    return info.value


def test_missing_column_is_named(cases: pd.DataFrame) -> None:
    err = _error(cases, outcome="reoffended", group=["sex"])
    assert err.column == "reoffended" and "missing column" in str(err)


def test_non_binary_outcome_names_row_and_column(cases: pd.DataFrame, tmp_path: Path) -> None:
    bad = cases.copy()
    bad.loc[7, "y"] = 2
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    err = _error(path, outcome="y", group=["sex"])
    assert (err.column, err.row, err.source) == ("y", 8, str(path))
    assert "0/1" in str(err)
    err = _error(cases.assign(y=np.where(cases.y == 1, "yes", "no")), outcome="y")
    assert err.column == "y"


def test_missing_values_name_the_row(
    cases: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = cases.copy()
    bad.loc[2500, "origin"] = None
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pandas(bad), path, row_group_size=1000)
    monkeypatch.setattr(inputs, "_BATCH", 1000)
    err = _error(path, group=["origin"], outcome="y")
    assert (err.column, err.row) == ("origin", 2501)


@pytest.mark.parametrize(
    ("change", "column"),
    [({"p": np.inf}, "p"), ({"n": -1}, "n"), ({"n": 1.5}, "n")],
)
def test_bad_numbers(cases: pd.DataFrame, change: dict, column: str) -> None:
    agg = aggregate(cases)
    agg["n"] = agg["n"].astype(float)
    for key, value in change.items():
        agg.loc[3, key] = value
    err = _error(agg, count="n", score="p", group=["sex"])
    assert (err.column, err.row) == (column, 4)


def _with_nan_group(n: int = 200) -> pa.Table:
    """A float group column (e.g. an income class) holding a NaN at rows 37 and 120."""
    g = np.tile([1.0, 2.0, 3.0, 4.0], n // 4)
    g[[36, 119]] = np.nan
    return pa.table({"g": g, "y": np.tile([0, 1], n // 2), "p": np.linspace(0, 1, n)})


@pytest.mark.parametrize("form", ["parquet", "polars", "pyarrow"])
def test_nan_in_a_float_group_column_is_a_missing_value(form: str, tmp_path: Path) -> None:
    table = _with_nan_group()
    data: Any = table
    if form == "parquet":
        data = tmp_path / "nan.parquet"
        pq.write_table(table, data)
    elif form == "polars":
        data = pl.from_arrow(table)
        assert data["g"].is_nan().sum() == 2  # polars keeps the NaN (pandas would null it)
    err = _error(data, outcome="y", score="p", group=["g"])
    assert (err.column, err.row) == ("g", 37)
    assert err.source == (str(data) if form == "parquet" else "<table>")
    assert "missing value" in str(err) and "(2 rows)" in str(err)


def test_nan_and_null_together_count_as_missing_from_the_first() -> None:
    table = _with_nan_group()
    g = table.column("g").to_pylist()
    g[10] = None
    err = _error(table.set_column(0, "g", pa.array(g, pa.float64())), outcome="y", group=["g"])
    assert (err.column, err.row) == ("g", 11) and "(3 rows)" in str(err)


def test_unknown_band_in_select(cases: pd.DataFrame) -> None:
    err = _error(cases, band="band", select="hoog,extreem", group=["sex"])
    assert err.column == "band" and "'extreem'" in str(err)


def test_unknown_reference_group_or_attribute(cases: pd.DataFrame) -> None:
    err = _error(cases, band="band", select="hoog", group=["origin"], reference=["origin=mars"])
    assert err.column == "origin" and "'mars'" in str(err)
    err = _error(cases, band="band", select="hoog", group=["origin"], reference={"planet": "mars"})
    assert err.column == "planet"


def test_cube_roles_must_match(cases: pd.DataFrame) -> None:
    c = build_cube(cases, **ROLES).to_arrow()
    assert _error(c, group=["income"]).column == "income"
    assert _error(c, outcome="other").column == "other"


# --------------------------------------------------------------------------- bands


def _band_order(labels: list[Any], **options: Any) -> tuple[list[str], str | None]:
    n = 60 * len(labels)
    y = np.tile([0, 1, 1], n // 3)
    band = np.repeat(labels, 60)
    cells = build_cube(
        pa.table({"b": band, "y": y, **options.pop("extra", {})}), outcome="y", band="b", **options
    ).cells()
    return cells.band_labels, cells.band_order_source


def test_band_order_is_found() -> None:
    assert _band_order([10, 2, 1]) == (["1", "2", "10"], "numeric")
    assert _band_order(["Hoog", "laag", "midden"]) == (["laag", "midden", "Hoog"], "known scale")
    assert _band_order(["b", "a"], band_order=["b", "a"]) == (["b", "a"], "given")
    scores = {"s": np.repeat([0.9, 0.1], 60)}
    assert _band_order(["x", "y"], extra=scores, score="s") == (["y", "x"], "mean score")
    assert _band_order(["x", "y"])[1] is None


def test_unknown_band_order_skips_the_band_auc() -> None:
    data = pa.table({"b": ["x", "y"] * 50, "y": [0, 1] * 50, "g": ["a"] * 100})
    res = audit(data, outcome="y", band="b", select="y", group="g").to_dict()
    assert "auc" not in res["validity"]
    assert any("order of the bands" in f["text_en"] for f in res["flags"])
    assert not math.isnan(res["groups"]["g"]["a"]["selection_rate"]["value"])


def test_a_cube_object_audits_as_its_file(cases: pd.DataFrame, tmp_path: Path) -> None:
    built = build_cube(cases, **ROLES)
    path = built.write(tmp_path / "cube.parquet")
    assert is_cube(built)
    got, want = audit(built, **OPTIONS).to_dict(), audit(path, **OPTIONS).to_dict()
    assert_same(got, want)
    assert got["provenance"]["data_fingerprint"] == want["provenance"]["data_fingerprint"]
    with pytest.raises(DataError) as info:
        audit(built, count="n", **OPTIONS)
    assert info.value.source == "<cube>" and "carries its own counts" in info.value.reason
