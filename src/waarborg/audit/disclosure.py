"""Output control for cubes that leave a secure environment (e.g. a statistics office).

``waarborg cube export CUBE --disclosure RULES.yaml -o out.parquet`` applies, in order:

1. **primary suppression**: cells with fewer than ``min_frequency`` cases (default 10);
2. **secondary suppression**: along every dimension of the cube, each *line* (the cells
   that share all other keys, whose total is a published margin) that holds exactly one
   suppressed cell gets a partner suppressed too (the one that protects the most lines at
   once, then the smallest), until no line has a lone suppressed cell, so no suppressed
   cell is the difference of one margin and published cells; partners that turn out not
   to be needed are published again. Counted, not hidden: suppressed cells that are the
   only cell of a line (``alone_cells``: do not publish that margin) and cells that
   several margins together determine (``unprotected_cells``, an exact check);
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

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from waarborg.audit.cube import Cube, decoded
from waarborg.audit.envelope import Span
from waarborg.errors import DataError, describe_validation
from waarborg.i18n import Message

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
        reason = Message("cannot read the rules: %(error)s", domain="reports", error=exc.strerror)
        raise DataError(reason, str(path)) from None
    except yaml.YAMLError as exc:
        reason = Message("not valid YAML: %(error)s", domain="reports", error=str(exc))
        raise DataError(reason, str(path)) from None
    except ValidationError as exc:
        raise DataError(describe_validation(str(path), exc)) from None


def _keys(cube: Cube) -> list[str]:
    sums = cube.sum_columns if cube.roles.score else ()
    return [c for c in cube.table.column_names if c not in (cube.count_column, *sums)]


def suppress(frame: pd.DataFrame, keys: list[str], count: str, minimum: int) -> pd.DataFrame:
    """Primary and secondary suppression: adds ``primary`` and ``suppressed`` columns.

    Also ``alone``: the cell is the only cell of one of its lines, so that line's margin
    is the cell itself and must not be published (it is suppressed with the cell);
    ``unprotected``: the cell's count follows exactly from the published cells and the
    margins of the lines of two or more cells; ``checked``: whether that was checked
    (see :func:`_determined`).

    Secondary suppression takes the lines that hold exactly one suppressed cell, one at a
    time, and suppresses a partner in each: the cell that protects the most other such
    lines at once and leaves the fewest new ones (a line of one cell is never left
    needing protection), the smallest count among equals. Then every secondary cell that
    is not needed (none of its lines would be left with a lone suppressed cell) is
    published again, largest first. A cell can still follow from several margins
    together (rows less columns): such cells are found and flagged ``unprotected``, not
    protected further (giving them partners hid up to twice the cases and still left
    some determined). Against suppressing each line's smallest other cell: 1.8 % of the
    cases hidden instead of 11 % on ``bench_disclosure``'s two-attribute cube, 18 %
    instead of 24 % on its three-attribute one (docs/audit.md).
    """
    frame = frame.reset_index(drop=True)
    counts = frame[count].to_numpy()
    primary = counts < minimum
    lines = _Lines(frame, keys)
    for cell in np.flatnonzero(primary):
        lines.hide(cell)
    _add_partners(lines, counts)
    _publish_unneeded(lines, counts, primary)
    unprotected, checked = _determined(lines)
    alone = np.zeros(len(frame), bool)
    for of, size in zip(lines.of, lines.size, strict=True):
        alone |= lines.hidden & (size[of] == 1)
    return frame.assign(
        primary=primary,
        suppressed=lines.hidden,
        alone=alone,
        unprotected=unprotected,
        checked=checked,
    )


class _Lines:
    """The lines of a cube along each of its dimensions, and their suppressed cells.

    ``of[d]`` is each cell's line along dimension ``d`` (the cells that share every
    other key), ``size[d]`` each line's number of cells, ``members[d]`` its cells and
    ``in_line[d]`` how many of them are suppressed.
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        self.of = [_lines(frame, [k for k in keys if k != key]) for key in keys]
        self.size = [np.bincount(of, minlength=1) for of in self.of]
        self.members = [
            np.split(np.argsort(of, kind="stable"), np.cumsum(size)[:-1])
            for of, size in zip(self.of, self.size, strict=True)
        ]
        self.in_line = [np.zeros(size.size, np.int64) for size in self.size]
        self.hidden = np.zeros(len(frame), bool)

    def hide(self, cell: int, hide: bool = True) -> list[tuple[int, int]]:
        """Suppress (or publish again) ``cell``; the lines it lies on."""
        self.hidden[cell] = hide
        touched = [(d, int(of[cell])) for d, of in enumerate(self.of)]
        for d, line in touched:
            self.in_line[d][line] += 1 if hide else -1
        return touched

    def lone(self, d: int, line: int) -> bool:
        """Whether the line holds exactly one suppressed cell and could hold another."""
        return bool(self.in_line[d][line] == 1 and self.size[d][line] >= 2)

    def merit(self, cells: np.ndarray, along: int) -> np.ndarray:
        """For partners in a line ``along`` one dimension: lone lines they protect less
        lines they would leave lone, over their other dimensions."""
        merit = np.zeros(cells.size, np.int64)
        for d, of in enumerate(self.of):
            if d != along:
                hidden, size = self.in_line[d][of[cells]], self.size[d][of[cells]]
                merit += (hidden == 1).astype(np.int64) - ((hidden == 0) & (size >= 2))
        return merit


