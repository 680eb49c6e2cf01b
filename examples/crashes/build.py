#!/usr/bin/env python3
"""Rebuild the crash fixtures: compile each scenario, run it under QEMU, record the truth.

For every scenario this writes ``<out>/<name>.elf`` (Cortex-M4, -g), ``<name>.log`` (the UART
output: the AliOS dump printed by device/memsleuth_fault.c) and ``<name>.expected.json``: what
`memsleuth crash` must say, with the faulting function and file:line taken from
``arm-none-eabi-addr2line -fie`` (independent of memsleuth's symbolizer).

The heap scenarios (HEAP_SCENARIOS) go to ``<out>/heap/``: their truth also names heap blocks,
read from the agent's block dump in the log (the overflowed block and its neighbour, or the
census of live blocks by owner), each owner located with addr2line at ``(owner & ~1) - 1``.

Usage: python3 examples/crashes/build.py [--out DIR] [--only NAME ...]
Needs arm-none-eabi-gcc, arm-none-eabi-addr2line and qemu-system-arm on PATH.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEVICE = ROOT / "device"
FW = HERE / "fw"

CFLAGS = ["-mthumb", "-mcpu=cortex-m4", "-g", "-O1", "-fno-delete-null-pointer-checks",
          "-ffunction-sections", "-nostdlib", "-nostartfiles", "-Wall", "-Wextra",
          "-fdebug-prefix-map=" + str(ROOT) + "=.", "-fmacro-prefix-map=" + str(ROOT) + "/=",
          "-Wl,--build-id"]
SOURCES = [FW / "board.c", FW / "crash_app.c", DEVICE / "memsleuth_fault.c",
           DEVICE / "memsleuth_agent.c", DEVICE / "memsleuth_port_cortexm.c",
           DEVICE / "memsleuth_build_id.c"]
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
        "-serial", "stdio", "-semihosting-config", "enable=on,target=native", "-kernel"]

#: name -> (defines, expected facts). ``at`` says which logged address locates the fault:
#: "pc" (the faulting PC), "lr" (the caller: PC is not code), "bt" (first non-zero backtrace
#: line after the PC: the frame was not stacked).
SCENARIOS: dict[str, tuple[list[str], dict]] = {
    "cm4_null_deref": (["-DSCENARIO=1"], {
        "category": "null_pointer", "fault_address": 0x10, "exc_name": "MemManage",
        "bits": ["DACCVIOL", "MMARVALID"], "task": "app_task", "in_interrupt": False,
        "function": "config_timeout", "at": "pc"}),
    "cm4_bad_fnptr": (["-DSCENARIO=2"], {
        "category": "invalid_state", "exc_name": "UsageFault", "bits": ["INVSTATE"],
        "task": "app_task", "in_interrupt": False, "function": "dispatch_event", "at": "lr"}),
    "cm4_undef_insn": (["-DSCENARIO=3"], {
        "category": "undefined_instruction", "exc_name": "UsageFault", "bits": ["UNDEFINSTR"],
        "task": "app_task", "in_interrupt": False, "function": "parse_packet", "at": "pc"}),
    "cm4_div0_alios3": (["-DSCENARIO=4", "-DERA=3"], {
        "category": "divide_by_zero", "exc_name": "UsageFault", "bits": ["DIVBYZERO"],
        "task": "app_task", "in_interrupt": False, "function": "average_rssi", "at": "pc"}),
    "cm4_stack_overflow": (["-DSCENARIO=5"], {
        "category": "stack_overflow", "exc_name": "MemManage",
        "bits": ["DACCVIOL", "MSTKERR", "MMARVALID"], "task": "app_task",
        "in_interrupt": False, "function": "checksum_recursive", "at": "bt"}),
    "cm4_use_after_free": (["-DSCENARIO=6", "-DWITH_AGENT"], {
        "category": "use_after_free", "exc_name": "MemManage", "bits": ["DACCVIOL", "MMARVALID"],
        "task": "app_task", "in_interrupt": False, "function": "session_deliver",
        "at": "pc", "heap_owner_function": "session_open"}),
    "cm4_isr_null": (["-DSCENARIO=7"], {
        "category": "null_pointer", "fault_address": 0x10, "exc_name": "HardFault",
        "bits": ["DACCVIOL", "MMARVALID", "FORCED"], "task": None, "in_interrupt": True,
        "function": "config_timeout", "at": "pc"}),
    "cm4_wild_busfault": (["-DSCENARIO=8"], {
        "category": "bus_fault", "fault_address": 0x60000010, "exc_name": "BusFault",
        "bits": ["PRECISERR", "BFARVALID"], "task": "app_task", "in_interrupt": False,
        "function": "config_timeout", "at": "pc"}),
}


#: Heap scenarios (agent heap), written to ``<out>/heap/``. ``heap`` says which truth to take
#: from the block dump: "overflow" (the block the agent's `memory overwritten` warning names
#: first, and the one after it) or "census" (live blocks by owner, biggest total first).
HEAP_SCENARIOS: dict[str, tuple[list[str], dict]] = {
    "cm4_heap_overflow": (["-DSCENARIO=9", "-DWITH_AGENT"], {
        "category": "heap_overflow", "exc_name": "BusFault", "bits": ["PRECISERR", "BFARVALID"],
        "task": "app_task", "in_interrupt": False, "function": "retry_timer_expire",
        "at": "pc", "heap": "overflow", "overflow_owner_function": "rx_frame_alloc"}),
    "cm4_heap_oom": (["-DSCENARIO=10", "-DWITH_AGENT"], {
        "category": "out_of_memory", "kind": "fatal_error", "errno": 105, "task": "app_task",
        "in_interrupt": False, "function": "heap_exhausted", "at": "bt", "heap": "census",
        "top_owner_function": "telemetry_record", "failed_size": 96}),
}


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


def addr2line(elf: Path, addr: int) -> list[dict]:
    """Inline chain for one address, innermost first: [{function, file, line}]."""
    p = run(["arm-none-eabi-addr2line", "-fie", str(elf), f"0x{addr:x}"])
    lines = p.stdout.splitlines()
    out = []
    for fn, loc in zip(lines[0::2], lines[1::2], strict=False):
        file, _, line = loc.rpartition(":")
        line = line.split()[0] if line else ""
        out.append({"function": fn, "file": file.removeprefix("./") if file else None,
                    "line": int(line) if line.isdigit() else None})
    return out


def regs_of(log: str) -> tuple[dict[str, int], list[int]]:
    regs = {m[1]: int(m[2], 16) for m in re.finditer(r"^(\w+)\s+0x([0-9A-F]{8})\s*$", log, re.M)}
    bt = [int(m, 16) for m in re.findall(r"^backtrace : 0x([0-9A-F]{8})", log, re.M)]
    return regs, bt


_BLOCK = re.compile(r"^0x(?P<addr>[0-9a-f]+) (?P<bang>[ !])(?P<stat>used|free)"
                    r" +(?P<size>\d+|sentinel) +(?P<chk>OK|[0-9a-f]+)"
                    r" +0x(?P<owner>[0-9a-f]+)", re.M)


def block_dump(log: str) -> list[dict]:
    """The ALL BLOCKS rows of the last agent block dump (3.x B3 layout) in the log."""
    start = log.rfind("ALL BLOCKS")
    end = log.find("all free memory blocks", start)
    rows = []
    for m in _BLOCK.finditer(log[start:end]):
        rows.append({"addr": int(m["addr"], 16), "used": m["stat"] == "used",
                     "size": None if m["size"] == "sentinel" else int(m["size"]),
                     "dye_ok": m["chk"] == "OK" and m["bang"] == " ",
                     "owner": int(m["owner"], 16)})
    return rows


def owner_site(elf: Path, owner: int) -> dict:
    """Where an owner (a return address) was called from: addr2line at (owner & ~1) - 1."""
    frames = addr2line(elf, (owner & ~1) - 1)
    inner, outer = frames[0], frames[-1]
    return {"owner": owner, "function": outer["function"], "file": inner["file"],
            "line": inner["line"], "where": f"{inner['file']}:{inner['line']}"}


def heap_truth(name: str, facts: dict, log: str, elf: Path) -> dict:
    blocks = block_dump(log)
    if facts["heap"] == "overflow":
        m = re.search(r"WARNING, memory overwritten!! 0x([0-9a-f]+)\s+0x([0-9a-f]+)", log)
        if not m:
            raise SystemExit(f"{name}: no 'memory overwritten' warning in the log")
        a, b = int(m[1], 16), int(m[2], 16)
        blk = next(x for x in blocks if x["addr"] == a)
        nxt = next(x for x in blocks if x["addr"] == b)
        if not blk["used"] or not blk["dye_ok"] or nxt["dye_ok"]:
            raise SystemExit(f"{name}: the dump does not show a damaged header after a used block")
        site = owner_site(elf, blk["owner"])
        if site["function"] != facts["overflow_owner_function"]:
            raise SystemExit(f"{name}: overflowing block owned by {site['function']}")
        return {"overflow_block": {"addr": a, "size": blk["size"], **site},
                "damaged_block": {"addr": b, "dye_ok": False}}
    census: dict[int, list[int]] = {}
    for x in blocks:
        if x["used"] and x["size"] and x["owner"] and x["owner"] != 0x11224433:
            c = census.setdefault(x["owner"], [0, 0])
            c[0] += 1
            c[1] += x["size"]
    ranked = sorted(census.items(), key=lambda kv: -kv[1][1])
    top = [{**owner_site(elf, o), "count": n, "total": t} for o, (n, t) in ranked]
    if not top or top[0]["function"] != facts["top_owner_function"]:
        raise SystemExit(f"{name}: top owner is {top[0]['function'] if top else None}")
    m = re.search(r"WARNING, malloc failed!!!! need size:(\d+)", log)
    if not m or int(m[1]) != facts["failed_size"]:
        raise SystemExit(f"{name}: no 'malloc failed' warning for {facts['failed_size']} bytes")
    return {"top_owners": top}


def build_one(name: str, defines: list[str], facts: dict, out: Path) -> dict:
    elf = out / f"{name}.elf"
    cmd = ["arm-none-eabi-gcc", *CFLAGS, "-I", str(DEVICE), *defines, "-T", str(FW / "link.ld"),
           *map(str, SOURCES), "-lc", "-lgcc", "-o", str(elf)]
    p = run(cmd, cwd=ROOT)
    if p.returncode:
        raise SystemExit(f"{name}: build failed\n{p.stderr}")
    p = run([*QEMU, str(elf)], timeout=30)
    log = p.stdout.replace("\r\n", "\n")
    if "dump end" not in log and not ("Fatal Error" in log and "==========    End" in log):
        raise SystemExit(f"{name}: no crash dump in the output:\n{log[-2000:]}")
    (out / f"{name}.log").write_bytes(p.stdout.encode())
    regs, bt = regs_of(log)
    at = facts["at"]
    if at == "pc":
        addr = regs["PC"]
    elif at == "lr":
        addr = (regs["LR"] & ~1) - 1
    else:
        addr = next(a for a in bt if a)
    frames = addr2line(elf, addr)
    expected = {k: v for k, v in facts.items() if k != "at"}
    expected.update({
        "elf": elf.name, "log": f"{name}.log", "locate": at, "address": addr,
        "addr2line": frames,
        "where": f"{frames[0]['file']}:{frames[0]['line']}" if frames else None,
    })
    # "function" is addr2line's first line: the innermost frame, the code at the address
    if frames and frames[0]["function"] != facts["function"]:
        raise SystemExit(f"{name}: addr2line says {frames[0]['function']}, expected "
                         f"{facts['function']}")
    if "heap" in facts:
        expected.update(heap_truth(name, facts, log, elf))
    (out / f"{name}.expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    return expected


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "crash" / "qemu")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    todo = [(n, d, f, args.out) for n, (d, f) in SCENARIOS.items()]
    todo += [(n, d, f, args.out / "heap") for n, (d, f) in HEAP_SCENARIOS.items()]
    for name, defines, facts, out in todo:
        if args.only and name not in args.only:
            continue
        out.mkdir(parents=True, exist_ok=True)
        e = build_one(name, defines, facts, out)
        print(f"{name}: {e['category']} in {e['addr2line'][0]['function']} at {e['where']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
