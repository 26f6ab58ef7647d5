"""Prevalence, hit rate, lift, recall and burden per group, from a random reference sample.

The design (docs/selectivity.md): in a period of N cases the process selects some cases
for a check, and independently draws each case with a known probability (the reference
share) for the same check. The selected are split from the not selected by a rule known
for every case, so the population is stratified by selection: the selected are all
checked (a census up to missing outcomes), the not selected are sampled by the reference
draw. The prevalence of a domain (a group, or all cases) is then

    p = w_S * h + sum_c w_c * q_c

with ``w_S`` the domain's share selected, ``h`` the hit rate among its selected, and for
each group cell ``c`` of the domain ``w_c`` the share of the domain not selected in that
cell and ``q_c`` the outcome rate among the cell's not-selected reference cases
(post-stratification on the known cell sizes). A case both selected and drawn counts in
the selected stratum, so the two samples never overlap and the covariance between the hit
rate and the prevalence is explicit: the lift ``h / p`` gets its interval by the delta
method on ``log(h / p)`` with that covariance. Inference is for the process that produced
the period (outcomes as Bernoulli draws), as for every interval of waarborg's audit.

Examples
--------
>>> from waarborg.synth.selectivity import Scenario, selection_table
>>> table = selection_table(Scenario(n=20_000), seed=1)
>>> res = selectivity_report(table, ["group"])
>>> 3.0 < res["overall"]["lift"]["value"] < 4.6  # true lift 3.79
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from waarborg.audit.result import ResultData, entries, entry, estimate_text, jsonable
from waarborg.audit.stats import (
    holm,
    newcombe_interval,
    ratio_interval,
    two_proportion_pvalue,
    wilson_interval,
)
from waarborg.report.i18n import fmt_count, fmt_number, fmt_p
from waarborg.selectivity.inputs import SelectionCounts, selection_counts
from waarborg.selectivity.text import say
from waarborg.tables import TableLike

__all__ = [
    "DomainEstimates",
    "SelectivityResult",
    "domain_estimates",
    "parse_reference_groups",
    "selectivity_report",
]

Floats = NDArray[np.float64]
_NO, _YES, _UNKNOWN = 0, 1, 2


# --------------------------------------------------------------------------- array core


class DomainEstimates(NamedTuple):
    """Estimates per domain (last axis), any leading axes (e.g. simulation repeats).

    Counts: ``n`` cases, ``selected``, ``hits`` and ``checked`` (selected with a known
    outcome), ``ref_hits`` and ``ref_checked`` (not selected reference cases with a known
    outcome). Estimates with variance and interval: ``hit_rate`` (Wilson),
    ``prevalence_not_selected``, ``prevalence`` and ``lift``; ``poststratified`` says
    whether the not-selected part was post-stratified on the domain's group cells.
    """

    n: Floats
    selected: Floats
    hits: Floats
    checked: Floats
    ref_hits: Floats
    ref_checked: Floats
    hit_rate: Floats
    hit_rate_ci: tuple[Floats, Floats]
    prevalence_not_selected: Floats
    prevalence_not_selected_ci: tuple[Floats, Floats]
    prevalence: Floats
    prevalence_var: Floats
    prevalence_ci: tuple[Floats, Floats]
    lift: Floats
    lift_ci: tuple[Floats, Floats]
    poststratified: NDArray[np.bool_]


def _var(x: Floats, n: Floats, z: float) -> Floats:
    """Binomial variance of ``x / n``; at 0 or n the Agresti-Coull proportion keeps it > 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        edge = (x == 0) | (x == n)
        p = np.where(edge, (x + z * z / 2) / (n + z * z), p)
        return p * (1 - p) / n


