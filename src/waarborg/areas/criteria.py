"""Goals and measurable success criteria of an instrument (required for area instruments).

An instrument states what it is for and how success is measured (DESIGN principle 9);
the audit judges each criterion met / not met / unknown with its confidence interval, the
five-conditions check uses them for necessity and effectiveness, and the register entry
quotes them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Metric = Literal["hit_rate", "pai", "pei", "auc", "hit_rate_gain_over_baseline"]
Baseline = Literal["last_period", "long_run", "random"]


class SuccessCriterion(BaseModel):
    """One measurable success criterion, e.g. ``hit_rate >= 0.20`` or ``pai >= 5``.

    ``hit_rate_gain_over_baseline`` compares with ``baseline`` as a relative gain
    (0.10 = 10% better) and is met only when the lower bound of its CI clears ``value``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Metric
    op: Literal[">=", "<="] = ">="
    value: float
    baseline: Baseline | None = None
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    description: str
    description_nl: str


class Goal(BaseModel):
    """What the instrument is for, in English and Dutch, with its success criteria."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statement: str
    statement_nl: str
    success_criteria: tuple[SuccessCriterion, ...] = ()
