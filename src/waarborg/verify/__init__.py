"""Conformance verification: does a deployed implementation match its instrument spec?

:func:`verify` compares the outputs a deployed system produced with the outputs the
spec prescribes for the same cases, and diagnoses the disagreements by recovering the
deployed parameters (each weight, intercept, centre, baseline survival, transform number,
bin edge and cut-off, and the rule that chooses the variant), plus missing values handled
differently and data rules not applied. :func:`acceptance_vectors` makes a covering set
of test cases with expected outputs to hand to a software supplier.
:func:`demo_faulty_implementation` gives the outputs of a deliberately faulty OxRec-style
implementation (formulas swapped, one weight wrong) for the demo.
"""

from waarborg.verify.api import verify
from waarborg.verify.demo import demo_faulty_implementation
from waarborg.verify.result import VerifyResult
from waarborg.verify.vectors import acceptance_vectors

__all__ = ["VerifyResult", "acceptance_vectors", "demo_faulty_implementation", "verify"]
