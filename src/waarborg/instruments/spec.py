"""The declarative instrument specification: pydantic models of the YAML format.

A specification says everything needed to score a case and nothing is left to the
implementation: predictors with their admissible values and transforms, the model and
its parameters per population variant, the bands, the missing-value policies and the
data rules. :func:`load_spec` reads a YAML file and reports a malformed one with the file
and the YAML path of the fault, e.g. ``oxrec.yaml: model.variants.prisoner.outcomes.violent:
no weight for predictor 'income'``.

Example
-------
>>> spec = load_spec(catalog_path("generic-selection"))
>>> spec.id, [b.labels for b in spec.bands.values()][0][:2]
('generic-selection', ['1', '2'])
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from waarborg.areas.criteria import Goal
from waarborg.areas.spec import AreaRules
from waarborg.errors import SpecError, describe_validation
from waarborg.i18n import Message

CATALOG_DIR = Path(__file__).parent / "catalog"


class _Strict(BaseModel):
    """Base for every spec model: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- provenance


class Source(_Strict):
    """A public source for the instrument's structure or parameters."""

    citation: str
    url: str | None = None


class Provenance(_Strict):
    """Where the instrument comes from and how trustworthy its numbers are."""

    sources: list[Source] = Field(min_length=1)
    parameters: Literal["published", "illustrative", "estimated"]
    notes: str = ""


# --------------------------------------------------------------------------- predictors


class Cap(_Strict):
    """Clip a numeric value into ``[lower, upper]`` (either end optional)."""

    cap: dict[Literal["lower", "upper"], float]


class Standardise(_Strict):
    """``(x - mean) / sd``, e.g. a neighbourhood deprivation decile turned into a z-score."""

    standardise: dict[Literal["mean", "sd"], float]

    @model_validator(mode="after")
    def _complete(self) -> Standardise:
        if set(self.standardise) != {"mean", "sd"} or self.standardise["sd"] <= 0:
            raise ValueError("standardise needs 'mean' and a positive 'sd'")
        return self


class Linear(_Strict):
    """``(x - centre) / scale``: a unit change or a centring."""

    linear: dict[Literal["centre", "scale"], float]

    @model_validator(mode="after")
    def _scale(self) -> Linear:
        if self.linear.get("scale", 1.0) == 0:
            raise ValueError("linear scale must not be 0")
        return self


class Log(_Strict):
    """``ln(x + offset)``; the range must keep ``x + offset`` positive."""

    log: dict[Literal["offset"], float]


class Bins(_Strict):
    """Turn a number into a level: ``edges`` e0<e1<…, labels for ``(-inf,e0)``, ``[e0,e1)``, …

    A value equal to an edge belongs to the bin above it.
    """

    bins: BinsBody


class BinsBody(_Strict):
    edges: list[float] = Field(min_length=1)
    labels: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> BinsBody:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"bin edges must be strictly increasing, got {self.edges}")
        if len(self.labels) != len(self.edges) + 1:
            raise ValueError(
                f"{len(self.edges)} edges make {len(self.edges) + 1} bins "
                f"but {len(self.labels)} labels are given"
            )
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("bin labels must be unique")
        return self


Bins.model_rebuild()
NumericStep = Cap | Standardise | Linear | Log
Transform = Cap | Standardise | Linear | Log | Bins


class MissingLevel(_Strict):
    """Score a missing value as this explicit level (which then needs its own weight)."""

    level: str


MissingPolicy = Literal["error", "range"] | MissingLevel


