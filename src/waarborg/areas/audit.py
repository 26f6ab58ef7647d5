"""The area audit: accuracy, baselines, exposure, stops and success criteria in one result.

:func:`audit_areas` reads the scored table (one row per cell × period), the incidents
and optionally residents, police actions and the instrument's goal, and returns an
:class:`AreaAuditResult` whose JSON follows the conventions of
:class:`waarborg.audit.result.AuditResult`: every number is ``{"value", "ci", "n"}``,
undefined numbers are ``null``; ``verdicts``, ``disparities``, ``validity`` and
``provenance`` are there, so the register, the five-conditions check and the
revalidation read an area audit as they read any other. See ``docs/areas-audit.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from waarborg import __version__
from waarborg.areas import accuracy as acc_mod
from waarborg.areas.criteria import Goal
from waarborg.areas.exposure import exposure, stops
from waarborg.areas.inputs import (
    read_actions,
    read_cells,
    read_incidents,
    read_residents,
    read_scored,
)
from waarborg.areas.judge import judge_criteria
from waarborg.audit.result import AuditResult, jsonable, skipped
from waarborg.report.i18n import fmt_count
from waarborg.tables import TableLike

__all__ = ["AreaAuditResult", "audit_areas"]

MAP_PERIODS = 4
"""Periods shown as small multiples on the report's map (the last ones)."""


def audit_areas(
    scored: TableLike,
    incidents: TableLike,
    *,
    residents: TableLike | None = None,
    actions: TableLike | None = None,
    goal: Goal | None = None,
    period_days: int = 14,
    cells: TableLike | None = None,
    cell_size: float = 125.0,
    square_size: float | None = None,
    reference: str | None = None,
    confidence: float = 0.95,
    min_group_size: int = 30,
    n_resamples: int = acc_mod.N_RESAMPLES,
    block: int | None = None,
    seed: int = 0,
    instrument: Any = None,
) -> AreaAuditResult:
    """Audit an area instrument's selections against the incidents that followed.

    Parameters
    ----------
    scored : table or path
        ``cell_id``, ``period`` (start date), ``score``, ``selected`` and optionally
        ``expected_incidents``; every cell in every period exactly once.
    incidents : table or path
        ``cell_id``, ``time`` or ``date``, optional ``type`` and ``source``
        (``reported`` / ``discovered``).
    residents : table or path, optional
        Residents per group: ``cell_id``, ``group``, ``residents`` on the same grid, or
        statistics-office squares (``square`` or ``x``, ``y`` [, ``size``]) that are
        area-weighted onto the grid (needs ``cells``).
    actions : table or path, optional
        Police actions: ``cell_id``, ``time``, ``basis``, ``person`` [, ``group``].
    goal : Goal, optional
        The instrument's goal and success criteria, judged met / not met / unknown.
    period_days : int
        Length of a period.
    cells : table or path, optional
        ``cell_id``, ``x``, ``y`` (lower-left corner, RD New metres): for the map and
        for area weighting.
    cell_size : float
        Side of a grid cell in metres.
    square_size : float, optional
        Side of the residents' squares when given as ``E####N####`` ids without a
        ``size`` column (100 or 500).
    reference : str, optional
        Reference group for the exposure ratios (default: the largest).
    confidence : float
        Confidence level of the intervals.
    min_group_size : int
        Groups with fewer residents are reported but get no verdict.
    n_resamples, block, seed
        The block bootstrap over periods: resamples, block length (default
        ``round(P ** (1/3))``) and seed.
    instrument : str or Instrument, optional
        Named in the provenance (id, version, spec hash); its ``goal`` is used when
        ``goal`` is not given.

    Returns
    -------
    AreaAuditResult

    Examples
    --------
    >>> import datetime as dt
    >>> days = [dt.date(2025, 1, 6), dt.date(2025, 1, 20)]
    >>> scored = {"cell_id": ["a", "b", "c", "d"] * 2, "period": [days[0]] * 4 + [days[1]] * 4,
    ...           "score": [0.9, 0.1, 0.2, 0.3] * 2, "selected": [True, False, False, False] * 2}
    >>> incidents = {"cell_id": ["a", "a", "b", "a"],
    ...              "date": [days[0], days[0], days[0], days[1]]}
    >>> res = audit_areas(scored, incidents, n_resamples=50)
    >>> res["accuracy"]["pooled"]["hit_rate"]["value"]
    0.75
    """
    inst = _instrument(instrument)
    if goal is None and inst is not None:
        goal = getattr(inst.spec, "goal", None)
    s = read_scored(scored, period_days)
    inc = read_incidents(incidents, s)
    current = inc.scored
    boot = acc_mod.Bootstrap(s.n_periods, n_resamples, block, seed)
    acc = acc_mod.measure(s.score, s.selected, inc.counts, inc.history, boot, s.expected)
    starts = s.starts()
    flags = _incident_flags(inc)
    data: dict[str, Any] = {
        "kind": "area_audit",
        "n": {"value": s.n_periods * s.n_cells, "cells": s.n_cells, "periods": s.n_periods},
        "inputs": {
            "sources": [s.source, inc.source],
            "period_days": period_days,
            "first_period": starts[0],
            "last_period": starts[-1],
            "confidence": confidence,
            "cell_size": cell_size,
            "min_group_size": min_group_size,
            "bootstrap": {"resamples": n_resamples, "block": boot.block, "seed": seed},
            "incidents": {
                "read": inc.read,
                "used": inc.used,
                "history_periods": inc.history,
                "unknown_cell": inc.unknown_cell,
                "after_last_period": inc.after_last,
                "discovered": inc.discovered,
                "discovered_used": inc.discovered_used,
                "by_type": inc.by_type,
            },
        },
        "goal": None
        if goal is None
        else {"statement": goal.statement, "statement_nl": goal.statement_nl},
    }
    data["accuracy"] = acc_mod.accuracy(acc, s.selected, starts, confidence)
    data["baselines"] = acc_mod.baselines(acc, confidence)
    data["criteria"] = judge_criteria(goal, acc)
    if goal is None:
        flags.append(
            skipped(
                "success criteria",
                "no goal with success criteria was given",
                "er geen doel met succescriteria is opgegeven",
                "succescriteria",
            )
        )
    xy = read_cells(cells, s, cell_size) if cells is not None else None
    data["exposure"], data["disparities"], data["verdicts"] = None, [], []
    if residents is not None:
        counts, groups, info = read_residents(
            residents, s, cells_xy=xy, cell_size=cell_size, square_size=square_size
        )
        data["inputs"]["residents"] = info
        data["exposure"], data["disparities"], data["verdicts"] = exposure(
            s.selected,
            counts,
            groups,
            current.astype(np.float64),
            boot,
            reference=reference,
            period_days=period_days,
            confidence=confidence,
            min_group_size=min_group_size,
        )
        flags += _resident_flags(info)
    data["stops"] = None
    if actions is not None:
        act = read_actions(actions, s)
        data["inputs"]["sources"].append(act.source)
        data["stops"] = stops(act, s.selected, starts)
        flags += _action_flags(data["stops"])
    data["validity"] = _validity(data["accuracy"], confidence)
    data["tests"] = {"family_size": len(data["disparities"]), "correction": "bonferroni"}
    data["map"] = _map(xy, s.selected, cell_size, starts) if xy is not None else None
    data["flags"] = flags
    data["provenance"] = _provenance(s.fingerprint, inc.counts, inst)
    return AreaAuditResult(jsonable(data))


