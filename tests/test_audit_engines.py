"""Every engine builds the same cube and the same audit as the in-process one.

DuckDB runs in-process; PostgreSQL is the CI server (a schema per test, dropped after;
a failure, not a skip, when CI=true and it is unreachable); Spark runs in local mode
(one session for the module; tests/test_audit_spark.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.service.conftest import postgres_server  # noqa: F401  (fixture)
from tests.test_audit_cube import assert_same
from tests.test_audit_metrics import make_cases
from waarborg.audit import audit, build_cube
from waarborg.audit.cube import Cube, decoded
from waarborg.audit.engines import choose_engine
from waarborg.errors import DataError

ROLES: dict[str, Any] = {"score": "p", "outcome": "y", "band": "band", "group": ["sex", "origin"]}
OPTIONS: dict[str, Any] = ROLES | {"select": "hoog", "intersections": True}


def engine_cases(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Cases with a continuous score, a lump of identical scores (a crowded grid cell
    that the binning splits) and a whole-number group attribute."""
    df = make_cases(n, seed=seed, continuous=True)
    df.loc[df.index[: n // 5], "p"] = 0.25  # one value for a fifth of the cases
    df["region"] = np.random.default_rng(seed).integers(1, 4, n)
    return df


def sorted_table(cube: Cube) -> pd.DataFrame:
    table = decoded(cube.table).to_pandas()
    keys = [c for c in table.columns if c not in (cube.count_column, *cube.sum_columns)]
    return table.sort_values(keys).reset_index(drop=True)


def assert_same_cube(got: Cube, want: Cube) -> None:
    """Keys and counts exactly, score sums to 1e-12 (relative)."""
    a, b = sorted_table(got), sorted_table(want)
    assert list(a.columns) == list(b.columns)
    sums = want.sum_columns if want.roles.score else ()
    for column in a.columns:
        if column in sums:
            np.testing.assert_allclose(a[column], b[column], rtol=1e-12, atol=1e-12)
        else:
            assert a[column].tolist() == b[column].tolist(), column
    assert got.meta["binning"] == want.meta["binning"]
    assert got.meta["score_range"] == want.meta["score_range"]


def assert_same_audit(got: dict, want: dict) -> None:
    assert_same(got, want)
    assert got["provenance"]["data_fingerprint"] == want["provenance"]["data_fingerprint"]


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return engine_cases()


# --------------------------------------------------------------------------- choosing


def test_auto_chooses_by_input(tmp_path: Path) -> None:
    assert choose_engine(["x.csv"]).engine == "local"
    assert choose_engine([tmp_path]).engine == "duckdb"
    assert choose_engine(["data/*.parquet"]).engine == "duckdb"
    assert choose_engine(["postgresql://u@h/db"]).engine == "postgres"
    assert choose_engine(["x.csv"], "polars").engine == "local"
    with pytest.raises(ValueError, match="unknown engine"):
        choose_engine(["x.csv"], "oracle")
    with pytest.raises(ValueError, match="needs --engine postgres"):
        choose_engine(["postgresql://u@h/db"], "duckdb")


# --------------------------------------------------------------------------- DuckDB


@pytest.mark.parametrize(
    ("n_bins", "method"), [(40, "quantile"), (1000, "quantile"), (4000, "exact")]
)
def test_duckdb_gives_the_same_cube(cases: pd.DataFrame, n_bins: int, method: str) -> None:
    """Quantile bins (with the crowded cell of 0.25 split) and exact bins alike."""
    want = build_cube(cases, **ROLES, n_bins=n_bins, engine="local")
    assert want.meta["binning"] == method
    got = build_cube(cases, **ROLES, n_bins=n_bins, engine="duckdb")
    assert got.meta["engine"] == "duckdb"
    assert_same_cube(got, want)


def test_duckdb_exact_scores_and_counts() -> None:
    df = make_cases(2000, seed=8)  # scores rounded to 3 decimals: exact bins
    agg = df.groupby(["sex", "origin", "p", "y", "band"], as_index=False).size()
    want = build_cube(agg, **ROLES, count="size", engine="local")
    assert want.meta["binning"] == "exact"
    got = build_cube(agg, **ROLES, count="size", engine="duckdb")
    assert_same_cube(got, want)


def test_duckdb_reads_a_hive_partitioned_dataset(cases: pd.DataFrame, tmp_path: Path) -> None:
    pq.write_to_dataset(pa.Table.from_pandas(cases), tmp_path / "ds", partition_cols=["region"])
    roles = ROLES | {"group": ["sex", "region"]}
    want = audit(cases, **OPTIONS | {"group": ["sex", "region"]}).to_dict()
    got = audit(tmp_path / "ds", **OPTIONS | {"group": ["sex", "region"]})
    assert got["inputs"]["engine"] == "duckdb"  # a folder: chosen automatically
    assert_same_audit(got.to_dict(), want)
    glob = str(tmp_path / "ds" / "*" / "*.parquet")
    assert_same_cube(build_cube(glob, **roles), build_cube(cases, **roles))


def test_duckdb_audit_equals_local(cases: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "cases.parquet"
    cases.to_parquet(path)
    want = audit(path, **OPTIONS).to_dict()
    got = audit(path, **OPTIONS, engine="duckdb").to_dict()
    assert want["inputs"]["engine"] == "local"
    assert_same_audit(got, want)


def _with_missing(cases: pd.DataFrame, column: str, rows: list[int]) -> pd.DataFrame:
    bad = cases.copy()
    bad[column] = bad[column].astype(object)
    bad.loc[rows, column] = None
    return bad


def _error(data: Any, engine: str, **extra: Any) -> DataError:
    with pytest.raises(DataError) as caught:
        build_cube(data, **ROLES, engine=engine, **extra)
    return caught.value


@pytest.mark.parametrize(
    ("column", "rows"), [("origin", [3, 700, 2900]), ("p", [10]), ("y", [5, 6])]
)
def test_duckdb_reports_missing_values_as_local_does(
    cases: pd.DataFrame, tmp_path: Path, column: str, rows: list[int]
) -> None:
    path = tmp_path / "bad.parquet"
    _with_missing(cases, column, rows).to_parquet(path)
    local, duck = _error(path, "local"), _error(path, "duckdb")
    assert (
        (duck.column, duck.reason)
        == (local.column, local.reason)
        == (
            column,
            f"missing value: fill it with an explicit category (e.g. 'unknown') or drop the row "
            f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})",
        )
    )
    assert str(path) in duck.source and local.source == str(path)
    assert local.row == rows[0] + 1


def test_duckdb_reports_nan_in_a_float_group_as_missing_as_local_does(
    cases: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "nan.parquet"
    income = cases["sex"].eq("f").to_numpy(dtype=float)
    income[[4, 90]] = np.nan  # as polars or pyarrow write it: a NaN, not a null
    table = pa.Table.from_pandas(cases, preserve_index=False)
    at = table.schema.get_field_index("sex")
    pq.write_table(table.set_column(at, "sex", pa.array(income)), path)
    local, duck = _error(path, "local"), _error(path, "duckdb")
    assert (duck.column, duck.reason) == (local.column, local.reason)
    assert local.column == "sex" and local.row == 5 and local.reason.endswith("(2 rows)")


def test_duckdb_reports_bad_values_as_local_does(cases: pd.DataFrame) -> None:
    bad = cases.assign(y=cases["y"].where(cases.index % 1000 != 7, 2))
    local, duck = _error(bad, "local"), _error(bad, "duckdb")
    assert (duck.column, duck.reason) == (local.column, local.reason)
    assert local.reason == "must be 0/1 or false/true, found 2 (3 rows)"
    inf = cases.assign(p=cases["p"].where(cases.index != 4, np.inf))
    assert _error(inf, "duckdb").reason == _error(inf, "local").reason


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_table(postgres_server: str, cases: pd.DataFrame) -> Iterator[tuple[str, str]]:  # noqa: F811
    """The cases as a table in a schema of its own: (url, 'schema.cases')."""
    import psycopg

    schema = f"wb_cube_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
        con.execute(
            f'CREATE TABLE "{schema}".cases (sex text, origin text, p double precision, '
            "y integer, band text, region integer)"
        )
        with con.cursor().copy(
            f'COPY "{schema}".cases (sex, origin, p, y, band, region) FROM STDIN'
        ) as copy:
            for row in cases[["sex", "origin", "p", "y", "band", "region"]].itertuples(False):
                copy.write_row(
                    [None if v is None else (v.item() if hasattr(v, "item") else v) for v in row]
                )
    try:
        yield postgres_server, f"{schema}.cases"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("n_bins", [1000, 40])
def test_postgres_gives_the_same_cube(
    pg_table: tuple[str, str], cases: pd.DataFrame, n_bins: int
) -> None:
    url, table = pg_table
    want = build_cube(cases, **ROLES, n_bins=n_bins)
    got = build_cube(url, **ROLES, n_bins=n_bins, table=table)
    assert got.meta["engine"] == "postgres"
    assert_same_cube(got, want)


def test_postgres_audit_of_a_query_equals_local(
    pg_table: tuple[str, str], cases: pd.DataFrame
) -> None:
    url, table = pg_table
    options = OPTIONS | {"group": ["sex", "region"]}
    want = audit(cases[cases["region"] > 1], **options).to_dict()
    got = audit(url, **options, query=f"SELECT * FROM {table} WHERE region > 1").to_dict()
    assert got["inputs"]["engine"] == "postgres"
    assert_same_audit(got, want)


def test_postgres_reports_missing_values_as_local_does(
    pg_table: tuple[str, str], cases: pd.DataFrame
) -> None:
    import psycopg

    url, table = pg_table
    schema = table.split(".")[0]
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            f'UPDATE "{schema}".cases SET origin = NULL WHERE ctid IN '
            f'(SELECT ctid FROM "{schema}".cases LIMIT 4)'
        )
    bad = _with_missing(cases, "origin", [0, 1, 2, 3])
    local = _error(bad, "local")
    pg = _error(url, "postgres", table=table)
    assert (pg.column, pg.reason) == (local.column, local.reason)
    assert pg.reason.endswith("(4 rows)")
    assert table in pg.source and "postgresql://" in pg.source


def test_postgres_names_a_missing_table(postgres_server: str) -> None:  # noqa: F811
    with pytest.raises(DataError, match="PostgreSQL"):
        build_cube(postgres_server, **ROLES, table="no_such_schema.cases")


def test_cli_says_which_engine(cases: pd.DataFrame, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from waarborg.cli import app

    pq.write_to_dataset(pa.Table.from_pandas(cases), tmp_path / "ds", partition_cols=["region"])
    args = ["cube", "build", str(tmp_path / "ds"), "-o", str(tmp_path / "c.parquet")]
    args += ["--score", "p", "--outcome", "y", "--group", "sex", "--group", "region"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "engine: duckdb (a Parquet dataset (folder or glob))" in result.output
    args = ["audit", str(tmp_path / "c.parquet"), "--engine", "nonsense"]
    assert CliRunner().invoke(app, args).exit_code == 2


def test_cli_audits_a_postgres_table(pg_table: tuple[str, str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from waarborg.cli import app

    url, table = pg_table
    args = ["audit", "--source", url, "--table", table, "--outcome", "y", "--group", "sex"]
    args += ["--band", "band", "--select", "hoog", "--json", str(tmp_path / "r.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "engine: postgres (a PostgreSQL source)" in result.output
    assert '"engine": "postgres"' in (tmp_path / "r.json").read_text()
