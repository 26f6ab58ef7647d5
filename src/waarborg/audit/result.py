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
from typing import Any

import numpy as np

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
    return [
        {"value": values[i], "ci": [lows[i], highs[i]], "n": counts[i]}
        | {k: v[i] for k, v in more.items()}
        | fixed
        for i in range(size)
    ]


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
    that a person reads is written by this function, with
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
    from waarborg.report.i18n import fmt_number  # the report package imports this module

    bounds = [b for b in (low, high) if b is not None and math.isfinite(b) and b != value]
    while digits < 6 and any(round(b, digits) == round(value, digits) for b in bounds):
        digits += 1
    return fmt_number(value, lang, digits), sep.join(
        fmt_number(b, lang, digits) for b in (low, high)
    )


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
        return jsonable(obj.tolist())
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float | np.floating | np.integer | np.bool_):
        return _number(obj)
    return obj


class AuditResult:
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
        self._data = data
        self.timings: dict[str, float] = {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. a JSON file read back)."""
        return cls(copy.deepcopy(dict(data)))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain, JSON-ready Python objects (a copy)."""
        return copy.deepcopy(self._data)

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON (see ``docs/audit-result.schema.json``)."""
        return json.dumps(self._data, indent=indent, ensure_ascii=False, allow_nan=False)

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

        Verdict lines are in ``lang`` ("en" or "nl"); the tables are in English. At most
        ``max_groups`` groups are listed per attribute (the largest; the rest are
        counted); :meth:`to_dict` has them all.
        """
        d = self._data
        lines = [_rule("="), "waarborg audit".center(_WIDTH), _rule("=")]
        lines += _header(d)
        lines += _validity_verdicts(d, lang)
        lines += _validity(d)
        lines += _groups(d, max_groups)
        lines += _verdicts(d, lang)
        lines += _flags(d, lang)
        return "\n".join([*lines, _rule("=")])


# --------------------------------------------------------------------------- summary parts


def _rule(char: str = "-") -> str:
    return char * _WIDTH


