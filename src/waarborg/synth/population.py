"""Shared building blocks of the synthetic populations.

Every instrument family draws the same common pieces here, so they are defined once:
case ids, yearly cohorts and the drift position of each cohort, the protected
attributes (sex, migration background), the neighbourhood a person lives in (with its
deprivation decile and whether it is over-policed), and the conversion of numpy arrays
into Arrow columns. Everything is vectorised: no Python loop runs per row.

The neighbourhood model is shared by the police-data instruments, so the measurement
bias planted in them has one definition:

* 40 neighbourhoods ``N01`` … ``N40``; ``N01``–``N04`` have deprivation decile 1,
  ``N05``–``N08`` decile 2, …, ``N37``–``N40`` decile 10.
* Eight of them, :data:`OVER_POLICED`, are policed more intensively (deciles 6–10: over-
  policing goes with deprivation but is not the same thing, so an audit can tell them apart).
* Where people live depends on migration background (:data:`RESIDENCE`): the weight of a
  neighbourhood is ``exp(slope * z) * boost``, with ``z`` its standardised deprivation
  decile and ``boost`` applied to over-policed neighbourhoods. This makes deprivation a
  proxy for migration background and concentrates the over-policing on people with a
  non-Western background (shares in :func:`over_policed_share`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

COHORTS: tuple[int, ...] = tuple(range(2019, 2025))
"""The yearly cohorts, oldest first; cases are spread evenly over them."""

SEX_LEVELS = ("female", "male")
MIGRATION_LEVELS = ("dutch", "western", "non_western")
DUTCH, WESTERN, NON_WESTERN = range(3)

NEIGHBOURHOODS: tuple[str, ...] = tuple(f"N{i:02d}" for i in range(1, 41))
DEPRIVATION_DECILE = np.repeat(np.arange(1, 11, dtype=np.int8), 4)
"""The deprivation decile (1 least, 10 most deprived) of each neighbourhood, in order."""
OVER_POLICED: tuple[str, ...] = ("N23", "N27", "N30", "N32", "N34", "N36", "N38", "N40")
"""The neighbourhoods with more intensive policing (the planted measurement bias)."""

RESIDENCE: Mapping[str, tuple[float, float]] = {
    "dutch": (-0.25, 1.0),
    "western": (0.0, 1.0),
    "non_western": (0.45, 2.5),
}
"""Per migration background: (slope on standardised deprivation, boost of over-policed)."""


def generator(seed: int, stream: str) -> np.random.Generator:
    """The random generator of one table kind: same seed and stream, same numbers.

    The stream name (e.g. the instrument id) keeps different tables drawn with the same
    seed independent of each other.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode())])


@dataclass(frozen=True)
class Population:
    """The columns every synthetic table shares.

    Attributes
    ----------
    case_id
        1 … n, int64, unique.
    cohort
        The year of the case (one of :data:`COHORTS`), int16.
    drift
        The cohort's position from 0 (first cohort) to 1 (last): drifting parameters
        move linearly along it.
    male
        Sex, as a boolean.
    migration
        Migration background, codes into :data:`MIGRATION_LEVELS`.
    """

    case_id: np.ndarray
    cohort: np.ndarray
    drift: np.ndarray
    male: np.ndarray
    migration: np.ndarray

    @property
    def n(self) -> int:
        """The number of cases."""
        return len(self.case_id)

    @property
    def non_western(self) -> np.ndarray:
        """Whether each case has a non-Western migration background."""
        return self.migration == NON_WESTERN

    def columns(self) -> dict[str, pa.Array]:
        """The shared columns as Arrow arrays, in table order."""
        return {
            "case_id": pa.array(self.case_id),
            "cohort": pa.array(self.cohort),
            "sex": categorical(self.male.astype(np.int8), SEX_LEVELS),
            "migration_background": categorical(self.migration, MIGRATION_LEVELS),
        }


def population(
    rng: np.random.Generator, n: int, *, male_share: float, migration_shares: Sequence[float]
) -> Population:
    """Draw ids, cohorts and protected attributes for ``n`` cases.

    Parameters
    ----------
    rng
        The generator every draw of the table comes from (reproducibility).
    n
        Number of cases.
    male_share
        Share of men in the instrument's population.
    migration_shares
        Shares of ``dutch``, ``western`` and ``non_western``; they must sum to 1.
    """
    cohort_index = rng.integers(0, len(COHORTS), n, dtype=np.int16)
    return Population(
        case_id=np.arange(1, n + 1, dtype=np.int64),
        cohort=(COHORTS[0] + cohort_index).astype(np.int16),
        drift=cohort_index / (len(COHORTS) - 1),
        male=rng.random(n) < male_share,
        migration=draw_levels(rng, np.zeros(n, dtype=np.int8), [migration_shares]),
    )


