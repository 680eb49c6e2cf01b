"""Shared helpers for the report tests: the bundled example, when it has been built."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
TARGETS = ("x86_64", "cortex-m4")


def example(target: str) -> tuple[Path, Path]:
    """(log, elf) of the bundled reproduction for one target; skip when not built."""
    log, elf = EXAMPLE_OUT / f"{target}-leak.log", EXAMPLE_OUT / f"{target}-leak.elf"
    if not (log.exists() and elf.exists()):
        pytest.skip(f"bundled example {target}-leak not built ({EXAMPLE_OUT})")
    return log, elf
