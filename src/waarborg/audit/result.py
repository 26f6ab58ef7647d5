"""The result of an audit: one JSON-ready dict, a summary a reader can trust, HTML.

:class:`AuditResult` wraps the dict that :func:`waarborg.audit.audit` builds (its shape
is documented in ``docs/audit-result.schema.json`` and ``docs/audit.md``). Every number
in it is a small dict ``{"value": ..., "ci": [low, high], "n": ...}``; undefined
numbers (an empty group, no events) are ``null``, never ``NaN``.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from waarborg.report.i18n import N_, fmt_count, fmt_number, localise_number, texts

__all__ = ["AuditResult", "entries", "entry", "jsonable", "skipped"]

_WIDTH = 99
_GROUP_BLOCKS = (
    (("selection_rate", "selection rate"), ("base_rate", "base rate"), ("auc", "AUC")),
    (("fpr", "FPR"), ("fnr", "FNR"), ("ppv", "PPV")),
)
_OVERALL = (
    ("selection_rate", "Selection rate"),
    ("fpr", "False positive rate"),
    ("fnr", "False negative rate"),
    ("ppv", "Positive predictive value"),
)
#: The summary's words (English; the Dutch is in the ``reports`` catalog).
_WORDS = {
    "selection rate": N_("selection rate"),
    "base rate": N_("base rate"),
    "AUC": N_("AUC"),
    "FPR": N_("FPR"),
    "FNR": N_("FNR"),
    "PPV": N_("PPV"),
    "Selection rate": N_("Selection rate"),
    "False positive rate": N_("False positive rate"),
    "False negative rate": N_("False negative rate"),
    "Positive predictive value": N_("Positive predictive value"),
    "Base rate": N_("Base rate"),
    "AUC (DeLong)": N_("AUC (DeLong)"),
    "AUC of the bands": N_("AUC of the bands"),
    "Brier score": N_("Brier score"),
    "Calibration intercept": N_("Calibration intercept"),
    "Calibration slope": N_("Calibration slope"),
    "data": N_("Data"),
    "cases": N_("Cases (n)"),
    "score": N_("Score"),
    "outcome": N_("Outcome"),
    "no_outcome": N_("— (selection metrics only)"),
    "band": N_("Band"),
    "selected": N_("Selected"),
    "groups": N_("Groups"),
    "min_n": N_("Min group n"),
    "min_n_text": N_("{n} (smaller groups flagged, no verdicts)"),
    "intervals": N_("Intervals"),
    "intervals_text": N_("{level} (Wilson; Newcombe; Katz log; DeLong); Holm-adjusted p-values"),
    "instrument": N_("Instrument"),
    "fingerprint": N_("Data fingerprint"),
    "fingerprint_text": N_("{hash}… (of the count cube)"),
    "exact": N_("every distinct value kept"),
    "quantile": N_("quantile bins"),
    "merged": N_("bins of merged cubes"),
    "binned": N_("{score} ({bins} bins: {how})"),
    "band_in": N_("band in {{{bands}}}"),
    "column": N_("column {name}"),
    "no_selection": N_("— (no selection)"),
    "validity_overall": N_("Validity and overall"),
    "value": N_("value"),
    "ci": N_("{level} CI"),
    "calibration_per": N_("Calibration per {kind}"),
    "observed": N_("observed"),
    "expected": N_("expected"),
    "O/E": N_("O/E"),
    "reference": N_("{attribute} (reference group: '{ref}'); rates with {level} CI"),
    "group": N_("group"),
    "share": N_("share"),
    "ref": N_("(ref)"),
    "more_groups": N_("… and {n} smaller groups (see to_dict())"),
    "too_small": N_("* too small: reported, but excluded from verdicts"),
    "verdicts_head": N_(
        "Verdicts on {shown} comparisons of selection, false positives, false negatives "
        "and precision (Holm correction over all {size} tests of this audit, alpha 0.05):"
    ),
    "verdicts_tail": N_(
        "No significant difference in the {others} other comparison(s) (see verdicts)."
    ),
    "validity": N_("Validity"),
    "flags": N_("Flags"),
    "spec": N_("spec"),
}


def _number(x: Any) -> float | int | None:
    """A plain Python number, or None for nan/inf/None."""
    if x is None:
        return None
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    value = float(x)
    return value if math.isfinite(value) else None


_COUNTS = frozenset({"k", "n_positive", "n_negative"})


def entry(value: Any, low: Any = None, high: Any = None, n: Any = None, **extra: Any) -> dict:
    """A number with its confidence interval and n, JSON-ready.

    Examples
    --------
    >>> entry(0.5, 0.4, float("nan"), 100)
    {'value': 0.5, 'ci': [0.4, None], 'n': 100}
    """
    out = {"value": _number(value), "ci": [_number(low), _number(high)], "n": _count(n)}
    return out | {k: _count(v) if k in _COUNTS else jsonable(v) for k, v in extra.items()}


def entries(value: Any, low: Any, high: Any, n: Any, **extra: Any) -> list[dict]:
    """:func:`entry` for arrays (one entry per element), converted in bulk.

    Scalars broadcast against the arrays. Keys in ``extra`` named ``k``,
    ``n_positive`` or ``n_negative`` are counts; other numeric arrays are floats;
    strings and None are repeated as they are.

    Examples
    --------
    >>> entries(np.array([0.5, np.nan]), [0.4, 0.1], [0.6, 0.9], [10, 0])[1]
    {'value': None, 'ci': [0.1, 0.9], 'n': 0}
    """
    size = np.broadcast(*(np.asarray(a) for a in (value, low, high, n))).size
    values, lows, highs = (_floats(a, size) for a in (value, low, high))
    counts = _ints(n, size)
    more = {
        k: _ints(v, size) if k in _COUNTS else _floats(v, size)
        for k, v in extra.items()
        if v is not None and not isinstance(v, str)
    }
    fixed = {k: v for k, v in extra.items() if v is None or isinstance(v, str)}
    out = [
        {"value": v, "ci": [low, high], "n": c}
        for v, low, high, c in zip(values, lows, highs, counts, strict=True)
    ]
    for key, column in more.items():  # a key at a time: a dict literal per entry is cheapest
        for e, x in zip(out, column, strict=True):
            e[key] = x
    for key, x in fixed.items():
        for e in out:
            e[key] = x
    return out


def _floats(a: Any, size: int) -> list[float | None]:
    arr = np.broadcast_to(np.asarray(a, dtype=float), (size,))
    out = arr.tolist()
    for i in np.flatnonzero(~np.isfinite(arr)):
        out[i] = None
    return out


def _ints(a: Any, size: int) -> list[int | None]:
    arr = np.broadcast_to(np.asarray(a, dtype=float), (size,))
    out = np.rint(np.nan_to_num(arr)).astype(np.int64).tolist()
    for i in np.flatnonzero(~np.isfinite(arr)):
        out[i] = None
    return out


def estimate_text(
    value: float,
    low: float | None,
    high: float | None,
    lang: str,
    digits: int = 2,
    sep: str = "\u2013",
) -> tuple[str, str]:
    """An estimate and its interval as text, with enough decimals to tell them apart.

    ``digits`` decimals, or more (up to 6) when the interval would round to the
    estimate itself; Dutch (``lang="nl"``) with a decimal comma. The interval's bounds
    are joined by ``sep`` (a dash, or e.g. ``" tot "``). Every estimate with an interval
    that a person reads is written by this function or :func:`estimate_texts`, with
    :func:`waarborg.report.i18n.fmt_number` for the numbers.

    Examples
    --------
    >>> estimate_text(0.5512, 0.5498, 0.5526, "nl")
    ('0,551', '0,550–0,553')
    >>> estimate_text(1.98, 1.93, 2.03, "en")
    ('1.98', '1.93–2.03')
    >>> estimate_text(0.7012, 0.6981, 0.7104, "nl", sep=" tot ")
    ('0,701', '0,698 tot 0,710')
    """
    digits = _digits(value, low, high, digits)
    return fmt_number(value, lang, digits), sep.join(
        fmt_number(b, lang, digits) for b in (low, high)
    )


def estimate_texts(
    value: float, low: float | None, high: float | None, digits: int = 2
) -> tuple[str, str, str, str]:
    """:func:`estimate_text` in English and in Dutch (interval joined by a dash), the
    numbers formatted once: the Dutch is the English with its separators swapped.

    Returns the English estimate and interval, then the Dutch ones.

    Examples
    --------
    >>> estimate_texts(1234.5, 1200.25, 1300.0)
    ('1,234.50', '1,200.25–1,300.00', '1.234,50', '1.200,25–1.300,00')
    """
    value_en, ci_en = estimate_text(value, low, high, "en", digits)
    return value_en, ci_en, localise_number(value_en, "nl"), localise_number(ci_en, "nl")


def _digits(value: float, low: float | None, high: float | None, digits: int) -> int:
    """``digits``, or more (up to 6) until the interval's bounds and the estimate differ."""
    bounds = [
        b
        for b in (low, high)
        if b is not None and math.isfinite(b) and not math.isclose(b, value, rel_tol=1e-9)
    ]  # a bound equal to the estimate (up to rounding noise) needs no more digits
    while digits < 6 and any(round(b, digits) == round(value, digits) for b in bounds):
        digits += 1
    return digits