class Predictor(_Strict):
    """One input of the instrument.

    ``type`` is ``numeric``, ``integer``, ``boolean`` or ``categorical``. Numbers need a
    ``range`` (inclusive); categoricals need ``levels``. ``transform`` is a list of numeric
    steps (cap, standardise, linear, log), optionally ending in ``bins``, which makes the
    predictor categorical for the model. ``missing`` is the policy for an empty value:
    ``error`` (default), ``range`` (score all admissible values and report the lowest and
    highest band) or ``{level: NAME}``.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: str = ""
    title_nl: str | None = Field(None, description="The title in Dutch.")
    type: Literal["numeric", "integer", "boolean", "categorical"]
    unit: str | None = None
    unit_nl: str | None = Field(None, description="The unit in Dutch.")
    description: str = ""
    range: tuple[float, float] | None = None
    levels: list[str] | None = None
    transform: list[Transform] = Field(default_factory=list)
    missing: MissingPolicy = "error"
    domain: str | None = None
    direction: Literal["risk", "protective"] | None = None
    level_titles: dict[str, str] = Field(
        default_factory=dict, description="English titles of levels, by level code."
    )
    level_titles_nl: dict[str, str] = Field(
        default_factory=dict, description="Dutch titles of levels, by level code."
    )

    @model_validator(mode="after")
    def _admissible(self) -> Predictor:
        if self.type == "categorical":
            if not self.levels:
                raise ValueError(f"categorical predictor '{self.name}' needs 'levels'")
            if self.range is not None or self.transform:
                raise ValueError(f"categorical predictor '{self.name}' takes no range/transform")
        elif self.type == "boolean":
            if self.levels or self.range or self.transform:
                raise ValueError(f"boolean predictor '{self.name}' takes no levels/range/transform")
        else:
            if self.range is None or self.range[0] > self.range[1]:
                raise ValueError(f"numeric predictor '{self.name}' needs a range [low, high]")
            if self.levels:
                raise ValueError(f"numeric predictor '{self.name}' takes no levels (use bins)")
            if any(isinstance(t, Bins) for t in self.transform[:-1]):
                raise ValueError(f"predictor '{self.name}': bins must be the last transform")
        missing = self.missing
        if isinstance(missing, MissingLevel):
            if not self.is_categorical:
                raise ValueError(
                    f"predictor '{self.name}': a missing level needs levels or bins to join"
                )
            if self.type == "categorical" and missing.level not in (self.levels or []):
                raise ValueError(
                    f"predictor '{self.name}': missing level '{missing.level}' is not one of "
                    f"{self.levels}"
                )
        for field in ("level_titles", "level_titles_nl"):
            unknown = sorted(set(getattr(self, field)) - set(self.model_levels()))
            if unknown:
                raise ValueError(
                    f"predictor '{self.name}': {field} names unknown levels {unknown} "
                    f"(levels: {self.model_levels()})"
                )
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The inclusive admissible range of a number (a boolean is 0 or 1)."""
        return (0.0, 1.0) if self.type == "boolean" else self.range or (math.nan, math.nan)

    @property
    def bins(self) -> BinsBody | None:
        """The final binning step, if any."""
        last = self.transform[-1] if self.transform else None
        return last.bins if isinstance(last, Bins) else None

    @property
    def numeric_steps(self) -> list[NumericStep]:
        """The transforms before any binning."""
        return [t for t in self.transform if not isinstance(t, Bins)]

    @property
    def is_categorical(self) -> bool:
        """Whether the model sees a level (categorical or binned) rather than a number.

        A boolean is a number, 0 or 1, with one weight (for ``true``).
        """
        return self.type == "categorical" or self.bins is not None

    def model_levels(self) -> list[str]:
        """The levels the model weighs (none for a number).

        Declared levels; or bin labels followed by the missing level, if the missing
        policy names one that is not a bin.
        """
        if self.type == "categorical":
            return list(self.levels or [])
        if self.bins is None:
            return []
        extra = self.missing.level if isinstance(self.missing, MissingLevel) else None
        return list(self.bins.labels) + ([extra] if extra and extra not in self.bins.labels else [])


# --------------------------------------------------------------------------- outcomes, bands


