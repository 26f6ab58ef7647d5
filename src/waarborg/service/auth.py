"""Who is who: users and teams, argon2 password hashes, signed bearer tokens.

Tokens are JSON Web Tokens signed with HMAC-SHA256 (``HS256``) under the service's
secret; they carry the user's id and an expiry. Every request re-reads the user, so a
deactivated user's token stops working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from waarborg.service import auditlog, passwords
from waarborg.service.auditlog import Actor
from waarborg.service.errors import ConflictError, InvalidError, UnauthorisedError
from waarborg.service.store.models import ROLES, Team, User

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
        password_hash=hash_password(password, user_name=name),
        role=role,
        team=team(session, team_name) if team_name else None,
    )
    session.add(user)
    session.flush()
    detail = {"user": name, "role": role, "team": team_name}
    auditlog.append(session, by, "user.create", detail=detail)
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
