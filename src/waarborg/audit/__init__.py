"""Audit engine: validity, fairness and selectivity metrics from a count cube.

>>> from waarborg.audit import audit
>>> result = audit("cases.parquet", score="p", outcome="y", band="band",
...                select="hoog", group=["sex", "origin"])  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from waarborg.audit.api import audit
from waarborg.audit.cube import Cube, build_cube, merge, read_cube
from waarborg.audit.result import AuditResult

__all__ = ["AuditResult", "Cube", "audit", "build_cube", "merge", "read_cube"]