def _add_partners(lines: _Lines, counts: np.ndarray) -> None:
    """Suppress partners until no line of two or more cells holds a lone suppressed one."""
    queue = deque(
        (d, int(line))
        for d, in_line in enumerate(lines.in_line)
        for line in np.flatnonzero(in_line == 1)
    )
    while queue:
        d, line = queue.popleft()
        if not lines.lone(d, line):
            continue
        cells = lines.members[d][line]
        cells = cells[~lines.hidden[cells]]
        best = np.lexsort((cells, counts[cells], -lines.merit(cells, d)))[0]
        queue.extend(t for t in lines.hide(int(cells[best])) if lines.lone(*t))


def _publish_unneeded(lines: _Lines, counts: np.ndarray, primary: np.ndarray) -> None:
    """Publish again each secondary cell (largest first) that no line needs hidden."""
    secondary = np.flatnonzero(lines.hidden & ~primary)
    for cell in secondary[np.argsort(-counts[secondary], kind="stable")]:
        if all(lines.in_line[d][of[cell]] != 2 for d, of in enumerate(lines.of)):
            lines.hide(int(cell), hide=False)


#: Most suppressed cells in one linked group whose determination is checked exactly.
CHECK_LIMIT = 1500


def _determined(lines: _Lines) -> tuple[np.ndarray, np.ndarray]:
    """Which suppressed cells the published cells and the margins determine.

    The margins of the lines of two or more cells (a line of one is the cell itself, not
    published when the cell is not) give one equation per line over its suppressed
    cells: their sum is the margin less the published cells. A cell is determined when
    its unit vector lies in the equations' row space, i.e. the null space is zero in its
    place. Checked per group of suppressed cells linked by lines, up to
    :data:`CHECK_LIMIT` cells a group; larger groups are marked ``checked`` false (their
    lines still hold no lone suppressed cell: :func:`_add_partners` sees to that). Bounds
    (counts are not negative) can narrow a cell further; they are not used.
    """
    from scipy import sparse
    from scipy.linalg import null_space
    from scipy.sparse.csgraph import connected_components

    n = lines.hidden.size
    determined, checked = np.zeros(n, bool), np.ones(n, bool)
    hidden = np.flatnonzero(lines.hidden)
    if not hidden.size:
        return determined, checked
    offsets = np.cumsum([0, *[size.size for size in lines.size]])
    rows = np.concatenate([offsets[d] + of[hidden] for d, of in enumerate(lines.of)])
    columns = np.tile(np.arange(hidden.size), len(lines.of))
    pairs = zip(lines.of, lines.size, strict=True)
    shared = np.concatenate([size[of[hidden]] >= 2 for of, size in pairs])
    rows, columns = rows[shared], columns[shared]
    shape = (int(offsets[-1]), hidden.size)
    equations = sparse.csr_matrix((np.ones(rows.size), (rows, columns)), shape)
    equations = equations[np.unique(rows)]
    _, labels = connected_components(equations.T @ equations, directed=False)
    for members in _groups(labels):
        cells = hidden[members]
        if members.size > CHECK_LIMIT:
            checked[cells] = False
            continue
        block = equations[:, members]
        free = null_space(block[block.getnnz(axis=1) > 0].toarray())
        determined[cells] = np.linalg.norm(free, axis=1) < 1e-9
    return determined, checked


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """The positions of each label's members."""
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


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
    >>> out = export_cube(cube, Rules(min_frequency=1))
    >>> out.table.column("count").to_pylist(), out.meta["disclosure"]["suppressed"]
    ([20, 0], 0)
    >>> export_cube(cube, Rules()).meta["disclosure"]["suppressed"]  # b, then a: its margin
    2
    """
    if not cube.table.num_rows:
        empty = Message("the cube has no cells", domain="reports")
        raise DataError(empty, ", ".join(cube.meta.get("sources", [])))
    cube = Cube(decoded(cube.table), cube.roles, cube.meta)  # published with plain labels
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
        "alone_cells": int(frame["alone"].sum()),
        "unprotected_cells": int(frame["unprotected"].sum()),
        "unchecked_cells": int((frame["suppressed"] & ~frame["checked"]).sum()),
        "hidden": _hidden(frame, keys, count, rules),
    }
    return Cube(table, cube.roles, cube.meta | {"disclosure": done})


def slack(rounding: Mapping[str, Any]) -> tuple[int, int]:
    """How far below and above a published count the true one can lie: ``(down, up)``.

    Nearest (round half up) to base ``b``: ``[c - floor(b/2), c + ceil(b/2) - 1]``;
    unbiased random rounding: ``[c - (b - 1), c + (b - 1)]``.

    Examples
    --------
    >>> slack({"base": 10, "method": "nearest"}), slack({"base": 10, "method": "random"})
    ((5, 4), (9, 9))
    """
    base = int(rounding["base"])
    if rounding["method"] == "random":
        return base - 1, base - 1
    return base // 2, (base + 1) // 2 - 1


def _hidden(frame: pd.DataFrame, keys: list[str], count: str, rules: Rules) -> dict[str, Any]:
    """The suppressed cells' keys and an upper bound of each count (lower bound: 0).

    The bound comes from the rounded total of the suppressed cells of each line that
    holds two or more of them (a function of the rounded margin, which secondary
    suppression protects): a cell holds at most that total's largest true value less
    one case for each other suppressed cell of the line; the smallest over its lines.
    A cell alone in all its lines can only be a primary one: ``min_frequency - 1``.
    """
    hidden = frame["suppressed"].to_numpy()
    counts = frame[count].to_numpy().astype(np.int64)
    _, up = slack(rules.rounding.model_dump())
    best = np.full(len(frame), np.inf)
    for dim, key in enumerate(keys):
        lines = _lines(frame, [k for k in keys if k != key])
        in_line = np.bincount(lines, weights=hidden).astype(np.int64)
        total = np.bincount(lines, weights=counts * hidden).astype(np.int64)
        published = _rounded(total, rules.rounding, rules.seed + 1 + dim)
        bound = np.where(in_line >= 2, published + up - (in_line - 1), np.inf)
        best = np.minimum(best, bound[lines])
    upper = np.where(np.isfinite(best), best, rules.min_frequency - 1)[hidden]
    cells = frame.loc[hidden, keys]
    return {
        "keys": {k: cells[k].tolist() for k in keys},
        "upper": [int(u) for u in upper],
    }


# --------------------------------------------------------------------------- auditing it


def with_hidden_cells(cube: Cube) -> Cube:
    """The published cube with its suppressed cells appended as cells of count 0.

    The audit's estimates do not change (the cells count nothing); the cells are there
    so that the bounds of their counts can widen the intervals (:func:`widen`).
    """
    hidden = cube.meta["disclosure"].get("hidden")
    if not hidden or not hidden["upper"]:
        return cube
    schema = cube.table.schema
    size = len(hidden["upper"])
    columns = {name: hidden["keys"].get(name) for name in schema.names}
    for name in schema.names:
        if columns[name] is None:  # the count and the sums
            columns[name] = [0] * size
    extra = pa.Table.from_pydict(
        {n: pa.array(columns[n]).cast(schema.field(n).type) for n in schema.names},
        schema=schema,
    )
    return Cube(pa.concat_tables([cube.table, extra]), cube.roles, cube.meta)


def count_box(cube: Cube) -> Span:
    """Bounds of every cell's true count, in the order of the cube's rows.

    Published count ``c``: ``[max(c - down, min_frequency), c + up]`` (see
    :func:`slack`; published cells held at least ``min_frequency`` cases). Suppressed
    cells (appended by :func:`with_hidden_cells`): ``[0, upper]``.
    """
    done = cube.meta["disclosure"]
    down, up = slack(done["rules"]["rounding"])
    counts = np.asarray(cube.table.column(cube.count_column).to_numpy(), dtype=np.float64)
    upper = np.asarray((done.get("hidden") or {}).get("upper", []), dtype=np.float64)
    shown = counts.size - upper.size
    low = np.maximum(counts - down, done["rules"]["min_frequency"])
    high = counts + up
    low[shown:], high[shown:] = 0.0, upper
    return Span(low, high)


def disclosure_flag(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The audit's flag for a cube that went through output control, or None."""
    done = meta.get("disclosure")
    if not done:
        return None
    rules = done["rules"]
    rounding, minimum = rules["rounding"], rules["min_frequency"]
    down, up = slack(rounding)
    random = rounding["method"] == "random"
    listed = done.get("hidden") is not None
    how = "randomly rounded" if random else "rounded"
    how_nl = "willekeurig afgerond" if random else "afgerond"
    hidden_en = (
        "each between 0 and an upper bound the export records"
        if listed
        else "not listed in this cube (exported by an older version), so no interval includes them"
    )
    hidden_nl = (
        "elk tussen 0 en een bovengrens die de export vastlegt"
        if listed
        else "niet vermeld in deze kubus (geëxporteerd door een oudere versie), dus geen "
        "interval omvat ze"
    )
    return {
        "kind": "disclosure",
        "text_en": f"The cube left a secure environment under output control: counts {how} to "
        f"{rounding['base']} (each true count from {down} below to {up} above the published "
        f"one), {done['suppressed']} of {done['cells']} cells suppressed (fewer than "
        f"{minimum} cases, and cells that would reveal them; {hidden_en}). Every interval "
        "(rates, shares, representation, differences and ratios, AUC and AUC differences, "
        "calibration per band and decile, calibration intercept and slope, Brier score) is "
        "widened to cover, besides the sampling error, every true cube these bounds allow "
        "(marked ci_rounding): exactly for rates, differences, ratios, AUC, Brier score and "
        "intercept; a bound for O/E; a search over extreme cubes for the slope. The "
        "estimates are those of the published counts; each p-value is the larger of the "
        "published one and the one at the true cube closest to no difference (1 where "
        "the bounds allow none), Holm-adjusted again.",
        "text_nl": f"De kubus verliet een beveiligde omgeving onder outputcontrole: aantallen "
        f"{how_nl} op {rounding['base']} (elk werkelijk aantal ligt van {down} onder tot "
        f"{up} boven het gepubliceerde), {done['suppressed']} van {done['cells']} cellen "
        f"onderdrukt (minder dan {minimum} zaken, en cellen die ze zouden onthullen; "
        f"{hidden_nl}). Elk interval (percentages, aandelen, vertegenwoordiging, "
        "verschillen en verhoudingen, AUC en AUC-verschillen, kalibratie per band en "
        "deciel, kalibratie-intercept en -helling, Brier-score) is verbreed: het omvat "
        "naast de steekproefonzekerheid elke werkelijke kubus die deze grenzen toelaten "
        "(gemarkeerd met ci_rounding), exact voor percentages, verschillen, verhoudingen, "
        "AUC, Brier-score en intercept, als grens voor W/V, en voor de helling door te "
        "zoeken over extreme kubussen. De schattingen zijn die van de gepubliceerde "
        "aantallen; elke p-waarde is de grootste van de gepubliceerde en die bij de "
        "werkelijke kubus die het dichtst bij geen verschil ligt (1 waar de grenzen geen "
        "verschil toelaten), opnieuw met Holm gecorrigeerd.",
    }


def with_rules(cube: Cube, path: str | Path | None) -> Cube:
    """:func:`export_cube` with the rules in ``path`` (defaults without one)."""
    return export_cube(cube, load_rules(path))
