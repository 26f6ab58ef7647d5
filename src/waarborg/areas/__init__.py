"""Area instruments: grids, incident data rules, area features, scoring and selection.

An area instrument (``unit: area`` in its spec) scores every cell of a grid in every
period from incident records, and selects the highest-scoring cells (see
``docs/areas.md``). :func:`score_areas` is the entry point; :mod:`waarborg.areas.grid`
names and draws cells; :mod:`waarborg.areas.synth` writes a synthetic city; the area
audit (:func:`audit_areas`) and the feedback-loop simulation (:func:`simulate_feedback`)
judge the selections.

The names here are imported lazily, so that the instrument spec can import
:mod:`waarborg.areas.criteria` and :mod:`waarborg.areas.spec` without a cycle.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "score_areas": "waarborg.areas.engine",
    "area_scores": "waarborg.areas.engine",
    "AreaScores": "waarborg.areas.engine",
    "synthesize_city": "waarborg.areas.synth",
    # the area audit and the feedback-loop simulation
    "AreaAuditResult": "waarborg.areas.audit",
    "audit_areas": "waarborg.areas.audit",
    "FeedbackResult": "waarborg.areas.feedback",
    "simulate_feedback": "waarborg.areas.feedback",
    "urn_simulation": "waarborg.areas.feedback",
    "residents_on_grid": "waarborg.areas.inputs",
    "judge_criteria": "waarborg.areas.judge",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'waarborg.areas' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
