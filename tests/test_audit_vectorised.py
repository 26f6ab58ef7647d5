"""The audit's shared passes over the cube's cells against the straightforward ones.

Intersections found over the all-way intersection's groups, counts of coarser attributes
summed from finer ones, calibration tables of all groups from one crosstab and the
bootstrap drawn in a thread: each must give exactly what a direct computation per
attribute or group gives (and the AUCs what scikit-learn gives), on random cells with
empty groups and groups with a single outcome class.
"""

from __future__ import annotations

import dataclasses
import gc
from itertools import combinations, product

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from waarborg.audit import audit, build_cube, fairness, validity
from waarborg.audit.api import cube_fingerprint
from waarborg.audit.cells import Cells, _sorted_codes
from waarborg.audit.stats import bootstrap_interval

SEEDS = range(6)


def random_cells(seed: int, n: int = 600, bins: int = 7) -> Cells:
    """Cells of three attributes; each has a label no cell has (an empty group), and in
    group ``g0`` of ``a0`` no cell has the outcome (a single outcome class).
    """
    rng = np.random.default_rng(seed)
    groups = {}
    for i, k in enumerate((2, 3, 4)):
        codes = rng.integers(0, k, n)
        groups[f"a{i}"] = (codes, [f"g{j}" for j in range(k + 1)])  # g{k}: empty
    outcome = np.where(groups["a0"][0] == 0, 0, rng.integers(0, 2, n))
    count = rng.integers(1, 20, n).astype(np.float64)
    score = rng.integers(0, bins, n)
    keys = np.linspace(0.05, 0.9, bins)
    return Cells(
        count,
        groups,
        outcome=outcome,
        selected=(score >= bins - 2).astype(np.int64),
        score=score,
        score_keys=keys,
        score_sum=count * keys[score],
        score_sq=count * keys[score] ** 2,
        score_range=[float(keys[0]), float(keys[-1])],
        binning="exact",
    )


