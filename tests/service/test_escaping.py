"""Every page and notice escapes what people typed; every answer carries the security
headers; 422 answers echo nothing (issue 10, parts 1 and 6). Both databases.

The values are injected through the real paths: a user, a team, a process (name,
purpose, register reference, contact, objection, lawful basis, organisation), a case's
subject reference, a decision's rationale, a failed login's user name, the login page's
``next`` and the forms that are shown again after a mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from tests.service.conftest import GENERIC_INPUTS, Service
from tests.service.test_web_pages import CSRF, csrf_of, log_in, web_client
from waarborg.service.store.models import User
from waarborg.service.web import pages
from waarborg.service.web.i18n import LANGS, templates

PAYLOAD = (
    "<meta http-equiv=refresh content=0;url=//evil.example/x>"
    '<script>alert(1)</script>"><img src=x>{{7*7}}'
)
RAW = ("<meta http-equiv", "<script>alert", "<img src=x")
REFLECTED_NEXT = '/"><meta http-equiv=refresh content="0;url=http://evil">'


def poison(tag: str) -> str:
    """A value that names its field, then the attack."""
    return f"{tag}: {PAYLOAD}"


def assert_escaped(text: str, *tags: str) -> None:
    """No raw markup of the attack in ``text``; each tagged value shown, escaped."""
    for raw in RAW:
        assert raw not in text, raw
    for tag in tags:
        assert str(escape(poison(tag))) in text, tag


@pytest.fixture
def poisoned(service: Service) -> Iterator[Service]:
    """A team, users, a process, cases and a decision whose every text is an attack.

    ``service.ids`` gets "process", "open" (an undecided case) and "decided".
    """
    team, worker = poison("team"), poison("worker")
    service.add_user(worker, "caseworker", team)
    service.add_user("sup", "supervisor", team)
    service.add_user("aud", "auditor")
    fields = ("purpose", "register_ref", "contact", "objection", "lawful_basis", "organisation")
    extra: dict[str, Any] = {field: poison(field) for field in fields}
    service.process(poison("process"), team, decider_disclosure="name", **extra)
    process = service.ids["process"] = service.ids[poison("process")]
    for key in ("open", "decided"):
        body = {"subject_ref": poison(key), "inputs": GENERIC_INPUTS}
        path = f"/api/processes/{process}/cases"
        service.ids[key] = service.ok(worker, "POST", path, 201, json=body)["id"]
    case = service.ok(worker, "GET", f"/api/cases/{service.ids['decided']}")
    decision = {
        "outcome": "selected",
        "rationale": poison("rationale"),
        "follows_score": bool(case["score"]["suggests_selection"]),
    }
    service.ok(worker, "POST", f"/api/cases/{case['id']}/decision", json=decision)
    failed = {"username": poison("login"), "password": "wrong"}
    assert service.client.post("/api/token", data=failed).status_code == 401
    yield service


def test_case_worker_pages_escape_cases_processes_and_names(poisoned: Service) -> None:
    client = log_in(web_client(poisoned), poison("worker"))
    queue = client.get("/queue").text
    assert_escaped(queue, "open", "process", "worker")
    opened = client.get(f"/cases/{poisoned.ids['open']}").text
    assert_escaped(opened, "open", "process", "worker")
    decided = client.get(f"/cases/{poisoned.ids['decided']}").text
    assert_escaped(decided, "decided", "process", "rationale", "worker")
    processes = client.get("/processes").text
    assert_escaped(processes, "process", "purpose", "team", "register_ref")


def test_a_refused_decision_shows_the_typed_rationale_escaped(poisoned: Service) -> None:
    client = log_in(web_client(poisoned), poison("worker"))
    case = f"/cases/{poisoned.ids['open']}"
    form = {"csrf": csrf_of(client, case), "outcome": "maybe", "rationale": poison("again")}
    page = client.post(f"{case}/decision", data=form)
    assert page.status_code == 422
    assert_escaped(page.text, "again")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_notices_escape_every_process_and_decision_text(poisoned: Service, lang: str) -> None:
    tags = ("process", "rationale", "worker", "register_ref", "contact", "objection")
    tags += ("lawful_basis", "organisation")
    path = f"/cases/{poisoned.ids['decided']}/notice?lang={lang}"
    page = log_in(web_client(poisoned), poison("worker")).get(path)
    api = poisoned.call(poison("worker"), "GET", f"/api{path}")
    for response in (page, api):
        assert response.status_code == 200
        assert_escaped(response.text, *tags)
        assert_security_headers(response.headers)


def test_oversight_escapes_decider_and_team_names(poisoned: Service) -> None:
    page = log_in(web_client(poisoned), "sup").get("/oversight")
    assert page.status_code == 200
    assert_escaped(page.text, "worker", "team")


def test_auditor_pages_escape_the_log_and_the_conditions(poisoned: Service) -> None:
    client = log_in(web_client(poisoned), "aud")
    log = client.get("/auditlog")
    assert log.status_code == 200
    assert_escaped(log.text, "worker")  # the actor's name
    assert poison("login") not in log.text  # the failed login's typed name, never raw
    conditions = client.get(f"/processes/{poisoned.ids['process']}/conditions")
    assert conditions.status_code == 200
    assert_escaped(conditions.text, "process")


def test_admin_form_shown_again_escapes_what_was_typed(poisoned: Service) -> None:
    client = log_in(web_client(poisoned), "admin")
    form = {"csrf": csrf_of(client, "/processes"), "name": poison("form-name")}
    form |= {"instrument": poison("form-instrument"), "team": poison("form-team")}
    form |= {"purpose": poison("form-purpose"), "retention_days": "soon"}
    page = client.post("/processes", data=form)
    assert page.status_code == 422
    assert_escaped(page.text, "form-name", "form-instrument", "form-team", "form-purpose")


def test_login_page_escapes_the_next_target_and_the_typed_name(poisoned: Service) -> None:
    client = web_client(poisoned)
    page = client.get("/login", params={"next": REFLECTED_NEXT})
    assert_escaped(page.text)
    assert f'name="next" value="{escape(REFLECTED_NEXT)}"' in page.text
    nonce = CSRF.search(page.text).group(1)
    failed = client.post(
        "/login",
        data={"username": poison("typed"), "password": "wrong", "csrf": nonce},
    )
    assert failed.status_code == 401
    assert_escaped(failed.text, "typed")


def test_every_web_template_escapes_its_values() -> None:
    """A template rendered straight, outside any route (the error page, for one)."""
    for lang in LANGS:
        env = templates(lang).env
        assert env.autoescape is True
        page = env.get_template("error.html.j2").render(
            lang=lang, user=None, path="/", message=poison("message")
        )
        assert_escaped(page, "message")


def test_web_templates_have_no_inline_styles() -> None:
    """The policy allows no inline style: every style is in static/waarborg.css."""
    folder = pages.STATIC.parent / "templates"
    templates = sorted(folder.glob("*.j2"))
    assert templates
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<style|\sstyle=", text), template.name


# --------------------------------------------------------------------------- headers


def assert_security_headers(headers: Any, *, docs: bool = False) -> None:
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert ("script-src 'self'" in policy) == docs
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_json_answers_and_errors_carry_the_page_headers(poisoned: Service) -> None:
    answers = [
        poisoned.call("admin", "GET", "/api/processes"),
        poisoned.call(None, "GET", "/api/processes"),  # 401
        poisoned.call("admin", "GET", "/api/cases/999999"),  # 404
        poisoned.call("admin", "POST", "/api/processes", json={}),  # 422
        poisoned.client.get("/openapi.json"),
        web_client(poisoned).get("/login"),
    ]
    for answer in answers:
        assert_security_headers(answer.headers)
        assert answer.status_code in (200, 401, 404, 422), answer.text


def test_docs_load_swagger_ui_from_this_site_only(service: Service) -> None:
    page = service.client.get("/docs")
    assert page.status_code == 200
    assert_security_headers(page.headers, docs=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources), sources
    assert "<script>" not in page.text  # no inline script: the policy would refuse it
    for source in sources:
        if source.startswith("/"):
            assert service.client.get(source).status_code == 200, source
    assert service.client.get("/redoc").status_code == 404  # FastAPI's CDN page is off


# --------------------------------------------------------------------------- 422


def _error_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The published 422 schema, with the document's components to resolve its refs."""
    return {
        "$ref": "#/components/schemas/HTTPValidationError",
        "components": openapi["components"],
    }


