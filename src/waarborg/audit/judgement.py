"""Plain-language verdicts on an instrument's validity, judged on the intervals.

The group verdicts of :mod:`waarborg.audit.fairness` say whom an instrument treats
differently; these say whether it predicts well at all. Each verdict has a ``status``:
``concern`` when the whole interval lies on the wrong side of its threshold, ``ok`` when
it lies on the right side, ``unknown`` when the interval straddles the threshold.

* **Discrimination** (AUC): at least 0.70 is what is usually called acceptable for a risk
  instrument, 0.80 good (Hosmer, Lemeshow & Sturdivant, *Applied Logistic Regression*,
  3rd ed., 2013, section 5.2.4); below 0.60 little better than chance.
* **Calibration-in-the-large**: observed / expected events over all cases (the sums of
  the calibration table) with the exact Poisson interval; 1 means on average right.
* **Calibration slope**: 1 is ideal; below 1 the predictions are too extreme (high
  risks too high, low risks too low), above 1 too timid.
* **O/E per band**: a band whose interval excludes 1 over- or underestimates its risk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waarborg.audit.result import estimate_text, estimate_texts
from waarborg.audit.stats import poisson_ratio_interval

__all__ = ["AUC_ACCEPTABLE", "AUC_GOOD", "AUC_POOR", "validity_verdicts"]

AUC_POOR, AUC_ACCEPTABLE, AUC_GOOD = 0.60, 0.70, 0.80
_AUC_WORDS = (
    (AUC_GOOD, "good", "goed"),
    (AUC_ACCEPTABLE, "acceptable", "aanvaardbaar"),
    (AUC_POOR, "weak", "zwak"),
    (-1.0, "poor: little better than chance", "slecht: weinig beter dan toeval"),
)


def validity_verdicts(validity: Mapping[str, Any], level: int) -> list[dict[str, Any]]:
    """Verdicts on discrimination and calibration, most important first.

    Parameters
    ----------
    validity : Mapping
        The ``validity`` part of an audit result.
    level : int
        The confidence level in percent, for the texts.

    Returns
    -------
    list of dict
        ``{"kind", "status", "text_en", "text_nl"}`` per verdict (``kind`` is ``auc``,
        ``calibration_in_the_large``, ``calibration_slope`` or ``band_oe``; band verdicts
        also name the ``band``).

    Examples
    --------
    >>> v = validity_verdicts({"auc": {"value": 0.64, "ci": [0.62, 0.66], "n": 900}}, 95)
    >>> v[0]["status"], v[0]["text_en"][:37]
    ('concern', 'Discrimination is weak: AUC 0.64 (95%')
    """
    found: list[dict[str, Any]] = []
    if validity.get("auc", {}).get("value") is not None:
        found.append(_auc(validity["auc"], level))
    table = validity.get("calibration") or []
    if table and "oe" in table[0]:
        found.append(_in_the_large(table, level))
    slope = validity.get("calibration_slope")
    if slope and slope.get("value") is not None:
        found.append(_slope(slope, level))
    if table and "oe" in table[0] and table[0].get("kind") == "band":
        found += _bands(table, level)
    return found


def _verdict(kind: str, status: str, en: str, nl: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "status": status, "text_en": en, "text_nl": nl} | extra


def _status(low: float | None, high: float | None, good_from: float) -> str:
    if low is not None and low >= good_from:
        return "ok"
    if high is not None and high < good_from:
        return "concern"
    return "unknown"


def _auc(auc: Mapping[str, Any], level: int) -> dict[str, Any]:
    v_en, ci_en, v_nl, ci_nl = estimate_texts(auc["value"], *auc["ci"])
    _, word_en, word_nl = next(w for w in _AUC_WORDS if auc["value"] >= w[0])
    status = _status(*auc["ci"], AUC_ACCEPTABLE)
    side_en = {
        "ok": "the whole interval is at or above",
        "concern": "the whole interval is below",
        "unknown": "the interval includes",
    }[status]
    side_nl = {
        "ok": "het hele interval ligt op of boven",
        "concern": "het hele interval ligt onder",
        "unknown": "het interval omvat",
    }[status]
    return _verdict(
        "auc",
        status,
        f"Discrimination is {word_en}: AUC {v_en} ({level}% CI {ci_en}); {side_en} "
        f"{estimate_text(AUC_ACCEPTABLE, None, None, 'en')[0]}, the level usually called "
        "acceptable.",
        f"Het onderscheidend vermogen is {word_nl}: AUC {v_nl} ({level}%-BI {ci_nl}); "
        f"{side_nl} {estimate_text(AUC_ACCEPTABLE, None, None, 'nl')[0]}, de grens die "
        "gewoonlijk aanvaardbaar heet.",
    )


def _ratio_status(low: float | None, high: float | None) -> str:
    if low is not None and low > 1:
        return "above"
    if high is not None and high < 1:
        return "below"
    return "ok"


def _in_the_large(table: list[Mapping[str, Any]], level: int) -> dict[str, Any]:
    observed = float(sum(row["observed"] for row in table))
    expected = float(sum(row["expected"] for row in table))
    low, high = poisson_ratio_interval(observed, expected, level / 100)
    oe = observed / expected if expected > 0 else float("nan")
    v_en, ci_en, v_nl, ci_nl = estimate_texts(oe, float(low), float(high))
    side = _ratio_status(float(low), float(high))
    en = {
        "ok": "Calibration-in-the-large: observed and predicted events agree",
        "above": "The instrument predicts too few events: more happen than it expects",
        "below": "The instrument predicts too many events: fewer happen than it expects",
    }[side]
    nl = {
        "ok": "Kalibratie over alles: waargenomen en voorspelde gebeurtenissen komen overeen",
        "above": "Het instrument voorspelt te weinig gebeurtenissen: er gebeuren er meer dan "
        "het verwacht",
        "below": "Het instrument voorspelt te veel gebeurtenissen: er gebeuren er minder dan "
        "het verwacht",
    }[side]
    status = "ok" if side == "ok" else "concern"
    return _verdict(
        "calibration_in_the_large",
        status,
        f"{en} (observed / expected {v_en}, {level}% CI {ci_en}).",
        f"{nl} (waargenomen / verwacht {v_nl}, {level}%-BI {ci_nl}).",
        oe=oe,
        ci=[float(low), float(high)],
    )


def _slope(slope: Mapping[str, Any], level: int) -> dict[str, Any]:
    v_en, ci_en, v_nl, ci_nl = estimate_texts(slope["value"], *slope["ci"])
    side = _ratio_status(*slope["ci"])
    en = {
        "ok": "The calibration slope is consistent with 1: predictions are as spread out as "
        "the outcomes",
        "below": "Predictions are too extreme: high risks are overestimated and low risks "
        "underestimated",
        "above": "Predictions are too timid: high risks are underestimated and low risks "
        "overestimated",
    }[side]
    nl = {
        "ok": "De kalibratiehelling past bij 1: de voorspellingen zijn even gespreid als de "
        "uitkomsten",
        "below": "De voorspellingen zijn te extreem: hoge risico's worden overschat en lage "
        "onderschat",
        "above": "De voorspellingen zijn te voorzichtig: hoge risico's worden onderschat en "
        "lage overschat",
    }[side]
    return _verdict(
        "calibration_slope",
        "ok" if side == "ok" else "concern",
        f"{en} (calibration slope {v_en}, {level}% CI {ci_en}; ideal 1).",
        f"{nl} (kalibratiehelling {v_nl}, {level}%-BI {ci_nl}; ideaal 1).",
    )


def _bands(table: list[Mapping[str, Any]], level: int) -> list[dict[str, Any]]:
    out = []
    for row in table:
        oe = row["oe"]
        if oe.get("value") is None:
            continue
        side = _ratio_status(*oe["ci"])
        if side == "ok":
            continue
        v_en, ci_en, v_nl, ci_nl = estimate_texts(oe["value"], *oe["ci"])
        what_en = "overestimates" if side == "below" else "underestimates"
        what_nl = "overschat" if side == "below" else "onderschat"
        out.append(
            _verdict(
                "band_oe",
                "concern",
                f"In band '{row['label']}' the instrument {what_en} the risk: observed events "
                f"are {v_en}× the expected ({level}% CI {ci_en}).",
                f"In band '{row['label']}' {what_nl} het instrument het risico: er zijn "
                f"{v_nl}× zoveel gebeurtenissen als verwacht ({level}%-BI {ci_nl}).",
                band=row["label"],
            )
        )
    if not out:
        out.append(
            _verdict(
                "band_oe",
                "ok",
                f"In every band observed and expected events agree ({level}% intervals of "
                "O/E include 1).",
                f"In elke band komen waargenomen en verwachte gebeurtenissen overeen "
                f"({level}%-intervallen van W/V bevatten 1).",
            )
        )
    return out