@dataclass(frozen=True)
class Residence:
    """Where each case lives: neighbourhood code, its deprivation decile, over-policing."""

    code: np.ndarray
    deprivation: np.ndarray
    over_policed: np.ndarray

    def column(self) -> pa.DictionaryArray:
        """The neighbourhood as a categorical Arrow column."""
        return categorical(self.code, NEIGHBOURHOODS)


def residence_probabilities() -> np.ndarray:
    """The probability of each neighbourhood (columns) per migration background (rows)."""
    z = (DEPRIVATION_DECILE - 5.5) / 2.8723
    over = np.isin(NEIGHBOURHOODS, OVER_POLICED)
    weights = np.array(
        [np.exp(slope * z) * np.where(over, boost, 1.0) for slope, boost in RESIDENCE.values()]
    )
    return weights / weights.sum(axis=1, keepdims=True)


def over_policed_share() -> dict[str, float]:
    """The share of each migration background living in an over-policed neighbourhood.

    Examples
    --------
    >>> {k: round(v, 2) for k, v in over_policed_share().items()}
    {'dutch': 0.15, 'western': 0.2, 'non_western': 0.51}
    """
    over = np.isin(NEIGHBOURHOODS, OVER_POLICED)
    probs = residence_probabilities()
    return {level: float(probs[i, over].sum()) for i, level in enumerate(MIGRATION_LEVELS)}


def residence(rng: np.random.Generator, migration: np.ndarray) -> Residence:
    """Draw each case's neighbourhood given its migration background."""
    code = draw_levels(rng, migration, residence_probabilities())
    over = np.isin(NEIGHBOURHOODS, OVER_POLICED)
    return Residence(code, DEPRIVATION_DECILE[code], over[code])


def draw_levels(
    rng: np.random.Generator, group: np.ndarray, probabilities: Sequence[Sequence[float]]
) -> np.ndarray:
    """Draw a level code per case from the probabilities of the case's group (row).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> draw_levels(rng, np.array([0, 1, 1]), [[1.0, 0.0], [0.0, 1.0]]).tolist()
    [0, 1, 1]
    """
    group = group.astype(np.int64)
    cumulative = np.cumsum(np.asarray(probabilities, dtype=np.float64), axis=1)
    levels = cumulative.shape[1]
    # One search over all groups: group g's cumulative probabilities are shifted to (g, g+1].
    edges = (cumulative / cumulative[:, -1:] + np.arange(len(cumulative))[:, None]).ravel()
    position = np.searchsorted(edges, rng.random(len(group)) + group, side="right")
    return np.minimum(position - group * levels, levels - 1).astype(np.int8)


def draw_values(rng: np.random.Generator, n: int, shares: Mapping[int, float]) -> np.ndarray:
    """Draw ``n`` values (e.g. ages) with the given relative frequencies.

    Examples
    --------
    >>> draw_values(np.random.default_rng(0), 3, {12: 0.0, 13: 2.0}).tolist()
    [13, 13, 13]
    """
    weights = np.array(list(shares.values()), dtype=np.float64)
    codes = draw_levels(rng, np.zeros(n, dtype=np.int8), [weights / weights.sum()])
    return np.array(list(shares), dtype=np.int64)[codes]


def ordinal(latent: np.ndarray, cutpoints: Sequence[float]) -> np.ndarray:
    """Ordered level codes: how many cut-points the latent value reaches."""
    return np.searchsorted(np.asarray(cutpoints), latent, side="right").astype(np.int8)


def bernoulli(rng: np.random.Generator, p: np.ndarray | float, n: int | None = None) -> np.ndarray:
    """Independent 0/1 draws (as booleans) with probability ``p``."""
    size = n if n is not None else len(p)  # type: ignore[arg-type]
    return rng.random(size) < p


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def along(drift: np.ndarray, first: float, last: float) -> np.ndarray:
    """A parameter that moves linearly from ``first`` (first cohort) to ``last``."""
    return first + (last - first) * drift


def categorical(
    codes: np.ndarray, labels: Sequence[str], missing: np.ndarray | None = None
) -> pa.DictionaryArray:
    """A dictionary-encoded string column from level codes (null where ``missing``)."""
    indices = pa.array(codes.astype(np.int8, copy=False), mask=missing)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(labels), pa.string()))


def boolean(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A boolean column (null where ``missing``)."""
    return pa.array(values, type=pa.bool_(), mask=missing)


def outcome(events: np.ndarray) -> pa.Array:
    """An observed true outcome as a 0/1 int8 column."""
    return pa.array(events.astype(np.int8))


def table(columns: Mapping[str, pa.Array | np.ndarray]) -> pa.Table:
    """Assemble the columns into a table, in the given order."""
    return pa.table(
        {name: pa.array(c) if isinstance(c, np.ndarray) else c for name, c in columns.items()}
    )
