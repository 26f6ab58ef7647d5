"""Group metrics, disparities against a reference group, and plain-language verdicts.

Everything is computed from the cube's cells (:class:`~waarborg.audit.cells.Cells`): per
group attribute a table of counts by (group, outcome, selected) and one by (group,
outcome, score bin), so the cost is O(cells).

Definitions (per group; "selected" means flagged / high risk):

===============  =====================================  ====================
metric           definition                             interval
===============  =====================================  ====================
selection_rate   P(selected)                            Wilson
base_rate        P(outcome)                             Wilson
tpr / fnr        P(selected | outcome) and 1 - tpr      Wilson
fpr / tnr        P(selected | no outcome) and 1 - fpr   Wilson
ppv              P(outcome | selected)                  Wilson
npv              P(no outcome | not selected)           Wilson
auc              ROC AUC within the group               DeLong
share            group's share of all cases             Wilson
share_selected   group's share of the selected          Wilson
representation   share_selected / share                 bootstrap (cells)
===============  =====================================  ====================

Disparities compare each group with the reference group (the largest unless given):
the difference (Newcombe interval) and the ratio (Katz log interval) of every rate,
tested with the two-proportion z test (Fisher's exact test for small expected counts);
the AUC difference with DeLong standard errors of the two independent groups (z test).
All tests of all attributes, groups and metrics form one family for Holm's correction;
``tpr``/``fnr`` and ``fpr``/``tnr`` are one test each (complements), counted once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats as sps

from waarborg.audit.cells import Cells, lookup
from waarborg.audit.keys import append_dim
from waarborg.audit.result import entries, entry, estimate_texts
from waarborg.audit.stats import (
    AUCResult,
    Interval,
    auc_from_counts,
    bootstrap_interval,
    holm,
    newcombe_interval,
    ratio_interval,
    two_proportion_pvalue,
    wilson_interval,
)
from waarborg.audit.validity import roc_points
from waarborg.errors import DataError
from waarborg.i18n import Message
from waarborg.report.i18n import localise_number

__all__ = ["CROSS", "RATES", "Attribute", "assess", "attributes", "parse_reference"]

CROSS = "×"
ALPHA = 0.05
N_BOOT = 1000

# metric -> (needs outcome, needs selection); numerators and denominators in _rates
RATES: dict[str, tuple[bool, bool]] = {
    "selection_rate": (False, True),
    "base_rate": (True, False),
    "tpr": (True, True),
    "fnr": (True, True),
    "fpr": (True, True),
    "tnr": (True, True),
    "ppv": (True, True),
    "npv": (True, True),
}
SAME_TEST = {"fnr": "tpr", "tnr": "fpr"}  # complements: one test, counted once
VERDICT_METRICS = ("selection_rate", "fpr", "fnr", "ppv")
_WIDE_ROW = 512  # values per row from which sum_rows adds row by row (measured)


# --------------------------------------------------------------------------- attributes


@dataclass(frozen=True)
class Attribute:
    """A group attribute (or an intersection): a group code per cell and the labels.

    ``parts`` names the attributes it is made of (itself for a single one): an
    attribute whose parts are a subset of another's has coarser groups, each a union
    of the other's.
    """

    name: str
    codes: np.ndarray
    labels: list[str]
    parts: tuple[str, ...] = ()


def attributes(cells: Cells, names: Sequence[str], intersections: bool) -> list[Attribute]:
    """The attributes to audit: each one, then (with ``intersections``) every pair and,
    with three or more attributes, all of them together.

    Examples
    --------
    >>> cells = Cells(np.ones(2), {"a": (np.array([0, 1]), ["x", "y"]),
    ...                            "b": (np.array([0, 0]), ["u"])})
    >>> [a.name for a in attributes(cells, ["a", "b"], True)]
    ['a', 'b', 'a×b']
    """
    out = [Attribute(n, *cells.groups[n], (n,)) for n in names]
    combos = [list(c) for c in combinations(names, 2)] if intersections else []
    if len(names) >= 3 and combos:
        combos.append(list(names))
    if not combos:
        return out
    joint, members = _intersection(cells.groups, list(names))  # the only pass over the cells
    return out + [joint if c == list(names) else _within(joint, members, c) for c in combos]


Groups = Mapping[str, tuple[np.ndarray, list[str]]]


def _intersection(groups: Groups, names: Sequence[str]) -> tuple[Attribute, Groups]:
    """Groups of several attributes together, only the combinations that occur.

    ``groups`` gives each attribute's code per cell (or per any unit) and its labels.
    Returns the intersection, and each attribute's code of each of its groups.
    """
    sizes = [len(groups[name][1]) for name in names]
    key = groups[names[0]][0].astype(np.int64)
    for name, size in zip(names[1:], sizes[1:], strict=True):
        append_dim(key, groups[name][0], size)
    present, codes = _present(key, int(np.prod(sizes, dtype=np.float64)))
    parts = np.unravel_index(present, sizes)
    labels = [
        CROSS.join(groups[name][1][p[i]] for name, p in zip(names, parts, strict=True))
        for i in range(present.size)
    ]
    members = {name: (p, groups[name][1]) for name, p in zip(names, parts, strict=True)}
    return Attribute(CROSS.join(names), codes, labels, tuple(names)), members


def _within(joint: Attribute, members: Groups, names: Sequence[str]) -> Attribute:
    """The intersection of some of ``joint``'s parts, found over its groups (``members``:
    each part's code of each group) instead of over the cells: the same combinations
    occur, so the same groups and codes.
    """
    coarse, _ = _intersection(members, names)
    return replace(coarse, codes=lookup(coarse.codes, joint.codes))


def _present(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The keys that occur (sorted) and each cell's index among them, as ``np.unique``
    with ``return_inverse``; by counting when the key space is small (no sort).

    The indices come in the smallest integer type that holds them: an array per cell
    costs its memory's first touch, dear next to the little work done on it.
    """
    if space > 1 << 24:
        present, codes = np.unique(key, return_inverse=True)
        return present, codes.astype(np.min_scalar_type(present.size))
    seen = np.bincount(key, minlength=space) > 0
    present = np.flatnonzero(seen)
    rank = (np.cumsum(seen) - 1).astype(np.min_scalar_type(present.size))
    return present, lookup(rank, key)