def test_422_answers_echo_nothing_and_match_the_published_schema(service: Service) -> None:
    secret = "hunter2-" * 30  # longer than the schema allows: a validation error
    user = {"name": "new", "password": secret, "role": "auditor"}
    answer = service.call("admin", "POST", "/api/users", json=user)
    assert answer.status_code == 422
    assert secret not in answer.text
    assert "password" in answer.json()["detail"][0]["loc"]
    schema = _error_schema(service.client.get("/openapi.json").json())
    jsonschema.validate(answer.json(), schema)
    assert set(answer.json()["detail"][0]) == {"loc", "msg", "type"}
    weak = "hunter2"  # refused by the password policy, not the schema: no echo either
    answer = service.call("admin", "POST", "/api/users", json=user | {"password": weak})
    assert answer.status_code == 422 and weak not in answer.text
    assert answer.json()["field"] == "password"


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "\\ud800", "password": "x", "role": "auditor"}',  # invalid and unencodable
        '{"name": "ok-\\udfff", "password": "correct horse battery staple", "role": "auditor"}',
        '{"name": "new", "password": "pass-\\ud800-word-long", "role": "auditor"}',
        b'{"name": "raw-\xed\xa0\x80", "password": "correct horse battery", "role": "auditor"}',
    ],
)
def test_a_lone_surrogate_anywhere_is_refused_with_422(service: Service, body: Any) -> None:
    answer = service.call(
        "admin", "POST", "/api/users", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    jsonschema.validate(answer.json(), _error_schema(service.client.get("/openapi.json").json()))
    assert_security_headers(answer.headers)
    assert user_names(service) == ["admin"]  # nothing stored


def test_a_surrogate_pair_is_one_valid_character(service: Service) -> None:
    body = (
        '{"name": "smile-\\ud83d\\ude00", "password": "correct horse battery", "role": "auditor"}'
    )
    answer = service.call(
        "admin", "POST", "/api/users", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "smile-\U0001f600"


def test_surrogates_in_cases_and_decisions_are_refused(service: Service) -> None:
    service.add_user("ann", "caseworker", "team-a")
    process = service.process("A", "team-a")
    for path, body in [
        (f"/api/processes/{process}/cases", '{"subject_ref": "\\ud800", "inputs": {}}'),
        (f"/api/processes/{process}/cases", '{"subject_ref": "s", "inputs": {"\\ud800": 1}}'),
        ("/api/cases/1/decision", '{"outcome": "selected", "rationale": "\\udc00 long enough"}'),
    ]:
        answer = service.call(
            "ann", "POST", path, content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, (path, answer.text)


def user_names(service: Service) -> list[str]:
    with service.db.transaction() as session:
        return list(session.scalars(select(User.name)))


def test_a_client_without_content_type_is_held_to_the_same_rule(service: Service) -> None:
    client: TestClient = service.client
    answer = client.post(
        "/api/users",
        content=b'{"name": "\\ud800", "password": "x", "role": "auditor"}',
        headers=service.headers("admin"),
    )
    assert answer.status_code == 422, answer.text


def test_a_streamed_body_split_inside_the_escape_is_refused_too(service: Service) -> None:
    chunks = [b'{"name": "x\\ud8', b'00", "password": "correct horse battery", ', b'"role": "a"}']
    answer = service.call(
        "admin",
        "POST",
        "/api/users",
        content=iter(chunks),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["type"] == "unicode_invalid"
