"""Regular expressions compiled on first use, for the readers' module-level patterns.

The readers of all log families hold ~240 patterns; compiling them all costs more than
reading a small log of one family (start-up: ``memsleuth census`` on one dump), and a log
never reaches most of them (a reader's section hint or keyword gates the rest).
``lazy(pattern, flags)`` stands in for ``re.compile(pattern, flags)``: its first method
call compiles the pattern and stores the compiled pattern's bound methods on the stand-in,
so every later call costs what a call on the compiled pattern does.
"""

from __future__ import annotations

import re
from typing import Any

_COPIED = ("match", "search", "fullmatch", "finditer", "findall", "sub", "subn", "split",
           "flags", "groups", "groupindex", "scanner")


class _Pattern:
    pattern: str
    _flags: int

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self._flags})"


class _Compiled(_Pattern):
    """A LazyPattern once compiled: no ``__getattr__`` hook left, so attribute lookups on it
    are as fast as the interpreter makes them (the hook alone cost ~15 % of a short match)."""


class LazyPattern(_Pattern):
    """A ``re.Pattern`` compiled on the first use of anything but ``pattern``."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:   # only for attributes not set yet
        if name.startswith("__") or name == "_flags":
            raise AttributeError(name)
        compiled = self.compiled = re.compile(self.pattern, self._flags)
        for attr in _COPIED:
            setattr(self, attr, getattr(compiled, attr))
        self.__class__ = _Compiled        # type: ignore[assignment]
        return getattr(compiled, name)


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    """``re.compile(pattern, flags)``, done when the pattern is first used."""
    return LazyPattern(pattern, flags)
