"""waarborg: correct, tested and accountable algorithmic risk assessment.

The Python API in brief::

    import waarborg
    waarborg.list_instruments()                     # the bundled catalog
    inst = waarborg.load_instrument("oxrec-style")  # or a path to a spec YAML
    scores = waarborg.score(inst, "cases.parquet")  # a pyarrow Table
    result = waarborg.audit(data, outcome="y", band="band", select="hoog", group="sex")
    check = waarborg.verify(inst, "cases.csv", "deployed_outputs.csv", id="case_id")
"""

__version__ = "0.1.0"

from waarborg.audit import audit
from waarborg.errors import DataError, SpecError, WaarborgError
from waarborg.instruments.engine import (
    Instrument,
    list_instruments,
    load_instrument,
    score,
)
from waarborg.instruments.explain import explain
from waarborg.verify import verify

# ``waarborg.audit`` and ``waarborg.verify`` are the functions; their packages stay
# importable by name (``from waarborg.audit import build_cube``).
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
