"""Program text in Dutch and English through gettext catalogs managed with Babel.

The English text in the code is the message id (the gettext norm), so English needs no
catalog; Dutch lives in ``waarborg/locale/nl/LC_MESSAGES/<domain>.po``, which a
communication adviser edits without touching Python (``docs/translating.md``). Two
domains keep the catalogs apart:

``web``
    the service: pages, web and API messages, notices, role names, log actions;
``reports``
    audit, verification, register, model card, area and selectivity reports, and the CLI.

Use :func:`gettext_for` in Python, :func:`install` for a Jinja2 environment (``{{ _("…")
}}`` and ``{% trans %}``, with ``%(name)s`` placeholders checked), and :class:`Message` for
text made now and shown later in a language not yet known (an error raised in the core and
shown on a Dutch page).

Examples
--------
>>> _, ngettext = gettext_for("nl", "web")
>>> _("Queue")
'Werkvoorraad'
>>> broken = Message("The chain is broken: %(reason)s", reason="entry 7")
>>> str(broken), broken.translate("nl")
('The chain is broken: entry 7', 'De keten is verbroken: entry 7')
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from waarborg.i18n.compile import CatalogError, compile_po

__all__ = [
    "DOMAINS",
    "LANGS",
    "LOCALE_DIR",
    "N_",
    "CatalogError",
    "Domain",
    "Lang",
    "Message",
    "Number",
    "OneOf",
    "Only",
    "format_value",
    "gettext_for",
    "install",
    "localise",
    "translations",
]

Lang = Literal["nl", "en"]
Domain = Literal["web", "reports"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DOMAINS: tuple[Domain, ...] = get_args(Domain)
#: The catalogs: ``<domain>.pot`` (the English message ids) and ``<lang>/LC_MESSAGES/``.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
#: The language the message ids are written in.
SOURCE_LANG: Lang = "en"


def _check(lang: str, domain: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    if domain not in DOMAINS:
        raise ValueError(f"unknown catalog domain {domain!r}: use one of {', '.join(DOMAINS)}")


@cache
def translations(lang: str, domain: str) -> gettext.NullTranslations:
    """The translations of ``domain`` into ``lang`` (cached per process).

    English is the source language: its translations return the message ids. Another
    language reads its compiled ``.mo``, or compiles the ``.po`` in memory when the
    ``.mo`` is missing or older (an editable install, a fresh checkout, a catalog edited
    since the build).

    Parameters
    ----------
    lang
        ``"nl"`` or ``"en"``.
    domain
        ``"web"`` or ``"reports"``.

    Returns
    -------
    gettext.NullTranslations
        With ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext``.

    Examples
    --------
    >>> translations("nl", "web").gettext("Log in")
    'Inloggen'
    >>> translations("en", "web").gettext("Log in")
    'Log in'
    """
    _check(lang, domain)
    if lang == SOURCE_LANG:
        return gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        data = mo.read_bytes()
    elif po.exists():
        data = compile_po(po)
    else:
        raise CatalogError(f"{po}: the {lang} catalog of {domain!r} is missing")
    return gettext.GNUTranslations(io.BytesIO(data))


def N_(msgid: str) -> str:  # noqa: N802 (the gettext name, which Babel extracts)
    """Mark ``msgid`` for extraction without translating it yet.

    For program text written into a table now and translated where it is shown (with
    the catalog of the module's domain). Babel's extraction finds the call by its name,
    so every domain marks text with this one function.

    Examples
    --------
    >>> N_("Queue")
    'Queue'
    """
    return msgid


def gettext_for(
    lang: str, domain: str
) -> tuple[Callable[[str], str], Callable[[str, str, int], str]]:
    """``(gettext, ngettext)`` of ``domain`` in ``lang``, to bind as ``_`` and ``ngettext``.

    Examples
    --------
    >>> _, ngettext = gettext_for("nl", "web")
    >>> _("Log out")
    'Uitloggen'
    """
    found = translations(lang, domain)
    return found.gettext, found.ngettext


def install(env: Any, lang: str, domain: str) -> Any:
    """Give the Jinja2 environment ``env`` the catalog of ``domain`` in ``lang``.

    Adds ``jinja2.ext.i18n`` with *newstyle* gettext: ``{{ _("%(n)s cases", n=3) }}``
    formats in the call (a missing or misspelt placeholder is an error, and with
    autoescape the values are escaped), and a literal ``%`` is written ``%%``. An
    environment serves one language: make one per language.

    Returns
    -------
    jinja2.Environment
        ``env`` itself.

    Examples
    --------
    >>> from jinja2 import Environment
    >>> env = install(Environment(autoescape=True), "nl", "web")
    >>> env.from_string('{{ _("Case") }} {{ _("%(n)s%%", n=5) }}').render()
    'Zaak 5%'
    """
    _check(lang, domain)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_translations(translations(lang, domain), newstyle=True)
    env.globals["lang"] = lang
    return env


class Translatable(Protocol):
    """Anything that can say itself in a language."""

    def translate(self, lang: str) -> str:
        """The text in ``lang``."""
        ...


class Message:
    """Text to show later in a language not yet known: a message id and its values.

    ``str()`` gives the English (for logs and the JSON API); :meth:`translate` gives it in
    another language. A value that is itself translatable (a :class:`Message`,
    :class:`OneOf`) is translated too. Babel extracts the message id of every
    ``Message("…")`` call (``scripts/i18n``).

    Parameters
    ----------
    msgid
        The English text, with ``%(name)s`` placeholders for ``params``.
    domain
        The catalog: ``"web"`` (default) or ``"reports"``.
    **params
        The placeholders' values.

    Examples
    --------
    >>> m = Message("The chain is broken: %(reason)s", reason="entry 3")
    >>> str(m), m.translate("nl")
    ('The chain is broken: entry 3', 'De keten is verbroken: entry 3')
    """

    __slots__ = ("domain", "msgid", "params")

    def __init__(self, msgid: str, /, domain: Domain = "web", **params: Any) -> None:
        self.msgid = msgid
        self.domain = domain
        self.params: Mapping[str, Any] = params

    def translate(self, lang: str) -> str:
        """The message in ``lang``, its values filled in (translated where they can be)."""
        text = translations(lang, self.domain).gettext(self.msgid)
        if not self.params:
            return text
        return text % {name: localise(value, lang) for name, value in self.params.items()}

    def __str__(self) -> str:
        return self.translate(SOURCE_LANG)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.msgid, self.domain, dict(self.params)) == (
            other.msgid,
            other.domain,
            dict(other.params),
        )

    def __hash__(self) -> int:
        return hash((self.msgid, self.domain))


class OneOf:
    """Alternatives joined the language's way: "a or b", "a of b".

    Examples
    --------
    >>> OneOf(["caseworker", "supervisor"]).translate("nl")
    'caseworker of supervisor'
    """

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = list(items)

    def translate(self, lang: str) -> str:
        """The alternatives in ``lang``, each translated where it can be."""
        from babel.lists import format_list

        return format_list([localise(i, lang) for i in self.items], style="or", locale=lang)

    def __str__(self) -> str:
        return self.translate(SOURCE_LANG)


class Number:
    """A number in a message, written the reader's way (a decimal comma in Dutch).

    Examples
    --------
    >>> Number(0.025).translate("nl"), str(Number(0.025))
    ('0,025', '0.025')
    >>> Message("%(n)s rows", n=Number(1234)).translate("nl")
    '1.234 rows'
    """

    __slots__ = ("digits", "value")

    def __init__(self, value: float, digits: int | None = None) -> None:
        self.value, self.digits = value, digits

    def translate(self, lang: str) -> str:
        """The number in ``lang`` (:func:`format_value`)."""
        return format_value(self.value, lang, self.digits)

    def __str__(self) -> str:
        return self.translate(SOURCE_LANG)


class Only:
    """Text that exists in one language only (a library's English hint): left out in others.

    Examples
    --------
    >>> hint = Only("en", "Avoid dates. ")
    >>> hint.translate("en"), hint.translate("nl")
    ('Avoid dates. ', '')
    """

    __slots__ = ("lang", "text")

    def __init__(self, lang: str, text: str) -> None:
        self.lang, self.text = lang, text

    def translate(self, lang: str) -> str:
        """The text in its own language, else nothing."""
        return self.text if lang == self.lang else ""

    def __str__(self) -> str:
        return self.translate(SOURCE_LANG)


def localise(value: Any, lang: str) -> str:
    """``value`` as text in ``lang``: translated if it can be, else ``str(value)``.

    Examples
    --------
    >>> localise(Message("Queue"), "nl"), localise(12, "nl")
    ('Werkvoorraad', '12')
    """
    translate = getattr(value, "translate", None)
    if callable(translate) and not isinstance(value, str):
        return translate(lang)
    return str(value)


def format_value(value: Any, lang: str, digits: int | None = None) -> str:
    """A value for a reader: a number the language's way (decimal comma in Dutch), else text.

    ``digits`` is the number of decimals; by default a float shows the decimals it has
    (at most three) and a whole number none. Numbers go through the one formatter,
    :func:`waarborg.report.i18n.fmt_number`.

    Examples
    --------
    >>> format_value(36.6, "nl"), format_value(1234, "nl"), format_value(0.125, "en", 2)
    ('36,6', '1.234', '0.12')
    """
    from waarborg.report.i18n import fmt_number

    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if digits is None:
        decimals = repr(float(value)).partition(".")[2]
        whole = isinstance(value, int) or float(value).is_integer() or "e" in decimals
        digits = 0 if whole else min(3, len(decimals))
    return fmt_number(value, lang, digits)
