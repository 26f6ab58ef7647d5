"""Selectivity of risk selection: does the selection find more than chance, and for whom?

A process that selects cases for a check can also draw a *random reference sample*: a
small share of all cases, uniformly at random and regardless of score, checked the same
way. The reference sample gives the prevalence of the outcome in the population, against
which the hit rate of the selection, its lift over random selection and the burden it
puts on each group are measured (:mod:`waarborg.selectivity`'s modules; ``waarborg
selectivity`` on the command line).

The *selection table* every part reads has one row per case of the period:

``selected``  bool, not null: the process selected the case for the check;
``reference`` bool, not null: the case was drawn into the random reference sample;
``outcome``   bool, null when the case was not checked (or its outcome is not yet known);
``score``     float: the instrument's score or probability (where a method needs it);
group and feature columns, named by the caller.
"""

from waarborg.selectivity.estimate import SelectivityResult, selectivity_report
from waarborg.selectivity.inputs import SelectionCounts, selection_counts
from waarborg.selectivity.plan import ReferencePlan, plan_reference_share
from waarborg.selectivity.report import render_html

__all__ = [
    "ReferencePlan",
    "SelectionCounts",
    "SelectivityResult",
    "plan_reference_share",
    "render_html",
    "selection_counts",
    "selectivity_report",
]