def parse_reference(reference: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """Reference groups as a dict, from a dict or from ``"ATTR=GROUP"`` strings.

    Examples
    --------
    >>> parse_reference(["origin=dutch", "sex=m"])
    {'origin': 'dutch', 'sex': 'm'}
    """
    if reference is None:
        return {}
    if isinstance(reference, Mapping):
        return {str(k): str(v) for k, v in reference.items()}
    out = {}
    for item in [reference] if isinstance(reference, str) else reference:
        attribute, sep, group = item.partition("=")
        if not sep or not attribute or not group:
            raise ValueError(f"reference {item!r}: write it as ATTRIBUTE=GROUP")
        out[attribute.strip()] = group.strip()
    return out


# --------------------------------------------------------------------------- per group


@dataclass
class _Stats:
    """Counts per group of one attribute.

    The counts by score bin (``roc``) are counted when first asked for (``count_roc``,
    None without them): the bootstrap needs only ``table``, and starts before them.
    """

    attribute: Attribute
    table: np.ndarray  # (groups, outcome 0/1, selected 0/1)
    count_roc: Callable[[], np.ndarray] | None
    _roc: np.ndarray | None = field(default=None, repr=False)
    _aucs: dict[float, AUCResult] = field(default_factory=dict, repr=False)

    @property
    def roc(self) -> np.ndarray | None:
        """Cases per (group, outcome 0/1, ordered score bin); None without a score."""
        if self._roc is None and self.count_roc is not None:
            self._roc = self.count_roc()
        return self._roc

    def auc(self, confidence: float) -> AUCResult:
        """Every group's AUC (DeLong), computed once: the groups and disparities use it."""
        if confidence not in self._aucs:
            self._aucs[confidence] = auc_from_counts(
                self.roc[:, 1, :], self.roc[:, 0, :], confidence
            )
        return self._aucs[confidence]

    @property
    def n(self) -> np.ndarray:
        return self.table.sum(axis=(1, 2))

    def rates(self, cells: Cells) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(numerator, denominator) per group of every rate the inputs allow."""
        t = self.table
        n, sel, pos = self.n, t[:, :, 1].sum(1), t[:, 1, :].sum(1)
        every = {
            "selection_rate": (sel, n),
            "base_rate": (pos, n),
            "tpr": (t[:, 1, 1], pos),
            "fnr": (t[:, 1, 0], pos),
            "fpr": (t[:, 0, 1], n - pos),
            "tnr": (t[:, 0, 0], n - pos),
            "ppv": (t[:, 1, 1], sel),
            "npv": (t[:, 0, 0], n - sel),
        }
        has_y, has_s = cells.outcome is not None, cells.selected is not None
        return {
            k: v
            for k, v in every.items()
            if (has_y or not RATES[k][0]) and (has_s or not RATES[k][1])
        }


def _stats(cells: Cells, attribute: Attribute, order: tuple[np.ndarray, int] | None) -> _Stats:
    groups = (attribute.codes, len(attribute.labels))
    table = cells.crosstab(groups, (cells.outcome, 2), (cells.selected, 2))
    roc = None
    if order is not None and cells.outcome is not None:
        roc = partial(cells.crosstab, groups, (cells.outcome, 2), order)
    return _Stats(attribute, table, roc)


def _all_stats(
    cells: Cells, attrs: Sequence[Attribute], order: tuple[np.ndarray, int] | None
) -> dict[str, _Stats]:
    """Counts per group of every attribute, each counted once from the cells at most.

    An attribute made of a subset of another's parts (``sex`` of ``sex×age``) has its
    counts summed from that finer attribute's table (the one with the fewest groups)
    instead of another pass over every cell: O(groups × bins) instead of O(cells).
    The counts are whole numbers, so the sums are exact and equal a direct count.
    """
    out: dict[str, _Stats] = {}
    members = _Members()
    for attribute in sorted(attrs, key=lambda a: len(a.parts), reverse=True):
        finer = [
            out[a.name] for a in attrs if a.name in out and set(attribute.parts) < set(a.parts)
        ]
        source = min(finer, key=lambda st: len(st.attribute.labels), default=None)
        if source is None:
            out[attribute.name] = _stats(cells, attribute, order)
        else:
            group_of = members.group_of(source.attribute, attribute)
            out[attribute.name] = _coarser(source, attribute, group_of)
    return out


class _Members:
    """One cell of every group (-1: none) per attribute, to map groups to coarser ones.

    Found by one pass over the cells for the finest attribute; a coarser attribute's
    follow from its source's in O(groups).
    """

    def __init__(self) -> None:
        self.cell: dict[str, np.ndarray] = {}

    def group_of(self, finer: Attribute, coarser: Attribute) -> np.ndarray:
        """The group of ``coarser`` each group of ``finer`` lies in (0 for an empty one)."""
        if finer.name not in self.cell:
            self.cell[finer.name] = np.full(len(finer.labels), -1, np.int64)
            self.cell[finer.name][finer.codes] = np.arange(finer.codes.size)
        cell = self.cell[finer.name]
        filled = cell >= 0
        group_of = np.zeros(cell.size, np.int64)
        group_of[filled] = coarser.codes[cell[filled]]
        mine = np.full(len(coarser.labels), -1, np.int64)
        mine[group_of[filled]] = cell[filled]
        self.cell[coarser.name] = mine
        return group_of


def _coarser(finer: _Stats, attribute: Attribute, group_of: np.ndarray) -> _Stats:
    """The counts of ``attribute`` from ``finer``'s, given the group each finer one is in."""
    size = len(attribute.labels)
    roc = None if finer.count_roc is None else lambda: sum_rows(finer.roc, group_of, size)
    return _Stats(attribute, sum_rows(finer.table, group_of, size), roc)


def sum_rows(x: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Sum the rows (first axis) of ``x`` by ``group`` (codes 0..size-1); an empty
    group sums to 0.

    Narrow rows (a group's counts by outcome and selection) are sorted by group and
    summed with one ``np.add.reduceat`` over contiguous blocks. Wide rows (a group's
    counts by score bin) are added one by one into their group's: sorting would copy
    them all, dearer than a Python step per row.

    Examples
    --------
    >>> sum_rows(np.array([[1, 2], [3, 4], [5, 6]]), np.array([2, 0, 2]), 3).tolist()
    [[3, 4], [0, 0], [6, 8]]
    """
    out = np.zeros((size, *x.shape[1:]), x.dtype)
    if x.size >= _WIDE_ROW * len(x):
        for row, g in zip(x, group.tolist(), strict=True):
            out[g] += row
        return out
    sizes = np.bincount(group, minlength=size)
    present = sizes > 0
    if present.any():
        starts = (np.cumsum(sizes) - sizes)[present]
        out[present] = np.add.reduceat(x[np.argsort(group, kind="stable")], starts, axis=0)
    return out


def _group_entries(
    cells: Cells, st: _Stats, min_size: int, confidence: float
) -> dict[str, dict[str, Any]]:
    """The ``groups.<attribute>`` dict: n, too_small and one entry per metric but the
    representation ratio (:func:`_add_representation`, once its bootstrap is drawn).
    """
    n = st.n
    per_metric: dict[str, list[dict]] = {}
    for name, (x, d) in st.rates(cells).items():
        per_metric[name] = _rate_entries(x, d, confidence)
    if st.roc is not None:
        res = st.auc(confidence)
        pos, neg = st.roc[:, 1, :].sum(-1), st.roc[:, 0, :].sum(-1)
        per_metric["auc"] = entries(res.auc, *res.ci, n, se=res.se, n_positive=pos, n_negative=neg)
    per_metric["share"] = _rate_entries(n, np.full(n.size, n.sum()), confidence)
    if cells.selected is not None:
        sel = _by_selection(st)[:, 1]
        per_metric["share_selected"] = _rate_entries(sel, np.full(n.size, sel.sum()), confidence)
    out = {
        label: {"n": int(size), "too_small": size < min_size}
        for label, size in zip(st.attribute.labels, n.tolist(), strict=True)
    }
    for metric, column in per_metric.items():  # a metric at a time: thousands of groups
        for group, e in zip(out.values(), column, strict=True):
            group[metric] = e
    return out


def _rate_entries(x: np.ndarray, n: np.ndarray, confidence: float) -> list[dict]:
    """Entries of the proportions ``x / n`` with Wilson intervals."""
    low, high = wilson_interval(x, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        return entries(x / n, low, high, n, k=x)


def _add_representation(groups: dict[str, dict], st: _Stats, interval: Interval) -> None:
    """Each group's ``representation`` (share of the selected / share of all cases)
    with its bootstrap ``interval``, after the group's other metrics.
    """
    found = entries(_representation(_by_selection(st)), *interval, st.n, method="bootstrap")
    for group, representation in zip(groups.values(), found, strict=True):
        group["representation"] = representation


def _by_selection(st: _Stats) -> np.ndarray:
    """Cases per group not selected and selected (last axis)."""
    sel = st.table[:, :, 1].sum(1)
    return np.stack([st.n - sel, sel], axis=-1)


def _representation_intervals(
    stats: Sequence[_Stats], confidence: float, rng: np.random.Generator
) -> list[Interval]:
    """Bootstrap intervals of each attribute's representation ratios, drawn in turn."""
    return [
        bootstrap_interval(
            _representation, _by_selection(st), N_BOOT, confidence, rng, vectorized=True
        )
        for st in stats
    ]


def _representation(c: np.ndarray) -> np.ndarray:
    """share of the selected / share of all cases, per group (last axis: not sel., sel.)."""
    selected, cases = c[..., 1], c[..., 0] + c[..., 1]  # whole numbers: sums are exact
    with np.errstate(divide="ignore", invalid="ignore"):
        share_sel = selected / selected.sum(-1, keepdims=True)
        share = cases / cases.sum(-1, keepdims=True)
        return share_sel / share


# --------------------------------------------------------------------------- disparities


def _reference(st: _Stats, given: str | None, source: str) -> int:
    """Index of the reference group: the one given, else the largest."""
    labels = st.attribute.labels
    if given is None:
        return int(np.argmax(st.n))
    if given not in labels:
        shown = ", ".join(labels[:20]) + (", …" if len(labels) > 20 else "")
        no_group = Message(
            "no group %(given)s to use as reference (groups: %(groups)s)",
            domain="reports",
            given=repr(given),
            groups=shown,
        )
        raise DataError(no_group, source, column=st.attribute.name)
    return labels.index(given)


@dataclass
class _Test:
    """One hypothesis test in the family, and where its adjusted p-value goes."""

    p: float | None
    targets: list[dict]


def _disparities(
    cells: Cells, st: _Stats, ref: int, confidence: float
) -> tuple[dict[str, dict], list[_Test]]:
    """``disparities.<attribute>`` (all groups but the reference) and its tests."""
    others = [i for i in range(len(st.attribute.labels)) if i != ref]
    labels = [st.attribute.labels[i] for i in others]
    per_group: list[dict[str, dict]] = [{} for _ in labels]
    tests: dict[str, list[_Test]] = {}  # per test, one for each group (complements share)
    for name, (x, d) in st.rates(cells).items():
        pairs = _rate_disparities(x, d, ref, others, confidence)
        same = SAME_TEST.get(name, name)
        if same not in tests:
            tests[same] = [_Test(np.nan, []) for _ in labels]
        for metrics, test, pair in zip(per_group, tests[same], pairs, strict=True):
            metrics[name] = pair
            test.p = pair["difference"]["p_value"]
            test.targets += (pair["difference"], pair["ratio"])
    if st.roc is not None:
        pairs = _auc_disparities(st, ref, others, confidence)
        for metrics, pair in zip(per_group, pairs, strict=True):
            metrics["auc"] = pair
        tests["auc"] = [_Test(p["difference"]["p_value"], [p["difference"]]) for p in pairs]
    found = [test for same in tests.values() for test in same]
    return dict(zip(labels, per_group, strict=True)), found


def _rate_disparities(
    x: np.ndarray, d: np.ndarray, ref: int, others: list[int], confidence: float
) -> list[dict[str, dict]]:
    """Difference (Newcombe) and ratio (Katz) of each group's rate to the reference's."""
    xr, dr = np.full(len(others), x[ref]), np.full(len(others), d[ref])
    xg, dg = x[others], d[others]
    p = two_proportion_pvalue(xg, dg, xr, dr)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff, ratio = xg / dg - xr / dr, (xg / dg) / (xr / dr)
    test = {"p_value": p, "p_adjusted": None}
    differences = entries(diff, *newcombe_interval(xg, dg, xr, dr, confidence), dg, **test)
    ratios = entries(ratio, *ratio_interval(xg, dg, xr, dr, confidence), dg, **test)
    return [{"difference": a, "ratio": b} for a, b in zip(differences, ratios, strict=True)]


def _auc_disparities(
    st: _Stats, ref: int, others: list[int], confidence: float
) -> list[dict[str, dict]]:
    """AUC difference to the reference: DeLong SEs of two independent groups, z test.

    A group whose AUC has standard error 0 (perfect separation, AUC 0 or 1) makes the
    test degenerate: the z statistic would rest on the other group's SE alone. There the
    interval and p-value are undefined and the entry says ``degenerate: true``.
    """
    res = st.auc(confidence)
    z = sps.norm.isf((1 - confidence) / 2)
    diff = res.auc[others] - res.auc[ref]
    degenerate = ~((res.se[others] > 0) & (res.se[ref] > 0))
    se = np.where(degenerate, np.nan, np.hypot(res.se[others], res.se[ref]))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * sps.norm.sf(np.abs(diff) / se)
    found = entries(diff, diff - z * se, diff + z * se, st.n[others], p_value=p, p_adjusted=None)
    for e, flag in zip(found, degenerate.tolist(), strict=True):
        e["degenerate"] = flag
    return [{"difference": e} for e in found]


def _holm(tests: list[_Test]) -> int:
    """Holm-adjust the whole family in place; return the number of tests in it."""
    p = np.array([np.nan if t.p is None else t.p for t in tests], dtype=float)
    adjusted = holm(p) if p.size else p
    for test, value in zip(tests, adjusted.tolist(), strict=True):
        for target in test.targets:
            target["p_adjusted"] = None if math.isnan(value) else value
    return int(np.count_nonzero(~np.isnan(p)))


# --------------------------------------------------------------------------- verdicts

_TEXT_EN = {
    "selection_rate": "Group '{g}' ({a}) is selected {r}× as often as the reference group '{ref}'",
    "fpr": "False positives: among cases without the outcome, group '{g}' ({a}) is selected "
    "{r}× as often as the reference group '{ref}'",
    "fnr": "False negatives: among cases with the outcome, group '{g}' ({a}) is missed (not "
    "selected) {r}× as often as the reference group '{ref}'",
    "ppv": "Precision: selected cases of group '{g}' ({a}) have the outcome {r}× as often as "
    "selected cases of the reference group '{ref}'",
}
_TEXT_NL = {
    "selection_rate": "Groep '{g}' ({a}) wordt {r}× zo vaak geselecteerd als de referentiegroep "
    "'{ref}'",
    "fpr": "Fout-positieven: van de gevallen zonder de uitkomst wordt groep '{g}' ({a}) {r}× zo "
    "vaak geselecteerd als de referentiegroep '{ref}'",
    "fnr": "Fout-negatieven: van de gevallen met de uitkomst wordt groep '{g}' ({a}) {r}× zo "
    "vaak gemist (niet geselecteerd) als de referentiegroep '{ref}'",
    "ppv": "Precisie: geselecteerde gevallen van groep '{g}' ({a}) hebben {r}× zo vaak de "
    "uitkomst als geselecteerde gevallen van de referentiegroep '{ref}'",
}


def verdict_texts(
    metric: str, group: str, attribute: str, reference: str, ratio: dict, level: int
) -> tuple[str, str]:
    """One plain-language verdict line in English and in Dutch.

    The numbers are formatted once, the Dutch ones from the English digits: a big
    audit writes thousands of verdicts.

    Examples
    --------
    >>> ratio = {"value": 1.98, "ci": [1.93, 2.03], "p_adjusted": 0.0001}
    >>> en, nl = verdict_texts("selection_rate", "non_western", "origin", "dutch", ratio, 95)
    >>> en
    "Group 'non_western' (origin) is selected 1.98× as often as the reference group 'dutch' \
(95% CI 1.93–2.03; p < 0.001 after Holm correction)."
    >>> nl
    "Groep 'non_western' (origin) wordt 1,98× zo vaak geselecteerd als de referentiegroep \
'dutch' (95%-BI 1,93–2,03; p < 0,001 na Holm-correctie)."
    """
    value_en, ci_en, value_nl, ci_nl = estimate_texts(ratio["value"], *ratio["ci"])
    names = {"g": group, "a": attribute, "ref": reference}
    head_en = _TEXT_EN[metric].format(r=value_en, **names)
    head_nl = _TEXT_NL[metric].format(r=value_nl, **names)
    p = ratio["p_adjusted"]
    p_en = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    test_en = f"{p_en} after Holm correction"
    test_nl = f"{localise_number(p_en, 'nl')} na Holm-correctie"
    if p < ALPHA:
        return (
            f"{head_en} ({level}% CI {ci_en}; {test_en}).",
            f"{head_nl} ({level}%-BI {ci_nl}; {test_nl}).",
        )
    return (
        f"{head_en} ({level}% CI {ci_en}); no significant difference ({test_en}).",
        f"{head_nl} ({level}%-BI {ci_nl}); geen significant verschil ({test_nl}).",
    )


def _verdicts(
    groups: dict[str, dict], disparities: dict[str, dict], reference: dict[str, str], level: int
) -> list[dict[str, Any]]:
    out = []
    for attribute, per_group in disparities.items():
        ref = reference[attribute]
        if groups[attribute][ref]["too_small"]:
            continue
        for group, metrics in per_group.items():
            if groups[attribute][group]["too_small"]:
                continue
            for metric in VERDICT_METRICS:
                ratio = metrics.get(metric, {}).get("ratio")
                if ratio is None or ratio["value"] is None or ratio["p_adjusted"] is None:
                    continue
                en, nl = verdict_texts(metric, group, attribute, ref, ratio, level)
                out.append(
                    {
                        "attribute": attribute,
                        "group": group,
                        "reference": ref,
                        "metric": metric,
                        "text_en": en,
                        "text_nl": nl,
                        "ratio": ratio["value"],
                        "ci": ratio["ci"],
                        "p_adjusted": ratio["p_adjusted"],
                        "significant": ratio["p_adjusted"] < ALPHA,
                    }
                )
    return out


def _small_flags(groups: dict[str, dict], reference: dict[str, str], min_size: int) -> list[dict]:
    flags = []
    for attribute, per_group in groups.items():
        for group, g in per_group.items():
            if not g["too_small"]:
                continue
            is_ref = reference[attribute] == group
            en = f"Group '{group}' ({attribute}){' (the reference group)' if is_ref else ''}"
            nl = f"Groep '{group}' ({attribute}){' (de referentiegroep)' if is_ref else ''}"
            flags.append(
                {
                    "kind": "too_small",
                    "attribute": attribute,
                    "group": group,
                    "n": g["n"],
                    "text_en": f"{en} has {g['n']} cases, fewer than {min_size}: its numbers "
                    "are reported but too uncertain for a verdict.",
                    "text_nl": f"{nl} heeft {g['n']} gevallen, minder dan {min_size}: de cijfers "
                    "staan erbij, maar zijn te onzeker voor een oordeel.",
                }
            )
    return flags


def _degenerate_auc_flags(disparities: dict[str, dict]) -> list[dict]:
    """A flag for every AUC comparison left untested because an AUC had no variance."""
    flags = []
    for attribute, per_group in disparities.items():
        for group, metrics in per_group.items():
            if not metrics.get("auc", {}).get("difference", {}).get("degenerate"):
                continue
            flags.append(
                {
                    "kind": "auc_degenerate",
                    "attribute": attribute,
                    "group": group,
                    "text_en": f"The AUC of group '{group}' ({attribute}) or of its reference "
                    "group has no sampling variance (perfect or no separation): the AUC "
                    "difference is not tested and its p-value is undefined.",
                    "text_nl": f"De AUC van groep '{group}' ({attribute}) of van de "
                    "referentiegroep heeft geen steekproefvariantie (volledige of geen "
                    "scheiding): het AUC-verschil is niet getoetst en de p-waarde is "
                    "onbepaald.",
                }
            )
    return flags


# --------------------------------------------------------------------------- all together


def overall(cells: Cells, confidence: float) -> dict[str, dict]:
    """Every rate for all cases together (one group)."""
    everyone = Attribute("all", np.zeros(cells.count.size, np.int64), ["all"])
    st = _stats(cells, everyone, None)
    out = {}
    for name, (x, d) in st.rates(cells).items():
        low, high = wilson_interval(x, d, confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = entry(x[0] / d[0], low[0], high[0], d[0], k=x[0])
    return out


def assess(
    cells: Cells,
    attrs: Sequence[Attribute],
    reference: Mapping[str, str],
    *,
    min_group_size: int = 30,
    confidence: float = 0.95,
    seed: int = 0,
    source: str = "<table>",
) -> dict[str, Any]:
    """Group metrics, disparities, Holm-adjusted tests, verdicts and flags.

    Returns a dict with the keys ``groups``, ``disparities``, ``reference``,
    ``verdicts``, ``flags`` and ``tests`` of the audit result, and ``roc``: the ROC
    curve points per attribute and group (for ``validity.roc``).
    """
    unknown = [a for a in reference if a not in {x.name for x in attrs}]
    if unknown:
        names = ", ".join(x.name for x in attrs)
        raise DataError(
            f"a reference is given for an attribute not audited ({names})",
            source,
            column=unknown[0],
        )
    counted = _all_stats(cells, attrs, cells.ordered_bins()[0])
    every = [counted[a.name] for a in attrs]
    chosen = every if cells.selected is not None else []
    rng = np.random.default_rng(seed)
    with ThreadPoolExecutor(1) as pool:  # the bootstrap's draws (without the GIL) meanwhile
        drawn = pool.submit(_representation_intervals, chosen, confidence, rng)
        out = _compared(cells, every, reference, min_group_size, confidence, source)
        for st, interval in zip(chosen, drawn.result(), strict=True):
            _add_representation(out["groups"][st.attribute.name], st, interval)
    return out


def _compared(
    cells: Cells,
    every: Sequence[_Stats],
    reference: Mapping[str, str],
    min_group_size: int,
    confidence: float,
    source: str,
) -> dict[str, Any]:
    """Everything :func:`assess` returns but the representation ratios: the groups'
    metrics, the disparities and their tests, verdicts, flags and ROC curves.
    """
    disparities, refs, tests, roc = {}, {}, [], {}
    for st in every:
        attribute = st.attribute
        ref = _reference(st, reference.get(attribute.name), source)
        refs[attribute.name] = attribute.labels[ref]
        disparities[attribute.name], found = _disparities(cells, st, ref, confidence)
        tests += found
        if st.roc is not None:
            curves = roc_points(st.roc[:, 1, :], st.roc[:, 0, :])
            roc[attribute.name] = dict(zip(attribute.labels, curves, strict=True))
    groups = {
        st.attribute.name: _group_entries(cells, st, min_group_size, confidence) for st in every
    }
    family = _holm(tests)
    level = round(confidence * 100)
    return {
        "groups": groups,
        "disparities": disparities,
        "reference": refs,
        "verdicts": _verdicts(groups, disparities, refs, level),
        "flags": _small_flags(groups, refs, min_group_size) + _degenerate_auc_flags(disparities),
        "tests": {"family_size": family, "correction": "holm", "alpha": ALPHA},
        "roc": roc,
    }
