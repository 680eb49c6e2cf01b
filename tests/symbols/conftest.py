"""Symbolizer test isolation: never touch the developer's cache directory."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never touch the developer's real cache directory from tests."""
    monkeypatch.setenv("MEMSLEUTH_CACHE_DIR", str(tmp_path / "default-cache"))
    monkeypatch.delenv("MEMSLEUTH_NO_CACHE", raising=False)