class Outcome(_Strict):
    """What the instrument predicts, e.g. violent reoffending, at which horizons (years)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: str = ""
    title_nl: str | None = Field(None, description="The title in Dutch.")
    horizons: list[float] = Field(default_factory=list)


class Band(_Strict):
    """Ordered cut-offs on one quantity, with a label per band.

    ``quantity`` is ``probability`` (then ``horizon`` names which) or ``score`` (the linear
    predictor, the points total or the profile sum). A value equal to a cut-off falls in
    the higher band. ``selected`` names the bands that lead to selection (a check, an
    intervention); by default the highest band.
    """

    quantity: Literal["probability", "score"]
    horizon: float | None = None
    cutoffs: list[float]
    labels: list[str]
    selected: list[str] | None = None
    label_titles: dict[str, str] = Field(
        default_factory=dict, description="English titles of band labels, by label."
    )
    label_titles_nl: dict[str, str] = Field(
        default_factory=dict, description="Dutch titles of band labels, by label."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if any(b <= a for a, b in zip(self.cutoffs, self.cutoffs[1:], strict=False)):
            raise ValueError(f"cut-offs must be strictly increasing, got {self.cutoffs}")
        if len(self.labels) != len(self.cutoffs) + 1:
            raise ValueError(
                f"{len(self.cutoffs)} cut-offs make {len(self.cutoffs) + 1} bands "
                f"but {len(self.labels)} labels are given"
            )
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("band labels must be unique")
        if self.selected is not None and not set(self.selected) <= set(self.labels):
            raise ValueError(f"selected bands {self.selected} must be among {self.labels}")
        for field in ("label_titles", "label_titles_nl"):
            unknown = sorted(set(getattr(self, field)) - set(self.labels))
            if unknown:
                raise ValueError(f"{field} names unknown labels {unknown} (labels: {self.labels})")
        return self

    @property
    def selected_labels(self) -> list[str]:
        """The bands that count as selected (high risk): as declared, else the highest."""
        return list(self.selected) if self.selected else self.labels[-1:]


# --------------------------------------------------------------------------- models

Weight = float | dict[str, float]


class LinearFormula(_Strict):
    """One outcome's formula in a linear model: weights per predictor, and the link's parameters.

    A numeric predictor has one weight (per transformed unit); a categorical one has a
    weight for every level, the reference level included (weight 0), so that nothing is
    implied. ``intercept`` is used by logistic models, ``centre`` and
    ``baseline_survival`` (per horizon) by Cox models.
    """

    weights: dict[str, Weight]
    intercept: float = 0.0
    centre: float = 0.0
    baseline_survival: dict[float, float] = Field(default_factory=dict)


class Condition(_Strict):
    """A comparison in a tree rule. Give exactly one operator."""

    eq: float | str | bool | None = None
    isin: list[float | str] | None = Field(default=None, alias="in")
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Condition:
        given = [k for k in ("eq", "isin", "lt", "le", "gt", "ge") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a condition takes exactly one of eq/in/lt/le/gt/ge, got {given}")
        return self


class Rule(_Strict):
    """``when`` all conditions hold (an empty ``when`` always holds), the case gets ``band``."""

    when: dict[str, Condition] = Field(default_factory=dict)
    band: str
    probability: float | None = Field(default=None, ge=0, le=1)


class TreeFormula(_Strict):
    """One outcome's ordered rules: the first that holds decides; the last has ``when: {}``."""

    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _total(self) -> TreeFormula:
        if self.rules[-1].when:
            raise ValueError("the last rule must have an empty 'when' so every case gets a band")
        return self


class Domain(_Strict):
    """A life domain of a structured professional-judgement profile."""

    name: str
    title: str = ""
    title_nl: str | None = Field(None, description="The title in Dutch.")
    levels: Band | None = None


class Variant(_Strict):
    """The formulas of one population variant, one per outcome."""

    outcomes: dict[str, LinearFormula | TreeFormula]


