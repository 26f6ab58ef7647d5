"""A plain, per-row reference implementation of the instrument maths, for golden tests.

It reads the spec as a raw YAML mapping (not through waarborg's pydantic models) and
scores one case at a time with ordinary Python arithmetic, written straight from the
definitions in the spec format's documentation. The engine is vectorised and shares no
code with this file, so agreement between the two is evidence that both are right.
"""

from __future__ import annotations

import bisect
import itertools
import math
from pathlib import Path
from typing import Any

import yaml

CATALOG = Path(__file__).parents[1] / "src" / "waarborg" / "instruments" / "catalog"


def raw_spec(instrument_id: str) -> dict[str, Any]:
    """The bundled spec as plain YAML data."""
    return yaml.safe_load((CATALOG / f"{instrument_id}.yaml").read_text())


def transformed(pred: dict[str, Any], value: Any) -> Any:
    """The value after the predictor's transforms: a number, or a level name."""
    if pred["type"] == "categorical":
        return value
    x = float(value)
    for step in pred.get("transform", []):
        ((kind, args),) = step.items()
        if kind == "cap":
            x = min(max(x, args.get("lower", -math.inf)), args.get("upper", math.inf))
        elif kind == "standardise":
            x = (x - args["mean"]) / args["sd"]
        elif kind == "linear":
            x = (x - args.get("centre", 0.0)) / args.get("scale", 1.0)
        elif kind == "log":
            x = math.log(x + args.get("offset", 0.0))
        elif kind == "bins":
            return args["labels"][bisect.bisect_right(args["edges"], x)]
    return x


def contribution(pred: dict[str, Any], weight: Any, value: Any) -> float:
    """weight × transformed value, or the level's weight."""
    if value is None:
        level = pred["missing"]["level"]
        return float(weight[level])
    t = transformed(pred, value)
    return float(weight[t]) if isinstance(t, str) else float(weight) * t


def band_of(band: dict[str, Any], x: float) -> str:
    """The band label: a value equal to a cut-off goes to the higher band."""
    return band["labels"][bisect.bisect_right(band["cutoffs"], x)]


def formulas(spec: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """The case's formulas per outcome (its variant's, or the single set)."""
    model = spec["model"]
    if "variants" in model:
        return model["variants"][case[model["variant_field"]]]["outcomes"]
    return model.get("outcomes", {})


def score_case(spec: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """Score one complete case (no unknowns under the range policy)."""
    model, out = spec["model"], {}
    preds = {p["name"]: p for p in spec["predictors"]}
    for outcome in spec["outcomes"]:
        name = outcome["name"]
        if model["kind"] == "domain_sum":
            sign = {"risk": 1.0, "protective": -1.0}
            lp = sum(sign[p["direction"]] * float(case[n]) for n, p in preds.items())
        else:
            f = formulas(spec, case)[name]
            lp = f.get("intercept", 0.0) + sum(
                contribution(preds[n], w, case[n]) for n, w in f["weights"].items()
            )
        out[f"score_{name}"] = lp
        probs = _probabilities(model, formulas(spec, case).get(name, {}), outcome, lp)
        for horizon, p in probs.items():
            key = f"probability_{name}" if horizon is None else f"probability_{name}_{horizon:g}y"
            out[key] = p
        band = spec["bands"][name]
        quantity = lp if band["quantity"] == "score" else probs[band.get("horizon")]
        out[f"band_{name}"] = band_of(band, quantity)
    return out


def _probabilities(
    model: dict[str, Any], formula: dict[str, Any], outcome: dict[str, Any], lp: float
) -> dict[float | None, float]:
    if model["kind"] == "logistic":
        horizons = outcome.get("horizons") or [None]
        return {horizons[0]: 1.0 / (1.0 + math.exp(-lp))}
    if model["kind"] == "cox":
        return {
            float(h): 1.0 - formula["baseline_survival"][h] ** math.exp(lp - formula["centre"])
            for h in outcome["horizons"]
        }
    return {}


def admissible(pred: dict[str, Any]) -> list[Any]:
    """Every value a missing entry could take (whole numbers, booleans, levels)."""
    if pred["type"] == "categorical":
        return list(pred["levels"])
    if pred["type"] == "boolean":
        return [0, 1]
    low, high = pred["range"]
    if pred["type"] == "integer":
        return list(range(int(low), int(high) + 1))
    return [low, high]


def band_range(spec: dict[str, Any], case: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Lowest and highest band over every combination of values for the unknown inputs."""
    preds = {p["name"]: p for p in spec["predictors"]}
    unknown = [
        n for n, v in case.items() if v is None and preds.get(n, {}).get("missing") == "range"
    ]
    out = {}
    for outcome in spec["outcomes"]:
        labels = spec["bands"][outcome["name"]]["labels"]
        seen = []
        for combo in itertools.product(*(admissible(preds[n]) for n in unknown)):
            filled = case | dict(zip(unknown, combo, strict=True))
            seen.append(labels.index(score_case(spec, filled)[f"band_{outcome['name']}"]))
        out[outcome["name"]] = (labels[min(seen)], labels[max(seen)])
    return out


def random_case(
    spec: dict[str, Any], rng: Any, missing_share: float = 0.0, policy: str = "level"
) -> dict[str, Any]:
    """A random valid case; entries whose missing policy is ``policy`` may be None.

    ``policy`` is ``level`` (a missing value scored as a named level) or ``range``.
    """
    case: dict[str, Any] = {}
    for field in spec.get("case_fields", []):
        if field["type"] == "categorical":
            case[field["name"]] = str(rng.choice(field["levels"]))
    for pred in spec["predictors"]:
        own = pred.get("missing", "error")
        kind = "level" if isinstance(own, dict) else own
        if kind == policy and rng.random() < missing_share:
            case[pred["name"]] = None
            continue
        case[pred["name"]] = _random_value(pred, rng)
    return case


def _random_value(pred: dict[str, Any], rng: Any) -> Any:
    if pred["type"] == "categorical":
        return str(rng.choice(pred["levels"]))
    if pred["type"] == "boolean":
        return bool(rng.integers(0, 2))
    low, high = pred["range"]
    if pred["type"] == "integer":
        # Favour small values so that caps and bins are crossed, and hit the ends.
        pick = rng.choice([low, high, low + rng.geometric(0.3) - 1, rng.integers(low, high + 1)])
        return int(min(max(pick, low), high))
    return float(rng.uniform(low, high))
