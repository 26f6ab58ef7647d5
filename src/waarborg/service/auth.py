"""Who is who: users and teams, argon2 password hashes, signed bearer tokens, login limits.

Tokens are JSON Web Tokens signed with HMAC-SHA256 (``HS256``) under the service's
secret; they carry the user's id and an expiry. Every request re-reads the user, so a
deactivated user's token stops working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.errors import ConflictError, InvalidError, UnauthorisedError
from waarborg.service.store.models import ROLES, Team, User

MIN_PASSWORD = 8
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password: evens out the time of an unknown user's login")


def actor(user: User) -> Actor:
    """The audit-log actor of a user."""
    return Actor(user.name, user.role)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (at least :data:`MIN_PASSWORD` characters)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def authenticate(session: Session, name: str, password: str) -> User:
    """The active user with this name and password; :class:`UnauthorisedError` otherwise."""
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        raise UnauthorisedError("wrong user name or password") from None
    if user is None or not user.active:
        raise UnauthorisedError("wrong user name or password")
    return user


def team(session: Session, name: str) -> Team:
    """The team called ``name``, made if new."""
    found = session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
    if found is None:
        found = Team(name=name)
        session.add(found)
        session.flush()
    return found


def add_user(
    session: Session,
    by: Actor,
    *,
    name: str,
    password: str,
    role: str,
    team_name: str | None = None,
    display_name: str | None = None,
) -> User:
    """Add a user (and their team, if new); logged as ``user.create``."""
    if role not in ROLES:
        raise InvalidError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
    if role in ("caseworker", "supervisor") and not team_name:
        raise InvalidError(f"a {role} belongs to a team: give one")
    if session.execute(select(User.id).where(User.name == name)).first():
        raise ConflictError(f"a user called '{name}' exists already")
    user = User(
        name=name,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        team=team(session, team_name) if team_name else None,
    )
    session.add(user)
    session.flush()
    detail = {"user": name, "role": role, "team": team_name}
    auditlog.append(session, by, "user.create", detail=detail, records=[user])
    return user


# --------------------------------------------------------------------------- tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


def _sign(message: str, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def issue_token(user: User, secret: str, minutes: int, now: float | None = None) -> str:
    """A signed token for ``user``, valid for ``minutes``."""
    issued = int(now if now is not None else time.time())
    claims = {"sub": str(user.id), "name": user.name, "iat": issued, "exp": issued + minutes * 60}
    body = f"{_HEADER}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{body}.{_sign(body, secret)}"


def token_user_id(token: str, secret: str, now: float | None = None) -> int:
    """The user id in a valid, unexpired token; :class:`UnauthorisedError` otherwise.

    Examples
    --------
    >>> token_user_id("not.a.token", "s")
    Traceback (most recent call last):
    ...
    waarborg.service.errors.UnauthorisedError: invalid token
    """
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _HEADER:
        raise UnauthorisedError("invalid token")
    if not hmac.compare_digest(_sign(f"{parts[0]}.{parts[1]}", secret), parts[2]):
        raise UnauthorisedError("invalid token")
    try:
        claims = json.loads(_unb64(parts[1]))
        user_id, expires = int(claims["sub"]), float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise UnauthorisedError("invalid token") from None
    if expires <= (now if now is not None else time.time()):
        raise UnauthorisedError("token expired: log in again")
    return user_id


def csrf_token(session_token: str, secret: str) -> str:
    """The CSRF token of a web session: an HMAC of its session token.

    Every form of the web pages carries it; a POST without the right one is refused.
    A page of another site can neither read it nor compute it.
    """
    return _sign(f"csrf:{session_token}", secret)


def csrf_ok(given: str, session_token: str, secret: str) -> bool:
    """Whether ``given`` is the CSRF token of ``session_token`` (constant time)."""
    return hmac.compare_digest(given, csrf_token(session_token, secret))


# --------------------------------------------------------------------------- login limits


@dataclass
class LoginLimiter:
    """At most ``failures`` failed logins per key (user name and client) within ``window_s``.

    Counts are kept in this process's memory (each server process has its own).

    Examples
    --------
    >>> limit = LoginLimiter(failures=2, window_s=60)
    >>> limit.failed("ann|127.0.0.1", now=0); limit.failed("ann|127.0.0.1", now=1)
    >>> limit.retry_after("ann|127.0.0.1", now=2)
    58
    """

    failures: int = 5
    window_s: int = 300

    def __post_init__(self) -> None:
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen[key]
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Seconds until ``key`` may try again, or None if it may now."""
        now = time.time() if now is None else now
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.failures:
                if not times:
                    self._seen.pop(key, None)
                return None
            return max(1, int(times[0] + self.window_s - now + 0.999))

    def failed(self, key: str, now: float | None = None) -> None:
        """Record a failed login."""
        now = time.time() if now is None else now
        with self._lock:
            self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        """Forget the key's failures after a successful login."""
        with self._lock:
            self._seen.pop(key, None)
