"""The candidate faults of one diagnosis step, each an ordinary changed spec or input.

Candidates come from recovering the deployed parameters (see :mod:`.recover`), not
from a fixed list: the variant rule, each cut-off, each transform number, each formula
parameter (weights of every level, intercept, centre, baseline survival per horizon),
then the same changes applied together where they were found in several formulas
("shared"), and the simple input faults that no parameter expresses (missing values
scored as a value, data rules skipped, a unit conversion before the transforms, a
transform step left out, a domain-sum item counted wrongly).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from waarborg.audit.result import estimate_text
from waarborg.errors import WaarborgError
from waarborg.instruments.encode import apply_steps
from waarborg.instruments.spec import Bins, Linear, LinearFormula, Predictor
from waarborg.report.i18n import fmt_number
from waarborg.verify.hypothesis import (
    Candidate,
    Detail,
    Hypothesis,
    Setting,
    band_quantity,
    formula,
    variant_codes,
    with_predictor,
    with_rules,
)
from waarborg.verify.parameters import Path, parameter_name, with_values
from waarborg.verify.recover import (
    EXPLAINED,
    Block,
    Recovered,
    TransformFit,
    blocks,
    fit_transform,
    recover_formula,
    transform_parameters,
)
from waarborg.verify.variants import variant_rule
from waarborg.verify.weights import band_recovered, item_candidates, score_cutoffs, simplest_in

UNIT_FACTORS = (10.0, 100.0, 1000.0, 0.1, 0.01, 0.001)
ENUMERATED = 25
"""Integer predictors with at most this many admissible values have each one tried."""
MIN_IMPROVEMENT = 0.5
"""A transform number is proposed when its fitted value removes this share of the misfit."""
QUIET = 1e-10
"""Largest recovered linear-predictor difference that counts as none."""


@dataclass
class Context:
    """One step's view: the current hypothesis, its scoring and what is left to explain."""

    h: Hypothesis
    scored: pa.Table
    setting: Setting

    @cached_property
    def codes(self) -> np.ndarray:
        """Each case's variant position under the current hypothesis."""
        return variant_codes(self.scored, self.h.spec)

    @cached_property
    def blocks(self) -> list[Block]:
        """Recovered linear-predictor differences per formula and probability column."""
        return blocks(self.h, self.scored, self.setting)

    @cached_property
    def _recovery(self) -> tuple[list[Recovered], bool]:
        groups: dict[tuple[str, str], list[Block]] = defaultdict(list)
        for b in self.blocks:
            groups[(b.variant, b.outcome)].append(b)
        found: list[Recovered] = []
        complete = True
        for parts in groups.values():
            if any(np.abs(b.difference).max(initial=0) > QUIET for b in parts):
                recovered, explained = recover_formula(self.h.spec, self.h.encoded, parts)
                found += recovered
                complete &= explained
        found += band_recovered(self.h, self.scored, self.setting)
        return [r for r in found if r.differs], complete

    @property
    def recovered(self) -> list[Recovered]:
        """The differing parameters of every formula (from probabilities, else bands)."""
        return self._recovery[0]

    @property
    def fully_recovered(self) -> bool:
        """Whether the recovered parameters explain every formula's difference exactly."""
        return self._recovery[1]

    @cached_property
    def band_blocks(self) -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per formula of a band-only outcome: rows, score, and the observed band's limits."""
        out = []
        spec = self.h.spec
        if spec.model.kind not in ("logistic", "cox", "points"):
            return out
        probabilities = {b.outcome for b in self.blocks}
        for outcome in self.setting.columns:
            if outcome in probabilities or outcome not in self.setting.observed.bands:
                continue
            score = np.asarray(self.scored.column(f"score_{outcome}").to_numpy(), dtype=float)
            observed = self.setting.observed.bands[outcome]
            for v_index, variant in enumerate(spec.model.all_variants):
                rows = np.flatnonzero(
                    (self.codes == v_index) & (observed >= 0) & np.isfinite(score)
                )
                cuts = np.concatenate([[-np.inf], score_cutoffs(spec, variant, outcome), [np.inf]])
                band = observed[rows]
                out.append((variant, outcome, rows, score[rows], cuts[band], cuts[band + 1]))
        return out


