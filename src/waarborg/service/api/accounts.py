"""Logging in (bearer tokens), adding users, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from waarborg.service.api.deps import Token, as_user, log_in, state
from waarborg.service.auth import actor, add_user
from waarborg.service.casework import require_role
from waarborg.service.schemas import TokenOut, UserIn, UserOut

router = APIRouter(tags=["accounts"])


@router.post("/token", response_model=TokenOut)
async def login(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """Log in with form fields ``username`` and ``password``; get a bearer token.

    Failed attempts are limited per account (5), per client address (20) and in all
    (1000) within 5 minutes (settings); past a limit the answer is 429 with a
    ``Retry-After`` header until the window has passed.
    """
    token = await log_in(request, form.username, form.password)
    minutes = state(request).settings.token_minutes
    return TokenOut(access_token=token, expires_in=minutes * 60)


@router.get("/me", response_model=UserOut)
def me(request: Request, token: Token) -> UserOut:
    """The logged-in user."""
    with as_user(request, token) as (_, user):
        return UserOut.of(user)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(request: Request, token: Token, body: UserIn) -> UserOut:
    """Add a user (admin only). Case workers and supervisors need a team."""
    with as_user(request, token) as (session, user):
        require_role(user, ["admin"], "adding a user")
        created = add_user(
            session,
            actor(user),
            name=body.name,
            password=body.password,
            role=body.role,
            team_name=body.team,
            display_name=body.display_name,
        )
        return UserOut.of(created)
