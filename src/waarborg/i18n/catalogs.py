"""Keep the catalogs in step with the code: extract, update, compile and check.

``scripts/i18n`` runs this module (``python -m waarborg.i18n.catalogs``)::

    scripts/i18n            # extract the message ids and update every .po (the usual)
    scripts/i18n compile    # .po -> .mo (the build does this; the loader can too)
    scripts/i18n check      # untranslated, fuzzy or inconsistent messages; stale .pot

Each domain is extracted from its own folders and files of ``src/waarborg`` (:data:`SOURCES`):
Python (``_()``, ``gettext()``, ``ngettext()``, ``N_()``, ``Message()``) and Jinja2
templates (``*.j2``: ``{{ _() }}`` and ``{% trans %}``).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import write_po

from waarborg.i18n import DOMAINS, LANGS, LOCALE_DIR, SOURCE_LANG, Domain
from waarborg.i18n.compile import compile_tree, read_catalog

PACKAGE_DIR = LOCALE_DIR.parent
#: The folders (and single modules) of ``src/waarborg`` whose text belongs to each domain.
SOURCES: dict[Domain, tuple[str, ...]] = {
    "web": ("service",),
    "reports": (
        "report",
        "verify",
        "register",
        "areas",
        "audit",
        "cli",
        "instruments",
        "selectivity",
        "errors.py",
        "tables.py",
    ),
}
KEYWORDS = {**DEFAULT_KEYWORDS, "Message": None}
METHODS = [("**.py", "python"), ("**.j2", "jinja2.ext:babel_extract")]
OPTIONS = {"**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
WIDTH = 100
HEADER = """\
# The {what} of waarborg's "{domain}" text.
# {how}
# See docs/translating.md. Licence: EUPL-1.2, as waarborg."""


def _catalog(domain: Domain, lang: str | None = None) -> Catalog:
    what = "English message ids" if lang is None else f"{lang} translation"
    how = (
        "Made by scripts/i18n from the code: do not edit."
        if lang is None
        else "Edit the msgstr lines only; scripts/i18n adds and removes the msgids."
    )
    return Catalog(
        locale=lang,
        domain=domain,
        project="waarborg",
        header_comment=HEADER.format(what=what, how=how, domain=domain),
        copyright_holder="waarborg developers",
        msgid_bugs_address="",
        last_translator="waarborg developers",
        language_team=lang or "",
        fuzzy=False,
        charset="utf-8",
    )


def extract(domain: Domain) -> Catalog:
    """Every message id of ``domain`` in the code and templates, with where it is used."""
    catalog = _catalog(domain)
    for source in SOURCES[domain]:
        for filename, lineno, message, comments, context in _extract(source):
            where = [(filename, lineno)]
            catalog.add(message, None, where, auto_comments=comments, context=context)
    return catalog


Found = tuple[str, int, str | tuple[str, ...], list[str], str | None]


def _extract(source: str) -> Iterable[Found]:
    """The messages of a folder or a module of ``src/waarborg``, each with its file."""
    path = PACKAGE_DIR / source
    if path.is_file():
        for lineno, message, comments, context in extract_from_file(
            "python", path, KEYWORDS, strip_comment_tags=True
        ):
            yield source, lineno, message, comments, context
        return
    found = extract_from_dir(path, METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        yield f"{source}/{filename}", lineno, message, comments, context


def pot_path(domain: Domain) -> Path:
    """The template of ``domain`` (the English message ids)."""
    return LOCALE_DIR / f"{domain}.pot"


def po_path(lang: str, domain: Domain) -> Path:
    """The catalog of ``domain`` in ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(
        buffer, catalog, width=WIDTH, include_lineno=False, ignore_obsolete=True, sort_by_file=True
    )
    return buffer.getvalue()


def _body(data: bytes) -> bytes:
    """A .po file without its header (whose dates change on every write)."""
    return data.split(b"\n\n", 1)[-1]


def _write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` if more than the header changed; whether it did."""
    if path.exists() and _body(path.read_bytes()) == _body(data):
        return False
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return True


def update(domains: Iterable[Domain] = DOMAINS) -> list[Path]:
    """Extract each domain into its ``.pot`` and merge it into every language's ``.po``.

    A new message id gets an empty translation; one close to a changed id is marked
    fuzzy with the old translation as a start (the tests fail until someone checks it);
    a message no longer in the code is dropped. Returns the files that changed.
    """
    changed = []
    for domain in domains:
        template = extract(domain)
        if _write(pot_path(domain), _po_bytes(template)):
            changed.append(pot_path(domain))
        for lang in LANGS:
            if lang == SOURCE_LANG:
                continue
            path = po_path(lang, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = read_catalog(path) if path.exists() else _catalog(domain, lang)
            catalog.update(template, update_header_comment=False)
            if _write(path, _po_bytes(catalog)):
                changed.append(path)
    return changed


def problems(domain: Domain) -> list[str]:
    """What is wrong with the catalogs of ``domain``, one line each (none: all is well).

    A ``.pot`` that lacks an id in the code or holds one no longer there; in every
    language: a missing or fuzzy translation, or one whose placeholders differ from the
    message id's (Babel's checkers).
    """
    found: list[str] = []
    code = {m.id for m in extract(domain) if m.id}
    pot = {m.id for m in read_catalog(pot_path(domain)) if m.id}
    for msgid in sorted(code - pot, key=str):
        found.append(f"{pot_path(domain)}: not extracted yet (run scripts/i18n): {msgid!r}")
    for msgid in sorted(pot - code, key=str):
        found.append(f"{pot_path(domain)}: no longer in the code (run scripts/i18n): {msgid!r}")
    for lang in LANGS:
        if lang != SOURCE_LANG:
            found += _catalog_problems(po_path(lang, domain), pot)
    return found


def _catalog_problems(path: Path, pot: set[object]) -> list[str]:
    catalog = read_catalog(path)
    found = []
    for msgid in sorted(pot - {m.id for m in catalog if m.id}, key=str):
        found.append(f"{path}: missing (run scripts/i18n): {msgid!r}")
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            found.append(f"{path}: not translated: {message.id!r}")
        elif message.fuzzy:
            found.append(f"{path}: fuzzy (check, then remove the 'fuzzy' flag): {message.id!r}")
        for error in message.check(catalog):
            found.append(f"{path}: {error}: {message.id!r}")
    return found


def main(argv: list[str]) -> int:
    """``update`` (default), ``compile`` or ``check``; the exit status."""
    command = argv[0] if argv else "update"
    if command == "update":
        for path in update():
            print(f"updated {path}")
    elif command == "compile":
        for path in compile_tree(LOCALE_DIR):
            print(f"compiled {path}")
    elif command == "check":
        found = [line for domain in DOMAINS for line in problems(domain)]
        print("\n".join(found) or "all catalogs complete")
        return 1 if found else 0
    else:
        print(f"unknown command {command!r}: use update, compile or check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
