"""The model card: every variable, band and rule of the spec, the audits' figures, the
validation dates; HTML self-contained, Markdown plain."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest
from markupsafe import escape
from typer.testing import CliRunner

import waarborg
from waarborg.cli import app
from waarborg.instruments.spec import level_title_in
from waarborg.register.modelcard import model_card
from waarborg.synth import synthesize

runner = CliRunner()


@pytest.fixture(scope="module")
def audits() -> list[dict]:
    inst = waarborg.load_instrument("oxrec-style")
    cases = synthesize("oxrec-style", 60_000, seed=11)  # as test_revalidation: a real decline
    scored = waarborg.score(inst, cases)
    table = cases.append_column("p", scored["probability_any_2y"]).append_column(
        "band", scored["band_any"]
    )
    table = table.filter(pc.is_valid(table["p"]))
    return [
        json.loads(
            waarborg.audit(
                table.filter(pc.equal(table["cohort"], year)),
                score="p",
                outcome="outcome_any_2y",
                band="band",
                select="hoog",
                group=["migration_background"],
            ).to_json()
        )
        for year in (2019, 2024)
    ]


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("instrument", waarborg.list_instruments())
def test_card_documents_the_whole_spec(instrument: str, fmt: str) -> None:
    spec = waarborg.load_instrument(instrument).spec
    card = model_card(spec, format=fmt, today=date(2026, 11, 23))  # type: ignore[arg-type]
    for p in spec.predictors:
        assert f"{p.name}" in card, p.name
        if p.levels:  # as a person reads them: the English titles (or the codes)
            assert ", ".join(level_title_in(p, x, "en") for x in p.levels) in card, p.name
    assert "built-in method" not in card
    for band in spec.bands.values():
        assert ", ".join(level_title_in(band, x, "en") for x in band.labels) in card
        assert all(f"{c:g}" in card for c in band.cutoffs)
    if spec.data_rules is not None:
        assert all(d in card for d in spec.data_rules.exclude_dispositions)
    assert "2029-06-01" in card  # next due: 2024-06-01 + 5 years


def test_card_carries_the_audits_and_the_revalidation_breach(audits: list[dict]) -> None:
    spec = waarborg.load_instrument("oxrec-style").spec
    html = model_card(spec, audits, today=date(2026, 11, 23))
    for audit in audits:
        assert f"{audit['validity']['auc']['value']:.3f}" in html
    assert "the AUC fell by" in html
    assert html.count("<svg") == 2  # ROC and calibration of the latest audit
    assert not re.search(r"<script|<link|src=\"http", html)  # self-contained
    significant = [v["text_en"] for v in audits[-1]["verdicts"] if v["significant"]]
    assert significant and all(str(escape(text)) in html for text in significant)
    dutch = model_card(spec, audits, lang="nl", today=date(2026, 11, 23), format="md")
    assert dutch.startswith(f"# Modelkaart: {spec.title_nl}") and "de AUC daalde met" in dutch
    assert spec.purpose_nl in dutch and spec.population_nl in dutch


def test_cli_writes_the_card_and_refuses_an_unknown_format(tmp_path: Path, audits: list) -> None:
    files = []
    for i, audit in enumerate(audits):
        files += ["--audit", str(tmp_path / f"a{i}.json")]
        (tmp_path / f"a{i}.json").write_text(json.dumps(audit), encoding="utf-8")
    card = tmp_path / "card.md"
    result = runner.invoke(app, ["modelcard", "oxrec-style", "-o", str(card), *files])
    assert result.exit_code == 0, result.output
    assert "# Model card: OxRec-style" in card.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["modelcard", "oxrec-style", "-o", str(tmp_path / "card.pdf")])
    assert bad.exit_code == 2 and not (tmp_path / "card.pdf").exists()