# --------------------------------------------------------------------------- all candidates


def candidates(ctx: Context) -> Iterator[Candidate]:
    """Candidates from recovered parameters; on an equal net gain the earlier (simpler) wins."""
    rule = variant_rule(ctx.h, ctx.setting) if ctx.h.spec.model.variant_field else None
    if rule is not None:
        yield rule
    yield from _cutoff_candidates(ctx)
    yield from _transform_candidates(ctx, _transform_fits(ctx))
    for r in ctx.recovered:
        found = _parameter_candidate(ctx.h, [r])
        if found is not None:
            yield found
    yield from _step_dropped(ctx.h)
    yield from _shared_candidates(ctx)
    yield from _missing_faults(ctx.h)
    if ctx.h.spec.model.kind == "domain_sum":
        yield from item_candidates(ctx.h)


def input_candidates(ctx: Context) -> Iterator[Candidate]:
    """Faults in how the inputs are read: data rules skipped, another unit."""
    yield from _rule_faults(ctx.h)
    for p in ctx.h.spec.predictors:
        plain = not any(isinstance(t, Linear) for t in p.transform)
        if p.type in ("numeric", "integer") and plain and ctx.h.spec.model.kind != "domain_sum":
            yield from _input_units(ctx.h, p)


# --------------------------------------------------------------------------- parameters


def _proposed(r: Recovered) -> float:
    """The roundest value in the interval (a half-open one from bands excludes its top)."""
    low, high = r.ci
    if r.method == "bands":
        return simplest_in(low, float(np.nextafter(high, -np.inf)))
    return simplest_in(low, high)


def _parameter_candidate(h: Hypothesis, found: list[Recovered]) -> Candidate | None:
    """One or more recovered parameters set to their proposed values, as a candidate."""
    changes = {r.path: _proposed(r) for r in found}
    try:
        spec = with_values(h.spec, changes)
    except WaarborgError:
        return None
    if len(found) == 1:
        r = found[0]
        detail = _describe(r, changes[r.path])
        evidence = r.to_dict() | {"estimate": changes[r.path], "fitted": r.estimate}
        return Candidate(_fault_kind(r.kind), detail, replace(h, spec=spec), evidence, 1, changes)
    parts = [_describe(r, changes[r.path]) for r in found]
    detail = Detail("; ".join(p.en for p in parts), "; ".join(p.nl for p in parts))
    evidence = {
        "parameters": [parameter_name(r.path) for r in found],
        "each": [r.to_dict() | {"estimate": changes[r.path]} for r in found],
    }
    kinds = {_fault_kind(r.kind) for r in found}
    fault = kinds.pop() if len(kinds) == 1 else "parameters_wrong"
    return Candidate(fault, detail, replace(h, spec=spec), evidence, len(found), changes)


def _fault_kind(kind: str) -> str:
    return {
        "weight": "coefficient_wrong",
        "intercept": "intercept_wrong",
        "centre": "centre_wrong",
        "baseline_survival": "baseline_survival_wrong",
    }[kind]


NAMES = {
    "intercept": ("the intercept", "de intercept"),
    "centre": ("the centre", "het centrum"),
    "baseline_survival": ("the baseline survival", "de basisoverleving"),
}


