"""The HTML audit report: self-contained, bilingual, escaped, accessible, deterministic."""

from __future__ import annotations

import copy
import re
from html import escape
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from scipy import stats

from waarborg.report import plots
from waarborg.report.html import render

SPECIAL = "<b>x</b> & $y$"
SPEC_HASH = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
FINGERPRINT = "c0ffee00deadbeef1234567890abcdef1234567890abcdef1234567890abcdef"
VERDICT_EN = "Women are selected 1.62 times as often as men (95% CI 1.41 to 1.86)."
VERDICT_NL = "Vrouwen worden 1,62 keer zo vaak geselecteerd als mannen (95%-BI 1,41 tot 1,86)."


# --------------------------------------------------------------------------- fixtures


def leaf(value: float | None, n: int, half: float = 0.02) -> dict[str, Any]:
    """A metric leaf with a symmetric interval (clipped to [0, 1] for rates)."""
    if value is None:
        return {"value": None, "ci": [None, None], "n": n}
    return {"value": value, "ci": [max(value - half, 0.0), min(value + half, 1.0)], "n": n}


def comparison(ratio: float, diff: float, p: float, p_adj: float) -> dict[str, Any]:
    """One disparity: difference and ratio with intervals and p-values."""
    return {
        "difference": {
            "value": diff,
            "ci": [diff - 0.03, diff + 0.03],
            "p_value": p,
            "p_adjusted": p_adj,
        },
        "ratio": {
            "value": ratio,
            "ci": [ratio * 0.85, ratio / 0.85],
            "p_value": p,
            "p_adjusted": p_adj,
        },
    }


def roc_curve(separation: float) -> dict[str, list[float]]:
    """A binormal ROC curve."""
    fpr = np.linspace(0, 1, 21)
    tpr = stats.norm.cdf(stats.norm.ppf(np.clip(fpr, 1e-9, 1 - 1e-9)) + separation)
    tpr[0], tpr[-1] = 0.0, 1.0
    return {"fpr": fpr.round(4).tolist(), "tpr": tpr.round(4).tolist()}


def group_entry(n: int, sel: float, base: float, *, too_small: bool = False) -> dict[str, Any]:
    """One group's metrics with an outcome."""
    half = 0.25 if too_small else 0.02
    return {
        "n": n,
        "share": leaf(n / 12000, 12000, 0.005),
        "share_selected": leaf(n * sel / 3000, 3000, 0.01),
        "selection_rate": leaf(sel, n, half),
        "base_rate": leaf(base, n, half),
        "fpr": leaf(sel * 0.6, int(n * (1 - base)), half),
        "fnr": leaf(0.45 - sel / 3, int(n * base), half),
        "ppv": leaf(min(base * 1.6, 1.0), int(n * sel), half),
        "auc": leaf(0.70 if not too_small else None, n, 0.03),
        "too_small": too_small,
    }


def calibration_rows(labels: list[str], ns: list[int], risks: list[float]) -> list[dict]:
    """Calibration rows as the audit engine writes them: counts, not rates."""
    rows = []
    for label, n, p in zip(labels, ns, risks, strict=True):
        observed, expected = round(n * p * 1.1), n * p
        oe = observed / expected
        rows.append(
            {
                "kind": "band",
                "label": label,
                "n": n,
                "observed": observed,
                "expected": expected,
                "oe": {"value": oe, "ci": [oe * 0.9, oe * 1.1], "n": n},
            }
        )
    return rows


