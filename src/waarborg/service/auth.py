"""Who is who: users and teams, argon2 password hashes, signed bearer tokens.

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
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.i18n import Message
from waarborg.service import auditlog, passwords
from waarborg.service.auditlog import Actor
from waarborg.service.errors import ConflictError, InvalidError, UnauthorisedError
from waarborg.service.store.models import ROLES, Team, User
from waarborg.service.words import role_name

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password: evens out the time of an unknown user's login")


def actor(user: User) -> Actor:
    """The audit-log actor of a user."""
    return Actor(user.name, user.role)


def hash_password(password: str, *, user_name: str) -> str:
    """An argon2id hash of ``password`` for ``user_name``, if the password policy allows it.

    Every password the service stores passes here: :func:`waarborg.service.passwords.check`
    refuses a short, common or easily guessed one, or one that contains the user name.
    """
    passwords.check(password, user_name)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> None:
    """Raise argon2's ``VerificationError`` unless ``password`` matches ``password_hash``."""
    _hasher.verify(password_hash, password)


@dataclass(frozen=True)
class Credentials:
    """What signing in needs of a user, read in a short transaction of its own."""

    user_id: int
    password_hash: str
    active: bool


def credentials(session: Session, name: str) -> Credentials | None:
    """The credentials of the user called ``name``, or None if there is none."""
    row = session.execute(
        select(User.id, User.password_hash, User.active).where(User.name == name)
    ).first()
    return Credentials(row.id, row.password_hash, row.active) if row else None


def password_matches(found: Credentials | None, password: str) -> bool:
    """Whether ``password`` is the password of ``found`` (argon2; never inside a transaction).

    An unknown user (None) costs the same time as a known one: a dummy hash is verified.
    The answer is False for an inactive user, whatever the password.
    """
    try:
        _hasher.verify(found.password_hash if found else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return found is not None and found.active


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
        raise InvalidError(
            Message(
                "unknown role '%(role)s': use one of %(roles)s", role=role, roles=", ".join(ROLES)
            )
        )
    if role in ("caseworker", "supervisor") and not team_name:
        raise InvalidError(Message("a %(role)s belongs to a team: give one", role=role_name(role)))
    if session.execute(select(User.id).where(User.name == name)).first():
        raise ConflictError(Message("a user called '%(name)s' exists already", name=name))
    user = User(
        name=name,
        display_name=display_name,
        password_hash=hash_password(password, user_name=name),
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
        raise UnauthorisedError(Message("token expired: log in again")) from None
    except jwt.InvalidTokenError:
        raise UnauthorisedError(Message("invalid token")) from None
    try:
        read = TokenClaims(
            int(claims["sub"]),
            str(claims["jti"]),
            int(claims["iat"]),
            int(claims["exp"]),
            int(claims["ver"]),
        )
    except (ValueError, TypeError):
        raise UnauthorisedError(Message("invalid token")) from None
    if read.expires_at - read.issued_at > max_minutes * 60:
        raise UnauthorisedError(Message("invalid token: it lives longer than tokens may"))
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
