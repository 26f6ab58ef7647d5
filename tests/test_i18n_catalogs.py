"""The gettext catalogs: complete, consistent with the code, compiled the one way."""

from __future__ import annotations

import gettext
import io
import os
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from jinja2 import Environment

from tests.dutch import assert_entirely_dutch, english_in, english_words, words
from waarborg import i18n
from waarborg.i18n import DOMAINS, LANGS, Message, OneOf, install, translations
from waarborg.i18n.catalogs import _catalog_problems, extract, po_path, pot_path, problems
from waarborg.i18n.compile import compile_po, read_catalog


@pytest.mark.parametrize("domain", DOMAINS)
def test_pot_has_exactly_the_message_ids_of_the_code(domain: str) -> None:
    code = {m.id for m in extract(domain) if m.id}
    pot = {m.id for m in read_catalog(pot_path(domain)) if m.id}
    assert code - pot == set(), "run scripts/i18n: message ids not extracted yet"
    assert pot - code == set(), "run scripts/i18n: message ids no longer in the code"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_dutch_message_translated_not_fuzzy_same_placeholders(domain: str) -> None:
    assert problems(domain) == []


def _po(tmp_path: Path, messages: list[tuple[str, str, bool]]) -> Path:
    catalog = Catalog(locale="nl", domain="web")
    for msgid, msgstr, fuzzy in messages:
        catalog.add(msgid, msgstr, flags=["fuzzy"] if fuzzy else [])
    path = tmp_path / "nl" / "LC_MESSAGES" / "web.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as file:
        write_po(file, catalog)
    return path


def test_the_checks_catch_untranslated_fuzzy_and_placeholder_errors(tmp_path: Path) -> None:
    path = _po(
        tmp_path,
        [
            ("Queue", "", False),
            ("Case", "Zaak", True),
            ("no case %(id)s", "geen zaak %(nr)s", False),
            ("Log in", "Inloggen", False),
        ],
    )
    found = _catalog_problems(path, {"Queue", "Case", "no case %(id)s", "Log in", "Log out"})
    assert any("missing" in f and "'Log out'" in f for f in found)
    assert any("not translated" in f and "'Queue'" in f for f in found)
    assert any("fuzzy" in f and "'Case'" in f for f in found)
    assert any("no case %(id)s" in f and "placeholder" in f for f in found)
    assert not any("'Log in'" in f for f in found)


def test_compiled_catalog_gives_the_po_translations() -> None:
    po = po_path("nl", "web")
    compiled = gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    catalog = read_catalog(po)
    for message in catalog:
        if message.id and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string
    assert translations("nl", "web").gettext("Queue") == catalog["Queue"].string


def test_loader_compiles_the_po_when_the_mo_is_missing_or_older(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = _po(tmp_path, [("Queue", "Werkvoorraad", False)])
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    translations.cache_clear()
    try:
        assert translations("nl", "web").gettext("Queue") == "Werkvoorraad"  # no .mo
        stale = _po(tmp_path / "old", [("Queue", "Oud", False)])
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(stale))
        os.utime(mo, (po.stat().st_mtime - 60,) * 2)
        translations.cache_clear()
        assert translations("nl", "web").gettext("Queue") == "Werkvoorraad"  # .mo older
        os.utime(mo, (po.stat().st_mtime + 60,) * 2)
        translations.cache_clear()
        assert translations("nl", "web").gettext("Queue") == "Oud"  # .mo newer: built
    finally:
        translations.cache_clear()


def test_unknown_language_or_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        translations("de", "web")
    with pytest.raises(ValueError, match="unknown catalog domain 'pages'"):
        translations("nl", "pages")


def test_templates_check_placeholders_and_escape_values() -> None:
    env = install(Environment(autoescape=True), "nl", "web")
    page = env.from_string('{{ _("The chain is broken: %(reason)s", reason=r) }}')
    assert page.render(r="<b>") == "De keten is verbroken: &lt;b&gt;"
    with pytest.raises(KeyError):
        env.from_string('{{ _("The chain is broken: %(reason)s", cause=r) }}').render(r="x")


def test_message_is_english_as_text_and_translated_with_its_values() -> None:
    inner = Message("Queue")
    message = Message("The chain is broken: %(reason)s", reason=inner)
    assert str(message) == "The chain is broken: Queue"
    assert message.translate("nl") == "De keten is verbroken: Werkvoorraad"
    assert OneOf([Message("Queue"), "x"]).translate("nl") == "Werkvoorraad of x"
    assert OneOf([Message("Queue"), "x"]).translate("en") == "Queue or x"


def test_english_words_are_the_catalog_words_that_are_not_dutch() -> None:
    english = english_words()
    assert {"queue", "wrong", "password"} <= english
    # Dutch translations and the Dutch allow-list take words out
    assert "instrument" not in english and "waarborg" not in english
    assert words("Werkvoorraad: zaak 12 in generic-selection, subj_3f") == [
        "werkvoorraad",
        "zaak",
        "in",
    ]


def test_assert_entirely_dutch_names_the_english_words_with_context() -> None:
    page = '<p title="Wrong password">Werkvoorraad <a href="/queue">Queue</a></p>'
    assert [f.split(" in ")[0] for f in english_in(page)] == ["'queue'"]
    with pytest.raises(AssertionError, match="'queue' in …Werkvoorraad Queue"):
        assert_entirely_dutch(page)
    assert_entirely_dutch(page, allow=("Queue",))
    assert_entirely_dutch("<p>Zaak 3: selection_rate 0,5 in generic-selection</p>")


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_a_catalog_per_domain(lang: str) -> None:
    for domain in DOMAINS:
        assert translations(lang, domain) is translations(lang, domain)  # cached
