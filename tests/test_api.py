"""The top-level Python API names what the README and the issues promise."""

from __future__ import annotations

import pandas as pd

import waarborg
from waarborg.synth import synthesize


def test_audit_and_verify_are_callable_from_the_package() -> None:
    frame = pd.DataFrame({"sex": ["f", "m"] * 50, "sel": [0, 1, 1, 0] * 25})
    result = waarborg.audit(frame, selected="sel", group="sex")
    assert result["groups"]["sex"]["m"]["selection_rate"]["value"] == 0.5
    cases = synthesize("generic-selection", 100, seed=1)
    outputs = waarborg.score("generic-selection", cases).select(["case_id", "band_selection"])
    assert waarborg.verify("generic-selection", cases, outputs).agrees
    assert {"audit", "verify", "score", "load_instrument"} <= set(waarborg.__all__)