def _effective_counts(p: Floats, var: Floats, fallback: Floats) -> tuple[Floats, Floats]:
    """``(x, n)`` of a binomial with the estimate's mean and variance (Kish's effective n).

    Where ``p`` is 0 or 1 (no variance to match) ``n`` is ``fallback`` (the outcomes
    observed). Unstratified, this gives back the observed counts.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (p > 0) & (p < 1) & (var > 0)
        n_eff = np.where(inner, p * (1 - p) / var, fallback)
        ok = np.isfinite(p) & np.isfinite(n_eff) & (n_eff > 0)
        n_eff = np.where(ok, n_eff, np.nan)
        return np.where(ok, p, np.nan) * n_eff, n_eff


def _wilson_effective(p: Floats, var: Floats, fallback: Floats, confidence: float) -> tuple:
    """Wilson interval at the effective counts of :func:`_effective_counts`."""
    x, n = _effective_counts(p, var, fallback)
    ok = np.isfinite(n)
    low, high = wilson_interval(np.where(ok, x, 0.0), np.where(ok, n, 1.0), confidence)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def _part(weight: Floats, estimate: tuple, present: NDArray[np.bool_]) -> tuple:
    """``weight * (value, low, high)`` of one stratum, or zeros where it has no cases."""
    with np.errstate(invalid="ignore"):
        return tuple(np.where(present, weight * x, 0.0) for x in estimate)


def _mover_sum(a: tuple, b: tuple) -> tuple[Floats, Floats]:
    """MOVER interval (Zou & Donner) of the sum of two independent estimates.

    Each part keeps the skewness of its own interval (Wilson for the hit rate, Wilson
    at the effective size for the not selected), which a symmetric interval for the
    sum would lose when the outcome is rare among the not selected.
    """
    (x, x_low, x_high), (y, y_low, y_high) = a, b
    low = x + y - np.sqrt((x - x_low) ** 2 + (y - y_low) ** 2)
    high = x + y + np.sqrt((x_high - x) ** 2 + (y_high - y) ** 2)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def domain_estimates(
    counts: NDArray[Any], membership: NDArray[np.bool_], confidence: float = 0.95
) -> DomainEstimates:
    """Prevalence, hit rate and lift with intervals for domains of group cells.

    Works on arrays, vectorised over leading axes, so a coverage simulation of a
    thousand repeats is one call.

    Parameters
    ----------
    counts : ndarray
        Cases per cell, shape ``(..., cells, 2, 2, 3)`` as in
        :class:`~waarborg.selectivity.inputs.SelectionCounts`.
    membership : ndarray of bool
        ``(domains, cells)``: which cells make up each domain.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    DomainEstimates
        One value per domain along the last axis.

    Examples
    --------
    >>> c = np.zeros((1, 2, 2, 3)); c[0, 1, 0, 1] = 30; c[0, 1, 0, 0] = 70
    >>> c[0, 0, 0, 2] = 9_700; c[0, 0, 1, 1] = 10; c[0, 0, 1, 0] = 190
    >>> est = domain_estimates(c, np.ones((1, 1), bool))
    >>> round(float(est.lift[0]), 2)  # 0.30 / (0.01 * 0.30 + 0.99 * 0.05)
    5.71
    """
    z = float(stats.norm.isf((1 - confidence) / 2))
    c = np.asarray(counts, dtype=float)
    m = np.asarray(membership, dtype=float)
    cell_n = c.sum(axis=(-3, -2, -1))
    cell_not = c[..., 0, :, :].sum(axis=(-2, -1))
    cell_qy, cell_qm = c[..., 0, 1, _YES], c[..., 0, 1, _YES] + c[..., 0, 1, _NO]
    sel = c[..., 1, :, :].sum(axis=-2)  # (..., cells, 3)

    def to_domains(x: Floats) -> Floats:
        return x @ m.T

    n, n_sel = to_domains(cell_n), to_domains(sel.sum(axis=-1))
    hits, checked = to_domains(sel[..., _YES]), to_domains(sel[..., _YES] + sel[..., _NO])
    n_not, ref_hits, ref_checked = to_domains(cell_not), to_domains(cell_qy), to_domains(cell_qm)
    with np.errstate(divide="ignore", invalid="ignore"):
        h, w_sel = hits / checked, n_sel / n
        # the not selected, post-stratified on the domain's cells where every cell has data
        gap = to_domains(((cell_not > 0) & (cell_qm == 0)).astype(float)) > 0
        share = np.where(n_not[..., None, :] > 0, m.T * cell_not[..., :, None], 0.0)
        share = share / n_not[..., None, :]  # (..., cells, domains)
        q_cell = np.where(cell_qm > 0, cell_qy / cell_qm, 0.0)
        v_cell = np.where(cell_qm > 0, _var(cell_qy, cell_qm, z), 0.0)
        q_strat = np.einsum("...c,...cd->...d", q_cell, share)
        v_strat = np.einsum("...c,...cd->...d", v_cell, share**2)
        q = np.where(gap, ref_hits / ref_checked, q_strat)
        v_q = np.where(gap, _var(ref_hits, ref_checked, z), v_strat)
        q = np.where(ref_checked > 0, q, np.nan)
        v_h = _var(hits, checked, z)
    q_eff = _effective_counts(q, v_q, ref_checked)
    q_ci = _wilson_effective(q, v_q, ref_checked, confidence)
    h_ci = wilson_interval(hits, checked, confidence)
    # p = w h + (1 - w) q; an empty stratum adds 0, a stratum without outcomes makes p nan
    a = _part(w_sel, (h, *h_ci), n_sel > 0)
    b = _part(1 - w_sel, (q, *q_ci), n_not > 0)
    p = a[0] + b[0]
    with np.errstate(invalid="ignore"):
        v_p = np.where(n_sel > 0, w_sel**2 * v_h, 0.0)
        v_p = v_p + np.where(n_not > 0, (1 - w_sel) ** 2 * v_q, 0.0)
    p_ci = _mover_sum(a, b)
    lift, lift_ci = _lift(w_sel, h, hits, checked, q, q_eff, confidence)
    return DomainEstimates(
        n,
        n_sel,
        hits,
        checked,
        ref_hits,
        ref_checked,
        h,
        h_ci,
        q,
        q_ci,
        p,
        v_p,
        p_ci,
        lift,
        lift_ci,
        ~gap,
    )


def _lift(
    w: Floats,
    h: Floats,
    hits: Floats,
    checked: Floats,
    q: Floats,
    q_eff: tuple[Floats, Floats],
    confidence: float,
) -> tuple[Floats, tuple[Floats, Floats]]:
    """The lift ``h / p = 1 / (w + (1 - w) q / h)`` and its interval.

    ``p`` contains ``h`` (the selected are part of the population), so the lift is a
    decreasing function of the ratio ``q / h`` of two independent estimates (the not
    selected reference cases and the selected are disjoint): its interval is that of
    the ratio, by :func:`~waarborg.audit.stats.ratio_interval` (log scale, Katz; Koopman
    where a count is 0) at the effective counts of ``q``, mapped through the function.
    This is exact for the covariance of ``h`` and ``p`` given the share selected ``w``.
    """
    x_q, n_q = q_eff
    ok = np.isfinite(n_q) & (checked > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_low, rho_high = ratio_interval(
            np.where(ok, x_q, 0.0),
            np.where(ok, n_q, 1.0),
            np.where(ok, hits, 0.0),
            np.where(ok, checked, 1.0),
            confidence,
        )
        lift = h / (w * h + (1 - w) * q)
        low = 1 / (w + (1 - w) * rho_high)
        high = 1 / (w + (1 - w) * rho_low)
    bad = ~ok | ~np.isfinite(q)
    return lift, (np.where(bad, np.nan, low), np.where(bad, np.nan, high))


# --------------------------------------------------------------------------- the report


def parse_reference_groups(
    value: Mapping[str, str] | Sequence[str] | str | None,
) -> dict[str, str]:
    """``"sex=v"``, ``["sex=v", "region=noord"]`` or a mapping -> ``{attribute: group}``.

    Examples
    --------
    >>> parse_reference_groups(["sex=v", "region=noord"])
    {'sex': 'v', 'region': 'noord'}
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = [value] if isinstance(value, str) else list(value)
    out = {}
    for item in items:
        attr, sep, group = str(item).partition("=")
        if not sep or not attr.strip():
            raise ValueError(f"a reference group is COLUMN=VALUE, not {item!r}")
        out[attr.strip()] = group.strip()
    return out