class Model(_Strict):
    """The model: its kind, and its formulas per population variant.

    With one population, write ``outcomes:`` directly; it becomes the variant ``default``.
    With several, ``variant_field`` names the case field that chooses, and every value
    of that field must have a variant: a case with any other value is an error.
    """

    kind: Literal["logistic", "cox", "points", "tree", "domain_sum", "poisson"]
    outcomes: dict[str, LinearFormula | TreeFormula] | None = None
    variant_field: str | None = None
    variants: dict[str, Variant] | None = None
    domains: list[Domain] = Field(default_factory=list)

    @model_validator(mode="after")
    def _variants(self) -> Model:
        if self.outcomes is not None and self.variants is not None:
            raise ValueError("give either 'outcomes' or 'variants', not both")
        if self.outcomes is None and self.variants is None and self.kind != "domain_sum":
            raise ValueError("the model needs 'outcomes' or 'variants'")
        if self.variants is not None and len(self.variants) > 1 and not self.variant_field:
            raise ValueError("several variants need a 'variant_field' that chooses between them")
        if self.variant_field and len(self.variants or {}) < 2:
            raise ValueError("'variant_field' is given but there are not several variants")
        return self

    @property
    def all_variants(self) -> dict[str, Variant]:
        """The formulas per variant; a model with plain ``outcomes`` has one, ``default``."""
        if self.variants is not None:
            return self.variants
        return {"default": Variant(outcomes=self.outcomes or {})}


# --------------------------------------------------------------------------- data rules


class EventRules(_Strict):
    """Rules for event records (e.g. police registrations), applied before scoring.

    Events are joined to cases by ``case_id``. An event is dropped when its
    ``disposition_field`` is in ``exclude_dispositions`` (acquittals, dismissals as wrongly
    suspected never count) or when it is more than ``lookback_years`` before the case's
    ``reference_date_field`` (or after it). The remaining events are counted into the
    predictors named in ``derive``. The rules apply in that order (disposition, after the
    reference date, lookback), and each removed event is reported under the first rule
    that removes it.
    """

    date_field: str
    disposition_field: str
    exclude_dispositions: list[str] = Field(default_factory=list)
    lookback_years: float | None = Field(default=None, gt=0)
    reference_date_field: str
    derive: dict[str, Derivation]


class Derivation(_Strict):
    """How a predictor is computed from a case's remaining events.

    ``kind: count`` is the number of events whose fields equal ``where`` (``{}`` counts
    all); ``kind: age_at_first`` is the case's age in whole years at its first such
    event, from the case field ``birth_date_field``. ``default`` applies to a case with
    no such event (``null`` makes it a missing value, handled by the predictor's policy).
    """

    kind: Literal["count", "age_at_first"]
    where: dict[str, str] = Field(default_factory=dict)
    birth_date_field: str | None = None
    default: float | None = 0.0

    @model_validator(mode="after")
    def _birth_date(self) -> Derivation:
        if (self.kind == "age_at_first") != (self.birth_date_field is not None):
            raise ValueError("'birth_date_field' is needed for, and only for, age_at_first")
        return self


EventRules.model_rebuild()


class CaseField(_Strict):
    """A field of the case that is not a predictor: the variant chooser, a reference date."""

    name: str
    title: str = ""
    title_nl: str | None = Field(None, description="The title in Dutch.")
    type: Literal["categorical", "date"]
    levels: list[str] | None = None
    description: str = ""
    level_titles: dict[str, str] = Field(
        default_factory=dict, description="English titles of levels, by level code."
    )
    level_titles_nl: dict[str, str] = Field(
        default_factory=dict, description="Dutch titles of levels, by level code."
    )


# --------------------------------------------------------------------------- instrument


class Revalidation(_Strict):
    """When an instrument must be validated again (see ``docs/register.md``).

    ``every_years`` after ``last_validated`` a new validation is due. Between the
    earliest and the latest audit, the AUC may fall by at most ``max_auc_decline``; in
    the latest audit, calibration-in-the-large may be off by at most
    ``max_calibration_drift`` as ``|ln(observed / expected)|`` (0.2 is about 20%).
    """

    last_validated: date | None = None
    every_years: float = Field(5.0, gt=0, le=50)
    max_auc_decline: float = Field(0.05, gt=0, lt=0.5)
    max_calibration_drift: float = Field(0.2, gt=0, le=5)


