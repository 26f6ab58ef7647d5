"""The algorithm-register export, checked against the ministry's published standard.

``REFERENCE`` is the register's own field definition (publication standard 1.0). Every
export is validated here by a checker written against that file alone, independent of
waarborg's pydantic model; and the model is compared with the file field by field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from waarborg import list_instruments, load_instrument
from waarborg.cli import app
from waarborg.errors import WaarborgError
from waarborg.instruments.spec import parse_spec, spec_hash, title_in
from waarborg.register import ProcessFacts, load_owner, register_entry
from waarborg.register.owner import DEMO_OWNER
from waarborg.register.standard import ALLOWED_TAGS, RegisterEntry

REFERENCE_FILE = Path(__file__).parent / "data" / "algoritmeregister-standard-1.0.json"
SHARED_FILE = Path(__file__).parents[2] / "shared/reference/algoritmeregister-standard-1.0.json"
AUTOMATIC = {"lars", "publication_dt"}  # filled in by the register itself
runner = CliRunner()


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))["properties"]


@pytest.mark.skipif(
    not SHARED_FILE.exists(), reason="no shared reference folder beside the checkout"
)
def test_the_copy_of_the_reference_is_the_published_one() -> None:
    assert REFERENCE_FILE.read_bytes() == SHARED_FILE.read_bytes()


def reference_problems(entry: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Everything in ``entry`` that the reference standard does not allow."""
    problems = [f"unknown field {k}" for k in entry if k not in reference]
    for name, rule in reference.items():
        if rule.get("required") is True and name not in entry:
            problems.append(f"missing required field {name}")
        if name in entry:
            problems += check_value(name, entry[name], rule)
    return problems


