"""A deliberately faulty OxRec-style implementation, as the inspection found one.

Used by ``waarborg demo`` to show :func:`waarborg.verify` at work: the deployed system
uses the probationers' formulas for prisoners and the other way round, and in the
formula it applies to prisoners the violent-reoffending weight of low income is 0.55
where the spec says 0.15.
"""

from __future__ import annotations

import pyarrow as pa

from waarborg.instruments.engine import Instrument, load_instrument, output_columns, score
from waarborg.verify.hypothesis import with_model, with_weight

DEMO_INSTRUMENT = "oxrec-style"
DEMO_FAULTS = [
    "the prisoner and probationer formulas are swapped",
    "in the formula applied to prisoners (the probationers', swapped in), the "
    "violent-reoffending weight of low income is 0.55 instead of 0.15",
]


def demo_faulty_implementation(cases: pa.Table) -> pa.Table:
    """The outputs of a faulty OxRec-style implementation with the :data:`DEMO_FAULTS`.

    Parameters
    ----------
    cases
        Cases with the OxRec-style inputs and a ``case_id`` column.

    Returns
    -------
    pyarrow.Table
        ``case_id`` and the outputs a deployed system reports (``band_<o>`` and
        ``probability_<o>_<h>y``), as the faulty implementation computes them.

    Examples
    --------
    >>> from waarborg.synth import synthesize
    >>> from waarborg.verify import verify
    >>> cases = synthesize("oxrec-style", 2000, seed=1)
    >>> result = verify("oxrec-style", cases, demo_faulty_implementation(cases))
    >>> [f["fault"] for f in result["diagnosis"]]
    ['variant_swapped', 'coefficient_wrong']
    """
    spec = load_instrument(DEMO_INSTRUMENT).spec
    variants = spec.model.all_variants
    swapped = dict(variants) | {
        "prisoner": variants["probationer"],
        "probationer": variants["prisoner"],
    }
    faulty = with_weight(
        with_model(spec, variants=swapped), "prisoner", "violent", "income", "low", 0.55
    )
    scored = score(Instrument(faulty), cases)
    return scored.select(["case_id", *output_columns(scored)])
