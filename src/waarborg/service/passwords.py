"""The password policy: 12 to 128 characters, not common or easily guessed, not the user name.

Every password the service stores passes :func:`check` (through
:func:`waarborg.service.auth.hash_password`). Common and breached passwords are recognised
offline with zxcvbn, whose frequency lists (the 30,000 most frequent passwords of public
breaches, English words, names) ship inside the package: a password is refused when
zxcvbn estimates fewer than 10^8 guesses for it (its score below 3), which covers the
listed passwords themselves and their predictable variants (``Password1234``,
``qwertyuiop123``, repeats, keyboard walks, years). No composition rules (ASVS 2.1.9).
"""

from __future__ import annotations

import threading
from typing import Literal

from zxcvbn import zxcvbn

from waarborg.i18n import Message, Only
from waarborg.service.errors import InvalidError

MIN_LENGTH = 12
"""Fewest characters in a password (ASVS 2.1.1)."""
MAX_LENGTH = 128
"""Most characters in a password (ASVS 2.1.2: at least 64 permitted, over 128 denied)."""
MIN_SCORE = 3
"""Least zxcvbn score accepted: 3 means at least 10^8 guesses estimated."""
_JUDGED_CHARS = 72  # zxcvbn's own cap (its cost grows with length): the first 72 decide
_ZXCVBN = threading.Lock()  # zxcvbn keeps the user inputs in a module-level dictionary

Reason = Literal["too_short", "too_long", "contains_name", "guessable"]


class PasswordPolicyError(InvalidError):
    """A password the policy refuses; ``reason`` says why (for translated messages)."""

    def __init__(self, message: str | Message, reason: Reason) -> None:
        super().__init__(message, field="password")
        self.reason = reason


def check(password: str, user_name: str) -> None:
    """Refuse ``password`` for ``user_name`` with a :class:`PasswordPolicyError` if weak.

    Parameters
    ----------
    password
        The new password, as typed.
    user_name
        The name of the account it is for (a password containing it is refused).

    Examples
    --------
    >>> check("plum orbit cactus seventy", "ann")
    >>> check("Password1234", "ann")
    Traceback (most recent call last):
    ...
    waarborg.service.passwords.PasswordPolicyError: a common or easily guessed password: \
This is similar to a commonly used password. Choose a longer phrase of unrelated words.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(
            Message("a password needs at least %(n)s characters", n=MIN_LENGTH), "too_short"
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(
            Message("a password has at most %(n)s characters", n=MAX_LENGTH), "too_long"
        )
    if user_name and user_name.casefold() in password.casefold():
        raise PasswordPolicyError(
            Message("a password must not contain the user name"), "contains_name"
        )
    with _ZXCVBN:
        judged = zxcvbn(password[:_JUDGED_CHARS], user_inputs=[user_name] if user_name else [])
    if judged["score"] < MIN_SCORE:
        warning = judged["feedback"]["warning"]
        raise PasswordPolicyError(
            Message(
                "a common or easily guessed password: %(warning)sChoose a longer phrase of "
                "unrelated words.",
                warning=Only("en", f"{warning} " if warning else ""),
            ),
            "guessable",
        )
