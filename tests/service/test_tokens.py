"""Secrets and tokens (issue 10, §3): the key outside the database, PyJWT tokens with
``jti``, ``iat``, a capped lifetime and a per-user version, and user ids never reused.

Each revocation path is checked on a bearer token and on a web session cookie, both
obtained before the change.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text
from typer.testing import CliRunner

from tests.service.conftest import PASSWORD, Service, make_app, secret_file_for
from tests.service.test_web_pages import csrf_of, log_in, web_client
from waarborg.cli import app as cli
from waarborg.service import auth
from waarborg.service.auditlog import Actor
from waarborg.service.keys import LEGACY_SETTING, SecretError, default_secret_file
from waarborg.service.settings import MAX_TOKEN_MINUTES, Settings
from waarborg.service.store import Database
from waarborg.service.store.models import AuditEntry, Setting, User

NEW_PASSWORD = "a fresh and longer passphrase"


def _user_id(service: Service, name: str) -> int:
    with service.db.transaction() as session:
        return session.execute(select(User.id).where(User.name == name)).scalar_one()


def _secret(service: Service) -> str:
    return service.client.app.state.waarborg.secret


def _claims(service: Service, name: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": str(_user_id(service, name)), "jti": "j1", "iat": now, "exp": now + 600}
    return {**claims, "ver": 0, **changes}


def _status(service: Service, token: str) -> int:
    return service.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code


# --------------------------------------------------------------------------- the secret


def _started_secret(database_url: str, **settings: Any) -> str:
    state = make_app(database_url, **settings).state.waarborg
    state.db.dispose()
    return state.secret


def test_reading_the_database_is_not_enough_to_forge_a_token(service: Service) -> None:
    with service.db.transaction() as session:
        stored = [
            value
            for row in session.execute(select(Setting.key, Setting.value)).all()
            for value in row
        ]
    for candidate in stored:  # whatever the database holds, none of it signs a token
        forged = jwt.encode(_claims(service, "admin"), candidate, algorithm="HS256")
        assert _status(service, forged) == 401
    genuine = jwt.encode(_claims(service, "admin"), _secret(service), algorithm="HS256")
    assert _status(service, genuine) == 200


def test_the_secret_file_is_made_once_readable_by_its_owner_only(database_url: str) -> None:
    path = secret_file_for(database_url) or default_secret_file(database_url)
    assert path is not None and not path.exists()
    first = _started_secret(database_url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first
    assert _started_secret(database_url) == first  # kept across starts
    if database_url.startswith("sqlite"):
        assert path.name == "waarborg.sqlite.secret"
        assert path.parent == Path(database_url.removeprefix("sqlite:///")).parent


def test_a_secret_file_others_may_read_or_a_short_secret_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    loose = tmp_path / "loose.secret"
    loose.write_text("x" * 40)
    loose.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        make_app(database_url, secret_file=loose)
    with pytest.raises(SecretError, match="at least 32"):
        make_app(database_url, secret="short")


def test_the_secret_may_come_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAARBORG_SECRET", "e" * 40)
    assert Settings.from_env(database_url).secret == "e" * 40
    monkeypatch.delenv("WAARBORG_SECRET")
    monkeypatch.setenv("WAARBORG_SECRET_FILE", str(tmp_path / "k.secret"))
    assert Settings.from_env(database_url).secret_file == tmp_path / "k.secret"


def test_a_secret_in_the_database_stops_the_start_until_it_is_moved(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.transaction() as session:  # as versions before 0004 kept it
        session.add(Setting(key=LEGACY_SETTING, value="k" * 43))
    with pytest.raises(SecretError, match="waarborg secret move"):
        make_app(database_url)
    target = tmp_path / "moved.secret"
    result = CliRunner().invoke(
        cli, ["secret", "move", "--database-url", database_url, "--secret-file", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().strip() != "k" * 43  # a known key is not carried over
    with db.transaction() as session:
        assert session.get(Setting, LEGACY_SETTING) is None
        moved = session.execute(select(AuditEntry).where(AuditEntry.action == "secret.move"))
        assert moved.scalar_one().role == "operator"
    db.dispose()
    assert _started_secret(database_url, secret_file=target) == target.read_text().strip()


# --------------------------------------------------------------------------- the token


def test_tokens_carry_jti_iat_exp_and_version_signed_hs256(service: Service) -> None:
    token = service.headers("admin")["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, _secret(service), algorithms=["HS256"])
    assert set(claims) >= {"sub", "jti", "iat", "exp", "ver"}
    assert claims["exp"] - claims["iat"] == 480 * 60
    service.tokens.clear()
    again = service.headers("admin")["Authorization"].removeprefix("Bearer ")
    assert jwt.decode(again, _secret(service), algorithms=["HS256"])["jti"] != claims["jti"]


@pytest.mark.parametrize("missing", ["jti", "iat", "exp", "ver", "sub"])
def test_a_token_without_a_required_claim_is_refused(service: Service, missing: str) -> None:
    claims = _claims(service, "admin")
    del claims[missing]
    assert _status(service, jwt.encode(claims, _secret(service), algorithm="HS256")) == 401


def test_a_token_that_lives_too_long_or_starts_later_is_refused(service: Service) -> None:
    secret = _secret(service)
    now = int(time.time())
    too_long = _claims(service, "admin", iat=now - 60, exp=now - 60 + 481 * 60)
    assert _status(service, jwt.encode(too_long, secret, algorithm="HS256")) == 401
    until_2100 = _claims(service, "admin", exp=4102444800)
    assert _status(service, jwt.encode(until_2100, secret, algorithm="HS256")) == 401
    future = _claims(service, "admin", iat=now + 3600, exp=now + 3600 + 60)
    assert _status(service, jwt.encode(future, secret, algorithm="HS256")) == 401
    fine = _claims(service, "admin", iat=now - 60, exp=now - 60 + 480 * 60)
    assert _status(service, jwt.encode(fine, secret, algorithm="HS256")) == 200


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_only_hs256_is_accepted(service: Service) -> None:
    claims = _claims(service, "admin")
    assert _status(service, jwt.encode(claims, _secret(service), algorithm="HS512")) == 401
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert _status(service, unsigned) == 401


def test_the_lifetime_setting_is_capped() -> None:
    with pytest.raises(ValueError, match=f"1 to {MAX_TOKEN_MINUTES}"):
        Settings(token_minutes=MAX_TOKEN_MINUTES + 1)
    assert Settings(token_minutes=MAX_TOKEN_MINUTES).token_minutes == MAX_TOKEN_MINUTES


# --------------------------------------------------------------------------- revocation


def _sessions(world: Service, name: str, password: str = PASSWORD) -> tuple[str, TestClient]:
    """A bearer token and a logged-in web client of ``name``, both made now."""
    response = world.client.post("/api/token", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"], log_in(web_client(world), name, password)


def _revoked(world: Service, token: str, web: TestClient) -> bool:
    api = _status(world, token) == 401
    page = web.get("/processes", follow_redirects=False)
    return api and page.status_code == 303 and page.headers["location"].startswith("/login")


def _approve_latest(world: Service) -> None:
    pending = world.ok("admin2", "GET", "/api/access-changes")["pending"]
    world.ok("admin2", "POST", f"/api/access-changes/{pending[-1]['id']}/approve")


def _logout_api(world: Service, token: str, _web: TestClient) -> None:
    response = world.client.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204


def _logout_web(world: Service, _token: str, web: TestClient) -> None:
    csrf = csrf_of(web, "/processes")
    assert web.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303


def _password_api(world: Service, token: str, _web: TestClient) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    headers = {"Authorization": f"Bearer {token}"}
    response = world.client.post("/api/me/password", json=body, headers=headers)
    assert response.status_code == 200, response.text


def _password_reset(world: Service, _token: str, _web: TestClient) -> None:
    uid = _user_id(world, "ann")
    world.ok("admin", "POST", f"/api/users/{uid}/password", json={"password": NEW_PASSWORD})


def _role(world: Service, _token: str, _web: TestClient) -> None:
    uid = _user_id(world, "ann")
    world.ok("admin", "POST", f"/api/users/{uid}/role", 202, json={"role": "supervisor"})
    _approve_latest(world)


def _team(world: Service, _token: str, _web: TestClient) -> None:
    uid = _user_id(world, "ann")
    world.ok("admin", "POST", f"/api/users/{uid}/team", 202, json={"team": "team-b"})
    _approve_latest(world)


def _deactivate(world: Service, _token: str, _web: TestClient) -> None:
    world.ok("admin", "POST", f"/api/users/{_user_id(world, 'ann')}/deactivate")


@pytest.mark.parametrize(
    "change",
    [_logout_api, _logout_web, _password_api, _password_reset, _role, _team, _deactivate],
    ids=lambda f: f.__name__.strip("_"),
)
def test_each_change_revokes_every_token_of_the_user(
    world: Service, change: Callable[[Service, str, TestClient], None]
) -> None:
    world.add_user("admin2", "admin")
    token, web = _sessions(world, "ann")
    other_token, other_web = _sessions(world, "ann")  # another device
    bystander, bystander_web = _sessions(world, "sue")
    assert not _revoked(world, token, web)
    change(world, token, web)
    assert _revoked(world, token, web) and _revoked(world, other_token, other_web)
    assert not _revoked(world, bystander, bystander_web)  # nobody else's


def test_a_pending_change_revokes_nothing(world: Service) -> None:
    world.add_user("admin2", "admin")
    token, web = _sessions(world, "ann")
    uid = _user_id(world, "ann")
    world.ok("admin", "POST", f"/api/users/{uid}/role", 202, json={"role": "supervisor"})
    assert not _revoked(world, token, web)


# --------------------------------------------------------------------------- ids


def test_user_ids_are_never_reused(service: Service) -> None:
    service.add_user("temp", "auditor")
    highest = _user_id(service, "temp")
    with service.db.transaction() as session:
        session.execute(delete(User).where(User.id == highest))
    with service.db.transaction() as session:
        added = auth.add_user(
            session, Actor("test", "admin"), name="newcomer", password=PASSWORD, role="auditor"
        )
        assert added.id > highest


def test_migration_0004_keeps_users_and_their_references(database_url: str) -> None:
    db = Database(database_url)
    db.upgrade("0002")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO teams (name) VALUES ('t')"))
        for name, role, team in (("a", "admin", None), ("b", "caseworker", "t")):
            connection.execute(
                text(
                    "INSERT INTO users (name, password_hash, role, team_id, active, created_at) "
                    "VALUES (:n, 'x', :r, (SELECT id FROM teams WHERE name = :t), TRUE, "
                    "'2026-01-01')"
                ),
                {"n": name, "r": role, "t": team},
            )
    db.upgrade()
    with db.transaction() as session:
        users = session.execute(select(User).order_by(User.id)).scalars().all()
        assert [(u.name, u.token_version, u.must_change_password) for u in users] == [
            ("a", 0, False),
            ("b", 0, False),
        ]
        assert users[1].team is not None and users[1].team.name == "t"
        highest = users[1].id
        session.execute(delete(User).where(User.id == highest))
    with db.transaction() as session:
        added = auth.add_user(
            session, Actor("test", "admin"), name="zed", password=PASSWORD, role="auditor"
        )
        assert added.id > highest  # the deleted id is never given again
    db.dispose()
