"""Fixtures for every test directory."""

from __future__ import annotations

import pytest
from schema_helpers import loads_valid


@pytest.fixture
def valid_json():
    """``valid_json(text)``: json.loads + validation against the verb's JSON Schema."""
    return loads_valid
