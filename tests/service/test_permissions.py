"""The permission matrix: every role × every endpoint × own team / other team.

"own" is a resource of process A, whose team is that of the case worker (ann) and the
supervisor (sue); "other" is one of process B (another team). The auditor and the admin
belong to no team. Purpose binding: a case outside your processes is "not found" (404),
never "forbidden", so its existence does not leak.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from tests.service.conftest import GENERIC_INPUTS, Service

ROLES = {"caseworker": "ann", "supervisor": "sue", "auditor": "aud", "admin": "admin"}
_n = itertools.count()

#: (method, path, scope) -> expected status for caseworker, supervisor, auditor, admin.
MATRIX: dict[tuple[str, str, str], tuple[int, int, int, int]] = {
    ("GET", "/api/me", "-"): (200, 200, 200, 200),
    ("POST", "/api/users", "-"): (403, 403, 403, 201),
    ("GET", "/api/users", "-"): (403, 403, 403, 200),
    ("GET", "/api/access-changes", "-"): (403, 403, 200, 200),
    ("GET", "/api/processes", "-"): (200, 200, 200, 200),
    ("GET", "/api/processes/{process}", "own"): (200, 200, 200, 200),
    ("GET", "/api/processes/{process}", "other"): (200, 200, 200, 200),
    ("POST", "/api/processes", "-"): (403, 403, 403, 201),
    ("POST", "/api/processes/{process}/cases", "own"): (201, 201, 403, 403),
    ("POST", "/api/processes/{process}/cases", "other"): (403, 403, 403, 403),
    ("GET", "/api/cases/{case}", "own"): (200, 200, 404, 404),
    ("GET", "/api/cases/{case}", "other"): (404, 404, 404, 404),
    ("GET", "/api/queue", "-"): (200, 200, 403, 403),
    ("POST", "/api/cases/{fresh}/decision", "own"): (200, 200, 404, 404),
    ("POST", "/api/cases/{fresh}/decision", "other"): (404, 404, 404, 404),
    ("GET", "/api/cases/{decided}/notice", "own"): (200, 200, 404, 404),
    ("GET", "/api/cases/{decided}/notice", "other"): (404, 404, 404, 404),
    ("GET", "/api/oversight", "-"): (403, 200, 200, 403),
    ("GET", "/api/oversight?process_id={process}", "own"): (403, 200, 200, 403),
    ("GET", "/api/oversight?process_id={process}", "other"): (403, 403, 200, 403),
    ("GET", "/api/oversight/cube?process_id={process}", "own"): (403, 200, 200, 403),
    ("GET", "/api/oversight/cube?process_id={process}", "other"): (403, 403, 200, 403),
    ("POST", "/api/processes/{process}/audits", "own"): (403, 201, 201, 201),
    ("POST", "/api/processes/{process}/audits", "other"): (403, 403, 201, 201),
    ("GET", "/api/processes/{process}/audits", "own"): (403, 200, 200, 200),
    ("GET", "/api/processes/{process}/audits", "other"): (403, 403, 200, 200),
    ("GET", "/api/processes/{process}/conditions", "own"): (403, 200, 200, 200),
    ("GET", "/api/processes/{process}/conditions", "other"): (403, 403, 200, 200),
    ("POST", "/api/cases/{case}/outcome", "own"): (200, 200, 404, 404),
    ("POST", "/api/cases/{case}/outcome", "other"): (404, 404, 404, 404),
    ("PUT", "/api/processes/{process}/reference-share", "own"): (403, 403, 403, 200),
    # the share was just set: no case drawn under it yet (409), but the role check passed
    ("GET", "/api/processes/{process}/selectivity", "own"): (403, 403, 409, 409),
    ("GET", "/api/processes/{process}/selectivity", "other"): (403, 403, 409, 409),
    ("GET", "/api/processes/{process}/reference-seeds", "own"): (403, 403, 200, 200),
    ("GET", "/api/processes/{process}/reference-seeds", "other"): (403, 403, 200, 200),
    ("GET", "/api/auditlog", "-"): (403, 403, 200, 403),
    ("GET", "/api/auditlog/verify", "-"): (403, 403, 200, 403),
}

DECIDE = {
    "outcome": "selected",
    "rationale": "Band 6 and the records agree.",
    "follows_score": True,
}


def _decided(world: Service, worker: str, process: int) -> int:
    case_id = world.case(worker, process)["id"]
    world.ok(worker, "POST", f"/api/cases/{case_id}/decision", json=DECIDE)
    return case_id


def _body(method: str, path: str) -> dict[str, Any] | None:
    n = next(_n)
    if path == "/api/users":
        return {"name": f"u{n}", "password": "long enough pw", "role": "auditor"}
    if path == "/api/processes":
        return {
            "name": f"p{n}",
            "instrument": "generic-selection",
            "team": "team-a",
            "purpose": "A purpose.",
            "retention_days": 30,
        }
    if path.endswith("/cases"):
        return {"subject_ref": f"s{n}", "inputs": GENERIC_INPUTS}
    if path.endswith("/decision"):
        return DECIDE
    if path.endswith("/outcome"):
        return {"outcome": True, "observed_on": datetime.now(UTC).date().isoformat()}
    if path.endswith("/reference-share"):
        return {"reference_share": 0.02}
    if path.endswith("/audits") and method == "POST":
        return {"kind": "periodic", "result": {"validity": {}, "verdicts": [], "provenance": {}}}
    return None


def _request(world: Service, user: str, method: str, template: str, scope: str) -> int:
    process = world.ids["A"] if scope != "other" else world.ids["B"]
    owner = "ann" if scope != "other" else "bob"
    ids = {
        "process": process,
        "case": world.ids[f"case-{scope}"],
        "decided": world.ids[f"decided-{scope}"],
    }
    if "{fresh}" in template:
        ids["fresh"] = world.case(owner, process)["id"]
        world.call(user, "GET", f"/api/cases/{ids['fresh']}")  # a decider opens it first
    path = template.format(**ids)
    return world.call(user, method, path, json=_body(method, template)).status_code


def test_permission_matrix(world: Service) -> None:
    for scope, owner, process in [("own", "ann", "A"), ("other", "bob", "B"), ("-", "ann", "A")]:
        world.ids[f"case-{scope}"] = world.case(owner, world.ids[process])["id"]
        world.ids[f"decided-{scope}"] = _decided(world, owner, world.ids[process])
    wrong = []
    for (method, template, scope), expected in MATRIX.items():
        for (role, user), want in zip(ROLES.items(), expected, strict=True):
            got = _request(world, user, method, template, scope)
            if got != want:
                wrong.append(f"{method} {template} [{scope}] as {role}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_everything_but_login_needs_a_token(world: Service) -> None:
    for method, template, _scope in MATRIX:
        path = template.format(
            process=world.ids["A"],
            case=world.ids["case"],
            decided=world.ids["case"],
            fresh=world.ids["case"],
        )
        response = world.call(None, method, path, json=_body(method, template))
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_refused_read_is_logged_without_leaking_existence(world: Service) -> None:
    missing = world.call("bob", "GET", "/api/cases/999999")
    hidden = world.call("bob", "GET", f"/api/cases/{world.ids['case']}")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json()["detail"] == "no case 999999"
    assert hidden.json()["detail"] == f"no case {world.ids['case']}"
    log = world.ok("aud", "GET", "/api/auditlog?limit=1000")["entries"]
    denied = [e for e in log if e["action"] == "access.denied"]
    assert [(e["actor"], e["case_id"]) for e in denied] == [
        ("bob", 999999),
        ("bob", world.ids["case"]),
    ]
