"""The account pages: your own password, and the admins' users and access changes.

The same rules as the API (:mod:`waarborg.service.accounts`): changes that give access
wait for a second admin, every action is logged, every form carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from waarborg.i18n import Message
from waarborg.service import accounts
from waarborg.service.accounts import Requester
from waarborg.service.api.deps import MAX_ID, new_token
from waarborg.service.casework import require_role
from waarborg.service.errors import InvalidError
from waarborg.service.schemas import PasswordChangeIn, PasswordResetIn, RoleIn, TeamIn, UserIn
from waarborg.service.store.models import ROLES, User
from waarborg.service.web.pages import (
    _message,
    access_changes,
    as_web_user,
    check_csrf,
    render,
    start_session,
)

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
Field = Annotated[str, Form(max_length=1000)]
MANAGING = Message("managing accounts")


# --------------------------------------------------------------------------- own password


@router.get("/password")
def password_page(request: Request) -> Response:
    """Choose a new password (the only page open to a user whose password was reset)."""
    with as_web_user(request, before_password_change=True) as (_, user):
        return render(request, "password.html.j2", user=user)


@router.post("/password")
def change_password(
    request: Request,
    csrf: Csrf,
    current_password: Field = "",
    new_password: Field = "",
    new_password_again: Field = "",
) -> Response:
    """Change the password; every older session ends, this one goes on with a new token."""
    check_csrf(request, csrf)
    try:
        if new_password != new_password_again:
            raise InvalidError(Message("the new passwords differ"), field="new_password_again")
        with as_web_user(request, before_password_change=True) as (session, user):
            data = PasswordChangeIn(current_password=current_password, new_password=new_password)
            accounts.change_password(session, user, data.current_password, data.new_password)
            token = new_token(request, session, user)
    except (ValidationError, InvalidError) as exc:  # rolled back: the form again
        with as_web_user(request, before_password_change=True) as (_, user):
            error = _message(request, exc)
            return render(request, "password.html.j2", 422, user=user, error=error)
    return start_session(request, RedirectResponse("/", status_code=303), token)


# --------------------------------------------------------------------------- admins


@router.get("/users")
def users_page(request: Request) -> Response:
    """Every user, a form for a new one, and the access changes waiting for approval."""
    with as_web_user(request) as (session, user):
        require_role(user, ["admin"], MANAGING)
        return render(
            request,
            "users.html.j2",
            user=user,
            users=accounts.list_users(session),
            changes=access_changes(session),
            roles=ROLES,
        )


@router.get("/users/{user_id}")
def user_page(request: Request, user_id: int) -> Response:
    """One user, with the lifecycle actions."""
    with as_web_user(request) as (session, user):
        require_role(user, ["admin"], MANAGING)
        target = accounts.get_user(session, _id(user_id))
        return render(request, "user.html.j2", user=user, target=target, roles=ROLES)


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise InvalidError(Message("no such id: %(id)s", id=value))
    return value


def _admin_action(
    request: Request, csrf: str, back: str, act: Callable[[Session, User], Any]
) -> Response:
    """Check the form, run ``act`` as the logged-in admin, go ``back`` (errors: a page)."""
    check_csrf(request, csrf)
    try:
        with as_web_user(request) as (session, user):
            require_role(user, ["admin"], MANAGING)
            act(session, user)
    except ValidationError as exc:
        raise InvalidError(_message(request, exc)) from None
    return RedirectResponse(back, status_code=303)


@router.post("/users")
def create_user(
    request: Request,
    csrf: Csrf,
    name: Field = "",
    password: Field = "",
    role: Field = "",
    team: Field = "",
    display_name: Field = "",
) -> Response:
    """Add a user: inactive until another admin approves."""

    def act(session: Session, admin: User) -> None:
        data = UserIn(
            name=name,
            password=password,
            role=role,  # type: ignore[arg-type]
            team=team or None,
            display_name=display_name or None,
        )
        accounts.create_user(
            session,
            Requester.of(admin),
            name=data.name,
            password=data.password,
            role=data.role,
            team_name=data.team,
            display_name=data.display_name,
        )

    return _admin_action(request, csrf, "/users", act)


def _on_user(
    request: Request, csrf: str, user_id: int, change: Callable[[Session, Requester, User], Any]
) -> Response:
    _id(user_id)
    return _admin_action(
        request,
        csrf,
        f"/users/{user_id}",
        lambda session, admin: change(
            session, Requester.of(admin), accounts.get_user(session, user_id)
        ),
    )


@router.post("/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: int, csrf: Csrf) -> Response:
    """Deactivate at once."""
    return _on_user(request, csrf, user_id, accounts.deactivate)


@router.post("/users/{user_id}/reactivate")
def reactivate(request: Request, user_id: int, csrf: Csrf) -> Response:
    """Ask to reactivate (another admin approves)."""
    return _on_user(request, csrf, user_id, accounts.request_reactivation)


@router.post("/users/{user_id}/role")
def change_role(
    request: Request, user_id: int, csrf: Csrf, role: Field = "", team: Field = ""
) -> Response:
    """Ask for another role (another admin approves)."""

    def change(session: Session, by: Requester, target: User) -> None:
        data = RoleIn(role=role, team=team or None)  # type: ignore[arg-type]
        accounts.request_role(session, by, target, data.role, data.team)

    return _on_user(request, csrf, user_id, change)


@router.post("/users/{user_id}/team")
def change_team(request: Request, user_id: int, csrf: Csrf, team: Field = "") -> Response:
    """Ask for another team (another admin approves)."""

    def change(session: Session, by: Requester, target: User) -> None:
        accounts.request_team(session, by, target, TeamIn(team=team).team)

    return _on_user(request, csrf, user_id, change)


@router.post("/users/{user_id}/password")
def reset_password(request: Request, user_id: int, csrf: Csrf, password: Field = "") -> Response:
    """A one-off password the user must change at next sign-in."""

    def change(session: Session, by: Requester, target: User) -> None:
        accounts.reset_password(session, by, target, PasswordResetIn(password=password).password)

    return _on_user(request, csrf, user_id, change)


@router.post("/access-changes/{change_id}/approve")
def approve(request: Request, change_id: int, csrf: Csrf) -> Response:
    """Approve as the second admin."""
    _id(change_id)
    return _admin_action(
        request, csrf, "/users", lambda session, admin: accounts.approve(session, admin, change_id)
    )


@router.post("/access-changes/{change_id}/reject")
def reject(request: Request, change_id: int, csrf: Csrf) -> Response:
    """Reject (or withdraw)."""
    _id(change_id)
    return _admin_action(
        request, csrf, "/users", lambda session, admin: accounts.reject(session, admin, change_id)
    )
