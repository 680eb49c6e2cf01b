"""Terminal rendering of `analyze`: contents, heap health, then the census top rows."""

from __future__ import annotations

from typing import Any

from memsleuth.report.census_text import render_census, render_elf_match
from memsleuth.report.terminal import console, pct, size, warn


def render_analyze(result: dict[str, Any]) -> None:
    out = console()
    c = result["contents"]
    out.print(f"[bold]memsleuth analyze[/] {result['log']}"
              + (f"  (ELF {result['elf']})" if result["elf"] else "  (no ELF: raw addresses)"))
    sections = ", ".join(f"{n} {k}" for k, n in sorted(c["sections"].items())) or "none"
    out.print(f"  {c['lines']:,} lines; sections: {sections}")
    if c["cycle_markers"]:
        out.print(f"  {c['cycle_markers']} cycle markers")
    if c["decode_errors"]:
        warn(f"{c['decode_errors']} line(s) were not valid UTF-8 (decoded with replacement)")
    if c["skipped_in_sections"]:
        out.print(f"  {c['skipped_in_sections']} foreign line(s) inside sections were skipped")
    for p in c["partial"]:
        warn(f"{p['kind']} #{p['index']} at line {p['line']} is partial: {p['reason']}")
    for w in c["warnings"][:3]:
        extra = f" (need {w['need']} B, free {w['free']} B)" if w["need"] is not None else ""
        out.print(f"  [bold red]line {w['line']}: {w['kind'].replace('_', ' ')}{extra}[/]")
    heap = result.get("heap")
    if heap:
        out.print()
        out.print("[bold]Heap health[/] (newest overview, line "
                  f"{heap['line']}, {heap['samples']} samples)")
        out.print(f"  total {size(heap['total'])}, used {size(heap['used'])} "
                  f"({pct(heap['used_share'])}), free {size(heap['free'])}")
        if heap["min_free"] is not None:
            out.print(f"  lowest free ever {size(heap['min_free'])}, peak used "
                      f"{size(heap['peak_used'])}")
        if heap["max_free_block"] is not None:
            out.print(f"  largest free block {size(heap['max_free_block'])}"
                      f" (fragmentation {pct(heap['fragmentation'])})")
        if heap["samples"] > 1:
            out.print(f"  free heap went from {size(heap['first_free'])} to "
                      f"{size(heap['free'])} over {heap['samples']} overviews")
        if heap["pool"]:
            p = heap["pool"]
            out.print(f"  pool {size(p['size'])}: used {size(p['used'])}, free {size(p['free'])}")
    if result.get("census"):
        out.print()
        render_elf_match(result.get("elf_match"))
        render_census(result["census"])
