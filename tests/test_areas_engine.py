"""Area instruments: features against a per-row reference, CRS, data errors, selection, models."""

from __future__ import annotations

import copy
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import statsmodels.api as sm
import yaml

from tests.reference import raw_spec
from waarborg.areas import score_areas
from waarborg.areas.data import read_cells, read_incidents
from waarborg.areas.engine import area_scores, select
from waarborg.areas.features import build_features
from waarborg.areas.grid import cell_geometry, cell_id_of, from_grid_crs, to_grid_crs
from waarborg.areas.spec import Grid, Selection
from waarborg.errors import DataError, WaarborgError
from waarborg.instruments.spec import parse_spec

START = date(2024, 1, 1)
SIZE = 25.0
TYPES = ["burglary", "theft"]


def area_spec(**changes: Any) -> dict[str, Any]:
    """A small area spec: a 25 m grid, weekly periods, a few features of each kind."""
    spec = {
        "id": "test-area",
        "version": "1.0.0",
        "unit": "area",
        "title": "Test area instrument",
        "owner": "Test",
        "purpose": "Testing.",
        "population": "Cells.",
        "provenance": {"parameters": "illustrative", "sources": [{"citation": "None."}]},
        "goal": {
            "statement": "Find incidents.",
            "statement_nl": "Incidenten vinden.",
            "success_criteria": [
                {
                    "metric": "hit_rate",
                    "value": 0.2,
                    "description": "Hit rate at least 20%.",
                    "description_nl": "Trefkans minstens 20%.",
                }
            ],
        },
        "area": {
            "grid": {"cell_size": SIZE, "origin": [0, 0]},
            "period": {"days": 7, "start": START.isoformat()},
            "incidents": {"types": TYPES, "sources": ["reported"]},
            "features": [
                {"name": "burglary_1", "count": {"types": ["burglary"], "lags": [1, 1]}},
                {"name": "all_2_4", "count": {"types": TYPES, "lags": [2, 4]}},
                {"name": "around_1_2", "neighbours": {"types": TYPES, "lags": [1, 2]}},
                {"name": "season_sin", "season": "sin"},
                {"name": "shops", "attribute": "shops"},
            ],
            "target": {"types": TYPES},
            "selection": {"top_share": 0.25},
        },
        "predictors": [
            {"name": "burglary_1", "type": "integer", "range": [0, 1000]},
            {
                "name": "all_2_4",
                "type": "integer",
                "range": [0, 1000],
                "transform": [{"log": {"offset": 1}}],
            },
            {"name": "around_1_2", "type": "integer", "range": [0, 8000]},
            {"name": "season_sin", "type": "numeric", "range": [-1, 1]},
            {"name": "shops", "type": "integer", "range": [0, 100]},
        ],
        "outcomes": [{"name": "incidents"}],
        "model": {
            "kind": "poisson",
            "outcomes": {
                "incidents": {
                    "intercept": -2.0,
                    "weights": {
                        "burglary_1": 0.3,
                        "all_2_4": 0.5,
                        "around_1_2": 0.1,
                        "season_sin": 0.2,
                        "shops": 0.05,
                    },
                }
            },
        },
    }
    for path, value in changes.items():
        target = spec
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return spec


def grid_cells(cols: int = 5, rows: int = 4, hole: tuple[int, int] | None = (2, 1)) -> pl.DataFrame:
    """A rectangle of cells with one cell missing (a hole: its neighbours lack it)."""
    cells = [(c, r) for r in range(rows) for c in range(cols) if (c, r) != hole]
    grid = Grid(cell_size=SIZE)
    return pl.DataFrame(
        {
            "cell_id": [cell_id_of(c * SIZE, r * SIZE, grid) for c, r in cells],
            "x": [c * SIZE for c, _ in cells],
            "y": [r * SIZE for _, r in cells],
            "shops": [(c * 7 + r * 3) % 5 for c, r in cells],
        }
    )


