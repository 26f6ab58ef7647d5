"""The pages' language: Dutch (the default) or English, through the ``web`` catalog.

Each language has a Jinja2 environment of its own with the catalog installed
(:func:`waarborg.i18n.install`), so a template writes ``{{ _("Queue") }}`` and the
Dutch is in ``waarborg/locale/nl/LC_MESSAGES/web.po`` (``docs/translating.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from waarborg.i18n import LANGS, Lang, gettext_for, install

__all__ = ["DOMAIN", "LANGS", "Lang", "gettext", "templates"]

DOMAIN = "web"
TEMPLATES = Path(__file__).parent / "templates"


@cache
def templates(lang: Lang) -> Jinja2Templates:
    """The pages' templates in ``lang``.

    Autoescape for every template: Starlette's default escapes only ``*.html/.htm/.xml``
    names, and these are ``*.html.j2``. Nothing shown is ever marked safe except the
    chart's SVG, whose text is escaped where it is made (``charts.agreement_svg``).
    """
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return Jinja2Templates(env=install(env, lang, DOMAIN))


def gettext(lang: Lang) -> Callable[[str], str]:
    """The ``web`` catalog's ``gettext`` in ``lang``, to bind as ``_``.

    Examples
    --------
    >>> gettext("nl")("Log in")
    'Inloggen'
    """
    return gettext_for(lang, DOMAIN)[0]
