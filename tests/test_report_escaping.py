"""Reports escape every text that came from a file: group names and labels in the audit
report and its plots, case ids in the verification report, a spec's texts and an
audit's groups in the model card (HTML and Markdown). Issue 10, part 1."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from markdown_it import MarkdownIt
from markupsafe import escape

import waarborg
from waarborg.register import modelcard
from waarborg.register.modelcard import model_card
from waarborg.report import plots
from waarborg.report.html import render
from waarborg.synth import synthesize
from waarborg.verify import verify

PAYLOAD = (
    "<meta http-equiv=refresh content=0;url=//evil.example/x>"
    '<script>alert(1)</script>"><img src=x>{{7*7}}'
)
# an attack as a group name is long: matplotlib squeezes the axes, and says so
pytestmark = pytest.mark.filterwarnings("ignore:constrained_layout not applied:UserWarning")

RAW = ("<meta http-equiv", "<script>alert", "<img src=x")


def poison(tag: str) -> str:
    return f"{tag}: {PAYLOAD}"


def assert_no_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw


def assert_escaped(text: str, *tags: str) -> None:
    """No raw markup of the attack; each tagged value shown, HTML-escaped."""
    assert_no_raw(text)
    for tag in tags:
        # matplotlib writes ' and " as &#x27; / &quot;, Jinja2 as &#39; / &#34;: accept both
        shown = [str(escape(poison(tag))), str(escape(poison(tag))).replace("&#34;", "&quot;")]
        assert any(s in text for s in shown), tag


@pytest.fixture(scope="module")
def audit_result() -> dict[str, Any]:
    """An audit of scores with an outcome, over two groups whose names are attacks."""
    rng = np.random.default_rng(5)
    n = 3000
    groups = np.where(rng.random(n) < 0.5, poison("group-a"), poison("group-b"))
    score = rng.random(n)
    outcome = (rng.random(n) < score).astype(int)
    band = np.where(score > 0.7, poison("band-high"), "low")
    table = pa.table({"group": groups, "p": score, "y": outcome, "band": band})
    result = waarborg.audit(
        table, score="p", outcome="y", band="band", select=poison("band-high"), group="group"
    )
    return json.loads(result.to_json())


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_audit_report_escapes_group_names_and_band_labels(audit_result: dict, lang: str) -> None:
    page = render(audit_result, lang)
    assert_escaped(page, "group-a", "group-b", "band-high")


def test_plot_svg_escapes_a_group_name_in_its_labels(audit_result: dict) -> None:
    svg = plots.roc_svg(audit_result["validity"]["roc"], "en", audit_result["groups"])
    assert "<svg" in svg
    assert_escaped(svg, "group-a", "group-b")
    forest = plots.forest_svg(
        audit_result["disparities"],
        "selection_rate",
        "en",
        reference=audit_result.get("reference"),
        groups=audit_result["groups"],
    )
    assert_escaped(forest, "group-a", "group-b")


def test_verification_report_escapes_case_ids() -> None:
    cases = synthesize("generic-selection", 300, seed=3)
    ids = [poison(f"id{i}") for i in range(cases.num_rows)]
    cases = cases.set_column(cases.schema.get_field_index("case_id"), "case_id", pa.array(ids))
    observed = waarborg.score("generic-selection", cases).select(["case_id", "band_selection"])
    bands = observed.column("band_selection").to_pylist()
    flipped = ["1" if b != "1" else "6" for b in bands[:40]] + bands[40:]
    observed = observed.set_column(1, "band_selection", pa.array(flipped))
    observed = observed.slice(0, 290)  # the last ten are only in the cases file
    for lang in ("en", "nl"):
        page = verify("generic-selection", cases, observed).to_html(lang)
        assert_escaped(page, "id295")  # listed as only in the cases file
        assert any(str(escape(poison(f"id{i}"))) in page for i in range(40))  # a worst case


def poisoned_spec() -> Any:
    spec = waarborg.load_instrument("oxrec-style").spec
    source = spec.provenance.sources[0].model_copy(
        update={"citation": poison("citation"), "url": "javascript:alert(1)"}
    )
    provenance = spec.provenance.model_copy(update={"notes": poison("notes"), "sources": [source]})
    texts = ("title", "purpose", "population", "description", "owner")
    update: dict[str, Any] = {field: poison(field) for field in texts}
    return spec.model_copy(update={**update, "provenance": provenance})


def test_model_card_html_escapes_spec_texts_and_audit_groups(audit_result: dict) -> None:
    card = model_card(poisoned_spec(), [audit_result], format="html")
    assert_escaped(card, "title", "purpose", "population", "description", "owner")
    assert_escaped(card, "notes", "citation", "group-a")  # group-a: in the ROC plot's legend
    assert "<svg" in card
    assert 'href="javascript:' not in card


def test_model_card_markdown_escapes_spec_texts(audit_result: dict) -> None:
    card = model_card(poisoned_spec(), [audit_result], format="md")
    assert_no_raw(card)
    for tag in ("title", "purpose", "population", "description", "owner", "notes", "citation"):
        assert modelcard.md_escape(poison(tag)) in card, tag
    assert "{{7*7}}" in card  # not evaluated
    assert "<javascript:" not in card and "](javascript" not in card


def test_markdown_escape_survives_a_markdown_renderer() -> None:
    """What a CommonMark renderer makes of the escaped text: the text itself, no HTML."""
    text = poison("x") + " [click](javascript:alert(1)) `code` a|b \\"
    html = MarkdownIt("commonmark").render(modelcard.md_escape(text))
    assert_no_raw(html)
    assert "<a " not in html and "<code>" not in html
    assert re.sub(r"<[^>]+>", "", html).strip() == str(escape(text)).replace("&#34;", "&quot;")
