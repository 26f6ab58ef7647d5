"""Account lifecycle: list, deactivate, reactivate, role, team, passwords; four-eyes.

Every action is logged (``user.deactivate``, ``user.reactivate``, ``user.role``,
``user.team``, ``user.activate``, ``user.password_reset``, ``user.password_change``,
``user.change.request``, ``user.change.approve``, ``user.change.reject``, ``logout``).

**Four-eyes.** Every role of the service sees personal data (case workers and
supervisors the cases of their team; auditors the log and the oversight figures, which
name staff; admins decide who sees what), so a change that gives an account access — a
new account, a reactivation, another role, another team — is stored as a pending
:class:`~waarborg.service.store.models.AccessChange` and takes effect only when another
admin approves it: not the admin who asked, and not the account concerned. A change
that takes access away (deactivation) or forces a new password takes effect at once.

**Bootstrap.** The operator on the command line (who has the database) may add an admin
at once while fewer than two active admins exist, so that there are two pairs of eyes;
the log entry says ``"bootstrap": true``. Any other change the operator asks for waits
for an admin's approval like an admin's own request.

A change that alters what a user may do (role, team, deactivation, a new password,
logging out) raises the user's token version, which revokes every token they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from waarborg.i18n import Message
from waarborg.service import auditlog, auth
from waarborg.service.auditlog import Actor
from waarborg.service.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from waarborg.service.store.models import ROLES, AccessChange, User, utcnow
from waarborg.service.words import change_status, role_name

TEAM_ROLES = ("caseworker", "supervisor")
RECENT_CHANGES = 50


@dataclass(frozen=True)
class Requester:
    """Who asks for a change: an admin (``user_id``) or the operator (``user_id`` None)."""

    actor: Actor
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Requester:
        """A logged-in user as requester."""
        return cls(auth.actor(user), user.id)


def _log(session: Session, by: Requester, action: str, user: User, **detail: object) -> None:
    team = user.team.name if user.team else None
    base = {"user": user.name, "user_id": user.id, "role": user.role, "team": team}
    auditlog.append(session, by.actor, action, detail={**base, **detail}, records=[user])


def revoke_tokens(user: User) -> None:
    """End every token ``user`` holds (their token version goes up)."""
    user.token_version += 1


# --------------------------------------------------------------------------- reading


def list_users(session: Session) -> Sequence[User]:
    """Every user, by name."""
    return session.execute(select(User).order_by(User.name)).scalars().all()


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id`` (404 if none)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(Message("no user with id %(id)s", id=user_id))
    return user


def user_named(session: Session, name: str) -> User:
    """The user called ``name`` (404 if none)."""
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise NotFoundError(Message("no user called '%(name)s'", name=name))
    return user


def changes(session: Session, pending: bool) -> Sequence[AccessChange]:
    """Pending changes (oldest first), or the most recently decided ones (newest first)."""
    query = select(AccessChange)
    if pending:
        query = query.where(AccessChange.status == "pending").order_by(AccessChange.id)
    else:
        query = query.where(AccessChange.status != "pending").order_by(AccessChange.id.desc())
    return session.execute(query.limit(RECENT_CHANGES if not pending else None)).scalars().all()


# --------------------------------------------------------------------------- creating


def create_user(
    session: Session,
    by: Requester,
    *,
    name: str,
    password: str,
    role: str,
    team_name: str | None = None,
    display_name: str | None = None,
) -> tuple[User, AccessChange | None]:
    """Add a user, inactive until another admin approves (bootstrap: see module docs).

    The user must choose a new password at first sign-in (whoever made the account knows
    this one), except a bootstrap admin added by the operator.
    """
    bootstrap = by.user_id is None and role == "admin" and _active_admins(session) < 2
    user = auth.add_user(
        session,
        by.actor,
        name=name,
        password=password,
        role=role,
        team_name=team_name,
        display_name=display_name,
        active=bootstrap,
        bootstrap=bootstrap,
    )
    user.must_change_password = not bootstrap
    if bootstrap:
        return user, None
    return user, _request(session, by, user, "create", role, team_name)


def _active_admins(session: Session) -> int:
    query = select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    return session.execute(query).scalar_one()


# --------------------------------------------------------------------------- changes at once


def deactivate(session: Session, by: Requester, user: User) -> None:
    """Take ``user``'s access away at once (their tokens end)."""
    if by.user_id == user.id:
        raise ForbiddenError(Message("you cannot deactivate your own account"))
    if not user.active:
        raise ConflictError(Message("%(name)s is inactive already", name=user.name))
    if user.role == "admin" and _active_admins(session) <= 1:
        raise ConflictError(Message("the last active admin cannot be deactivated"))
    user.active = False
    revoke_tokens(user)
    _log(session, by, "user.deactivate", user)


