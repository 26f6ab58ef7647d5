"""The synthetic city's planted mechanisms, and the area commands: score, synth, instruments."""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from waarborg import list_instruments, load_instrument, score
from waarborg.areas import score_areas, synthesize_city
from waarborg.areas.grid import cell_id_of
from waarborg.areas.spec import Grid
from waarborg.areas.synth import TABLES, City
from waarborg.cli import app
from waarborg.errors import WaarborgError
from waarborg.instruments.spec import spec_to_yaml
from waarborg.register import load_owner, register_entry
from waarborg.register.modelcard import model_card
from waarborg.register.owner import DEMO_OWNER

runner = CliRunner()


@functools.cache
def city() -> City:
    """A small city (cached): 40 x 40 cells, 100 periods."""
    return synthesize_city(size=40, periods=100, seed=5)


def _frames(c: City) -> dict[str, pl.DataFrame]:
    return {name: pl.from_arrow(getattr(c, name)) for name in TABLES}


# --------------------------------------------------------------------------- synth


def test_city_tables_have_the_agreed_columns_and_are_reproducible() -> None:
    c = city()
    frames = _frames(c)
    assert frames["cells"].columns[:3] == ["cell_id", "x", "y"]
    assert {"addresses", "shops", "stations"} <= set(frames["cells"].columns)
    assert frames["residents"].columns == ["cell_id", "group", "residents"]
    assert set(frames["residents"]["group"]) == {"dutch", "western", "non_western"}
    assert {"incident_id", "time", "type", "source", "x", "y"} <= set(frames["incidents"].columns)
    assert frames["actions"].columns == ["cell_id", "time", "basis", "person", "group"]
    assert set(frames["actions"]["basis"]) == {"area_selection", "concrete_suspicion", "other"}
    assert frames["truth"].columns[:3] == ["cell_id", "period", "true_rate"]
    assert frames["truth"].height == 40 * 40 * 100
    again = synthesize_city(size=40, periods=100, seed=5)
    assert again.incidents.equals(c.incidents) and again.actions.equals(c.actions)
    # every incident lies in a cell of the table
    ids = set(frames["cells"]["cell_id"])
    placed = cell_id_of(
        frames["incidents"]["x"].to_numpy(), frames["incidents"]["y"].to_numpy(), Grid()
    )
    assert set(placed) <= ids
    assert placed == frames["incidents"]["cell_id"].to_list()


def test_planted_segregation_and_area_reporting_rates() -> None:
    frames = _frames(city())
    residents = (
        frames["residents"].pivot(on="group", index="cell_id", values="residents").fill_null(0)
    )
    total = residents["dutch"] + residents["western"] + residents["non_western"]
    share = residents["non_western"] / total
    city_share = residents["non_western"].sum() / total.sum()
    assert 0.08 < city_share < 0.3
    # segregation: a resident's non-Western share around them is far above the city's share
    exposure = float((residents["non_western"] * share).sum() / residents["non_western"].sum())
    assert exposure > 1.8 * city_share
    # reporting: a smaller reported share of (reported + discovered) where the share is high
    incidents = frames["incidents"].with_columns(
        pl.Series(
            "cell_id",
            cell_id_of(
                frames["incidents"]["x"].to_numpy(), frames["incidents"]["y"].to_numpy(), Grid()
            ),
        )
    )
    truth = frames["truth"].group_by("cell_id").agg(pl.col("true_incidents").sum())
    reported = incidents.filter(pl.col("source") == "reported").group_by("cell_id").len()
    joined = (
        residents.with_columns(share.alias("share"))
        .join(truth, on="cell_id")
        .join(reported, on="cell_id", how="left")
        .fill_null(0)
    )
    high = joined.filter(pl.col("share") > 0.4)
    low = joined.filter(pl.col("share") < 0.1)
    rate = lambda f: f["len"].sum() / f["true_incidents"].sum()  # noqa: E731
    assert rate(high) < 0.92 * rate(low), (rate(high), rate(low))


