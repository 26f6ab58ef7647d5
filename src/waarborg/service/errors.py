"""The service's errors: each carries the HTTP status the API answers with.

The core raises these; the JSON API (and later the web pages) turn them into responses.
A refusal that should be on the record (a read outside the user's processes) carries an
``audit`` entry, which is logged in a transaction of its own, since the request's own
transaction is rolled back.
"""

from __future__ import annotations

from typing import Any

from waarborg.errors import WaarborgError
from waarborg.i18n import Message, localise


class ServiceError(WaarborgError):
    """Base: ``status`` is the HTTP status code; ``audit`` an entry to log on refusal.

    ``message`` is the English text (the JSON API's ``detail``); a page shows
    :meth:`translate` of the :class:`~waarborg.i18n.Message` it was raised with.
    """

    status = 400

    def __init__(self, message: str | Message, *, audit: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.text = message
        self.audit = audit

    def translate(self, lang: str) -> str:
        """The message in ``lang`` (a plain ``str`` message stays as it is)."""
        return localise(self.text, lang)


class UnauthorisedError(ServiceError):
    """Not logged in, a bad or expired token, or a wrong name or password."""

    status = 401


class ForbiddenError(ServiceError):
    """The user's role does not allow this."""

    status = 403


class PasswordChangeRequiredError(ForbiddenError):
    """The user's password was reset: until they choose a new one, only that is allowed."""

    def __init__(self) -> None:
        super().__init__(
            Message(
                "your password was reset: choose a new one first "
                "(POST /api/me/password, or the page /password); until then only that and "
                "logging out are allowed"
            )
        )


class NotFoundError(ServiceError):
    """No such thing, or not visible to this user (purpose binding: no existence leak)."""

    status = 404


class ConflictError(ServiceError):
    """A name taken, a case decided already, a decision before the score was seen."""

    status = 409


class InvalidError(ServiceError):
    """Input that is well-formed but wrong: an unknown input, a value the instrument refuses.

    ``field`` names the input at fault, when one is.
    """

    status = 422

    def __init__(self, message: str | Message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooManyAttemptsError(ServiceError):
    """Too many failed logins; ``retry_after`` seconds until the next try."""

    status = 429

    def __init__(self, message: str | Message, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
