"""A malformed spec fails with the file and the YAML path of the fault."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.reference import raw_spec
from waarborg import SpecError, load_instrument
from waarborg.instruments.spec import spec_json_schema, spec_to_yaml


def _write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _unknown_predictor_in_rule(spec: dict[str, Any]) -> None:
    spec["model"]["outcomes"]["selection"]["weights"]["postcode"] = 1.0


def _cutoffs_not_increasing(spec: dict[str, Any]) -> None:
    spec["bands"]["selection"]["cutoffs"] = [2, 4, 4, 6, 8]


def _missing_coefficient(spec: dict[str, Any]) -> None:
    del spec["model"]["outcomes"]["selection"]["weights"]["age"]


def _missing_level_weight(spec: dict[str, Any]) -> None:
    del spec["model"]["outcomes"]["selection"]["weights"]["education_type"]["wo"]


def _unknown_model_kind(spec: dict[str, Any]) -> None:
    spec["model"]["kind"] = "neural_net"


def _unknown_key(spec: dict[str, Any]) -> None:
    spec["predictors"][0]["imputation"] = "mean"


def _wrong_label_count(spec: dict[str, Any]) -> None:
    spec["bands"]["selection"]["labels"] = ["1", "2"]


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (_unknown_predictor_in_rule, "model", "unknown predictor 'postcode'"),
        (_cutoffs_not_increasing, "bands.selection", "strictly increasing"),
        (_missing_coefficient, "model", "no weight for predictor 'age'"),
        (_missing_level_weight, "model", "weights.education_type"),
        (_unknown_model_kind, "model.kind", "neural_net"),
        (_unknown_key, "predictors.0.imputation", "Extra inputs are not permitted"),
        (_wrong_label_count, "bands.selection", "6 bands but 2 labels"),
    ],
)
def test_malformed_spec_names_file_and_path(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    spec = raw_spec("generic-selection")
    mutate(spec)
    file = _write(tmp_path, spec)
    with pytest.raises(SpecError) as caught:
        load_instrument(file)
    message = str(caught.value)
    assert str(file) in message
    assert f": {path}" in message
    assert words in message


def test_variant_field_must_cover_every_variant(tmp_path: Path) -> None:
    spec = raw_spec("oxrec-style")
    spec["case_fields"][0]["levels"] = ["prisoner", "probationer", "tbs"]
    with pytest.raises(SpecError, match="must equal the variants"):
        load_instrument(_write(tmp_path, spec))


def test_unknown_catalog_id_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="oxrec-style"):
        load_instrument("oxrec")


def test_show_output_loads_back_with_the_same_hash(tmp_path: Path, instrument_id: str) -> None:
    inst = load_instrument(instrument_id)
    file = tmp_path / "shown.yaml"
    file.write_text(spec_to_yaml(inst.spec))
    again = load_instrument(file)
    assert again.spec == inst.spec
    assert again.spec_hash == inst.spec_hash


def test_hash_changes_with_any_number(tmp_path: Path) -> None:
    spec = raw_spec("generic-selection")
    spec["model"]["outcomes"]["selection"]["weights"]["age"]["under_21"] = 3
    changed = load_instrument(_write(tmp_path, spec))
    assert changed.spec_hash != load_instrument("generic-selection").spec_hash


def test_json_schema_accepts_every_bundled_spec(instrument_id: str) -> None:
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(json.dumps(raw_spec(instrument_id)))  # YAML int keys → strings
    jsonschema.validate(document, schema)
