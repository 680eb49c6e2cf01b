"""`memsleuth crash`: explain the crash dump(s) in a log: cause, call stack, task, heap."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from memsleuth.analysis.crash import explain_records
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    log_argument,
    open_symbolizer,
    stream_log,
)
from memsleuth.errors import EXIT_FINDING, EXIT_OK, EXIT_PARTIAL, InputError
from memsleuth.records import AllocWarning, BlockDump, CrashDump, CycleMarker, Record
from memsleuth.report.crash_text import render_crashes


class CrashInputs:
    """Streaming hook: what ``explain_records`` needs (crashes, allocator warnings, and for
    each crash the last block dump before it), and whether the log held any section at all."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.sections = 0           # records other than cycle markers
        self.crashes = 0
        self._dump_at: int | None = None   # index of the block dump kept since the last crash

    def __call__(self, record: Record) -> None:
        if not isinstance(record, CycleMarker):
            self.sections += 1
        if isinstance(record, BlockDump):
            if self._dump_at is not None:   # only the newest dump before a crash matters
                self.records[self._dump_at] = record
            else:
                self._dump_at = len(self.records)
                self.records.append(record)
        elif isinstance(record, AllocWarning):
            self.records.append(record)
        elif isinstance(record, CrashDump):
            self.crashes += 1
            self.records.append(record)
            self._dump_at = None


def run_crash(log: Path, elf: Path | None, all_crashes: bool,
              cycle_pattern: str | None = None) -> dict[str, Any]:
    symbolizer = open_symbolizer(elf)
    inputs = CrashInputs()
    stats = stream_log(log, [inputs], cycle_pattern)
    if not inputs.sections:
        raise InputError(f"{log}: no AliOS crash, heap or object-trace section found in "
                         f"{stats.lines:,} lines (is this the device log?)")
    crashes = explain_records(inputs.records, symbolizer, all_crashes=all_crashes)
    return {"log": str(log), "elf": str(elf) if elf else None, "total": inputs.crashes,
            "crashes": crashes}


@click.command("crash")
@log_argument
@elf_option
@cycle_pattern_option
@json_option
@click.option("--all", "all_crashes", is_flag=True, help="Explain every crash, not only the last.")
@guarded
def command(log: Path, elf: Path | None, cycle_pattern: str | None, as_json: bool,
            all_crashes: bool) -> None:
    """Explain crash dumps: cause from the fault registers, symbolized call stack, crashed
    task and stack health, and the heap block the faulting address points into.

    Exit 1 when a crash was found, 0 when the log holds none, 3 when the log holds no AliOS
    section at all, 4 when a dump is partial."""
    result = run_crash(log, elf, all_crashes, cycle_pattern)
    emit("crash", result, as_json, render_crashes)
    if not result["crashes"]:
        sys.exit(EXIT_OK)
    if any(c["partial"] for c in result["crashes"]):
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_FINDING)
