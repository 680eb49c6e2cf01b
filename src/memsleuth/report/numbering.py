"""One way to name block dumps in every output: ``#N`` in log order, with the dump's kind.

A log can mix full heap dumps with ``mmlk`` listings (the blocks of one tag only); growth and
census use full dumps only, so a count without its kind reads as a contradiction ("5 block
dumps" in the header, "across 3 dumps" below). Every renderer words dumps through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memsleuth.results.analyze import DumpEntry
    from memsleuth.results.diff import Growth


def dump_kind(variant: str | None) -> str:
    return "mmlk listing" if variant == "mmlk" else "full dump"


def dump_list(indices: Iterable[int]) -> str:
    """'#0, #1, #4' (runs of three or more as '#0–#5')."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(set(indices)) + [None]:  # type: ignore[list-item]
        if run and (i is None or i != run[-1] + 1):
            out.append(f"#{run[0]}–#{run[-1]}" if len(run) >= 3 else
                       ", ".join(f"#{n}" for n in run))
            run = []
        if i is not None:
            run.append(i)
    return ", ".join(out)


def dumps_phrase(block_dumps: Sequence[DumpEntry], total: int | None = None,
                 mmlk_total: int | None = None) -> str:
    """'5 block dumps: 3 full dumps (#0, #1, #4), 2 mmlk listings (#2, #3)'.

    ``total``/``mmlk_total``: the log's counts when ``block_dumps`` is a bounded sample of
    them (``contents.block_dumps_sampled``); the phrase then says so instead of listing.
    """
    if total is not None and total > len(block_dumps):
        mmlk_n = mmlk_total or 0
        kinds = ("all full" if not mmlk_n else
                 f"{total - mmlk_n:,} full, {mmlk_n:,} mmlk listing{'s' if mmlk_n != 1 else ''}")
        return (f"{total:,} block dumps (#0–#{total - 1}), {kinds}; {len(block_dumps):,} "
                "listed (the first, the newest, the peak, the partial ones and an evenly "
                "spaced sample: the list is bounded)")
    if not block_dumps:
        return "no block dump"
    full = [d.index for d in block_dumps if d.variant != "mmlk"]
    mmlk = [d.index for d in block_dumps if d.variant == "mmlk"]
    n = len(block_dumps)
    head = f"{n} block dump{'s' if n != 1 else ''}"
    if not mmlk:
        return f"{head} ({dump_list(full)}), all full"
    parts = []
    if full:
        parts.append(f"{len(full)} full dump{'s' if len(full) != 1 else ''} ({dump_list(full)})")
    parts.append(f"{len(mmlk)} mmlk listing{'s' if len(mmlk) != 1 else ''} ({dump_list(mmlk)})")
    return f"{head}: " + ", ".join(parts)


def growth_phrase(growth: Growth | dict[str, Any]) -> str:
    """'3 full dumps #0, #1, #4' for a growth result (full dumps only), or for the report's
    growth chart (a dict with the x of each dump)."""
    if isinstance(growth, dict):
        dumps, n = None, len(growth.get("x") or [])
    else:
        dumps, n = growth.dumps, growth.snapshots
        if growth.sampled:
            return (f"{n} full dumps, an evenly spaced sample of the log's "
                    f"{growth.dumps_total:,} (#{dumps[0]}–#{dumps[-1]})")
    head = f"{n} full dump{'s' if n != 1 else ''}"
    return f"{head} {dump_list(dumps)}" if dumps else head
