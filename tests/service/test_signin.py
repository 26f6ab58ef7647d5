"""Signing in (issue 10 §4): limits per account, per address and overall; who the client is;
argon2 outside any transaction; unknown names never logged in clear; the password policy."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.dutch import assert_entirely_dutch
from tests.service.conftest import PASSWORD, Service, make_app
from tests.service.test_web_pages import CSRF
from waarborg.cli import app as cli
from waarborg.errors import WaarborgError
from waarborg.service import auth, passwords, signin
from waarborg.service.errors import InvalidError, TooManyAttemptsError
from waarborg.service.store.models import AuditEntry

WRONG = "not the password at all"


def _client(service: Service, address: str) -> TestClient:
    """A client of the service's app whose TCP peer is ``address`` (over https, as a browser)."""
    return TestClient(service.client.app, base_url="https://testserver", client=(address, 40000))


def _token(client: TestClient, name: str, password: str, via: str | None = None) -> int:
    headers = {"X-Forwarded-For": via} if via else {}
    form = {"username": name, "password": password}
    return client.post("/api/token", data=form, headers=headers).status_code


@pytest.fixture
def limited(database_url: str) -> Iterator[Service]:
    """An app with small limits: 3 per account, 4 per address, 10 overall; 10.0.0.5 a proxy."""
    app = make_app(
        database_url,
        login_failures=3,
        login_address_failures=4,
        login_global_failures=10,
        trusted_proxies=("10.0.0.5",),
    )
    with TestClient(app) as client:
        service = Service(client, app.state.waarborg.db)
        for name in ("ann", "bob"):
            service.add_user(name, "auditor")
        yield service


# --------------------------------------------------------------------------- limits


def test_a_locked_account_stays_locked_from_other_addresses_and_forwarded_for(
    world: Service,
) -> None:
    attacker = _client(world, "203.0.113.9")
    codes = [_token(attacker, "ann", WRONG, via=f"198.51.100.{i}") for i in range(6)]
    assert codes == [401] * 5 + [429]
    # the right password, another peer, another X-Forwarded-For: still locked
    elsewhere = _client(world, "192.0.2.44")
    answer = elsewhere.post(
        "/api/token",
        data={"username": "ann", "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.200"},
    )
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert _token(elsewhere, "bob", PASSWORD) == 200  # other accounts are not locked


def test_the_per_address_limit_counts_every_name_from_one_address(limited: Service) -> None:
    one = _client(limited, "203.0.113.1")
    codes = [_token(one, name, WRONG) for name in ("ann", "bob", "carl", "dora", "eve")]
    assert codes == [401] * 4 + [429]
    assert _token(one, "bob", PASSWORD) == 429  # even with the right password
    assert _token(_client(limited, "203.0.113.2"), "bob", PASSWORD) == 200


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(limited: Service) -> None:
    proxy = _client(limited, "10.0.0.5")
    codes = [_token(proxy, f"x{i}", WRONG, via="198.51.100.7") for i in range(5)]
    assert codes == [401] * 4 + [429]  # 198.51.100.7 reached its limit of 4 ...
    assert _token(proxy, "bob", PASSWORD, via="198.51.100.8") == 200  # ... not the proxy
    untrusted = _client(limited, "10.0.0.6")  # not a trusted proxy: its header is ignored
    codes = [_token(untrusted, "ann", WRONG, via=f"198.51.100.{10 + i}") for i in range(2)]
    codes += [_token(untrusted, f"y{i}", WRONG, via=f"198.51.100.{20 + i}") for i in range(2)]
    assert codes == [401] * 4
    assert _token(untrusted, "bob", PASSWORD, via="198.51.100.99") == 429


def test_the_global_limit_holds_across_addresses_and_names(limited: Service) -> None:
    codes = [_token(_client(limited, f"203.0.113.{i}"), f"n{i}", WRONG) for i in range(11)]
    assert codes == [401] * 10 + [429]
    answer = _client(limited, "192.0.2.1").post(
        "/api/token", data={"username": "bob", "password": PASSWORD}
    )
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


def test_a_success_takes_its_attempt_back_and_clears_the_account() -> None:
    limiter = signin.SignInLimiter(account=2, address=2, overall=100, window_s=60)
    for t in range(3):
        limiter.succeeded(limiter.admit("ann", "a", now=t))  # successes are not failures
    limiter.admit("ann", "b", now=10)
    limiter.succeeded(limiter.admit("ann", "c", now=11))  # clears ann's one failure
    limiter.admit("ann", "d", now=12)
    limiter.admit("ann", "e", now=13)
    with pytest.raises(TooManyAttemptsError) as caught:
        limiter.admit("ann", "f", now=14)
    assert caught.value.retry_after == 12 + 60 - 14
    limiter.admit("ann", "f", now=72.5)  # the window has passed