def full_result(*, proxies: bool = True) -> dict[str, Any]:
    """A realistic audit result: two attributes, an intersection, a too-small group."""
    groups = {
        "sex": {"male": group_entry(7000, 0.22, 0.30), "female": group_entry(5000, 0.31, 0.28)},
        "origin": {
            "Dutch": group_entry(9000, 0.23, 0.29),
            SPECIAL: group_entry(2988, 0.34, 0.30),
            "Frisian": group_entry(12, 0.25, 0.33, too_small=True),
        },
        "sex×origin": {
            "male×Dutch": group_entry(5200, 0.20, 0.30),
            "female×Dutch": group_entry(3800, 0.27, 0.28),
            f"male×{SPECIAL}": group_entry(1794, 0.29, 0.31),
            f"female×{SPECIAL}": group_entry(1194, 0.41, 0.29),
        },
    }
    reference = {"sex": "male", "origin": "Dutch", "sex×origin": "male×Dutch"}
    disparities = {
        "sex": {
            "female": {
                "selection_rate": comparison(1.62, 0.09, 1e-6, 1e-5),
                "fpr": comparison(1.3, 0.05, 0.01, 0.04),
                "fnr": comparison(0.8, -0.03, 0.2, 0.6),
            }
        },
        "origin": {
            SPECIAL: {
                "selection_rate": comparison(1.48, 0.11, 1e-4, 1e-3),
                "fpr": comparison(1.1, 0.02, 0.3, 0.6),
            },
            "Frisian": {
                "selection_rate": comparison(1.09, 0.02, 0.9, 1.0),
                "fpr": {
                    "difference": {
                        "value": None,
                        "ci": [None, None],
                        "p_value": None,
                        "p_adjusted": None,
                    },
                    "ratio": {
                        "value": None,
                        "ci": [None, None],
                        "p_value": None,
                        "p_adjusted": None,
                    },
                },
            },
        },
        "sex×origin": {
            g: {"selection_rate": comparison(r, 0.05, 0.01, 0.05)}
            for g, r in (
                ("female×Dutch", 1.35),
                (f"male×{SPECIAL}", 1.45),
                (f"female×{SPECIAL}", 2.05),
            )
        },
    }
    deciles = calibration_rows(
        [f"D{i}" for i in range(1, 11)], [1200] * 10, [0.05 + 0.06 * i for i in range(10)]
    )
    for row in deciles:
        row["kind"] = "decile"
    result = {
        "n": {"value": 12000, "ci": [None, None], "n": 12000},
        "provenance": {
            "waarborg_version": "0.1.0",
            "created": "2026-03-02T09:30:00+00:00",
            "data_fingerprint": FINGERPRINT,
            "instrument": {"id": "preselect-style", "version": "2.1", "spec_hash": SPEC_HASH},
            "score_binning": {"method": "quantile", "bins": 50},
        },
        "inputs": {
            "sources": ["cases-2025.parquet"],
            "score": "risk",
            "outcome": "reoffended",
            "band": "band",
            "select": ["hoog"],
            "selected": None,
            "groups": ["sex", "origin"],
            "intersections": [["sex", "origin"]],
            "count": None,
            "confidence": 0.95,
            "min_group_size": 30,
        },
        "reference": reference,
        "validity": {
            "auc": leaf(0.712, 12000, 0.011),
            "auc_band": leaf(0.66, 12000, 0.012),
            "brier": leaf(0.182, 12000, 0.004),
            "base_rate": leaf(0.293, 12000, 0.008),
            "calibration_slope": {"value": 0.87, "ci": [0.79, 0.95], "n": 12000},
            "calibration_intercept": {"value": -0.12, "ci": [-0.18, -0.06], "n": 12000},
            "calibration": calibration_rows(
                ["laag", "midden", "hoog"], [5000, 4000, 3000], [0.15, 0.3, 0.5]
            ),
            "calibration_deciles": deciles,
            "roc": {
                "overall": roc_curve(0.8),
                "groups": {
                    attr: {g: roc_curve(0.5 + 0.1 * i) for i, g in enumerate(per)}
                    for attr, per in groups.items()
                },
            },
        },
        "overall": {"selection_rate": leaf(0.25, 12000, 0.008), "base_rate": leaf(0.293, 12000)},
        "groups": groups,
        "disparities": disparities,
        "verdicts": [
            {
                "attribute": "sex",
                "group": "female",
                "metric": "selection_rate",
                "text_en": VERDICT_EN,
                "text_nl": VERDICT_NL,
                "ratio": 1.62,
                "ci": [1.41, 1.86],
                "significant": True,
            },
            {
                "attribute": "origin",
                "group": SPECIAL,
                "metric": "fpr",
                "text_en": f"No significant difference in false positives for {SPECIAL}.",
                "text_nl": f"Geen significant verschil in fout-positieven voor {SPECIAL}.",
                "ratio": 1.1,
                "ci": [0.94, 1.29],
                "significant": False,
            },
        ],
        "flags": [
            {
                "code": "too_small",
                "text_en": "Group Frisian has only 12 cases.",
                "text_nl": "Groep Frisian heeft maar 12 gevallen.",
            }
        ],
        "tests": {"family_size": 9},
    }
    if proxies:
        result["proxies"] = {
            "association": {
                "postcode": {
                    "origin": {
                        "cramers_v": leaf(0.41, 12000, 0.02),
                        "auc": {"west": leaf(0.55, 9000, 0.01), SPECIAL: leaf(0.23, 5000, 0.01)},
                    }
                },
                "shoe_size": {"origin": {"cramers_v": leaf(0.03, 12000, 0.01), "auc": {}}},
            },
            "neutralised": {
                "postcode": {
                    "origin": {
                        SPECIAL: {
                            "selection_rate": {
                                "before": leaf(0.34, 2988),
                                "after": leaf(0.26, 2988),
                            }
                        }
                    }
                }
            },
        }
    return result