def check_value(name: str, value: Any, rule: dict[str, Any]) -> list[str]:
    problems = []
    if rule["type"] == "array":
        if "items" in rule:
            for i, item in enumerate(value):
                for key, sub in rule["items"].items():
                    if sub.get("required") is True and key not in item:
                        problems.append(f"{name}[{i}] misses {key}")
                    if key in item and len(item[key]) > sub.get("max_length", 10**9):
                        problems.append(f"{name}[{i}].{key} too long")
        elif "permitted_values" in rule:
            problems += [
                f"{name}: {v!r} not permitted" for v in value if v not in rule["permitted_values"]
            ]
        return problems
    if rule["type"] == "enum" and value not in rule["permitted_values"]:
        problems.append(f"{name}: {value!r} not permitted")
    if len(value) > rule.get("max_length", 10**9):
        problems.append(f"{name}: {len(value)} > {rule['max_length']} characters")
    tags = set(re.findall(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)", value))
    if tags - set(rule.get("allowed_html_tags", [])):
        problems.append(f"{name}: HTML tags {sorted(tags)} not allowed")
    return problems


def test_the_model_agrees_with_the_reference_field_by_field(reference: dict) -> None:
    fields = RegisterEntry.model_fields
    assert set(fields) == set(reference) - AUTOMATIC
    for name, rule in reference.items():
        if name in AUTOMATIC:
            continue
        schema = RegisterEntry.model_json_schema()["properties"][name]
        text = json.dumps(schema)
        if "max_length" in rule and rule["type"] != "array":
            assert f'"maxLength": {rule["max_length"]}' in text, name
        for value in rule.get("permitted_values", []):
            assert json.dumps(value, ensure_ascii=True) in json.dumps(schema), (name, value)
        if rule.get("required") is True:
            assert fields[name].is_required() or fields[name].default in rule.get(
                "permitted_values", []
            ), name
        elif fields[name].is_required():
            pytest.fail(f"{name} is optional in the standard but required in the model")
        if "allowed_html_tags" in rule:
            assert set(rule["allowed_html_tags"]) == ALLOWED_TAGS, name


@pytest.mark.parametrize("instrument", list_instruments())
def test_every_bundled_instrument_exports_a_valid_entry(instrument: str, reference: dict) -> None:
    spec = load_instrument(instrument).spec
    entry = register_entry(spec, load_owner(DEMO_OWNER)).to_json_dict()
    assert reference_problems(entry, reference) == []
    assert entry["name"] == spec.title_nl and spec.purpose_nl in entry["goal"]  # Dutch texts
    assert spec.version in entry["methods_and_models"]
    assert spec_hash(spec)[:12] in entry["methods_and_models"]
    for predictor in spec.predictors:
        assert title_in(predictor, "nl") in entry["source_data"]  # Dutch titles
        assert predictor.title not in entry["source_data"]


def test_the_latest_audit_and_the_process_fill_the_texts(reference: dict) -> None:
    spec = load_instrument("generic-selection").spec
    audit = {
        "n": {"value": 5000},
        "provenance": {"created": "2026-10-01T10:00:00+00:00"},
        "validity": {"auc": {"value": 0.61, "ci": [0.58, 0.64]}},
        "verdicts": [
            {"significant": True, "text_nl": "Groep 'x' wordt 2,1× zo vaak geselecteerd."}
        ],
    }
    process = ProcessFacts("controle-uitwonendenbeurs", "Huisbezoeken kiezen.", 730, "AR-7")
    entry = register_entry(spec, load_owner(DEMO_OWNER), process, audit).to_json_dict()
    assert reference_problems(entry, reference) == []
    assert entry["name"] == "controle-uitwonendenbeurs"
    assert entry["source_id"] == "AR-7"
    assert "2026-10-01" in entry["risks"] and "0,61" in entry["risks"]
    assert "2,1× zo vaak" in entry["risks"]
    assert "730 dagen" in entry["human_intervention"]
    assert "Huisbezoeken kiezen" in entry["goal"]


def test_a_field_too_long_or_not_permitted_is_an_error_naming_it() -> None:
    spec = load_instrument("generic-selection").spec
    owner = load_owner(DEMO_OWNER)
    long_purpose = ProcessFacts("p", "x" * 2600)
    with pytest.raises(WaarborgError, match=r"field 'goal': .*at most 2500 characters"):
        register_entry(spec, owner, long_purpose)
    too_long_name = ProcessFacts("n" * 101, "Kort.")
    with pytest.raises(
        WaarborgError, match=r"field 'name': .*at most 100 characters \(it has 101\)"
    ):
        register_entry(spec, owner, too_long_name)
    bad_tag = owner.model_copy(update={"proportionality": "<script>x</script>"})
    with pytest.raises(WaarborgError, match=r"field 'proportionality': HTML tag\(s\) script"):
        register_entry(spec, bad_tag)


def test_owner_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "owner.yaml"
    path.write_text("organization: X\nstatus: Misschien\ncolour: blue\n", encoding="utf-8")
    with pytest.raises(WaarborgError) as caught:
        load_owner(path)
    message = str(caught.value)
    assert f"{path}: contact_email: Field required" in message
    assert f"{path}: status:" in message and "'Misschien'" in message
    assert f"{path}: colour: Extra inputs are not permitted" in message


def test_cli_exports_an_instrument_and_refuses_a_bad_owner(tmp_path: Path, reference: dict) -> None:
    out = tmp_path / "entry.json"
    result = runner.invoke(app, ["register", "export", "ritax-style", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert reference_problems(json.loads(out.read_text()), reference) == []
    bad = tmp_path / "owner.yaml"
    bad.write_text("organization: X\n", encoding="utf-8")
    out2 = tmp_path / "entry2.json"
    result = runner.invoke(
        app, ["register", "export", "ritax-style", "-o", str(out2), "--owner", str(bad)]
    )
    assert result.exit_code == 2 and "contact_email" in result.output
    assert not out2.exists()


def test_cli_exports_a_registered_process(tmp_path: Path, reference: dict) -> None:
    from waarborg.service.seed import seed_demo
    from waarborg.service.store import Database

    url = f"sqlite:///{tmp_path / 'service.sqlite'}"
    seed_demo(Database(url), cases_per_process=1)
    audit = {
        "n": 123,
        "provenance": {"created": "2026-09-09T00:00:00+00:00"},
        "validity": {},
        "verdicts": [],
    }
    (tmp_path / "audit.json").write_text(json.dumps(audit), encoding="utf-8")
    record = [
        "audits",
        "record",
        "reclasseringsadvies",
        str(tmp_path / "audit.json"),
        "--kind",
        "pre_deployment",
        "--database-url",
        url,
    ]
    assert runner.invoke(app, record).exit_code == 0
    out = tmp_path / "entry.json"
    args = ["register", "export", "reclasseringsadvies", "-o", str(out), "--database-url", url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    entry = json.loads(out.read_text())
    assert entry["name"] == "reclasseringsadvies" and entry["source_id"] == "AR-DEMO-OXREC-STYLE"
    assert "Laatste audit: 2026-09-09, 123 zaken" in entry["risks"]  # the recorded audit
    assert reference_problems(entry, reference) == []
    missing = runner.invoke(app, [*args[:2], "nope", *args[3:]])
    assert missing.exit_code == 2 and "no process named 'nope'" in missing.output


def test_spec_hash_ignores_fields_left_at_their_default() -> None:
    spec = load_instrument("ritax-style").spec
    raw = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    assert "data_rules" not in raw and any("transform" not in p for p in raw["predictors"])
    predictors = [{"transform": [], **p} for p in raw["predictors"]]
    explicit = parse_spec({**raw, "predictors": predictors, "data_rules": None})
    assert spec_hash(explicit) == spec_hash(spec)
    changed = parse_spec({**raw, "version": "9.9.9"})
    assert spec_hash(changed) != spec_hash(spec)


def test_the_entry_never_rounds_the_auc_interval_to_a_point() -> None:
    spec = load_instrument("generic-selection").spec
    audit = {"n": {"value": 90000}, "validity": {"auc": {"value": 0.7004, "ci": [0.6962, 0.7046]}}}
    entry = register_entry(spec, load_owner(DEMO_OWNER), audit=audit).to_json_dict()
    # at two decimals this reads "0,70 (… 0,70 tot 0,70)"; three tell them apart
    assert "AUC): 0,700 (95%-betrouwbaarheidsinterval 0,696 tot 0,705)" in entry["risks"]
