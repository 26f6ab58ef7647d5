"""Plain-language explanation of one case's score, in English or Dutch.

The explanation lists the outcome's band (and probability where the model gives one) and
each predictor's contribution to the score, largest first, in words a case worker or the
person concerned can read. A contribution is measured against the predictor's reference
(weight 0: the reference level, or the value where the transformed number is 0), so
"raises" and "lowers" are relative to that reference, and the text says so.

In Dutch every title is the spec's Dutch one (:func:`~waarborg.instruments.spec.title_in`,
:func:`~waarborg.instruments.spec.level_title_in`) and numbers have a decimal comma.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from waarborg.errors import DataError
from waarborg.instruments.engine import (
    Instrument,
    case_instrument,
    probability_column,
    score,
)
from waarborg.instruments.spec import Predictor, level_title_in, title_in, unit_in
from waarborg.report.i18n import N_, fmt_number, texts

Language = Literal["en", "nl"]

#: The explanation's fixed text (English; the Dutch is in the ``reports`` catalog).
_TEXT = {
    "head": N_("{title} (version {version}), outcome '{outcome}': band {band}"),
    "range": N_(
        "band between {low} and {high}: a value is unknown, so every admissible value was scored"
    ),
    "prob": N_("estimated probability within {horizon} years: {p}%"),
    "up": N_("raises the score by {x}"),
    "down": N_("lowers the score by {x}"),
    "yes": N_("yes"),
    "no": N_("no"),
    "missing": N_("unknown"),
    "none": N_("no effect on the score"),
    "unknown": N_("unknown, scored over every admissible value"),
    "note": N_(
        "Contributions are measured against each factor's reference value. "
        "The score supports a person's decision; it does not decide."
    ),
}


@dataclass(frozen=True)
class Factor:
    """One predictor's part in a case's score.

    ``title`` and ``shown`` (the value as a person reads it: a level's title, a number
    in the language's notation with its unit, yes/no) are in the explanation's language;
    ``value`` is the value as given.
    """

    name: str
    title: str
    value: Any
    contribution: float | None
    text: str
    shown: str = ""


@dataclass(frozen=True)
class Explanation:
    """A case's band, probability and factors for its primary outcome, with a text form."""

    outcome: str
    band: str | None
    probability: float | None
    factors: list[Factor]
    lines: list[str]

    def __str__(self) -> str:
        return "\n".join(self.lines)


def explain(
    instrument: str | Instrument,
    case: dict[str, Any],
    *,
    lang: Language = "en",
    source: str = "<case>",
) -> Explanation:
    """Explain the score of one case (a mapping of column name to value).

    A bad value is a :class:`~waarborg.errors.DataError` naming ``source`` (the
    case's file, say) and the field.

    Examples
    --------
    >>> e = explain("generic-selection",
    ...             {"education_type": "wo", "age": 30, "distance_to_parents_km": 50})
    >>> e.band, e.factors[0].contribution
    ('1', 0.0)
    """
    inst = case_instrument(instrument)
    text = texts(_TEXT, lang)
    try:
        row = score(inst, {k: [v] for k, v in case.items()}).to_pylist()[0]
    except DataError as exc:  # the one-row table is the case itself: name its source
        raise DataError(exc.text, source, column=exc.column) from None
    outcome = inst.outcomes[0]
    bands = inst.spec.bands[outcome.name]
    band = row[f"band_{outcome.name}"]
    lines = [
        text["head"].format(
            title=title_in(inst.spec, lang),
            version=inst.version,
            outcome=title_in(outcome, lang),
            band=level_title_in(bands, band, lang) if band is not None else "?",
        )
    ]
    if band is None and f"band_{outcome.name}_lowest" in row:
        low, high = row[f"band_{outcome.name}_lowest"], row[f"band_{outcome.name}_highest"]
        lines.append(
            text["range"].format(
                low=level_title_in(bands, low, lang), high=level_title_in(bands, high, lang)
            )
        )
    probability = _probability(inst, row, outcome.name, outcome.horizons)
    if probability is not None:
        horizon, p = probability
        lines.append(
            text["prob"].format(
                horizon=fmt_number(horizon, lang, None), p=fmt_number(100 * p, lang, 1)
            )
        )
    factors = sorted(
        (_factor(p, case.get(p.name), row, text, lang) for p in inst.predictors),
        key=lambda f: -abs(f.contribution) if f.contribution is not None else 0.0,
    )
    lines += [f"- {f.title} = {f.shown}: {f.text}" for f in factors]
    lines.append(text["note"])
    return Explanation(outcome.name, band, probability[1] if probability else None, factors, lines)


def _probability(
    inst: Instrument, row: dict[str, Any], outcome: str, horizons: list[float]
) -> tuple[float, float] | None:
    """The probability at the band's horizon (or the last horizon), if the model gives one."""
    band = inst.spec.bands[outcome]
    horizon = band.horizon if band.horizon is not None else (horizons[-1] if horizons else None)
    value = row.get(probability_column(outcome, horizon))
    return None if value is None else (horizon or 0.0, value)


def shown_value(predictor: Predictor, value: Any, lang: str) -> str:
    """A predictor's value as a person reads it in ``lang``.

    A level's title, yes/no for a boolean, a number in the language's notation with its
    unit; an empty value is "unknown".

    Examples
    --------
    >>> from waarborg.instruments.spec import catalog_path, load_spec
    >>> spec = load_spec(catalog_path("generic-selection"))
    >>> shown_value(spec.predictor("distance_to_parents_km"), 36.6, "nl")
    '36,6 km'
    """
    text = texts(_TEXT, lang)
    if value is None or value != value:  # None or nan
        return text["missing"]
    if predictor.type == "categorical":
        return level_title_in(predictor, str(value), lang)
    if predictor.type == "boolean":
        return text["yes"] if value in (1, True, "1", "true") else text["no"]
    try:
        number = fmt_number(float(value), lang, None)
    except (TypeError, ValueError):
        return str(value)
    unit = unit_in(predictor, lang)
    return f"{number} {unit}" if unit else number


def _amount(x: float, lang: str) -> str:
    """A contribution to three significant figures, in the language's notation."""
    return fmt_number(float(f"{x:.3g}"), lang, None)


def _factor(
    predictor: Predictor, value: Any, row: dict[str, Any], text: dict[str, str], lang: str
) -> Factor:
    name, title = predictor.name, title_in(predictor, lang)
    shown = shown_value(predictor, value, lang)
    contribution = row.get(f"contribution_{name}")
    if contribution is None or contribution != contribution:  # nan: unknown, range policy
        return Factor(name, title, value, None, text["unknown"], shown)
    if contribution > 0:
        words = text["up"].format(x=_amount(contribution, lang))
    elif contribution < 0:
        words = text["down"].format(x=_amount(-contribution, lang))
    else:
        words = text["none"]
    return Factor(name, title, value, float(contribution), words, shown)
