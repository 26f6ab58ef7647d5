"""Plain-language verdicts on validity: judged on the intervals, first in every output."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special
from sklearn.metrics import roc_auc_score

from waarborg.audit import audit
from waarborg.audit.judgement import AUC_ACCEPTABLE, validity_verdicts
from waarborg.report.html import render


def _cohort(n: int, spread: float, seed: int = 3) -> pd.DataFrame:
    """Predictions p and outcomes drawn with logit P(y) = spread * logit(p)."""
    rng = np.random.default_rng(seed)
    p = np.round(special.expit(rng.normal(-1.0, 1.3, n)), 3).clip(0.001, 0.999)
    y = (rng.random(n) < special.expit(spread * special.logit(p))).astype(int)
    band = np.where(p < 0.2, "laag", np.where(p < 0.5, "midden", "hoog"))
    group = rng.choice(["a", "b"], n)
    return pd.DataFrame({"p": p, "y": y, "band": band, "g": group})


def _run(df: pd.DataFrame):
    return audit(
        df,
        score="p",
        outcome="y",
        band="band",
        select="hoog",
        group=["g"],
        band_order=["laag", "midden", "hoog"],
    )


@pytest.fixture(scope="module")
def too_extreme():
    df = _cohort(20000, spread=0.3)
    return df, _run(df)


def _by_kind(result: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for v in result["validity_verdicts"]:
        out.setdefault(v["kind"], []).append(v)
    return out


def test_too_extreme_predictions_are_named_as_such(too_extreme) -> None:
    df, res = too_extreme
    d = res.to_dict()
    kinds = _by_kind(d)
    glm = sm.GLM(df.y, sm.add_constant(special.logit(df.p)), family=sm.families.Binomial()).fit()
    assert d["validity"]["calibration_slope"]["value"] == pytest.approx(
        glm.params.iloc[1], rel=1e-6
    )
    assert glm.conf_int().iloc[1, 1] < 1  # the planted slope 0.3, found by an independent fit
    assert kinds["calibration_slope"][0]["status"] == "concern"
    assert "too extreme" in kinds["calibration_slope"][0]["text_en"]
    top = [v for v in kinds["band_oe"] if v.get("band") == "hoog"]
    observed = df.y[df.band == "hoog"].sum() / df.p[df.band == "hoog"].sum()
    assert observed < 1 and top and "overestimates" in top[0]["text_en"]


def test_auc_verdict_follows_its_interval(too_extreme) -> None:
    df, res = too_extreme
    auc = res.to_dict()["validity"]["auc"]
    assert auc["value"] == pytest.approx(roc_auc_score(df.y, df.p), abs=1e-12)
    verdict = _by_kind(res.to_dict())["auc"][0]
    low, high = auc["ci"]
    expected = "ok" if low >= AUC_ACCEPTABLE else "concern" if high < AUC_ACCEPTABLE else "unknown"
    assert verdict["status"] == expected
    for status, ci in (("ok", [0.71, 0.75]), ("concern", [0.6, 0.69]), ("unknown", [0.68, 0.72])):
        got = validity_verdicts({"auc": {"value": 0.70, "ci": ci, "n": 10}}, 95)[0]["status"]
        assert got == status


def test_a_well_calibrated_instrument_gets_no_concern() -> None:
    res = _run(_cohort(20000, spread=1.0, seed=4)).to_dict()
    kinds = _by_kind(res)
    assert kinds["calibration_in_the_large"][0]["status"] == "ok"
    assert kinds["calibration_slope"][0]["status"] == "ok"


def test_dutch_verdicts_use_the_decimal_comma(too_extreme) -> None:
    _, res = too_extreme
    for v in res.to_dict()["validity_verdicts"]:
        assert not re.search(r"\d\.\d", v["text_nl"]), v["text_nl"]
        assert re.search(r"\d,\d", v["text_nl"])


def test_validity_verdicts_come_first(too_extreme) -> None:
    _, res = too_extreme
    d = res.to_dict()
    summary = res.summary()
    first = d["validity_verdicts"][0]["text_en"]
    assert summary.index(first) < summary.index("Validity and overall")
    page = render(d, lang="nl")
    assert page.index("Voorspelt het goed?") < page.index("Behandelt het groepen gelijk?")
    assert d["validity_verdicts"][0]["text_nl"].split(":")[0] in page


def test_summary_says_how_many_verdicts_of_how_many_tests(too_extreme) -> None:
    _, res = too_extreme
    d = res.to_dict()
    shown, size = len(d["verdicts"]), d["tests"]["family_size"]
    assert f"Verdicts on {shown} comparisons" in res.summary()
    assert f"over all {size} tests" in res.summary()
    assert f"Bevindingen over {shown} vergelijkingen" in res.summary(lang="nl")


def test_summary_shows_long_group_names_whole() -> None:
    df = _cohort(4000, spread=1.0)
    long_name = "recent_arrivals_from_outside_the_eu"
    df["g"] = np.where(df["g"] == "a", long_name, "born_in_the_netherlands")
    rows = [line for line in _run(df).summary().splitlines() if line.startswith(long_name)]
    assert rows, "the long group name is shown whole"
    assert rows[0][len(long_name)] == " "
