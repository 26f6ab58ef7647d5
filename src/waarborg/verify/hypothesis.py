"""Hypotheses about a deployed implementation, and the spec edits that express them.

A hypothesis is the spec with one thing changed plus the inputs as the implementation
would see them. The helpers here make such changed specs from the frozen pydantic
models (``model_copy(update=...)``), so every candidate fault is an ordinary spec that
the engine scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from waarborg.instruments.encode import Encoded, Frame, encode
from waarborg.instruments.engine import (
    Instrument,
    probability_column,
    score,
    with_event_predictors,
)
from waarborg.instruments.spec import Band, InstrumentSpec, LinearFormula, Predictor
from waarborg.verify.compare import Outputs


@dataclass(frozen=True)
class Hypothesis:
    """A guess at what the deployed implementation does: a spec, and its inputs."""

    spec: InstrumentSpec
    cases: pa.Table
    events: pa.Table | None = None

    def score(self) -> pa.Table:
        """The outputs this hypothesis gives for the (matched) cases."""
        return score(Instrument(self.spec), self.cases, events=self.events)

    @cached_property
    def encoded(self) -> dict[str, Encoded]:
        """Each predictor as the model sees it (after the data rules, if any)."""
        cases = self.cases
        if self.events is not None:
            frame = Frame(cases, "<cases>")
            cases, _ = with_event_predictors(Instrument(self.spec), frame, self.events)
        frame = Frame(cases, "<cases>")
        return {p.name: encode(p, frame) for p in self.spec.predictors}


@dataclass(frozen=True)
class Setting:
    """What every hypothesis is compared against (fixed for one verification)."""

    columns: dict[str, list[str]]
    """Per outcome, the compared output columns."""
    observed: Outputs
    """The deployed system's outputs, in the order of the hypothesis's cases."""
    tolerance: float


class Detail(NamedTuple):
    """A fault described in English and in Dutch (numbers with a decimal comma).

    Examples
    --------
    >>> Detail("is 0.55", "is 0.55").dutch
    'is 0,55'
    """

    en: str
    nl: str

    @property
    def dutch(self) -> str:
        """The Dutch text with every decimal point between digits as a decimal comma."""
        return re.sub(r"(?<=\d)\.(?=\d)", ",", self.nl)


class Candidate(NamedTuple):
    """A candidate fault: its kind, its description, the hypothesis and its evidence.

    ``changes`` counts the parameters it changes: of two candidates that explain the
    same, the one with fewer changes is taken.
    """

    fault: str
    detail: Detail
    hypothesis: Hypothesis
    evidence: dict[str, Any]
    changes: int = 1
    edits: dict[tuple[Any, ...], Any] | None = None
    """The spec values it sets, by path (so two candidates can be combined)."""


def band_quantity_column(scored: pa.Table, band: Band, outcome: str) -> str:
    """The column of ``scored`` that a band cuts: the score or a probability."""
    name = (
        f"score_{outcome}"
        if band.quantity == "score"
        else probability_column(outcome, band.horizon)
    )
    return name if name in scored.column_names else probability_column(outcome, None)


def band_quantity(scored: pa.Table, band: Band, outcome: str) -> np.ndarray:
    """The quantity a band cuts, as floats (nan where unknown)."""
    column = scored.column(band_quantity_column(scored, band, outcome))
    return np.asarray(column.to_numpy(), dtype=float)


def variant_codes(scored: pa.Table, spec: InstrumentSpec) -> np.ndarray:
    """Each scored case's variant as a position in ``spec.model.all_variants``."""
    if "variant" not in scored.column_names:
        return np.zeros(scored.num_rows, dtype=np.int64)
    column = scored.column("variant").combine_chunks()
    order = np.array(
        [list(spec.model.all_variants).index(v) for v in column.dictionary.to_pylist()]
    )
    return order[column.indices.to_numpy(zero_copy_only=False)]


def with_model(spec: InstrumentSpec, **update: Any) -> InstrumentSpec:
    """The spec with fields of its model replaced."""
    return spec.model_copy(update={"model": spec.model.model_copy(update=update)})


def with_band(spec: InstrumentSpec, outcome: str, **update: Any) -> InstrumentSpec:
    """The spec with fields of one outcome's band replaced (e.g. ``cutoffs``)."""
    band = spec.bands[outcome].model_copy(update=update)
    return spec.model_copy(update={"bands": dict(spec.bands) | {outcome: band}})


def with_predictor(spec: InstrumentSpec, name: str, **update: Any) -> InstrumentSpec:
    """The spec with fields of one predictor replaced (e.g. ``transform``)."""
    predictors = [p.model_copy(update=update) if p.name == name else p for p in spec.predictors]
    return spec.model_copy(update={"predictors": predictors})


def without_predictor(spec: InstrumentSpec, name: str) -> InstrumentSpec:
    """The spec without one predictor (for a domain-sum item left out of the sum)."""
    predictors: list[Predictor] = [p for p in spec.predictors if p.name != name]
    return spec.model_copy(update={"predictors": predictors})


def with_rules(spec: InstrumentSpec, **update: Any) -> InstrumentSpec:
    """The spec with fields of its data rules replaced."""
    rules = spec.data_rules.model_copy(update=update) if spec.data_rules else None
    return spec.model_copy(update={"data_rules": rules})


def formula(spec: InstrumentSpec, variant: str, outcome: str) -> LinearFormula:
    """One variant's linear formula for an outcome."""
    found = spec.model.all_variants[variant].outcomes[outcome]
    if not isinstance(found, LinearFormula):
        raise TypeError(f"the formula of '{outcome}' is not a linear formula")
    return found


def weight_of(
    spec: InstrumentSpec, variant: str, outcome: str, name: str, level: str | None
) -> float:
    """A predictor's weight (a level's weight for a categorical predictor)."""
    weight = formula(spec, variant, outcome).weights[name]
    return float(weight[level] if isinstance(weight, dict) and level is not None else weight)  # type: ignore[arg-type]


def with_weight(
    spec: InstrumentSpec, variant: str, outcome: str, name: str, level: str | None, value: float
) -> InstrumentSpec:
    """The spec with one weight (or one level's weight) of one variant's formula replaced.

    Examples
    --------
    >>> from waarborg.instruments.engine import load_instrument
    >>> spec = load_instrument("generic-selection").spec
    >>> new = with_weight(spec, "default", "selection", "education_type", "mbo", 5)
    >>> weight_of(new, "default", "selection", "education_type", "mbo")
    5.0
    """
    model = spec.model
    old = formula(spec, variant, outcome)
    weight = old.weights[name]
    new_weight = (dict(weight) | {level: value}) if isinstance(weight, dict) else value
    new = old.model_copy(update={"weights": dict(old.weights) | {name: new_weight}})
    outcomes = dict(model.all_variants[variant].outcomes) | {outcome: new}
    if model.variants is None:
        return with_model(spec, outcomes=outcomes)
    changed = model.variants[variant].model_copy(update={"outcomes": outcomes})
    return with_model(spec, variants=dict(model.variants) | {variant: changed})


def fmt(values: list[float]) -> str:
    """Numbers as a short list for a description, e.g. ``[0.1, 0.2]``."""
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
