"""Signing in: limits per account, per client address and overall; argon2 outside any transaction.

One mechanism for the API (``POST /api/token``) and the web login (``POST /login``):
:func:`sign_in` checks the limits, reads the user's password hash in a short read-only
transaction, verifies it with argon2 with no transaction open (on SQLite a write
transaction holds the database's one write lock, so every other request would wait for
argon2), and records the outcome in a short write.

A failed login for a name that is no user is logged with a keyed hash of the name
(:func:`name_digest`), never the name itself: a password typed into the user name field
must not end up in the log. The same digest keys the per-account limit, so the limiter's
memory holds no typed names either.

The client address is the TCP peer, unless the peer is a proxy named in
``WAARBORG_TRUSTED_PROXIES``; then ``X-Forwarded-For`` is read from the right, skipping
trusted proxies (:func:`client_address`). ``waarborg serve`` gives uvicorn the same list.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from waarborg.errors import WaarborgError
from waarborg.i18n import Message
from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.auth import actor, credentials, password_matches
from waarborg.service.errors import TooManyAttemptsError, UnauthorisedError
from waarborg.service.settings import Settings
from waarborg.service.store import Database
from waarborg.service.store.models import User

ANONYMOUS = Actor("anonymous", "none")
MAX_NAME = 200
"""Longest user name looked up (a longer one is no user's)."""
WRONG = Message("wrong user name or password")
_NAME_KEY_LABEL = b"waarborg sign-in: keyed hash of typed user names"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


# --------------------------------------------------------------------------- limits


class _Counter:
    """Recent failures per key, for at most ``max_keys`` keys (least recently failed dropped).

    Only the last ``limit`` failure times of a key are kept: that is all a limit of
    ``limit`` per window needs, so a key costs at most ``limit`` floats.
    """

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self.times: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may fail again (0: now)."""
        times = self.times.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self.times[key]
            return 0.0
        return times[0] + self.window_s - now if len(times) >= self.limit else 0.0

    def add(self, key: str, now: float) -> None:
        times = self.times.get(key)
        if times is None:
            if len(self.times) >= self.max_keys:
                self.times.popitem(last=False)
            times = self.times[key] = deque(maxlen=self.limit)
        self.times.move_to_end(key)
        times.append(now)

    def take_back(self, key: str, at: float) -> None:
        """Remove the failure recorded for ``key`` at ``at`` (it was a success)."""
        times = self.times.get(key)
        if times is not None and at in times:
            times.remove(at)


@dataclass(frozen=True)
class Attempt:
    """An attempt admitted by :meth:`SignInLimiter.admit` (a failure until it succeeds)."""

    account: str
    address: str
    at: float


class SignInLimiter:
    """Failed sign-ins per account, per client address and overall, each within ``window_s``.

    An attempt is admitted only while all three are under their limits; it is counted as a
    failure when admitted (so that concurrent attempts cannot overshoot a limit) and taken
    back if it succeeds, which also clears the account's failures. Memory is bounded:
    at most ``max_keys`` accounts and ``max_keys`` addresses are tracked, the least
    recently failed dropped first. Counts live in this process's memory (each server
    process has its own).

    Examples
    --------
    >>> limiter = SignInLimiter(account=2, address=10, overall=100, window_s=60)
    >>> for t in (0, 1):
    ...     _ = limiter.admit("ann", "10.0.0.1", now=t)
    >>> limiter.admit("ann", "10.0.0.2", now=2)
    Traceback (most recent call last):
    ...
    waarborg.service.errors.TooManyAttemptsError: too many failed logins: try again in 58 s
    """

    def __init__(
        self, account: int, address: int, overall: int, window_s: float, max_keys: int = 10_000
    ) -> None:
        self._accounts = _Counter(account, window_s, max_keys)
        self._addresses = _Counter(address, window_s, max_keys)
        self._overall = _Counter(overall, window_s, 1)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings) -> SignInLimiter:
        """The limiter the settings ask for (``login_*``)."""
        return cls(
            settings.login_failures,
            settings.login_address_failures,
            settings.login_global_failures,
            settings.login_window_s,
            settings.login_tracked_keys,
        )

    def tracked(self) -> int:
        """How many accounts and addresses are tracked now."""
        with self._lock:
            return len(self._accounts.times) + len(self._addresses.times)

    def admit(self, account: str, address: str, now: float | None = None) -> Attempt:
        """Admit an attempt, or raise :class:`TooManyAttemptsError` with the seconds to wait."""
        now = time.time() if now is None else now
        with self._lock:
            wait = max(
                self._accounts.wait(account, now),
                self._addresses.wait(address, now),
                self._overall.wait("", now),
            )
            if wait > 0:
                seconds = max(1, int(wait + 0.999))
                raise TooManyAttemptsError(
                    Message("too many failed logins: try again in %(s)s s", s=seconds), seconds
                )
            self._accounts.add(account, now)
            self._addresses.add(address, now)
            self._overall.add("", now)
        return Attempt(account, address, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt succeeded: take it back and forget the account's failures."""
        with self._lock:
            self._accounts.times.pop(attempt.account, None)
            self._addresses.take_back(attempt.address, attempt.at)
            self._overall.take_back("", attempt.at)


