#!/usr/bin/env python3
"""Turn the firmware's `[FACT] key value` lines into expected.json (stdout)."""
import json
import os
import sys


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
    facts["mscycle_markers"] = sum(1 for l in text.splitlines() if l.startswith("[MSCYCLE] "))
    json.dump(facts, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
