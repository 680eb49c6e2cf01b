"""A ``HeapRun``'s rows as columns, and which of them no heap can print.

The bulk form of ``series.overview_problem`` for the tables the C scanner reads in stretches
(explicit TotalSz, no pool part), shared by the trend and the model so the two keep one rule.
NumPy is optional: without it (or with a value too large for int64 sums) the callers read the
run's records one by one, which gives the same answer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from memsleuth.records import HeapRun

_np_module: Any = None


def numpy() -> Any:
    """NumPy when installed, else None."""
    global _np_module
    if _np_module is None:
        try:
            import numpy as np
        except ImportError:
            _np_module = False
        else:
            _np_module = np
    return _np_module or None


class Rows(NamedTuple):
    """int64 columns, one value per table of the run (``low``/``mfb`` None when not printed)."""

    total: Any
    free: Any
    used: Any
    low: Any
    mfb: Any
    bad: Any        # bool: overview_problem would name a reason for this row


#: the last run asked for and its answer: the trend and the model ask for the same run one
#: after the other (a reference to one run at most; the answer is never changed in place)
_last: tuple[Any, Rows | None] = (None, None)


def rows(run: HeapRun) -> Rows | None:
    """The run's rows, or None when they must be read one by one (no NumPy, no TotalSz
    column, or a value past 2**61 whose sums could leave int64)."""
    global _last
    if _last[0] is run:
        return _last[1]
    got = _rows(run)
    _last = (run, got)
    return got


def _rows(run: HeapRun) -> Rows | None:
    np = numpy()
    t, f, u, m, b = run.cols
    if np is None or t is None:
        return None
    vals = np.frombuffer(run.values, dtype=np.int64).reshape(-1, run.width)
    if vals.size and int(vals.max()) >= 1 << 61:
        return None
    total, free, used = vals[:, t], vals[:, f], vals[:, u]
    low = vals[:, m] if m is not None else None
    mfb = vals[:, b] if b is not None else None
    # overview_problem's tests on a row of an explicit-total variant without a pool
    bad = (free < 0) | (used < 0) | (total <= 0) | (free > total) | (used > total) \
        | (used + free != total)
    if low is not None:
        bad |= low > free
    if mfb is not None:
        bad |= mfb > free
    return Rows(total, free, used, low, mfb, bad)
