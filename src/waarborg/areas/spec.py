"""The ``area:`` section of an instrument spec with ``unit: area``: grid, periods, data rules.

An area instrument scores places, not people: every cell of a grid (or every given area)
in every period. The section says everything the engine needs besides the model itself:

* ``grid`` — square cells of ``cell_size`` metres whose corners lie on ``origin + k ×
  cell_size`` in a projected ``crs`` (default the Dutch RD New grid, EPSG:28992, 125 m);
  or ``cells: given`` for areas named by id only (then incidents carry a ``cell_id``).
* ``period`` — periods of ``days`` days (default 14) starting at ``start``.
* ``incidents`` — the incident types, which sources are used (``reported`` by residents,
  ``discovered`` by police; using discovered ones needs ``uses_discovered: true``), and
  the policy for records without a usable location or date (``error`` or ``count``).
* ``features`` — derived from incident records by data rules: counts per type over a
  window of earlier periods, the same counts in the 8 neighbouring cells, a yearly
  seasonal term, or a static attribute of the cell. Each feature is a predictor of the
  same name, which gives its range and transforms.
* ``target`` — the incident types the model predicts.
* ``selection`` — which cells are selected each period: the ``top_share`` with the
  highest score, or those at or above a ``threshold``.

This module imports nothing of waarborg's instrument spec, so that the spec can import it.

Examples
--------
>>> rules = AreaRules.model_validate({
...     "grid": {"cell_size": 125},
...     "incidents": {"types": ["burglary"], "sources": ["reported"]},
...     "features": [{"name": "recent", "count": {"types": ["burglary"], "lags": [1, 2]}}],
...     "target": {"types": ["burglary"]},
...     "selection": {"top_share": 0.03}})
>>> rules.grid.crs, rules.period.days, rules.max_lag
('EPSG:28992', 14, 2)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["reported", "discovered"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
RD_NEW = "EPSG:28992"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grid(_Strict):
    """Square cells of ``cell_size`` metres, corners on ``origin + k × cell_size``, in ``crs``.

    A cell's id is ``E{x}N{y}`` with ``x``, ``y`` its lower-left corner in whole metres,
    e.g. ``E155000N463000`` (see :mod:`waarborg.areas.grid`).
    """

    cell_size: float = Field(125.0, gt=0)
    origin: tuple[float, float] = (0.0, 0.0)
    crs: str = RD_NEW


class Period(_Strict):
    """Periods of ``days`` days; the first starts on ``start`` (the others follow on)."""

    days: int = Field(14, ge=1, le=366)
    start: date = date(2020, 1, 6)


class Incidents(_Strict):
    """Which incident records are used, and what happens to records that cannot be placed.

    ``sources`` lists the sources the features are counted from. Discovered incidents
    depend on where police were sent, which is how a feedback loop starts: a spec that
    uses them must say so with ``uses_discovered: true``. ``invalid`` is the policy for a
    record without a location, outside the grid's cells, with an unknown cell id or
    before the first period: ``error`` stops with the file, row and column; ``count``
    leaves it out and reports how many, per reason.
    """

    types: list[Name] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    uses_discovered: bool = False
    invalid: Literal["error", "count"] = "error"

    @model_validator(mode="after")
    def _declared(self) -> Incidents:
        if len(set(self.types)) != len(self.types) or len(set(self.sources)) != len(self.sources):
            raise ValueError("incident types and sources must be unique")
        uses = "discovered" in self.sources
        if uses and not self.uses_discovered:
            raise ValueError(
                "the spec uses discovered incidents, which follow where police were sent (a "
                "feedback loop); declare it with 'uses_discovered: true'"
            )
        if self.uses_discovered and not uses:
            raise ValueError("'uses_discovered: true' but 'discovered' is not among the sources")
        return self


class Window(_Strict):
    """Incidents of ``types`` in the periods ``lags[0]`` to ``lags[1]`` back (1 = the last one)."""

    types: list[Name] = Field(min_length=1)
    lags: tuple[int, int]

    @model_validator(mode="after")
    def _lags(self) -> Window:
        if not 1 <= self.lags[0] <= self.lags[1]:
            raise ValueError(
                f"lags must be [first, last] with 1 <= first <= last, got {list(self.lags)}: "
                "a feature may only use periods before the one scored"
            )
        return self


class Feature(_Strict):
    """One derived feature: exactly one of ``count``, ``neighbours``, ``season``, ``attribute``.

    * ``count`` — incidents in the cell in the window.
    * ``neighbours`` — incidents in the window in the 8 cells around it (cells outside
      the grid count 0).
    * ``season`` — ``sin`` or ``cos`` of 2π × (day of the year of the period's start) / 365.25.
    * ``attribute`` — a static column of the cells table (e.g. addresses, shops).
    """

    name: Name
    count: Window | None = None
    neighbours: Window | None = None
    season: Literal["sin", "cos"] | None = None
    attribute: Name | None = None

    @model_validator(mode="after")
    def _one(self) -> Feature:
        given = [k for k in ("count", "neighbours", "season", "attribute") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                f"feature '{self.name}' needs exactly one of count/neighbours/season/attribute, "
                f"got {given}"
            )
        return self

    @property
    def window(self) -> Window | None:
        """The incident window of a count or neighbour feature."""
        return self.count or self.neighbours


class Target(_Strict):
    """The incidents the model predicts: those of ``types`` in the period scored."""

    types: list[Name] = Field(min_length=1)


class Selection(_Strict):
    """Which cells are selected in each period.

    ``top_share`` selects the ``ceil(top_share × cells)`` cells with the highest score;
    with ``ties: include`` every cell tied with the last one is selected too (the share
    can be exceeded), with ``ties: cell_id`` the tie goes to the lower cell id (exactly
    that many). ``threshold`` selects the cells whose ``quantity`` is at or above it.
    """

    top_share: float | None = Field(None, gt=0, le=1)
    threshold: float | None = None
    quantity: Literal["expected_incidents", "score"] = "expected_incidents"
    ties: Literal["include", "cell_id"] = "include"

    @model_validator(mode="after")
    def _one(self) -> Selection:
        if (self.top_share is None) == (self.threshold is None):
            raise ValueError("give exactly one of 'top_share' and 'threshold'")
        return self


class AreaRules(_Strict):
    """The ``area:`` section: everything an area instrument needs besides its model."""

    grid: Grid | None = None
    cells: Literal["grid", "given"] = "grid"
    period: Period = Period()
    incidents: Incidents
    features: list[Feature] = Field(min_length=1)
    target: Target
    selection: Selection

    @model_validator(mode="after")
    def _consistent(self) -> AreaRules:
        if self.cells == "grid" and self.grid is None:
            raise ValueError("a grid needs 'grid' (cell_size, origin, crs), or say 'cells: given'")
        if self.cells == "given" and self.grid is not None:
            raise ValueError("'cells: given' takes no 'grid'")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("feature names must be unique")
        declared = set(self.incidents.types)
        for f in self.features:
            if f.neighbours and self.cells == "given":
                raise ValueError(f"feature '{f.name}': neighbours need a grid")
            unknown = set(f.window.types if f.window else []) - declared
            if unknown:
                raise ValueError(f"feature '{f.name}': types {sorted(unknown)} are not declared")
        if set(self.target.types) - declared:
            raise ValueError(f"target types {self.target.types} must be among {sorted(declared)}")
        return self

    @property
    def max_lag(self) -> int:
        """The furthest period back any feature looks: scores start that many periods in."""
        return max((f.window.lags[1] for f in self.features if f.window), default=0)
