"""Account lifecycle (issue 10, §5): list, deactivate, reactivate, role, team, password
reset with a forced change, each logged; four-eyes for every change that gives access.

Through the API, the command line and the web pages, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.service.conftest import PASSWORD, Service
from tests.service.test_cli import _run as _cli
from tests.service.test_web_pages import csrf_of, log_in, web_client
from waarborg.service import accounts
from waarborg.service.store import Database
from waarborg.service.store.models import AccessChange, AuditEntry, User

NEW_PASSWORD = "a fresh and longer passphrase"
ONE_OFF = "one-off passphrase 2026"


def _uid(service: Service, name: str) -> int:
    with service.db.transaction() as session:
        return session.execute(select(User.id).where(User.name == name)).scalar_one()


def _user(service: Service, name: str) -> User:
    with service.db.transaction() as session:
        return session.execute(select(User).where(User.name == name)).scalar_one()


def _actions(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    with db.transaction() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        return [(e.actor, e.action, json.loads(e.detail)) for e in rows]


def _login(service: Service, name: str, password: str = PASSWORD) -> Any:
    return service.client.post("/api/token", data={"username": name, "password": password})


def _as(service: Service, token: str, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return service.client.request(method, path, headers=headers, **kw)


@pytest.fixture
def admins(world: Service) -> Service:
    """The world with a second admin, ``admin2``."""
    world.add_user("admin2", "admin")
    return world


# --------------------------------------------------------------------------- API


def test_admin_lists_users_and_no_one_else_may(admins: Service) -> None:
    users = admins.ok("admin", "GET", "/api/users")
    assert [u["name"] for u in users] == sorted(
        ["admin", "admin2", "ann", "sue", "bob", "sam", "aud"]
    )
    ann = next(u for u in users if u["name"] == "ann")
    assert ann["active"] and not ann["must_change_password"] and ann["team"] == "team-a"
    for user in ("ann", "sue", "aud"):
        assert admins.call(user, "GET", "/api/users").status_code == 403


def test_a_new_account_waits_for_a_second_admin(admins: Service) -> None:
    body = {"name": "carl", "password": ONE_OFF, "role": "caseworker", "team": "team-b"}
    created = admins.ok("admin", "POST", "/api/users", 201, json=body)
    assert not created["active"] and created["must_change_password"]
    assert _login(admins, "carl", ONE_OFF).status_code == 401  # pending: not yet
    pending = admins.ok("admin", "GET", "/api/access-changes")["pending"]
    assert [(c["user"], c["kind"], c["status"]) for c in pending] == [("carl", "create", "pending")]
    change = pending[0]["id"]
    refused = admins.call("admin", "POST", f"/api/access-changes/{change}/approve")
    assert refused.status_code == 403 and "second admin" in refused.json()["detail"]
    assert _login(admins, "carl", ONE_OFF).status_code == 401
    approved = admins.ok("admin2", "POST", f"/api/access-changes/{change}/approve")
    assert approved["status"] == "approved" and approved["decided_by"] == "admin2"
    login = _login(admins, "carl", ONE_OFF)
    assert login.status_code == 200 and login.json()["must_change_password"] is True
    again = admins.call("admin", "POST", f"/api/access-changes/{change}/approve")
    assert again.status_code == 409
    log = [(actor, action) for actor, action, _ in _actions(admins.db)]
    assert ("admin", "user.create") in log and ("admin", "user.change.request") in log
    assert ("admin2", "user.change.approve") in log and ("admin2", "user.activate") in log


def test_a_rejected_change_changes_nothing(admins: Service) -> None:
    uid = _uid(admins, "bob")
    change = admins.ok("admin", "POST", f"/api/users/{uid}/role", 202, json={"role": "auditor"})
    assert change["status"] == "pending" and change["role"] == "auditor"
    second = admins.call("admin", "POST", f"/api/users/{uid}/team", json={"team": "team-a"})
    assert second.status_code == 409  # one pending change per account
    rejected = admins.ok("admin2", "POST", f"/api/access-changes/{change['id']}/reject")
    assert rejected["status"] == "rejected"
    assert _user(admins, "bob").role == "caseworker"
    assert admins.ok("bob", "GET", "/api/me")["role"] == "caseworker"
    recent = admins.ok("aud", "GET", "/api/access-changes")["recent"]
    assert [(c["id"], c["status"]) for c in recent] == [(change["id"], "rejected")]
    assert "user.change.reject" in [action for _, action, _ in _actions(admins.db)]


def test_role_and_team_changes_take_effect_on_approval(admins: Service) -> None:
    uid = _uid(admins, "bob")
    change = admins.ok("admin", "POST", f"/api/users/{uid}/team", 202, json={"team": "team-a"})
    assert admins.call("bob", "GET", f"/api/cases/{admins.ids['case']}").status_code == 404
    admins.ok("admin2", "POST", f"/api/access-changes/{change['id']}/approve")
    admins.tokens.pop("bob")  # the old token was revoked
    assert admins.ok("bob", "GET", "/api/me")["team"] == "team-a"
    assert admins.call("bob", "GET", f"/api/cases/{admins.ids['case']}").status_code == 200
    change = admins.ok("admin2", "POST", f"/api/users/{uid}/role", 202, json={"role": "supervisor"})
    assert (
        admins.call("admin2", "POST", f"/api/access-changes/{change['id']}/approve").status_code
        == 403
    )
    admins.ok("admin", "POST", f"/api/access-changes/{change['id']}/approve")
    admins.tokens.pop("bob")
    assert admins.ok("bob", "GET", "/api/me")["role"] == "supervisor"
    detail = [d for _, action, d in _actions(admins.db) if action == "user.role"]
    assert detail[-1]["role"] == "supervisor" and detail[-1]["team"] == "team-a"


def test_no_admin_approves_a_change_of_their_own_account(admins: Service) -> None:
    admins.add_user("admin3", "admin")
    uid = _uid(admins, "admin2")
    change = admins.ok("admin", "POST", f"/api/users/{uid}/role", 202, json={"role": "auditor"})
    own = admins.call("admin2", "POST", f"/api/access-changes/{change['id']}/approve")
    assert own.status_code == 403 and "your own account" in own.json()["detail"]
    admins.ok("admin3", "POST", f"/api/access-changes/{change['id']}/approve")
    assert _user(admins, "admin2").role == "auditor"


def test_deactivate_then_reactivate_with_approval(admins: Service) -> None:
    uid = _uid(admins, "sue")
    out = admins.ok("admin", "POST", f"/api/users/{uid}/deactivate")
    assert out["active"] is False
    assert _login(admins, "sue").status_code == 401
    assert admins.call("admin", "POST", f"/api/users/{uid}/deactivate").status_code == 409
    change = admins.ok("admin", "POST", f"/api/users/{uid}/reactivate", 202)
    assert change["kind"] == "reactivate" and _login(admins, "sue").status_code == 401
    admins.ok("admin2", "POST", f"/api/access-changes/{change['id']}/approve")
    assert _login(admins, "sue").status_code == 200
    log = [action for _, action, _ in _actions(admins.db)]
    assert "user.deactivate" in log and "user.reactivate" in log


def test_deactivation_refuses_yourself_and_the_last_admin(world: Service) -> None:
    own = world.call("admin", "POST", f"/api/users/{_uid(world, 'admin')}/deactivate")
    assert own.status_code == 403
    world.add_user("admin2", "admin")
    world.ok("admin2", "POST", f"/api/users/{_uid(world, 'admin')}/deactivate")
    world.add_user("admin3", "admin")
    world.ok("admin3", "POST", f"/api/users/{_uid(world, 'admin2')}/deactivate")
    # admin3 is now the only active admin: not by itself, nor by the operator
    uid = _uid(world, "admin3")
    assert world.call("admin3", "POST", f"/api/users/{uid}/deactivate").status_code == 403
    code, output = _cli(world.db.url, "users", "deactivate", "admin3")
    assert code == 2 and "last active admin" in output


def test_lifecycle_endpoints_are_for_admins(admins: Service) -> None:
    uid = _uid(admins, "bob")
    calls = [
        ("POST", f"/api/users/{uid}/deactivate", None),
        ("POST", f"/api/users/{uid}/reactivate", None),
        ("POST", f"/api/users/{uid}/role", {"role": "admin"}),
        ("POST", f"/api/users/{uid}/team", {"team": "x"}),
        ("POST", f"/api/users/{uid}/password", {"password": ONE_OFF}),
        ("POST", "/api/access-changes/1/approve", None),
        ("POST", "/api/access-changes/1/reject", None),
    ]
    for user in ("ann", "sue", "aud"):
        for method, path, body in calls:
            assert admins.call(user, method, path, json=body).status_code == 403, (user, path)
    assert admins.call("ann", "GET", "/api/access-changes").status_code == 403
    assert admins.call(None, "POST", "/api/logout").status_code == 401


# --------------------------------------------------------------------------- passwords


def test_a_reset_password_must_be_changed_before_anything_else(admins: Service) -> None:
    uid = _uid(admins, "ann")
    out = admins.ok("admin", "POST", f"/api/users/{uid}/password", json={"password": ONE_OFF})
    assert out["must_change_password"] is True
    assert _login(admins, "ann").status_code == 401  # the old password is gone
    login = _login(admins, "ann", ONE_OFF)
    assert login.status_code == 200 and login.json()["must_change_password"] is True
    token = login.json()["access_token"]
    for path in ("/api/me", "/api/queue", f"/api/cases/{admins.ids['case']}"):
        refused = _as(admins, token, "GET", path)
        assert refused.status_code == 403 and "choose a new one" in refused.json()["detail"]
    wrong = {"current_password": "not the one", "new_password": NEW_PASSWORD}
    assert _as(admins, token, "POST", "/api/me/password", json=wrong).status_code == 422
    body = {"current_password": ONE_OFF, "new_password": NEW_PASSWORD}
    changed = _as(admins, token, "POST", "/api/me/password", json=body)
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    assert _as(admins, token, "GET", "/api/me").status_code == 401  # the old token ended
    fresh = changed.json()["access_token"]
    assert _as(admins, fresh, "GET", "/api/queue").status_code == 200
    entries = _actions(admins.db)
    log = [(actor, action) for actor, action, _ in entries]
    assert ("admin", "user.password_reset") in log and ("ann", "user.password_change") in log
    text = json.dumps([detail for _, _, detail in entries])
    assert ONE_OFF not in text and NEW_PASSWORD not in text and "$argon2" not in text


def test_an_admin_cannot_reset_another_admins_password(admins: Service) -> None:
    response = admins.call(
        "admin", "POST", f"/api/users/{_uid(admins, 'admin2')}/password", json={"password": ONE_OFF}
    )
    assert response.status_code == 403 and "operator" in response.json()["detail"]


def test_the_web_sends_a_user_with_a_reset_password_to_change_it(admins: Service) -> None:
    uid = _uid(admins, "ann")
    admins.ok("admin", "POST", f"/api/users/{uid}/password", json={"password": ONE_OFF})
    client = log_in(web_client(admins), "ann", ONE_OFF)
    for path in ("/queue", f"/cases/{admins.ids['case']}", "/processes"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/password"
    csrf = csrf_of(client, "/password")
    differ = {"csrf": csrf, "current_password": ONE_OFF, "new_password": NEW_PASSWORD}
    page = client.post("/password", data={**differ, "new_password_again": "something else"})
    assert page.status_code == 422 and "de nieuwe wachtwoorden verschillen" in page.text
    done = client.post(
        "/password", data={**differ, "new_password_again": NEW_PASSWORD}, follow_redirects=False
    )
    assert done.status_code == 303
    assert client.get("/queue").status_code == 200  # the new cookie goes on
    assert _login(admins, "ann", NEW_PASSWORD).status_code == 200


# --------------------------------------------------------------------------- web pages


def test_admins_manage_accounts_through_the_pages_with_four_eyes(admins: Service) -> None:
    first = log_in(web_client(admins), "admin")
    page = first.get("/users")
    assert page.status_code == 200 and "ann" in page.text
    form = {
        "csrf": csrf_of(first, "/users"),
        "name": "dora",
        "role": "auditor",
        "team": "",
        "password": ONE_OFF,
    }
    assert first.post("/users", data={**form, "csrf": "forged"}).status_code == 403
    assert first.post("/users", data=form, follow_redirects=False).status_code == 303
    with admins.db.transaction() as session:
        change = session.execute(select(AccessChange)).scalar_one()
        change_id = change.id
    assert "dora" in first.get("/users").text and f"/access-changes/{change_id}/approve" in (
        first.get("/users").text
    )
    own = first.post(
        f"/access-changes/{change_id}/approve", data={"csrf": csrf_of(first, "/users")}
    )
    assert own.status_code == 403
    second = log_in(web_client(admins), "admin2")
    approved = second.post(
        f"/access-changes/{change_id}/approve",
        data={"csrf": csrf_of(second, "/users")},
        follow_redirects=False,
    )
    assert approved.status_code == 303 and _user(admins, "dora").active
    uid = _uid(admins, "bob")
    csrf = csrf_of(first, f"/users/{uid}")
    assert (
        first.post(
            f"/users/{uid}/deactivate", data={"csrf": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    assert not _user(admins, "bob").active
    assert first.get("/users", params={"lang": "en"}).status_code == 200
    assert web_client(admins).get("/users", follow_redirects=False).status_code == 303
    assert log_in(web_client(admins), "ann").get("/users").status_code == 403


def test_the_oversight_page_lists_pending_and_recent_access_changes(admins: Service) -> None:
    admins.ok(
        "admin", "POST", f"/api/users/{_uid(admins, 'bob')}/role", 202, json={"role": "auditor"}
    )
    sam = admins.ok(
        "admin", "POST", f"/api/users/{_uid(admins, 'sam')}/team", 202, json={"team": "team-c"}
    )
    admins.ok("admin2", "POST", f"/api/access-changes/{sam['id']}/approve")
    page = log_in(web_client(admins), "aud").get("/oversight?lang=en")
    assert page.status_code == 200
    pending, recent = page.text.split('id="recent-h"')
    assert "Pending access changes" in pending and "bob" in pending and "another role" in pending
    assert "sam" in recent and "team-c" in recent and "approved (admin2" in recent
    dutch = log_in(web_client(admins), "aud").get("/oversight?lang=nl").text
    assert "Wachtende toegangswijzigingen" in dutch and "goedgekeurd" in dutch


# --------------------------------------------------------------------------- CLI


def test_the_command_line_lifecycle(database_url: str) -> None:
    for name in ("root", "root2"):  # bootstrap: the first two admins at once
        code, output = _cli(
            database_url, "users", "add", name, "--role", "admin", stdin=f"{ONE_OFF}\n"
        )
        assert code == 0 and "inactive" not in output
    code, output = _cli(
        database_url, "users", "add", "root3", "--role", "admin", stdin=f"{ONE_OFF}\n"
    )
    assert code == 0 and "inactive until an admin approves" in output  # two exist: four-eyes
    _cli(
        database_url,
        "users",
        "add",
        "ann",
        "--role",
        "caseworker",
        "--team",
        "t",
        stdin=f"{ONE_OFF}\n",
    )
    code, output = _cli(database_url, "users", "list")
    assert code == 0 and "root" in output and "pending change" in output
    code, output = _cli(database_url, "users", "list", "--json")
    listed = json.loads(output)
    assert {u["name"]: u["active"] for u in listed["users"]} == {
        "ann": False,
        "root": True,
        "root2": True,
        "root3": False,
    }
    db = Database(database_url)
    with db.transaction() as session:
        ann = session.execute(select(User).where(User.name == "ann")).scalar_one()
        change = session.execute(
            select(AccessChange).where(AccessChange.user_id == ann.id)
        ).scalar_one()
        root = session.execute(select(User).where(User.name == "root")).scalar_one()
        accounts.approve(session, root, change.id)  # any admin: the operator asked
    assert _cli(database_url, "users", "team", "ann", "t2")[0] == 0
    assert "is pending" in _cli(database_url, "users", "team", "ann", "t2")[1]  # one at a time
    assert _cli(database_url, "users", "deactivate", "ann")[0] == 0
    code, output = _cli(database_url, "users", "reactivate", "ann")
    assert code == 2 and "pending" in output
    code, output = _cli(database_url, "users", "reset-password", "ann", stdin=f"{NEW_PASSWORD}\n")
    assert code == 0 and "must choose a new password" in output
    code, output = _cli(database_url, "users", "role", "root2", "auditor")
    assert code == 0 and "waits for an admin" in output
    code, output = _cli(database_url, "users", "deactivate", "nobody")
    assert code == 2 and "no user called 'nobody'" in output
    actions = [(actor.split(":")[0], action) for actor, action, _ in _actions(db)]
    for expected in (
        "user.create",
        "user.change.request",
        "user.deactivate",
        "user.password_reset",
    ):
        assert ("cli", expected) in actions
    boot = [d for _, action, d in _actions(db) if action == "user.create"]
    assert [d.get("bootstrap", False) for d in boot] == [True, True, False, False]
    db.dispose()


def test_the_user_page_asks_for_role_and_team_changes_and_resets_passwords(
    admins: Service,
) -> None:
    client = log_in(web_client(admins), "admin")
    uid = _uid(admins, "bob")
    page = client.get(f"/users/{uid}?lang=en")
    assert page.status_code == 200 and "Another role" in page.text
    csrf = csrf_of(client, f"/users/{uid}")
    role = client.post(
        f"/users/{uid}/role", data={"csrf": csrf, "role": "supervisor"}, follow_redirects=False
    )
    assert role.status_code == 303 and _user(admins, "bob").role == "caseworker"  # pending
    refused = client.post(f"/users/{uid}/team", data={"csrf": csrf, "team": "team-a"})
    assert refused.status_code == 409 and "pending" in refused.text
    admins.ok("admin2", "POST", "/api/access-changes/1/reject")
    team = client.post(
        f"/users/{uid}/team", data={"csrf": csrf, "team": "team-a"}, follow_redirects=False
    )
    assert team.status_code == 303
    pending = admins.ok("admin", "GET", "/api/access-changes")["pending"]
    assert [(c["kind"], c["team"]) for c in pending] == [("team", "team-a")]
    bad_role = client.post(f"/users/{uid}/role", data={"csrf": csrf, "role": "boss"})
    assert bad_role.status_code == 422
    reset = client.post(
        f"/users/{uid}/password", data={"csrf": csrf, "password": ONE_OFF}, follow_redirects=False
    )
    assert reset.status_code == 303 and _user(admins, "bob").must_change_password
    short = client.post(f"/users/{uid}/password", data={"csrf": csrf, "password": "short"})
    assert short.status_code == 422 and "short" not in short.text.split("<main")[1]