class InstrumentSpec(_Strict):
    """A complete, versioned instrument specification.

    ``unit`` says what is scored: a ``case`` (a person, the default) or an ``area`` (a
    grid cell in a period, see :mod:`waarborg.areas`). An area spec needs an ``area:``
    section, a ``goal`` with at least one success criterion, a ``poisson`` or
    ``logistic`` model whose predictors are the area features, and no bands (the
    selection rule decides). ``goal`` is optional for case instruments.
    """

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    title: str
    owner: str
    purpose: str
    population: str
    title_nl: str = Field("", description="The title in Dutch, for notices and the register.")
    purpose_nl: str = Field("", description="The purpose in Dutch (B1), for the register.")
    population_nl: str = Field("", description="The population in Dutch (B1), for the register.")
    provenance: Provenance
    description: str = ""
    case_fields: list[CaseField] = Field(default_factory=list)
    predictors: list[Predictor] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)
    model: Model
    bands: dict[str, Band] = Field(default_factory=dict)
    monotone: dict[str, Literal["increasing", "decreasing"]] = Field(default_factory=dict)
    data_rules: EventRules | None = None
    revalidation: Revalidation | None = None
    unit: Literal["case", "area"] = "case"
    goal: Goal | None = None
    area: AreaRules | None = None
    lang: list[Literal["nl", "en"]] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        description="The languages the spec's titles are given in; with 'nl' every "
        "predictor, level, outcome, domain and band needs a Dutch title.",
    )

    @model_validator(mode="after")
    def _references(self) -> InstrumentSpec:
        if self.unit == "area":
            _check_area(self)
        else:
            _check_case_unit(self)
        _check_references(self)
        if "nl" in self.lang:
            _check_dutch(self)
        return self

    @property
    def is_area(self) -> bool:
        """Whether the instrument scores areas (grid cells per period) rather than cases."""
        return self.unit == "area"

    def predictor(self, name: str) -> Predictor:
        """The predictor called ``name``."""
        return {p.name: p for p in self.predictors}[name]


def _check_references(spec: InstrumentSpec) -> None:
    """Cross-field checks: every name used anywhere is declared, every weight is present."""
    names = {p.name for p in spec.predictors}
    outcomes = {o.name for o in spec.outcomes}
    if len(names) != len(spec.predictors):
        raise ValueError("predictor names must be unique")
    if not spec.is_area and set(spec.bands) != outcomes:
        raise ValueError(f"bands must be given for exactly the outcomes {sorted(outcomes)}")
    for outcome in spec.outcomes if not spec.is_area else []:
        _check_band_quantity(spec, outcome)
    for key in spec.monotone:
        if key not in names:
            raise ValueError(f"monotone: unknown predictor '{key}'")
    if spec.model.variant_field:
        fields = {f.name: f for f in spec.case_fields}
        field = fields.get(spec.model.variant_field)
        if field is None or field.type != "categorical":
            raise ValueError(
                f"model.variant_field '{spec.model.variant_field}' must be a categorical case field"
            )
        if set(field.levels or []) != set(spec.model.all_variants):
            raise ValueError(
                f"case field '{field.name}' levels {field.levels} must equal the variants "
                f"{sorted(spec.model.all_variants)}"
            )
    if spec.model.kind == "domain_sum":
        _check_domains(spec)
    else:
        for vname, variant in spec.model.all_variants.items():
            _check_variant(spec, vname, variant, names, outcomes)
    if spec.data_rules:
        for target in spec.data_rules.derive:
            if target not in names:
                raise ValueError(f"data_rules.derive: unknown predictor '{target}'")


def _is_code(label: str) -> bool:
    """A label that is a number ("1" ... "6") reads the same in every language."""
    return label.replace(".", "", 1).isdigit()


