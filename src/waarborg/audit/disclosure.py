"""Output control for cubes that leave a secure environment (e.g. a statistics office).

``waarborg cube export CUBE --disclosure RULES.yaml -o out.parquet`` applies, in order:

1. **primary suppression**: cells with fewer than ``min_frequency`` cases (default 10);
2. **secondary suppression**: along every dimension of the cube, each *line* (the cells
   that share all other keys, whose total is a published margin) that holds exactly one
   suppressed cell gets its smallest other cell suppressed too, until no line has a lone
   suppressed cell, so no suppressed cell is the difference of a margin and published
   cells; lines where no partner exists are counted (``unprotected_lines``);
3. **rounding** of the published counts to a ``base`` (default 10), to the nearest multiple
   or by unbiased random rounding (``method: random``, seeded); the score sums are scaled
   with the count, so each cell's mean score is kept and the sums reveal no exact count.

Suppressed cells are left out of the export. The rules and what they did are stored in
the cube's metadata (``disclosure``), and an audit of such a cube says so.

Rules file (every key optional)::

    min_frequency: 10
    rounding:
      base: 10
      method: nearest   # or random
    seed: 0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from waarborg.audit.cells import Cells
from waarborg.audit.cube import Cube
from waarborg.errors import DataError, describe_validation

__all__ = ["Rounding", "Rules", "export_cube", "load_rules", "suppress"]


class Rounding(BaseModel):
    """Rounding of the published counts."""

    model_config = ConfigDict(extra="forbid")
    base: int = Field(10, ge=1, description="Counts become multiples of this.")
    method: Literal["nearest", "random"] = "nearest"


class Rules(BaseModel):
    """Output-control rules for a cube (a small YAML file)."""

    model_config = ConfigDict(extra="forbid")
    min_frequency: int = Field(10, ge=1, description="Smaller cells are suppressed.")
    rounding: Rounding = Field(default_factory=Rounding)
    seed: int = 0


def load_rules(path: str | Path | None) -> Rules:
    """The rules in a YAML file (defaults without one); errors name the file and key.

    Examples
    --------
    >>> load_rules(None).min_frequency
    10
    """
    if path is None:
        return Rules()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return Rules.model_validate(raw)
    except OSError as exc:
        raise DataError(f"cannot read the rules: {exc.strerror}", str(path)) from None
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", str(path)) from None
    except ValidationError as exc:
        raise DataError(describe_validation(str(path), exc)) from None


def _keys(cube: Cube) -> list[str]:
    sums = cube.sum_columns if cube.roles.score else ()
    return [c for c in cube.table.column_names if c not in (cube.count_column, *sums)]


def suppress(frame: pd.DataFrame, keys: list[str], count: str, minimum: int) -> pd.DataFrame:
    """Primary and secondary suppression: adds ``primary`` and ``suppressed`` columns.

    Also ``unprotected``: the cell is a lone suppressed cell of a line without a partner.
    """
    frame = frame.reset_index(drop=True)
    primary = frame[count].to_numpy() < minimum
    hidden = primary.copy()
    changed = True
    while changed:
        changed = False
        for key in keys:
            others = [k for k in keys if k != key]
            lines = _lines(frame, others)
            in_line = np.bincount(lines, weights=hidden, minlength=lines.max() + 1)
            lone_lines = in_line[lines] == 1
            candidates = lone_lines & ~hidden
            partners = frame.loc[candidates, [count]].assign(line=lines[candidates])
            if partners.empty:
                continue
            picked = partners.groupby("line")[count].idxmin().to_numpy()
            hidden[picked] = True
            changed = True
    unprotected = np.zeros(len(frame), bool)
    for key in keys:
        others = [k for k in keys if k != key]
        lines = _lines(frame, others)
        in_line = np.bincount(lines, weights=hidden, minlength=lines.max() + 1)
        unprotected |= hidden & (in_line[lines] == 1)
    return frame.assign(primary=primary, suppressed=hidden, unprotected=unprotected)


def _lines(frame: pd.DataFrame, others: list[str]) -> np.ndarray:
    """Line number of each cell: the cells that share the ``others`` keys."""
    if not others:
        return np.zeros(len(frame), np.int64)
    return frame.groupby(others, sort=False, dropna=False).ngroup().to_numpy()


def _rounded(count: np.ndarray, rounding: Rounding, seed: int) -> np.ndarray:
    base = rounding.base
    low = (count // base) * base
    if rounding.method == "random":  # up with probability remainder / base: unbiased
        up = np.random.default_rng(seed).random(count.size) < (count - low) / base
    else:
        up = (count - low) * 2 >= base
    return low + up * base


def export_cube(cube: Cube, rules: Rules) -> Cube:
    """The cube as it may leave the secure environment (see the module docstring).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from waarborg.audit import build_cube
    >>> cube = build_cube(pa.table({"g": ["a"] * 23 + ["b"] * 4}), group=["g"])
    >>> out = export_cube(cube, Rules())
    >>> out.table.column("count").to_pylist(), out.meta["disclosure"]["suppressed"]
    ([20], 1)
    """
    if not cube.table.num_rows:
        raise DataError("the cube has no cells", ", ".join(cube.meta.get("sources", [])))
    keys, count = _keys(cube), cube.count_column
    frame = suppress(cube.table.to_pandas(), keys, count, rules.min_frequency)
    kept = frame[~frame["suppressed"]].reset_index(drop=True)
    true = kept[count].to_numpy()
    published = _rounded(true, rules.rounding, rules.seed)
    if cube.roles.score:
        factor = np.divide(published, true, out=np.zeros(true.size), where=true > 0)
        for column in cube.sum_columns:
            kept[column] = kept[column] * factor
    kept[count] = published
    table = pa.Table.from_pandas(kept[cube.table.column_names], preserve_index=False)
    table = table.cast(cube.table.schema)
    done = {
        "rules": rules.model_dump(),
        "cells": len(frame),
        "published": len(kept),
        "suppressed": int(frame["suppressed"].sum()),
        "suppressed_primary": int(frame["primary"].sum()),
        "unprotected_cells": int(frame["unprotected"].sum()),
    }
    return Cube(table, cube.roles, cube.meta | {"disclosure": done})


def disclosure_flag(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The audit's flag for a cube that went through output control, or None."""
    done = meta.get("disclosure")
    if not done:
        return None
    rounding = done["rules"]["rounding"]
    how = "randomly rounded" if rounding["method"] == "random" else "rounded"
    how_nl = "willekeurig afgerond" if rounding["method"] == "random" else "afgerond"
    return {
        "kind": "disclosure",
        "text_en": f"The cube left a secure environment under output control: counts "
        f"{how} to {rounding['base']}, {done['suppressed']} of {done['cells']} cells "
        f"suppressed (fewer than {done['rules']['min_frequency']} cases, and cells that "
        "would reveal them). The intervals of rates (per group and overall) are widened "
        "for the rounding; differences, ratios, AUC and calibration are not, and no "
        "interval includes the suppressed cases.",
        "text_nl": f"De kubus verliet een beveiligde omgeving onder outputcontrole: aantallen "
        f"{how_nl} op {rounding['base']}, {done['suppressed']} van {done['cells']} cellen "
        f"onderdrukt (minder dan {done['rules']['min_frequency']} zaken, en cellen die ze "
        "zouden onthullen). De intervallen van percentages (per groep en totaal) zijn "
        "verbreed voor de afronding; verschillen, verhoudingen, AUC en kalibratie niet, en "
        "geen interval omvat de onderdrukte zaken.",
    }


