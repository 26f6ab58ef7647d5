"""The pages' language: Dutch (the default) or English, through the ``web`` catalog.

Each language has a Jinja2 environment of its own with the catalog installed
(:func:`waarborg.i18n.install`), so a template writes ``{{ _("Queue") }}`` and the
Dutch is in ``waarborg/locale/nl/LC_MESSAGES/web.po`` (``docs/translating.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from waarborg.i18n import (
    LANGS,
    N_,
    Lang,
    Message,
    Only,
    format_value,
    gettext_for,
    install,
    localise,
)
from waarborg.service.words import action_name, change_status, role_name

__all__ = ["DOMAIN", "LANGS", "Lang", "gettext", "refusal", "templates"]

DOMAIN = "web"
TEMPLATES = Path(__file__).parent / "templates"


def gettext(lang: Lang) -> Callable[[str], str]:
    """The ``web`` catalog's ``gettext`` in ``lang``, to bind as ``_``.

    Examples
    --------
    >>> gettext("nl")("Log in")
    'Inloggen'
    """
    return gettext_for(lang, DOMAIN)[0]


@cache
def templates(lang: Lang) -> Jinja2Templates:
    """The pages' templates in ``lang``.

    Autoescape for every template: Starlette's default escapes only ``*.html/.htm/.xml``
    names, and these are ``*.html.j2``. Nothing shown is ever marked safe except the
    chart's SVG, whose text is escaped where it is made (``charts.agreement_svg``).
    """
    env = install(Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True), lang, DOMAIN)
    env.filters.update(
        role=lambda code: localise(role_name(code), lang),
        action=lambda code: localise(action_name(code), lang),
        change_status=lambda code: localise(change_status(code), lang),
        number=lambda x, digits=None: format_value(x, lang, digits),
        percent=lambda x, digits=0: format_value(x * 100, lang, digits) + "%",
    )
    env.globals["titled"] = lambda thing, fallback="": titled(thing, lang, fallback)
    return Jinja2Templates(env=env)


def titled(thing: Any, lang: str, fallback: str = "") -> str:
    """The title of a spec part (instrument, predictor, outcome) in ``lang``.

    The Dutch title (``title_nl``) when the page is Dutch and the spec has one, else the
    title, else ``fallback`` (the part's name).
    """
    dutch = getattr(thing, "title_nl", "") if lang == "nl" else ""
    return dutch or getattr(thing, "title", "") or fallback or getattr(thing, "name", "")


#: The form fields a page names in a refusal, in words.
FIELDS: dict[str, Message] = {
    "name": Message("Name"),
    "instrument": Message("Instrument"),
    "team": Message("Team"),
    "purpose": Message("Purpose"),
    "retention_days": Message("Retention (days)"),
    "outcome": Message("Outcome"),
    "rationale": Message("Rationale"),
    "follows_score": Message("Does this decision follow the score?"),
    "password": Message("Password"),
    "current_password": Message("Current password"),
    "new_password": Message("New password"),
    "role": Message("Role"),
    "display_name": Message("Display name"),
    "observed_on": Message("Established on"),
    "note": Message("Note (optional)"),
}

#: Pydantic's refusals of a form field, by error type (``ctx`` fills the placeholders).
REFUSALS: dict[str, str] = {
    "missing": N_("%(field)s: fill this in"),
    "string_too_short": N_("%(field)s: at least %(min_length)s characters"),
    "string_too_long": N_("%(field)s: at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("%(field)s: holds characters that are not allowed"),
    "int_parsing": N_("%(field)s: give a whole number"),
    "greater_than_equal": N_("%(field)s: at least %(ge)s"),
    "less_than_equal": N_("%(field)s: at most %(le)s"),
    "literal_error": N_("%(field)s: choose one of %(expected)s"),
    "date_from_datetime_parsing": N_("%(field)s: give a date (YYYY-MM-DD)"),
    "date_parsing": N_("%(field)s: give a date (YYYY-MM-DD)"),
}


def refusal(error: Mapping[str, Any]) -> Message:
    """One of Pydantic's validation errors as a message for a page.

    An error raised inside a validator that carries a message of its own (a password the
    policy refuses) is that message; an unknown error type keeps Pydantic's English.

    Examples
    --------
    >>> error = {"type": "string_too_short", "loc": ("rationale",), "ctx": {"min_length": 10}}
    >>> refusal(error).translate("nl")
    'Motivering: minstens 10 tekens'
    """
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(getattr(cause, "text", None), Message):
        return cause.text
    loc = error.get("loc") or ()
    name = str(loc[-1]) if loc else ""
    field = FIELDS.get(name, name)
    values = {k: v for k, v in (error.get("ctx") or {}).items() if k != "error"}
    if error["type"] in REFUSALS:
        return Message(REFUSALS[error["type"]], field=field, **values)
    reason = Only("en", f" {error.get('msg', '')}")
    return Message("%(field)s: this value is not accepted.%(reason)s", field=field, reason=reason)
