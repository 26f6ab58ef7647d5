"""What every endpoint depends on: the request's one transaction and the logged-in user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.auth import LoginLimiter, actor, authenticate, issue_token, read_token
from waarborg.service.errors import (
    PasswordChangeRequiredError,
    ServiceError,
    TooManyAttemptsError,
    UnauthorisedError,
)
from waarborg.service.schemas import NAME_PATTERN
from waarborg.service.settings import Settings
from waarborg.service.store import Database
from waarborg.service.store.models import User

ANONYMOUS = Actor("anonymous", "none")
MAX_ID = 2**31 - 1
"""Largest id (a 32-bit integer column in PostgreSQL)."""

ProcessId = Annotated[int, Path(ge=1, le=MAX_ID, description="A process's id.")]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="A case's id.")]


@dataclass
class ServiceState:
    """What the app holds for every request: settings, database, token secret, login limits."""

    settings: Settings
    db: Database
    secret: str
    limiter: LoginLimiter


def state(request: Request) -> ServiceState:
    """The app's :class:`ServiceState`."""
    return request.app.state.waarborg


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """The request's one transaction: committed when the block ends, else rolled back.

    Endpoints run the whole block in their own thread, commit included, so a request
    never holds the audit log's chain-head lock while it waits for another thread.
    A refusal that carries an audit entry (a read outside the user's processes, a failed
    login) is logged in a transaction of its own, after the rollback.
    """
    db = state(request).db
    try:
        with db.transaction() as session:
            yield session
    except ServiceError as exc:
        if exc.audit is not None:
            who = getattr(request.state, "actor", ANONYMOUS)
            with db.transaction() as session:
                auditlog.append(
                    session,
                    who,
                    exc.audit["action"],
                    case_id=exc.audit.get("case_id"),
                    detail=exc.audit.get("detail"),
                )
        raise


oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)
Token = Annotated[str | None, Depends(oauth2)]
"""The bearer token (declared so that OpenAPI documents the security scheme)."""


@contextmanager
def as_user(
    request: Request, token: str | None, *, before_password_change: bool = False
) -> Iterator[tuple[Session, User]]:
    """The request's transaction and the logged-in user (401 without a valid token).

    A token is refused when its user is gone or inactive, or when its version is behind
    the user's (logged out, password, role or team changed since). A user whose password
    was reset gets 403 everywhere but where ``before_password_change`` is set (changing
    the password, logging out).
    """
    with transaction(request) as session:
        if not token:
            raise UnauthorisedError("log in first (POST /api/token), then send the bearer token")
        app = state(request)
        claims = read_token(token, app.secret, app.settings.token_minutes)
        user = session.get(User, claims.user_id)
        if user is None or not user.active:
            raise UnauthorisedError("invalid token")
        if claims.version != user.token_version:
            raise UnauthorisedError("token revoked (logged out or account changed): log in again")
        request.state.actor = actor(user)
        if user.must_change_password and not before_password_change:
            raise PasswordChangeRequiredError
        yield session, user


def log_in(request: Request, name: str, password: str) -> str:
    """Check a user name and password; a signed token for the user, the login logged.

    The one login for the API (bearer token) and the web pages (the same token in a
    session cookie). After ``login_failures`` failed attempts for one user name from one
    client within the window, further attempts get 429 until the window has passed.
    """
    app = state(request)
    if len(name) > 200 or not re.fullmatch(NAME_PATTERN, name):
        raise UnauthorisedError("wrong user name or password")
    key = f"{name}|{request.client.host if request.client else '?'}"
    wait = app.limiter.retry_after(key)
    if wait is not None:
        raise TooManyAttemptsError(f"too many failed logins: try again in {wait} s", wait)
    with transaction(request) as session:
        try:
            user = authenticate(session, name, password)
        except UnauthorisedError as exc:
            app.limiter.failed(key)
            exc.audit = {"action": "login.failed", "detail": {"user": name}}
            raise
        app.limiter.succeeded(key)
        return new_token(request, session, user)


def new_token(request: Request, session: Session, user: User) -> str:
    """A fresh token for ``user`` (after login or a password change), logged."""
    app = state(request)
    auditlog.append(session, actor(user), "token.issue")
    return issue_token(user, app.secret, app.settings.token_minutes)
