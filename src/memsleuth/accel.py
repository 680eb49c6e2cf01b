"""The optional compiled scanner (``memsleuth._scan``, a C extension built at install time
when a compiler is present). Everything works without it; ``MEMSLEUTH_ACCEL=0`` turns it
off (the tests run both ways)."""

from __future__ import annotations

import os
from types import ModuleType

_loaded: ModuleType | None | bool = False

#: The C calls parse/scan.py makes (``_scan.ABI``): run(..., columns) is 2; packed object
#: events from run(..., columns) and the Ledger (analysis/objects.py) are 3; prefix_count's
#: (plain, counted, rest, lines) is 4; the Ledger's lost cycles as runs in state() are 5.
#: Calls added apart (dump_run) are looked up by name.
#: A module built from an older _scan.c (a checkout not rebuilt since) is used only for what
#: it has, so it is never called with arguments it does not take.
ABI = 5


def abi() -> int:
    """The built module's ABI (1 before it said), 0 without one."""
    mod = module()
    return 0 if mod is None else int(getattr(mod, "ABI", 1))


def module() -> ModuleType | None:
    """The C scanner, or None when it is not built or turned off."""
    global _loaded
    if _loaded is False:
        _loaded = None
        if os.environ.get("MEMSLEUTH_ACCEL", "1") != "0":
            try:
                from memsleuth import _scan  # type: ignore[attr-defined]
            except ImportError:
                pass
            else:
                _loaded = _scan
    return _loaded  # type: ignore[return-value]


def scanner() -> ModuleType | None:
    """What parse/scan.py calls: the C scanner, else its Python and NumPy mirror
    (memsleuth.parse.pyscan, the same calls at ABI 5); None with ``MEMSLEUTH_PYSCAN=0``
    too (the scanner's own Python branches then read what the C loop would)."""
    mod = module()
    if mod is None and os.environ.get("MEMSLEUTH_PYSCAN", "1") != "0":
        try:
            from memsleuth.parse import pyscan
        except ImportError:      # (NumPy missing: a broken install; the old branches read)
            return None
        mod = pyscan
    return mod


def describe() -> str:
    """For ``memsleuth --version``: which scanner runs."""
    if module() is not None:
        return "C accelerator"
    why = "MEMSLEUTH_ACCEL=0" if os.environ.get("MEMSLEUTH_ACCEL", "1") == "0" \
        else "no C accelerator built"
    if os.environ.get("MEMSLEUTH_PYSCAN", "1") == "0":
        return f"pure Python, line by line ({why}, MEMSLEUTH_PYSCAN=0)"
    return f"pure Python with NumPy, in bulk ({why})"