# --------------------------------------------------------------------------- addresses


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """The networks of ``proxies`` (addresses or CIDR ranges); an error names a bad one.

    Examples
    --------
    >>> trusted_networks(["10.0.0.0/8", "::1"])
    (IPv4Network('10.0.0.0/8'), IPv6Network('::1/128'))
    """
    networks = []
    for proxy in proxies:
        try:
            networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
        except ValueError:
            raise WaarborgError(
                f"WAARBORG_TRUSTED_PROXIES: '{proxy}' is not an IP address or network"
            ) from None
    return tuple(networks)


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address: the peer, or from ``X-Forwarded-For`` if the peer is trusted.

    The header is read from the right (the entry the trusted proxy added) and trusted
    proxies are skipped; the first other entry is the client. A peer that is not a trusted
    proxy cannot choose its address by sending the header.

    Examples
    --------
    >>> proxies = trusted_networks(["10.0.0.5"])
    >>> client_address("203.0.113.9", "198.51.100.1", proxies)
    '203.0.113.9'
    >>> client_address("10.0.0.5", "198.51.100.1, 192.0.2.7", proxies)
    '192.0.2.7'
    """
    host = peer or "?"
    if not forwarded_for or not _trusted(host, trusted):
        return host
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else host


# --------------------------------------------------------------------------- names


def name_key(secret: str) -> bytes:
    """The key of :func:`name_digest`, derived from the service secret for this use only.

    A separate key keeps a digest in the log from ever being a valid token signature.
    """
    return hmac.new(secret.encode(), _NAME_KEY_LABEL, hashlib.sha256).digest()


def name_digest(key: bytes, name: str) -> str:
    """A keyed hash (HMAC-SHA256) of a typed user name: the same name, the same digest.

    Examples
    --------
    >>> key = name_key("s")
    >>> name_digest(key, "ann") == name_digest(key, "ann") != name_digest(key, "Ann")
    True
    """
    return hmac.new(key, name.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- signing in


def sign_in(
    db: Database, limiter: SignInLimiter, key: bytes, name: str, password: str, address: str
) -> User:
    """The active user with this name and password, the sign-in logged; else an error.

    :class:`TooManyAttemptsError` (429) while a limit holds, :class:`UnauthorisedError`
    (401) for a wrong name or password, logged as ``login.failed`` (an unknown name as its
    keyed digest) with the client address; a success is logged as ``token.issue`` with the
    address. The password is verified with no database transaction open.
    """
    digest = name_digest(key, name)
    attempt = limiter.admit(digest, address)
    found = None
    if len(name) <= MAX_NAME:
        with db.snapshot() as session:
            found = credentials(session, name)
    matches = password_matches(found, password)  # argon2: no transaction, no connection held
    with db.transaction() as session:
        user = session.get(User, found.user_id) if matches and found else None
        if user is None or not user.active or user.password_hash != found.password_hash:
            who = {"user": name} if found else {"unknown_user_hmac": digest}
            auditlog.append(session, ANONYMOUS, "login.failed", detail=who | {"address": address})
            user = None
        else:
            auditlog.append(session, actor(user), "token.issue", detail={"address": address})
    if user is None:
        raise UnauthorisedError(WRONG)
    limiter.succeeded(attempt)
    return user