def _describe(r: Recovered, value: float) -> Detail:
    """A recovered parameter in words, with its interval and the spec's value."""
    where = f"{r.outcome}, variant {r.variant}"
    if r.kind == "weight":
        predictor = str(r.path[-1]) if r.path[-2] == "weights" else str(r.path[-2])
        level = None if r.path[-2] == "weights" else str(r.path[-1])
        en = f"the weight of '{predictor}'" + (f" level '{level}'" if level else "")
        nl = f"het gewicht van '{predictor}'" + (f" niveau '{level}'" if level else "")
    elif r.kind == "baseline_survival":
        horizon = f"{float(r.path[-1]):g}"
        en, nl = (
            f"the baseline survival at {horizon} years",
            f"de basisoverleving na {horizon} jaar",
        )
    else:
        en, nl = NAMES[r.kind]
    lo, hi = r.ci
    en_v, en_ci = estimate_text(value, lo, hi, "en", 3, sep=" to ")
    nl_v, nl_ci = estimate_text(value, lo, hi, "nl", 3, sep=" tot ")
    spec_en, spec_nl = (fmt_number(r.spec, lang, None) for lang in ("en", "nl"))
    if r.method == "bands":
        ci = (
            f"the observed bands fit any value from {en_ci.replace(' to ', ' to below ')}",
            f"de waargenomen categorieën passen bij elke waarde van {nl_ci}",
        )
    else:
        ci = (f"95% CI {en_ci}", f"95%-BI {nl_ci}")
    text = Detail(
        f"{en} ({where}) is {en_v} ({ci[0]}), not {spec_en}",
        f"{nl} ({where}) is {nl_v} ({ci[1]}), niet {spec_nl}",
    )
    if r.aliases:
        names = ", ".join(r.aliases)
        text = Detail(
            text.en + f"; not separately identifiable from {names} (only their sum differs)",
            text.nl + f"; niet apart te onderscheiden van {names} (alleen hun som wijkt af)",
        )
    elif r.kind == "centre":
        text = Detail(
            text.en + "; the same as log(-log S0(t)) shifted equally at every horizon",
            text.nl + "; hetzelfde als log(-log S0(t)) op elke termijn even ver verschoven",
        )
    if r.dropped_at_bounds:
        text = Detail(
            text.en + f" ({r.dropped_at_bounds} probabilities at 0 or 1 left out)",
            text.nl + f" ({r.dropped_at_bounds} kansen van 0 of 1 buiten beschouwing)",
        )
    return text


def _shared_candidates(ctx: Context) -> Iterator[Candidate]:
    """The same parameter changed in several formulas, and everything recovered together."""
    groups: dict[tuple, list[Recovered]] = defaultdict(list)
    for r in ctx.recovered:
        key = (r.kind, r.path[-2:] if r.kind == "weight" else r.path[-1:])
        groups[key].append(r)
    for found in groups.values():
        if len(found) > 1:
            candidate = _parameter_candidate(ctx.h, found)
            if candidate is not None:
                yield candidate
    if len(ctx.recovered) > 1 and len(groups) > 1:
        candidate = _parameter_candidate(ctx.h, ctx.recovered)
        if candidate is not None:
            yield candidate


# --------------------------------------------------------------------------- cut-offs


def cutoff_interval(
    quantity: np.ndarray, bands: np.ndarray, index: int
) -> tuple[float, float, int] | None:
    """The values of cut-off ``index`` that put the most cases on its right side.

    A case in band ``index`` or lower must lie under the cut-off, a case in a higher
    band at or above it. Returns the interval ``(low, high]`` of best values and how
    many cases are on the wrong side there.

    Examples
    --------
    >>> cutoff_interval(np.array([1.0, 3.0, 4.2, 7.0]), np.array([0, 0, 1, 2]), 0)
    (3.0, 4.2, 0)
    """
    known = np.isfinite(quantity) & (bands >= 0)
    q, above = quantity[known], bands[known] > index
    if not q.size:
        return None
    values, inverse = np.unique(q, return_inverse=True)
    n_above = np.bincount(inverse, weights=above, minlength=values.size)
    n_below = np.bincount(inverse, weights=~above, minlength=values.size)
    # cut-off in (values[k-1], values[k]]: below-cases at values >= values[k] are wrong,
    # above-cases at values < values[k] are wrong; k = len(values) puts it above all.
    wrong_below = np.concatenate([np.cumsum(n_below[::-1])[::-1], [0.0]])
    wrong_above = np.concatenate([[0.0], np.cumsum(n_above)])
    errors = wrong_below + wrong_above
    k = int(np.argmin(errors))
    last = k
    while last + 1 < errors.size and errors[last + 1] == errors[k]:
        last += 1
    low = float(values[k - 1]) if k > 0 else -math.inf
    high = float(values[last]) if last < values.size else math.inf
    return low, high, int(errors[k])