def test_the_limiters_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    limiter = signin.SignInLimiter(
        account=2, address=1000, overall=10**9, window_s=600, max_keys=100
    )
    limiter.admit("first", "10.0.0.1", now=0)
    limiter.admit("first", "10.0.0.1", now=0)
    with pytest.raises(TooManyAttemptsError):
        limiter.admit("first", "10.0.0.1", now=1)
    for i in range(1000):
        limiter.admit(f"name-{i}", f"10.1.{i // 256}.{i % 256}", now=2)
    assert limiter.tracked() == 200  # 100 accounts and 100 addresses
    limiter.admit("first", "10.0.0.1", now=3)  # forgotten: the least recently failed
    limiter.admit("name-999", "10.0.0.1", now=3)
    with pytest.raises(TooManyAttemptsError):  # the most recent ones are remembered
        limiter.admit("name-999", "10.0.0.1", now=4)
    for _ in range(50):  # a locked key grows no further
        with contextlib.suppress(TooManyAttemptsError):
            limiter.admit("x", "10.0.0.2", now=5)
    assert limiter.tracked() == 200


def test_client_address_reads_forwarded_for_from_the_right_skipping_trusted_proxies() -> None:
    proxies = signin.trusted_networks(["10.0.0.0/8", "2001:db8::/32"])
    assert signin.client_address("10.1.2.3", "192.0.2.1, 10.9.9.9", proxies) == "192.0.2.1"
    spoofed = "1.1.1.1, 192.0.2.1, 10.9.9.9"  # the client itself wrote 1.1.1.1
    assert signin.client_address("10.1.2.3", spoofed, proxies) == "192.0.2.1"
    assert signin.client_address("2001:db8::1", "192.0.2.5", proxies) == "192.0.2.5"
    assert signin.client_address("192.0.2.9", "1.1.1.1", proxies) == "192.0.2.9"
    assert signin.client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert signin.client_address(None, "1.1.1.1", ()) == "?"
    with pytest.raises(WaarborgError, match=r"'proxy\.example' is not an IP"):
        signin.trusted_networks(["proxy.example"])


@pytest.mark.parametrize(
    ("env", "headers", "allowed"),
    [
        ({}, False, None),
        ({"WAARBORG_TRUSTED_PROXIES": "10.0.0.1/8, ::1"}, True, ["10.0.0.0/8", "::1/128"]),
    ],
)
def test_serve_gives_uvicorn_only_the_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    env: dict[str, str],
    headers: bool,
    allowed: list[str] | None,
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.delenv("WAARBORG_TRUSTED_PROXIES", raising=False)
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    result = CliRunner().invoke(cli, ["serve", "--database-url", url], env=env)
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is headers and seen["forwarded_allow_ips"] == allowed


