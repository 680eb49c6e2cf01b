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

from memsleuth.analysis.block_trust import trusted_split
from memsleuth.results.census import Census, CensusRow

Stack = tuple[str, ...]


def stack_of(*, chain: tuple[str, ...], function: str | None, file: str | None,
             line: int | None, object_kind: str | None, address: int, key: str) -> Stack:
    """The stack, outermost first, that a site's bytes are charged to (``address``: the
    address blamed)."""
    if len(chain) > 1:
        return tuple(reversed(chain))
    if function and line:
        site = f"{function} ({(file or '').rsplit('/', 1)[-1]}:{line})"
    else:
        site = f"0x{address:x}" if address else key
    if function is None:
        # Unresolved owner: no file/function level to group by.
        return ("[unresolved]", site) if address else ("[unknown owner]",)
    stack: Stack = ((file or "[no file]").rsplit("/", 1)[-1], function, site)
    return (*stack, f"[{object_kind}]") if object_kind else stack


def stack_of_row(row: CensusRow) -> Stack:
    """The stack a census row's bytes are charged to."""
    return stack_of(chain=row.chain, function=row.function, file=row.file, line=row.line,
                    object_kind=row.object_kind, address=row.site_address, key=row.key)


def stacks_from_census(census: Census) -> list[tuple[Stack, int]]:
    """Weighted stacks from census rows (every row, so the totals match the census)."""
    return merge((stack_of_row(row), row.bytes) for row in census.rows)


def stacks_from_dump(dump: Any, attributor: Any) -> list[tuple[Stack, int]]:
    """Weighted stacks per block: exact when one site gathers several distinct traces."""
    used = trusted_split(dump)[0]      # as the census: no corrupt header's garbage size
    attributor.prepare({b.owner for b in used}, {a for b in used for a in b.trace})
    pairs = []
    for block in used:
        site = attributor.site(block.owner, block.trace)
        stack = stack_of(chain=site.chain, function=site.function, file=site.file,
                         line=site.line, object_kind=site.object_kind, address=site.address,
                         key=site.key)
        pairs.append((stack, block.size or 0))
    return merge(pairs)


def merge(pairs: Iterable[tuple[Stack, int]]) -> list[tuple[Stack, int]]:
    """Sum identical stacks; heaviest first, ties by name so output is stable."""
    totals: dict[Stack, int] = {}
    for stack, weight in pairs:
        if weight > 0:
            totals[stack] = totals.get(stack, 0) + weight
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))