def _cutoff_candidates(ctx: Context) -> Iterator[Candidate]:
    h = ctx.h
    for outcome in ctx.setting.columns:
        if outcome not in ctx.setting.observed.bands:
            continue
        band = h.spec.bands[outcome]
        quantity = band_quantity(ctx.scored, band, outcome)
        observed = ctx.setting.observed.bands[outcome]
        for i, cutoff in enumerate(band.cutoffs):
            found = cutoff_interval(quantity, observed, i)
            if found is None:
                continue
            low, high, _ = found
            if low < cutoff <= high:
                continue
            # the value must keep the cut-offs in order (equal to the next one is not allowed)
            below = band.cutoffs[i - 1] if i > 0 else -math.inf
            above = band.cutoffs[i + 1] if i + 1 < len(band.cutoffs) else math.inf
            start = float(np.nextafter(max(low, below), np.inf))
            end = min(high, float(np.nextafter(above, -np.inf)))
            if not start <= end:
                continue
            value = simplest_in(start, end)
            path: Path = ("bands", outcome, "cutoffs", i)
            try:
                spec = with_values(h.spec, {path: value})
            except WaarborgError:
                continue
            yield Candidate(
                "cutoffs_shifted",
                Detail(
                    f"cut-off {i + 1} of '{outcome}' is {value:.6g}, not {cutoff:.6g} "
                    f"(the observed bands fit any value above {low:.6g} up to {high:.6g})",
                    f"grens {i + 1} van '{outcome}' is {value:.6g}, niet {cutoff:.6g} "
                    f"(de waargenomen categorieën passen bij elke waarde boven {low:.6g} "
                    f"tot en met {high:.6g})",
                ),
                replace(h, spec=spec),
                {
                    "parameter": parameter_name(path),
                    "outcome": outcome,
                    "spec": cutoff,
                    "estimate": value,
                    "ci": [low, high],
                },
                1,
                {path: value},
            )


# --------------------------------------------------------------------------- transforms


def _transform_fits(ctx: Context) -> list[TransformFit]:
    """Each transform number of each predictor fitted on all formulas at once."""
    if ctx.h.spec.model.kind not in ("logistic", "cox", "points"):
        return []
    if not ctx.blocks and not ctx.band_blocks:
        return []
    quiet = all(np.abs(b.difference).max(initial=0) <= QUIET for b in ctx.blocks)
    if ctx.blocks and quiet and not ctx.band_blocks:
        return []
    out = []
    for p in ctx.h.spec.predictors:
        params = transform_parameters(p)
        if not params or not _may_be_transform(ctx, p):
            continue
        enc = ctx.h.encoded[p.name]
        misfit = _misfit(ctx, p)
        for path, value in params:
            out.append(fit_transform(p, path, value, misfit, enc.raw))
    return out


def _may_be_transform(ctx: Context, p: Predictor) -> bool:
    """Whether a transform of ``p`` could be at fault.

    Not when the recovered formula parameters explain every formula's difference without
    a weight of ``p`` (nor an intercept or centre, which a shifted centre or mean of a
    number resembles).
    """
    if ctx.band_blocks or not ctx.fully_recovered:
        return True
    for r in ctx.recovered:
        if r.kind in ("intercept", "centre") and p.bins is None:
            return True
        if r.kind == "weight" and p.name in r.path[-2:]:
            return True
    return False


