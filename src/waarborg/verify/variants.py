"""Which formula did the deployed system use for each case, and by what rule?

Every case is scored with every population variant's formulas; the variant whose
outputs lie closest to the observed ones (probabilities by absolute difference, a band
counting 1 when it differs) is the one the deployed system used for that case, unless
two variants are equally close (then the case says nothing). The rule is then the case
field — any categorical or boolean field or predictor, or a number with few values —
and the mapping from its values to variants that predicts the used variant for the most
cases. A mapping of the spec's own variant field onto itself that is not the identity
is a swap; any other field is the variant chosen by the wrong field.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waarborg.verify.compare import Outputs, scored_outputs
from waarborg.verify.hypothesis import Candidate, Detail, Hypothesis, Setting

MAX_LEVELS = 12
"""A field with more distinct values than this is not tried as a variant rule."""
MISSING = "(missing)"


def used_variants(h: Hypothesis, setting: Setting) -> np.ndarray:
    """Per case, the position of the variant whose outputs fit the observed best (-1: tie)."""
    field = h.spec.model.variant_field
    assert field is not None
    index = h.cases.column_names.index(field)
    distances = []
    for name in h.spec.model.all_variants:
        column = pa.array([name] * h.cases.num_rows, pa.string())
        mine = replace(h, cases=h.cases.set_column(index, field, column)).score()
        distances.append(_distance(scored_outputs(mine, setting.columns), setting.observed))
    d = np.column_stack(distances)
    best = np.argmin(d, axis=1)
    ties = (d <= d.min(axis=1, keepdims=True) + 1e-12).sum(axis=1) > 1
    return np.where(ties, -1, best)


def _distance(mine: Outputs, observed: Outputs) -> np.ndarray:
    total = np.zeros(next(iter(observed.bands.values() or observed.probabilities.values())).size)
    for name, values in observed.probabilities.items():
        total += np.nan_to_num(np.abs(values - mine.probabilities[name]))
    for outcome, codes in observed.bands.items():
        total += (codes != mine.bands[outcome]).astype(float)
    return total


def _fields(h: Hypothesis) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Case columns that could choose a variant: per case a code, and the values as text."""
    out = {}
    for name in h.cases.column_names:
        column = h.cases.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_integer(kind)
        ):
            continue
        plain = column.cast(kind) if pa.types.is_dictionary(column.type) else column
        encoded = pc.dictionary_encode(plain).combine_chunks()
        if len(encoded.dictionary) > MAX_LEVELS:
            continue
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        values = [str(v) for v in encoded.dictionary.to_pylist()]
        codes = np.where(codes < 0, len(values), codes)
        out[name] = (codes, [*values, MISSING])
    return out


def variant_rule(h: Hypothesis, setting: Setting) -> Candidate | None:
    """The best rule for the variant, as a candidate (``None`` when it is the spec's own)."""
    model = h.spec.model
    field = model.variant_field
    if not field or len(model.all_variants) < 2 or field not in h.cases.column_names:
        return None
    names = list(model.all_variants)
    used = used_variants(h, setting)
    known = used >= 0
    if not known.any():
        return None
    fields = _fields(h)
    best: tuple[int, str, dict[str, str]] | None = None
    for name in sorted(fields, key=lambda n: n != field):  # the spec's own field first
        codes, values = fields[name]
        table = np.zeros((len(values), len(names)), dtype=np.int64)
        np.add.at(table, (codes[known], used[known]), 1)
        mapping = {
            values[i]: names[int(np.argmax(row))] for i, row in enumerate(table) if row.sum()
        }
        right = int(table.max(axis=1).sum())
        if best is None or right > best[0]:
            best = (right, name, mapping)
    assert best is not None
    right, chosen, mapping = best
    if chosen == field and all(k == v for k, v in mapping.items()):
        return None
    codes, values = fields[chosen]
    own_codes, own_values = fields.get(field, (codes, values))
    mapped = [mapping.get(values[c], own_values[o]) for c, o in zip(codes, own_codes, strict=True)]
    index = h.cases.column_names.index(field)
    cases = h.cases.set_column(index, field, pa.array(mapped, pa.string()))
    share = right / int(known.sum())
    rule = ", ".join(f"{k} → {v}" for k, v in sorted(mapping.items()))
    evidence = {
        "parameter": "model.variant_field",
        "spec": field,
        "estimate": chosen,
        "mapping": mapping,
        "fits_share": share,
    }
    if chosen == field:
        moved = sorted(k for k, v in mapping.items() if k != v)
        return Candidate(
            "variant_swapped",
            Detail(
                f"the formulas of {' and '.join(repr(m) for m in moved)} are swapped "
                f"({rule}; fits {100 * share:.1f}% of the cases)",
                f"de formules van {' en '.join(repr(m) for m in moved)} zijn verwisseld "
                f"({rule}; past bij {100 * share:.1f}% van de zaken)",
            ),
            replace(h, cases=cases),
            evidence | {"variants": moved},
        )
    return Candidate(
        "variant_wrong_field",
        Detail(
            f"the variant is chosen by the field '{chosen}' instead of '{field}' "
            f"({rule}; fits {100 * share:.1f}% of the cases)",
            f"de variant wordt gekozen met het veld '{chosen}' in plaats van '{field}' "
            f"({rule}; past bij {100 * share:.1f}% van de zaken)",
        ),
        replace(h, cases=cases),
        evidence,
    )