def with_rules(cube: Cube, path: str | Path | None) -> Cube:
    """:func:`export_cube` with the rules in ``path`` (defaults without one)."""
    return export_cube(cube, load_rules(path))


def rounding_slack(meta: dict[str, Any]) -> float:
    """Most a published count differs from the true one, per cell (0: not rounded).

    Rounding to the nearest multiple of ``b`` moves a count by at most ``b / 2``; unbiased
    random rounding by less than ``b``.
    """
    done = meta.get("disclosure")
    if not done:
        return 0.0
    rounding = done["rules"]["rounding"]
    base = float(rounding["base"])
    return base / 2 if rounding["method"] == "nearest" else base - 1


def widen_rates(
    result: dict[str, Any], cells: Cells, attrs: list[Any], slack: float, confidence: float
) -> None:
    """Widen the interval of every rate for counts known only to ``± slack`` per cell.

    A rate ``k / n`` sums ``m_k`` cells into ``k`` and ``m_r`` other cells into ``n - k``;
    the true counts lie within ``± slack·m`` of the published ones, so the interval
    becomes the union of the Wilson intervals over that box: the lowest lower bound at
    (fewest ``k``, most others), the highest upper bound at (most ``k``, fewest others).
    The point estimate stays the published one.
    """
    from waarborg.audit.fairness import Attribute, _stats

    ones = np.ones(cells.count.size)
    counted = Cells(ones, cells.groups, cells.outcome, cells.selected)
    everyone = Attribute("all", np.zeros(cells.count.size, np.int64), ["all"])
    targets = [(result["overall"], everyone, None)]
    targets += [(result["groups"][a.name], a, a.labels) for a in attrs]
    for where, attribute, labels in targets:
        published = _stats(cells, attribute, None).rates(cells)
        pieces = _stats(counted, attribute, None).rates(counted)
        for metric, (k, n) in published.items():
            mk, mn = pieces[metric]
            low, high = _box(k, n - k, slack * mk, slack * (mn - mk), confidence)
            for i in range(k.size):
                leaf = where[metric] if labels is None else where[labels[i]].get(metric)
                if leaf is not None and leaf["value"] is not None:
                    leaf["ci"] = [_finite(low[i]), _finite(high[i])]
                    leaf["ci_rounding"] = True
    if "base_rate" in result["validity"] and "base_rate" in result["overall"]:
        result["validity"]["base_rate"]["ci"] = list(result["overall"]["base_rate"]["ci"])


def _box(
    k: np.ndarray, rest: np.ndarray, dk: np.ndarray, dr: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    from waarborg.audit.stats import wilson_interval

    k_low = np.maximum(k - dk, 0)
    k_high = k + dk
    rest_low = np.maximum(rest - dr, 0)
    low, _ = wilson_interval(k_low, k_low + rest + dr, confidence)
    _, high = wilson_interval(k_high, k_high + rest_low, confidence)
    return low, high


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
