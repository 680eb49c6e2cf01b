"""Terminal rendering of a census (and the log summary shared with `analyze`)."""

from __future__ import annotations

from memsleuth.report.numbering import dump_kind
from memsleuth.report.terminal import addr, escape, pct, printer, size, warn, where
from memsleuth.results.census import BlockInfo, Census, CensusRow
from memsleuth.results.common import ElfMatch, InlineFrame

#: Terminal width from which the census shows every column.
WIDE = 120


def render_census(result: Census, title: str | None = None) -> None:
    out = printer()
    snap = result.snapshot
    totals = result.totals
    head = title or (
        f"Live heap by {result.by} — block dump #{snap.index} "
        f"({dump_kind(snap.variant)}, {snap.variant}, log line {snap.line})"
    )
    out.print(f"[bold]{head}[/]")
    free = (f"free {size(totals.free_bytes)} in {totals.free_blocks:,} blocks, largest "
            f"free {size(totals.largest_free)}") if totals.free_listed \
        else "free blocks not listed by this dump"
    out.print(
        f"  {totals.used_blocks:,} live blocks, {size(totals.used_bytes)} in "
        f"{totals.sites} sites; {free}"
    )
    if snap.partial:
        warn(f"snapshot is partial: {snap.partial_reason}")
    if snap.untracked:
        warn(f"snapshot is incomplete: {snap.untracked_reason}")
    if totals.untrusted_blocks:
        warn(f"{totals.untrusted_blocks} block(s) left out of these figures: header corrupt "
             "or size impossible (listed below)")
    if snap.untrusted_reason:
        warn(f"snapshot is untrusted: {snap.untrusted_reason}")
    for obj in result.objects:
        ctors = ", ".join(obj.constructors) or "?"
        out.print(f"  [bold]{obj.blocks:,} live {obj.kind} object(s)[/], {size(obj.bytes)}"
                  f" (blocks owned by {ctors}, from {obj.sites} call site(s))")
    # Below WIDE columns the secondary columns (share, size range, owner, kind) go, so the
    # function and file:line of every row stay whole on one line of an 80-column terminal;
    # the secondary lines under a row (via, chain, inlined) are cut to fit instead.
    wide = out.width >= WIDE
    rows = result.rows
    columns = (("#", "right"), ("blocks", "right"), ("bytes", "right"), ("share", "right"),
               ("min..max", "right"), ("owner", "left"), ("kind", "left"))
    columns = (*(columns if wide else columns[:3]), ("function", "left"), ("file:line", "left"))
    table: list[list[str]] = []
    pad = [""] * (len(columns) - 2)
    cells = [_cells(n, row, wide) for n, row in enumerate(rows, 1)]
    budget = _function_budget(out.width, cells, rows)
    for row, row_cells in zip(rows, cells, strict=True):
        function = escape(row.function or ("unknown (owner 0x0)" if row.key == "unknown"
                                           else "?"))
        if row.object_kind and not wide:
            function = f"{function} [dim]\\[{row.object_kind}][/]"
        table.append([*row_cells, function, escape(where(row.file, row.line))])
        if row.allocator:
            table.append([*pad, f"[dim]{escape(_fit('  via ' + row.allocator, budget))}[/]",
                          ""])
        for frame in row.inlined[1:]:   # the row itself is the innermost level
            text = _fit(f"  inlined into {frame.function}", budget)
            table.append([*pad, f"[dim]{escape(text)}[/]", f"[dim]{_fl(frame)}[/]"])
        if row.chain:
            names = [frame.split(" (", 1)[0] for frame in row.chain]
            chain = " ← ".join(names[:5]) + (" ← …" if len(names) > 5 else "")
            table.append([*pad, f"[dim]{escape(_fit('  ← ' + chain, budget))}[/]", ""])
    out.table(columns, table)
    hidden = result.rows_total - len(result.rows)
    if hidden > 0:
        out.print(f"  … {hidden} more sites (use --top 0 for all)")
    if result.corrupted:
        render_corrupted(result)


