"""No prefix of a leaking run is called clean: while the fall after a warm-up cannot yet be
told from a plateau, the answer is "cannot judge" (exit 3), never "warm-up, then plateau".

The runs are real (examples/*: firmware that ran on the host and under QEMU, leaking one
timer per cycle); their object traces are left out, so only the heap curve speaks. Found on
main: the Cortex-M4 leak run read at 50 cycles said "flat (-66.7 B/cycle, 95 % sure between
-105.2 and -32.7)" and check exited 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.cli import main

ROOT = Path(__file__).resolve().parents[2]
LEAKS = [ROOT / "examples" / "wifi_reconnect_leak" / "out" / f"{a}-leak.log"
         for a in ("cortex-m4", "x86_64")] + \
        [ROOT / "examples" / "vendor_stress" / "out" / f"{a}-leak.log"
         for a in ("cortex-m4", "x86_64")]
CLEAN = {"warmup_plateau", "no_leak"}


def _without_objects(src: Path, tmp: Path) -> Path:
    out = tmp / src.name
    with src.open(errors="replace") as f, out.open("w") as g:
        g.writelines(line for line in f if "[MSOBJ]" not in line and " caller " not in line)
    return out


@pytest.mark.parametrize("log", LEAKS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_no_prefix_of_a_leak_is_called_clean(log: Path, tmp_path: Path) -> None:
    heap_only = _without_objects(log, tmp_path)
    runner = CliRunner()
    seen = []
    for upto in range(10, 160, 6):
        result = runner.invoke(main, ["trend", str(heap_only), "--upto", str(upto), "--json"])
        cls = json.loads(result.stdout)["classification"]
        seen.append(cls)
        assert cls not in CLEAN, f"--upto {upto}: {cls}"
    assert "steady_leak" in seen          # and it is called, within the window


def test_a_plateau_is_still_called_a_plateau() -> None:
    log = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-noleak.log"
    result = CliRunner().invoke(main, ["trend", str(log), "--upto", "60", "--json"])
    assert json.loads(result.stdout)["classification"] == "warmup_plateau"


def test_a_leak_before_a_reboot_is_not_hidden_by_a_clean_run_after(tmp_path: Path) -> None:
    """A capture holding a leaking run cut short, then the device rebooted into a run that
    does not leak (real runs, object traces and failure lines left out): the leak is still
    the log's answer (main said "clean: warm-up plateau", exit 0, judging the last run only)."""
    out = ROOT / "examples" / "wifi_reconnect_leak" / "out"
    log = tmp_path / "leak-then-reboot.log"
    with log.open("w") as g:
        for name, keep in (("x86_64-leak.log", 3000), ("x86_64-noleak.log", None)):
            lines = [ln for ln in (out / name).read_text(errors="replace").splitlines(True)
                     if "[MSOBJ]" not in ln and "malloc failed" not in ln]
            g.writelines(lines[:keep])
    result = CliRunner().invoke(main, ["check", str(log), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert any("earlier run" in f["message"] for f in doc["verdict"]["findings"])
