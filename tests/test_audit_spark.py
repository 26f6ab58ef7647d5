"""The Spark engine in local mode: the same cube, audit and errors; scoring with mapInArrow.

One Spark session serves the module (starting it takes most of the time: about 20-60 s
on the 2-core CI machine); the data are small. Java 17+ comes from Debian (.ci/run).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_audit_engines import (
    OPTIONS,
    ROLES,
    _with_missing,
    assert_same_audit,
    assert_same_cube,
    engine_cases,
)
from waarborg.audit import audit, build_cube
from waarborg.errors import DataError
from waarborg.instruments.engine import score

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17+ (apt-get install default-jre-headless)")
    from waarborg.audit.engines.in_spark import spark_session

    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return engine_cases(2000, seed=9)


def test_spark_gives_the_same_cube_and_audit(
    spark: Any, cases: pd.DataFrame, tmp_path: Path
) -> None:
    """From a hive-partitioned Parquet folder: quantile bins with a crowded cell split."""
    pq.write_to_dataset(pa.Table.from_pandas(cases), tmp_path / "ds", partition_cols=["region"])
    roles = ROLES | {"group": ["sex", "region"]}
    got = build_cube(tmp_path / "ds", **roles, n_bins=40, engine="spark")
    want = build_cube(cases, **roles, n_bins=40)
    assert got.meta["engine"] == "spark"
    assert_same_cube(got, want)
    got.write(tmp_path / "cube.parquet")
    options = OPTIONS | {"group": ["sex", "region"], "n_bins": 40}
    assert_same_audit(
        audit(tmp_path / "cube.parquet", **options).to_dict(), audit(cases, **options).to_dict()
    )


def test_spark_audit_reports_missing_values_as_local_does(spark: Any, cases: pd.DataFrame) -> None:
    bad = _with_missing(cases, "origin", [4, 5, 1999])
    errors = []
    for engine in ("local", "spark"):
        with pytest.raises(DataError) as caught:
            audit(bad, **OPTIONS, engine=engine)
        errors.append(caught.value)
    assert (errors[0].column, errors[0].reason) == (errors[1].column, errors[1].reason)
    assert errors[1].reason.endswith("(3 rows)")


def test_score_on_spark_equals_local_scoring(spark: Any, tmp_path: Path) -> None:
    from waarborg.instruments.on_spark import collect, score_spark

    rng = pd.Series(range(300))
    cases = pd.DataFrame(
        {
            "case_id": rng,
            "education_type": rng.map(lambda i: ["mbo", "hbo", "wo"][i % 3]),
            "age": 18 + rng % 50,
            "distance_to_parents_km": rng * 0.7 % 90,
        }
    )
    path = tmp_path / "cases.parquet"
    cases.to_parquet(path)
    want = score("generic-selection", path).to_pandas()
    score_spark("generic-selection", path, tmp_path / "scored")
    got = pq.read_table(tmp_path / "scored").to_pandas()
    got = got.sort_values("case_id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    for column in want.columns:
        assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column
    bad = cases.assign(age=cases["age"].where(cases.index != 7, 150))
    with pytest.raises(DataError, match="column age"):
        collect(score_spark("generic-selection", bad))
