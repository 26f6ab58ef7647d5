"""What every endpoint depends on: the request's one transaction and the logged-in user."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from waarborg.service import auditlog
from waarborg.service.auditlog import Actor
from waarborg.service.auth import actor, issue_token, read_token
from waarborg.service.errors import (
    PasswordChangeRequiredError,
    ServiceError,
    UnauthorisedError,
)
from waarborg.service.schemas import NAME_PATTERN
from waarborg.service.settings import Settings
from waarborg.service.signin import WRONG, Network, SignInLimiter, client_address, sign_in
from waarborg.service.store import Database
from waarborg.service.store.models import User

ANONYMOUS = Actor("anonymous", "none")
MAX_ID = 2**31 - 1
"""Largest id (a 32-bit integer column in PostgreSQL)."""

ProcessId = Annotated[int, Path(ge=1, le=MAX_ID, description="A process's id.")]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="A case's id.")]


@dataclass
class ServiceState:
    """What the app holds for every request: settings, database, token secret, sign-in limits.

    ``name_key`` keys the hash of typed user names (:func:`waarborg.service.signin.name_key`);
    ``trusted_proxies`` are the networks whose ``X-Forwarded-For`` is believed;
    ``signin_threads`` run the sign-ins.
    """

    settings: Settings
    db: Database
    secret: str
    limiter: SignInLimiter
    name_key: bytes
    trusted_proxies: tuple[Network, ...]
    signin_threads: ThreadPoolExecutor


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


async def log_in(request: Request, name: str, password: str) -> str:
    """Check a user name and password; a signed token for the user, the sign-in logged.

    The one login for the API (bearer token) and the web pages (the same token in a
    session cookie): :func:`waarborg.service.signin.sign_in`, limited per account, per
    client address (:func:`waarborg.service.signin.client_address`) and overall. It runs
    on the sign-in threads (``login_threads``), not the endpoints' threads, so a flood of
    logins (argon2: CPU and memory by design) cannot take every thread from other requests.
    """
    app = state(request)
    if len(name) > 200 or not re.fullmatch(NAME_PATTERN, name):
        raise UnauthorisedError(WRONG)
    address = client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        app.trusted_proxies,
    )
    work = partial(sign_in, app.db, app.limiter, app.name_key, name, password, address)
    user = await asyncio.get_running_loop().run_in_executor(app.signin_threads, work)
    return issue_token(user, app.secret, app.settings.token_minutes)


def new_token(request: Request, session: Session, user: User) -> str:
    """A fresh token for ``user`` after a password change, logged."""
    app = state(request)
    auditlog.append(session, actor(user), "token.issue")
    return issue_token(user, app.secret, app.settings.token_minutes)
