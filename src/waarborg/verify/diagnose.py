"""Diagnose disagreements by recovering the deployed parameters, step by step.

Each step recovers what the observed outputs imply (see :mod:`.candidates`): the
variant rule, each cut-off, each transform number, each formula's parameters, and the
same changes applied together. Every candidate is an ordinary changed spec or input,
scored with the engine and compared with the observed outputs by the same rule as the
verification itself, **per (case, outcome)**: a candidate's *net gain* is the outputs
it makes agree minus the agreeing outputs it breaks. The candidate with the largest
positive net gain is accepted (on a tie the one that changes fewer parameters, then the
earlier kind), and the next step starts from it, so several faults are found one by one.
Candidates that give exactly the same outputs as the accepted one are listed with it
as *equivalent*: the data cannot tell them apart.

For large data the choice is made on a sample (every disagreeing case up to
:data:`SAMPLE`, and as many agreeing ones, weighted back); the counts reported are
always over all cases. What no accepted step explains is reported as unexplained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.errors import WaarborgError
from waarborg.instruments.rules import CASE_ID
from waarborg.verify.candidates import Context, candidates, input_candidates
from waarborg.verify.compare import Outputs, disagreeing, scored_outputs
from waarborg.verify.hypothesis import Candidate, Detail, Hypothesis, Setting
from waarborg.verify.parameters import with_values

MAX_FAULTS = 4
SAMPLE = 10_000
PAIRED = 3
"""How many of the best single candidates are also tried with each other one."""
LOOK_AHEAD = 3
"""How many first steps are tried with their best second step when none explains all."""


def diagnose(base: Hypothesis, setting: Setting, scored: pa.Table) -> dict[str, Any]:
    """The accepted faults, in order, and what remains unexplained.

    Returns ``{"faults": [...], "disagreeing_outputs": k, "unexplained_outputs": r,
    "unexplained_share": r / k}``; each fault is ``{fault, detail, detail_nl,
    explains_share, explains_outputs, fixed, broken, explains_cases, evidence,
    equivalent}``. ``explains_share`` is the fault's net gain as a share of the
    originally disagreeing (case, outcome) outputs; ``explains_cases`` the cases that
    newly agree on every outcome.
    """
    current = base
    original = remaining = wrong_outputs(scored, setting)
    total = int(original.sum())
    found: list[dict[str, Any]] = []
    while remaining.any() and len(found) < MAX_FAULTS:
        choice = _best(Context(current, scored, setting), remaining)
        if choice is None:
            break
        if not choice.complete and _bands_only(setting):
            choice = _look_ahead(current, setting, remaining, choice)
        best, equivalent = choice.best, choice.equivalent
        new_scored = best.hypothesis.score()
        now = wrong_outputs(new_scored, setting)
        fixed = int((remaining & ~now).sum())
        broken = int((~remaining & now).sum())
        if fixed - broken <= 0:
            break
        cases = int(remaining.any(axis=1).sum() - now.any(axis=1).sum())
        then = ("and then: ", "en daarna: ") if found else ("", "")
        found.append(
            {
                "fault": best.fault,
                "detail": then[0] + best.detail.en,
                "detail_nl": then[1] + best.detail.dutch,
                "explains_share": (fixed - broken) / total,
                "explains_outputs": fixed - broken,
                "fixed": fixed,
                "broken": broken,
                "explains_cases": cases,
                "evidence": best.evidence,
                "equivalent": equivalent,
            }
        )
        current, scored, remaining = best.hypothesis, new_scored, now
    left = int(remaining.sum())
    return {
        "faults": found,
        "disagreeing_outputs": total,
        "unexplained_outputs": left,
        "unexplained_share": left / total if total else 0.0,
    }


def wrong_outputs(scored: pa.Table, setting: Setting) -> np.ndarray:
    """Per case (rows) and outcome (columns): does ``scored`` disagree with the observed?"""
    mine = scored_outputs(scored, setting.columns)
    per_outcome = disagreeing(setting.columns, mine, setting.observed, setting.tolerance)
    return np.column_stack(list(per_outcome.values()))


def _best(ctx: Context, remaining: np.ndarray) -> Choice | None:
    """The candidate with the largest positive net gain, and those that give the same outputs.

    When no single candidate explains everything left, pairs of the best few that can be
    combined are tried too (two faults whose effects mix, like two items of a sum).
    """
    sample = _Sample.of(ctx.setting, remaining)
    tried: list[tuple[float, Candidate, np.ndarray]] = []

    def done() -> bool:
        return any(not still.any() for _, _, still in tried)

    for candidate in _all(ctx, done):
        _try(sample, candidate, tried)
    singles = list(tried)
    if singles and not done() and _bands_only(ctx.setting):
        for pair in _pairs(ctx.h, singles):
            _try(sample, pair, tried)
    tried = [t for t in tried if t[0] > 1e-9]
    if not tried:
        return None
    top = max(g for g, _, _ in tried)
    level = [(c, still) for g, c, still in tried if abs(g - top) <= 1e-9 * max(1.0, top)]
    fewest = min(c.changes for c, _ in level)
    best, best_still = next((c, s) for c, s in level if c.changes == fewest)
    same = [_name(c) for c, still in level if c is not best and np.array_equal(still, best_still)]
    ranked = [c for _, c, _ in sorted(tried, key=lambda item: -item[0])]
    return Choice(
        best,
        [s for s in dict.fromkeys(same) if s != _name(best)],
        not best_still.any(),
        top,
        [best, *(c for c in ranked if c is not best)][:LOOK_AHEAD],
    )


@dataclass(frozen=True)
class Choice:
    """A step's chosen candidate, those equivalent to it, and the runners-up."""

    best: Candidate
    equivalent: list[str]
    complete: bool
    """Whether it explains every remaining output."""
    gain: float
    firsts: list[Candidate]
    """The best few, the chosen first: the first steps a look-ahead tries."""