def reset_password(session: Session, by: Requester, user: User, password: str) -> None:
    """Give ``user`` a one-off password they must change at next sign-in (tokens end).

    An admin cannot reset another admin's password (with it they could approve their own
    changes as that admin); the operator does that on the command line.
    """
    if by.user_id is not None and user.role == "admin" and user.id != by.user_id:
        raise ForbiddenError(
            Message("an admin's password is reset by the operator: waarborg users reset-password")
        )
    user.password_hash = auth.hash_password(password, user_name=user.name)
    user.must_change_password = True
    revoke_tokens(user)
    _log(session, by, "user.password_reset", user)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """The user's own new password (the current one is asked; every token ends)."""
    try:
        auth.verify_password(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise InvalidError(
            Message("the current password is wrong"), field="current_password"
        ) from None
    if new == current:
        raise InvalidError(
            Message("choose a password other than the current one"), field="new_password"
        )
    user.password_hash = auth.hash_password(new, user_name=user.name)
    user.must_change_password = False
    revoke_tokens(user)
    _log(session, Requester.of(user), "user.password_change", user)


def log_out(session: Session, user: User) -> None:
    """End every token of ``user`` (on every device)."""
    revoke_tokens(user)
    auditlog.append(session, auth.actor(user), "logout")


# --------------------------------------------------------------------------- four-eyes


def request_reactivation(session: Session, by: Requester, user: User) -> AccessChange:
    """Ask to give an inactive account its access back (waits for another admin)."""
    if user.active:
        raise ConflictError(Message("%(name)s is active already", name=user.name))
    return _request(session, by, user, "reactivate", user.role, _team_name(user))


def request_role(
    session: Session, by: Requester, user: User, role: str, team_name: str | None = None
) -> AccessChange:
    """Ask to give ``user`` another role (and team, for case workers and supervisors)."""
    if role not in ROLES:
        raise InvalidError(
            Message(
                "unknown role '%(role)s': use one of %(roles)s", role=role, roles=", ".join(ROLES)
            ),
            field="role",
        )
    team = team_name or (_team_name(user) if role in TEAM_ROLES else None)
    if role in TEAM_ROLES and not team:
        raise InvalidError(
            Message("a %(role)s belongs to a team: give one", role=role_name(role)), field="team"
        )
    if role == user.role and team == _team_name(user):
        raise ConflictError(Message("%(name)s has that role already", name=user.name))
    return _request(session, by, user, "role", role, team if role in TEAM_ROLES else None)


def request_team(session: Session, by: Requester, user: User, team_name: str) -> AccessChange:
    """Ask to move ``user`` to another team (its processes' cases become visible)."""
    if user.role not in TEAM_ROLES:
        raise InvalidError(
            Message(
                "only case workers and supervisors have a team; %(name)s is %(role)s",
                name=user.name,
                role=role_name(user.role),
            )
        )
    if team_name == _team_name(user):
        raise ConflictError(
            Message("%(name)s is in team %(team)s already", name=user.name, team=team_name)
        )
    return _request(session, by, user, "team", user.role, team_name)


def _team_name(user: User) -> str | None:
    return user.team.name if user.team else None


def _request(
    session: Session, by: Requester, user: User, kind: str, role: str, team: str | None
) -> AccessChange:
    open_ = select(AccessChange.id).where(
        AccessChange.user_id == user.id, AccessChange.status == "pending"
    )
    if session.execute(open_).first():
        raise ConflictError(
            Message("a change for %(name)s is pending: approve or reject it first", name=user.name)
        )
    change = AccessChange(
        user_id=user.id,
        kind=kind,
        role=role,
        team=team,
        status="pending",
        requested_by=by.actor.name,
        requested_by_id=by.user_id,
    )
    session.add(change)
    session.flush()
    _log(
        session,
        by,
        "user.change.request",
        user,
        change=change.id,
        kind=kind,
        to_role=role,
        to_team=team,
    )
    return change


def _pending(session: Session, change_id: int) -> AccessChange:
    change = session.get(AccessChange, change_id)
    if change is None:
        raise NotFoundError(Message("no access change %(id)s", id=change_id))
    if change.status != "pending":
        raise ConflictError(
            Message(
                "access change %(id)s is %(status)s already",
                id=change_id,
                status=change_status(change.status),
            )
        )
    return change


def approve(session: Session, admin: User, change_id: int) -> AccessChange:
    """Approve a pending change as a second admin; it takes effect now.

    Refused (403) for the admin who asked for it and for the account it concerns.
    """
    change = _pending(session, change_id)
    if admin.id == change.requested_by_id:
        raise ForbiddenError(Message("a change needs a second admin: you asked for this one"))
    if admin.id == change.user_id:
        raise ForbiddenError(Message("you cannot approve a change of your own account"))
    user = change.user
    if change.kind in ("create", "reactivate"):
        user.active = True
    if change.kind in ("role", "team"):
        user.role = change.role or user.role
        user.team = auth.team(session, change.team) if change.team else None
        revoke_tokens(user)
    _decide(change, admin, "approved")
    by = Requester.of(admin)
    _log(
        session,
        by,
        "user.change.approve",
        user,
        change=change.id,
        kind=change.kind,
        requested_by=change.requested_by,
    )
    action = {"create": "user.activate", "reactivate": "user.reactivate"}.get(change.kind)
    _log(session, by, action or f"user.{change.kind}", user, change=change.id)
    return change


def reject(session: Session, admin: User, change_id: int) -> AccessChange:
    """Reject (or, for the one who asked, withdraw) a pending change; nothing changes."""
    change = _pending(session, change_id)
    _decide(change, admin, "rejected")
    _log(
        session,
        Requester.of(admin),
        "user.change.reject",
        change.user,
        change=change.id,
        kind=change.kind,
    )
    return change


def _decide(change: AccessChange, admin: User, status: str) -> None:
    change.status = status
    change.decided_by = admin.name
    change.decided_at = utcnow()