def selectivity_report(
    table: TableLike | SelectionCounts,
    groups: Sequence[str] = (),
    *,
    reference_share: float | None = None,
    reference_group: Mapping[str, str] | Sequence[str] | str | None = None,
    confidence: float = 0.95,
) -> SelectivityResult:
    """Estimate the selectivity of a risk selection from a random reference sample.

    Parameters
    ----------
    table : table-like or SelectionCounts
        The selection table (path or data frame, rows or aggregated with a ``count``
        column; see :func:`~waarborg.selectivity.inputs.selection_counts`), or its counts.
    groups : sequence of str
        Group columns; each is reported on its own.
    reference_share : float, optional
        The share of cases the process draws at random. Without it the realised share is
        used (and the report says so); with it, the report compares the realised share
        with it (binomial test).
    reference_group : mapping, str or sequence of str, optional
        ``{"column": "value"}`` or ``"column=value"`` per column: the group others are
        compared with. By default the largest group of each column.
    confidence : float, default 0.95
        Confidence level of every interval.

    Returns
    -------
    SelectivityResult
        Overall and per group: prevalence, prevalence among the not selected, hit rate,
        lift, recall, shares, burden and the outcome (hit-rate) test.

    Examples
    --------
    >>> from waarborg.synth.selectivity import Scenario, selection_table
    >>> res = selectivity_report(selection_table(Scenario(n=5_000), seed=2), ["group"])
    >>> sorted(res["by_group"]["group"])
    ['A', 'B']
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if reference_share is not None and not 0 < reference_share <= 1:
        raise ValueError(f"the reference share must lie in (0, 1], got {reference_share}")
    data = table if isinstance(table, SelectionCounts) else selection_counts(table, groups)
    wanted = parse_reference_groups(reference_group)
    unknown = sorted(set(wanted) - set(data.groups))
    if unknown:
        raise ValueError(f"reference group for {unknown[0]!r}, which is not a group column")
    overall = domain_estimates(data.counts, np.ones((1, len(data.cells)), bool), confidence)
    result: dict[str, Any] = {
        "kind": "selectivity",
        "source": data.source,
        "groups": list(data.groups),
        "confidence": confidence,
        "n": data.n,
        "rows": data.rows,
        "design": _design(data, reference_share, confidence),
        "overall": _measures(overall, 0, confidence),
        "reference_groups": {},
        "by_group": {},
    }
    comparisons: list[dict[str, Any]] = []
    for j, attr in enumerate(data.groups):
        values = sorted({cell[j] for cell in data.cells})
        membership = np.array([[cell[j] == v for cell in data.cells] for v in values])
        est = domain_estimates(data.counts, membership, confidence)
        ref = _reference(values, est.n, wanted.get(attr), attr)
        result["reference_groups"][attr] = values[ref]
        rows = _group_rows(est, values, ref, result["overall"], confidence)
        result["by_group"][attr] = rows
        comparisons += [rows[v]["hit_rate_difference"] for i, v in enumerate(values) if i != ref]
    adjusted = holm([c["p"] if c["p"] is not None else np.nan for c in comparisons])
    for comparison, p_holm in zip(comparisons, adjusted, strict=True):
        comparison["p_holm"] = None if np.isnan(p_holm) else float(p_holm)
    result["outcome_test"] = {"method": "holm", "k": len(comparisons), "alpha": 1 - confidence}
    result["notes"] = _notes(result, overall)
    return SelectivityResult(jsonable(result))


def _reference(values: list[str], n: Floats, wanted: str | None, attr: str) -> int:
    if wanted is None:
        return int(np.argmax(n))
    if wanted not in values:
        raise ValueError(f"reference group {attr}={wanted} does not occur (groups: {values})")
    return values.index(wanted)


def _design(data: SelectionCounts, share: float | None, confidence: float) -> dict[str, Any]:
    c = data.counts.sum(axis=0)  # (2, 2, 3)
    n, n_ref = int(c.sum()), int(c[:, 1].sum())
    realised = entry(n_ref / n if n else None, *wilson_interval(n_ref, n, confidence), n)
    p_value = float(stats.binomtest(n_ref, n, share).pvalue) if share is not None and n else None
    return {
        "n_selected": int(c[1].sum()),
        "n_reference": n_ref,
        "n_both": int(c[1, 1].sum()),
        "selected_checked": int(c[1, :, :2].sum()),
        "selected_unknown": int(c[1, :, _UNKNOWN].sum()),
        "reference_checked": int(c[:, 1, :2].sum()),
        "reference_unknown": int(c[:, 1, _UNKNOWN].sum()),
        "outside_design": int(c[0, 0, :2].sum()),
        "reference_share": {
            "given": share,
            "inferred": share is None,
            "realised": realised,
            "p_value": p_value,
        },
    }


def _measures(est: DomainEstimates, i: int, confidence: float) -> dict[str, Any]:
    """The estimates of domain ``i`` as JSON-ready entries."""
    n, sel = est.n[i], est.selected[i]
    w = sel / n if n else np.nan
    low, high = (b[i] for b in est.lift_ci)
    h_low, h_high = (b[i] for b in est.hit_rate_ci)
    with np.errstate(divide="ignore", invalid="ignore"):
        checks = 1 / est.hit_rate[i]
        return {
            "n": int(n),
            "n_selected": int(sel),
            "prevalence": entry(est.prevalence[i], *(b[i] for b in est.prevalence_ci), n),
            "prevalence_not_selected": entry(
                est.prevalence_not_selected[i],
                *(b[i] for b in est.prevalence_not_selected_ci),
                est.ref_checked[i],
                k=est.ref_hits[i],
            ),
            "hit_rate": entry(est.hit_rate[i], h_low, h_high, est.checked[i], k=est.hits[i]),
            "lift": entry(est.lift[i], low, high, n, p=_lift_pvalue(est, i)),
            "recall": entry(w * est.lift[i], w * low, min(w * high, 1.0), n),
            "selection_rate": entry(w, *wilson_interval(sel, n, confidence), n, k=sel),
            "checks_per_outcome": entry(checks, 1 / h_high, 1 / h_low, est.checked[i]),
            "poststratified": bool(est.poststratified[i]),
        }


def _lift_pvalue(est: DomainEstimates, i: int) -> float | None:
    """p-value of H0 lift = 1, i.e. hit rate = rate among the not selected (the plan's test)."""
    if not (est.checked[i] > 0 and est.ref_checked[i] > 0):
        return None
    counts = (est.hits[i], est.checked[i], est.ref_hits[i], est.ref_checked[i])
    return float(two_proportion_pvalue(*counts))


def _group_rows(
    est: DomainEstimates,
    values: list[str],
    ref: int,
    overall: Mapping[str, Any],
    confidence: float,
) -> dict[str, dict[str, Any]]:
    """Per group of one attribute: measures, composition, burden and comparisons."""
    n, sel = est.n, est.selected
    total, total_sel = n.sum(), sel.sum()
    rows = {v: _measures(est, i, confidence) for i, v in enumerate(values)}
    share_outcome = entries(*_outcome_shares(est), n)
    shares_all = entries(n / total, *wilson_interval(n, total, confidence), total)
    shares_sel = entries(sel / total_sel, *wilson_interval(sel, total_sel, confidence), total_sel)
    y, k = est.hits, est.checked
    sel_ratio = ratio_interval(sel, n, sel[ref], n[ref], confidence)
    burden = ratio_interval(y[ref], k[ref], y, k, confidence)  # (k/y) / (k_ref/y_ref)
    diff = newcombe_interval(y, k, y[ref], k[ref], confidence)
    pvalues = two_proportion_pvalue(y, k, y[ref], k[ref])
    extra = _difference_of_reciprocals(est, ref)
    p_diff = _mover(est.prevalence, est.prevalence_ci, ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_sel, ratio_burden = (sel / n) / (sel[ref] / n[ref]), (y[ref] / k[ref]) / (y / k)
        for i, v in enumerate(values):
            row = rows[v]
            row["reference"] = i == ref
            row["share_all"] = shares_all[i]
            row["share_selected"] = shares_sel[i]
            row["share_outcome"] = share_outcome[i]
            row["selection_ratio"] = entry(ratio_sel[i], sel_ratio[0][i], sel_ratio[1][i], n[i])
            row["burden_ratio"] = entry(ratio_burden[i], burden[0][i], burden[1][i], k[i])
            row["extra_checks"] = entry(extra[0][i], extra[1][i], extra[2][i], k[i])
            row["prevalence_difference"] = entry(p_diff[0][i], p_diff[1][i], p_diff[2][i], n[i])
            gap = y[i] / k[i] - y[ref] / k[ref]
            p = None if i == ref else pvalues[i]
            row["hit_rate_difference"] = entry(gap, diff[0][i], diff[1][i], k[i], p=p)
    return rows


def _outcome_shares(est: DomainEstimates) -> tuple[Floats, Floats, Floats]:
    """Each group's estimated share of all cases with the outcome, and its interval.

    The share ``a_g / (a_g + r_g)`` with ``a_g = N_g p_g`` and ``r_g`` the other groups'
    sum is ``1 / (1 + r_g / a_g)``, a decreasing function of the ratio of two independent
    estimates: the ratio's MOVER interval (Donner & Zou), from the prevalence intervals
    (and their MOVER sum for ``r_g``), maps onto the share's.
    """
    n, p = est.n, est.prevalence
    low_p, high_p = est.prevalence_ci
    a, a_low, a_high = n * p, n * low_p, n * high_p
    r = a.sum() - a
    r_low = r - np.sqrt(np.sum((a - a_low) ** 2) - (a - a_low) ** 2)
    r_high = r + np.sqrt(np.sum((a_high - a) ** 2) - (a_high - a) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_low, rho_high = _mover_ratio(r, (r_low, r_high), a, (a_low, a_high))
        return a / a.sum(), 1 / (1 + rho_high), 1 / (1 + rho_low)


def _mover_ratio(
    x: Floats, x_ci: tuple[Floats, Floats], y: Floats, y_ci: tuple[Floats, Floats]
) -> tuple[Floats, Floats]:
    """MOVER interval of ``x / y`` for independent positive ``x``, ``y`` (Donner & Zou 2012)."""
    (l1, u1), (l2, u2) = x_ci, y_ci
    xy = x * y
    low = (xy - np.sqrt(np.maximum(xy**2 - l1 * u2 * (2 * x - l1) * (2 * y - u2), 0))) / (
        u2 * (2 * y - u2)
    )
    high = (xy + np.sqrt(np.maximum(xy**2 - u1 * l2 * (2 * x - u1) * (2 * y - l2), 0))) / (
        l2 * (2 * y - l2)
    )
    high = np.where(l2 > 0, high, np.inf)
    return np.maximum(low, 0.0), high


def _difference_of_reciprocals(est: DomainEstimates, ref: int) -> tuple[Floats, Floats, Floats]:
    """``1/h - 1/h_ref`` (extra checks per outcome found), MOVER from Wilson bounds."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1 / est.hit_rate
        low, high = 1 / est.hit_rate_ci[1], 1 / est.hit_rate_ci[0]
    return _mover(inv, (low, high), ref)


def _mover(value: Floats, ci: tuple[Floats, Floats], ref: int) -> tuple[Floats, Floats, Floats]:
    """Difference to the reference and its MOVER interval (Newcombe's construction)."""
    low, high = ci
    with np.errstate(invalid="ignore"):
        d = value - value[ref]
        lo = d - np.sqrt((value - low) ** 2 + (high[ref] - value[ref]) ** 2)
        hi = d + np.sqrt((high - value) ** 2 + (value[ref] - low[ref]) ** 2)
    return d, lo, hi


def _notes(result: Mapping[str, Any], overall: DomainEstimates) -> list[dict[str, str]]:
    """Bilingual notes on the design: the share, missing outcomes, post-stratification."""
    design = result["design"]
    share = design["reference_share"]
    level = round(result["confidence"] * 100)
    notes = []

    def note(kind: str, fields: Any = lambda lang: {}) -> None:
        texts = {f"text_{lang}": say(kind, lang, **fields(lang)) for lang in ("en", "nl")}
        notes.append({"kind": kind} | texts)

    realised = share["realised"]

    def pct(x: Any, lang: str) -> str:
        return _percent(x, lang)

    if share["inferred"]:
        note(
            "share_inferred",
            fields=lambda lang: {
                "share": pct(realised["value"], lang),
                "n_reference": fmt_count(design["n_reference"], lang),
                "n": fmt_count(result["n"], lang),
            },
        )
    else:
        note(
            "share_given",
            fields=lambda lang: {
                "given": pct(share["given"], lang),
                "share": pct(realised["value"], lang),
                "n_reference": fmt_count(design["n_reference"], lang),
                "n": fmt_count(result["n"], lang),
                "level": level,
                "ci": _percent_ci(realised["ci"], lang),
                "p": fmt_p(share["p_value"], lang),
            },
        )
        if share["p_value"] is not None and share["p_value"] < 1 - result["confidence"]:
            alpha = 1 - result["confidence"]
            note("share_off", fields=lambda lang: {"alpha": fmt_number(alpha, lang, 2)})
    if design["reference_unknown"] or design["selected_unknown"]:
        note(
            "mar",
            fields=lambda lang: {
                "unknown_reference": fmt_count(design["reference_unknown"], lang),
                "n_reference": fmt_count(design["n_reference"], lang),
                "unknown_selected": fmt_count(design["selected_unknown"], lang),
                "n_selected": fmt_count(design["n_selected"], lang),
            },
        )
    if design["outside_design"]:
        note(
            "outside_design",
            fields=lambda lang: {"count": fmt_count(design["outside_design"], lang)},
        )
    if not np.isfinite(overall.prevalence_not_selected[0]):
        note("no_reference")
    rows = [(f"{a}={g}", row) for a, by in result["by_group"].items() for g, row in by.items()]
    empty = [name for name, row in rows if row["prevalence_not_selected"]["value"] is None]
    if empty and np.isfinite(overall.prevalence_not_selected[0]):
        note("no_reference_group", fields=lambda lang: {"where": _listed(empty)})
    # a group of the only group column is one cell: post-stratification does not apply
    several = len(result["groups"]) > 1
    unstratified = [name for name, row in rows if several and not row["poststratified"]]
    unstratified = [name for name in unstratified if name not in empty]
    everyone = not result["overall"]["poststratified"]
    if everyone or unstratified:

        def where(lang: str) -> dict[str, str]:
            overall = [say("overall", lang).lower()] if everyone else []
            return {"where": _listed(overall + unstratified)}

        note("not_poststratified", fields=where)
    note("assumption")
    return notes


def _listed(names: Sequence[str], most: int = 8) -> str:
    return ", ".join(names[:most]) + (", …" if len(names) > most else "")


def _percent(x: Any, lang: str) -> str:
    if x is None:
        return "—"
    return fmt_number(100 * x, lang, 2 if x < 0.1 else 1) + "%"


def _percent_ci(ci: Sequence[Any], lang: str) -> str:
    return "–".join(_percent(b, lang) for b in ci)


# --------------------------------------------------------------------------- the result


#: The overall measures a summary leads with, in order.
KEY_FIGURES = (
    "prevalence",
    "prevalence_not_selected",
    "hit_rate",
    "lift",
    "recall",
    "selection_rate",
    "checks_per_outcome",
)
_SUMMARY_GROUP = (
    "share_all",
    "share_selected",
    "share_outcome",
    "prevalence",
    "hit_rate",
    "lift",
    "selection_ratio",
    "checks_per_outcome",
    "burden_ratio",
    "extra_checks",
    "hit_rate_difference",
)
_RATES = frozenset(
    {
        "prevalence",
        "prevalence_not_selected",
        "hit_rate",
        "recall",
        "selection_rate",
        "share_all",
        "share_selected",
        "share_outcome",
        "hit_rate_difference",
        "prevalence_difference",
    }
)


def shown(measure: str, leaf: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """An entry's value and interval as text: percentages for rates, never a point interval.

    Examples
    --------
    >>> shown("hit_rate", {"value": 0.1234, "ci": [0.1, 0.15]}, "nl")
    ('12,3%', '10,0%–15,0%')
    """
    value, (low, high) = leaf.get("value"), leaf.get("ci") or (None, None)
    if value is None:
        return "—", "—"
    scale, unit, digits = (100.0, "%", 1) if measure in _RATES else (1.0, "", 2)
    scaled = [None if b is None else b * scale for b in (low, high)]
    text, ci = estimate_text(value * scale, scaled[0], scaled[1], lang, digits)
    parts = [part + (unit if part not in ("—", "∞") else "") for part in ci.split("–")]
    negative = any(b is not None and b < 0 for b in scaled)
    sep = (" to " if lang == "en" else " tot ") if negative else "–"
    return (text + unit).replace("-", "−"), sep.join(parts).replace("-", "−")


class SelectivityResult(ResultData):
    """The result of :func:`selectivity_report`: a JSON-ready dict with a text summary.

    ``result["overall"]["lift"]`` is ``{"value": ..., "ci": [low, high], "n": ...}``;
    undefined numbers are ``None``. See docs/selectivity.md for every key.

    Examples
    --------
    >>> from waarborg.synth.selectivity import Scenario, selection_table
    >>> res = selectivity_report(selection_table(Scenario(n=5_000), seed=3), ["group"])
    >>> "Lift" in res.summary("en") and "Lift" in res.summary("nl")
    True
    """

    def summary(self, lang: str = "en") -> str:
        """A plain-text summary: key figures, per group, the outcome test, the notes."""
        if lang not in ("en", "nl"):
            raise ValueError(f"lang must be en or nl, got {lang!r}")
        d = self._data
        level = round(d["confidence"] * 100)
        ci_head = say("ci", lang, level=level)
        lines = [say("title", lang), "=" * len(say("title", lang))]
        design = d["design"]
        lines.append(
            f"{say('cases', lang)}: {fmt_count(d['n'], lang)}   "
            f"{say('selected', lang)}: {fmt_count(design['n_selected'], lang)}   "
            f"{say('reference', lang)}: {fmt_count(design['n_reference'], lang)}"
        )
        lines += ["", f"{say('measure', lang):<52} {say('value', lang):>10}  {ci_head}"]
        for key in KEY_FIGURES:
            value, ci = shown(key, d["overall"][key], lang)
            test = d["overall"][key].get("p", False)
            extra = f"  ({say('lift_p', lang)} {fmt_p(test, lang)})" if test is not False else ""
            lines.append(f"{say(key, lang):<52} {value:>10}  {ci}{extra}")
        for attr, rows in d["by_group"].items():
            lines += ["", say("by_group", lang, attribute=attr)]
            for key in _SUMMARY_GROUP:
                parts = []
                for group, row in rows.items():
                    if (
                        key in ("selection_ratio", "burden_ratio", "extra_checks")
                        and row["reference"]
                    ):
                        continue
                    if key == "hit_rate_difference" and row["reference"]:
                        continue
                    value, ci = shown(key, row[key], lang)
                    extra = ""
                    if key == "hit_rate_difference":
                        extra = f", {say('p_holm', lang)} {fmt_p(row[key].get('p_holm'), lang)}"
                    parts.append(f"{group} {value} [{ci}{extra}]")
                if parts:
                    lines.append(f"  {say(key, lang)}: " + "; ".join(parts))
            ref = d["reference_groups"][attr]
            lines.append(f"  ({say('reference_tag', lang)}: {ref})")
        lines += ["", say("design", lang)]
        lines += [f"- {note[f'text_{lang}']}" for note in d["notes"]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        lift = self._data["overall"]["lift"]["value"]
        shown_lift = "None" if lift is None else f"{lift:.3g}"
        return f"<SelectivityResult n={self._data['n']} lift={shown_lift}>"
