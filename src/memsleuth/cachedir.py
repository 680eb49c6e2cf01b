"""Where memsleuth keeps its on-disk caches (symbol answers, the start-up cache), and the one
switch that turns them all off. One place, so every cache obeys the same variables."""

from __future__ import annotations

import os
from pathlib import Path


def cache_disabled() -> bool:
    """``MEMSLEUTH_NO_CACHE`` set to 1/true/yes: no cache is read or written."""
    return os.environ.get("MEMSLEUTH_NO_CACHE", "").strip().lower() in ("1", "true", "yes")


def default_cache_dir() -> Path:
    """``$MEMSLEUTH_CACHE_DIR``, else ``$XDG_CACHE_HOME/memsleuth``, else ~/.cache/memsleuth."""
    env = os.environ.get("MEMSLEUTH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "memsleuth"
