"""`memsleuth crash`: explain the crash dump(s) in a log: cause, call stack, task, heap."""

from __future__ import annotations

import sys
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.crash_context import CrashCollector
from memsleuth.analysis.elf_fit import apply_identity, crash_elf_match
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    log_argument,
    open_symbolizer,
    say_identity_mismatch,
    stream_log,
)
from memsleuth.errors import EXIT_FINDING, EXIT_OK, EXIT_PARTIAL, InputError
from memsleuth.report.crash_text import render_crashes
from memsleuth.results.common import ElfMatch, extend
from memsleuth.results.crash import CrashOutput, ExplainedCrash


def run_crash(log: Path, elf: Path | None, all_crashes: bool,
              cycle_pattern: str | None = None) -> CrashOutput:
    symbolizer = open_symbolizer(elf)
    collector = CrashCollector(keep=None if all_crashes else 1, signatures=True,
                               symbolizer=symbolizer)
    identity = IdentityCollector()
    stats = stream_log(log, [collector, identity.on_record], cycle_pattern)
    if not collector.sections:
        raise InputError(f"{log}: no crash, heap or object-trace section found in "
                         f"{stats.lines:,} lines (read: AliOS, ESP-IDF, Zephyr, NuttX, "
                         "FreeRTOS crash/heap printers and the memsleuth agent; is this the "
                         "device log?)")
    crashes = []
    for c in collector.explain(symbolizer):
        match = crash_elf_match(c, symbolizer)
        if match is not None:
            match = apply_identity(match, symbolizer, identity)
        crashes.append(extend(ExplainedCrash, c, elf_match=match))
    ident = None
    if symbolizer is not None:
        ident = apply_identity(ElfMatch(verdict="unknown", reason="build id"), symbolizer,
                               identity)
    return CrashOutput(log=str(log), elf=str(elf) if elf else None, total=collector.total,
                       crashes=tuple(crashes), elf_identity=ident.identity if ident else None,
                       sampled=collector.sampled,
                       signatures=tuple(collector.signature_table()),
                       signatures_other=collector.other_signatures)


def _warn_elf(result: CrashOutput) -> bool:
    """Print a warning for every crash the ELF does not fit; True when one is a mismatch."""
    mismatch = False
    for c in result.crashes:
        match = c.elf_match
        if match is None:
            continue
        if match.verdict == "mismatch":
            mismatch = True
            click.secho(f"memsleuth: WARNING: the ELF does not match the crash at line "
                        f"{c.line}: {match.reason}. The function names and source "
                        f"lines above are wrong; pass the ELF of the build that crashed.",
                        err=True, fg="red", bold=True)
        elif match.verdict == "suspect":
            click.echo(f"memsleuth: warning: the ELF may not match the crash at line "
                       f"{c.line}: {match.reason}", err=True)
    return mismatch


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

    Exit 1 when a crash was found, 0 when the log holds none, 3 when the log holds no
    section of a known format at all, 4 when a dump is partial or the ELF does not match
    the dump."""
    result = run_crash(log, elf, all_crashes, cycle_pattern)
    emit("crash", result, as_json, render_crashes)
    if not result.crashes:
        if say_identity_mismatch(result.elf_identity):
            sys.exit(EXIT_PARTIAL)
        sys.exit(EXIT_OK)
    mismatch = _warn_elf(result)
    if mismatch or any(c.partial for c in result.crashes):
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_FINDING)
