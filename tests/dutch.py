"""Is a Dutch output entirely Dutch? English words from the catalogs, found in a text.

An *English word* is a word of an English message id (either catalog domain) that is not
also Dutch: it is in no Dutch translation and not in :data:`DUTCH`. A Dutch page with
one of them has English left in it. Names, numbers, codes and identifiers are not words
(:func:`words` skips tokens with digits or ``_ / @ { } [ ] = " < >`` in them, or ``-``,
``.`` or ``:`` between letters); ``<code>`` elements are machine data, not prose;
anything else a test knows is fine (a user called ``admin``) goes in ``allow``.
"""

from __future__ import annotations

import html
import re
from functools import cache

from waarborg.i18n import DOMAINS, LANGS, SOURCE_LANG
from waarborg.i18n.catalogs import po_path, pot_path
from waarborg.i18n.compile import read_catalog

#: Dutch words that English message ids also use, beyond those in the Dutch catalogs.
DUTCH = frozenset(
    {
        *("waarborg", "nl", "en", "pdf", "csv", "json", "id", "hash", "api", "auc", "bi"),
        *("hbo", "mbo", "wo", "post", "token", "parquet", "rol", "team", "teams", "instrument"),
        *("criteria", "was", "interval"),  # Dutch too: "meetbare criteria", "het interval"
        *("holm", "wilson", "newcombe", "katz", "delong", "brier"),  # names of methods
    }
)

_PLACEHOLDER = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[a-zA-Z%]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_TOKEN = re.compile(r"\S+")
_CODE = re.compile(r".*[\d_/@{}\[\]=\"<>].*|\w+[-.:]\w.*")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_HIDDEN = re.compile(r"<(script|style|code)\b.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def words(text: str) -> list[str]:
    """The words of ``text`` in lower case (placeholders, URLs and code-like tokens left out).

    >>> words("Zaak 12 van generic-selection (subj_ab) op https://x.nl: 36,6 %(n)s")
    ['zaak', 'van', 'op']
    """
    text = _URL.sub(" ", _PLACEHOLDER.sub(" ", text))
    kept = [t for t in _TOKEN.findall(text) if not _CODE.fullmatch(t.strip("()[]{},.;:!?\"'…"))]
    return [w.lower() for t in kept for w in _WORD.findall(t)]


@cache
def english_words() -> frozenset[str]:
    """Words of the English message ids that are not also Dutch."""
    english: set[str] = set()
    dutch: set[str] = set(DUTCH)
    for domain in DOMAINS:
        for message in read_catalog(pot_path(domain)):
            for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
                english.update(words(msgid or ""))
        for lang in LANGS:
            if lang == SOURCE_LANG:
                continue
            for message in read_catalog(po_path(lang, domain)):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for msgstr in strings:
                    dutch.update(words(msgstr or ""))
    return frozenset(english - dutch)


def visible_text(page: str) -> str:
    """The prose of an HTML page: no tags, attributes, scripts, styles or ``<code>``.

    ``<code>`` holds machine data shown as it is stored (log actions' codes, the log's
    JSON details, hashes): not words a translation could change.
    """
    return html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))


def english_in(text: str, allow: tuple[str, ...] = ()) -> list[str]:
    """Each English word in ``text`` (HTML or plain) with the text around it.

    ``allow`` holds words and phrases to ignore (names, text another part of the work
    will translate); each is removed, as a whole word or phrase, before looking.
    """
    plain = " ".join(visible_text(text).split())
    for phrase in allow:
        plain = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", plain)
    english = english_words()
    found = []
    for match in _WORD.finditer(plain):
        word = match.group().lower()
        if word in english and word in words(_around(plain, match.start(), match.end(), 0)):
            found.append(f"{word!r} in …{_around(plain, match.start(), match.end(), 40)}…")
    return found


def _around(text: str, start: int, end: int, width: int) -> str:
    left = text.rfind(" ", 0, start) + 1 if width == 0 else max(0, start - width)
    right = text.find(" ", end) if width == 0 else end + width
    return text[left : right if right >= 0 else len(text)]


def assert_entirely_dutch(text: str, allow: tuple[str, ...] = (), where: str = "") -> None:
    """Fail, listing each English word with its context, unless ``text`` is all Dutch."""
    found = english_in(text, allow)
    assert not found, f"English in the Dutch {where or 'text'}:\n  " + "\n  ".join(found)
