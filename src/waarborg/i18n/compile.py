"""Compile gettext catalogs (``.po`` → ``.mo``) with Babel: the one compiler of waarborg.

It serves both the build (``setup.py`` loads this file by path, before waarborg is
installed, so it imports only the standard library and Babel) and the loader
(:func:`waarborg.i18n.translations`), which compiles a catalog in memory when its ``.mo``
is missing or older than its ``.po`` (an editable install or a fresh checkout).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel is imported on use: English text needs no catalog
    from babel.messages.catalog import Catalog


class CatalogError(ValueError):
    """A ``.po`` file that cannot be read; the message names the file and line."""


def read_catalog(po: Path) -> Catalog:
    """The catalog in ``po`` (its language is taken from the path ``<lang>/LC_MESSAGES``).

    Parameters
    ----------
    po
        A ``.po`` file under ``<locale dir>/<lang>/LC_MESSAGES/``.

    Returns
    -------
    Catalog
        The messages, with their flags (``fuzzy``, ``python-format``).

    Examples
    --------
    >>> from waarborg.i18n import LOCALE_DIR
    >>> read_catalog(LOCALE_DIR / "nl" / "LC_MESSAGES" / "web.po").locale.language
    'nl'
    """
    from babel.messages.pofile import read_po

    lang = po.parent.parent.name
    try:
        with po.open("rb") as file:
            return read_po(file, locale=lang, domain=po.stem, abort_invalid=True)
    except Exception as exc:  # Babel raises PoFileError, ValueError, UnicodeDecodeError
        raise CatalogError(f"{po}: cannot read the catalog: {exc}") from exc


def compile_po(po: Path) -> bytes:
    """The ``.mo`` bytes of the catalog ``po`` (fuzzy translations left out).

    Examples
    --------
    >>> from waarborg.i18n import LOCALE_DIR
    >>> compile_po(LOCALE_DIR / "nl" / "LC_MESSAGES" / "web.po")[:4] == b"\\xde\\x12\\x04\\x95"
    True
    """
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(po), use_fuzzy=False)
    return buffer.getvalue()


def compile_tree(locale_dir: Path) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/<domain>.po`` under ``locale_dir`` beside it.

    Returns the ``.mo`` files written. Each is written whole or not at all (a temporary
    file renamed into place), so a reader never sees half a catalog.
    """
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        partial = mo.with_suffix(".mo.partial")
        partial.write_bytes(compile_po(po))
        partial.replace(mo)
        written.append(mo)
    return written
