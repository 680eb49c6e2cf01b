"""`memsleuth crash`: explain the crash dump(s) in a log: cause, call stack, task, heap."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from memsleuth.analysis.crash import explain_records
from memsleuth.commands.common import (
    elf_option,
    emit,
    guarded,
    json_option,
    log_argument,
    open_symbolizer,
)
from memsleuth.errors import EXIT_FINDING, EXIT_OK, EXIT_PARTIAL, UsageError
from memsleuth.records import Record
from memsleuth.report.crash_text import render_crashes


def read_records(log: Path) -> Iterator[Record]:
    """The log's records through the shared driver, or the crash readers alone without it."""
    if not log.exists():
        raise UsageError(f"log not found: {log}")
    try:
        from memsleuth.parse import parse_file
    except ImportError:
        parse_file = None  # type: ignore[assignment]
    if parse_file is not None:
        yield from parse_file(log)
        return
    from memsleuth.parse.alios_crash import parse_crash_text

    yield from parse_crash_text(log.read_text(encoding="utf-8", errors="replace"))


def run_crash(log: Path, elf: Path | None, all_crashes: bool) -> dict[str, Any]:
    symbolizer = open_symbolizer(elf)
    total = 0

    def counted(records: Iterator[Record]) -> Iterator[Record]:
        nonlocal total
        for r in records:
            if type(r).__name__ == "CrashDump":
                total += 1
            yield r

    crashes = explain_records(counted(read_records(log)), symbolizer, all_crashes=all_crashes)
    return {"log": str(log), "elf": str(elf) if elf else None, "total": total,
            "crashes": crashes}


@click.command("crash")
@log_argument
@elf_option
@json_option
@click.option("--all", "all_crashes", is_flag=True, help="Explain every crash, not only the last.")
@guarded
def command(log: Path, elf: Path | None, as_json: bool, all_crashes: bool) -> None:
    """Explain crash dumps: cause from the fault registers, symbolized call stack, crashed
    task and stack health, and the heap block the faulting address points into.

    Exit 1 when a crash was found, 0 when the log holds none, 4 when a dump is partial."""
    result = run_crash(log, elf, all_crashes)
    emit("crash", result, as_json, render_crashes)
    if not result["crashes"]:
        sys.exit(EXIT_OK)
    if any(c["partial"] for c in result["crashes"]):
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_FINDING)