def minimal_result() -> dict[str, Any]:
    """Selection metrics only: no score, no outcome, no instrument."""

    def sel(n: int, rate: float) -> dict[str, Any]:
        return {
            "n": n,
            "share": leaf(n / 1000, 1000),
            "selection_rate": leaf(rate, n, 0.04),
            "share_selected": leaf(n * rate / 100, 100, 0.05),
            "too_small": False,
        }

    return {
        "n": 1000,
        "provenance": {
            "waarborg_version": "0.1.0",
            "created": "2026-03-02",
            "data_fingerprint": FINGERPRINT,
            "instrument": None,
        },
        "inputs": {
            "score": None,
            "outcome": None,
            "band": None,
            "select": None,
            "selected": "flagged",
            "groups": ["region"],
            "intersections": [],
            "count": None,
            "confidence": 0.95,
            "min_group_size": 30,
        },
        "reference": {"region": "north"},
        "groups": {"region": {"north": sel(600, 0.08), "south": sel(400, 0.13)}},
        "disparities": {"region": {"south": {"selection_rate": comparison(1.6, 0.05, 0.01, 0.01)}}},
        "verdicts": [
            {
                "attribute": "region",
                "group": "south",
                "metric": "selection_rate",
                "text_en": "South is selected 1.6 times as often as north.",
                "text_nl": "Zuid wordt 1,6 keer zo vaak geselecteerd als noord.",
                "ratio": 1.6,
                "ci": [1.1, 2.3],
                "significant": True,
            }
        ],
        "flags": [],
    }