def test_discovered_incidents_track_patrols_and_crime_repeats_nearby() -> None:
    frames = _frames(city())
    incidents = frames["incidents"].with_columns(
        pl.Series(
            "cell_id",
            cell_id_of(
                frames["incidents"]["x"].to_numpy(), frames["incidents"]["y"].to_numpy(), Grid()
            ),
        ),
        pl.col("time").dt.date().alias("day"),
    )
    truth = frames["truth"]
    periods = truth["period"].unique().sort()
    # the period an incident falls in: the last period start on or before its day
    starts = pl.DataFrame({"period": periods}).with_columns(pl.col("period").alias("day"))
    incidents = incidents.sort("day").join_asof(starts, on="day")
    discovered = (
        incidents.filter(pl.col("source") == "discovered").group_by("cell_id", "period").len()
    )
    joined = truth.join(discovered, on=["cell_id", "period"], how="left").fill_null(0)
    patrolled = joined.filter("patrolled")
    other = joined.filter(~pl.col("patrolled"))
    per_true = lambda f: f["len"].sum() / f["true_incidents"].sum()  # noqa: E731
    assert patrolled.height > 0
    assert per_true(patrolled) > 3 * per_true(other), "discovered per true incident follows patrols"
    assert (
        abs(patrolled.height / joined.filter(pl.col("period") >= periods[13]).height - 0.03) < 0.005
    )
    # near repeat: the true rate is higher in a cell the period after a true incident there
    ordered = (
        truth.sort("cell_id", "period")
        .with_columns(
            pl.col("true_incidents").shift(1).over("cell_id").alias("before"),
        )
        .drop_nulls()
    )
    after = ordered.filter(pl.col("before") > 0)["true_rate"].mean()
    assert after > 1.1 * ordered.filter(pl.col("before") == 0)["true_rate"].mean()


def test_cas_style_scores_the_city_better_than_chance() -> None:
    c = city()
    out = score_areas("cas-style", c.incidents, c.cells, backtest=True)
    joined = out.join(pl.from_arrow(c.truth), on=["cell_id", "period"])
    share = joined.filter("selected")["true_incidents"].sum() / joined["true_incidents"].sum()
    assert share > 3 * joined["selected"].mean(), "selected cells hold far more than their area"
    correlation = np.corrcoef(joined["expected_incidents"], joined["true_rate"])[0, 1]
    assert correlation > 0.3


# --------------------------------------------------------------------------- CLI


