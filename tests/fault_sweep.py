"""Every single-parameter fault of every bundled spec, and pairs of them (no tests here).

The faults are found by walking the raw YAML of each spec (not through waarborg's
models): each weight (reference levels included), intercept, centre, baseline survival
per horizon, each number of each transform, each bin edge, each cut-off, each
domain-sum item's direction and the variant rule. A fault is planted in a copy of the
raw spec (or, for the variant rule, in the field the deployed system reads), the copy
scores the cases as the "deployed" system, and :func:`judge` says whether the first
diagnosis names exactly the planted parameter with the planted value inside its
interval. ``tests/test_verify_sweep.py`` runs them; ``bench/verify_faults.py`` writes
the table in ``docs/verify.md``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tests.reference import raw_spec
from waarborg.instruments.engine import Instrument, output_columns, score
from waarborg.instruments.spec import parse_spec
from waarborg.synth import synthesize
from waarborg.verify import verify

N = 2000
SEED = 11


@dataclass(frozen=True)
class Fault:
    """A planted fault: the parameter's dotted path, its class, the planted value."""

    instrument: str
    parameter: str
    kind: str
    value: Any
    spec_edit: Callable[[dict[str, Any]], None] | None = None
    case_edit: Callable[[pa.Table], pa.Table] | None = None

    @property
    def id(self) -> str:
        return f"{self.instrument}:{self.parameter}={self.value}"


@dataclass
class Verdict:
    found: bool
    named: list[str] = field(default_factory=list)
    why: str = ""


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        node: Any = spec
        for part in path[:-1]:
            if isinstance(node, list) and isinstance(part, str):
                node = next(item for item in node if item.get("name") == part)
            else:
                node = node[part]
        node[path[-1]] = value

    return edit


def _name(path: list[Any]) -> str:
    return ".".join(f"{p:g}" if isinstance(p, float) else str(p) for p in path)


def single_faults(instrument: str) -> list[Fault]:
    """Every parameter of the raw spec, each with a planted value."""
    spec = raw_spec(instrument)
    kind = spec["model"]["kind"]
    out = list(_formula_faults(instrument, spec)) if kind != "domain_sum" else []
    out += _transform_faults(instrument, spec)
    out += _cutoff_faults(instrument, spec)
    if kind == "domain_sum":
        for p in spec["predictors"]:
            flipped = "protective" if p["direction"] == "risk" else "risk"
            path = ["predictors", p["name"], "direction"]
            out.append(Fault(instrument, _name(path), "direction", flipped, _set(path, flipped)))
    out += _variant_faults(instrument, spec)
    return out


