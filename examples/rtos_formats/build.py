#!/usr/bin/env python3
"""Build and run the RTOS-format examples; write out/<name>.elf, .log and .json (the truth).

    python3 examples/rtos_formats/build.py [--out DIR] [--only NAME ...]

Host examples need gcc; Cortex-M examples arm-none-eabi-gcc and qemu-system-arm. The truth
in <name>.json comes from the sources and from addr2line, never from memsleuth:
  - leak_site / crash_site: the function and file:line of the lines marked 'LEAK SITE' /
    'CRASH SITE' in the sources;
  - crash_pc: addr2line of the PC (or first backtrace address) the firmware printed;
  - leak_per_cycle: the session size plus the allocator's block header (printed as # FACT);
  - cycles, and what each verb must find on the log (see tests/rtos/test_rtos_firmware.py).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMON = HERE / "common"

HOST_CFLAGS = ["-std=gnu99", "-g", "-Og", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls",
               "-fno-pie", "-no-pie", "-fcf-protection=none", "-Wall", "-Wextra",
               "-Wno-frame-address", f"-I{COMMON}"]
ARM_CFLAGS = ["-std=gnu99", "-g", "-Og", "-mthumb", "-mcpu=cortex-m4", "-ffunction-sections",
              "-fno-optimize-sibling-calls", "-Wall", "-Wextra", f"-I{COMMON}",
              "-T", str(COMMON / "mps2.ld"), "-nostartfiles", "--specs=nano.specs",
              "-Wl,--gc-sections"]
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
        "-serial", "stdio", "-semihosting-config", "enable=on,target=native", "-kernel"]

#: name -> (family, target, source, crash kind expected or None)
EXAMPLES = {
    "espidf_host": ("esp-idf", "x86_64", "espidf_app.c", "abort"),
    "freertos_host": ("freertos", "x86_64", "freertos_app.c", None),
    "zephyr_cm4": ("zephyr", "cortex-m4", "zephyr_app.c", "bus_fault"),
    "nuttx_cm4": ("nuttx", "cortex-m4", "nuttx_app.c", "assertion"),
}


def tools(target: str) -> tuple[str, str]:
    if target == "x86_64":
        return "gcc", "addr2line"
    return "arm-none-eabi-gcc", "arm-none-eabi-addr2line"


def marked(path: Path, mark: str) -> tuple[str, int] | None:
    """(function, line) of the source line carrying ``mark``: the function is the nearest
    preceding 'name(' definition at column 0 or after 'static'."""
    func = None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r"^(?:__attribute__\(\(.*?\)\)\s*)?(?:static\s+)?[\w\s\*]+?\b(\w+)\(", line)
        if m and not line.startswith((" ", "\t", "#")) and not line.rstrip().endswith(";"):
            func = m.group(1)
        if mark in line:
            return func or "?", n
    return None


def addr2line(tool: str, elf: Path, addr: int) -> dict:
    out = subprocess.run([tool, "-f", "-e", str(elf), f"0x{addr:x}"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    where = out[1] if len(out) > 1 else "??:0"
    file, _, line = where.rpartition(":")
    line = line.split()[0] if line else "0"
    return {"function": out[0], "file": Path(file).name,
            "line": int(line) if line.isdigit() else None}


def build(name: str, out_dir: Path) -> dict:
    family, target, source, crash_kind = EXAMPLES[name]
    cc, a2l = tools(target)
    elf, log = out_dir / f"{name}.elf", out_dir / f"{name}.log"
    srcs = [str(HERE / source), str(COMMON / "arena.c")]
    if target == "x86_64":
        cmd = [cc, *HOST_CFLAGS, "-o", str(elf), *srcs, str(COMMON / "board_host.c")]
    else:
        cmd = [cc, *ARM_CFLAGS, "-o", str(elf), *srcs, str(COMMON / "board_mps2.c")]
    subprocess.run(cmd, check=True, cwd=HERE)
    run = [str(elf)] if target == "x86_64" else [*QEMU, str(elf)]
    with log.open("wb") as fh:
        rc = subprocess.run(run, stdout=fh, timeout=120, cwd=out_dir).returncode
    text = log.read_text(errors="replace")
    facts = {k: int(v) for k, v in re.findall(r"^# FACT (\w+) (\d+)", text, re.M)}
    truth: dict = {"name": name, "family": family, "target": target, "exit_code": rc,
                   "cycles": facts["cycles"],
                   "leak_per_cycle": facts["session_bytes"] + facts["header_bytes"],
                   **facts}
    fn, line = marked(HERE / "workload.h", "LEAK SITE")
    truth["leak_site"] = {"function": fn, "file": "workload.h", "line": line}
    if crash_kind is not None:
        fn, line = marked(HERE / source, "CRASH SITE")
        truth["crash"] = {"category": crash_kind, "function": fn, "file": source, "line": line}
        pc = None
        m = re.search(r"Faulting instruction address \(r15/pc\): 0x([0-9a-f]+)", text)
        if m is None:
            m = re.search(r"backtrace\|\s*\d+: 0x([0-9a-f]+)", text)
        if m is None:
            m = re.search(r"Backtrace: 0x([0-9a-f]+):", text)
        if m is not None:
            pc = int(m.group(1), 16)
            # return addresses (NuttX) are looked up at ret-1, like addr2line users do
            lookup = (pc & ~1) - 1 if "backtrace|" in m.group(0) else pc
            truth["crash"]["printed_pc"] = pc
            truth["crash"]["addr2line"] = addr2line(a2l, elf, lookup)
        bfar = re.search(r"BFAR Address: 0x([0-9a-f]+)", text)
        if bfar:
            truth["crash"]["fault_address"] = int(bfar.group(1), 16)
    (out_dir / f"{name}.json").write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--only", nargs="*", default=list(EXAMPLES))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        _, target, _, _ = EXAMPLES[name]
        cc, _ = tools(target)
        needed = [cc] + (["qemu-system-arm"] if target != "x86_64" else [])
        missing = [t for t in needed if shutil.which(t) is None]
        if missing:
            print(f"{name}: skipped, missing {' '.join(missing)}", file=sys.stderr)
            continue
        truth = build(name, args.out)
        print(f"{name}: exit {truth['exit_code']}, {truth['cycles']} cycles, "
              f"{truth['leak_per_cycle']} B/cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