def _check_dutch(spec: InstrumentSpec) -> None:
    """With ``lang: [nl, ...]``, every title a person sees has a Dutch version.

    Raises a ``ValueError`` naming the field path of the first gap, e.g.
    ``predictors.age.title_nl``.
    """
    why = "is required because the spec declares lang: [nl, ...]"
    if not spec.title_nl:
        raise ValueError(f"title_nl: a Dutch title {why}")
    for f in spec.case_fields:
        if not f.title_nl:
            raise ValueError(f"case_fields.{f.name}.title_nl: a Dutch title {why}")
        _check_dutch_labels(
            f"case_fields.{f.name}.level_titles_nl", f.levels or [], f.level_titles_nl, why
        )
    for p in spec.predictors:
        if not p.title_nl:
            raise ValueError(f"predictors.{p.name}.title_nl: a Dutch title {why}")
        if p.unit and not p.unit_nl:
            raise ValueError(f"predictors.{p.name}.unit_nl: the unit in Dutch {why}")
        _check_dutch_labels(
            f"predictors.{p.name}.level_titles_nl", p.model_levels(), p.level_titles_nl, why
        )
    for o in spec.outcomes:
        if not o.title_nl:
            raise ValueError(f"outcomes.{o.name}.title_nl: a Dutch title {why}")
    for d in spec.model.domains:
        if not d.title_nl:
            raise ValueError(f"model.domains.{d.name}.title_nl: a Dutch title {why}")
        if d.levels is not None:
            _check_dutch_labels(
                f"model.domains.{d.name}.levels.label_titles_nl",
                d.levels.labels,
                d.levels.label_titles_nl,
                why,
            )
    for name, band in spec.bands.items():
        _check_dutch_labels(f"bands.{name}.label_titles_nl", band.labels, band.label_titles_nl, why)


def _check_dutch_labels(at: str, labels: list[str], titles: dict[str, str], why: str) -> None:
    missing = [x for x in labels if not _is_code(x) and not titles.get(x)]
    if missing:
        raise ValueError(f"{at}: a Dutch title for {missing} {why}")


def _check_case_unit(spec: InstrumentSpec) -> None:
    """A case instrument has no area section and no area-only model kind."""
    if spec.area is not None:
        raise ValueError("an 'area' section needs 'unit: area'")
    if spec.model.kind == "poisson":
        raise ValueError("model.kind: a poisson model is for 'unit: area' instruments")


def _check_area(spec: InstrumentSpec) -> None:
    """An area instrument: its section, goal, model and predictors fit together."""
    area = spec.area
    if area is None:
        raise ValueError("'unit: area' needs an 'area' section (grid, period, features, ...)")
    if spec.goal is None or not spec.goal.success_criteria:
        raise ValueError(
            "goal: an area instrument must state its goal and at least one measurable "
            "success criterion (goal.success_criteria)"
        )
    if spec.model.kind not in ("poisson", "logistic"):
        raise ValueError("model.kind: an area instrument takes a poisson or logistic model")
    if spec.bands:
        raise ValueError("bands: an area instrument selects by 'area.selection', not by bands")
    if len(spec.outcomes) != 1 or spec.model.variants is not None:
        raise ValueError("an area instrument predicts one outcome with one formula")
    if spec.case_fields or spec.data_rules is not None:
        raise ValueError("an area instrument takes no case_fields or data_rules")
    features = [f.name for f in area.features]
    predictors = [p.name for p in spec.predictors]
    if sorted(features) != sorted(predictors):
        raise ValueError(
            f"predictors {predictors} must be exactly the area features {features} "
            "(each feature is scored as the predictor of the same name)"
        )
    for p in spec.predictors:
        if p.type not in ("numeric", "integer") or p.bins is not None or p.missing != "error":
            raise ValueError(
                f"predictors.{p.name}: an area feature is a number (numeric or integer, "
                "no bins, missing: error)"
            )


def _check_band_quantity(spec: InstrumentSpec, outcome: Outcome) -> None:
    band = spec.bands[outcome.name]
    if band.quantity == "probability":
        if spec.model.kind in ("points", "domain_sum"):
            raise ValueError(
                f"bands.{outcome.name}: a {spec.model.kind} model gives no probability"
            )
        if spec.model.kind == "cox" and band.horizon not in outcome.horizons:
            raise ValueError(
                f"bands.{outcome.name}: horizon {band.horizon} is not one of {outcome.horizons}"
            )
        if any(not 0 < c < 1 for c in band.cutoffs):
            raise ValueError(f"bands.{outcome.name}: probability cut-offs must lie in (0, 1)")


