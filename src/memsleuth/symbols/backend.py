"""Optional external engine: a binutils ``addr2line`` for the ELF's architecture.

Measured on a 14 MB firmware (12 MB DWARF, 3 MB of line programs, 50 CUs): one
``arm-none-eabi-addr2line -afi`` batch takes ~0.15-0.2 s; the own engine must decode every
touched CU's whole line program (~0.3 s in Python, ~20 ms with the C decoder) and walk DIEs
per address (~25 us each in Python, a few in C). So when a matching addr2line is on PATH and
the work is big (symbolizer.AUTO_ADDR2LINE_*: in pure Python, 64 KB of line program), the
symbolizer hands it the batch; its answers are by
definition what the tests compare against. Any failure (missing tool, crash, timeout, odd output)
falls back to the pure engine, which always works.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
from pathlib import Path

RawFrame = tuple[str | None, str | None, int | None, int | None]

#: candidate tools per arch, most specific first; plain ``addr2line`` only for the host arch
_TOOLS = {
    "arm": ["arm-none-eabi-addr2line", "arm-linux-gnueabihf-addr2line",
            "arm-linux-gnueabi-addr2line"],
    "aarch64": ["aarch64-none-elf-addr2line", "aarch64-linux-gnu-addr2line"],
    "riscv32": ["riscv32-esp-elf-addr2line", "riscv64-unknown-elf-addr2line",
                "riscv32-unknown-elf-addr2line"],
    "riscv64": ["riscv64-unknown-elf-addr2line", "riscv64-linux-gnu-addr2line"],
    "xtensa": ["xtensa-esp32-elf-addr2line", "xtensa-esp-elf-addr2line",
               "xtensa-lx106-elf-addr2line"],
    "x86_64": ["x86_64-linux-gnu-addr2line"],
    "x86": ["i686-linux-gnu-addr2line"],
}
_HOST = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

_ADDR = re.compile(r"^0x[0-9a-fA-F]+$")
_DISCRIMINATOR = re.compile(r" \(discriminator \d+\)$")


def find_addr2line(arch: str) -> str | None:
    for name in _TOOLS.get(arch, []):
        path = shutil.which(name)
        if path:
            return path
    if _HOST.get(platform.machine().lower()) == arch:
        return shutil.which("addr2line")
    return None


def addr2line_frames(tool: str, elf: Path, addrs: list[int], timeout: float = 60.0
                     ) -> dict[int, tuple[RawFrame, ...]] | None:
    """Frames for each address from one ``addr2line -a -f -i`` run; None on any failure."""
    text = "".join(f"0x{a:x}\n" for a in addrs)
    try:
        proc = subprocess.run([tool, "-a", "-f", "-i", "-e", str(elf)], input=text,
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    out: list[list[RawFrame]] = []
    lines = proc.stdout.splitlines()
    i = 0
    try:
        while i < len(lines):
            if _ADDR.match(lines[i]):
                out.append([])
                i += 1
                continue
            func, loc = lines[i], _DISCRIMINATOR.sub("", lines[i + 1])
            i += 2
            file, _, num = loc.rpartition(":")
            line = int(num) if num.isdigit() and num != "0" else None
            out[-1].append((None if func == "??" else func,
                            None if file in ("??", "") else file, line, None))
    except (IndexError, ValueError):
        return None
    if len(out) != len(addrs):
        return None
    result = {}
    for a, frames in zip(addrs, out, strict=True):
        if len(frames) == 1 and frames[0][2] is None:
            frames = []  # addr2line's symbol-table fallback: no DWARF frame
        result[a] = tuple(frames)
    return result