def test_cli_synth_score_period_and_backtest(tmp_path: Path) -> None:
    folder = tmp_path / "city"
    made = runner.invoke(
        app, ["synth", "cas-style", "-o", str(folder), "--size", "12", "--periods", "30"]
    )
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    output = tmp_path / "scored.parquet"
    args = ["score", "cas-style", str(folder / "incidents.parquet"), "--cells"]
    one = runner.invoke(
        app, [*args, str(folder / "cells.parquet"), "--period", "2021-07-26", "-o", str(output)]
    )
    assert one.exit_code == 0, one.output
    scored = pl.read_parquet(output)
    assert scored["period"].unique().to_list() == [date(2021, 7, 26)]
    assert scored.height == 144
    meta = json.loads(pq.read_schema(output).metadata[b"waarborg"])
    assert meta["instrument_id"] == "cas-style" and meta["area_data"]["cells"] == 144
    assert "incidents:" in one.stderr and "not used: source discovered" in one.stderr
    back = runner.invoke(
        app, [*args, str(folder / "cells.parquet"), "--backtest", "-o", str(tmp_path / "all.csv")]
    )
    assert back.exit_code == 0, back.output
    everything = pl.read_csv(tmp_path / "all.csv", infer_schema_length=None)
    assert everything.height == 144 * (30 - 13)
    assert {"contrib_shops", "expected_incidents", "selected"} <= set(everything.columns)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--period", "2021-07-27"], "not the first day of a period"),
        (["--period", "2020-12-28"], "earlier periods"),
        (["--period", "yesterday"], "not a date"),
        (["--period", "2021-07-26", "--backtest"], "not both"),
    ],
)
def test_cli_score_errors_exit_2_and_write_nothing(
    tmp_path: Path, extra: list[str], words: str
) -> None:
    c = synthesize_city(size=6, periods=20, seed=1)
    c.write(tmp_path)
    output = tmp_path / "scored.parquet"
    result = runner.invoke(
        app,
        [
            "score",
            "cas-style",
            str(tmp_path / "incidents.parquet"),
            "--cells",
            str(tmp_path / "cells.parquet"),
            *extra,
            "-o",
            str(output),
        ],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2
    assert words in result.output.replace("\n", " ")
    assert not output.exists()


def test_cli_score_refuses_mixed_options(tmp_path: Path) -> None:
    missing_cells = runner.invoke(app, ["score", "cas-style", "x.parquet", "-o", "y.parquet"])
    assert missing_cells.exit_code == 2 and "--cells" in missing_cells.output
    case = runner.invoke(
        app, ["score", "generic-selection", "x.parquet", "--backtest", "-o", "y.parquet"]
    )
    assert case.exit_code == 2 and "area instruments" in case.output
    with pytest.raises(WaarborgError, match="scores areas"):
        score("cas-style", {"x": [1]})
    with pytest.raises(WaarborgError, match="scores cases"):
        score_areas("generic-selection", {"x": [1]}, {"cell_id": ["E0N0"]})


def test_instruments_list_shows_area_instruments_and_show_round_trips(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["instruments", "list"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0 and "cas-style" in listed.stdout and "area" in listed.stdout
    assert list_instruments("area") == ["cas-style"]
    assert "cas-style" not in list_instruments()
    assert set(list_instruments(None)) == set(list_instruments()) | {"cas-style"}
    shown = runner.invoke(app, ["instruments", "show", "cas-style"])
    path = tmp_path / "cas.yaml"
    path.write_text(shown.stdout)
    assert load_instrument(path).spec_hash == load_instrument("cas-style").spec_hash
    assert yaml.safe_load(spec_to_yaml(load_instrument("cas-style").spec))["unit"] == "area"


def test_register_entry_and_model_card_quote_goal_and_criteria() -> None:
    spec = load_instrument("cas-style").spec
    entry = register_entry(spec, load_owner(DEMO_OWNER)).to_json_dict()
    assert spec.goal is not None
    assert spec.goal.statement_nl.split(".")[0] in entry["goal"]
    for criterion in spec.goal.success_criteria:
        assert criterion.description_nl in entry["goal"]
    assert "3% vakken van 125 bij 125 meter" in entry["goal"]
    assert "geen gegevens over personen" in entry["source_data"]
    card = model_card(spec, [], lang="nl", format="md")
    assert spec.title_nl in card
    # a case instrument with a goal gets it quoted too
    case = load_instrument("generic-selection").spec.model_copy(update={"goal": spec.goal})
    assert (
        spec.goal.statement_nl.split(".")[0]
        in register_entry(case, load_owner(DEMO_OWNER)).to_json_dict()["goal"]
    )


def test_demo_scores_a_small_city_and_summarises_it(tmp_path: Path) -> None:
    from waarborg.demo import AREA_INSTRUMENT, DemoRun

    run = DemoRun(tmp_path, city_size=10, city_periods=20)
    lines = run._score_areas()
    scored = pl.read_parquet(tmp_path / AREA_INSTRUMENT / "scored.parquet")
    entry = run.summary[AREA_INSTRUMENT]
    assert scored.height == 100 * (20 - 13) == entry["cells"] * entry["periods_scored"]
    assert entry["instrument"]["spec_hash"] == load_instrument(AREA_INSTRUMENT).spec_hash
    assert entry["selected_share"] == pytest.approx(scored["selected"].mean())
    assert all((tmp_path / AREA_INSTRUMENT / f"{t}.parquet").exists() for t in TABLES)
    assert run.city is not None and run.area_scores is not None
    assert "cells" in lines[0]
    lines = run._audit_areas()
    audit = json.loads((tmp_path / AREA_INSTRUMENT / "audit.json").read_text())
    goal = load_instrument(AREA_INSTRUMENT).spec.goal
    assert len(audit["criteria"]) == len(goal.success_criteria)
    assert entry["audit"]["criteria"] == {c["metric"]: c["status"] for c in audit["criteria"]}
    assert set(entry["audit"]["criteria"].values()) <= {"met", "not_met", "unknown"}
    feedback = json.loads((tmp_path / AREA_INSTRUMENT / "feedback.json").read_text())
    assert set(entry["feedback"]["divergence"]) == set(feedback["policies"])
    assert (tmp_path / AREA_INSTRUMENT / "audit-nl.html").stat().st_size > 0
    assert f"of {len(goal.success_criteria)} success criteria met" in lines[0]


def test_area_spec_follows_the_json_schema_and_case_hashes_ignore_the_default_unit() -> None:
    import jsonschema

    from tests.reference import raw_spec
    from waarborg.instruments.spec import parse_spec, spec_hash, spec_json_schema

    raw = raw_spec("cas-style")
    jsonschema.validate(json.loads(json.dumps(raw, default=str)), spec_json_schema())
    case = raw_spec("generic-selection")
    explicit = {**case, "unit": "case"}
    assert spec_hash(parse_spec(explicit)) == spec_hash(parse_spec(case))
    assert spec_hash(parse_spec({**case, "goal": raw["goal"]})) != spec_hash(parse_spec(case))


def test_register_goal_stays_within_the_standard_limit() -> None:
    from waarborg.register.export import field_limit

    spec = load_instrument("cas-style").spec
    assert spec.goal is not None
    many = tuple(
        c.model_copy(update={"description_nl": f"{c.description_nl} ({'x' * 150}) {i}"})
        for i in range(12)
        for c in spec.goal.success_criteria[:1]
    )
    long_goal = spec.goal.model_copy(update={"success_criteria": many})
    entry = register_entry(spec.model_copy(update={"goal": long_goal}), load_owner(DEMO_OWNER))
    goal = entry.to_json_dict()["goal"]
    assert field_limit("goal") == 2500 and len(goal) <= 2500
    assert many[0].description_nl in goal and many[-1].description_nl not in goal
    assert "criteria: zie de specificatie" in goal


def test_the_city_starts_where_the_cas_style_periods_start() -> None:
    from waarborg.areas.synth import START

    spec = load_instrument("cas-style").spec
    assert spec.area is not None and spec.area.period.start == START
    assert city().period.start == START and city().period.days == spec.area.period.days
