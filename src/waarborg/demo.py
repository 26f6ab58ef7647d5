"""The main job, end to end on embedded defaults: ``waarborg demo``.

For every bundled instrument the demo generates a synthetic cohort with planted,
documented mechanisms (:mod:`waarborg.synth`), scores it with the instrument's spec
(for the youth instrument from raw police event records, through the data rules),
audits the scores for validity and discrimination by migration background and sex
(with the proxy analysis of every predictor), and writes cases, scores, the audit (JSON
and HTML reports in English and Dutch), the algorithm-register entry, the model card and
a summary to one folder. For the area instrument (``cas-style``) it synthesises a smaller
city (:mod:`waarborg.areas.synth`), scores every period of it, audits the selections
(:func:`waarborg.areas.audit_areas`) and simulates the feedback loop. Each step is a
:class:`DemoStep` so that the command line can show progress and later stages (audit,
verification, service) join the same list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waarborg import __version__
from waarborg.audit import audit
from waarborg.instruments.engine import (
    Instrument,
    list_instruments,
    load_instrument,
    primary_horizon,
    result_metadata,
    score,
    score_column,
)
from waarborg.register import load_owner, register_entry
from waarborg.register.modelcard import model_card
from waarborg.register.owner import DEMO_OWNER
from waarborg.synth import synthesize, synthesize_events
from waarborg.tables import atomic_path, fingerprint, write_table
from waarborg.verify import verify
from waarborg.verify.demo import DEMO_FAULTS, DEMO_INSTRUMENT, demo_faulty_implementation

if TYPE_CHECKING:  # the area modules (and polars) load only when the area step runs
    from waarborg.areas.engine import AreaScores
    from waarborg.areas.synth import City

DERIVED_FROM_EVENTS = "preselect-style"
AREA_INSTRUMENT = "cas-style"


@dataclass
class DemoStep:
    """One step of the demo: a description and the work, which returns summary lines."""

    title: str
    run: Callable[[], list[str]]


@dataclass
class DemoRun:
    """The demo's settings and what it has written so far."""

    folder: Path
    n: int = 100_000
    seed: int = 2026
    city_size: int = 48
    """Cells per side of the demo's synthetic city (the full-size one has 200)."""
    city_periods: int = 130
    summary: dict[str, Any] = field(default_factory=dict)
    _scored: dict[str, tuple[pa.Table, pa.Table]] = field(default_factory=dict, repr=False)
    city: City | None = field(default=None, repr=False)
    """The synthetic city, once synthesised (for the area audit and simulation steps)."""
    area_scores: AreaScores | None = field(default=None, repr=False)

    def steps(self) -> Iterator[DemoStep]:
        """The steps in order; run each and collect its lines."""
        for instrument_id in list_instruments():
            yield DemoStep(
                f"synthesise and score {instrument_id}",
                lambda i=instrument_id: self._score_instrument(i),
            )
            yield DemoStep(
                f"audit {instrument_id}", lambda i=instrument_id: self._audit_instrument(i)
            )
        yield DemoStep(
            f"selectivity of {SELECTIVITY_INSTRUMENT} with a random reference sample",
            self._selectivity,
        )
        yield DemoStep(f"synthesise a city and score {AREA_INSTRUMENT}", self._score_areas)
        yield DemoStep(f"audit {AREA_INSTRUMENT} and simulate its feedback loop", self._audit_areas)
        yield DemoStep("verify a faulty OxRec-style implementation", self._verify_faulty)
        yield DemoStep("write the summary", self._write_summary)

    def _score_instrument(self, instrument_id: str) -> list[str]:
        inst = load_instrument(instrument_id)
        cases = synthesize(instrument_id, self.n, seed=self.seed)
        folder = self.folder / instrument_id
        write_table(cases, folder / "cases.parquet")
        if instrument_id == DERIVED_FROM_EVENTS:
            events = synthesize_events(cases, seed=self.seed)
            write_table(events, folder / "events.parquet")
            derived = list(inst.spec.data_rules.derive) if inst.spec.data_rules else []
            scored = score(inst, cases.drop_columns(derived), events=events)
        else:
            scored = score(inst, cases)
        write_table(scored, folder / "scores.parquet")
        self._scored[instrument_id] = (cases, scored)
        entry = {
            "instrument": {"id": inst.id, "version": inst.version, "spec_hash": inst.spec_hash},
            "cases": cases.num_rows,
            "cases_fingerprint": {
                "sha256": fingerprint(cases),
                "of": "the synthetic cases (cases.parquet): SHA-256 of the Arrow IPC stream "
                "of its columns",
            },
            "bands": {
                o.name: _band_counts(scored, o.name, inst.spec.bands[o.name].labels)
                for o in inst.outcomes
            },
            "data_rules": result_metadata(scored).get("data_rules"),
        }
        self.summary[instrument_id] = entry
        return _describe(instrument_id, entry)

    def _audit_instrument(self, instrument_id: str) -> list[str]:
        """Audit the scored cohort by migration background and sex, with proxies."""
        inst = load_instrument(instrument_id)
        cases, scored = self._scored.pop(instrument_id)
        table, columns = audit_table(inst, cases, scored)
        excluded = cases.num_rows - table.num_rows
        result = audit(
            table,
            **columns,
            group=list(PROTECTED),
            intersections=True,
            instrument=inst,
            seed=self.seed,
        )
        folder = self.folder / instrument_id
        entry = register_entry(inst.spec, load_owner(DEMO_OWNER), audit=result.to_dict())
        for name, text in (
            ("audit.json", result.to_json()),
            ("audit-en.html", result.to_html("en")),
            ("audit-nl.html", result.to_html("nl")),
            ("register-entry.json", json.dumps(entry.to_json_dict(), ensure_ascii=False)),
            ("modelcard-en.html", model_card(inst.spec, [result], lang="en")),
            ("modelcard-nl.html", model_card(inst.spec, [result], lang="nl")),
        ):
            with atomic_path(folder / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
        significant = [v for v in result["verdicts"] if v["significant"]]
        proxies = result.to_dict().get("proxies", {}).get("verdicts", [])
        self.summary[instrument_id]["audit"] = {
            "report": str(folder / "audit-en.html"),
            "cube_fingerprint": {
                "sha256": result["provenance"]["data_fingerprint"],
                "of": "the count cube the audit read: the 'data fingerprint' of audit.json "
                "and of the reports",
            },
            "cases_excluded_unknown_input": excluded,
            "significant_verdicts": len(significant),
            "verdicts": [v["text_en"] for v in significant[:5]],
            "proxies": [v["text_en"] for v in proxies[:3]],
        }
        lines = [
            f"{instrument_id} · audit of {table.num_rows} cases ({excluded} with an unknown "
            f"input left out): {len(significant)} significant findings"
        ]
        lines += [f"  {v['text_en']}" for v in significant[:2]]
        lines += [f"  {v['text_en']}" for v in proxies[:1]]
        return [*lines, f"  report: {folder / 'audit-en.html'} (Nederlands: audit-nl.html)"]

    def _selectivity(self) -> list[str]:
        """The selectivity report of the student-grant selection, from its cohort.

        The selection table is the one the service would hold after a period with a
        random reference share of :data:`REFERENCE_SHARE`: the cohort's rows are the
        cases (numbered from 1), drawn with the service's draw function under a seed
        derived from the demo's, with the true outcome recorded for every checked case.
        """
        from waarborg.selectivity import render_html, selectivity_report

        folder = self.folder / SELECTIVITY_INSTRUMENT
        inst = load_instrument(SELECTIVITY_INSTRUMENT)
        cases = pq.read_table(folder / "cases.parquet")
        scored = pq.read_table(folder / "scores.parquet")
        table = reference_selection_table(inst, cases, scored, demo_draw_seed(self.seed))
        result = selectivity_report(
            table, list(SELECTIVITY_GROUPS), reference_share=REFERENCE_SHARE
        )
        for name, text in (
            ("selectivity.json", result.to_json()),
            ("selectivity-en.html", render_html(result, "en")),
            ("selectivity-nl.html", render_html(result, "nl")),
        ):
            with atomic_path(folder / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
        design = result["design"]
        non_western = result["by_group"]["migration_background"]["non_western"]
        ratio, prevalence = non_western["selection_ratio"], non_western["prevalence_difference"]
        self.summary[SELECTIVITY_INSTRUMENT]["selectivity"] = {
            "report": str(folder / "selectivity-en.html"),
            "reference_share": REFERENCE_SHARE,
            "reference_cases": design["n_reference"],
            "lift": result["overall"]["lift"],
            "selection_ratio_non_western": ratio,
            "prevalence_difference_non_western": prevalence,
        }
        lift = result["overall"]["lift"]
        return [
            f"{SELECTIVITY_INSTRUMENT} selectivity · {design['n_reference']} cases drawn at "
            f"random ({100 * REFERENCE_SHARE:g}%): lift {lift['value']:.2f} "
            f"[{lift['ci'][0]:.2f}, {lift['ci'][1]:.2f}]; non-Western students selected "
            f"{ratio['value']:.2f}x as often as Dutch [{ratio['ci'][0]:.2f}, "
            f"{ratio['ci'][1]:.2f}], prevalence difference {100 * prevalence['value']:+.1f} "
            f"pp [{100 * prevalence['ci'][0]:+.1f}, {100 * prevalence['ci'][1]:+.1f}]",
            f"  report: {folder / 'selectivity-en.html'} (Nederlands: selectivity-nl.html)",
        ]

    def _score_areas(self) -> list[str]:
        """Synthesise a smaller city and score every period of it (a backtest)."""
        from waarborg.areas.engine import area_scores
        from waarborg.areas.synth import synthesize_city

        inst = load_instrument(AREA_INSTRUMENT)
        self.city = synthesize_city(self.city_size, self.city_periods, seed=self.seed)
        folder = self.folder / AREA_INSTRUMENT
        self.city.write(folder)
        self.area_scores = area_scores(inst, self.city.incidents, self.city.cells, backtest=True)
        write_table(self.area_scores.to_arrow(), folder / "scored.parquet")
        table = self.area_scores.table
        report = self.area_scores.report
        self.summary[AREA_INSTRUMENT] = {
            "instrument": {"id": inst.id, "version": inst.version, "spec_hash": inst.spec_hash},
            "cells": report["cells"],
            "periods_scored": report["periods_scored"],
            "first_period": report["first_period"],
            "last_period": report["last_period"],
            "incidents": report,
            "selected_share": float(table["selected"].mean() or 0.0),
            "scored": str(folder / "scored.parquet"),
        }
        return [
            f"{AREA_INSTRUMENT} · {report['cells']} cells × {report['periods_scored']} periods "
            f"scored from {report['incidents_used']} reported incidents "
            f"({sum(report['not_used_source'].values())} discovered ones not used); "
            f"{100 * self.summary[AREA_INSTRUMENT]['selected_share']:.1f}% of cell-periods "
            "selected",
            f"  scores: {folder / 'scored.parquet'}",
        ]

    def _audit_areas(self) -> list[str]:
        """Audit the city's selections and simulate its feedback loop under each policy.

        The audit judges accuracy, the naive baselines, exposure by group, stops and the
        spec's success criteria; the simulation compares the update policies.
        """
        from waarborg.areas import audit_areas, simulate_feedback
        from waarborg.areas.report import render_feedback

        assert self.city is not None and self.area_scores is not None, "score the city first"
        inst = load_instrument(AREA_INSTRUMENT)
        city, folder = self.city, self.folder / AREA_INSTRUMENT
        result = audit_areas(
            self.area_scores.to_arrow(),
            city.incidents,
            residents=city.residents,
            actions=city.actions,
            cells=city.cells,
            goal=inst.spec.goal,
            instrument=inst,
            seed=self.seed,
        )
        feedback = simulate_feedback(n_cells=city.cells.num_rows, periods=100, seed=self.seed)
        for name, text in (
            ("audit.json", result.to_json()),
            ("audit-en.html", result.to_html("en")),
            ("audit-nl.html", result.to_html("nl")),
            ("feedback.json", feedback.to_json()),
            ("feedback-en.html", render_feedback(feedback.to_dict(), "en")),
            ("feedback-nl.html", render_feedback(feedback.to_dict(), "nl")),
        ):
            with atomic_path(folder / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
        criteria = result["criteria"]
        policies = feedback["policies"]
        self.summary[AREA_INSTRUMENT]["audit"] = {
            "report": str(folder / "audit-en.html"),
            "criteria": {c["metric"]: c["status"] for c in criteria},
            "criteria_text": [c["text_en"] for c in criteria],
            "verdicts": [v["text_en"] for v in result["verdicts"][:5]],
        }
        self.summary[AREA_INSTRUMENT]["feedback"] = {
            "report": str(folder / "feedback-en.html"),
            "true_share": feedback["true_share"],
            "divergence": {k: p["divergence"][-1] for k, p in policies.items()},
        }
        met = sum(c["status"] == "met" for c in criteria)
        lines = [f"{AREA_INSTRUMENT} audit · {met} of {len(criteria)} success criteria met"]
        lines += [f"  {c['text_en']}" for c in criteria]
        lines += [
            "  feedback loop, divergence of patrol from crime shares after 100 periods: "
            + ", ".join(f"{k} {p['divergence'][-1]:.3f}" for k, p in policies.items())
        ]
        return [*lines, f"  reports: {folder / 'audit-en.html'}, {folder / 'feedback-en.html'}"]

    def _verify_faulty(self) -> list[str]:
        """Verify a deliberately faulty implementation, as the inspection found one."""
        cases = synthesize(DEMO_INSTRUMENT, self.n, seed=self.seed)
        observed = demo_faulty_implementation(cases)
        result = verify(DEMO_INSTRUMENT, cases, observed)
        folder = self.folder / "verification"
        write_table(observed, folder / "deployed-outputs.parquet")
        for name, text in (
            ("verify.json", result.to_json()),
            ("verify-en.html", result.to_html("en")),
            ("verify-nl.html", result.to_html("nl")),
        ):
            with atomic_path(folder / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
        self.summary["verification"] = {
            "instrument": DEMO_INSTRUMENT,
            "planted": DEMO_FAULTS,
            "disagreement": {o: v["disagreement"] for o, v in result["outcomes"].items()},
            "diagnosis": result["diagnosis"],
        }
        return [*result.summary().splitlines(), f"  report: {folder / 'verify-en.html'}"]

    def _write_summary(self) -> list[str]:
        self.summary["_provenance"] = {
            "waarborg_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "cases_per_instrument": self.n,
            "seed": self.seed,
        }
        path = self.folder / "summary.json"
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.summary, indent=2), encoding="utf-8")
        return [f"summary: {path}"]


PROTECTED = ("migration_background", "sex")
SELECTIVITY_INSTRUMENT = "generic-selection"
REFERENCE_SHARE = 0.02
"""The random reference share of the demo's student-grant selection (as in its service)."""
SELECTIVITY_GROUPS = ("migration_background", "sex", "education_type")


def demo_draw_seed(seed: int) -> str:
    """The draw seed of the demo's reference sample: derived from the demo's seed (so the
    demo is reproducible), where the service records a random one.

    Examples
    --------
    >>> len(demo_draw_seed(2026))
    64
    """
    return hashlib.sha256(f"waarborg demo reference sample {seed}".encode()).hexdigest()


def reference_selection_table(
    inst: Instrument, cases: pa.Table, scored: pa.Table, draw_seed: str
) -> pa.Table:
    """A synthetic cohort as the selection table of a period with a reference sample.

    Case ``i`` (rows numbered from 1) is ``selected`` when its band is one of the
    instrument's selected bands, and in the ``reference`` sample when
    :func:`waarborg.selectivity.draws.draw_value` of ``draw_seed`` and ``i`` is below
    :data:`REFERENCE_SHARE`, exactly as the service draws. ``outcome`` is the cohort's
    true outcome for the checked cases (selected or drawn) and null for the others.
    """
    from waarborg.selectivity.draws import draw_values

    table, columns = audit_table(inst, cases, scored)
    ids = np.arange(1, cases.num_rows + 1)
    known = pc.and_(  # the rows audit_table keeps
        pc.is_valid(scored.column(columns["band"])), pc.is_valid(scored.column(columns["score"]))
    )
    ids = ids[known.to_numpy(zero_copy_only=False)]
    selected = pc.is_in(table.column(columns["band"]), pa.array(columns["select"])).to_numpy(
        zero_copy_only=False
    )
    reference = draw_values(draw_seed, ids) < REFERENCE_SHARE
    truth = table.column(columns["outcome"]).to_numpy(zero_copy_only=False).astype(bool)
    outcome = pa.array(truth, mask=~(selected | reference))
    return pa.table(
        {
            "case_id": ids,
            "selected": selected,
            "reference": reference,
            "outcome": outcome,
            "score": table.column(columns["score"]),
            "band": table.column(columns["band"]),
            **{name: table.column(name) for name in SELECTIVITY_GROUPS},
        }
    )


def audit_table(
    inst: Instrument, cases: pa.Table, scored: pa.Table
) -> tuple[pa.Table, dict[str, Any]]:
    """The cohort with its primary outcome's band and score, and the audit's column options.

    The score is the probability at the band's horizon where the model gives one, else the
    score; the observed outcome is the synthetic cohort's column for that horizon. Cases
    with an unknown input under the ``range`` policy have no single score (and
    perhaps no single band): they are left out, and their number is returned as ``excluded``.
    """
    outcome = inst.outcomes[0]
    band = inst.spec.bands[outcome.name]
    horizon = primary_horizon(inst)
    scores = score_column(inst, scored.column_names)
    observed = f"outcome_{outcome.name}" + (f"_{horizon:g}y" if horizon else "")
    band_column = f"band_{outcome.name}"
    table = cases.append_column(band_column, scored.column(band_column)).append_column(
        scores, scored.column(scores)
    )
    known = pc.and_(pc.is_valid(table.column(band_column)), pc.is_valid(table.column(scores)))
    table = table.filter(known)
    options = {
        "score": scores,
        "outcome": observed,
        "band": band_column,
        "select": band.selected_labels,
    }
    return table, options


def _band_counts(scored: pa.Table, outcome: str, labels: list[str]) -> dict[str, int]:
    """Cases per band in band order; ``unknown`` counts cases scored as a band range."""
    counts = pc.value_counts(scored.column(f"band_{outcome}").combine_chunks()).to_pylist()
    found = {v["values"] or "unknown": int(v["counts"]) for v in counts}
    return {label: found[label] for label in [*labels, "unknown"] if label in found}


def _describe(instrument_id: str, entry: dict[str, Any]) -> list[str]:
    lines = []
    for outcome, counts in entry["bands"].items():
        total = max(sum(counts.values()), 1)
        shares = ", ".join(f"{band} {100 * n / total:.1f}%" for band, n in counts.items())
        lines.append(f"{instrument_id} · band_{outcome}: {shares}")
    rules = entry["data_rules"]
    if rules:
        removed = sum(rules["removed"].values())
        lines.append(
            f"{instrument_id} · data rules removed {removed} of {rules['events_read']} events "
            f"({', '.join(f'{n} {r}' for r, n in rules['removed'].items())})"
        )
    return lines
