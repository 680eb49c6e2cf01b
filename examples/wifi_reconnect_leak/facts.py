#!/usr/bin/env python3
"""Turn the firmware's `[FACT] key value` lines into expected.json (stdout)."""
import json
import os
import shutil
import subprocess
import sys


def addr2line(elf: str, arm: bool, addr: int) -> str | None:
    """file:line of a return address, by the toolchain's addr2line (the reference oracle)."""
    tool = shutil.which("arm-none-eabi-addr2line" if arm else "addr2line")
    if tool is None:
        return None
    lookup = ((addr & ~1) - 1) if arm else addr - 1
    out = subprocess.run([tool, "-e", elf, hex(lookup)], capture_output=True, text=True).stdout
    path, _, line = out.strip().rpartition(":")
    return f"{os.path.basename(path)}:{line.split()[0]}" if path and line else None


def main() -> int:
    log, elf = sys.argv[1], sys.argv[2]
    facts: dict = {"log": os.path.basename(log), "elf": os.path.basename(elf)}
    with open(log, "rb") as f:
        text = f.read().decode("ascii", "replace")
    facts["line_ending"] = "crlf" if "\r\n" in text else "lf"
    for line in text.splitlines():
        if line.startswith("[FACT] "):
            _, key, value = line.split(" ", 2)
            value = value.strip()
            if value.isdigit():
                facts[key] = int(value)
            else:
                facts[key] = value
    arm = "cortex" in str(facts.get("target", ""))
    for key in ("leaked_timer_create_caller", "timer_block_owner"):
        if isinstance(facts.get(key), str) and facts[key].startswith("0x"):
            where = addr2line(elf, arm, int(facts[key], 16))
            if where:
                facts[key.removesuffix("_caller") + "_line"] = where
    facts["mscycle_markers"] = sum(
        1 for line in text.splitlines() if line.startswith("[MSCYCLE] ")
    )
    json.dump(facts, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
