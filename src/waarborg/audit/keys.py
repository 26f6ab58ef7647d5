"""Cell keys: one integer per combination of codes (its place in the key space), built
a dimension at a time and taken apart again.

The cube counts its cells by such keys, the fingerprint sorts by them, and the metrics
cross-tabulate cells with them: one way to build them, in place, and one to split them.

Examples
--------
>>> import numpy as np
>>> key = np.array([0, 1, 1])
>>> append_dim(key, np.array([5, 0, 3]), 6)
>>> key.tolist(), [c.tolist() for c in split_key(key, [2, 6])]
([5, 6, 9], [[0, 1, 1], [5, 0, 3]])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["append_dim", "code_type", "places", "split_key"]


def append_dim(key: np.ndarray, codes: np.ndarray, size: int) -> None:
    """``key = key * size + codes`` in place (codes < size: it fits the key's type);
    :func:`split_key` takes keys apart again.
    """
    np.multiply(key, size, out=key)
    np.add(key, codes, out=key, casting="unsafe")


def places(sizes: Iterable[int]) -> int:
    """Number of places of a key space (a Python int: it may exceed 64 bits)."""
    return math.prod(sizes)


def code_type(size: int) -> np.dtype:
    """The smallest signed integer type for codes 0..size-1 (signed: numpy adds mixed
    signs at half speed)."""
    return np.min_scalar_type(-max(size, 1))


def split_key(key: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Each dimension's code in keys made by :func:`append_dim` over ``sizes``, in the
    smallest integer type for each (divided in 32 bits while the key space fits them:
    integer division is the costly part).

    Examples
    --------
    >>> [c.tolist() for c in split_key(np.array([0, 5, 11]), [2, 6])]
    [[0, 0, 1], [0, 5, 5]]
    """
    if not sizes:
        return []
    key = key.astype(np.int32 if places(sizes) <= 1 << 31 else np.int64)
    codes = []
    for size in reversed(sizes[1:]):
        quotient = key // size
        codes.append((key - quotient * size).astype(code_type(size)))
        key = quotient
    codes.append(key.astype(code_type(sizes[0])))
    return codes[::-1]
