"""Every page in Dutch is entirely Dutch: no English word of the catalogs on it.

Logs in as each role and renders every page (with the Dutch setting, the default): the
queue, a case before and after the decision, the notice as HTML and as PDF text,
oversight, processes, conditions, the audit log, users, the account pages, error pages,
a wrong password, a refused form. Each is checked with :mod:`tests.dutch`.
"""

from __future__ import annotations

import re
import zlib
from base64 import a85decode

import pytest
from fastapi.testclient import TestClient

from tests.dutch import assert_entirely_dutch
from tests.service.conftest import PASSWORD, Service, make_revalidation_overdue
from tests.service.test_web_pages import CSRF, csrf_of, log_in, web_client

# Names of people, processes and teams in this test: not words.
NAMES = ("ann", "sue", "aud", "admin")

ALLOW = NAMES

LOW = {"education_type": "wo", "age": 30, "distance_to_parents_km": 36.6}


def pdf_text(data: bytes) -> str:
    """The text of a reportlab PDF: the strings its page streams show (Tj, TJ)."""
    text = []
    for head, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        if b"ASCII85Decode" in head:
            body = a85decode(body.strip().removeprefix(b"<~").removesuffix(b"~>"))
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", body):
            unescaped = re.sub(
                rb"\\([0-7]{3}|.)",
                lambda m: bytes([int(m[1], 8)]) if m[1].isdigit() else m[1],
                raw,
            )
            text.append(unescaped.decode("cp1252"))
    return " ".join(text)


def _dutch(response: object, where: str, status: int = 200) -> None:
    assert response.status_code == status, (where, response.status_code, response.text[:500])
    assert_entirely_dutch(response.text, ALLOW, where)


