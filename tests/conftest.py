"""Shared fixtures: the bundled instrument ids, and a temporary working folder."""

from __future__ import annotations

import pytest

from waarborg import list_instruments


@pytest.fixture(params=list_instruments())
def instrument_id(request: pytest.FixtureRequest) -> str:
    """Each bundled instrument in turn."""
    return request.param
