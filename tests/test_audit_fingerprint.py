"""The audit's data fingerprint: canonical form 2 of the count cube (docs/audit.md,
*Provenance*), recomputed here from its definition with pyarrow and hashlib alone, and
the same for every way the same cells can come: rows, cube, cube file, dictionary
columns with unused, repeated or per-chunk labels, any cell order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from waarborg.audit import api, audit, build_cube, read_cube
from waarborg.audit.api import cube_fingerprint
from waarborg.audit.cube import Cube
from waarborg.audit.inputs import Roles

from .test_audit_vectorised import as_dictionaries


def documented_fingerprint(cells: pa.Table, keys: list[str], count: str) -> str:
    """Canonical form 2 by the code that docs/audit.md gives, on the cells as a cube file
    holds them (plain columns).
    """
    plain = pa.table(
        [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in cells.columns],
        names=cells.column_names,
    )
    return DOCUMENTED["canonical_fingerprint"](plain, keys, count)


def _documented() -> dict[str, Any]:
    """The Python block of docs/audit.md's *Canonical form 2*, run."""
    text = (Path(__file__).parents[1] / "docs" / "audit.md").read_text(encoding="utf-8")
    section = text[text.index("**Canonical form 2**") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```\n", start)]
    names: dict[str, Any] = {}
    exec(compile(code, "docs/audit.md", "exec"), names)  # the docs' own code
    return names


DOCUMENTED = _documented()


def random_cube(seed: int) -> Cube:
    """Cells with strings ("", "é", null), floats (-0.0 beside 0.0, null) and int8."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    labels = np.array(["b", "a", "é", "", "ab"], object)
    s = labels[rng.integers(0, 5, n)]
    s[rng.random(n) < 0.15] = None
    f = rng.choice([1.5, -0.0, 0.0, 2.5, -1.0], n)
    table = pa.table(
        {
            "s": pa.array(s.tolist(), pa.string()),
            "i": pa.array(rng.integers(-3, 3, n).astype(np.int8)),
            "f": pa.array(f, mask=rng.random(n) < 0.15),
            "count": pa.array(rng.integers(0, 50, n), pa.int64()),
        }
    )
    roles = Roles(groups=("s", "i"), score="f", count="count")
    return Cube(table, roles, {"score_sum": "score_sum", "score_sq": "score_sq"})


@pytest.mark.parametrize("seed", range(40))
def test_fingerprint_is_the_documented_canonical_form(seed: int) -> None:
    cube = random_cube(seed)
    assert cube_fingerprint(cube) == documented_fingerprint(cube.table, ["s", "i", "f"], "count")


def test_a_column_of_many_values_has_wider_indices() -> None:
    rng = np.random.default_rng(4)
    table = pa.table(
        {
            "g": pa.array([f"g{i}" for i in rng.integers(0, 300, 2000)]),
            "count": pa.array(rng.integers(1, 9, 2000), pa.int64()),
        }
    )
    cube = Cube(table, Roles(groups=("g",), count="count"), {"score_sum": "a", "score_sq": "b"})
    assert cube_fingerprint(cube) == documented_fingerprint(table, ["g"], "count")


def test_fingerprint_ties_nan_and_signed_zeros() -> None:
    table = pa.table(
        {
            "f": pa.array([np.nan, -0.0, 1.0, None, 0.0, np.nan]),
            "count": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        }
    )
    cube = Cube(table, Roles(score="f", count="count"), {"score_sum": "a", "score_sq": "b"})
    assert cube_fingerprint(cube) == documented_fingerprint(table, ["f"], "count")


def five_columns(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "g": rng.choice(["b", "a", "c", "é"], n),
            "h": rng.choice(["x", "y", ""], n),
            "band": rng.choice(["laag", "midden", "hoog"], n),
            "y": rng.integers(0, 2, n),
            "p": rng.random(n).round(2),
        }
    )


def with_table(cube: Cube, table: pa.Table) -> Cube:
    return dataclasses.replace(cube, table=table)


@pytest.mark.parametrize("seed", range(3))
def test_the_same_cells_have_one_fingerprint(seed: int, tmp_path: Path) -> None:
    rows = five_columns(seed)
    roles = {"group": ["g", "h"], "outcome": "y", "band": "band", "score": "p"}
    cube = build_cube(rows, **roles)
    want = cube_fingerprint(cube)
    keys = ["g", "h", "y", "band", "p"]
    assert want == documented_fingerprint(cube.table, keys, cube.count_column)
    assert cube_fingerprint(read_cube(cube.write(tmp_path / "cube.parquet"))) == want
    coded = with_table(cube, as_dictionaries(cube.table, ["g", "h", "band"]))
    assert coded.table.column("g").num_chunks == 2
    assert cube_fingerprint(coded) == want
    shuffled = cube.table.take(np.random.default_rng(seed).permutation(cube.table.num_rows))
    assert cube_fingerprint(with_table(cube, shuffled)) == want
    # audited as rows, or as the cube file: the same data fingerprint
    found = audit(rows, outcome="y", band="band", score="p", group=["g", "h"])
    assert found["provenance"]["data_fingerprint"] == want
    assert "canonical form 2" in found["provenance"]["fingerprint_of"]


def test_a_repeated_dictionary_label_changes_nothing() -> None:
    rows = five_columns(7)
    cube = build_cube(rows, group=["g"], outcome="y")
    g = cube.table.column("g").combine_chunks()
    doubled = pa.concat_arrays([g.dictionary, g.dictionary])  # each label twice
    shift = pa.array(np.arange(len(g)) % 2 * len(g.dictionary), pa.int32())
    indices = pc.add(g.indices.cast(pa.int32()), shift)
    repeated = pa.DictionaryArray.from_arrays(indices, doubled)
    table = cube.table.set_column(0, "g", repeated)
    assert cube_fingerprint(with_table(cube, table)) == cube_fingerprint(cube)


def test_one_count_or_label_more_or_less_is_another_fingerprint() -> None:
    cube = build_cube(five_columns(1), group=["g", "h"], outcome="y", band="band")
    want = cube_fingerprint(cube)
    counts = cube.table.column(cube.count_column).to_numpy().copy()
    counts[5] += 1
    more = cube.table.set_column(
        cube.table.schema.get_field_index(cube.count_column), cube.count_column, pa.array(counts)
    )
    assert cube_fingerprint(with_table(cube, more)) != want
    h = cube.table.column("h").cast(pa.string()).to_pylist()
    h[3] = "z"
    relabelled = cube.table.set_column(1, "h", pa.array(h))
    assert cube_fingerprint(with_table(cube, relabelled)) != want


def test_duplicated_cells_are_ordered_by_count() -> None:
    table = pa.table({"g": ["a", "b", "a", "a"], "count": pa.array([3, 1, 2, 3], pa.int64())})
    cube = Cube(table, Roles(groups=("g",), count="count"), {"score_sum": "a", "score_sq": "b"})
    want = documented_fingerprint(table, ["g"], "count")
    assert cube_fingerprint(cube) == want
    assert cube_fingerprint(with_table(cube, table.take([3, 2, 1, 0]))) == want


def test_a_built_cube_is_put_in_order_by_its_runs_a_shuffled_one_by_a_sort() -> None:
    cube = build_cube(five_columns(2), group=["g", "h"], outcome="y", band="band", score="p")

    def in_runs(table: pa.Table) -> bool:
        names = ["g", "h", "y", "band", "p"]
        return api._in_runs([api._KeyColumn.of(table.column(n)) for n in names]) is not None

    assert in_runs(cube.table)
    assert not in_runs(cube.table.take(np.random.default_rng(0).permutation(cube.table.num_rows)))


@pytest.mark.parametrize("runs", [1, 2])
def test_one_key_column_in_one_or_more_runs(runs: int) -> None:
    """A score alone makes one key column: its cells come as one run (as built) or
    several; the fingerprint is the documented one either way, and the audit works.
    """
    rows = pa.table({"s": np.arange(100) / 100})
    cube = build_cube(rows, score="s")
    if runs == 2:
        half = cube.table.num_rows // 2
        cube = dataclasses.replace(
            cube, table=pa.concat_tables([cube.table.slice(half), cube.table.slice(0, half)])
        )
    want = documented_fingerprint(cube.table.select(["s", "count"]), ["s"], "count")
    assert cube_fingerprint(cube) == want
    assert audit(rows, score="s")["provenance"]["data_fingerprint"] == want


@pytest.mark.parametrize(
    "column",
    [
        pa.array([0, 1, None, 1], pa.int8()),  # its own codes over 256 values: null is 256
        pa.DictionaryArray.from_arrays(  # int8 indices over 128 labels
            pa.array([0, 127, None, 5], pa.int8()), pa.array([f"v{i:03}" for i in range(128)])
        ),
    ],
)
def test_a_null_beside_a_full_narrow_dictionary(column: pa.Array) -> None:
    table = pa.table({"k": column, "g": ["a", "a", "b", "b"], "n": pa.array([1, 2, 3, 4])})
    cube = Cube(table, Roles(groups=("g", "k"), count="n"), {})
    assert cube_fingerprint(cube) == documented_fingerprint(table, ["k", "g"], "n")


def test_a_cube_of_counts_only() -> None:
    cube = build_cube(pa.table({"w": [3, 4]}), count="w")
    assert cube.table.column_names == ["count"]
    assert cube_fingerprint(cube) == documented_fingerprint(cube.table, [], "count")