def _misfit(ctx: Context, p: Predictor) -> Misfit:
    """The loss of the outputs with predictor ``p`` changed: squares, else cases out of band."""
    spec = ctx.h.spec
    outcomes = {b.outcome for b in ctx.blocks} | {b[1] for b in ctx.band_blocks}
    formulas = {(v, o): formula(spec, v, o) for v in spec.model.all_variants for o in outcomes}
    masks = [np.ones(b.rows.size, dtype=bool) for b in ctx.blocks]
    return Misfit(ctx, p, formulas, masks)


@dataclass
class Misfit:
    """A transform's misfit on every formula (optionally on some cases only)."""

    ctx: Context
    p: Predictor
    formulas: dict[tuple[str, str], LinearFormula]
    masks: list[np.ndarray]

    def deltas(self, changed: Predictor) -> dict[tuple[str, str], np.ndarray]:
        """Per formula, the change of every case's linear predictor."""
        p, enc = self.p, self.ctx.h.encoded[self.p.name]
        with np.errstate(all="ignore"):
            value = apply_steps(changed.numeric_steps, enc.raw)
        bins = changed.bins
        out = {}
        if bins is None:
            for key, f in self.formulas.items():
                out[key] = float(f.weights[p.name]) * (value - enc.value)  # type: ignore[arg-type, operator]
            return out
        codes = np.searchsorted(np.asarray(bins.edges), value, side="right")
        codes = np.where(np.isnan(enc.raw), enc.codes, codes)  # type: ignore[arg-type]
        levels = p.model_levels()
        for key, f in self.formulas.items():
            table = np.array([f.weights[p.name][lv] for lv in levels])  # type: ignore[index]
            out[key] = table[codes] - table[enc.codes]  # type: ignore[index]
        return out

    def residuals(self, changed: Predictor) -> list[np.ndarray]:
        d = self.deltas(changed)
        return [b.difference - d[(b.variant, b.outcome)][b.rows] for b in self.ctx.blocks]

    def __call__(self, changed: Predictor) -> float:
        if self.ctx.blocks:
            total = sum(
                float(np.sum(r[m] ** 2))
                for r, m in zip(self.residuals(changed), self.masks, strict=True)
            )
        else:
            d = self.deltas(changed)
            total = 0.0
            for variant, outcome, rows, score, lower, upper in self.ctx.band_blocks:
                moved = score + d[(variant, outcome)][rows]
                total += float(np.sum(~((moved >= lower) & (moved < upper))))
        return total if np.isfinite(total) else math.inf

    def restrict(self, changed: Predictor) -> Misfit | None:
        """The misfit on the cases that ``changed`` explains within the noise."""
        if not self.ctx.blocks:
            return None
        residuals = self.residuals(changed)
        pooled = np.abs(np.concatenate(residuals))
        pooled = pooled[np.isfinite(pooled)]
        if not pooled.size:
            return None
        limit = max(3 * 1.4826 * float(np.median(pooled)), EXPLAINED)
        masks = [np.abs(r) <= limit for r in residuals]
        if sum(m.sum() for m in masks) < pooled.size / 2:
            return None
        return Misfit(self.ctx, self.p, self.formulas, masks)


def _transform_candidates(ctx: Context, fits: list[TransformFit]) -> Iterator[Candidate]:
    chosen = []
    for fit in fits:
        low, high = fit.ci
        inside = low < fit.spec <= high if "bins" in fit.path else low <= fit.spec <= high
        if inside or fit.improvement < (MIN_IMPROVEMENT if ctx.blocks else 1e-9):
            continue
        start = float(np.nextafter(low, np.inf)) if "bins" in fit.path else low
        value = simplest_in(start, high) if np.isfinite(start) else fit.estimate
        chosen.append((fit, value))
        candidate = _transform_candidate(ctx.h, [(fit, value)])
        if candidate is not None:
            yield candidate
    by_predictor: dict[str, list[tuple[TransformFit, float]]] = defaultdict(list)
    for fit, value in chosen:
        by_predictor[fit.predictor].append((fit, value))
    for found in by_predictor.values():
        if len(found) > 1:
            candidate = _transform_candidate(ctx.h, found)
            if candidate is not None:
                yield candidate