def _look_ahead(
    current: Hypothesis, setting: Setting, remaining: np.ndarray, choice: Choice
) -> Choice:
    """The first step whose best second step explains the most (two faults that mix).

    A candidate that explains less on its own may be the one that lets the next step
    explain the rest (a wrong item and a shifted cut-off, say); each of the best few
    first steps is tried with its best follow-up, and the pair of steps that explains
    most wins (on a tie, the original choice).
    """
    best_total, chosen = -np.inf, choice
    for first in choice.firsts:
        scored = first.hypothesis.score()
        now = wrong_outputs(scored, setting)
        gain = float((remaining & ~now).sum() - (~remaining & now).sum())
        if gain <= 0:
            continue
        follow = _best(Context(first.hypothesis, scored, setting), now) if now.any() else None
        total = gain + (follow.gain if follow is not None else 0.0)
        if total > best_total + 1e-9:
            best_total = total
            chosen = choice if first is choice.best else Choice(first, [], False, gain, [])
    return chosen


def _bands_only(setting: Setting) -> bool:
    """Whether no probability was exported: then faults mix in the bands and need pairs.

    With probabilities, each formula's parameters are recovered directly and one step at
    a time is enough; with bands only, two faults can hide each other.
    """
    return not setting.observed.probabilities


def _try(
    sample: _Sample, candidate: Candidate, tried: list[tuple[float, Candidate, np.ndarray]]
) -> None:
    """Score a candidate on the sample and keep its net gain."""
    try:
        still = wrong_outputs(sample.score(candidate.hypothesis), sample.setting)
    except WaarborgError:
        return
    tried.append((sample.gain(still), candidate, still))


def _pairs(h: Hypothesis, tried: list[tuple[float, Candidate, np.ndarray]]) -> Iterator[Candidate]:
    """Each of the best few spec-changing candidates with every other (changes combined)."""
    ranked = [c for _, c, _ in sorted(tried, key=lambda item: -item[0]) if c.edits]
    seen: set[tuple[int, int]] = set()
    for i, a in enumerate(ranked[:PAIRED]):
        for j, b in enumerate(ranked):
            if i == j or (min(i, j), max(i, j)) in seen:
                continue
            seen.add((min(i, j), max(i, j)))
            found = _combined(h, a, b)
            if found is not None:
                yield found


def _combined(h: Hypothesis, a: Candidate, b: Candidate) -> Candidate | None:
    """Two candidates' changes made together (``None`` when they clash)."""
    if set(a.edits or {}) & set(b.edits or {}):
        return None
    edits = (a.edits or {}) | (b.edits or {})
    try:
        spec = with_values(h.spec, edits)
    except WaarborgError:
        return None
    fault = a.fault if a.fault == b.fault else "parameters_wrong"
    detail = Detail(f"{a.detail.en}; and {b.detail.en}", f"{a.detail.nl}; en {b.detail.nl}")
    evidence = {"parameters": [_name(a), _name(b)], "each": [a.evidence, b.evidence]}
    return Candidate(fault, detail, replace(h, spec=spec), evidence, a.changes + b.changes, edits)


def _all(ctx: Context, done: Callable[[], bool]) -> Iterator[Candidate]:
    """The parameter candidates, then (unless one explains everything) the input faults."""
    yield from candidates(ctx)
    if not done():
        yield from input_candidates(ctx)


def _name(c: Candidate) -> str:
    e = c.evidence
    return str(e.get("parameter") or ", ".join(e.get("parameters", [])) or c.fault)


@dataclass(frozen=True)
class _Sample:
    """The cases the choice is made on: all of them, or a weighted sample of large data."""

    rows: np.ndarray | None
    """The sampled rows, or ``None`` for all."""
    setting: Setting
    remaining: np.ndarray
    weights: np.ndarray
    """Per sampled case, how many cases it stands for."""

    @classmethod
    def of(cls, setting: Setting, remaining: np.ndarray) -> _Sample:
        rng = np.random.default_rng(0)
        wrong = remaining.any(axis=1)
        parts, weights = [], np.ones(wrong.size)
        for mask in (wrong, ~wrong):
            where = np.flatnonzero(mask)
            take = rng.choice(where, SAMPLE, replace=False) if where.size > SAMPLE else where
            parts.append(take)
            weights[take] = where.size / take.size if take.size else 0.0
        rows = np.sort(np.concatenate(parts))
        if rows.size == wrong.size:
            return cls(None, setting, remaining, weights)
        return cls(rows, _take_setting(setting, rows), remaining[rows], weights[rows])

    def score(self, h: Hypothesis) -> pa.Table:
        """The hypothesis's outputs for the sampled cases."""
        return (h if self.rows is None else _take(h, self.rows)).score()

    def gain(self, still: np.ndarray) -> float:
        """Net agreeing (case, outcome) outputs a hypothesis adds, weighted back to all cases."""
        fixed = (self.remaining & ~still).sum(axis=1)
        broken = (~self.remaining & still).sum(axis=1)
        return float(np.sum((fixed - broken) * self.weights))


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
