"""Bad input gets a 4xx with a clear message, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.service.conftest import GENERIC_INPUTS, Service
from waarborg.service.store.models import AuditEntry, Case, Process


def _counts(world: Service) -> tuple[int, int, int]:
    with world.db.transaction() as session:
        return tuple(
            session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Case, Process, AuditEntry)
        )  # type: ignore[return-value]


CASES: list[tuple[dict[str, Any], str | None, str]] = [
    ({**GENERIC_INPUTS, "postcode": "1234AB"}, "postcode", "not an input of generic-selection"),
    ({"education_type": "mbo", "age": 19}, "distance_to_parents_km", "the column is missing"),
    ({**GENERIC_INPUTS, "age": "abc"}, "age", "expected a number"),
    ({**GENERIC_INPUTS, "age": 120}, "age", "outside"),
    ({**GENERIC_INPUTS, "education_type": "phd"}, "education_type", "unknown category 'phd'"),
    ({**GENERIC_INPUTS, "age": None}, "age", "missing value"),
    ({**GENERIC_INPUTS, "age": 10**30}, None, "inputs"),
]


@pytest.mark.parametrize(("inputs", "field", "words"), CASES)
def test_bad_inputs_get_422_naming_the_input(
    world: Service, inputs: dict[str, Any], field: str | None, words: str
) -> None:
    before = _counts(world)
    body = {"subject_ref": "x-1", "inputs": inputs}
    response = world.call("ann", "POST", f"/api/processes/{world.ids['A']}/cases", json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert words in detail
    if field is not None:
        assert detail.startswith(f"inputs.{field}:") and response.json()["field"] == field
    assert _counts(world) == before


@pytest.mark.parametrize(
    "body",
    [
        {"subject_ref": "x", "inputs": {"age": [1, 2]}},
        {"subject_ref": "x", "inputs": "age=19"},
        {"subject_ref": "", "inputs": GENERIC_INPUTS},
        {"subject_ref": "bad\x00ref", "inputs": GENERIC_INPUTS},
        {"inputs": GENERIC_INPUTS},
        {"subject_ref": "x", "inputs": GENERIC_INPUTS, "extra": 1},
    ],
)
def test_wrong_shapes_get_422(world: Service, body: dict[str, Any]) -> None:
    before = _counts(world)
    response = world.call("ann", "POST", f"/api/processes/{world.ids['A']}/cases", json=body)
    assert response.status_code == 422, response.text
    assert _counts(world) == before


def test_a_citizen_service_number_is_not_a_pseudonym(world: Service) -> None:
    body = {"subject_ref": "111222333", "inputs": GENERIC_INPUTS}  # passes the 11-test
    response = world.call("ann", "POST", f"/api/processes/{world.ids['A']}/cases", json=body)
    assert response.status_code == 422 and "citizen service number" in response.json()["detail"]


def test_malformed_json_gets_422(world: Service) -> None:
    headers = {"Content-Type": "application/json"}
    path = f"/api/processes/{world.ids['A']}/cases"
    response = world.call("ann", "POST", path, content=b'{"subject_ref": ', headers=headers)
    assert response.status_code == 422


def test_oversized_bodies_get_413(world: Service) -> None:
    before = _counts(world)
    path = f"/api/processes/{world.ids['A']}/cases"
    big = {"subject_ref": "x", "inputs": {**GENERIC_INPUTS, "education_type": "m" * 1_100_000}}
    response = world.call("ann", "POST", path, json=big)
    assert response.status_code == 413 and "too large" in response.json()["detail"]

    def chunks() -> Any:  # streamed: no Content-Length
        yield b'{"subject_ref": "x", "inputs": {"a": "'
        for _ in range(20):
            yield b"y" * 100_000
        yield b'"}}'

    headers = {"Content-Type": "application/json"}
    response = world.call("ann", "POST", path, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert _counts(world) == before


def test_a_streamed_body_under_the_limit_is_read(world: Service) -> None:
    import json

    body = json.dumps({"subject_ref": "x-2", "inputs": GENERIC_INPUTS}).encode()
    headers = {"Content-Type": "application/json"}
    path = f"/api/processes/{world.ids['A']}/cases"
    response = world.call(
        "ann", "POST", path, content=iter([body[:10], body[10:]]), headers=headers
    )
    assert response.status_code == 201, response.text


def test_process_registration_checks_instrument_and_name(world: Service) -> None:
    before = _counts(world)
    body = {
        "name": "C",
        "instrument": "../../etc/passwd",
        "team": "team-a",
        "purpose": "x",
        "retention_days": 30,
    }
    response = world.call("admin", "POST", "/api/processes", json=body)
    assert response.status_code == 422 and "unknown instrument" in response.json()["detail"]
    taken = {**body, "name": "A", "instrument": "generic-selection"}
    assert world.call("admin", "POST", "/api/processes", json=taken).status_code == 409
    for days in (0, -1, 10**9):
        wrong = {**body, "instrument": "generic-selection", "retention_days": days}
        assert world.call("admin", "POST", "/api/processes", json=wrong).status_code == 422
    assert (
        world.call(
            "admin", "POST", "/api/processes", json={**taken, "name": "D", "team": []}
        ).status_code
        == 422
    )
    assert _counts(world) == before
