"""`memsleuth analyze`: the first command a user runs: what the log holds and what it means."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from memsleuth.analysis.census import Attributor, census, live_owners
from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.crash import explain_crash
from memsleuth.analysis.health import heap_health, task_stacks
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_match,
    elf_option,
    emit,
    guarded,
    json_option,
    load_model,
    log_argument,
    objects_options,
    open_symbolizer,
)
from memsleuth.errors import EXIT_PARTIAL, InputError
from memsleuth.parse import agent
from memsleuth.parse.registry import families
from memsleuth.report.analyze_text import render_analyze


def log_contents(model: Any) -> dict[str, Any]:
    """What the log holds: sections, snapshots, the partial ones, the reader's counters."""
    stats = model.stats
    partial = [
        {"kind": "block dump", "index": d.index, "line": d.line, "reason": d.partial_reason}
        for d in model.dumps if d.partial
    ] + [
        {"kind": "crash dump", "index": i, "line": c.line, "reason": c.partial_reason}
        for i, c in enumerate(model.crashes) if c.partial
    ]
    return {
        "lines": stats.lines,
        "bytes": stats.bytes,
        "decode_errors": stats.decode_errors,
        "prefixed_lines": stats.prefixed_lines,
        "skipped_in_sections": stats.skipped_in_sections,
        "sections": dict(stats.sections),
        "line_records": dict(stats.line_records),
        # which log families were read (a mixed log lists each): {family: {reader: count}}
        "families": families(stats),
        "overviews": model.overviews.count,
        "cycle_markers": model.markers.count,
        "block_dumps": [
            {"index": d.index, "line": d.line, "variant": d.variant, "cycle": d.cycle,
             "used_blocks": d.used_blocks, "used_bytes": d.used_bytes, "partial": d.partial}
            for d in model.dumps
        ],
        "crashes": len(model.crashes),
        "object_events": model.object_events,
        "leak_candidates": len(model.leaks),
        "warnings": [
            {"line": w.line, "kind": w.kind, "need": w.need, "free": w.free, "text": w.text}
            for w in model.warnings[:20]
        ],
        "warnings_total": len(model.warnings),
        "partial": partial,
        "impossible_rows": model.impossible_rows,
        "heap_series": model.heap_series.count,
        "notes": model_notes(model),
    }


def model_notes(model: Any) -> list[str]:
    """What the reader set aside or decided on its own, said once in the contents."""
    notes = []
    src = model.stats.cycle_source
    if src and src.get("how") == "detected":
        notes.append(f"cycles from `{src['template']}` (detected), {model.markers.count} found")
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


def crash_summary(model: Any, symbolizer: Any, index: int = -1) -> dict[str, Any] | None:
    """One crash (default the newest) explained with the heap dump printed before it and the
    allocator warnings printed after the previous crash and before it."""
    if not model.crashes:
        return None
    index = index % len(model.crashes)
    crash = model.crashes[index]
    dump_index = model.dump_before_crash.get(index)
    heap_dump = model.full_dumps.get(dump_index) if dump_index is not None else None
    earlier = model.crashes[index - 1].line if index else 0
    warnings = [w for w in model.warnings if earlier < w.line < crash.line]
    result = explain_crash(crash, symbolizer, heap_dump, warnings)
    result["crashes_in_log"] = len(model.crashes)
    return result


def leak_findings(acc: Accumulators, attributor: Attributor) -> dict[str, Any]:
    """Trend, forecast, growing sites, object balance and the check verdict (one pass)."""
    report = leak_report(acc, attributor, Thresholds())
    growth = report.get("growth")
    if growth and growth.get("rows"):
        growth = {**growth, "rows": [r for r in growth["rows"] if r["bytes_slope"] > 0][:5]}
    report["growth"] = growth
    return report


def run_analyze(log: Path, elf: Path | None, top: int, cycle_pattern: str | None = None,
                grace: int = 1, config: Path | None = None) -> tuple[dict[str, Any], bool]:
    symbolizer = open_symbolizer(elf)
    attributor = Attributor(symbolizer)
    acc = Accumulators.create(attributor, grace=grace)
    model = load_model(log, cycle_pattern=cycle_pattern, on_record=acc.on_record,
                       object_patterns=agent.load_patterns(config))
    require_sections(model, log)
    if acc.trend is not None:
        acc.trend.cycle_source = model.stats.cycle_source
    contents = log_contents(model)
    result: dict[str, Any] = {
        "log": str(log), "elf": str(elf) if elf else None, "contents": contents,
        "heap": heap_health(model.overviews, model.lowest_overview, model.series_first),
        "crash": crash_summary(model, symbolizer),
        "tasks": task_stacks(model.last_tasklist),
        "leak": leak_findings(acc, attributor),
    }
    dump_summary = model.last_complete_dump
    if dump_summary is not None:
        dump = model.full_dumps[dump_summary.index]
        result["census"] = census(dump, attributor, top=top)
        result["elf_match"] = elf_match(symbolizer, live_owners(dump))
    else:
        result["census"] = None
        result["elf_match"] = None
    partial = bool(contents["partial"]) or (
        (result["elf_match"] or {}).get("verdict") == "mismatch"
    )
    return result, partial


@click.command("analyze")
@log_argument
@elf_option
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Census rows to show.")
@cycle_pattern_option
@objects_options
@json_option
@guarded
def command(log: Path, elf: Path | None, top: int, cycle_pattern: str | None, grace: int,
            config: Path | None, as_json: bool) -> None:
    """Everything at once: what the log holds, heap health, where the memory went."""
    result, partial = run_analyze(log, elf, top, cycle_pattern, grace, config)
    emit("analyze", result, as_json, render_analyze)
    if partial:
        sys.exit(EXIT_PARTIAL)
