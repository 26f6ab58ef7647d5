"""Named parameters of a spec: the path to every number the diagnosis can recover.

A parameter is named by its path in the spec's YAML, e.g.
``model.variants.prisoner.outcomes.violent.weights.income.low``,
``model.outcomes.reoffending.intercept``, ``predictors.age.transform.0.linear.centre``,
``predictors.age.transform.0.bins.edges.1`` or ``bands.violent.cutoffs.0``. A changed
spec is made by setting the value at such a path and validating the result again, so
every hypothesis the diagnosis tries is an ordinary spec (one mechanism for weights,
link parameters, transforms and cut-offs alike).

Example
-------
>>> from waarborg.instruments.spec import load_spec
>>> spec = load_spec("preselect-style")
>>> path = ("model", "outcomes", "reoffending", "intercept")
>>> value_at(spec, path), value_at(with_values(spec, {path: -1.5}), path)
(-1.8, -1.5)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from waarborg.instruments.spec import InstrumentSpec, parse_spec

Path = tuple[str | int | float, ...]


def parameter_name(path: Path) -> str:
    """The path as a dotted name; a number in it is written shortly (``2`` for ``2.0``).

    Examples
    --------
    >>> parameter_name(("model", "outcomes", "o", "baseline_survival", 2.0))
    'model.outcomes.o.baseline_survival.2'
    """
    return ".".join(f"{p:g}" if isinstance(p, float) else str(p) for p in path)


def spec_data(spec: InstrumentSpec) -> dict[str, Any]:
    """The spec as plain data (the mapping :func:`parse_spec` reads)."""
    return spec.model_dump(by_alias=True, exclude_none=True)


def _key(node: Any, part: str | int | float) -> Any:
    """The key of ``node`` that ``part`` names.

    A list entry is named by its position or, for predictors, by its name; a float key
    also by its short form (``2`` for ``2.0``).
    """
    if isinstance(node, list):
        if isinstance(part, str) and not part.isdigit():  # a predictor, by its name
            return next(i for i, item in enumerate(node) if item.get("name") == part)
        return int(part)
    if part in node:
        return part
    for key in node:
        if isinstance(key, float) and (key == part or f"{key:g}" == str(part)):
            return key
    return part


def value_at(spec: InstrumentSpec | Mapping[str, Any], path: Path) -> Any:
    """The value at ``path`` (``KeyError`` when there is none)."""
    node: Any = spec_data(spec) if isinstance(spec, InstrumentSpec) else spec
    for part in path:
        node = node[_key(node, part)]
    return node


def with_values(spec: InstrumentSpec, changes: Mapping[Path, Any]) -> InstrumentSpec:
    """The spec with each path set to its value, validated again.

    Raises
    ------
    waarborg.errors.SpecError
        When the changed spec is not valid (e.g. bin edges no longer increasing).
    """
    data = copy.deepcopy(spec_data(spec))
    for path, value in changes.items():
        node: Any = data
        for part in path[:-1]:
            node = node[_key(node, part)]
        node[_key(node, path[-1])] = value
    return parse_spec(data, origin="<hypothesis>")


def formula_path(spec: InstrumentSpec, variant: str, outcome: str) -> Path:
    """The path of one variant's formula for an outcome."""
    if spec.model.variants is None:
        return ("model", "outcomes", outcome)
    return ("model", "variants", variant, "outcomes", outcome)


def weight_path(
    spec: InstrumentSpec, variant: str, outcome: str, predictor: str, level: str | None
) -> Path:
    """The path of a weight (a level's weight for a categorical predictor)."""
    base = (*formula_path(spec, variant, outcome), "weights", predictor)
    return base if level is None else (*base, level)