class Page(HTMLParser):
    """Walks a page: tags with attributes, text, and nesting of <svg> and <footer>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.footer_text: list[str] = []
        self.stack: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "footer" in self.stack:
            self.footer_text.append(data)
        if self.stack and self.stack[-1] == "style":
            self.styles.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """The full result rendered in both languages (rendered once: plots take time)."""
    result = full_result()
    return {lang: render(result, lang) for lang in ("en", "nl")}


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_page_is_self_contained(pages: dict[str, str], lang: str) -> None:
    page = parse(pages[lang])
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
        assert tag not in {"script", "iframe", "object", "embed", "img"}
        assert not (tag == "link" and "stylesheet" in (attrs.get("rel") or ""))
    assert "<script" not in pages[lang].lower()
    assert all("@import" not in s and "url(" not in s for s in page.styles)
    assert pages[lang].startswith("<!DOCTYPE html>")


def test_html_lang_attribute(pages: dict[str, str]) -> None:
    assert '<html lang="nl">' in pages["nl"]
    assert '<html lang="en">' in pages["en"]
    assert "Conclusies" in pages["nl"] and "Verdicts" in pages["en"]


@pytest.mark.parametrize(
    ("lang", "text", "other"), [("en", VERDICT_EN, VERDICT_NL), ("nl", VERDICT_NL, VERDICT_EN)]
)
def test_verdicts_come_first_in_the_chosen_language(
    pages: dict[str, str], lang: str, text: str, other: str
) -> None:
    page = pages[lang]
    first_svg = page.index("<svg")
    assert -1 < page.find(escape(text)) < first_svg
    escaped_special = escape(f"{SPECIAL}.")
    assert -1 < page.find(escaped_special) < first_svg
    assert other not in page


def test_page_has_accessible_svg_plots(pages: dict[str, str]) -> None:
    page = pages["en"]
    svgs = re.findall(r"<svg\b[^>]*>\s*<title id=\"[^\"]+\">[^<]+</title>", page)
    # ROC, calibration, and one forest plot per metric (selection rate, FPR, FNR)
    assert len(svgs) == page.count("<svg") == 5
    assert page.count('role="img"') == 5
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    ids = [attrs["id"] for _, attrs in parse(page).tags if attrs.get("id")]
    assert len(ids) == len(set(ids)), "element ids must be unique across inlined plots"


def test_every_group_name_appears(pages: dict[str, str]) -> None:
    result = full_result()
    text = "".join(parse(pages["en"]).text)
    for per_group in result["groups"].values():
        for group in per_group:
            assert group in text, group
    assert "female×Dutch" in text and f"female×{SPECIAL}" in text


def test_too_small_group_is_flagged_not_hidden(pages: dict[str, str]) -> None:
    page = pages["en"]
    rows = re.findall(r'<tr class="too-small[^"]*">(.*?)</tr>', page, flags=re.S)
    assert rows and all("Frisian" in r for r in rows)
    assert any("too small" in r for r in rows)
    assert "Frisian (too small)" in page  # the forest plot's label
    assert "te klein" in pages["nl"]
    assert "not estimable" in page  # Frisian's FPR ratio is undefined, and said so


def test_strings_from_data_are_escaped(pages: dict[str, str]) -> None:
    for page in pages.values():
        assert "<b>x</b>" not in page
        assert "&lt;b&gt;x&lt;/b&gt;" in page
        assert not parse(page).tags or all(tag != "b" for tag, _ in parse(page).tags)


def test_numbers_show_interval_and_n(pages: dict[str, str]) -> None:
    en, nl = pages["en"], pages["nl"]
    assert "AUC 0.712 (95% CI 0.701–0.723; n = 12,000)" in en
    assert "AUC 0,712 (95%-BI 0,701–0,723; n = 12.000)" in nl
    assert "n = 2,988" in en  # per-group n next to the rates
    assert "+9.0 pp" in en and "1.62" in en  # difference in points and ratio


def test_tables_have_captions_and_header_scopes(pages: dict[str, str]) -> None:
    page = pages["en"]
    assert page.count("<table>") == page.count("<caption>") >= 9
    assert 'scope="col"' in page and 'scope="row"' in page


def test_footer_shows_provenance(pages: dict[str, str]) -> None:
    for page in pages.values():
        footer = "".join(parse(page).footer_text)
        assert SPEC_HASH in footer and FINGERPRINT in footer
        assert "0.1.0" in footer and "2026-03-02" in footer


def test_proxy_section_only_when_present(pages: dict[str, str]) -> None:
    assert "Indirect discrimination: proxies" in pages["en"]
    assert "Indirecte discriminatie" in pages["nl"]
    assert "postcode" in pages["en"]
    without = render(full_result(proxies=False), "en")
    assert 'id="proxies"' not in without


def test_proxy_tables_show_what_matters_and_fold_the_rest() -> None:
    page = render(full_result(), "en")
    section = page[page.index('id="proxies"') : page.index('id="inputs"')]
    shown, folded = section.split("<details>")
    assert "postcode" in shown and "shoe_size" not in shown, "V 0.41 shown, V 0.03 folded"
    assert "shoe_size" in folded
    # the AUC is per group: the group farthest from 0.5 is shown, with its name
    assert f"{escape(SPECIAL)}: 0.23" in shown
    without_auc = copy.deepcopy(full_result())
    for per_attr in without_auc["proxies"]["association"].values():
        per_attr["origin"]["auc"] = {}
    assert "AUC (predictor" not in render(without_auc, "en"), "an empty column is left out"


def test_minimal_result_renders_and_says_what_is_missing() -> None:
    en = render(minimal_result(), "en")
    nl = render(minimal_result(), "nl")
    assert "No outcome column was given, so predictive validity was not assessed" in en
    assert "dus de voorspellende validiteit is niet beoordeeld" in nl
    assert en.count("<svg") == 1  # only the forest plot of selection rates
    assert 'id="fig-roc"' not in en and 'id="fig-calibration"' not in en
    assert "South is selected 1.6 times" in en and "south" in en
    assert FINGERPRINT in en and "not named" in en


def test_missing_roc_is_said_not_silently_dropped() -> None:
    result = full_result()
    del result["validity"]["roc"]
    page = render(result, "en")
    assert "contains no ROC curves" in page and 'id="fig-roc"' not in page


def test_none_values_render_as_dashes() -> None:
    result = minimal_result()
    result["groups"]["region"]["south"]["selection_rate"] = leaf(None, 0)
    page = render(result, "en")
    assert "—" in page and "could not be computed" in page


def test_rendering_is_deterministic(pages: dict[str, str]) -> None:
    result = full_result()
    assert render(result, "en") == pages["en"]
    assert render(copy.deepcopy(result), "nl") == pages["nl"]


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="lang"):
        render(minimal_result(), "de")


def test_plot_functions_return_inline_svg() -> None:
    result = full_result()
    roc = plots.roc_svg(result["validity"]["roc"], "nl", result["groups"])
    cal = plots.calibration_svg(result, "en")
    forest = plots.forest_svg(result["disparities"], "fpr", "en", groups=result["groups"])
    for svg in (roc, cal, forest):
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "<text" in svg  # svg.fonttype "none": text stays text
    assert "Fout-positief percentage" in roc
    with pytest.raises(ValueError, match="ppv"):
        plots.forest_svg(result["disparities"], "ppv", "en")


def test_calibration_points_turn_counts_into_rates() -> None:
    rows = calibration_rows(["laag", "hoog"], [1000, 500], [0.1, 0.4])
    low, high = plots.calibration_points(rows)
    assert low.observed == pytest.approx(110 / 1000) and low.expected == pytest.approx(0.1)
    assert high.low < high.observed < high.high
    # small counts are still counts (no guessing of units): 1 event in 4 cases is 0.25
    (point,) = plots.calibration_points([{"label": "a", "n": 4, "observed": 1, "expected": 0.5}])
    assert point.observed == pytest.approx(0.25) and point.expected == pytest.approx(0.125)


def test_calibration_without_predicted_risks_plots_bands() -> None:
    result = full_result()
    for row in result["validity"]["calibration"]:
        row.pop("expected"), row.pop("oe")
    del result["validity"]["calibration_deciles"]
    page = render(result, "en")
    assert "no diagonal to compare with" in page
    assert 'id="fig-calibration"' in page


def test_significant_verdicts_lead_and_the_rest_are_listed(pages: dict[str, str]) -> None:
    page = pages["en"]
    found = page.index(escape(VERDICT_EN))
    heading = page.index("No significant difference found")
    assert found < heading < page.index(escape(f"false positives for {SPECIAL}"))


def test_correction_method_and_alpha_come_from_the_result() -> None:
    result = full_result(proxies=False)
    result["tests"] = {"family_size": 9, "correction": "bh", "alpha": 0.1}
    page = render(result, "en")
    assert "p (Benjamini–Hochberg-adjusted)" in page
    assert "adjusted p below 0.10" in page and "family of 9 tests" in page


def test_calibration_prefers_the_audits_observed_rate_interval() -> None:
    rows = calibration_rows(["laag"], [1000], [0.1])
    rows[0]["observed_rate"] = {"value": 0.11, "ci": [0.09, 0.13], "n": 1000}
    (point,) = plots.calibration_points(rows)
    assert (point.observed, point.low, point.high) == (0.11, 0.09, 0.13)