def _fmt(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci(e: Mapping[str, Any], digits: int = 3) -> str:
    low, high = e["ci"]
    if low is None or high is None:
        return ""
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def _int(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _header(d: Mapping[str, Any]) -> list[str]:
    inp, prov = d["inputs"], d["provenance"]
    level = round(inp["confidence"] * 100)
    pairs = [
        ("Data", ", ".join(inp["sources"]) or "<table>"),
        ("Cases (n)", _int(d["n"]["value"])),
        ("Score", _score_text(inp, prov)),
        ("Outcome", inp["outcome"] or "— (selection metrics only)"),
        ("Band", inp["band"] or "—"),
        ("Selected", _selection_text(inp)),
        ("Groups", ", ".join(inp["groups"]) or "—"),
        ("Min group n", f"{inp['min_group_size']} (smaller groups flagged, no verdicts)"),
        ("Intervals", f"{level}% (Wilson; Newcombe; Katz log; DeLong); Holm-adjusted p-values"),
        ("Instrument", _instrument_text(prov)),
        ("Data fingerprint", f"{prov['data_fingerprint'][:16]}… (of the count cube)"),
        ("waarborg", f"{prov['waarborg_version']}, {prov['created']}"),
    ]
    return [f"{k + ':':<18}{v}" for k, v in pairs]


def _score_text(inp: Mapping[str, Any], prov: Mapping[str, Any]) -> str:
    if not inp["score"]:
        return "—"
    binning = prov.get("score_binning") or {}
    how = {"exact": "every distinct value kept", "quantile": "quantile bins"}.get(
        binning.get("method"), "bins of merged cubes"
    )
    return f"{inp['score']} ({binning.get('bins')} bins: {how})"


def _selection_text(inp: Mapping[str, Any]) -> str:
    if inp["select"]:
        return f"band in {{{', '.join(inp['select'])}}}"
    return f"column {inp['selected']}" if inp["selected"] else "— (no selection)"


def _instrument_text(prov: Mapping[str, Any]) -> str:
    inst = prov.get("instrument")
    if not inst:
        return "—"
    return f"{inst['id']} {inst['version']} (spec {inst['spec_hash'][:12]})"


def _validity(d: Mapping[str, Any]) -> list[str]:
    v = d["validity"]
    rows = [
        (label, v[key])
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
    rows += [(name, o[key]) for key, name in _OVERALL if key in o]
    if not rows:
        return []
    level = _level(d) + " CI"
    lines = [_rule(), f"{'Validity and overall':<30}{'value':>10}  {level:<20}{'n':>14}"]
    lines += [
        f"{label:<30}{_fmt(e['value']):>10}  {_ci(e):<20}{_int(e['n']):>14}" for label, e in rows
    ]
    calibration = v.get("calibration") or []
    if calibration and "oe" in calibration[0]:
        lines += [
            "",
            f"{'Calibration per ' + calibration[0]['kind']:<30}{'n':>12}{'observed':>10}"
            f"{'expected':>11}{'O/E':>8}  95% CI",
        ]
        for c in calibration:
            lines.append(
                f"{c['label']:<30}{_int(c['n']):>12}{_int(c['observed']):>10}"
                f"{c['expected']:>11,.1f}{_fmt(c['oe']['value'], 2):>8}  {_ci(c['oe'], 2)}"
            )
    return lines


def _groups(d: Mapping[str, Any], max_groups: int) -> list[str]:
    lines: list[str] = []
    for attribute, every in d["groups"].items():
        ref = d["reference"].get(attribute)
        groups = _largest(every, max_groups)
        lines += [_rule(), f"{attribute} (reference group: '{ref}'); rates with {_level(d)} CI"]
        for block in _GROUP_BLOCKS:
            present = [(k, h) for k, h in block if any(k in g for g in groups.values())]
            if not present:
                continue
            head = "".join(f"{h:>21}" for _, h in present)
            lines.append(f"{'group':<18}{'n':>11}{'share':>7}{head}")
            for name, g in groups.items():
                mark = " *" if g["too_small"] else (" (ref)" if name == ref else "")
                cells = "".join(f"{_cell(g[k]) if k in g else '':>21}" for k, _ in present)
                label = (name[:16] + "…") if len(name) > 17 else name
                share = _fmt(g["share"]["value"], 3)
                lines.append(f"{label:<18}{_int(g['n']):>11}{share:>7}{cells}{mark}")
        if len(groups) < len(every):
            lines.append(f"… and {len(every) - len(groups)} smaller groups (see to_dict())")
    if any(g["too_small"] for gs in d["groups"].values() for g in gs.values()):
        lines.append("* too small: reported, but excluded from verdicts")
    return lines


def _largest(groups: Mapping[str, Any], most: int) -> dict[str, Any]:
    """The ``most`` largest groups, in their original order."""
    if len(groups) <= most:
        return dict(groups)
    keep = set(sorted(groups, key=lambda g: -groups[g]["n"])[:most])
    return {k: v for k, v in groups.items() if k in keep}


def _level(d: Mapping[str, Any]) -> str:
    return f"{round(d['inputs']['confidence'] * 100)}%"


def _cell(e: Mapping[str, Any]) -> str:
    low, high = e["ci"]
    if e["value"] is None:
        return "—"
    if low is None or high is None:
        return f"{e['value']:.3f}"
    return f"{e['value']:.3f} ({low:.3f}–{high:.3f})"


def _verdicts(d: Mapping[str, Any], lang: str) -> list[str]:
    verdicts = d["verdicts"]
    if not verdicts:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    significant = [v for v in verdicts if v["significant"]]
    others = len(verdicts) - len(significant)
    size, shown = d["tests"]["family_size"], len(verdicts)
    if lang == "nl":
        lines = [
            _rule(),
            f"Bevindingen over {shown} vergelijkingen van selectie, fout-positieven, "
            f"fout-negatieven en precisie (Holm-correctie over alle {size} toetsen van deze "
            "audit, alfa 0,05):",
        ]
        tail = f"Geen significant verschil in de {others} andere vergelijking(en) (zie verdicts)."
    else:
        lines = [
            _rule(),
            f"Verdicts on {shown} comparisons of selection, false positives, false negatives "
            f"and precision (Holm correction over all {size} tests of this audit, alpha 0.05):",
        ]
        tail = f"No significant difference in the {others} other comparison(s) (see verdicts)."
    lines += [f"- {v[key]}" for v in significant]
    return lines + ([tail] if others else [])


def _validity_verdicts(d: Mapping[str, Any], lang: str) -> list[str]:
    found = d.get("validity_verdicts") or []
    if not found:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    title = "Geldigheid" if lang == "nl" else "Validity"
    mark = {"ok": "ok", "concern": "!!", "unknown": "??"}
    return [_rule(), f"{title}:", *(f"{mark[v['status']]:>2} {v[key]}" for v in found)]


def _flags(d: Mapping[str, Any], lang: str) -> list[str]:
    if not d["flags"]:
        return []
    key = "text_nl" if lang == "nl" else "text_en"
    title = "Signaleringen" if lang == "nl" else "Flags"
    return [_rule(), f"{title}:", *(f"! {f[key]}" for f in d["flags"])]