def _check_variant(
    spec: InstrumentSpec, vname: str, variant: Variant, names: set[str], outcomes: set[str]
) -> None:
    where = f"model.variants.{vname}" if spec.model.variants else "model"
    if set(variant.outcomes) != outcomes:
        raise ValueError(f"{where}: formulas must be given for exactly {sorted(outcomes)}")
    for oname, formula in variant.outcomes.items():
        at = f"{where}.outcomes.{oname}"
        if spec.model.kind == "tree":
            if not isinstance(formula, TreeFormula):
                raise ValueError(f"{at}: a tree model needs 'rules'")
            _check_rules(spec, at, oname, formula, names)
        else:
            if not isinstance(formula, LinearFormula):
                raise ValueError(f"{at}: a {spec.model.kind} model needs 'weights'")
            _check_weights(spec, at, oname, formula)


def _check_weights(spec: InstrumentSpec, at: str, outcome: str, formula: LinearFormula) -> None:
    for name in formula.weights:
        if name not in {p.name for p in spec.predictors}:
            raise ValueError(f"{at}.weights: unknown predictor '{name}'")
    for p in spec.predictors:
        if p.name not in formula.weights:
            raise ValueError(f"{at}.weights: no weight for predictor '{p.name}'")
        weight = formula.weights[p.name]
        if p.is_categorical:
            if not isinstance(weight, dict) or set(weight) != set(p.model_levels()):
                raise ValueError(
                    f"{at}.weights.{p.name}: needs a weight for every level "
                    f"{p.model_levels()} (the reference level with weight 0)"
                )
        elif isinstance(weight, dict):
            raise ValueError(f"{at}.weights.{p.name}: a numeric predictor has one weight")
    if spec.model.kind == "cox":
        horizons = next(o.horizons for o in spec.outcomes if o.name == outcome)
        if set(formula.baseline_survival) != set(horizons):
            raise ValueError(f"{at}.baseline_survival: needs a value for every horizon {horizons}")
        if any(not 0 < s < 1 for s in formula.baseline_survival.values()):
            raise ValueError(f"{at}.baseline_survival: values must lie in (0, 1)")


def _check_rules(
    spec: InstrumentSpec, at: str, outcome: str, formula: TreeFormula, names: set[str]
) -> None:
    labels = spec.bands[outcome].labels
    for i, rule in enumerate(formula.rules):
        for name in rule.when:
            if name not in names:
                raise ValueError(f"{at}.rules.{i}.when: unknown predictor '{name}'")
        if rule.band not in labels:
            raise ValueError(f"{at}.rules.{i}.band: '{rule.band}' is not one of {labels}")


def _check_domains(spec: InstrumentSpec) -> None:
    domains = {d.name for d in spec.model.domains}
    if not domains:
        raise ValueError("model.domains: a domain_sum model needs domains")
    for p in spec.predictors:
        if p.domain not in domains or p.direction is None:
            raise ValueError(
                f"predictors.{p.name}: a domain_sum item needs a 'domain' (one of "
                f"{sorted(domains)}) and a 'direction' (risk or protective)"
            )
        if p.type != "integer":
            raise ValueError(f"predictors.{p.name}: domain_sum items are integer scores")


# --------------------------------------------------------------------------- loading


def catalog_path(instrument_id: str) -> Path:
    """The path of a bundled instrument's spec file."""
    return CATALOG_DIR / f"{instrument_id}.yaml"


def catalog_ids() -> list[str]:
    """The ids of the bundled instruments, sorted."""
    return sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))


