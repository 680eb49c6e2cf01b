"""Terminal rendering of a snapshot diff and per-site growth."""

from __future__ import annotations

from rich.table import Table

from memsleuth.report.numbering import growth_phrase
from memsleuth.report.terminal import console
from memsleuth.results.diff import DiffAnalysis, SnapshotRef


def _snap(s: SnapshotRef) -> str:
    cyc = f", cycle {s.cycle}" if s.cycle is not None else ""
    return f"dump #{s.index} (line {s.line}{cyc})"


def render_diff(result: DiffAnalysis, top: int = 20) -> None:
    out = console()
    before, after = result.before, result.after
    same_log = before.log == after.log
    out.print(f"[bold]Diff[/] {before.log} {_snap(before)} -> "
              f"{'' if same_log else f'{after.log} '}{_snap(after)}")
    t = result.totals
    out.print(f"  {t.bytes_delta:+,} B, {t.blocks_delta:+,} blocks; sites: {t.new} new,"
              f" {t.vanished} vanished, {t.grown} grown, {t.shrunk} shrunk")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("Δbytes", "bytes", "Δblocks", "blocks", "status", "kind", "site"):
        table.add_column(name, justify="left" if name in ("status", "kind", "site") else "right")
    rows = [r for r in result.rows if r.status != "same"]
    for r in rows[: top or None]:
        table.add_row(f"{r.bytes_delta:+,}", f"{r.bytes_before:,} -> {r.bytes_after:,}",
                      f"{r.blocks_delta:+,}", f"{r.blocks_before} -> {r.blocks_after}",
                      r.status, r.object_kind or "", r.label)
    out.print(table)
    growth = result.growth
    if growth and growth.rows and growth.x:
        out.print(f"[bold]Growth across {growth_phrase(growth)}[/] (per {growth.x})")
        gt = Table(show_edge=False, pad_edge=False, header_style="bold")
        for name in ("B/" + growth.x, "interval", "blocks/" + growth.x, "grew", "pattern",
                     "site"):
            gt.add_column(name, justify="left" if name in ("pattern", "site") else "right")
        for r in [r for r in growth.rows if r.pattern != "flat"][: top or None]:
            style = "[bold red]" if r.pattern == "steady" else ""
            gt.add_row(f"{r.bytes_slope:+.1f}",
                       f"[{r.bytes_slope_low:+.1f}, {r.bytes_slope_high:+.1f}]",
                       f"{r.blocks_slope:+.3g}", f"{r.grow_steps:.0%}",
                       f"{style}{r.pattern}", r.label)
        out.print(gt)
    if result.attribution:
        out.print(f"  attribution: {result.attribution.text}")
