"""Diagnose disagreements: which simple implementation faults explain them.

Every candidate fault is a *hypothesis* about the deployed implementation: the spec
with one thing changed (variant formulas swapped, a weight off, a transform dropped, a
unit wrong, bins or cut-offs moved), or the input treated differently (another field
choosing the variant, missing values filled in, data rules skipped). Each hypothesis is
scored with the engine and compared with the observed outputs by the same rule as the
verification itself.

The search is greedy: the hypothesis that reproduces the most disagreeing cases, net of
agreeing cases it would break, is taken (on a tie the simpler kind, in the order of
:func:`_candidates`), then the next is sought on top of it, so two faults together (the
inspection found a swap *and* wrong numbers) are found as two steps, each credited with
the share of the originally disagreeing cases it newly reproduces. For large data the
choice is made on a sample (every disagreeing case up to :data:`SAMPLE`, and as many
agreeing ones, weighted back); the credited shares are always counted on all cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.errors import WaarborgError
from waarborg.instruments.rules import CASE_ID
from waarborg.instruments.spec import Bins, BinsBody, Cap, Linear, Log, Predictor, Standardise
from waarborg.verify.compare import Outputs, disagreeing, scored_outputs
from waarborg.verify.hypothesis import (
    Candidate,
    Detail,
    Hypothesis,
    Setting,
    band_quantity,
    fmt,
    with_band,
    with_model,
    with_predictor,
    with_rules,
)
from waarborg.verify.weights import simplest_in, weight_candidates

MAX_FAULTS = 3
MIN_SHARE = 0.005
"""A fault is reported only when it explains at least this share of the disagreeing cases."""
SAMPLE = 10_000
UNIT_FACTORS = (10.0, 100.0, 1000.0, 0.1, 0.01, 0.001)
ENUMERATED = 25
"""Integer predictors with at most this many admissible values have each one tried."""


def diagnose(base: Hypothesis, setting: Setting, scored: pa.Table) -> list[dict[str, Any]]:
    """Ranked faults ``{fault, detail, detail_nl, explains_share, explains_cases, evidence}``.

    ``scored`` is the base hypothesis's scoring (the reference outputs). A fault is
    listed only when it explains at least :data:`MIN_SHARE` of the disagreeing cases
    (and at least one); the list is empty when no candidate does.
    """
    current, found = base, []
    original = remaining = wrong_cases(scored, setting)
    total, explained = int(original.sum()), 0
    least = max(1.0, MIN_SHARE * total)
    while remaining.any() and len(found) < MAX_FAULTS:
        best = _best(current, scored, remaining, setting, least)
        if best is None:
            break
        current = best.hypothesis
        scored = current.score()
        remaining = wrong_cases(scored, setting)
        now = int((original & ~remaining).sum())
        if now - explained < least:
            break
        then = ("and then: ", "en daarna: ") if found else ("", "")
        found.append(
            {
                "fault": best.fault,
                "detail": then[0] + best.detail.en,
                "detail_nl": then[1] + best.detail.nl,
                "explains_share": (now - explained) / total,
                "explains_cases": now - explained,
                "evidence": best.evidence,
            }
        )
        explained = now
    return found


def wrong_cases(scored: pa.Table, setting: Setting) -> np.ndarray:
    """Cases where any outcome of ``scored`` disagrees with the observed outputs."""
    mine = scored_outputs(scored, setting.columns)
    per_outcome = disagreeing(setting.columns, mine, setting.observed, setting.tolerance)
    return np.logical_or.reduce(list(per_outcome.values()))


def _best(
    current: Hypothesis, scored: pa.Table, remaining: np.ndarray, setting: Setting, least: float
) -> Candidate | None:
    """The candidate with the largest net gain (at least ``least``), first one on a tie."""
    sample = _Sample.of(setting, remaining)
    best, best_gain = None, least - 1e-9
    for candidate in _candidates(current, scored, setting):
        try:
            still = wrong_cases(sample.score(candidate.hypothesis), sample.setting)
        except WaarborgError:
            continue
        gain = sample.gain(still)
        if gain > best_gain + 1e-9:
            best, best_gain = candidate, gain
    return best


@dataclass(frozen=True)
class _Sample:
    """The cases the choice is made on: all of them, or a weighted sample of large data."""

    rows: np.ndarray | None
    """The sampled rows, or ``None`` for all."""
    setting: Setting
    remaining: np.ndarray
    weights: tuple[float, float]
    """Weight of a sampled disagreeing and of a sampled agreeing case."""

    @classmethod
    def of(cls, setting: Setting, remaining: np.ndarray) -> _Sample:
        rng = np.random.default_rng(0)
        parts, weights = [], []
        for mask in (remaining, ~remaining):
            where = np.flatnonzero(mask)
            take = rng.choice(where, SAMPLE, replace=False) if where.size > SAMPLE else where
            parts.append(take)
            weights.append(where.size / take.size if take.size else 0.0)
        rows = np.sort(np.concatenate(parts))
        if rows.size == remaining.size:
            return cls(None, setting, remaining, (1.0, 1.0))
        return cls(rows, _take_setting(setting, rows), remaining[rows], (weights[0], weights[1]))

    def score(self, h: Hypothesis) -> pa.Table:
        """The hypothesis's outputs for the sampled cases."""
        return (h if self.rows is None else _take(h, self.rows)).score()

    def gain(self, still: np.ndarray) -> float:
        """Net agreeing cases a hypothesis adds (weighted back to all cases)."""
        fixed = int((self.remaining & ~still).sum())
        broken = int((~self.remaining & still).sum())
        return fixed * self.weights[0] - broken * self.weights[1]


