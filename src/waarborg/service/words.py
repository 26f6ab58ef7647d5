"""The service's codes in words: role names and audit-log actions, in either language.

The codes (``caseworker``, ``case.read``) stay what the database, the API and the log
hold; a page or a notice shows these words instead (``web`` catalog).
"""

from __future__ import annotations

from waarborg.i18n import Message


class Words(dict[str, Message]):
    """Codes and their words; calling it gives the words of a code (an unknown one as is).

    Examples
    --------
    >>> role_name("caseworker").translate("nl"), str(role_name("admin")), role_name("x")
    ('medewerker', 'administrator', 'x')
    >>> action_name("case.read").translate("nl"), change_status("approved").translate("nl")
    ('zaak geopend', 'goedgekeurd')
    """

    def __call__(self, code: str) -> Message | str:
        """The words of ``code``."""
        return self.get(code, code)


role_name = ROLE_NAMES = Words(
    {
        "caseworker": Message("case worker"),
        "supervisor": Message("supervisor"),
        "auditor": Message("auditor"),
        "admin": Message("administrator"),
        "system": Message("the system"),
        "none": Message("no role"),
        "operator": Message("operator"),
    }
)

action_name = ACTION_NAMES = Words(
    {
        "access.denied": Message("access refused"),
        "audit.record": Message("audit recorded"),
        "auditlog.read": Message("audit log read"),
        "case.create": Message("case added"),
        "case.read": Message("case opened"),
        "conditions.read": Message("conditions read"),
        "decision.create": Message("decision recorded"),
        "login.failed": Message("failed login"),
        "logout": Message("logged out"),
        "notice.read": Message("notice read"),
        "oversight.cube": Message("decision cube exported"),
        "oversight.read": Message("oversight read"),
        "process.create": Message("process registered"),
        "queue.read": Message("queue read"),
        "retention.delete": Message("deleted after retention"),
        "secret.move": Message("secret moved"),
        "token.issue": Message("logged in"),
        "user.activate": Message("account activated"),
        "user.change.approve": Message("access change approved"),
        "user.change.reject": Message("access change rejected"),
        "user.change.request": Message("access change requested"),
        "user.create": Message("account created"),
        "user.deactivate": Message("account deactivated"),
        "user.password_change": Message("password changed"),
        "user.password_reset": Message("password reset"),
        "user.reactivate": Message("account reactivated"),
        "user.role": Message("role changed"),
        "user.team": Message("team changed"),
    }
)


change_status = CHANGE_STATUS = Words(
    {
        "pending": Message("pending"),
        "approved": Message("approved"),
        "rejected": Message("rejected"),
    }
)
