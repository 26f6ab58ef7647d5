"""Who is who: users and teams, argon2 password hashes, signed bearer tokens, login limits.

Tokens are JSON Web Tokens (PyJWT) signed with HMAC-SHA256 (``HS256``, the only
algorithm accepted) under the service's secret, which is kept outside the database
(:mod:`waarborg.service.keys`). They carry the user's id, a token id, when they were
issued, when they expire and the user's token version. Every request re-reads the user:
a deactivated user's token, or one whose version is behind the user's, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

import jwt
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


def verify_password(password_hash: str, password: str) -> None:
    """Raise argon2's ``VerificationError`` unless ``password`` matches ``password_hash``."""
    _hasher.verify(password_hash, password)


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
    active: bool = True,
    bootstrap: bool = False,
) -> User:
    """Add a user (and their team, if new); logged as ``user.create``.

    This is the mechanism; who may add whom, and when an account becomes active, is
    :func:`waarborg.service.accounts.create_user`'s policy (four-eyes).
    """
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
        active=active,
    )
    session.add(user)
    session.flush()
    detail: dict[str, object] = {"user": name, "user_id": user.id, "role": role}
    detail |= {"team": team_name, "active": active}
    if bootstrap:
        detail["bootstrap"] = True
    auditlog.append(session, by, "user.create", detail=detail, records=[user])
    return user


# --------------------------------------------------------------------------- tokens

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "jti", "iat", "exp", "ver")


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, its id, when issued and its token version."""

    user_id: int
    jti: str
    issued_at: int
    expires_at: int
    version: int


def issue_token(user: User, secret: str, minutes: int, now: float | None = None) -> str:
    """A signed JWT (``HS256``) for ``user``, valid for ``minutes``.

    It carries ``sub`` (the user id), a random ``jti``, ``iat``, ``exp`` and ``ver``, the
    user's token version: raising the version revokes the token.
    """
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": str(user.id),
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": issued + minutes * 60,
        "ver": user.token_version,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str, max_minutes: int) -> TokenClaims:
    """The claims of a valid token; :class:`UnauthorisedError` otherwise.

    Refused: another algorithm than ``HS256`` (``none`` included), a bad signature, a
    missing claim, an ``iat`` in the future, an expired token, and a token whose lifetime
    (``exp - iat``) is longer than ``max_minutes``.

    Examples
    --------
    >>> read_token("not.a.token", "s" * 32, 60)
    Traceback (most recent call last):
    ...
    waarborg.service.errors.UnauthorisedError: invalid token
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise UnauthorisedError("token expired: log in again") from None
    except jwt.InvalidTokenError:
        raise UnauthorisedError("invalid token") from None
    try:
        read = TokenClaims(
            int(claims["sub"]),
            str(claims["jti"]),
            int(claims["iat"]),
            int(claims["exp"]),
            int(claims["ver"]),
        )
    except (ValueError, TypeError):
        raise UnauthorisedError("invalid token") from None
    if read.expires_at - read.issued_at > max_minutes * 60:
        raise UnauthorisedError("invalid token: it lives longer than tokens may")
    return read


def csrf_token(session_token: str, secret: str) -> str:
    """The CSRF token of a web session: an HMAC of its session token.

    Every form of the web pages carries it; a POST without the right one is refused.
    A page of another site can neither read it nor compute it.
    """
    mac = hmac.new(secret.encode(), f"csrf:{session_token}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


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