def test_serve_refuses_a_trusted_proxy_that_is_no_address(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    env = {"WAARBORG_TRUSTED_PROXIES": "proxy.example"}
    result = CliRunner().invoke(cli, ["serve", "--database-url", url], env=env)
    assert result.exit_code == 2 and "WAARBORG_TRUSTED_PROXIES" in result.output


def test_the_web_login_says_in_dutch_when_to_try_again(world: Service) -> None:
    client = _client(world, "203.0.113.50")
    statuses = []
    for _ in range(6):
        nonce = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
        page = client.post("/login", data={"username": "ann", "password": "no", "csrf": nonce})
        statuses.append(page.status_code)
    assert statuses == [401] * 5 + [429]
    assert int(page.headers["Retry-After"]) > 0
    assert "Te veel mislukte pogingen" in page.text


# --------------------------------------------------------------------------- argon2


class _Witness(PasswordHasher):
    """A cheap hasher that notes, at every verify, whether a transaction could be open."""

    def __init__(self, service: Service) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.service = service
        self.seen: list[tuple[int, bool]] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        db = self.service.db
        held = db.engine.pool.checkedout()  # connections out of the pool: open transactions
        self.seen.append((held, self._writer_can_begin()))
        return super().verify(hash, password)

    def _writer_can_begin(self) -> bool:
        """On SQLite: another connection takes the write lock at once (no waiting)."""
        if self.service.db.backend != "sqlite":
            return True
        other = sqlite3.connect(make_url(self.service.db.url).database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()


def test_argon2_runs_with_no_transaction_open(
    world: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    witness = _Witness(world)
    monkeypatch.setattr(auth, "_hasher", witness)
    client = _client(world, "203.0.113.60")
    assert _token(client, "ann", PASSWORD) == 200
    assert _token(client, "ann", WRONG) == 401
    assert _token(client, "nobody", WRONG) == 401
    nonce = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    form = {"username": "bob", "password": PASSWORD, "csrf": nonce}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    assert witness.seen == [(0, True)] * 4


# --------------------------------------------------------------------------- the log


def _login_failures(service: Service) -> list[dict[str, Any]]:
    with service.db.transaction() as session:
        rows = session.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "login.failed")
        ).scalars()
        return [json.loads(row) for row in rows]


def _whole_log(service: Service) -> str:
    with service.db.transaction() as session:
        rows = session.execute(select(*AuditEntry.__table__.columns))
        return json.dumps([list(row) for row in rows], default=str)


def test_an_unknown_name_is_logged_only_as_a_keyed_hash(world: Service) -> None:
    typed = "Zomer2026!geheim"  # a password typed into the user name field
    client = _client(world, "203.0.113.77")
    for name in (typed, typed, "someone else"):
        assert _token(client, name, WRONG) == 401
    assert _token(client, "ann", WRONG) == 401
    failures = _login_failures(world)
    assert typed not in _whole_log(world)
    assert typed.encode().hex() not in _whole_log(world)
    digests = [entry["unknown_user_hmac"] for entry in failures[:3]]
    assert digests[0] == digests[1] != digests[2]  # stable per name, different per name
    assert digests[0] != hashlib.sha256(typed.encode()).hexdigest()  # keyed, not a bare hash
    assert failures[3] == {"user": "ann", "address": "203.0.113.77"}  # known: as it is
    assert _token(client, "bob", PASSWORD) == 200
    with world.db.transaction() as session:
        last = select(AuditEntry).where(AuditEntry.action == "token.issue")
        issued = session.execute(last.order_by(AuditEntry.seq.desc())).scalars().first()
        assert issued is not None and issued.actor == "bob"
        assert json.loads(issued.detail) == {"address": "203.0.113.77"}


def test_the_name_digest_depends_on_the_secret() -> None:
    one, other = signin.name_key("secret one"), signin.name_key("secret two")
    assert signin.name_digest(one, "ann") != signin.name_digest(other, "ann")
    assert len(signin.name_digest(one, "ann")) == 64


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pw 1", "too_short"),
        ("plum orbit cactus seventy " * 5 + "ab", "too_long"),  # 132 characters
        ("password1234", "guessable"),  # on the breached-password list, with digits
        ("qwertyuiop123", "guessable"),
        ("1qaz2wsx3edc", "guessable"),  # on the list itself
        ("aaaaaaaaaaaaaaaa", "guessable"),
        ("my name is ANNEKE, really", "contains_name"),
    ],
)
def test_the_password_policy_refuses(password: str, reason: str) -> None:
    with pytest.raises(passwords.PasswordPolicyError) as caught:
        auth.hash_password(password, user_name="anneke")
    assert caught.value.reason == reason and caught.value.field == "password"


def test_the_password_policy_accepts_a_long_unusual_phrase() -> None:
    phrase = "plum orbit cactus seventy"
    hashed = auth.hash_password(phrase, user_name="anneke")
    assert auth.password_matches(auth.Credentials(1, hashed, True), phrase)
    assert hashed.startswith("$argon2id$")  # ASVS 2.4.1
    assert hashed != auth.hash_password(phrase, user_name="anneke")  # salted
    assert not auth.password_matches(auth.Credentials(1, hashed, False), phrase)  # inactive


def test_long_and_unicode_passwords_are_kept_whole() -> None:
    long = "plum orbit cactus seventy " * 4 + "x" * 24  # 128 characters, none cut off
    hashed = auth.hash_password(long, user_name="anneke")
    assert auth.password_matches(auth.Credentials(1, hashed, True), long)
    assert not auth.password_matches(auth.Credentials(1, hashed, True), long[:-1] + "y")
    emoji = "ŝtelo 🦉 vortaro lumo ĉielo"
    assert auth.password_matches(
        auth.Credentials(1, auth.hash_password(emoji, user_name="anneke"), True), emoji
    )


def test_every_refusal_reason_has_dutch_words() -> None:
    examples = {
        "too_short": "plum orbit",
        "too_long": "plum orbit " * 100,
        "contains_name": "plum orbit annemarie cactus",
        "guessable": "Password1234",
    }
    assert set(examples) == set(get_args(passwords.Reason))
    for reason, password in examples.items():
        with pytest.raises(passwords.PasswordPolicyError) as refused:
            passwords.check(password, "annemarie")
        assert refused.value.reason == reason
        dutch = refused.value.translate("nl")
        assert dutch != refused.value.message and "wachtwoord" in dutch.lower()
        assert_entirely_dutch(dutch)


def test_the_api_refuses_a_weak_password_with_a_clear_message(world: Service) -> None:
    body = {"name": "carl", "password": "Password1234", "role": "auditor"}
    answer = world.call("admin", "POST", "/api/users", json=body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "password"
    assert "common or easily guessed" in answer.json()["detail"]
    assert issubclass(passwords.PasswordPolicyError, InvalidError)
