"""Audit metrics against scikit-learn, SciPy and statsmodels computed on the rows.

Every expected number here is computed row by row in the test (never taken from the
code under test); the audit computes the same from its count cube.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.metrics import (
    brier_score_loss,
    confusion_matrix,
    precision_score,
    recall_score,
    roc_auc_score,
)
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from waarborg.audit import audit

CROSS = "×"


def make_cases(n: int = 6000, seed: int = 0, *, continuous: bool = False) -> pd.DataFrame:
    """Random cases: three attributes, a probability score, an outcome drawn from it,
    a band cut from the score, and a selected flag (band 'hoog').

    The score is rounded to 3 decimals (a discrete score: exact cube) unless
    ``continuous``.
    """
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    origin = rng.choice(["dutch", "western", "non_western"], n, p=[0.6, 0.25, 0.15])
    age = rng.choice(["<25", "25-45", "45+"], n)
    lin = -1.2 + 0.9 * (origin == "non_western") + 0.3 * (sex == "male") + rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-lin))
    if not continuous:
        p = np.clip(np.round(p, 3), 0.001, 0.999)
    y = (rng.random(n) < p).astype(np.int64)
    band = np.where(p < 0.25, "laag", np.where(p < 0.5, "midden", "hoog"))
    return pd.DataFrame({"sex": sex, "origin": origin, "age": age, "p": p, "y": y, "band": band})


def run(df: pd.DataFrame, **kwargs: object) -> dict:
    options = {
        "score": "p",
        "outcome": "y",
        "band": "band",
        "select": "hoog",
        "group": ["sex", "origin", "age"],
    } | kwargs
    return audit(df, **options).to_dict()


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return make_cases()


@pytest.fixture(scope="module")
def result(cases: pd.DataFrame) -> dict:
    return run(cases, intersections=True)


def _groups(df: pd.DataFrame, attribute: str) -> dict[str, pd.DataFrame]:
    if CROSS not in attribute:
        return {str(k): g for k, g in df.groupby(attribute)}
    names = attribute.split(CROSS)
    return {CROSS.join(map(str, k)): g for k, g in df.groupby(names)}


ATTRIBUTES = ["sex", "origin", "age", f"sex{CROSS}origin", f"sex{CROSS}origin{CROSS}age"]


@pytest.mark.parametrize("attribute", ATTRIBUTES)
def test_confusion_rates_match_sklearn(cases: pd.DataFrame, result: dict, attribute: str) -> None:
    for name, g in _groups(cases, attribute).items():
        got = result["groups"][attribute][name]
        sel = (g["band"] == "hoog").astype(int)
        tn, fp, fn, tp = confusion_matrix(g["y"], sel, labels=[0, 1]).ravel()
        expected = {
            "selection_rate": sel.mean(),
            "base_rate": g["y"].mean(),
            "tpr": recall_score(g["y"], sel, zero_division=np.nan),
            "fnr": fn / (fn + tp),
            "fpr": fp / (fp + tn),
            "tnr": tn / (fp + tn),
            "ppv": precision_score(g["y"], sel, zero_division=np.nan),
            "npv": tn / (tn + fn),
        }
        assert got["n"] == len(g)
        for metric, value in expected.items():
            assert got[metric]["value"] == pytest.approx(value, rel=1e-12), (name, metric)
        assert got["share"]["value"] == pytest.approx(len(g) / len(cases))
        assert got["share_selected"]["value"] == pytest.approx(
            sel.sum() / (cases.band == "hoog").sum()
        )


@pytest.mark.parametrize("attribute", ["sex", "origin", f"origin{CROSS}age"])
def test_wilson_intervals_match_statsmodels(
    cases: pd.DataFrame, result: dict, attribute: str
) -> None:
    for name, g in _groups(cases, attribute).items():
        got = result["groups"][attribute][name]
        sel = g["band"] == "hoog"
        pos = g["y"] == 1
        for metric, x, n in (
            ("selection_rate", sel.sum(), len(g)),
            ("fpr", (sel & ~pos).sum(), (~pos).sum()),
            ("ppv", (sel & pos).sum(), sel.sum()),
        ):
            low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
            assert got[metric]["ci"] == pytest.approx([low, high], rel=1e-9)
            assert (got[metric]["n"], got[metric]["k"]) == (n, x)


def test_auc_matches_sklearn_for_a_discrete_score(cases: pd.DataFrame, result: dict) -> None:
    assert result["validity"]["auc"]["value"] == pytest.approx(
        roc_auc_score(cases.y, cases.p), rel=1e-12
    )
    assert "binning_error_max" not in result["validity"]["auc"]
    for attribute in ("origin", f"sex{CROSS}origin"):
        for name, g in _groups(cases, attribute).items():
            got = result["groups"][attribute][name]["auc"]["value"]
            assert got == pytest.approx(roc_auc_score(g.y, g.p), rel=1e-12)


def test_auc_of_a_continuous_score_is_within_the_binning_bound() -> None:
    df = make_cases(20000, seed=3, continuous=True)
    res = run(df, group=["sex"], n_bins=200)
    auc = res["validity"]["auc"]
    bound = auc["binning_error_max"]
    assert res["provenance"]["score_binning"]["method"] == "quantile"
    assert res["provenance"]["score_binning"]["bins"] <= 200
    assert 0 < bound < 0.01
    assert abs(auc["value"] - roc_auc_score(df.y, df.p)) <= bound
    # 200 bins already agree to three decimals; the default 1000 to four
    assert (
        abs(run(df, group=["sex"])["validity"]["auc"]["value"] - roc_auc_score(df.y, df.p)) < 1e-4
    )


def test_auc_from_band_order_without_a_score(cases: pd.DataFrame) -> None:
    res = run(cases, score=None)
    order = cases.band.map({"laag": 0, "midden": 1, "hoog": 2})
    assert res["validity"]["auc"]["basis"] == "band"
    assert res["validity"]["auc"]["value"] == pytest.approx(roc_auc_score(cases.y, order))
    assert "brier" not in res["validity"]


@pytest.mark.parametrize("continuous", [False, True])
def test_brier_matches_sklearn(continuous: bool) -> None:
    df = make_cases(8000, seed=5, continuous=continuous)
    res = run(df, group=["sex"])
    assert res["validity"]["brier"]["value"] == pytest.approx(
        brier_score_loss(df.y, df.p), rel=1e-9
    )
    # the interval is the normal one for a mean of squared errors
    d = (df.y - df.p) ** 2
    half = 1.959964 * d.std(ddof=1) / np.sqrt(len(d))
    if not continuous:
        assert res["validity"]["brier"]["ci"] == pytest.approx(
            [d.mean() - half, d.mean() + half], rel=1e-5
        )


def test_calibration_slope_and_intercept_match_statsmodels_glm(
    cases: pd.DataFrame, result: dict
) -> None:
    logit = np.log(cases.p / (1 - cases.p))
    slope_fit = sm.GLM(cases.y, sm.add_constant(logit), family=sm.families.Binomial()).fit()
    offset_fit = sm.GLM(
        cases.y, np.ones((len(cases), 1)), family=sm.families.Binomial(), offset=logit
    ).fit()
    slope, intercept = (
        result["validity"]["calibration_slope"],
        result["validity"]["calibration_intercept"],
    )
    assert slope["value"] == pytest.approx(slope_fit.params.iloc[1], rel=1e-7)
    assert slope["ci"] == pytest.approx(list(slope_fit.conf_int().iloc[1]), rel=1e-6)
    assert intercept["value"] == pytest.approx(offset_fit.params.iloc[0], rel=1e-7)
    assert intercept["ci"] == pytest.approx(list(offset_fit.conf_int().iloc[0]), rel=1e-6)


def test_calibration_tables_count_observed_and_expected_from_rows(
    cases: pd.DataFrame, result: dict
) -> None:
    rows = result["validity"]["calibration"]
    assert [r["label"] for r in rows] == ["laag", "midden", "hoog"]
    for row in rows:
        g = cases[cases.band == row["label"]]
        assert (row["n"], row["observed"]) == (len(g), g.y.sum())
        assert row["expected"] == pytest.approx(g.p.sum(), rel=1e-12)
        exact = stats.poisson.ppf  # Garwood interval via the chi-square quantiles
        low = stats.chi2.ppf(0.025, 2 * g.y.sum()) / 2 / g.p.sum()
        assert row["oe"]["value"] == pytest.approx(g.y.sum() / g.p.sum())
        assert row["oe"]["ci"][0] == pytest.approx(low, rel=1e-8)
        assert exact is not None
    deciles = result["validity"]["calibration_deciles"]
    assert sum(d["n"] for d in deciles) == len(cases)
    assert sum(d["observed"] for d in deciles) == cases.y.sum()
    assert 8 <= len(deciles) <= 10
    sizes = np.array([d["n"] for d in deciles])
    assert sizes.min() > 0.5 * len(cases) / 10  # about equal groups despite tied scores


def test_disparities_match_statsmodels(cases: pd.DataFrame, result: dict) -> None:
    ref_name = result["reference"]["origin"]
    assert ref_name == cases.origin.value_counts().idxmax()
    ref = cases[cases.origin == ref_name]
    for name, g in _groups(cases, "origin").items():
        if name == ref_name:
            assert name not in result["disparities"]["origin"]
            continue
        got = result["disparities"]["origin"][name]["selection_rate"]
        x1, n1 = (g.band == "hoog").sum(), len(g)
        x2, n2 = (ref.band == "hoog").sum(), len(ref)
        diff = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        ratio = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio")
        assert got["difference"]["value"] == pytest.approx(x1 / n1 - x2 / n2)
        assert got["difference"]["ci"] == pytest.approx(list(diff), rel=1e-9)
        assert got["ratio"]["value"] == pytest.approx((x1 / n1) / (x2 / n2))
        assert got["ratio"]["ci"] == pytest.approx(list(ratio), rel=1e-9)
        table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
        chi2 = stats.chi2_contingency(table, correction=False)
        assert got["ratio"]["p_value"] == pytest.approx(chi2.pvalue, rel=1e-9)


def test_auc_disparity_is_the_difference_of_group_aucs(cases: pd.DataFrame, result: dict) -> None:
    ref = cases[cases.origin == result["reference"]["origin"]]
    g = cases[cases.origin == "non_western"]
    got = result["disparities"]["origin"]["non_western"]["auc"]["difference"]
    assert got["value"] == pytest.approx(roc_auc_score(g.y, g.p) - roc_auc_score(ref.y, ref.p))
    assert got["ci"][0] < got["value"] < got["ci"][1]


def test_holm_adjustment_matches_statsmodels_over_the_whole_family(result: dict) -> None:
    family: dict[tuple[str, str, str], float] = {}
    adjusted: dict[tuple[str, str, str], float] = {}
    same = {"fnr": "tpr", "tnr": "fpr"}  # complements are one test
    for attribute, groups in result["disparities"].items():
        for group, metrics in groups.items():
            for metric, pair in metrics.items():
                key = (attribute, group, same.get(metric, metric))
                family[key] = pair["difference"]["p_value"]
                adjusted.setdefault(key, pair["difference"]["p_adjusted"])
                assert adjusted[key] == pair["difference"]["p_adjusted"]
                if "ratio" in pair:
                    assert pair["ratio"]["p_adjusted"] == pair["difference"]["p_adjusted"]
    keys = list(family)
    expected = multipletests([family[k] for k in keys], method="holm")[1]
    assert [adjusted[k] for k in keys] == pytest.approx(expected, rel=1e-12)
    assert result["tests"]["family_size"] == len(keys)


def test_fisher_exact_test_for_small_groups() -> None:
    df = make_cases(3000, seed=11)
    df.loc[df.index[:12], "origin"] = "tiny"
    res = run(df, group=["origin"], min_group_size=30)
    tiny = df[df.origin == "tiny"]
    ref = df[df.origin == res["reference"]["origin"]]
    x1, n1, x2, n2 = (tiny.band == "hoog").sum(), len(tiny), (ref.band == "hoog").sum(), len(ref)
    expected = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
    got = res["disparities"]["origin"]["tiny"]["selection_rate"]["ratio"]["p_value"]
    assert got == pytest.approx(expected, rel=1e-9)
    assert res["groups"]["origin"]["tiny"]["too_small"] is True
    assert not any(v["group"] == "tiny" for v in res["verdicts"])
    assert any(f["kind"] == "too_small" and f["group"] == "tiny" for f in res["flags"])


def test_verdicts_say_what_the_numbers_say(result: dict) -> None:
    verdict = next(
        v
        for v in result["verdicts"]
        if (v["attribute"], v["group"], v["metric"]) == ("origin", "non_western", "selection_rate")
    )
    ratio = result["disparities"]["origin"]["non_western"]["selection_rate"]["ratio"]
    assert verdict["ratio"] == ratio["value"] and verdict["ci"] == ratio["ci"]
    assert verdict["significant"] is (ratio["p_adjusted"] < 0.05)
    assert verdict["text_en"].startswith("Group 'non_western' (origin) is selected ")
    assert f"{ratio['value']:.2f}× as often as the reference group 'dutch'" in verdict["text_en"]
    assert "p < 0.001 after Holm correction" in verdict["text_en"]
    assert (
        f"{ratio['value']:.2f}".replace(".", ",") + "× zo vaak geselecteerd" in verdict["text_nl"]
    )
    quiet = [v for v in result["verdicts"] if not v["significant"]]
    assert quiet and all("no significant difference" in v["text_en"] for v in quiet)
    assert all("geen significant verschil" in v["text_nl"] for v in quiet)


def test_selection_only_without_outcome(cases: pd.DataFrame) -> None:
    res = run(cases, outcome=None, score=None)
    group = res["groups"]["origin"]["non_western"]
    assert set(group) >= {"selection_rate", "share", "share_selected", "representation"}
    assert not {"base_rate", "fpr", "auc"} & set(group)
    assert res["validity"] == {}
    g = cases[cases.origin == "non_western"]
    rep = ((g.band == "hoog").sum() / (cases.band == "hoog").sum()) / (len(g) / len(cases))
    assert group["representation"]["value"] == pytest.approx(rep)
    low, high = group["representation"]["ci"]
    assert low < rep < high
    assert any(f["kind"] == "skipped" for f in res["flags"])


def test_selected_column_instead_of_bands(cases: pd.DataFrame) -> None:
    flagged = cases.assign(flag=(cases.band == "hoog").astype(int))
    by_band = run(cases)
    by_column = run(flagged, band=None, select=None, selected="flag")
    for metric in ("selection_rate", "fpr", "ppv"):
        assert (
            by_column["groups"]["sex"]["male"][metric] == by_band["groups"]["sex"]["male"][metric]
        )


def test_reference_can_be_chosen(cases: pd.DataFrame) -> None:
    res = run(cases, reference=["origin=western"], group=["origin"])
    assert res["reference"] == {"origin": "western"}
    assert set(res["disparities"]["origin"]) == {"dutch", "non_western"}


def test_bootstrap_is_seeded(cases: pd.DataFrame) -> None:
    a, b = run(cases, group=["origin"], seed=4), run(cases, group=["origin"], seed=4)
    c = run(cases, group=["origin"], seed=5)
    ci = lambda r: r["groups"]["origin"]["western"]["representation"]["ci"]  # noqa: E731
    assert ci(a) == ci(b) != ci(c)


# --------------------------------------------------------------------------- coverage


def _true_auc(shift: float, step: float) -> float:
    """AUC (ties 1/2) of N(shift, 1) against N(0, 1), both rounded to ``step``."""
    edges = np.arange(-8, 8 + shift, step) + step / 2
    grid = np.concatenate([[-np.inf], edges, [np.inf]])
    pos, neg = np.diff(stats.norm.cdf(grid - shift)), np.diff(stats.norm.cdf(grid))
    return float(np.sum(pos * (np.cumsum(neg) - neg / 2)))


@pytest.mark.slow
def test_intervals_cover_the_truth_about_95_percent() -> None:
    """One audit of 2,000 replicate groups: each group's interval is one replicate."""
    rng = np.random.default_rng(2026)
    groups, size, rate, shift, step = 2000, 160, 0.3, 1.0, 0.25
    n = groups * size
    y = rng.random(n) < 0.5
    score = np.round((rng.normal(0, 1, n) + shift * y) / step) * step
    df = pd.DataFrame(
        {
            "g": np.repeat(np.arange(groups), size).astype(str),
            "s": score,
            "y": y.astype(int),
            "sel": (rng.random(n) < rate).astype(int),
        }
    )
    res = audit(df, score="s", outcome="y", selected="sel", group="g").to_dict()
    entries = res["groups"]["g"].values()

    def coverage(metric: str, truth: float) -> float:
        cis = np.array([e[metric]["ci"] for e in entries], dtype=float)
        return float(np.mean((cis[:, 0] <= truth) & (truth <= cis[:, 1])))

    assert 0.93 <= coverage("selection_rate", rate) <= 0.97
    assert 0.93 <= coverage("base_rate", 0.5) <= 0.97
    assert 0.92 <= coverage("auc", _true_auc(shift, step)) <= 0.97