def _formulas(spec: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    model = spec["model"]
    if "variants" in model:
        for v, body in model["variants"].items():
            for o, f in body["outcomes"].items():
                yield ["model", "variants", v, "outcomes", o], f
    else:
        for o, f in model["outcomes"].items():
            yield ["model", "outcomes", o], f


def _formula_faults(instrument: str, spec: dict[str, Any]) -> Iterator[Fault]:
    kind = spec["model"]["kind"]
    step = 1.0 if kind == "points" else 0.3
    for base, f in _formulas(spec):
        if kind in ("logistic", "points"):
            value = f.get("intercept", 0.0) + step
            yield Fault(
                instrument,
                _name([*base, "intercept"]),
                "intercept",
                value,
                _set([*base, "intercept"], value),
            )
        if kind == "cox":
            value = f["centre"] + step
            yield Fault(
                instrument,
                _name([*base, "centre"]),
                "centre",
                value,
                _set([*base, "centre"], value),
            )
            for h, s0 in f["baseline_survival"].items():
                value = round(s0 - 0.03, 4)
                path = [*base, "baseline_survival", h]
                yield Fault(instrument, _name(path), "baseline survival", value, _set(path, value))
        for predictor, weight in f["weights"].items():
            if isinstance(weight, dict):
                for level, w in weight.items():
                    path = [*base, "weights", predictor, level]
                    kind_name = "reference level" if w == 0 else "level weight"
                    yield Fault(instrument, _name(path), kind_name, w + step, _set(path, w + step))
            else:
                path = [*base, "weights", predictor]
                yield Fault(
                    instrument, _name(path), "weight", weight + step, _set(path, weight + step)
                )


def _transform_faults(instrument: str, spec: dict[str, Any]) -> list[Fault]:
    out = []
    for p in spec["predictors"]:
        for i, step in enumerate(p.get("transform", [])):
            ((kind, body),) = step.items()
            base = ["predictors", p["name"], "transform", i, kind]
            if kind == "bins":
                edges = body["edges"]
                for k, e in enumerate(edges):
                    path = [*base, "edges", k]
                    out.append(
                        Fault(
                            instrument,
                            _name(path),
                            "bin edge",
                            e + 1,
                            _set_edge(p["name"], i, k, e + 1),
                        )
                    )
                continue
            for key, value in body.items():
                new = {
                    "cap": value / 4,
                    "centre": value + 5,
                    "mean": value + 1,
                    "sd": value * 1.5,
                    "scale": value * 1.5,
                    "offset": value + 1,
                }[key if key != "upper" and key != "lower" else "cap"]
                path = [*base, key]
                out.append(Fault(instrument, _name(path), f"transform {key}", new, _set(path, new)))
    return out


def _set_edge(predictor: str, step: int, k: int, value: float) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        pred = next(p for p in spec["predictors"] if p["name"] == predictor)
        pred["transform"][step]["bins"]["edges"][k] = value

    return edit


def _cutoff_faults(instrument: str, spec: dict[str, Any]) -> list[Fault]:
    out = []
    for outcome, band in spec["bands"].items():
        c = band["cutoffs"]
        for i, value in enumerate(c):
            gap = c[i + 1] - value if i + 1 < len(c) else value - c[i - 1] if i else 1.0
            new = round(value + gap / 2, 6)
            path = ["bands", outcome, "cutoffs", i]

            def edit(
                s: dict[str, Any], outcome: str = outcome, i: int = i, new: float = new
            ) -> None:
                s["bands"][outcome]["cutoffs"][i] = new

            out.append(Fault(instrument, _name(path), "cut-off", new, edit))
    return out


def _variant_faults(instrument: str, spec: dict[str, Any]) -> list[Fault]:
    field_name = spec["model"].get("variant_field")
    if not field_name:
        return []
    names = list(spec["model"]["variants"])
    swap = {names[0]: names[1], names[1]: names[0]}
    by_sex = {"male": names[0], "female": names[1]}
    return [
        Fault(
            instrument,
            "model.variant_field",
            "variant rule",
            {"population": swap},
            case_edit=_map_field(field_name, field_name, swap),
        ),
        Fault(
            instrument,
            "model.variant_field",
            "variant rule",
            {"sex": by_sex},
            case_edit=_map_field(field_name, "sex", by_sex),
        ),
    ]


def _map_field(target: str, source: str, mapping: dict[str, str]) -> Callable[[pa.Table], pa.Table]:
    def edit(cases: pa.Table) -> pa.Table:
        values = [mapping[str(v)] for v in cases.column(source).to_pylist()]
        return cases.set_column(cases.column_names.index(target), target, pa.array(values))

    return edit


def pair_faults() -> list[tuple[Fault, Fault]]:
    """At least ten pairs across different formulas and kinds."""

    def pick(instrument: str, parameter: str, value: Any = None) -> Fault:
        return next(
            f
            for f in single_faults(instrument)
            if f.parameter == parameter and (value is None or f.value == value)
        )

    pv, pa_ = "model.variants.prisoner.outcomes.violent", "model.variants.probationer.outcomes.any"
    ox = "oxrec-style"
    ps = "preselect-style"
    gs = "generic-selection"
    rx = "ritax-style"
    pr = "model.outcomes.reoffending"
    sel = "model.outcomes.selection"
    return [
        (pick(ox, f"{pv}.weights.income.low"), pick(ox, f"{pa_}.weights.employed")),
        (pick(ox, f"{pv}.centre"), pick(ox, "bands.any.cutoffs.0")),
        (pick(ox, f"{pa_}.baseline_survival.1"), pick(ox, f"{pv}.weights.sex.female")),
        (
            pick(ox, "predictors.prior_custody.transform.0.cap.upper"),
            pick(ox, f"{pa_}.weights.age"),
        ),
        (pick(ox, "model.variant_field"), pick(ox, f"{pv}.weights.income.low")),
        (
            pick(ox, "predictors.neighbourhood_deprivation.transform.0.standardise.sd"),
            pick(ox, "bands.violent.cutoffs.1"),
        ),
        (
            pick(ps, f"{pr}.intercept"),
            pick(ps, "predictors.housemate_suspect_registrations.transform.0.cap.upper"),
        ),
        (
            pick(ps, "predictors.age_at_first_registration.transform.0.bins.edges.0"),
            pick(ps, f"{pr}.weights.offence.violence"),
        ),
        (
            pick(ps, "predictors.prior_suspect_registrations.transform.0.log.offset"),
            pick(ps, "bands.reoffending.cutoffs.1"),
        ),
        (pick(gs, f"{sel}.weights.education_type.mbo"), pick(gs, "bands.selection.cutoffs.3")),
        (
            pick(gs, "predictors.age.transform.0.bins.edges.1"),
            pick(gs, f"{sel}.weights.distance_to_parents_km.under_1km"),
        ),
        (pick(rx, "predictors.family_risk.direction"), pick(rx, "bands.profile.cutoffs.0")),
        (
            pick(rx, "predictors.school_work_protective.direction"),
            pick(rx, "predictors.aggression_risk.direction"),
        ),
    ]


# --------------------------------------------------------------------------- running


_CASES: dict[str, pa.Table] = {}


def cases_for(instrument: str) -> pa.Table:
    if instrument not in _CASES:
        _CASES[instrument] = synthesize(instrument, N, seed=SEED)
    return _CASES[instrument]


def deployed_outputs(faults: tuple[Fault, ...]) -> tuple[pa.Table, pa.Table]:
    """The cases and the outputs of a copy of the spec with the faults planted."""
    instrument = faults[0].instrument
    spec = copy.deepcopy(raw_spec(instrument))
    cases = cases_for(instrument)
    as_read = cases
    for f in faults:
        if f.spec_edit is not None:
            f.spec_edit(spec)
        if f.case_edit is not None:
            as_read = f.case_edit(as_read)
    scored = score(Instrument(parse_spec(spec)), as_read)
    return cases, scored.select(["case_id", *output_columns(scored)])


def _matches(fault: Fault, entry: dict[str, Any]) -> bool:
    """Whether a diagnosis entry names the fault's parameter with its value in the interval."""
    evidence = entry["evidence"]
    parts = evidence.get("each") or [evidence]
    for e in parts:
        names = [e.get("parameter"), *list(entry.get("equivalent", []))]
        if fault.parameter not in names:
            continue
        if fault.kind == "variant rule":
            ((field_name, mapping),) = fault.value.items()
            return e.get("estimate") == field_name and e.get("mapping", {}) == mapping
        if fault.kind == "direction":
            return e.get("estimate") == fault.value
        ci = e.get("ci")
        if e.get("parameter") != fault.parameter:
            return True  # named as an equivalent parameter: the data cannot tell them apart
        return ci is not None and ci[0] - 1e-9 <= fault.value <= ci[1] + 1e-9
    return False


def judge(faults: tuple[Fault, ...]) -> Verdict:
    """Verify the planted faults' outputs; found when the diagnosis names each one."""
    cases, observed = deployed_outputs(faults)
    result = verify(faults[0].instrument, cases, observed)
    diagnosis = result["diagnosis"]
    named = [
        str(d["evidence"].get("parameter") or d["evidence"].get("parameters")) for d in diagnosis
    ]
    if result.agrees:
        return Verdict(False, named, "no disagreement: the fault does not change any output")
    if len(faults) == 1:
        ok = bool(diagnosis) and _matches(faults[0], diagnosis[0])
    else:
        ok = all(any(_matches(f, d) for d in diagnosis) for f in faults)
    return Verdict(ok, named, "" if ok else f"diagnosis: {named}")