def _transform_candidate(
    h: Hypothesis, found: list[tuple[TransformFit, float]]
) -> Candidate | None:
    edits = {fit.path: value for fit, value in found}
    try:
        spec = with_values(h.spec, edits)
    except WaarborgError:
        return None
    texts, evidence = [], []
    fault = "transform_wrong"
    for fit, value in found:
        name = parameter_name(fit.path)
        what = ".".join(str(x) for x in fit.path[4:])
        low, high = fit.ci
        if fit.path[-1] == "scale" and _power_of_ten(value / fit.spec):
            fault = "unit_error"
        en_v, en_ci = estimate_text(value, low, high, "en", 3, sep=" to ")
        nl_v, nl_ci = estimate_text(value, low, high, "nl", 3, sep=" tot ")
        texts.append(
            (
                f"the transform of '{fit.predictor}' has {what} = {en_v}, not "
                f"{fmt_number(fit.spec, 'en', None)} (fits {en_ci})",
                f"de omzetting van '{fit.predictor}' heeft {what} = {nl_v}, niet "
                f"{fmt_number(fit.spec, 'nl', None)} (past bij {nl_ci})",
            )
        )
        evidence.append(
            {
                "parameter": name,
                "predictor": fit.predictor,
                "spec": fit.spec,
                "estimate": value,
                "fitted": fit.estimate,
                "ci": [low, high],
                "improvement": fit.improvement,
            }
        )
    detail = Detail("; ".join(t[0] for t in texts), "; ".join(t[1] for t in texts))
    if len(found) == 1:
        return Candidate(fault, detail, replace(h, spec=spec), evidence[0], 1, edits)
    both = {"parameters": [e["parameter"] for e in evidence], "each": evidence}
    return Candidate(fault, detail, replace(h, spec=spec), both, len(found), edits)


def _power_of_ten(ratio: float) -> bool:
    exponent = math.log10(abs(ratio)) if ratio else 0.0
    return round(exponent) != 0 and abs(exponent - round(exponent)) < 1e-9


# --------------------------------------------------------------------------- input faults


def _step_dropped(h: Hypothesis) -> Iterator[Candidate]:
    """A transform step (other than the bins) left out."""
    for p in h.spec.predictors:
        for i, step in enumerate(p.transform):
            if isinstance(step, Bins):
                continue
            kind = next(iter(step.model_dump()))
            steps = [*p.transform[:i], *p.transform[i + 1 :]]
            path = ("predictors", p.name, "transform", i)
            yield Candidate(
                "transform_wrong",
                Detail(
                    f"the {kind} step of '{p.name}' is left out",
                    f"de stap {kind} van '{p.name}' ontbreekt",
                ),
                replace(h, spec=with_predictor(h.spec, p.name, transform=steps)),
                {"parameter": parameter_name(path), "predictor": p.name, "step": kind},
            )


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
            {"parameter": f"predictors.{p.name}.unit", "predictor": p.name, "factor": factor},
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
                {
                    "parameter": f"predictors.{p.name}.missing",
                    "predictor": p.name,
                    "spec": policy,
                    "estimate": value,
                },
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
            {
                "parameter": "data_rules.exclude_dispositions",
                "rule": "exclude_dispositions",
                "spec": list(rules.exclude_dispositions),
            },
        )
    if rules.lookback_years is not None:
        yield Candidate(
            "data_rules_not_applied",
            Detail(
                f"events older than {rules.lookback_years:g} years are counted",
                f"registraties ouder dan {rules.lookback_years:g} jaar tellen mee",
            ),
            replace(h, spec=with_rules(h.spec, lookback_years=None)),
            {
                "parameter": "data_rules.lookback_years",
                "rule": "lookback_years",
                "spec": rules.lookback_years,
            },
        )