def _instrument(instrument: Any) -> Any:
    if instrument is None or hasattr(instrument, "spec"):
        return instrument
    from waarborg.instruments.engine import load_instrument

    return load_instrument(instrument)


def _validity(accuracy: Mapping[str, Any], confidence: float) -> dict[str, Any]:
    """The parts the revalidation reads: the AUC (with a standard error) and calibration."""
    auc = dict(accuracy["pooled"]["auc"])
    low, high = auc["ci"]
    if low is not None and high is not None:
        from scipy.stats import norm

        auc["se"] = (high - low) / (2 * norm.ppf(0.5 + confidence / 2))
    out: dict[str, Any] = {"auc": auc}
    if "calibration" in accuracy:
        out["calibration_deciles"] = accuracy["calibration"]["deciles"]
    return out


def _map(
    xy: np.ndarray, selected: np.ndarray, cell_size: float, starts: list[str]
) -> dict[str, Any]:
    """What the report's map draws: cells ever selected, how often, and the last periods."""
    frequency = selected.mean(axis=0)
    ever = np.flatnonzero(frequency > 0)
    last = range(max(0, selected.shape[0] - MAP_PERIODS), selected.shape[0])
    position = np.full(selected.shape[1], -1)
    position[ever] = np.arange(ever.size)
    return {
        "cell_size": cell_size,
        "extent": [
            float(xy[:, 0].min()),
            float(xy[:, 1].min()),
            float(xy[:, 0].max() + cell_size),
            float(xy[:, 1].max() + cell_size),
        ],
        "cells": [[float(xy[c, 0]), float(xy[c, 1]), float(frequency[c])] for c in ever],
        "periods": [
            {"start": starts[p], "cells": position[np.flatnonzero(selected[p])].tolist()}
            for p in last
        ],
    }


def _provenance(fingerprint: Any, counts: np.ndarray, inst: Any) -> dict[str, Any]:
    digest = hashlib.sha256(str(fingerprint).encode())
    nonzero = np.flatnonzero(counts)  # incident counts are sparse: hash where and how many
    digest.update(np.int64(counts.shape).tobytes())
    digest.update(nonzero.astype(np.int64).tobytes())
    digest.update(counts.ravel()[nonzero].astype(np.int64).tobytes())
    return {
        "waarborg_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_fingerprint": digest.hexdigest(),
        "fingerprint_of": "scored cell-periods (dense, row order free) and incident counts",
        "instrument": None
        if inst is None
        else {"id": inst.id, "version": inst.version, "spec_hash": inst.spec_hash},
    }


