"""Does the ELF the user gave fit the log? Every verb asks, and each answer is written once here.

A wrong ELF gives confident, wrong function names, so the check is loud: ``mismatch`` makes
the result partial (exit 4), ``suspect`` is a warning, ``unknown`` says nothing could be
checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from memsleuth.analysis.identity import check_identity
from memsleuth.results.common import BuildIdentity, CrashElfMatch, ElfMatch

if TYPE_CHECKING:   # the crash types are only needed by crash_elf_match (start-up of census)
    from memsleuth.results.crash import CrashExplanation

M = TypeVar("M", bound=ElfMatch)

#: The dump's register family (``analysis.crash.crash_arch``) -> the ELF arch that can run it.
ELF_ARCH = {"cortex-m": ("arm",), "armv7-a": ("arm",), "arm": ("arm",),
            "xtensa": ("xtensa",), "riscv": ("riscv32", "riscv64")}


def elf_match(symbolizer: Any, owners: Iterable[int], identity: Any = None,
              traces: Iterable[int] = ()) -> ElfMatch | None:
    """Is this ELF the build that printed the log? None without an ELF.

    The build id the device printed (``identity``: an ``analysis.identity``
    IdentityCollector) decides when there is one: another id is a ``mismatch`` whose reason
    names both ids (exit 4), the same id a verified match. Without one the return-address
    heuristics give the verdict and the match is marked unverified. ``traces``: trace
    entries, which fit as a return address or as a call site (AliOS 3.x B3 traces).
    """
    if symbolizer is None:
        return None
    addrs = sorted({a for a in owners if a})
    trace = sorted({a for a in traces if a} - set(addrs))
    if addrs or trace:
        r = symbolizer.check_return_addresses(addrs, trace)
        match = ElfMatch(verdict=r.verdict, reason=r.reason, total=r.total, in_code=r.in_code,
                         checked=r.checked, after_call=r.after_call)
    else:
        match = ElfMatch(verdict="unknown", reason="no owner addresses to check", checked=0)
    return apply_identity(match, symbolizer, identity)


def apply_identity(match: M, symbolizer: Any, identity: Any) -> M:
    """Let the printed build id overrule the address heuristics of an ELF-match verdict."""
    ident = check_identity(list(identity.ids.values()) if identity is not None else [],
                           symbolizer.build_id, symbolizer.content_hash)
    if ident.status == "mismatch":
        verdict, reason = "mismatch", ident.reason
    elif ident.status == "match":
        verdict, reason = "ok", f"{ident.reason}; {match.reason}"
    else:
        verdict = match.verdict
        reason = f"{match.reason}; match unverified (the log prints no build id)"
    return replace(match, verdict=verdict, reason=reason, identity=ident,
                   verified=ident.status == "match")


def identity_mismatch(match: ElfMatch | BuildIdentity | None) -> str | None:
    """The one-line reason (both ids) when the device printed another build's id."""
    ident = match.identity if isinstance(match, ElfMatch) else match
    return ident.reason if ident is not None and ident.status == "mismatch" else None


def partial_notes(stats: Any, match: ElfMatch | None) -> list[str]:
    """Why a result is partial (exit 4): sections cut short, or an ELF that does not fit."""
    notes = []
    if stats is not None and getattr(stats, "interrupted_at", None) is not None:
        notes.append(f"reading was interrupted at byte {stats.interrupted_at:,} (Ctrl-C): "
                     "the answer covers the log up to there")
    if stats is not None and stats.partial_sections:
        notes.append(f"{stats.partial_sections} section(s) of the log were cut short")
    if match is not None and match.verdict == "mismatch":
        notes.append(identity_mismatch(match)
                     or f"the ELF does not match this log: {match.reason}")
    return notes


def crash_elf_match(crash: CrashExplanation, symbolizer: Any) -> CrashElfMatch | None:
    """Does the ELF fit this explained crash? None without an ELF.

    The dump's architecture must be the ELF's. Then the addresses: the PC should lie in the
    ELF's code (unless the cause says the PC is the bad jump target itself), and so should the
    return side of the stack (the LR, checked as a return address, or the device backtrace's
    call sites). One side failing is only ``suspect`` (code in ROM, a clobbered LR);
    ``mismatch`` is a wrong architecture, or both sides outside the ELF's code.
    """
    if symbolizer is None:
        return None
    from memsleuth.analysis.crash import BAD_TARGET

    dump_arch, elf_arch = crash.arch, symbolizer.arch
    out: dict[str, Any] = {"dump_arch": dump_arch, "elf_arch": elf_arch, "pc": None,
                           "pc_in_code": None, "returns": 0, "returns_in_code": 0}
    if dump_arch in ELF_ARCH and elf_arch not in ELF_ARCH[dump_arch]:
        return CrashElfMatch(**out, verdict="mismatch",
                             reason=f"the crash dump is {dump_arch} but the ELF is {elf_arch}")
    ranges = symbolizer.text_ranges

    def in_code(addr: int) -> bool:
        return any(lo <= (addr & ~1) < hi for lo, hi in ranges)

    frames = crash.call_stack.frames
    pc = next((f.address for f in frames if f.kind == "pc"), None)
    lr = next((f.address for f in frames if f.source == "lr"), None)
    callsites = [f.address for f in frames
                 if f.source == "backtrace" and f.kind == "callsite"]
    fits: list[bool] = []
    text: list[str] = []
    if pc is not None:
        out["pc"], out["pc_in_code"] = pc, in_code(pc)
        if out["pc_in_code"]:
            fits.append(True)
            text.append(f"PC 0x{pc:08X} is in its code")
        elif crash.cause.category in BAD_TARGET:
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
        return CrashElfMatch(**out, verdict="unknown", reason="no PC or return address to check")
    verdict = "ok" if all(fits) else "suspect" if any(fits) or len(fits) == 1 else "mismatch"
    return CrashElfMatch(**out, verdict=verdict, reason="; ".join(text))
