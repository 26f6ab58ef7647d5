"""The waarborg service: where a risk instrument meets people.

A case worker sees a score and decides; the person concerned is told; oversight sees
whether people really decide. :func:`create_app` (in :mod:`waarborg.service.app`) builds
the FastAPI application; ``waarborg serve`` runs it. The library never imports this
package; it is a layer over the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waarborg.service.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":  # imported on first use: the CLI loads settings without FastAPI
        from waarborg.service.app import create_app

        return create_app
    raise AttributeError(name)