def _flag(kind: str, en: str, nl: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "text_en": en, "text_nl": nl, **extra}


def _incident_flags(inc: Any) -> list[dict[str, Any]]:
    flags = []
    if inc.discovered_used:
        share = inc.discovered_used / max(1, inc.used)
        flags.append(
            _flag(
                "feedback_loop",
                f"{inc.discovered_used:,} of the {inc.used:,} incidents used ({share:.0%}) were "
                "discovered by police rather than reported. Discovered incidents follow where "
                "police were sent, so they partly measure the selection itself: a model trained "
                "on them, and this audit, can feed back on themselves (Ensign et al., FAT* 2018).",
                f"{fmt_count(inc.discovered_used, 'nl')} van de {fmt_count(inc.used, 'nl')} "
                "gebruikte incidenten "
                f"({share:.0%}) zijn door de politie ontdekt en niet gemeld. Ontdekte incidenten "
                "volgen waar de politie naartoe gestuurd werd en meten dus deels de selectie zelf: "
                "een model dat erop leert, en deze audit, kunnen zichzelf versterken (Ensign e.a., "
                "FAT* 2018).",
                discovered=inc.discovered_used,
            )
        )
    if inc.unknown_cell:
        flags.append(
            _flag(
                "unknown_cell",
                f"{inc.unknown_cell:,} incidents are in cells the scored table does not have; "
                "they are not counted.",
                f"{fmt_count(inc.unknown_cell, 'nl')} incidenten liggen in cellen die niet in "
                "de scoretabel staan; ze zijn niet meegeteld.",
                count=inc.unknown_cell,
            )
        )
    if inc.after_last:
        flags.append(
            _flag(
                "after_last_period",
                f"{inc.after_last:,} incidents are after the last scored period; not counted.",
                f"{fmt_count(inc.after_last, 'nl')} incidenten vallen na de laatste gescoorde "
                "periode; niet meegeteld.",
                count=inc.after_last,
            )
        )
    if inc.history == 0:
        flags.append(
            _flag(
                "no_history",
                "No incidents before the first scored period: the baselines start one period "
                "later than the model.",
                "Geen incidenten vóór de eerste gescoorde periode: de vergelijkingsbases beginnen "
                "een periode later dan het model.",
            )
        )
    return flags


def _resident_flags(info: Mapping[str, Any]) -> list[dict[str, Any]]:
    outside = sum(info["outside_grid"].values())
    if outside <= 0.5:
        return []
    return [
        _flag(
            "residents_outside_grid",
            f"{outside:,.0f} residents live outside the scored cells; they are not counted.",
            f"{fmt_count(round(outside), 'nl')} bewoners wonen buiten de gescoorde cellen; "
            "zij zijn niet meegeteld.",
            count=outside,
        )
    ]


def _action_flags(stop: Mapping[str, Any]) -> list[dict[str, Any]]:
    flags = []
    n = stop["area_selection_outside_selected_cells"]
    if n:
        flags.append(
            _flag(
                "action_outside_selection",
                f"{n:,} actions recorded as based on the area selection were in cells that were "
                "not selected in that period.",
                f"{fmt_count(n, 'nl')} handelingen met als grond de gebiedsselectie vonden "
                "plaats in cellen die in die periode niet geselecteerd waren.",
                count=n,
            )
        )
    lost = stop["outside_periods"] + stop["unknown_cell"]
    if lost:
        flags.append(
            _flag(
                "actions_not_counted",
                f"{lost:,} actions are outside the scored periods or cells; not counted.",
                f"{fmt_count(lost, 'nl')} handelingen vallen buiten de gescoorde periodes of "
                "cellen; niet meegeteld.",
                count=lost,
            )
        )
    return flags


class AreaAuditResult(AuditResult):
    """The result of :func:`audit_areas` (JSON as :class:`AuditResult`, its own report).

    Examples
    --------
    >>> res = AreaAuditResult({"n": {"value": 4, "cells": 2, "periods": 2}})
    >>> repr(res)
    '<AreaAuditResult: 2 cells × 2 periods>'
    """

    def __repr__(self) -> str:
        n = self._data["n"]
        return f"<AreaAuditResult: {n['cells']} cells × {n['periods']} periods>"

    def to_html(self, lang: str = "en", conditions: Mapping[str, Any] | None = None) -> str:
        """A self-contained HTML report, verdicts first (no scripts, no network)."""
        from waarborg.areas.report import render

        return render(self.to_dict(), lang)

    def summary(self, lang: str = "en", max_groups: int = 40) -> str:
        """Plain-text summary: criteria, accuracy, baselines, exposure, stops, flags."""
        from waarborg.areas.report import summary

        return summary(self._data, lang)
