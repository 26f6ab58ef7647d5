"""waarborg: correct, tested and accountable algorithmic risk assessment.

The Python API in brief::

    import waarborg
    waarborg.list_instruments()                    # the bundled catalog
    inst = waarborg.load_instrument("oxrec-style") # or a path to a spec YAML
    out = waarborg.score(inst, "cases.parquet")    # a pyarrow Table
"""

from waarborg.errors import DataError, SpecError, WaarborgError
from waarborg.instruments.engine import Instrument, list_instruments, load_instrument, score
from waarborg.instruments.explain import explain

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Instrument",
    "SpecError",
    "WaarborgError",
    "__version__",
    "explain",
    "list_instruments",
    "load_instrument",
    "score",
]
