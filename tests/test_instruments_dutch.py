"""Dutch titles in specs: required with ``lang: [nl, en]``, and used by the explanation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from waarborg.errors import SpecError
from waarborg.instruments.explain import explain
from waarborg.instruments.spec import (
    catalog_ids,
    catalog_path,
    level_title_in,
    load_spec,
    parse_spec,
    spec_hash,
    title_in,
)


def _raw(instrument_id: str) -> dict[str, Any]:
    return yaml.safe_load(catalog_path(instrument_id).read_text(encoding="utf-8"))


@pytest.mark.parametrize("instrument_id", catalog_ids())
def test_every_catalog_spec_declares_dutch_and_gives_every_title(instrument_id: str) -> None:
    spec = load_spec(instrument_id)
    assert "nl" in spec.lang
    items = [*spec.case_fields, *spec.predictors, *spec.outcomes, *spec.model.domains]
    for item in items:
        assert title_in(item, "nl") not in (item.name, item.title), item.name
    for p in spec.predictors:
        for level in p.model_levels():
            assert level_title_in(p, level, "nl"), (p.name, level)


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("predictors.age.title_nl", lambda raw: raw["predictors"][1].pop("title_nl")),
        ("predictors.age.unit_nl", lambda raw: raw["predictors"][1].pop("unit_nl")),
        (
            "predictors.age.level_titles_nl",
            lambda raw: raw["predictors"][1]["level_titles_nl"].pop("under_21"),
        ),
        ("outcomes.selection.title_nl", lambda raw: raw["outcomes"][0].pop("title_nl")),
    ],
)
def test_a_missing_dutch_title_is_an_error_naming_file_and_field(
    tmp_path: Path, path: str, edit: Any
) -> None:
    raw = _raw("generic-selection")
    edit(raw)
    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(spec_file)
    message = str(caught.value)
    assert "mine.yaml" in message and path in message and "lang: [nl" in message


def test_band_and_domain_labels_need_dutch_titles_but_numbers_do_not() -> None:
    raw = _raw("ritax-style")
    del raw["model"]["domains"][0]["levels"]["label_titles_nl"]
    with pytest.raises(SpecError, match=r"model\.domains\.family\.levels\.label_titles_nl"):
        parse_spec(raw)
    raw = _raw("oxrec-style")
    raw["bands"]["violent"]["label_titles_nl"] = {}
    with pytest.raises(SpecError, match=r"bands\.violent\.label_titles_nl.*'laag'"):
        parse_spec(raw)
    # category labels "1".."6" read the same in every language
    assert not load_spec("generic-selection").bands["selection"].label_titles_nl


def test_without_lang_nl_dutch_titles_stay_optional_and_the_hash_is_unchanged() -> None:
    raw = _raw("generic-selection")
    del raw["lang"]
    for p in raw["predictors"]:
        for key in ("title_nl", "unit_nl", "level_titles_nl", "level_titles"):
            p.pop(key, None)
    del raw["outcomes"][0]["title_nl"]
    english = parse_spec(raw)
    assert english.lang == ["en"]
    assert title_in(english.predictor("age"), "nl") == "Age"  # falls back to the title
    explicit = parse_spec({**raw, "lang": ["en"]})
    assert spec_hash(explicit) == spec_hash(english)  # the default language is no content
    assert spec_hash(english) != spec_hash(load_spec("generic-selection"))


def test_a_level_title_must_name_a_declared_level() -> None:
    raw = _raw("generic-selection")
    raw["predictors"][0]["level_titles_nl"]["phd"] = "promotie"
    with pytest.raises(SpecError, match=r"level_titles_nl names unknown levels \['phd'\]"):
        parse_spec(raw)


def test_the_dutch_explanation_uses_dutch_titles_levels_and_decimal_commas() -> None:
    case = {"education_type": "hbo", "age": 23, "distance_to_parents_km": 36.6}
    text = str(explain("generic-selection", case, lang="nl"))
    assert "Soort opleiding = hbo: verhoogt de score met 1" in text
    assert "Leeftijd = 23 jaar" in text
    assert "Afstand tot het adres van de ouders = 36,6 km" in text
    for english in ("Type of education", "Age", "distance_to_parents_km", "36.6", "selection"):
        assert english not in text
    english = str(explain("generic-selection", case, lang="en"))
    assert "Type of education = hbo" in english and "36.6 km" in english


def test_the_dutch_explanation_shows_level_titles_and_yes_no() -> None:
    case = {
        "population": "prisoner",
        "sex": "female",
        "age": 40,
        "violent_index_offence": 1,
        "previous_violent_crime": 0,
        "previous_drug_crime": 0,
        "prior_custody": 0,
        "alcohol_use_disorder": 0,
        "drug_use_disorder": 0,
        "psychiatric_disorder": None,
        "severe_mental_illness": 0,
        "income": "high",
        "employed": 1,
        "education": "higher",
        "neighbourhood_deprivation": 3,
    }
    explanation = explain("oxrec-style", case, lang="nl")
    shown = {f.name: f.shown for f in explanation.factors}
    assert shown["sex"] == "vrouw" and shown["income"] == "hoog"
    assert shown["education"] == "hoger onderwijs" and shown["employed"] == "ja"
    assert shown["psychiatric_disorder"] == "onbekend"
    assert explanation.band is not None
    assert f"categorie {explanation.band}" in explanation.lines[0]  # laag/midden/hoog
    assert "Recidive met een geweldsdelict" in explanation.lines[0]


def test_the_json_schema_describes_the_dutch_fields() -> None:
    from waarborg.instruments.spec import spec_json_schema

    schema = spec_json_schema()
    assert "lang" in schema["properties"]
    defs = schema["$defs"]
    for model, fields in {
        "Predictor": ("title_nl", "unit_nl", "level_titles", "level_titles_nl"),
        "Outcome": ("title_nl",),
        "Band": ("label_titles", "label_titles_nl"),
        "Domain": ("title_nl",),
        "CaseField": ("title_nl", "level_titles_nl"),
    }.items():
        assert set(fields) <= set(defs[model]["properties"]), model
