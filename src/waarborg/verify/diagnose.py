"""Diagnose disagreements: which simple implementation faults explain them.

Every candidate fault is a *hypothesis* about the deployed implementation: the spec
with one thing changed (variant formulas swapped, a weight off, a transform dropped, a
unit wrong, cut-offs moved), or the input treated differently (another field choosing
the variant, missing values filled, data rules skipped). Each hypothesis is scored with
the engine and compared with the observed outputs by the same rule as the verification
itself. The diagnosis is greedy: the hypothesis that reproduces the most disagreeing
cases (without breaking agreeing ones) is taken, then the next is sought on top of it,
so two faults together (the inspection found a swap *and* wrong numbers) are found as
two steps, each with the share of the disagreeing cases it explains.

A wrong weight is estimated, not guessed, for models that give probabilities: the
observed linear predictor is recovered through the inverse link and its difference from
the hypothesis's is regressed on the spec's terms (per variant), giving each term's
implied weight with a confidence interval. For points models the weights are searched
in whole points.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from scipy import stats as sps

from waarborg.errors import WaarborgError
from waarborg.instruments.encode import Frame, encode
from waarborg.instruments.engine import (
    Instrument,
    probability_column,
    score,
    with_event_predictors,
)
from waarborg.instruments.spec import (
    Bins,
    BinsBody,
    Cap,
    InstrumentSpec,
    Linear,
    LinearFormula,
    Log,
    Standardise,
)
from waarborg.verify.compare import Outputs, disagreeing

MAX_FAULTS = 3
UNIT_FACTORS = (10.0, 100.0, 1000.0, 0.1, 0.01, 0.001)
POINT_STEPS = (-3, -2, -1, 1, 2, 3)


@dataclass(frozen=True)
class Hypothesis:
    """A guess at what the deployed implementation does: a spec, and its inputs."""

    spec: InstrumentSpec
    cases: pa.Table
    events: pa.Table | None = None


@dataclass(frozen=True)
class Setting:
    """What the diagnosis compares against (fixed for all hypotheses)."""

    columns: dict[str, list[str]]
    observed: Outputs
    case_rows: np.ndarray
    tolerance: float
    id_column: str


class Detail(NamedTuple):
    """A fault described in English and in Dutch."""

    en: str
    nl: str


Candidate = tuple[str, Detail, Hypothesis]


def diagnose(base: Hypothesis, setting: Setting, scored: pa.Table) -> list[dict[str, Any]]:
    """Ranked faults ``{fault, detail, detail_nl, explains_share, explains_cases}``.

    Empty when no candidate reproduces any disagreeing case.

    ``scored`` is the base hypothesis's scoring of the matched cases (the reference).
    """
    current = base
    original = remaining = _wrong(scored, setting)
    total, explained = int(original.sum()), 0
    found: list[dict[str, Any]] = []
    while remaining.any() and len(found) < MAX_FAULTS:
        best = _best(current, scored, remaining, setting)
        if best is None:
            break
        (fault, detail, current), scored, remaining = best
        then = ("", "") if not found else ("and then: ", "en daarna: ")
        # credit each fault with the originally disagreeing cases it newly reproduces
        now = int((original & ~remaining).sum())
        found.append(
            {
                "fault": fault,
                "detail": then[0] + detail.en,
                "detail_nl": then[1] + detail.nl,
                "explains_share": (now - explained) / total,
                "explains_cases": now - explained,
            }
        )
        explained = now
    return found


def _best(
    current: Hypothesis, scored: pa.Table, remaining: np.ndarray, setting: Setting
) -> tuple[Candidate, pa.Table, np.ndarray] | None:
    """The candidate with the largest net gain in agreeing cases, first one on a tie."""
    best, best_gain = None, 0
    for candidate in _candidates(current, scored, setting):
        try:
            result = _reproduce(candidate[2], setting)
        except WaarborgError:
            continue
        still = _wrong(result, setting)
        gain = int((remaining & ~still).sum()) - int((~remaining & still).sum())
        if gain > best_gain:
            best, best_gain = (candidate, result, still), gain
    return best


def _reproduce(h: Hypothesis, setting: Setting) -> pa.Table:
    return score(Instrument(h.spec), h.cases, events=h.events).take(setting.case_rows)


def _wrong(scored: pa.Table, setting: Setting) -> np.ndarray:
    """Cases where any outcome disagrees with the observed outputs."""
    mine = outputs_of(scored, setting)
    per_outcome = disagreeing(setting.columns, mine, setting.observed, setting.tolerance)
    return np.logical_or.reduce(list(per_outcome.values()))


def outputs_of(scored: pa.Table, setting: Setting) -> Outputs:
    """The compared outputs of a scored table (bands as codes in the spec's order)."""
    bands, probabilities = {}, {}
    for outcome, names in setting.columns.items():
        for name in names:
            if name.startswith("band_"):
                column = scored.column(name).combine_chunks()
                codes = column.indices.to_numpy(zero_copy_only=False)
                codes = np.where(np.isnan(codes), -1, codes) if codes.dtype.kind == "f" else codes
                bands[outcome] = codes.astype(np.int64)
            else:
                probabilities[name] = np.asarray(scored.column(name).to_numpy(), dtype=float)
    return Outputs(bands, probabilities)


# --------------------------------------------------------------------------- candidates


def _candidates(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    """All simple faults, simplest kinds first."""
    yield from _variant_faults(h)
    yield from _cutoff_faults(h, scored, setting)
    yield from _transform_faults(h)
    yield from _missing_faults(h)
    yield from _rule_faults(h)
    yield from _weight_faults(h, scored, setting)


def _variant_faults(h: Hypothesis) -> Iterator[Candidate]:
    model = h.spec.model
    if not model.variant_field or model.variants is None:
        return
    names = list(model.variants)
    for a, b in itertools.combinations(names, 2):
        swapped = dict(model.variants) | {a: model.variants[b], b: model.variants[a]}
        spec = _with_model(h.spec, variants=swapped)
        detail = Detail(
            f"the formulas of '{a}' and '{b}' are swapped",
            f"de formules van '{a}' en '{b}' zijn verwisseld",
        )
        yield "variant_swapped", detail, replace(h, spec=spec)
    field = model.variant_field
    for column in h.cases.column_names:
        values = h.cases.column(column)
        if column == field or not _only_levels(values, set(names)):
            continue
        cases = h.cases.set_column(h.cases.column_names.index(field), field, values)
        detail = Detail(
            f"the variant is chosen by the field '{column}' instead of '{field}'",
            f"de variant wordt gekozen met het veld '{column}' in plaats van '{field}'",
        )
        yield "variant_wrong_field", detail, replace(h, cases=cases)


def _only_levels(values: pa.ChunkedArray, levels: set[str]) -> bool:
    """Whether a text column holds only (some of) the given levels."""
    if not (pa.types.is_string(values.type) or pa.types.is_dictionary(values.type)):
        return False
    present = set(values.cast(pa.string()).drop_null().unique().to_pylist())
    return bool(present) and present <= levels


def _cutoff_faults(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    for outcome in setting.columns:
        if outcome not in setting.observed.bands:
            continue
        band = h.spec.bands[outcome]
        quantity = _band_quantity(scored, band, outcome)
        observed = setting.observed.bands[outcome]
        estimates = []
        for i in range(len(band.cutoffs)):
            above = quantity[(observed > i) & np.isfinite(quantity)]
            below = quantity[(observed <= i) & (observed >= 0) & np.isfinite(quantity)]
            if not above.size or not below.size or above.min() <= below.max():
                break
            estimates.append(float(above.min()))
        complete = len(estimates) == len(band.cutoffs) and estimates != band.cutoffs
        if complete and all(b > a for a, b in itertools.pairwise(estimates)):
            spec = _with_band(h.spec, outcome, band.model_copy(update={"cutoffs": estimates}))
            detail = Detail(
                f"the cut-offs of '{outcome}' are {_fmt(estimates)}, not {_fmt(band.cutoffs)}",
                f"de grenzen van '{outcome}' zijn {_fmt(estimates)}, niet {_fmt(band.cutoffs)}",
            )
            yield "cutoffs_shifted", detail, replace(h, spec=spec)


def _band_quantity(scored: pa.Table, band: Any, outcome: str) -> np.ndarray:
    name = (
        f"score_{outcome}"
        if band.quantity == "score"
        else probability_column(outcome, band.horizon)
    )
    if name not in scored.column_names:
        name = probability_column(outcome, None)
    return np.asarray(scored.column(name).to_numpy(), dtype=float)


def _transform_faults(h: Hypothesis) -> Iterator[Candidate]:
    for p in h.spec.predictors:
        for i, step in enumerate(p.transform):
            for fault, detail, new in _step_variants(p.name, step):
                steps = [
                    *p.transform[:i],
                    *([new] if new is not None else []),
                    *p.transform[i + 1 :],
                ]
                spec = _with_predictor(h.spec, p.model_copy(update={"transform": steps}))
                yield fault, detail, replace(h, spec=spec)


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
            Detail(f"the cap on '{name}' is not applied", f"de bovengrens van '{name}' ontbreekt"),
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
        for factor in UNIT_FACTORS:
            scale = step.linear.get("scale", 1.0) * factor
            new = Linear(linear=dict(step.linear) | {"scale": scale})
            detail = Detail(
                f"'{name}' is entered in units {factor:g}× too small",
                f"'{name}' is ingevoerd in een eenheid die {factor:g}× te klein is",
            )
            yield "unit_error", detail, new
    if isinstance(step, Bins):
        for shift in (-1.0, 1.0):
            edges = [e + shift for e in step.bins.edges]
            new = Bins(bins=BinsBody(edges=edges, labels=step.bins.labels))
            detail = Detail(
                f"the bins of '{name}' are shifted by {shift:+g}",
                f"de klassen van '{name}' zijn {shift:+g} verschoven",
            )
            yield wrong, detail, new


def _missing_faults(h: Hypothesis) -> Iterator[Candidate]:
    for p in h.spec.predictors:
        if p.missing == "error" or p.name not in h.cases.column_names:
            continue
        column = h.cases.column(p.name)
        if not column.null_count:
            continue
        values: list[Any] = p.model_levels() if p.type == "categorical" else sorted(set(p.bounds))
        for value in values:
            filled = column.fill_null(pa.scalar(value).cast(column.type))
            cases = h.cases.set_column(h.cases.column_names.index(p.name), p.name, filled)
            detail = Detail(
                f"missing values of '{p.name}' are scored as {value!r} "
                f"(spec: {_policy(p.missing)})",
                f"ontbrekende waarden van '{p.name}' tellen als {value!r} "
                f"(specificatie: {_policy(p.missing)})",
            )
            yield "missing_policy_different", detail, replace(h, cases=cases)


def _policy(missing: Any) -> str:
    return missing if isinstance(missing, str) else f"level {missing.level!r}"


def _rule_faults(h: Hypothesis) -> Iterator[Candidate]:
    rules = h.spec.data_rules
    if h.events is None or rules is None:
        return
    if rules.exclude_dispositions:
        spec = h.spec.model_copy(
            update={"data_rules": rules.model_copy(update={"exclude_dispositions": []})}
        )
        detail = Detail(
            f"events with disposition {rules.exclude_dispositions} are counted",
            f"registraties met afdoening {rules.exclude_dispositions} tellen mee",
        )
        yield "data_rules_not_applied", detail, replace(h, spec=spec)
    if rules.lookback_years is not None:
        spec = h.spec.model_copy(
            update={"data_rules": rules.model_copy(update={"lookback_years": None})}
        )
        detail = Detail(
            f"events older than {rules.lookback_years:g} years are counted",
            f"registraties ouder dan {rules.lookback_years:g} jaar tellen mee",
        )
        yield "data_rules_not_applied", detail, replace(h, spec=spec)


# --------------------------------------------------------------------------- weights


def _weight_faults(h: Hypothesis, scored: pa.Table, setting: Setting) -> Iterator[Candidate]:
    kind = h.spec.model.kind
    if kind in ("logistic", "cox"):
        for estimate in implied_weights(h, scored, setting):
            if estimate["differs"]:
                yield _weight_candidate(h, estimate)
    elif kind == "points":
        yield from _point_search(h)


def implied_weights(h: Hypothesis, scored: pa.Table, setting: Setting) -> list[dict[str, Any]]:
    """Each term's weight implied by the observed probabilities, per variant and outcome.

    The observed linear predictor comes from the first observed probability column of
    the outcome through the inverse link; its difference from the hypothesis's linear
    predictor is regressed (least squares, with an intercept) on the terms.
    """
    out = []
    cases = h.cases
    if h.events is not None:
        cases, _ = with_event_predictors(Instrument(h.spec), Frame(cases, "<cases>"), h.events)
    frame = Frame(cases.take(setting.case_rows), "<cases>")
    encoded = {p.name: encode(p, frame) for p in h.spec.predictors}
    variants = _variant_of(scored, h.spec)
    for outcome, names in setting.columns.items():
        columns = [n for n in names if n.startswith("probability_")]
        if not columns:
            continue
        for v_index, (v_name, variant) in enumerate(h.spec.model.all_variants.items()):
            rows = variants == v_index
            lp_obs = _observed_lp(h.spec, v_name, outcome, columns[0], setting.observed, rows)
            lp_cur = np.asarray(scored.column(f"score_{outcome}").to_numpy(), dtype=float)[rows]
            terms = _terms(h.spec, encoded, variant.outcomes[outcome])  # type: ignore[arg-type]
            out += _regress(lp_obs - lp_cur, terms, rows, v_name, outcome, h.spec)
    return out


def _observed_lp(
    spec: InstrumentSpec,
    variant: str,
    outcome: str,
    column: str,
    observed: Outputs,
    rows: np.ndarray,
) -> np.ndarray:
    p = np.clip(observed.probabilities[column][rows], 1e-15, 1 - 1e-15)
    if spec.model.kind == "logistic":
        return np.log(p / (1 - p))
    formula = spec.model.all_variants[variant].outcomes[outcome]
    horizon = float(column.removeprefix(f"probability_{outcome}_").removesuffix("y"))
    s0 = formula.baseline_survival[horizon]
    return formula.centre + np.log(np.log1p(-p) / np.log(s0))


def _terms(
    spec: InstrumentSpec, encoded: dict[str, Any], formula: LinearFormula
) -> list[tuple[str, str | None, np.ndarray]]:
    """Regression columns: (predictor, level or None, values).

    Each categorical predictor leaves out its reference level (weight 0 in the
    formula), so an estimate is that level's weight relative to the reference.
    """
    out = []
    for p in spec.predictors:
        enc = encoded[p.name]
        if enc.codes is None:
            out.append((p.name, None, np.nan_to_num(enc.value)))
            continue
        weights = formula.weights[p.name]
        levels = p.model_levels()
        reference = next((lv for lv in levels if weights[lv] == 0), levels[0])  # type: ignore[index]
        for code, level in enumerate(levels):
            if level != reference:
                out.append((p.name, level, (enc.codes == code).astype(float)))
    return out


def _variant_of(scored: pa.Table, spec: InstrumentSpec) -> np.ndarray:
    if "variant" not in scored.column_names:
        return np.zeros(scored.num_rows, dtype=np.int64)
    names = list(spec.model.all_variants)
    return np.array([names.index(v) for v in scored.column("variant").to_pylist()])


def _regress(
    residual: np.ndarray,
    terms: list[tuple[str, str | None, np.ndarray]],
    rows: np.ndarray,
    variant: str,
    outcome: str,
    spec: InstrumentSpec,
) -> list[dict[str, Any]]:
    keep = np.isfinite(residual)
    x = np.column_stack([np.ones(keep.sum())] + [t[2][rows][keep] for t in terms])
    y = residual[keep]
    if y.size <= x.shape[1]:
        return []
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    sigma2 = float(np.sum((y - x @ beta) ** 2) / (y.size - x.shape[1]))
    cov = sigma2 * np.linalg.pinv(x.T @ x)
    se = np.sqrt(np.maximum(np.diag(cov), 0))
    z = sps.norm.isf(0.025)
    out = []
    for (name, level, _), delta, s in zip(terms, beta[1:], se[1:], strict=True):
        weight = spec.model.all_variants[variant].outcomes[outcome].weights[name]
        current = weight[level] if isinstance(weight, dict) else weight
        differs = abs(delta) > max(1e-6, 4 * s)
        out.append(
            {
                "variant": variant,
                "outcome": outcome,
                "predictor": name,
                "level": level,
                "spec": float(current),
                "estimate": float(current + delta),
                "ci": [float(current + delta - z * s), float(current + delta + z * s)],
                "differs": bool(differs),
            }
        )
    return out


def _weight_candidate(h: Hypothesis, e: dict[str, Any]) -> Candidate:
    value = float(f"{e['estimate']:.10g}")
    spec = _with_weight(h.spec, e["variant"], e["outcome"], e["predictor"], e["level"], value)
    where = f"'{e['predictor']}'" + (f" level '{e['level']}'" if e["level"] else "")
    ci = f"{e['ci'][0]:.4g} to {e['ci'][1]:.4g}"
    detail = Detail(
        f"the weight of {where} ({e['outcome']}, variant {e['variant']}) is {value:.4g} "
        f"(95% CI {ci}), not {e['spec']:.4g}",
        f"het gewicht van {where.replace(' level ', ' niveau ')} ({e['outcome']}, variant "
        f"{e['variant']}) is {value:.4g} (95%-BI {ci.replace(' to ', ' tot ')}), niet "
        f"{e['spec']:.4g}",
    )
    return "coefficient_wrong", detail, replace(h, spec=spec)


def _point_search(h: Hypothesis) -> Iterator[Candidate]:
    for variant, v in h.spec.model.all_variants.items():
        for outcome, formula in v.outcomes.items():
            for name, weight in formula.weights.items():  # type: ignore[union-attr]
                levels = list(weight) if isinstance(weight, dict) else [None]
                for level, step in itertools.product(levels, POINT_STEPS):
                    current = weight[level] if level is not None else weight
                    spec = _with_weight(h.spec, variant, outcome, name, level, current + step)
                    where = f"'{name}'" + (f" level '{level}'" if level else "")
                    detail = Detail(
                        f"the points of {where} are {current + step:g}, not {current:g}",
                        f"de punten van {where.replace(' level ', ' niveau ')} zijn "
                        f"{current + step:g}, niet {current:g}",
                    )
                    yield "coefficient_wrong", detail, replace(h, spec=spec)


# --------------------------------------------------------------------------- spec edits


def _with_model(spec: InstrumentSpec, **update: Any) -> InstrumentSpec:
    return spec.model_copy(update={"model": spec.model.model_copy(update=update)})


def _with_band(spec: InstrumentSpec, outcome: str, band: Any) -> InstrumentSpec:
    return spec.model_copy(update={"bands": dict(spec.bands) | {outcome: band}})


def _with_predictor(spec: InstrumentSpec, predictor: Any) -> InstrumentSpec:
    predictors = [predictor if p.name == predictor.name else p for p in spec.predictors]
    return spec.model_copy(update={"predictors": predictors})


def _with_weight(
    spec: InstrumentSpec, variant: str, outcome: str, name: str, level: str | None, value: float
) -> InstrumentSpec:
    model = spec.model
    formula: LinearFormula = model.all_variants[variant].outcomes[outcome]  # type: ignore[assignment]
    weight = formula.weights[name]
    new_weight = (dict(weight) | {level: value}) if isinstance(weight, dict) else value
    new_formula = formula.model_copy(update={"weights": dict(formula.weights) | {name: new_weight}})
    outcomes = dict(model.all_variants[variant].outcomes) | {outcome: new_formula}
    if model.variants is None:
        return _with_model(spec, outcomes=outcomes)
    new_variant = model.variants[variant].model_copy(update={"outcomes": outcomes})
    return _with_model(spec, variants=dict(model.variants) | {variant: new_variant})


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