def random_incidents(cells: pl.DataFrame, n: int, periods: int, seed: int) -> pl.DataFrame:
    """Incidents at random cells, days and types, inside the cells, x/y within the cell."""
    rng = np.random.default_rng(seed)
    at = rng.integers(0, cells.height, n)
    days = rng.integers(0, 7 * periods, n)
    return pl.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "time": [
                datetime.combine(START, datetime.min.time()) + timedelta(days=int(d), hours=13)
                for d in days
            ],
            "type": [TYPES[k] for k in rng.integers(0, 2, n)],
            "source": np.where(rng.random(n) < 0.8, "reported", "discovered").tolist(),
            "x": cells["x"].to_numpy()[at] + rng.random(n) * SIZE,
            "y": cells["y"].to_numpy()[at] + rng.random(n) * SIZE,
        }
    )


# --------------------------------------------------------------------------- features


def reference_features(
    spec: dict[str, Any], incidents: pl.DataFrame, cells: pl.DataFrame, period: int
) -> dict[str, list[float]]:
    """Each feature of one period by plain loops over incident rows (the reference)."""
    rows = incidents.filter(pl.col("source") == "reported").to_dicts()
    placed = [
        (
            int(r["x"] // SIZE),
            int(r["y"] // SIZE),
            (r["time"].date() - START).days // 7,
            r["type"],
        )
        for r in rows
    ]
    cell_list = [
        (int(x // SIZE), int(y // SIZE)) for x, y in zip(cells["x"], cells["y"], strict=True)
    ]
    present = set(cell_list)
    out: dict[str, list[float]] = {}
    for feature in spec["area"]["features"]:
        values = []
        for col, row in cell_list:
            if "count" in feature or "neighbours" in feature:
                rule = feature.get("count") or feature["neighbours"]
                first, last = rule["lags"]
                around = (
                    [(col, row)]
                    if "count" in feature
                    else [
                        (col + dc, row + dr)
                        for dc in (-1, 0, 1)
                        for dr in (-1, 0, 1)
                        if (dc, dr) != (0, 0) and (col + dc, row + dr) in present
                    ]
                )
                values.append(
                    sum(
                        1
                        for c, r, p, t in placed
                        if (c, r) in around
                        and period - last <= p <= period - first
                        and t in rule["types"]
                    )
                )
            elif "season" in feature:
                day = (START + timedelta(days=7 * period)).timetuple().tm_yday - 1
                values.append(math.sin(2 * math.pi * day / 365.25))
            else:
                values.append(
                    cells.filter((pl.col("x") == col * SIZE) & (pl.col("y") == row * SIZE))[
                        "shops"
                    ][0]
                )
        out[feature["name"]] = values
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_features_match_a_per_row_reference(seed: int) -> None:
    spec = area_spec()
    rules = parse_spec(spec).area
    cells = grid_cells()
    incidents = random_incidents(cells, 400, periods=12, seed=seed)
    area = read_cells(cells, rules)
    records = read_incidents(incidents, rules, area)
    periods = np.array([4, 7, 11])
    features = build_features(rules, records, area, periods)
    for i, period in enumerate(periods):
        expected = reference_features(spec, incidents, cells, int(period))
        for name, values in expected.items():
            np.testing.assert_allclose(features[name][i], values, err_msg=f"{name} p{period}")


def test_neighbour_counts_at_the_grid_edge_and_next_to_a_hole() -> None:
    spec = area_spec()
    rules = parse_spec(spec).area
    cells = grid_cells(3, 3, hole=None)
    # one incident in the corner cell (0, 0), in period 0
    incidents = pl.DataFrame(
        {"time": [datetime(2024, 1, 2)], "type": ["theft"], "source": ["reported"]}
        | {"x": [1.0], "y": [1.0]}
    )
    area = read_cells(cells, rules)
    features = build_features(rules, read_incidents(incidents, rules, area), area, np.array([1]))
    around = dict(zip(cells["cell_id"], features["around_1_2"][0], strict=True))
    assert around["E25N0"] == around["E0N25"] == around["E25N25"] == 1
    assert around["E0N0"] == 0, "a cell is not its own neighbour"
    assert around["E50N50"] == around["E50N0"] == 0


# --------------------------------------------------------------------------- CRS and grid


def test_amersfoort_is_converted_both_ways_with_pyproj() -> None:
    x, y = to_grid_crs(np.array([5.387206]), np.array([52.155174]), "EPSG:28992")
    assert abs(x[0] - 155000) < 1.0 and abs(y[0] - 463000) < 1.0
    lon, lat = from_grid_crs(np.array([155000.0]), np.array([463000.0]), "EPSG:28992")
    assert abs(lat[0] - 52.1552) < 1e-4 and abs(lon[0] - 5.3872) < 1e-4


def test_cell_ids_and_geometry() -> None:
    grid = Grid()
    assert cell_id_of(155000.0, 463000.0, grid) == "E155000N463000"
    assert cell_id_of(155124.9, 463124.9, grid) == "E155000N463000"
    assert cell_id_of(155125.0, 463000.0, grid) == "E155125N463000", "the right edge is the next"
    assert cell_geometry("E155125N463000", grid) == (155125.0, 463000.0, 155250.0, 463125.0)
    with pytest.raises(ValueError, match="not a cell id"):
        cell_geometry("E155001N463000", grid)
    shifted = Grid(cell_size=100, origin=(50, 50))
    assert cell_id_of(149.0, 50.0, shifted) == "E50N50"


def test_lat_lon_incidents_land_in_the_same_cells_as_rd_new() -> None:
    spec = area_spec(area__grid={"cell_size": 125, "origin": [0, 0]})
    for p in spec["area"]["features"]:
        if "attribute" in p:
            spec["area"]["features"].remove(p)
    spec["predictors"] = [p for p in spec["predictors"] if p["name"] != "shops"]
    del spec["model"]["outcomes"]["incidents"]["weights"]["shops"]
    rules = parse_spec(spec).area
    grid = Grid()
    xs = np.array([155010.0, 155200.0, 154990.0, 156000.0])
    ys = np.array([463010.0, 463300.0, 462990.0, 464000.0])
    ids = sorted(set(cell_id_of(xs, ys, grid)))
    cells = pl.DataFrame({"cell_id": ids})
    lon, lat = from_grid_crs(xs, ys, "EPSG:28992")
    base = {"time": [datetime(2024, 1, 3)] * 4, "type": ["theft"] * 4, "source": ["reported"] * 4}
    area = read_cells(cells, rules)
    by_xy = read_incidents(pl.DataFrame(base | {"x": xs, "y": ys}), rules, area)
    by_ll = read_incidents(pl.DataFrame(base | {"lat": lat, "lon": lon}), rules, area)
    assert by_xy.cell.tolist() == by_ll.cell.tolist()
    assert [ids[i] for i in by_xy.cell] == cell_id_of(xs, ys, grid)


# --------------------------------------------------------------------------- data errors


def _write_csv(path: Path, frame: pl.DataFrame) -> Path:
    frame.write_csv(path)
    return path


@pytest.mark.parametrize(
    ("change", "reason", "column"),
    [
        ({"x": None}, "no_location", "x"),
        ({"x": 9999.0}, "outside_grid", "x"),
        ({"time": datetime(2023, 12, 1)}, "before_first_period", "time"),
    ],
)
def test_invalid_records_are_an_error_naming_file_row_column_or_counted(
    tmp_path: Path, change: dict[str, Any], reason: str, column: str
) -> None:
    cells = grid_cells()
    incidents = random_incidents(cells, 30, periods=8, seed=3)
    bad_row = 17
    for name, value in change.items():
        values = incidents[name].to_list()
        values[bad_row - 1] = value
        incidents = incidents.with_columns(pl.Series(name, values, dtype=incidents[name].dtype))
    path = _write_csv(tmp_path / "incidents.csv", incidents)
    with pytest.raises(DataError) as caught:
        score_areas(parse_spec(area_spec()), path, cells, backtest=True)
    assert (caught.value.source, caught.value.row, caught.value.column) == (
        str(path),
        bad_row,
        column,
    )
    counting = parse_spec(
        area_spec(area__incidents={"types": TYPES, "sources": ["reported"]} | {"invalid": "count"})
    )
    result = area_scores(counting, path, cells, backtest=True)
    assert result.report["invalid"][reason] == 1
    assert sum(result.report["invalid"].values()) == 1
    discovered = int((incidents["source"] == "discovered").sum())
    bad_is_discovered = incidents["source"][bad_row - 1] == "discovered"
    assert result.report["not_used_source"]["discovered"] == discovered - bad_is_discovered
    assert (
        result.report["incidents_used"] == 30 - 1 - result.report["not_used_source"]["discovered"]
    )


def test_unknown_cell_id_and_unknown_type_are_errors(tmp_path: Path) -> None:
    cells = grid_cells()
    records = pl.DataFrame(
        {
            "date": [date(2024, 1, 2), date(2024, 1, 3)],
            "type": ["theft", "theft"],
            "source": ["reported", "reported"],
            "cell_id": ["E0N0", "E9000N0"],
        }
    )
    with pytest.raises(DataError, match="not in the cells table") as caught:
        score_areas(parse_spec(area_spec()), records, cells, backtest=True)
    assert (caught.value.row, caught.value.column) == (2, "cell_id")
    wrong_type = records.with_columns(pl.Series("type", ["theft", "arson"]))
    with pytest.raises(DataError, match="unknown value 'arson'") as caught:
        score_areas(parse_spec(area_spec()), wrong_type, cells, backtest=True)
    assert (caught.value.row, caught.value.column) == (2, "type")


def test_bad_cells_table_is_an_error(tmp_path: Path) -> None:
    cells = grid_cells()
    off_grid = cells.with_columns(pl.Series("cell_id", ["E3N0", *cells["cell_id"][1:]]))
    with pytest.raises(DataError, match="not a cell of the grid") as caught:
        score_areas(parse_spec(area_spec()), random_incidents(cells, 5, 6, 1), off_grid)
    assert (caught.value.row, caught.value.column) == (1, "cell_id")
    missing = cells.with_columns(pl.Series("shops", [None, *cells["shops"][1:]]))
    path = tmp_path / "cells.parquet"
    missing.write_parquet(path)
    with pytest.raises(DataError, match="missing value") as caught:
        score_areas(parse_spec(area_spec()), random_incidents(cells, 5, 6, 1), path)
    assert (caught.value.source, caught.value.row, caught.value.column) == (str(path), 1, "shops")


def test_a_feature_outside_its_range_is_an_error() -> None:
    cells = grid_cells()
    spec = area_spec()
    spec["predictors"][4]["range"] = [0, 3]
    with pytest.raises(DataError, match="outside the range") as caught:
        score_areas(parse_spec(spec), random_incidents(cells, 20, 6, 1), cells, backtest=True)
    assert caught.value.column == "shops"


def test_periods_must_start_on_a_boundary_and_have_history() -> None:
    cells = grid_cells()
    incidents = random_incidents(cells, 50, 10, 4)
    spec = parse_spec(area_spec())
    with pytest.raises(WaarborgError, match="not the first day of a period"):
        score_areas(spec, incidents, cells, period=date(2024, 2, 6))
    with pytest.raises(WaarborgError, match="needs 4 earlier periods"):
        score_areas(spec, incidents, cells, period=date(2024, 1, 15))
    one = score_areas(spec, incidents, cells, period="2024-02-05")
    assert one["period"].unique().to_list() == [date(2024, 2, 5)]
    assert one.height == cells.height
    backtest = score_areas(spec, incidents, cells, backtest=True)
    assert backtest["period"].min() == date(2024, 1, 29), "from the first period with 4 lags"
    same = backtest.filter(pl.col("period") == date(2024, 2, 5))
    np.testing.assert_allclose(same["score"].to_numpy(), one["score"].to_numpy())
    assert backtest.columns[:5] == ["cell_id", "period", "score", "expected_incidents", "selected"]
    assert backtest.schema["cell_id"] == pl.String and backtest.schema["period"] == pl.Date


# --------------------------------------------------------------------------- selection


def test_top_share_ties_included_or_broken_by_cell_id() -> None:
    values = np.array([[5.0, 3.0, 3.0, 3.0, 1.0, 0.0, 0.0, 0.0]])
    ids = np.array(["h", "g", "b", "e", "d", "c", "f", "a"])
    include = select(values, Selection(top_share=0.25), ids)
    assert include.tolist() == [[True, True, True, True, False, False, False, False]]
    exact = select(values, Selection(top_share=0.25, ties="cell_id"), ids)
    assert exact.tolist() == [[True, False, True, False, False, False, False, False]]
    assert exact.sum() == math.ceil(0.25 * 8)
    threshold = select(values, Selection(threshold=3.0), ids)
    assert threshold.tolist() == [[True, True, True, True, False, False, False, False]]
    rows = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    per_period = select(rows, Selection(top_share=0.5), np.array(["a", "b", "c", "d"]))
    assert per_period.tolist() == [[False, False, True, True], [True, True, False, False]]


def test_selection_on_the_score_or_a_threshold_in_the_engine() -> None:
    cells = grid_cells()
    incidents = random_incidents(cells, 300, 10, 5)
    spec = area_spec(area__selection={"threshold": 0.5})
    out = score_areas(parse_spec(spec), incidents, cells, backtest=True)
    assert (out["selected"] == (out["expected_incidents"] >= 0.5)).all()
    top = score_areas(parse_spec(area_spec()), incidents, cells, backtest=True)
    per_period = top.group_by("period").agg(pl.col("selected").sum())
    assert (per_period["selected"] >= math.ceil(0.25 * cells.height)).all()


# --------------------------------------------------------------------------- models


def _design(out: pl.DataFrame, names: list[str]) -> np.ndarray:
    return np.column_stack([out[f"contrib_{n}"].to_numpy() for n in names])


def test_poisson_scores_match_statsmodels() -> None:
    cells = grid_cells(8, 8, hole=None).with_columns(pl.col("shops") * 1)
    incidents = random_incidents(cells, 3000, 30, 6)
    spec = area_spec()
    # features through identity weights: the contributions are the transformed features
    unit = copy.deepcopy(spec)
    unit["model"]["outcomes"]["incidents"] = {
        "intercept": 0.0,
        "weights": dict.fromkeys(unit["model"]["outcomes"]["incidents"]["weights"], 1.0),
    }
    names = [p["name"] for p in spec["predictors"]]
    x = score_areas(parse_spec(unit), incidents, cells, backtest=True)
    target = incidents.filter(pl.col("source") == "reported").with_columns(
        ((pl.col("time").dt.date() - START).dt.total_days() // 7).alias("p"),
        ((pl.col("x") // SIZE) * SIZE).cast(pl.Int64).alias("cx"),
        ((pl.col("y") // SIZE) * SIZE).cast(pl.Int64).alias("cy"),
    )
    target = target.with_columns(
        ("E" + pl.col("cx").cast(pl.String) + "N" + pl.col("cy").cast(pl.String)).alias("cell_id"),
        (pl.lit(START) + pl.duration(days=pl.col("p") * 7)).cast(pl.Date).alias("period"),
    )
    counts = target.group_by("cell_id", "period").len()
    joined = x.join(counts, on=["cell_id", "period"], how="left").with_columns(
        pl.col("len").fill_null(0)
    )
    design = sm.add_constant(_design(joined, names))
    fit = sm.GLM(joined["len"].to_numpy(), design, family=sm.families.Poisson()).fit()
    fitted = copy.deepcopy(spec)
    fitted["model"]["outcomes"]["incidents"] = {
        "intercept": float(fit.params[0]),
        "weights": dict(zip(names, map(float, fit.params[1:]), strict=True)),
    }
    scored = score_areas(parse_spec(fitted), incidents, cells, backtest=True)
    order = joined.select("cell_id", "period").join(scored, on=["cell_id", "period"], how="left")
    np.testing.assert_allclose(
        order["expected_incidents"].to_numpy(), fit.predict(design), rtol=1e-9
    )
    np.testing.assert_allclose(
        order["score"].to_numpy(), design @ fit.params, rtol=1e-9, atol=1e-12
    )


def test_logistic_scores_match_numpy() -> None:
    cells = grid_cells()
    incidents = random_incidents(cells, 200, 10, 7)
    spec = area_spec(model={**area_spec()["model"], "kind": "logistic"})
    out = score_areas(parse_spec(spec), incidents, cells, backtest=True)
    weights = spec["model"]["outcomes"]["incidents"]["weights"]
    parts = sum(out[f"contrib_{n}"].to_numpy() for n in weights)
    np.testing.assert_allclose(out["score"].to_numpy(), -2.0 + parts)
    np.testing.assert_allclose(out["expected_incidents"].to_numpy(), 1 / (1 + np.exp(2.0 - parts)))
    raw = build_features(
        parse_spec(spec).area,
        read_incidents(incidents, parse_spec(spec).area, read_cells(cells, parse_spec(spec).area)),
        read_cells(cells, parse_spec(spec).area),
        np.arange(4, 10),
    )
    np.testing.assert_allclose(
        out["contrib_all_2_4"].to_numpy(), 0.5 * np.log1p(raw["all_2_4"].ravel())
    )


# --------------------------------------------------------------------------- spec validation


def _fails(spec: dict[str, Any], tmp_path: Path, words: str, where: str) -> None:
    path = tmp_path / "area.yaml"
    path.write_text(yaml.safe_dump(spec))
    from waarborg import SpecError, load_instrument

    with pytest.raises(SpecError) as caught:
        load_instrument(path)
    message = str(caught.value)
    assert f"{path}: {where}" in message and words in message, message


def test_discovered_incidents_need_the_flag(tmp_path: Path) -> None:
    spec = area_spec(area__incidents={"types": TYPES, "sources": ["reported", "discovered"]})
    _fails(spec, tmp_path, "uses_discovered: true", "area.incidents")
    spec["area"]["incidents"]["uses_discovered"] = True
    assert parse_spec(spec).area.incidents.uses_discovered
    flag_only = area_spec(
        area__incidents={"types": TYPES, "sources": ["reported"], "uses_discovered": True}
    )
    _fails(flag_only, tmp_path, "not among the sources", "area.incidents")


@pytest.mark.parametrize(
    ("mutate", "where", "words"),
    [
        (lambda s: s.pop("goal"), "(top level)", "goal"),
        (lambda s: s["goal"].update(success_criteria=[]), "(top level)", "success criterion"),
        (lambda s: s.pop("area"), "(top level)", "needs an 'area' section"),
        (lambda s: s["area"].update(colour="red"), "area.colour", "Extra inputs"),
        (lambda s: s["goal"].update(colour="red"), "goal.colour", "Extra inputs"),
        (lambda s: s["area"]["selection"].update(threshold=1.0), "area.selection", "exactly one"),
        (
            lambda s: s["area"]["features"][0]["count"].update(lags=[0, 1]),
            "area.features.0",
            "lags",
        ),
        (lambda s: s["predictors"].pop(), "(top level)", "exactly the area features"),
        (lambda s: s["model"].update(kind="cox"), "(top level)", "poisson or logistic"),
        (lambda s: s["area"]["target"].update(types=["arson"]), "area", "target types"),
        (
            lambda s: s.update(
                bands={"incidents": {"quantity": "score", "cutoffs": [1], "labels": ["a", "b"]}}
            ),
            "(top level)",
            "not by bands",
        ),
    ],
)
def test_area_spec_errors_name_file_and_path(
    tmp_path: Path, mutate: Any, where: str, words: str
) -> None:
    spec = area_spec()
    mutate(spec)
    _fails(spec, tmp_path, words, where)


def test_case_specs_refuse_area_parts_and_accept_a_goal(tmp_path: Path) -> None:
    spec = raw_spec("generic-selection")
    poisson = copy.deepcopy(spec)
    poisson["model"]["kind"] = "poisson"
    _fails(poisson, tmp_path, "for 'unit: area'", "(top level)")
    with_goal = copy.deepcopy(spec)
    with_goal["goal"] = area_spec()["goal"]
    assert parse_spec(with_goal).goal.success_criteria[0].metric == "hit_rate"
    area_part = copy.deepcopy(spec)
    area_part["area"] = area_spec()["area"]
    _fails(area_part, tmp_path, "needs 'unit: area'", "(top level)")


def test_pa_tables_and_csv_give_the_same_scores(tmp_path: Path) -> None:
    cells = grid_cells()
    incidents = random_incidents(cells, 200, 8, 9)
    spec = parse_spec(area_spec())
    path = tmp_path / "incidents.csv"
    incidents.write_csv(path)
    cells.write_parquet(tmp_path / "cells.parquet")
    from_files = score_areas(spec, path, tmp_path / "cells.parquet", backtest=True)
    from_arrow = score_areas(spec, incidents.to_arrow(), pa.table(cells.to_arrow()), backtest=True)
    assert from_files.equals(from_arrow)


def test_given_area_ids_without_a_grid() -> None:
    spec = area_spec()
    spec["area"].pop("grid")
    spec["area"]["cells"] = "given"
    spec["area"]["features"] = [f for f in spec["area"]["features"] if "neighbours" not in f]
    spec["predictors"] = [p for p in spec["predictors"] if p["name"] != "around_1_2"]
    del spec["model"]["outcomes"]["incidents"]["weights"]["around_1_2"]
    areas = pl.DataFrame({"cell_id": ["wijk-b", "wijk-a", "wijk-c"], "shops": [1, 2, 3]})
    days = [date(2024, 1, 2), date(2024, 1, 9), date(2024, 1, 9), date(2024, 1, 30)]
    incidents = pl.DataFrame(
        {
            "date": days,
            "type": ["burglary", "burglary", "theft", "burglary"],
            "source": ["reported"] * 4,
            "cell_id": ["wijk-a", "wijk-a", "wijk-c", "wijk-b"],
        }
    )
    out = score_areas(parse_spec(spec), incidents, areas, period="2024-01-29")
    assert out["cell_id"].to_list() == ["wijk-b", "wijk-a", "wijk-c"]
    # all_2_4 for 2024-01-29 (period 4) counts periods 0..2: wijk-a 2, wijk-c 1, wijk-b 0
    np.testing.assert_allclose(out["contrib_all_2_4"].to_numpy(), 0.5 * np.log1p([0, 2, 1]))
    assert out["contrib_burglary_1"].to_list() == [0.0, 0.0, 0.0]
    with_xy = incidents.drop("cell_id").with_columns(x=pl.lit(1.0), y=pl.lit(1.0))
    with pytest.raises(DataError, match="given by id"):
        score_areas(parse_spec(spec), with_xy, areas, backtest=True)
    neighbours = area_spec()
    neighbours["area"].pop("grid")
    neighbours["area"]["cells"] = "given"
    with pytest.raises(WaarborgError, match="neighbours need a grid"):
        parse_spec(neighbours)


def test_no_incidents_gives_an_empty_backtest_and_a_forecast_of_the_first_period() -> None:
    cells = grid_cells()
    none = random_incidents(cells, 1, 2, 1).clear()
    spec = parse_spec(area_spec())
    assert score_areas(spec, none, cells, backtest=True).height == 0
    forecast = area_scores(spec, none, cells)
    assert forecast.table["period"].unique().to_list() == [date(2024, 1, 29)]
    assert forecast.report["incidents_read"] == 0 and forecast.report["periods_scored"] == 1
    # with ties included every cell of equal score is selected
    shops = forecast.table["contrib_shops"].to_numpy()
    assert forecast.table["selected"].to_list() == (shops >= np.sort(shops)[-5]).tolist()
