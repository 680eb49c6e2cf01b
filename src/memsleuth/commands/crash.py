"""`memsleuth crash`: explain the crash dump(s) in a log: cause, call stack, task, heap."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from memsleuth.analysis.crash import BAD_TARGET, explain_records
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.commands.common import (
    apply_identity,
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

#: The dump's register family (``analysis.crash.crash_arch``) -> the ELF arch that can run it.
ELF_ARCH = {"cortex-m": ("arm",), "armv7-a": ("arm",), "arm": ("arm",),
            "xtensa": ("xtensa",), "riscv": ("riscv32", "riscv64")}


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


def elf_check(crash: dict[str, Any], symbolizer: Any) -> dict[str, Any] | None:
    """Does the ELF fit this explained crash? None without an ELF.

    The dump's architecture must be the ELF's. Then the addresses: the PC should lie in the
    ELF's code (unless the cause says the PC is the bad jump target itself), and so should the
    return side of the stack (the LR, checked as a return address, or the device backtrace's
    call sites). One side failing is only ``suspect`` (code in ROM, a clobbered LR);
    ``mismatch`` is a wrong architecture, or both sides outside the ELF's code.
    """
    if symbolizer is None:
        return None
    dump_arch, elf_arch = crash["arch"], symbolizer.arch
    out: dict[str, Any] = {"dump_arch": dump_arch, "elf_arch": elf_arch, "pc": None,
                           "pc_in_code": None, "returns": 0, "returns_in_code": 0}
    if dump_arch in ELF_ARCH and elf_arch not in ELF_ARCH[dump_arch]:
        return {**out, "verdict": "mismatch",
                "reason": f"the crash dump is {dump_arch} but the ELF is {elf_arch}"}
    ranges = symbolizer.text_ranges

    def in_code(addr: int) -> bool:
        return any(lo <= (addr & ~1) < hi for lo, hi in ranges)

    frames = crash["call_stack"]["frames"]
    pc = next((f["address"] for f in frames if f["kind"] == "pc"), None)
    lr = next((f["address"] for f in frames if f["source"] == "lr"), None)
    callsites = [f["address"] for f in frames
                 if f["source"] == "backtrace" and f["kind"] == "callsite"]
    fits: list[bool] = []
    text: list[str] = []
    if pc is not None:
        out["pc"], out["pc_in_code"] = pc, in_code(pc)
        if out["pc_in_code"]:
            fits.append(True)
            text.append(f"PC 0x{pc:08X} is in its code")
        elif crash["cause"]["category"] in BAD_TARGET:
            text.append(f"PC 0x{pc:08X} is outside its code (the bad jump target)")
        else:
            fits.append(False)
            text.append(f"PC 0x{pc:08X} is outside its code")
    ok = [in_code(a) for a in callsites]
    if lr is not None:
        report = symbolizer.check_return_addresses([lr])
        ok.append(report.verdict != "mismatch")
        text.append(f"LR 0x{lr:08X}: {report.reason}")
    if ok:
        out["returns"], out["returns_in_code"] = len(ok), sum(ok)
        fits.append(2 * sum(ok) >= len(ok))
        if callsites:
            text.append(f"{sum(ok)}/{len(ok)} return addresses in its code")
    if not fits:
        return {**out, "verdict": "unknown", "reason": "no PC or return address to check"}
    verdict = "ok" if all(fits) else "suspect" if any(fits) or len(fits) == 1 else "mismatch"
    return {**out, "verdict": verdict, "reason": "; ".join(text)}


def run_crash(log: Path, elf: Path | None, all_crashes: bool,
              cycle_pattern: str | None = None) -> dict[str, Any]:
    symbolizer = open_symbolizer(elf)
    inputs = CrashInputs()
    identity = IdentityCollector()
    stats = stream_log(log, [inputs, identity.on_record], cycle_pattern)
    if not inputs.sections:
        raise InputError(f"{log}: no AliOS crash, heap or object-trace section found in "
                         f"{stats.lines:,} lines (is this the device log?)")
    crashes = explain_records(inputs.records, symbolizer, all_crashes=all_crashes)
    for c in crashes:
        c["elf_match"] = elf_check(c, symbolizer)
        if c["elf_match"] is not None:
            c["elf_match"] = apply_identity(c["elf_match"], symbolizer, identity, echo=False)
    ident = None
    if symbolizer is not None:
        ident = apply_identity({"verdict": "unknown", "reason": "build id"}, symbolizer,
                               identity)["identity"]
    return {"log": str(log), "elf": str(elf) if elf else None, "total": inputs.crashes,
            "crashes": crashes, "elf_identity": ident}


def _warn_elf(result: dict[str, Any]) -> bool:
    """Print a warning for every crash the ELF does not fit; True when one is a mismatch."""
    mismatch = False
    for c in result["crashes"]:
        match = c.get("elf_match") or {}
        if match.get("verdict") == "mismatch":
            mismatch = True
            click.secho(f"memsleuth: WARNING: the ELF does not match the crash at line "
                        f"{c['line']}: {match['reason']}. The function names and source "
                        f"lines above are wrong; pass the ELF of the build that crashed.",
                        err=True, fg="red", bold=True)
        elif match.get("verdict") == "suspect":
            click.echo(f"memsleuth: warning: the ELF may not match the crash at line "
                       f"{c['line']}: {match['reason']}", err=True)
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

    Exit 1 when a crash was found, 0 when the log holds none, 3 when the log holds no AliOS
    section at all, 4 when a dump is partial or the ELF does not match the dump."""
    result = run_crash(log, elf, all_crashes, cycle_pattern)
    emit("crash", result, as_json, render_crashes)
    if not result["crashes"]:
        ident = result.get("elf_identity") or {}
        if ident.get("status") == "mismatch":
            click.echo(f"memsleuth: error: {ident['reason']}", err=True)
            sys.exit(EXIT_PARTIAL)
        sys.exit(EXIT_OK)
    mismatch = _warn_elf(result)
    if mismatch or any(c["partial"] for c in result["crashes"]):
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_FINDING)
