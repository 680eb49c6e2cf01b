"""Weighted call stacks of live bytes: what the flame graph, the icicle and --folded draw.

One stack per distinct trace, outermost frame first, weight = live bytes. Stacks come from the
multi-frame traces when the log has them (the census ``chain``, innermost first, is reversed);
otherwise a synthetic three-level stack ``file;function;site`` groups the single owner
addresses so the flame graph still has a shape. The HTML icicle and the folded file are drawn
from the same stacks, so the two views never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Stack = tuple[str, ...]


def stack_of_row(row: dict[str, Any]) -> Stack:
    """The stack, outermost first, that a census row's bytes are charged to."""
    chain = row.get("chain") or []
    if len(chain) > 1:
        return tuple(reversed(chain))
    kind = row.get("object_kind")
    function = row.get("function")
    site = _site_label(row)
    if function is None:
        # Unresolved owner: no file/function level to group by.
        return ("[unresolved]", site) if row.get("owner") else ("[unknown owner]",)
    file = row.get("file") or "[no file]"
    stack: Stack = (file.rsplit("/", 1)[-1], function, site)
    return (*stack, f"[{kind}]") if kind else stack


def _site_label(row: dict[str, Any]) -> str:
    owner = row.get("owner") or 0
    if row.get("function") and row.get("line"):
        file = (row.get("file") or "").rsplit("/", 1)[-1]
        return f"{row['function']} ({file}:{row['line']})"
    return f"0x{owner:x}" if owner else str(row.get("key", "?"))


def stacks_from_census(census: dict[str, Any]) -> list[tuple[Stack, int]]:
    """Weighted stacks from census rows (every row, so the totals match the census)."""
    return merge((stack_of_row(row), int(row.get("bytes") or 0)) for row in census["rows"])


def stacks_from_dump(dump: Any, attributor: Any) -> list[tuple[Stack, int]]:
    """Weighted stacks per block: exact when one site gathers several distinct traces."""
    used = [b for b in dump.blocks if b.used and not b.sentinel and b.size is not None]
    attributor.prepare({b.owner for b in used}, {a for b in used for a in b.trace})
    pairs = []
    for block in used:
        site = attributor.site(block.owner, block.trace)
        row = {
            "chain": list(site.chain), "function": site.function, "file": site.file,
            "line": site.line, "owner": site.address, "key": site.key,
            "object_kind": site.object_kind,
        }
        pairs.append((stack_of_row(row), block.size or 0))
    return merge(pairs)


def merge(pairs: Iterable[tuple[Stack, int]]) -> list[tuple[Stack, int]]:
    """Sum identical stacks; heaviest first, ties by name so output is stable."""
    totals: dict[Stack, int] = {}
    for stack, weight in pairs:
        if weight > 0:
            totals[stack] = totals.get(stack, 0) + weight
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))