def skipped(what: str, why_en: str, why_nl: str, what_nl: str | None = None) -> dict[str, str]:
    """A flag saying what was not computed and why, in English and Dutch.

    ``what_nl`` names it in Dutch (default ``what``, for a name such as AUC).

    Examples
    --------
    >>> skipped("AUC", "there is no score", "er geen score is")["text_en"]
    'Not computed: AUC, because there is no score.'
    """
    return {
        "kind": "skipped",
        "metric": what,
        "text_en": f"Not computed: {what}, because {why_en}.",
        "text_nl": f"Niet berekend: {what_nl or what}, omdat {why_nl}.",
    }


def _count(n: Any) -> int | None:
    if n is None:
        return None
    value = float(n)
    return round(value) if math.isfinite(value) else None


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars and arrays (recursively) to JSON-ready Python values."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biu" or (obj.dtype.kind == "f" and np.isfinite(obj).all()):
            return obj.tolist()  # already plain numbers: no need to look at each one
        return jsonable(obj.tolist())
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float | np.floating | np.integer | np.bool_):
        return _number(obj)
    return obj


class ResultData:
    """A result held as a JSON-ready dict: indexing, a copy, JSON, and back from a dict.

    The one mechanism behind :class:`AuditResult` and the selectivity results, like
    statsmodels' results objects: what is computed lives in one dict that
    :meth:`to_dict` and :meth:`to_json` hand out and :meth:`from_dict` takes back.

    >>> ResultData.from_dict({"n": 3})["n"]
    3
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a result from :meth:`to_dict` output (e.g. a JSON file read back)."""
        return cls(copy.deepcopy(dict(data)))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain, JSON-ready Python objects (a copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON text (UTF-8 characters kept, no NaN)."""
        return json.dumps(self._data, indent=indent, ensure_ascii=False, allow_nan=False)


class AuditResult(ResultData):
    """The result of :func:`waarborg.audit.audit`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from waarborg.audit import audit
    >>> data = pa.table({"g": ["a", "b"] * 50, "sel": [0, 1, 1, 0] * 25})
    >>> res = audit(data, selected="sel", group=["g"])
    >>> res["groups"]["g"]["a"]["selection_rate"]["value"]
    0.5
    >>> "waarborg audit" in res.summary()
    True
    """

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.timings: dict[str, float] = {}

    def to_html(self, lang: str = "en", conditions: Mapping[str, Any] | None = None) -> str:
        """A self-contained HTML report (``waarborg.report.html.render``).

        ``conditions``, a five-conditions report of the audited process (its JSON), adds
        a section on the data protection authority's conditions.
        """
        from waarborg.report.html import render  # matplotlib is imported only when needed

        return render(self.to_dict(), lang, conditions)

    def __repr__(self) -> str:
        n = self._data["n"]["value"]
        return f"<AuditResult: {n} cases, {len(self._data['groups'])} attribute(s)>"

    def summary(self, lang: str = "en", max_groups: int = 40) -> str:
        """Plain-text summary: inputs, n, validity verdicts, validity with CIs, groups,
        group verdicts, flags.

        Everything is in ``lang`` ("en" or "nl"), numbers included. At most
        ``max_groups`` groups are listed per attribute (the largest; the rest are
        counted); :meth:`to_dict` has them all.
        """
        d, w = self._data, texts(_WORDS, lang)
        lines = [_rule("="), "waarborg audit".center(_WIDTH), _rule("=")]
        lines += _header(d, w, lang)
        lines += _validity_verdicts(d, lang, w)
        lines += _validity(d, w, lang)
        lines += _groups(d, max_groups, w, lang)
        lines += _verdicts(d, lang, w)
        lines += _flags(d, lang, w)
        return "\n".join([*lines, _rule("=")])


# --------------------------------------------------------------------------- summary parts


def _rule(char: str = "-") -> str:
    return char * _WIDTH


def _est(e: Mapping[str, Any], lang: str, digits: int = 3) -> tuple[str, str]:
    """An estimate and ``[low, high]`` (Dutch ``[low; high]``), never collapsed to a point."""
    low, high = e["ci"]
    if e["value"] is None:
        return "—", ""
    value, ci = estimate_text(
        e["value"], low, high, lang, digits, sep="; " if lang == "nl" else ", "
    )
    return value, "" if low is None or high is None else f"[{ci}]"


def _int(n: int | None, lang: str) -> str:
    return "—" if n is None else fmt_count(n, lang)


def _header(d: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    inp, prov = d["inputs"], d["provenance"]
    level = f"{round(inp['confidence'] * 100)}%"
    pairs = [
        (w["data"], ", ".join(inp["sources"]) or "<table>"),
        (w["cases"], _int(d["n"]["value"], lang)),
        (w["score"], _score_text(inp, prov, w)),
        (w["outcome"], inp["outcome"] or w["no_outcome"]),
        (w["band"], inp["band"] or "—"),
        (w["selected"], _selection_text(inp, w)),
        (w["groups"], ", ".join(inp["groups"]) or "—"),
        (w["min_n"], w["min_n_text"].format(n=inp["min_group_size"])),
        (w["intervals"], w["intervals_text"].format(level=level)),
        (w["instrument"], _instrument_text(prov, w)),
        (w["fingerprint"], w["fingerprint_text"].format(hash=prov["data_fingerprint"][:16])),
        ("waarborg", f"{prov['waarborg_version']}, {prov['created']}"),
    ]
    width = max(len(k) for k, _ in pairs) + 2
    return [f"{k + ':':<{width}}{v}" for k, v in pairs]


def _score_text(inp: Mapping[str, Any], prov: Mapping[str, Any], w: Mapping[str, str]) -> str:
    if not inp["score"]:
        return "—"
    binning = prov.get("score_binning") or {}
    how = w.get(binning.get("method") or "", w["merged"])
    return w["binned"].format(score=inp["score"], bins=binning.get("bins"), how=how)


def _selection_text(inp: Mapping[str, Any], w: Mapping[str, str]) -> str:
    if inp["select"]:
        return w["band_in"].format(bands=", ".join(inp["select"]))
    return w["column"].format(name=inp["selected"]) if inp["selected"] else w["no_selection"]


def _instrument_text(prov: Mapping[str, Any], w: Mapping[str, str]) -> str:
    inst = prov.get("instrument")
    if not inst:
        return "—"
    return f"{inst['id']} {inst['version']} ({w['spec']} {inst['spec_hash'][:12]})"


def _validity(d: Mapping[str, Any], w: Mapping[str, str], lang: str) -> list[str]:
    v = d["validity"]
    rows = [
        (w[label], v[key])
        for key, label in (
            ("base_rate", "Base rate"),
            ("auc", "AUC (DeLong)"),
            ("auc_band", "AUC of the bands"),
            ("brier", "Brier score"),
            ("calibration_intercept", "Calibration intercept"),
            ("calibration_slope", "Calibration slope"),
        )
        if key in v
    ]
    o = d.get("overall", {})
    rows += [(w[name], o[key]) for key, name in _OVERALL if key in o]
    if not rows:
        return []
    level = w["ci"].format(level=_level(d))
    head = f"{w['validity_overall']:<30}{w['value']:>10}  {level:<22}{'n':>14}"
    lines = [_rule(), head]
    for label, e in rows:
        value, ci = _est(e, lang)
        lines.append(f"{label:<30}{value:>10}  {ci:<22}{_int(e['n'], lang):>14}")
    calibration = v.get("calibration") or []
    if calibration and "oe" in calibration[0]:
        kind = w["band"].lower() if calibration[0]["kind"] == "band" else calibration[0]["kind"]
        lines += [
            "",
            f"{w['calibration_per'].format(kind=kind):<30}{'n':>12}{w['observed']:>12}"
            f"{w['expected']:>12}{w['O/E']:>8}  {level}",
        ]
        for c in calibration:
            oe, oe_ci = _est(c["oe"], lang, 2)
            lines.append(
                f"{c['label']:<30}{_int(c['n'], lang):>12}{_int(c['observed'], lang):>12}"
                f"{fmt_number(c['expected'], lang, 1):>12}{oe:>8}  {oe_ci}"
            )
    return lines


def _groups(d: Mapping[str, Any], max_groups: int, w: Mapping[str, str], lang: str) -> list[str]:
    lines: list[str] = []
    for attribute, every in d["groups"].items():
        ref = d["reference"].get(attribute)
        groups = _largest(every, max_groups)
        head = w["reference"].format(attribute=attribute, ref=ref, level=_level(d))
        lines += [_rule(), head]
        for block in _GROUP_BLOCKS:
            present = [(k, w[h]) for k, h in block if any(k in g for g in groups.values())]
            if not present:
                continue
            head = "".join(f"{h:>21}" for _, h in present)
            width = max(17, *(len(name) for name in groups)) + 1
            lines.append(f"{w['group']:<{width}}{'n':>11}{w['share']:>8}{head}")
            for name, g in groups.items():
                mark = " *" if g["too_small"] else (f" {w['ref']}" if name == ref else "")
                cells = "".join(f"{_cell(g[k], lang) if k in g else '':>21}" for k, _ in present)
                share = fmt_number(g["share"]["value"], lang, 3)
                lines.append(f"{name:<{width}}{_int(g['n'], lang):>11}{share:>8}{cells}{mark}")
        if len(groups) < len(every):
            lines.append(w["more_groups"].format(n=len(every) - len(groups)))
    if any(g["too_small"] for gs in d["groups"].values() for g in gs.values()):
        lines.append(w["too_small"])
    return lines


def _largest(groups: Mapping[str, Any], most: int) -> dict[str, Any]:
    """The ``most`` largest groups, in their original order."""
    if len(groups) <= most:
        return dict(groups)
    keep = set(sorted(groups, key=lambda g: -groups[g]["n"])[:most])
    return {k: v for k, v in groups.items() if k in keep}


def _level(d: Mapping[str, Any]) -> str:
    return f"{round(d['inputs']['confidence'] * 100)}%"


def _cell(e: Mapping[str, Any], lang: str) -> str:
    low, high = e["ci"]
    if e["value"] is None:
        return "—"
    value, ci = estimate_text(e["value"], low, high, lang, 3)
    return value if low is None or high is None else f"{value} ({ci})"


def _verdicts(d: Mapping[str, Any], lang: str, w: Mapping[str, str]) -> list[str]:
    verdicts = d["verdicts"]
    if not verdicts:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    significant = [v for v in verdicts if v["significant"]]
    others = len(verdicts) - len(significant)
    size, shown = d["tests"]["family_size"], len(verdicts)
    lines = [_rule(), w["verdicts_head"].format(shown=shown, size=size)]
    lines += [f"- {v[key]}" for v in significant]
    return lines + ([w["verdicts_tail"].format(others=others)] if others else [])


def _validity_verdicts(d: Mapping[str, Any], lang: str, w: Mapping[str, str]) -> list[str]:
    found = d.get("validity_verdicts") or []
    if not found:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    mark = {"ok": "ok", "concern": "!!", "unknown": "??"}
    return [_rule(), f"{w['validity']}:", *(f"{mark[v['status']]:>2} {v[key]}" for v in found)]


def _flags(d: Mapping[str, Any], lang: str, w: Mapping[str, str]) -> list[str]:
    if not d["flags"]:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    return [_rule(), f"{w['flags']}:", *(f"! {f[key]}" for f in d["flags"])]
