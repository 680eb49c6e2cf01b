"""Terminal rendering of `analyze`: contents, heap health, then the census top rows."""

from __future__ import annotations

from rich.markup import escape

from memsleuth.report.census_text import render_census, render_elf_match
from memsleuth.report.crash_text import render_crash
from memsleuth.report.numbering import dumps_phrase, growth_phrase
from memsleuth.report.terminal import console, pct, size, warn
from memsleuth.results.analyze import AnalyzeOutput
from memsleuth.results.check import LeakReport


def render_analyze(result: AnalyzeOutput) -> None:
    out = console()
    c = result.contents
    out.print(f"[bold]memsleuth analyze[/] {result.log}"
              + (f"  (ELF {result.elf})" if result.elf else "  (no ELF: raw addresses)"))
    if result.crash is not None:
        out.print()
        render_crash(result.crash)
        out.print()
    sections = ", ".join(f"{n} {k}" for k, n in sorted(c.sections.items())
                         if k != "block_dump") or "none"
    out.print(f"  {c.lines:,} lines; sections: {sections}")
    if c.block_dumps:
        out.print(f"  {dumps_phrase(c.block_dumps, c.block_dumps_total, c.block_dumps_mmlk)}")
    fams = c.families
    if fams:
        read = "; ".join(
            f"{fam} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
            for fam, kinds in sorted(fams.items()))
        out.print(f"  formats read: {escape(read)}")
    if c.cycle_markers:
        out.print(f"  {c.cycle_markers} cycle markers")
    if c.decode_errors:
        warn(f"{c.decode_errors} line(s) were not valid UTF-8 (decoded with replacement)")
    if c.skipped_in_sections:
        out.print(f"  {c.skipped_in_sections} foreign line(s) inside sections were skipped")
    for note in c.notes:
        out.print(f"  note: {escape(note)}")
    for p in c.partial:
        warn(f"{p.kind} #{p.index} at line {p.line} is partial: {p.reason}")
    if c.partial_total > len(c.partial):
        warn(f"... and {c.partial_total - len(c.partial):,} more partial block dump(s), "
             "counted, not listed")
    for w in c.warnings[:3]:
        extra = f" (need {w.need} B, free {w.free} B)" if w.need is not None else ""
        out.print(f"  [bold red]line {w.line}: {w.kind.replace('_', ' ')}{extra}[/]")
    heap = result.heap
    if heap:
        out.print()
        out.print("[bold]Heap health[/] (newest overview, line "
                  f"{heap.line}, {heap.samples} samples)")
        out.print(f"  total {size(heap.total)}, used {size(heap.used)} "
                  f"({pct(heap.used_share)}), free {size(heap.free)}")
        if heap.min_free is not None:
            out.print(f"  lowest free ever {size(heap.min_free)}, peak used "
                      f"{size(heap.peak_used)}")
        if heap.max_free_block is not None:
            out.print(f"  largest free block {size(heap.max_free_block)}"
                      f" (fragmentation {pct(heap.fragmentation)})")
        if heap.samples > 1:
            out.print(f"  free heap went from {size(heap.first_free)} to "
                      f"{size(heap.free)} over {heap.samples} overviews")
        if heap.pool:
            p = heap.pool
            out.print(f"  pool {size(p.size)}: used {size(p.used)}, free {size(p.free)}")
    tasks = result.tasks
    if tasks and tasks.tasks:
        out.print()
        out.print(f"[bold]Task stacks[/] (tasklist at line {tasks.line}, sizes in "
                  f"{tasks.unit} as printed; lowest headroom first)")
        for t in tasks.tasks[:5]:
            share = "-" if t.free_share is None else f"{t.free_share:.0%}"
            flag = "" if t.status == "ok" else f"  [bold red]{t.status}[/]"
            out.print(f"  {escape(t.name)}: {t.min_free} of {t.stack_size} free at "
                      f"worst ({share}){flag}")
    render_leak(result.leak)
    if result.census:
        out.print()
        render_elf_match(result.elf_match)
        render_census(result.census)


def render_leak(leak: LeakReport) -> None:
    """Verdict, trend and forecast, object balance, growing sites: one short block each."""
    out = console()
    verdict = leak.verdict
    out.print()
    style = "bold red" if verdict.leak else "bold green"
    out.print(f"[{style}]Leak verdict:[/] {escape(verdict.reason)}")
    trend = leak.trend
    if trend and trend.fit:
        unit = trend.x
        fit = trend.fit
        out.print(f"  trend: {trend.classification.replace('_', ' ')}; free heap "
                  f"{fit.slope:+.1f} B/{unit} ({fit.confidence:.0%} sure between "
                  f"{fit.slope_low:+.1f} and {fit.slope_high:+.1f}) over "
                  f"{trend.points} points")
        warm = trend.warmup
        if warm is not None and warm.points:
            out.print(f"  warm-up: first {warm.points} point(s) excluded "
                      f"(until {unit} {warm.until_x:g})")
        forecast = trend.forecast
        exhaustion = forecast.exhaustion if forecast is not None else None
        if exhaustion:
            out.print(f"  [bold]forecast:[/] {exhaustion.level.replace('_', ' ')} "
                      f"({size(int(exhaustion.bytes))}) at {unit} ~{exhaustion.at:.0f} "
                      f"[{exhaustion.earliest:.0f} .. "
                      + ("never" if exhaustion.latest is None
                         else f"{exhaustion.latest:.0f}") + "]")
        seen = trend.observed_failure
        if seen:
            out.print(f"  observed: {seen.kind.replace('_', ' ')} at log line "
                      f"{seen.line}" + (f", {unit} {seen.cycle}"
                                        if seen.cycle is not None else ""))
            if seen.explanation:
                out.print(f"    {escape(seen.explanation)}")
        if forecast is not None and forecast.basis and exhaustion:
            out.print(f"  forecast basis: {escape(forecast.basis)}")
    if leak.attribution:
        out.print(f"  attribution: {escape(leak.attribution.text)}")
    objects = leak.objects
    if objects is not None and objects.source != "none":
        for line in objects.summary:
            out.print(f"  objects: {escape(line)}")
    growth = leak.growth
    if growth and growth.rows:
        out.print(f"  growing sites, across {growth_phrase(growth)}:")
        for row in growth.rows:
            out.print(f"    {row.bytes_slope:+.1f} B/{growth.x or 'dump'}  "
                      f"{escape(row.label)}  [dim]{row.pattern}[/]")
