"""Area instruments: the area audit (accuracy, baselines, exposure, stops, success
criteria) and the feedback-loop simulation."""

from waarborg.areas.audit import AreaAuditResult, audit_areas
from waarborg.areas.feedback import FeedbackResult, simulate_feedback, urn_simulation
from waarborg.areas.inputs import residents_on_grid
from waarborg.areas.judge import judge_criteria

__all__ = [
    "AreaAuditResult",
    "FeedbackResult",
    "audit_areas",
    "judge_criteria",
    "residents_on_grid",
    "simulate_feedback",
    "urn_simulation",
]