#: What each ``CorruptedBlock.reason`` means, in the user's words.
REASONS = {
    "bad_dye": "header corrupt (bad dye/Chk): its size and owner as printed are garbage",
    "too_large": "size larger than the whole heap (TotalSz): impossible, the header is garbage",
    "overlaps_next": "size runs past the next block's address: impossible, the header is "
                     "garbage",
}


def render_corrupted(result: Census) -> None:
    """The blocks left out of the figures, each with its neighbours and what it means."""
    out = printer()
    out.print(f"[bold red]{len(result.corrupted)} corrupted block(s)[/] left out of every "
              "figure (heap corruption):")
    for item in result.corrupted:
        for label, b in (("previous", item.previous), ("block", item.block),
                         ("next", item.next)):
            if b is None:
                continue
            mark = "[red]>>[/]" if label == "block" else "  "
            dye = f" dye {b.dye:x}" if label == "block" and b.dye is not None else ""
            out.print(
                f"  {mark} line {b.line}: {addr(b.addr)} "
                f"{'!' if b.corrupted else ''}{'used' if b.used else 'free'}"
                f" {_size_text(b)}"
                f" owner {addr(b.owner)}{dye} {escape(b.site or '')}".rstrip()
            )
        block = item.block
        text = REASONS.get(item.reason, item.reason) if block.size is not None \
            else "header corrupt (the device lists it among its error blocks)"
        if item.span is not None:
            text += f"; {size(item.span)} to the next block, header included"
        out.print(f"     [red]{escape(text)}[/]")
        if item.overrun_by_previous and item.previous is not None:
            prev = item.previous
            who = prev.site or addr(prev.owner)
            out.print(f"     [red]likely a write past the end of the used block "
                      f"{addr(prev.addr)} ({prev.size} B, allocated by {escape(who)}) "
                      f"overwrote the header at {addr(block.addr)}[/]")
    totals = result.totals
    if totals.overview_used is not None and totals.printed_used_bytes != totals.used_bytes:
        out.print(f"  used sizes as printed add up to {size(totals.printed_used_bytes)}; the "
                  f"UsedSz printed with the dump is {size(totals.overview_used)} (headers "
                  f"included); trusted blocks: {size(totals.used_bytes)}")


def _size_text(b: BlockInfo) -> str:
    if b.size is not None:
        return f"{b.size} B"
    return "sentinel" if b.sentinel else "(no size printed)"


def _cells(n: int, row: CensusRow, wide: bool) -> list[str]:
    """The cells before the function column (all of them on a wide terminal)."""
    cells = [str(n), f"{row.blocks:,}", f"{row.bytes:,}"]
    if wide:
        cells += [pct(row.share), f"{row.min_size}..{row.max_size}",
                  addr(row.owner) if row.owner else "0x0", row.object_kind or ""]
    return cells


def _function_budget(width: int, cells: list[list[str]], rows: tuple[CensusRow, ...]) -> int:
    """Characters left for the function column once every other column is whole (never less
    than the longest function name: names are never cut, secondary lines are)."""
    if not cells:
        return width
    headers = ("#", "blocks", "bytes", "share", "min..max", "owner", "kind")
    others = [max([len(c[i]) for c in cells] + [len(headers[i])]) for i in range(len(cells[0]))]
    file_line = max([len(where(r.file, r.line)) for r in rows] + [len("file:line")])
    names = max([len(r.function or "?") + len(r.object_kind or "") + 3 for r in rows]
                + [len("function")])
    return max(width - sum(others) - file_line - 3 * (len(others) + 1), names)


def _fit(text: str, budget: int | None) -> str:
    if budget is None or len(text) <= budget:
        return text
    return text[: max(budget - 1, 0)] + "…"


def _fl(frame: InlineFrame) -> str:
    if frame.file:
        return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"
    return ""


def render_elf_match(match: ElfMatch | None) -> None:
    if match is None or match.verdict in ("ok", "unknown"):
        return
    out = printer()
    style = "bold red" if match.verdict == "mismatch" else "bold yellow"
    text = match.reason or match.verdict
    out.print(f"[{style}]ELF check ({match.verdict}): {text}[/]")
    if match.verdict == "mismatch":
        out.print(f"[{style}]  the ELF does not match this log: names below are not to be trusted;"
                  " use the ELF of the build that printed the log[/]")
