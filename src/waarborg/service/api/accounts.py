"""Logging in and out, your password, and the admins' account lifecycle (four-eyes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from waarborg.service import accounts
from waarborg.service.accounts import Requester
from waarborg.service.api.deps import MAX_ID, Token, as_user, log_in, new_token, state
from waarborg.service.casework import require_role
from waarborg.service.schemas import (
    AccessChangeOut,
    AccessChangesOut,
    PasswordChangeIn,
    PasswordResetIn,
    RoleIn,
    TeamIn,
    TokenOut,
    UserIn,
    UserOut,
)
from waarborg.service.store.models import User

router = APIRouter(tags=["accounts"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="A user's id.")]
ChangeId = Annotated[int, Path(ge=1, le=MAX_ID, description="An access change's id.")]


def _token_out(request: Request, token: str, user: User) -> TokenOut:
    minutes = state(request).settings.token_minutes
    return TokenOut(
        access_token=token,
        expires_in=minutes * 60,
        must_change_password=user.must_change_password,
    )


@router.post("/token", response_model=TokenOut)
async def login(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """Log in with form fields ``username`` and ``password``; get a bearer token.

    Failed attempts are limited per account (5), per client address (20) and in all
    (1000) within 5 minutes (settings); past a limit the answer is 429 with a
    ``Retry-After`` header until the window has passed. With ``must_change_password``
    true, the token is good only for ``POST /api/me/password`` and ``POST /api/logout``
    (anything else: 403).
    """
    token = await log_in(request, form.username, form.password)

    def answer() -> TokenOut:
        with as_user(request, token, before_password_change=True) as (_, user):
            return _token_out(request, token, user)

    return await run_in_threadpool(answer)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, token: Token) -> Response:
    """End every token of the logged-in user, on every device."""
    with as_user(request, token, before_password_change=True) as (session, user):
        accounts.log_out(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
def me(request: Request, token: Token) -> UserOut:
    """The logged-in user."""
    with as_user(request, token) as (_, user):
        return UserOut.of(user)


@router.post("/me/password", response_model=TokenOut)
def change_password(request: Request, token: Token, body: PasswordChangeIn) -> TokenOut:
    """Choose a new password (give the current one); every older token ends, here is a new one."""
    with as_user(request, token, before_password_change=True) as (session, user):
        accounts.change_password(session, user, body.current_password, body.new_password)
        return _token_out(request, new_token(request, session, user), user)


# --------------------------------------------------------------------------- admins


def _admin(user: User, doing: str) -> Requester:
    require_role(user, ["admin"], doing)
    return Requester.of(user)


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, token: Token) -> list[UserOut]:
    """Every user, by name (admin only)."""
    with as_user(request, token) as (session, user):
        _admin(user, "listing users")
        return [UserOut.of(u) for u in accounts.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(request: Request, token: Token, body: UserIn) -> UserOut:
    """Add a user (admin only); inactive until another admin approves the access change.

    Case workers and supervisors need a team. The user must choose a new password at
    first sign-in.
    """
    with as_user(request, token) as (session, user):
        created, _ = accounts.create_user(
            session,
            _admin(user, "adding a user"),
            name=body.name,
            password=body.password,
            role=body.role,
            team_name=body.team,
            display_name=body.display_name,
        )
        return UserOut.of(created)


def _target(session: Session, user: User, user_id: int, doing: str) -> tuple[Requester, User]:
    return _admin(user, doing), accounts.get_user(session, user_id)


@router.post("/users/{user_id}/deactivate", response_model=UserOut)
def deactivate(request: Request, token: Token, user_id: UserId) -> UserOut:
    """Deactivate a user at once (admin only): their tokens end, they cannot log in."""
    with as_user(request, token) as (session, user):
        by, target = _target(session, user, user_id, "deactivating a user")
        accounts.deactivate(session, by, target)
        return UserOut.of(target)


@router.post("/users/{user_id}/password", response_model=UserOut)
def reset_password(
    request: Request, token: Token, user_id: UserId, body: PasswordResetIn
) -> UserOut:
    """Give a user a one-off password (admin only; not another admin's): they must change it.

    Their tokens end at once.
    """
    with as_user(request, token) as (session, user):
        by, target = _target(session, user, user_id, "resetting a password")
        accounts.reset_password(session, by, target, body.password)
        return UserOut.of(target)


@router.post(
    "/users/{user_id}/reactivate",
    response_model=AccessChangeOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def reactivate(request: Request, token: Token, user_id: UserId) -> AccessChangeOut:
    """Ask to reactivate a user (admin only); pending until another admin approves."""
    with as_user(request, token) as (session, user):
        by, target = _target(session, user, user_id, "reactivating a user")
        return AccessChangeOut.of(accounts.request_reactivation(session, by, target))


@router.post(
    "/users/{user_id}/role", response_model=AccessChangeOut, status_code=status.HTTP_202_ACCEPTED
)
def change_role(request: Request, token: Token, user_id: UserId, body: RoleIn) -> AccessChangeOut:
    """Ask to give a user another role (admin only); pending until another admin approves."""
    with as_user(request, token) as (session, user):
        by, target = _target(session, user, user_id, "changing a role")
        return AccessChangeOut.of(accounts.request_role(session, by, target, body.role, body.team))


@router.post(
    "/users/{user_id}/team", response_model=AccessChangeOut, status_code=status.HTTP_202_ACCEPTED
)
def change_team(request: Request, token: Token, user_id: UserId, body: TeamIn) -> AccessChangeOut:
    """Ask to move a user to another team (admin only); pending until another admin approves."""
    with as_user(request, token) as (session, user):
        by, target = _target(session, user, user_id, "changing a team")
        return AccessChangeOut.of(accounts.request_team(session, by, target, body.team))


@router.get("/access-changes", response_model=AccessChangesOut)
def access_changes(request: Request, token: Token) -> AccessChangesOut:
    """Pending access changes and the 50 most recently decided (admins and auditors)."""
    with as_user(request, token) as (session, user):
        require_role(user, ["admin", "auditor"], "reading access changes")
        return AccessChangesOut(
            pending=[AccessChangeOut.of(c) for c in accounts.changes(session, pending=True)],
            recent=[AccessChangeOut.of(c) for c in accounts.changes(session, pending=False)],
        )


@router.post("/access-changes/{change_id}/approve", response_model=AccessChangeOut)
def approve(request: Request, token: Token, change_id: ChangeId) -> AccessChangeOut:
    """Approve a pending change as the second admin (not the one who asked): it takes effect."""
    with as_user(request, token) as (session, user):
        require_role(user, ["admin"], "approving an access change")
        return AccessChangeOut.of(accounts.approve(session, user, change_id))


@router.post("/access-changes/{change_id}/reject", response_model=AccessChangeOut)
def reject(request: Request, token: Token, change_id: ChangeId) -> AccessChangeOut:
    """Reject (or withdraw) a pending change (admin only): nothing changes."""
    with as_user(request, token) as (session, user):
        require_role(user, ["admin"], "rejecting an access change")
        return AccessChangeOut.of(accounts.reject(session, user, change_id))