def load_spec(source: str | Path) -> InstrumentSpec:
    """Read and validate a spec from a catalog id or a YAML file.

    Raises
    ------
    SpecError
        Naming the file and the YAML path of every fault.
    """
    path = Path(source)
    if not path.suffix and not path.exists():
        if str(source) not in catalog_ids():
            neither = Message(
                "'%(source)s' is neither a spec file nor a bundled instrument (bundled: %(ids)s)",
                domain="reports",
                source=source,
                ids=", ".join(catalog_ids()),
            )
            raise SpecError(neither)
        path = catalog_path(str(source))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        unreadable = Message(
            "%(path)s: cannot read the spec: %(error)s",
            domain="reports",
            path=path,
            error=exc.strerror,
        )
        raise SpecError(unreadable) from exc
    except yaml.YAMLError as exc:
        not_yaml = Message(
            "%(path)s: not valid YAML: %(error)s", domain="reports", path=path, error=exc
        )
        raise SpecError(not_yaml) from exc
    return parse_spec(raw, origin=str(path))


def parse_spec(raw: Any, origin: str = "<spec>") -> InstrumentSpec:
    """Validate an already-parsed spec mapping; errors name ``origin`` and the YAML path."""
    if not isinstance(raw, dict):
        top = Message(
            "%(origin)s: a spec is a mapping at the top level", domain="reports", origin=origin
        )
        raise SpecError(top)
    try:
        return InstrumentSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(describe_validation(origin, exc)) from None


def spec_to_yaml(spec: InstrumentSpec) -> str:
    """The spec as YAML that :func:`load_spec` accepts back."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def spec_hash(spec: InstrumentSpec) -> str:
    """SHA-256 of the spec's canonical JSON: the same content always gives the same hash.

    Keys whose value is null, an empty list or an empty mapping are left out of the
    canonical form (they mean the same as a key left out), and so is the default
    ``unit: case``, so a newer waarborg that adds an optional field to the format keeps
    every existing hash.
    """
    data = spec.model_dump(mode="json", by_alias=True)
    if data.get("unit") == "case":  # the default unit, left out like an absent key
        del data["unit"]
    if data.get("lang") == ["en"]:  # the default language, left out likewise
        del data["lang"]
    canonical = json.dumps(_pruned(data), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _pruned(value: Any) -> Any:
    """``value`` without null, empty-list and empty-mapping entries, at every depth."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format."""
    return InstrumentSpec.model_json_schema(by_alias=True)


# --------------------------------------------------------------------------- titles

Titled = InstrumentSpec | CaseField | Predictor | Outcome | Domain


def title_in(item: Titled, lang: str) -> str:
    """The title a person reads for ``item`` in ``lang`` (``"en"`` or ``"nl"``).

    The one accessor for titles: the Dutch title in Dutch, else the title, else the
    item's name (a spec loaded with ``lang: [nl, en]`` always has a Dutch title).

    Examples
    --------
    >>> spec = load_spec(catalog_path("generic-selection"))
    >>> title_in(spec.predictor("education_type"), "nl")
    'Soort opleiding'
    """
    dutch = item.title_nl if lang == "nl" else None
    name = item.id if isinstance(item, InstrumentSpec) else item.name
    return dutch or item.title or name


def unit_in(item: Predictor, lang: str) -> str | None:
    """A predictor's unit in ``lang`` (``None`` when it has none).

    Examples
    --------
    >>> spec = load_spec(catalog_path("generic-selection"))
    >>> unit_in(spec.predictor("age"), "nl")
    'jaar'
    """
    return (item.unit_nl if lang == "nl" else None) or item.unit


def level_title_in(item: Predictor | CaseField | Band, level: str, lang: str) -> str:
    """The title of a predictor's level or a band's label in ``lang``; the code if none.

    The level keeps its code everywhere data is read or written; only what a person
    reads changes.

    Examples
    --------
    >>> spec = load_spec(catalog_path("generic-selection"))
    >>> level_title_in(spec.predictor("age"), "under_21", "nl")
    'jonger dan 21'
    """
    if isinstance(item, Band):
        titles = item.label_titles_nl if lang == "nl" else item.label_titles
    else:
        titles = item.level_titles_nl if lang == "nl" else item.level_titles
    return titles.get(level) or level
