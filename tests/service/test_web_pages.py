"""The web pages over HTTP (both databases): sessions, CSRF, purpose binding, decisions.

The browser itself is in test_web_browser.py; here every rule the pages must keep is
checked against what the API and the database say.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.service.conftest import PASSWORD, Service, make_app, make_revalidation_overdue

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_client(service: Service) -> TestClient:
    """A browser-like client on the same app, over https (the session cookie is Secure)."""
    return TestClient(service.client.app, base_url="https://testserver")


def log_in(client: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    nonce = CSRF.search(client.get("/login").text).group(1)
    response = client.post(
        "/login",
        data={"username": user, "password": password, "csrf": nonce},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)


def test_pages_need_a_session_and_say_where_to_log_in(world: Service) -> None:
    client = web_client(world)
    for path in ("/queue", f"/cases/{world.ids['case']}", "/oversight", "/auditlog"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_session_cookie_is_httponly_secure_and_samesite(world: Service) -> None:
    client = web_client(world)
    nonce = CSRF.search(client.get("/login").text).group(1)
    response = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf": nonce},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if "waarborg_session" in c)
    lowered = cookie.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=lax" in lowered
    assert response.headers["location"] == "/"


def test_login_refuses_wrong_password_forged_form_and_too_many_tries(world: Service) -> None:
    client = web_client(world)
    nonce = CSRF.search(client.get("/login").text).group(1)
    wrong = client.post("/login", data={"username": "ann", "password": "nope", "csrf": nonce})
    assert wrong.status_code == 401 and "Onjuiste gebruikersnaam of wachtwoord" in wrong.text
    assert "waarborg_session" not in client.cookies
    forged = web_client(world).post(
        "/login", data={"username": "ann", "password": PASSWORD, "csrf": "x"}
    )
    assert forged.status_code == 403
    statuses = []
    for _ in range(6):
        nonce = CSRF.search(client.get("/login").text).group(1)
        page = client.post("/login", data={"username": "ann", "password": "no", "csrf": nonce})
        statuses.append(page.status_code)
    assert statuses[-1] == 429, statuses  # the same limiter as POST /api/token


def test_caseworker_decides_through_the_form_and_the_api_sees_it(world: Service) -> None:
    client = log_in(web_client(world), "ann")
    case_id = world.ids["case"]
    queue = client.get("/queue")
    assert f'href="/cases/{case_id}"' in queue.text
    page = client.get(f"/cases/{case_id}")
    case = world.ok("ann", "GET", f"/api/cases/{case_id}")
    assert f"<strong>{case['score']['band']}</strong>" in page.text
    departs = "not_selected" if case["score"]["suggests_selection"] else "selected"
    response = client.post(
        f"/cases/{case_id}/decision",
        data={
            "csrf": CSRF.search(page.text).group(1),
            "outcome": departs,
            "rationale": "The file shows the student moved back home in May.",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    decision = world.ok("ann", "GET", f"/api/cases/{case_id}")["decision"]
    assert decision["outcome"] == departs
    assert decision["follows_score"] is False  # derived from the band, not trusted from the form
    assert decision["decider_name"] == "ann"
    for lang, word in (("nl", "risico"), ("en", "risk")):
        notice = client.get(f"/cases/{case_id}/notice?lang={lang}")
        assert notice.status_code == 200 and word in notice.text.lower()
    pdf = client.get(f"/cases/{case_id}/notice?lang=nl&format=pdf")
    assert pdf.content.startswith(b"%PDF")


def test_forged_or_invalid_decisions_store_nothing(world: Service) -> None:
    client = log_in(web_client(world), "ann")
    case_id = world.ids["case"]
    csrf = csrf_of(client, f"/cases/{case_id}")
    forged = client.post(
        f"/cases/{case_id}/decision",
        data={"csrf": "forged", "outcome": "selected", "rationale": "A long enough reason."},
    )
    assert forged.status_code == 403
    short = client.post(
        f"/cases/{case_id}/decision",
        data={"csrf": csrf, "outcome": "selected", "rationale": "short"},
    )
    assert short.status_code == 422
    assert "Motivering: minstens 10 tekens" in short.text and 'role="alert"' in short.text
    assert world.ok("ann", "GET", f"/api/cases/{case_id}")["decision"] is None
    other_session = log_in(web_client(world), "bob")  # a valid token of another user
    stolen = other_session.post(
        f"/cases/{case_id}/decision",
        data={"csrf": csrf, "outcome": "selected", "rationale": "A long enough reason."},
    )
    assert stolen.status_code == 403  # ann's CSRF token does not fit bob's session
    assert world.ok("ann", "GET", f"/api/cases/{case_id}")["decision"] is None


def test_purpose_binding_holds_on_pages_and_is_logged(world: Service) -> None:
    case_id = world.ids["case"]
    for user in ("bob", "sam", "aud", "admin"):
        client = log_in(web_client(world), user)
        assert client.get(f"/cases/{case_id}").status_code == 404, user
        assert client.get(f"/cases/{case_id}/notice").status_code == 404, user
    log = world.ok("aud", "GET", "/api/auditlog", params={"limit": 1000})["entries"]
    denied = [e for e in log if e["action"] == "access.denied" and e["case_id"] == case_id]
    assert {e["actor"] for e in denied} == {"bob", "sam", "aud", "admin"}


def test_roles_see_their_pages(world: Service) -> None:
    expected = {
        "ann": {"/queue": 200, "/oversight": 403, "/auditlog": 403, "/processes": 200},
        "sue": {"/queue": 200, "/oversight": 200, "/auditlog": 403, "/processes": 200},
        "aud": {"/queue": 403, "/oversight": 200, "/auditlog": 200, "/processes": 200},
        "admin": {"/queue": 403, "/oversight": 403, "/auditlog": 403, "/processes": 200},
    }
    for user, pages in expected.items():
        client = log_in(web_client(world), user)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (user, path)


def test_auditlog_page_reports_the_chain(world: Service) -> None:
    client = log_in(web_client(world), "aud")
    world.headers("aud")  # the API login first: its own log entry comes before the page
    page = client.get("/auditlog?lang=en")
    check = world.ok("aud", "GET", "/api/auditlog/verify")
    assert check["intact"] is True  # the page verifies after logging its own read
    assert f"The chain is intact: {check['entries']} entries" in page.text


def test_admin_registers_a_process_and_bad_input_is_shown(world: Service) -> None:
    client = log_in(web_client(world), "admin")
    csrf = csrf_of(client, "/processes")
    form = {"csrf": csrf, "instrument": "ritax-style", "team": "team-c", "purpose": "Testing."}
    bad = client.post("/processes", data={**form, "name": "C", "retention_days": "soon"})
    assert bad.status_code == 422 and "retention_days" in bad.text
    good = client.post(
        "/processes", data={**form, "name": "C", "retention_days": "90"}, follow_redirects=False
    )
    assert good.status_code == 303
    names = [p["name"] for p in world.ok("admin", "GET", "/api/processes")]
    assert names.count("C") == 1


def test_oversight_page_shows_the_api_figures(world: Service) -> None:
    case_id = world.ids["case"]
    world.ok(
        "ann",
        "POST",
        f"/api/cases/{case_id}/decision",
        json={"outcome": "selected", "rationale": "Agrees with the file.", "follows_score": True},
    )
    client = log_in(web_client(world), "sue")
    page = client.get("/oversight")
    figures = world.ok("sue", "GET", "/api/oversight")
    assert figures["decided"] == 1
    assert re.search(r"<dt>[^<]*</dt><dd>1</dd>", page.text.replace("\n  ", ""))
    assert "<svg" in page.text and 'role="img"' in page.text
    cube = client.get("/oversight/cube.parquet")
    assert cube.status_code == 200 and cube.content[:4] == b"PAR1"


def test_language_switch_sets_the_page_language(world: Service) -> None:
    client = web_client(world)
    assert '<html lang="nl"' in client.get("/login").text
    assert '<html lang="en"' in client.get("/login?lang=en").text
    assert '<html lang="en"' in client.get("/login").text  # remembered in a cookie


def test_cookie_can_be_insecure_for_plain_http_localhost(database_url: str) -> None:
    app = make_app(database_url, cookie_secure=False)
    with TestClient(app) as client:
        nonce = CSRF.search(client.get("/login").text).group(1)
        response = client.post("/login", data={"username": "x", "password": "y", "csrf": nonce})
        assert response.status_code == 401  # no such user, but the form went through


def test_conditions_page_shows_the_same_statuses_as_the_api(world: Service) -> None:
    process = world.ids["A"]
    api = world.ok("aud", "GET", f"/api/processes/{process}/conditions")
    page = log_in(web_client(world), "aud").get(f"/processes/{process}/conditions?lang=en")
    assert page.status_code == 200
    shown = re.findall(r'class="condition (\w+)"', page.text)
    assert shown == [c["status"] for c in api["conditions"]]
    assert "no pre-deployment audit is recorded" in page.text
    ann = log_in(web_client(world), "ann")
    assert ann.get(f"/processes/{process}/conditions").status_code == 403
    assert f'href="/processes/{process}/conditions"' not in ann.get("/processes").text


def test_oversight_dashboard_warns_when_revalidation_is_due(world: Service) -> None:
    client = log_in(web_client(world), "aud")
    assert 'id="revalidation"' not in client.get("/oversight").text
    make_revalidation_overdue(world, world.ids["A"])
    page = client.get("/oversight?lang=en")
    assert 'id="revalidation"' in page.text
    assert "A: revalidation was due on 2020-01-01" in page.text


UNCERTAIN_OXREC = {  # psychiatric history and education unknown: band laag or midden
    "sex": "male",
    "age": 42,
    "violent_index_offence": False,
    "previous_violent_crime": False,
    "previous_drug_crime": False,
    "prior_custody": 1,
    "alcohol_use_disorder": True,
    "drug_use_disorder": False,
    "psychiatric_disorder": None,
    "severe_mental_illness": False,
    "income": "medium",
    "employed": False,
    "education": None,
    "neighbourhood_deprivation": 4,
    "population": "probationer",
}


MIXED_OXREC = {  # band midden..hoog: only some of the possible bands suggest selection
    **UNCERTAIN_OXREC,
    "prior_custody": 0,
    "age": 40,
    "population": "prisoner",
    "previous_violent_crime": True,
    "violent_index_offence": True,
}


def test_an_uncertain_band_asks_the_decider_whether_it_follows(world: Service) -> None:
    process = world.process("advice", "team-a", instrument="oxrec-style")
    case = world.case("ann", process, MIXED_OXREC)
    score = case["score"]
    assert score["band_range"] == ["midden", "hoog"] and score["suggests_selection"] is None
    client = log_in(web_client(world), "ann")
    page = client.get(f"/cases/{case['id']}")
    assert 'name="follows"' in page.text and "midden" in page.text and "hoog" in page.text
    form = {"csrf": CSRF.search(page.text).group(1), "outcome": "selected"}
    form["rationale"] = "Recent reports in the file point to a higher risk."
    unsaid = client.post(f"/cases/{case['id']}/decision", data=form)
    assert unsaid.status_code == 422 and 'role="alert"' in unsaid.text
    assert world.ok("ann", "GET", f"/api/cases/{case['id']}")["decision"] is None
    said = client.post(
        f"/cases/{case['id']}/decision", data={**form, "follows": "no"}, follow_redirects=False
    )
    assert said.status_code == 303
    decision = world.ok("ann", "GET", f"/api/cases/{case['id']}")["decision"]
    assert decision["outcome"] == "selected" and decision["follows_score"] is False


def test_a_band_range_without_a_selected_band_does_not_suggest_selection(world: Service) -> None:
    process = world.process("advice", "team-a", instrument="oxrec-style")
    case = world.case("ann", process, UNCERTAIN_OXREC)  # laag..midden; only hoog selects
    assert case["score"]["band_range"] == ["laag", "midden"]
    assert case["score"]["suggests_selection"] is False
    client = log_in(web_client(world), "ann")
    page = client.get(f"/cases/{case['id']}")
    assert 'name="follows"' not in page.text  # nothing to ask: no possible band selects
    form = {"csrf": CSRF.search(page.text).group(1), "outcome": "selected"}
    form["rationale"] = "Recent reports in the file point to a higher risk."
    assert client.post(f"/cases/{case['id']}/decision", data=form).status_code in (200, 303)
    decision = world.ok("ann", "GET", f"/api/cases/{case['id']}")["decision"]
    assert decision["follows_score"] is False  # a departure, derived from the range


def test_login_redirects_only_within_the_site(world: Service) -> None:
    for target, expected in [
        ("/cases/1", "/cases/1"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\\/evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\tqueue", "/"),
    ]:
        client = web_client(world)
        nonce = CSRF.search(client.get("/login").text).group(1)
        response = client.post(
            "/login",
            data={"username": "ann", "password": PASSWORD, "csrf": nonce, "next": target},
            follow_redirects=False,
        )
        assert response.status_code == 303, target
        assert response.headers["location"] == expected, target


def test_pages_forbid_scripts_frames_and_caching(world: Service) -> None:
    client = log_in(web_client(world), "ann")
    case_id = world.ids["case"]
    for path in ("/login", "/queue", f"/cases/{case_id}", "/cases/999999"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, path
        assert "script-src" not in policy, path  # no scripts, not even from this site
        assert headers["x-frame-options"] == "DENY", path
        assert headers["cache-control"] == "no-store", path