def direct_intersection(cells: Cells, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes and labels of an intersection, by np.unique over every cell's combination."""
    combos = np.stack([cells.groups[n][0] for n in names], axis=1)
    present, codes = np.unique(combos, axis=0, return_inverse=True)
    labels = [
        fairness.CROSS.join(cells.groups[n][1][c] for n, c in zip(names, row, strict=True))
        for row in present
    ]
    return codes.ravel(), labels


@pytest.mark.parametrize("seed", SEEDS)
def test_intersections_match_direct_ones(seed: int) -> None:
    cells = random_cells(seed)
    names = ["a0", "a1", "a2"]
    attrs = {a.name: a for a in fairness.attributes(cells, names, True)}
    combos = [list(c) for c in combinations(names, 2)] + [names]
    assert list(attrs) == names + [fairness.CROSS.join(c) for c in combos]
    for combo in combos:
        codes, labels = direct_intersection(cells, combo)
        found = attrs[fairness.CROSS.join(combo)]
        assert found.labels == labels
        np.testing.assert_array_equal(found.codes, codes)
        assert found.parts == tuple(combo)


@pytest.mark.parametrize("seed", SEEDS)
def test_counts_summed_from_finer_attributes_equal_direct_counts(seed: int) -> None:
    cells = random_cells(seed)
    attrs = fairness.attributes(cells, ["a0", "a1", "a2"], True)
    order, _ = cells.ordered_bins()
    every = fairness._all_stats(cells, attrs, order)
    for attribute in attrs:
        direct = fairness._stats(cells, attribute, order)
        np.testing.assert_array_equal(every[attribute.name].table, direct.table)
        np.testing.assert_array_equal(every[attribute.name].roc, direct.roc)


def test_sum_rows_matches_add_at() -> None:
    rng = np.random.default_rng(1)
    for size, width in product((1, 4, 9), (3, fairness._WIDE_ROW)):  # narrow, wide
        group = rng.integers(0, size, 50) if size > 1 else np.zeros(50, np.int64)
        group[group == size - 1] = 0  # the last group empty
        x = rng.integers(0, 9, (50, 2, width)).astype(np.float64)
        expected = np.zeros((size, 2, width))
        np.add.at(expected, group, x)
        np.testing.assert_array_equal(fairness.sum_rows(x, group, size), expected)
    assert fairness.sum_rows(np.zeros((0, 2)), np.zeros(0, np.int64), 2).tolist() == [[0, 0]] * 2


@pytest.mark.parametrize("seed", SEEDS)
def test_group_aucs_match_scikit_learn(seed: int) -> None:
    cells = random_cells(seed)
    attrs = fairness.attributes(cells, ["a0", "a1", "a2"], True)
    groups = fairness.assess(cells, attrs, {}, min_group_size=0)["groups"]
    checked = {"both classes": 0, "one class": 0, "empty": 0}
    for attribute in attrs:
        for g, label in enumerate(attribute.labels):
            auc = groups[attribute.name][label]["auc"]["value"]
            inside = attribute.codes == g
            y = cells.outcome[inside]
            if np.unique(y).size < 2:
                assert auc is None
                checked["empty" if y.size == 0 else "one class"] += 1
                continue
            expected = roc_auc_score(y, cells.score[inside], sample_weight=cells.count[inside])
            assert auc == pytest.approx(expected, rel=1e-12, abs=1e-12)
            checked["both classes"] += 1
    assert all(checked.values()), checked


def calibration_alone(cells: Cells, keep: np.ndarray) -> list[dict]:
    """One group's calibration table from its cells alone (all other counts zero)."""
    zero = np.where(keep, 1.0, 0.0)
    alone = dataclasses.replace(
        cells,
        count=cells.count * zero,
        score_sum=cells.score_sum * zero,
        score_sq=cells.score_sq * zero,
    )
    deciles = validity._deciles(cells.crosstab((cells.score, cells.score_keys.size)))
    labels = [f"decile {d + 1}" for d in range(int(deciles.max()) + 1)]
    by = (deciles[cells.score], len(labels))
    by_outcome = alone.crosstab(by, (alone.outcome, 2))
    return validity._table(alone, by, labels, "decile", 0.95, by_outcome)


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_by_group_matches_each_group_alone(seed: int) -> None:
    cells = random_cells(seed)
    tables = validity.calibration_by_group(cells, cells.groups)
    for name, (codes, labels) in cells.groups.items():
        for g, label in enumerate(labels):
            assert tables[name][label] == calibration_alone(cells, codes == g)
        assert tables[name][labels[-1]] == []  # the empty group


def test_bootstrap_in_a_thread_draws_as_in_turn() -> None:
    cells = random_cells(3)
    attrs = fairness.attributes(cells, ["a0", "a1", "a2"], True)
    groups = fairness.assess(cells, attrs, {}, seed=7)["groups"]
    order, _ = cells.ordered_bins()
    rng = np.random.default_rng(7)
    for attribute in attrs:  # the same draws, one attribute after the other
        st = fairness._stats(cells, attribute, order)
        sel = st.table[:, :, 1].sum(1)
        counts = np.stack([st.n - sel, sel], axis=-1)
        low, high = bootstrap_interval(
            fairness._representation, counts, fairness.N_BOOT, 0.95, rng, vectorized=True
        )
        for g, label in enumerate(attribute.labels):
            ci = groups[attribute.name][label]["representation"]["ci"]
            assert ci == [None if np.isnan(b) else float(b) for b in (low[g], high[g])]


def test_audit_restores_the_garbage_collector() -> None:
    table = pa.table({"g": ["a", "b"] * 50, "y": [0, 1, 1, 0] * 25})
    assert gc.isenabled()
    audit(table, outcome="y", group="g")
    assert gc.isenabled()
    with pytest.raises(ValueError):
        audit(table, outcome="y", group="g", n_bins=1)
    assert gc.isenabled()
    gc.disable()
    try:
        audit(table, outcome="y", group="g")
        assert not gc.isenabled()
    finally:
        gc.enable()


def as_dictionaries(table: pa.Table, names: list[str]) -> pa.Table:
    """``names`` as dictionary columns in two chunks whose dictionaries differ and hold
    an entry no row uses.
    """
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in names:
            values = column.combine_chunks()
            half = len(values) // 2
            chunks = []
            for part in (values[:half], values[half:]):
                extra = pa.array(["(unused)"] * 3 + part.to_pylist(), pa.string())
                chunks.append(extra.dictionary_encode()[3:])
            column = pa.chunked_array(chunks)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_cube_with_dictionary_columns_reads_as_with_strings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    rows = pa.table(
        {
            "g": rng.choice(["b", "a", "c"], n),
            "h": rng.choice(["x", "y"], n),
            "band": rng.choice(["laag", "midden", "hoog"], n),
            "y": rng.integers(0, 2, n),
            "p": rng.random(n).round(2),
        }
    )
    cube = build_cube(rows, group=["g", "h"], outcome="y", band="band", score="p")
    coded = dataclasses.replace(cube, table=as_dictionaries(cube.table, ["g", "h", "band"]))
    assert pa.types.is_dictionary(coded.table.schema.field("g").type)
    plain, fast = cube.cells(select=["hoog"]), coded.cells(select=["hoog"])
    for name in ("g", "h"):
        assert fast.groups[name][1] == plain.groups[name][1]
        np.testing.assert_array_equal(fast.groups[name][0], plain.groups[name][0])
    assert fast.band_labels == plain.band_labels
    np.testing.assert_array_equal(fast.band, plain.band)
    np.testing.assert_array_equal(fast.selected, plain.selected)
    assert cube_fingerprint(coded) == cube_fingerprint(cube)


def test_dictionary_with_a_repeated_label_reads_as_strings() -> None:
    codes = pa.array([0, 1, 2, 1], pa.int32())
    column = pa.chunked_array([pa.DictionaryArray.from_arrays(codes, ["b", "a", "b"])])
    found = _sorted_codes(column)
    assert found[1] == ["a", "b"]
    np.testing.assert_array_equal(found[0], [1, 0, 1, 0])