def _take(h: Hypothesis, rows: np.ndarray) -> Hypothesis:
    cases = h.cases.take(rows)
    events = h.events
    if events is not None and CASE_ID in cases.column_names:
        keep = pc.is_in(events.column(CASE_ID), value_set=cases.column(CASE_ID).combine_chunks())
        events = events.filter(keep)
    return replace(h, cases=cases, events=events)


def _take_setting(setting: Setting, rows: np.ndarray) -> Setting:
    obs = setting.observed
    observed = Outputs(
        {k: v[rows] for k, v in obs.bands.items()},
        {k: v[rows] for k, v in obs.probabilities.items()},
    )
    return replace(setting, observed=observed)


# --------------------------------------------------------------------------- candidates


def _candidates(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    """All simple faults, simplest kinds first."""
    yield from _variant_faults(h)
    yield from _cutoff_faults(h, scored, setting)
    yield from _transform_faults(h)
    yield from _missing_faults(h)
    yield from _rule_faults(h)
    yield from weight_candidates(h, scored, setting)


def _variant_faults(h: Hypothesis) -> Iterator[Candidate]:
    model = h.spec.model
    if not model.variant_field or model.variants is None:
        return
    names = list(model.variants)
    for a, b in itertools.combinations(names, 2):
        swapped = dict(model.variants) | {a: model.variants[b], b: model.variants[a]}
        yield Candidate(
            "variant_swapped",
            Detail(
                f"the formulas of '{a}' and '{b}' are swapped",
                f"de formules van '{a}' en '{b}' zijn verwisseld",
            ),
            replace(h, spec=with_model(h.spec, variants=swapped)),
            {"variants": [a, b]},
        )
    field = model.variant_field
    for column in h.cases.column_names:
        values = h.cases.column(column)
        if column == field or not _only_levels(values, set(names)):
            continue
        cases = h.cases.set_column(h.cases.column_names.index(field), field, values)
        yield Candidate(
            "variant_wrong_field",
            Detail(
                f"the variant is chosen by the field '{column}' instead of '{field}'",
                f"de variant wordt gekozen met het veld '{column}' in plaats van '{field}'",
            ),
            replace(h, cases=cases),
            {"spec": field, "estimate": column},
        )


def _only_levels(values: pa.ChunkedArray, levels: set[str]) -> bool:
    """Whether a text column holds only (some of) the given levels."""
    if not (pa.types.is_string(values.type) or pa.types.is_dictionary(values.type)):
        return False
    present = set(values.cast(pa.string()).drop_null().unique().to_pylist())
    return bool(present) and present <= levels


def _cutoff_faults(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    """Cut-offs estimated from the observed bands, where they separate the cases cleanly."""
    for outcome in setting.columns:
        if outcome not in setting.observed.bands:
            continue
        band = h.spec.bands[outcome]
        quantity = band_quantity(scored, band, outcome)
        found = separating_cutoffs(quantity, setting.observed.bands[outcome], band.cutoffs)
        if found is None or found[0] == list(band.cutoffs):
            continue
        estimates, ranges = found
        allowed = ", ".join(f"({lo:.4g}, {hi:.4g}]" for lo, hi in ranges)
        yield Candidate(
            "cutoffs_shifted",
            Detail(
                f"the cut-offs of '{outcome}' are {fmt(estimates)}, not {fmt(band.cutoffs)} "
                f"(the observed bands allow {allowed})",
                f"de grenzen van '{outcome}' zijn {fmt(estimates)}, niet {fmt(band.cutoffs)} "
                f"(de waargenomen categorieën laten {allowed} toe)",
            ),
            replace(h, spec=with_band(h.spec, outcome, cutoffs=estimates)),
            {
                "outcome": outcome,
                "spec": list(band.cutoffs),
                "estimate": estimates,
                "ranges": ranges,
            },
        )


def separating_cutoffs(
    quantity: np.ndarray, bands: np.ndarray, cutoffs: list[float]
) -> tuple[list[float], list[list[float]]] | None:
    """Cut-offs that put every case in its observed band, and the range each may take.

    Each cut-off may lie anywhere above the highest quantity of the bands below it and
    at or under the lowest quantity above it; the spec's value is kept where it fits,
    else the simplest value in the range is taken. ``None`` when no cut-offs separate
    the bands.

    Examples
    --------
    >>> separating_cutoffs(np.array([1.0, 3.0, 4.2, 7.0]), np.array([0, 0, 1, 2]), [2, 5])
    ([4.0, 5], [[3.0, 4.2], [4.2, 7.0]])
    """
    known = np.isfinite(quantity) & (bands >= 0)
    q, b = quantity[known], bands[known]
    estimates, ranges = [], []
    for i, cutoff in enumerate(cutoffs):
        above, below = q[b > i], q[b <= i]
        if not above.size or not below.size or above.min() <= below.max():
            return None
        low, high = float(below.max()), float(above.min())
        fits = low < cutoff <= high
        estimates.append(cutoff if fits else simplest_in(float(np.nextafter(low, np.inf)), high))
        ranges.append([low, high])
    if any(b <= a for a, b in itertools.pairwise(estimates)):
        return None
    return estimates, ranges


def _transform_faults(h: Hypothesis) -> Iterator[Candidate]:
    for p in h.spec.predictors:
        for i, step in enumerate(p.transform):
            for fault, detail, new in _step_variants(p.name, step):
                steps = [
                    *p.transform[:i],
                    *([new] if new is not None else []),
                    *p.transform[i + 1 :],
                ]
                spec = with_predictor(h.spec, p.name, transform=steps)
                yield Candidate(fault, detail, replace(h, spec=spec), {"predictor": p.name})
        if p.type in ("numeric", "integer") and not any(isinstance(t, Linear) for t in p.transform):
            yield from _input_units(h, p)


def _input_units(h: Hypothesis, p: Predictor) -> Iterator[Candidate]:
    """The value used in another unit (e.g. metres for kilometres) before the transforms."""
    for factor in UNIT_FACTORS:
        steps = [Linear(linear={"centre": 0.0, "scale": 1 / factor}), *p.transform]
        yield Candidate(
            "unit_error",
            Detail(
                f"'{p.name}' is used ×{factor:g} (another unit) before its transforms",
                f"'{p.name}' wordt ×{factor:g} gebruikt (een andere eenheid) vóór de omzetting",
            ),
            replace(h, spec=with_predictor(h.spec, p.name, transform=steps)),
            {"predictor": p.name, "factor": factor},
        )


def _step_variants(name: str, step: Any) -> Iterator[tuple[str, Detail, Any]]:
    """Wrong versions of one transform step: dropped, unit errors, shifted bins."""
    wrong = "transform_wrong"
    if isinstance(step, Standardise):
        yield (
            wrong,
            Detail(f"'{name}' is not standardised", f"'{name}' is niet gestandaardiseerd"),
            None,
        )
    if isinstance(step, Cap):
        yield (
            wrong,
            Detail(f"the cap on '{name}' is not applied", f"de begrenzing van '{name}' ontbreekt"),
            None,
        )
    if isinstance(step, Log):
        yield (
            wrong,
            Detail(f"'{name}' is not log-transformed", f"'{name}' is niet gelogaritmeerd"),
            None,
        )
    if isinstance(step, Linear):
        yield (
            wrong,
            Detail(
                f"the linear transform of '{name}' is not applied",
                f"de lineaire omzetting van '{name}' ontbreekt",
            ),
            None,
        )
        spec_scale = step.linear.get("scale", 1.0)
        for factor in UNIT_FACTORS:
            scale = spec_scale * factor
            yield (
                "unit_error",
                Detail(
                    f"'{name}' is divided by {scale:g} instead of {spec_scale:g}",
                    f"'{name}' wordt gedeeld door {scale:g} in plaats van {spec_scale:g}",
                ),
                Linear(linear=dict(step.linear) | {"scale": scale}),
            )
    if isinstance(step, Bins):
        for shift in (-1.0, 1.0):
            edges = [e + shift for e in step.bins.edges]
            yield (
                wrong,
                Detail(
                    f"the bin edges of '{name}' are {fmt(edges)}, not {fmt(step.bins.edges)}",
                    f"de klassegrenzen van '{name}' zijn {fmt(edges)}, niet {fmt(step.bins.edges)}",
                ),
                Bins(bins=BinsBody(edges=edges, labels=step.bins.labels)),
            )


def _missing_faults(h: Hypothesis) -> Iterator[Candidate]:
    """Missing values scored as one admissible value instead of by the spec's policy."""
    for p in h.spec.predictors:
        if p.missing == "error" or p.name not in h.cases.column_names:
            continue
        column = h.cases.column(p.name)
        if not column.null_count:
            continue
        column = column.cast(_plain_type(column.type))
        for value in admissible_values(p):
            filled = column.fill_null(pa.scalar(value).cast(column.type))
            cases = h.cases.set_column(h.cases.column_names.index(p.name), p.name, filled)
            policy = p.missing if isinstance(p.missing, str) else f"level {p.missing.level!r}"
            yield Candidate(
                "missing_policy_different",
                Detail(
                    f"missing values of '{p.name}' are scored as {value!r} (spec: {policy})",
                    f"ontbrekende waarden van '{p.name}' tellen als {value!r} "
                    f"(specificatie: {policy})",
                ),
                replace(h, cases=cases),
                {"predictor": p.name, "spec": policy, "estimate": value},
            )


def admissible_values(p: Predictor) -> list[Any]:
    """A value per distinct way a predictor can be scored (levels, bins, or whole values).

    Examples
    --------
    >>> from waarborg.instruments.engine import load_instrument
    >>> admissible_values(load_instrument("generic-selection").spec.predictor("age"))
    [16, 21, 26]
    """
    if p.type == "categorical":
        return list(p.levels or [])
    if p.type == "boolean":
        return [False, True]
    low, high = p.bounds
    whole = p.type == "integer"
    if p.bins is not None and not p.numeric_steps:  # raw edges: the start of each bin
        edges = [e for e in p.bins.edges if low < e <= high]
        return [int(v) if whole else v for v in [low, *edges]]
    if whole and high - low < ENUMERATED:
        return list(range(int(low), int(high) + 1))
    return [int(low), int(high)] if whole else [low, high]


def _plain_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _rule_faults(h: Hypothesis) -> Iterator[Candidate]:
    rules = h.spec.data_rules
    if h.events is None or rules is None:
        return
    if rules.exclude_dispositions:
        yield Candidate(
            "data_rules_not_applied",
            Detail(
                f"events with disposition {rules.exclude_dispositions} are counted",
                f"registraties met afdoening {rules.exclude_dispositions} tellen mee",
            ),
            replace(h, spec=with_rules(h.spec, exclude_dispositions=[])),
            {"rule": "exclude_dispositions", "spec": list(rules.exclude_dispositions)},
        )
    if rules.lookback_years is not None:
        yield Candidate(
            "data_rules_not_applied",
            Detail(
                f"events older than {rules.lookback_years:g} years are counted",
                f"registraties ouder dan {rules.lookback_years:g} jaar tellen mee",
            ),
            replace(h, spec=with_rules(h.spec, lookback_years=None)),
            {"rule": "lookback_years", "spec": rules.lookback_years},
        )
