"""waarborg: correct, tested and accountable algorithmic risk assessment.

The Python API in brief::

    import waarborg
    waarborg.list_instruments()                     # the bundled catalog
    inst = waarborg.load_instrument("oxrec-style")  # or a path to a spec YAML
    scores = waarborg.score(inst, "cases.parquet")  # a pyarrow Table
    result = waarborg.audit(data, outcome="y", band="band", select="hoog", group="sex")
    check = waarborg.verify(inst, "cases.csv", "deployed_outputs.csv", id="case_id")

The names are imported when first used, so ``import waarborg`` (and the command line's
``waarborg --help``) does not load numpy, pyarrow or SciPy.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from waarborg.audit.api import audit
    from waarborg.errors import DataError, SpecError, WaarborgError
    from waarborg.instruments.engine import Instrument, list_instruments, load_instrument, score
    from waarborg.instruments.explain import explain
    from waarborg.verify.api import verify

# name -> module that defines it
_LAZY = {
    "audit": "waarborg.audit.api",
    "verify": "waarborg.verify.api",
    "DataError": "waarborg.errors",
    "SpecError": "waarborg.errors",
    "WaarborgError": "waarborg.errors",
    "Instrument": "waarborg.instruments.engine",
    "list_instruments": "waarborg.instruments.engine",
    "load_instrument": "waarborg.instruments.engine",
    "score": "waarborg.instruments.engine",
    "explain": "waarborg.instruments.explain",
}

__all__ = [
    "DataError",
    "Instrument",
    "SpecError",
    "WaarborgError",
    "__version__",
    "audit",
    "explain",
    "list_instruments",
    "load_instrument",
    "score",
    "verify",
]


class _Package(types.ModuleType):
    """``waarborg.audit`` and ``waarborg.verify`` are the functions, whatever is imported.

    Importing the package ``waarborg.audit`` (e.g. ``from waarborg.audit import cube``)
    makes Python set the attribute ``audit`` of this module to that package; these
    properties keep the names bound to the functions, as the eager imports did.
    """

    @property
    def audit(self) -> Any:
        return importlib.import_module("waarborg.audit.api").audit

    @audit.setter
    def audit(self, value: Any) -> None:
        """Ignore the import system binding the subpackage here."""

    @property
    def verify(self) -> Any:
        return importlib.import_module("waarborg.verify.api").verify

    @verify.setter
    def verify(self, value: Any) -> None:
        """Ignore the import system binding the subpackage here."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'waarborg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


sys.modules[__name__].__class__ = _Package