@pytest.fixture
def dutch_world(service: Service) -> Service:
    """A team with a case worker and a supervisor, an auditor, a process with two cases."""
    for name, role, team in [
        ("ann", "caseworker", "team-a"),
        ("sue", "supervisor", "team-a"),
        ("aud", "auditor", None),
    ]:
        service.add_user(name, role, team)
    service.process(
        "uitwonendenbeurs",
        "team-a",
        purpose="Studenten met een uitwonendenbeurs kiezen voor een huisbezoek.",
        register_ref="AR-2026-001",
        contact="Bel 0800-123.",
    )
    process = service.ids["uitwonendenbeurs"]
    service.ids["case"] = service.case("ann", process)["id"]
    service.ids["low"] = service.case("ann", process, LOW)["id"]
    return service


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_in_dutch_is_entirely_dutch(dutch_world: Service) -> None:
    world = dutch_world
    case, low = world.ids["case"], world.ids["low"]
    process = world.ids["uitwonendenbeurs"]

    anonymous = web_client(world)
    _dutch(anonymous.get("/login"), "login page")
    nonce = csrf_of(anonymous, "/login")
    wrong = anonymous.post("/login", data={"username": "ann", "password": "nee", "csrf": nonce})
    _dutch(wrong, "wrong password", 401)
    assert "Onjuiste gebruikersnaam of wachtwoord" in wrong.text

    ann = log_in(web_client(world), "ann")
    _dutch(ann.get("/queue"), "queue")
    _dutch(ann.get(f"/cases/{case}"), "case before the decision")
    opened = ann.get(f"/cases/{low}")
    _dutch(opened, "low case")
    assert "36,6" in opened.text and "36.6" not in opened.text
    token = csrf_of(ann, f"/cases/{case}")
    short = ann.post(
        f"/cases/{case}/decision",
        data={"csrf": token, "outcome": "selected", "rationale": "kort"},
    )
    _dutch(short, "decision refused", 422)
    assert "Motivering: minstens 10 tekens" in short.text
    decided = ann.post(
        f"/cases/{case}/decision",
        data={"csrf": token, "outcome": "selected", "rationale": "Klopt met het dossier."},
    )
    _dutch(decided, "decided case")
    assert "(medewerker)" in decided.text and "(caseworker)" not in decided.text
    _dutch(ann.get(f"/cases/{case}/notice?lang=nl"), "notice")
    pdf = ann.get(f"/cases/{case}/notice?lang=nl&format=pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    assert "Uitleg over het besluit over uw zaak" in text and "Bezwaar" in text.title()
    assert_entirely_dutch(text, ALLOW, "PDF notice")
    _dutch(ann.get("/processes"), "processes as case worker")
    _dutch(ann.get("/password"), "password page")
    token = csrf_of(ann, "/password")
    differ = {"csrf": token, "current_password": PASSWORD}
    differ |= {"new_password": "plum orbit cactus seventy", "new_password_again": "plum orbit"}
    _dutch(ann.post("/password", data=differ), "passwords differ", 422)
    wrong_current = differ | {
        "current_password": "nee",
        "new_password_again": "plum orbit cactus seventy",
    }
    _dutch(ann.post("/password", data=wrong_current), "wrong current password", 422)
    weak = differ | {"new_password": "Password1234", "new_password_again": "Password1234"}
    _dutch(ann.post("/password", data=weak), "guessable password", 422)
    for path, status in (("/oversight", 403), ("/auditlog", 403), ("/cases/99999", 404)):
        _dutch(ann.get(path), f"error page {path}", status)
    assert "geen zaak 99999" in ann.get("/cases/99999").text

    make_revalidation_overdue(world, process)
    sue = log_in(web_client(world), "sue")
    _dutch(sue.get("/queue"), "queue as supervisor")
    overdue = sue.get("/oversight")
    _dutch(overdue, "oversight as supervisor")
    assert "hervalidatie" in overdue.text.lower() and 'id="revalidation"' in overdue.text
    _dutch(sue.get(f"/processes/{process}/conditions"), "conditions as supervisor")

    aud = log_in(web_client(world), "aud")
    oversight = aud.get("/oversight")
    _dutch(oversight, "oversight as auditor")
    log = aud.get("/auditlog")
    _dutch(log, "audit log")
    assert "besluit vastgelegd" in log.text and "(medewerker)" in log.text
    _dutch(aud.get("/processes"), "processes as auditor")
    _dutch(aud.get(f"/processes/{process}/conditions"), "conditions as auditor")
    refused = aud.get("/queue")
    _dutch(refused, "queue refused", 403)
    assert "de werkvoorraad" in refused.text and "medewerker of leidinggevende" in refused.text

    admin = log_in(web_client(world), "admin")
    processes = admin.get("/processes")
    _dutch(processes, "processes as admin")
    assert "Studenten met een uitwonendenbeurs" in processes.text
    bad = {"csrf": csrf_of(admin, "/processes"), "name": "x", "instrument": "generic-selection"}
    bad |= {"team": "team-a", "purpose": "Een doel.", "retention_days": "veel"}
    _dutch(admin.post("/processes", data=bad), "process refused", 422)
    users = admin.get("/users")
    _dutch(users, "users")
    user_id = re.search(r'href="/users/(\d+)">ann<', users.text).group(1)
    _dutch(admin.get(f"/users/{user_id}"), "user page")
    new = {"csrf": csrf_of(admin, "/users"), "name": "eva", "role": "caseworker"}
    _dutch(admin.post("/users", data=new | {"password": "kort"}), "new user refused", 422)
    _dutch(admin.get("/queue"), "queue refused to admin", 403)


def test_the_pages_are_english_in_english(dutch_world: Service) -> None:
    client: TestClient = log_in(web_client(dutch_world), "ann")
    page = client.get("/queue?lang=en")
    assert "Queue" in page.text and "Werkvoorraad" not in page.text
    assert "(case worker)" in page.text
    refused = client.get("/oversight")  # the language cookie holds
    assert "oversight needs the role supervisor or auditor; you are case worker" in refused.text
    assert CSRF.search(client.get("/password").text)
