"""`analyze`'s answer: what the log holds, heap health, the crash, the leak, the census.

One pass over the log feeds the leak accumulators and the crash collector (streaming hooks
on the LogModel pass); :func:`summarize` then turns the model and the hooks into the one
result ``analyze`` prints and ``report`` builds on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from memsleuth.analysis.census import Attributor, census, live_owners
from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.crash_context import CrashCollector
from memsleuth.analysis.elf_fit import elf_match
from memsleuth.analysis.health import heap_health, task_stacks
from memsleuth.errors import InputError
from memsleuth.results.analyze import (
    Analysis,
    Contents,
    DumpEntry,
    PartialSection,
    WarningEntry,
)
from memsleuth.results.check import LeakReport


def log_contents(model: Any) -> Contents:
    """What the log holds: sections, snapshots, the partial ones, the reader's counters."""
    stats = model.stats
    dumps = model.dumps
    partial = [
        PartialSection(kind="block dump", index=d.index, line=d.line, reason=d.partial_reason)
        for d in dumps.partial
    ] + [
        PartialSection(kind="block dump", index=d.index, line=d.line, reason=d.untracked_reason)
        for d in dumps.untracked
    ] + [
        PartialSection(kind="crash dump", index=i, line=c.line, reason=c.partial_reason)
        for i, c in model.crashes.partial
    ]
    # the first FIRST_KEPT of each kind are named, the rest counted (``partial_total``)
    unnamed = (dumps.partial_count - len(dumps.partial)
               + dumps.untracked_count - len(dumps.untracked)
               + model.crashes.partial_count - len(model.crashes.partial))
    if getattr(stats, "interrupted_at", None) is not None:   # the user pressed Ctrl-C
        partial.append(PartialSection(
            kind="reading", index=0, line=stats.lines,
            reason=f"reading interrupted by the user (Ctrl-C) at byte "
                   f"{stats.interrupted_at:,}: the rest of the log is unread"))
    return Contents(
        lines=stats.lines,
        bytes=stats.bytes,
        decode_errors=stats.decode_errors,
        prefixed_lines=stats.prefixed_lines,
        skipped_in_sections=stats.skipped_in_sections,
        sections=dict(stats.sections),
        line_records=dict(stats.line_records),
        # which log families were read (a mixed log lists each): {family: {reader: count}}
        families=_families(model),
        overviews=model.overviews.count,
        cycle_markers=model.markers.count,
        block_dumps=tuple(
            DumpEntry(index=d.index, line=d.line, variant=d.variant, cycle=d.cycle,
                      used_blocks=d.used_blocks, used_bytes=d.used_bytes, partial=d.partial)
            for d in dumps.listed()),
        block_dumps_total=dumps.count,
        block_dumps_mmlk=dumps.mmlk,
        block_dumps_sampled=dumps.sampled,
        crashes=model.crashes.count,
        object_events=model.object_events,
        leak_candidates=model.leaks.count,
        warnings=tuple(WarningEntry(line=w.line, kind=w.kind, need=w.need, free=w.free,
                                    text=w.text) for w in model.warnings[:20]),
        warnings_total=model.warnings_count,
        partial=tuple(partial),
        partial_total=len(partial) + unnamed,
        impossible_rows=model.impossible_rows,
        heap_series=model.heap_series.count,
        notes=tuple(model_notes(model)),
    )


def _families(model: Any) -> dict[str, dict[str, int]]:
    """The formats read: per family, per reader; object traces (the agent's [MSOBJ], user or
    learned patterns) by their event count."""
    out = {k: dict(v) for k, v in model.stats.families.items()}
    if model.object_events:
        out.setdefault("object trace", {})["object events"] = model.object_events
    return out


def model_notes(model: Any) -> list[str]:
    """What the reader set aside or decided on its own, said once in the contents."""
    notes = []
    src = model.stats.cycle_source
    if src and src.get("how") == "detected":
        notes.append(f"cycles from `{src['template']}` (detected), {model.markers.count} found")
    for leak in model.leaks.first[:3]:
        notes.append(f"leak candidate (dumpsys mm_leak) at line {leak.line}: block "
                     f"0x{leak.addr:x}, {leak.size} B, owner 0x{leak.owner:x}")
    if model.leaks.count > 3:
        notes.append(f"... {model.leaks.count - 3} more leak candidate(s)")
    for shape, n in model.stats.object_shapes.items():
        notes.append(f"object trace learned: `{shape}` ({n} lines)")
    if model.impossible_rows:
        line, why = model.impossible_first
        notes.append(f"{model.impossible_rows} heap table(s) no heap can print were left out "
                     f"(line {line}: {why})")
    if model.heap_series.count > 1:
        notes.append(f"{model.heap_series.count} different heaps in one log (size or allocator "
                     f"changed); heap health is the last one's, from line "
                     f"{model.series_first.line}")
    return notes


def require_sections(model: Any, log: Path) -> None:
    """A log with no section memsleuth knows is an input error, not an empty result."""
    if not (model.dumps or model.overviews or model.crashes or model.warnings
            or model.object_events or model.leaks or model.tasklists):
        raise InputError(
            f"{log}: no heap, block-dump, crash or object-trace section found in "
            f"{model.stats.lines:,} lines (read: AliOS, ESP-IDF, Zephyr, NuttX, FreeRTOS "
            "heap/crash printers and the memsleuth agent; is this the device log?)"
        )


def leak_findings(acc: Accumulators, attributor: Attributor) -> LeakReport:
    """Trend, forecast, growing sites, object balance and the check verdict (one pass)."""
    report = leak_report(acc, attributor, Thresholds())
    growth = report.growth
    if growth and growth.rows:
        growth = replace(growth, rows=tuple(r for r in growth.rows if r.bytes_slope > 0)[:5])
    return replace(report, growth=growth)


def summarize(model: Any, acc: Accumulators, crashes: CrashCollector, attributor: Attributor,
              *, top: int, identity: Any = None) -> tuple[Analysis, bool]:
    """The analyze result, and whether it is partial (a cut section, an ELF that does not fit).

    ``acc`` and ``crashes`` must have seen every record of ``model``'s pass.
    """
    symbolizer = attributor.symbolizer
    if acc.trend is not None:
        acc.trend.cycle_source = model.stats.cycle_source
    contents = log_contents(model)
    explained = crashes.explain(symbolizer, -1) if crashes.total else []
    heap = heap_health(model.overviews, model.lowest_overview, model.series_first)
    tasks = task_stacks(model.last_tasklist)
    leak = leak_findings(acc, attributor)
    dump_census = match = None
    dump_summary = model.last_complete_dump
    if dump_summary is not None:
        dump = model.full_dumps[dump_summary.index]
        dump_census = census(dump, attributor, top=top)
        match = elf_match(symbolizer, live_owners(dump), identity)
    elif identity is not None and identity.ids and symbolizer is not None:
        match = elf_match(symbolizer, (), identity)
    result = Analysis(
        contents=contents,
        heap=heap,
        crash=explained[0] if explained else None,
        tasks=tasks,
        leak=leak,
        census=dump_census,
        elf_match=match,
    )
    partial = bool(contents.partial) or (match is not None and match.verdict == "mismatch")
    return result, partial