def test_perfect_separation_leaves_the_auc_difference_untested() -> None:
    df = make_cases(3000, seed=5)
    separated = df.origin == "western"
    df.loc[separated, "y"] = (df.loc[separated, "p"] > df.loc[separated, "p"].median()).astype(int)
    res = run(df, group=["origin"], reference=["origin=dutch"])
    auc = res["groups"]["origin"]["western"]["auc"]
    assert auc["value"] == pytest.approx(1.0) and auc["se"] == pytest.approx(0.0)
    difference = res["disparities"]["origin"]["western"]["auc"]["difference"]
    assert difference["degenerate"] is True
    assert difference["p_value"] is None and difference["p_adjusted"] is None
    assert difference["ci"] == [None, None]
    assert difference["value"] == pytest.approx(
        1.0 - res["groups"]["origin"]["dutch"]["auc"]["value"]
    )
    assert any(f["kind"] == "auc_degenerate" and f["group"] == "western" for f in res["flags"])
    other = res["disparities"]["origin"]["non_western"]["auc"]["difference"]
    assert other["degenerate"] is False and other["p_value"] is not None


def test_a_group_without_events_gets_a_ratio_interval_from_zero() -> None:
    df = make_cases(3000, seed=6)
    df.loc[df.origin == "western", "y"] = 0
    res = run(df, group=["origin"], reference=["origin=dutch"])
    ppv = res["disparities"]["origin"]["western"]["ppv"]["ratio"]
    assert ppv["value"] == 0.0 and ppv["ci"][0] == 0.0 and ppv["ci"][1] > 0.0
    base = res["disparities"]["origin"]["western"]["base_rate"]["ratio"]
    assert base["ci"][0] <= base["value"] <= base["ci"][1]
