"""Notices to the person concerned (condition 5): Dutch and English, HTML and PDF."""

from __future__ import annotations

from tests.service.conftest import Service
from waarborg import load_instrument

RATIONALE = "The records show <b>two</b> addresses; a home visit is proportionate."


def _decided(world: Service, process: str = "A") -> int:
    case_id = world.case("ann", world.ids[process])["id"]
    body = {"outcome": "selected", "rationale": RATIONALE, "follows_score": True}
    world.ok("ann", "POST", f"/api/cases/{case_id}/decision", json=body)
    return case_id


def test_the_dutch_notice_says_what_was_used_what_it_said_and_who_decided(world: Service) -> None:
    case_id = _decided(world)
    response = world.call("sue", "GET", f"/api/cases/{case_id}/notice?lang=nl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    for words in [
        '<html lang="nl">',
        "Wij gebruikten een risico-inschatting",
        f"{load_instrument('generic-selection').spec.title_nl} "
        f"(versie {load_instrument('generic-selection').version})",
        "Algoritmeregister van de overheid, onder: AR-2026-001",
        "De uitkomst was: categorie 6",
        "Afstand tot het adres van de ouders: 0,4 km. Verhoogt de score met 4.",  # Dutch title
        "Het programma heeft niet zelf besloten",
        "door een medewerker van team team-a",
        "u bent gekozen voor een vervolgstap",
        "Dit besluit komt overeen met de uitkomst van het programma",
        "&lt;b&gt;two&lt;/b&gt;",  # the rationale, escaped
        "bezwaar maken",
        "Call 0800-123",
        f"Kenmerk: zaak {case_id}",
    ]:
        assert words in html, words
    assert "<b>two</b>" not in html


def test_the_english_notice_and_a_named_decider(world: Service) -> None:
    world.process(
        "named",
        "team-a",
        decider_disclosure="name",
        organisation="DUO-like agency",
        objection="Write to Objections, PO Box 1, within six weeks.",
    )
    case_id = world.case(
        "ann", world.ids["named"], {"education_type": "wo", "age": 30, "distance_to_parents_km": 50}
    )["id"]
    body = {"outcome": "selected", "rationale": RATIONALE, "follows_score": False}
    world.ok("ann", "POST", f"/api/cases/{case_id}/decision", json=body)
    html = world.call("ann", "GET", f"/api/cases/{case_id}/notice?lang=en").text
    for words in [
        '<html lang="en">',
        "DUO-like agency",
        "The result was: category 1",
        "the program suggests no next step",
        "None of your information made the result higher or lower",
        "The decision was taken by ann (case worker)",
        "decided differently from what the program suggested",
        "Write to Objections, PO Box 1, within six weeks.",
        "Would you like to know more about this program? Ask us.",
    ]:
        assert words in html, words


def test_the_pdf_notice_is_print_ready_and_reproducible(world: Service) -> None:
    case_id = _decided(world)
    path = f"/api/cases/{case_id}/notice?lang=nl&format=pdf"
    first, again = world.call("ann", "GET", path), world.call("ann", "GET", path)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF-") and len(first.content) > 2000
    assert first.content == again.content


def test_a_notice_follows_a_decision_and_is_logged(world: Service) -> None:
    response = world.call("ann", "GET", f"/api/cases/{world.ids['case']}/notice")
    assert response.status_code == 409 and "no decision yet" in response.json()["detail"]
    case_id = _decided(world)
    assert world.call("ann", "GET", f"/api/cases/{case_id}/notice?lang=de").status_code == 422
    assert world.call("ann", "GET", f"/api/cases/{case_id}/notice?lang=en").status_code == 200
    log = world.ok("aud", "GET", "/api/auditlog?limit=1000")["entries"]
    reads = [e for e in log if e["action"] == "notice.read" and e["case_id"] == case_id]
    assert [e["detail"] for e in reads] == ['{"format":"html","lang":"en"}']
