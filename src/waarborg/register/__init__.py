"""Register and compliance: the algorithm-register entry, the five conditions, the model
card and the revalidation policy, from the evidence waarborg holds.

The library part: it never imports the service; the service gathers its evidence and
hands plain data in.
"""

from waarborg.register.export import ProcessFacts, register_entry
from waarborg.register.owner import Owner, load_owner
from waarborg.register.standard import RegisterEntry

__all__ = ["Owner", "ProcessFacts", "RegisterEntry", "load_owner", "register_entry"]
