"""The Zephyr port's own code on the host, against a kernel-API shim (issue 15, item 3).

device/tests/zephyr_shim/ is a small shim written for these tests (k_malloc & co with exact
runtime statistics, k_timer_init, irq_lock); the port (device/ports/zephyr/ms_zephyr.c) sits
beside the system heap through --wrap. Built at -O0, -Og, -O2, -Os; owners and [MSOBJ]
callers are checked against addr2line, the `kernel heap` lines and the overview against the
shim's statistics, and memsleuth's reader against the agent's output.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from device_helpers import DEVICE, OPT_LEVELS, host_build, markers, need, symbolize

from memsleuth.parse import parse_file
from memsleuth.records import HeapOverview

SHIM = DEVICE / "tests" / "zephyr_shim"
WRAPS = ("k_malloc", "k_free", "k_calloc", "k_aligned_alloc", "k_realloc", "k_timer_init")


def _run(tmp_path: Path, opt: str, defines: tuple[str, ...] = ()) -> tuple[Path, str]:
    need("gcc", "addr2line")
    sources = [SHIM / "app.c", SHIM / "shim_kernel.c", DEVICE / "ports" / "zephyr" / "ms_zephyr.c",
               DEVICE / "memsleuth_agent.c"]
    exe = host_build(tmp_path / "z", sources, opt, 0, [SHIM, DEVICE], defines,
                     ("-Wl,--wrap=" + ",--wrap=".join(WRAPS),))
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return exe, proc.stdout.replace("\r\n", "\n")


@pytest.mark.parametrize(("option", "native", "tables"), [
    ("MS_OVERVIEW_ALIOS", 1, 3), ("MS_OVERVIEW_NATIVE", 2, 2), ("MS_OVERVIEW_BOTH", 2, 3)])
def test_native_overview_option(tmp_path: Path, option: str, native: int, tables: int) -> None:
    """The app prints one overview, one explicit `kernel heap` text and two dumps (each with
    the AliOS table inside): the option picks what the overview is, dumps keep their table."""
    _exe, out = _run(tmp_path, "-O2", (f"MS_ZEPHYR_OVERVIEW={option}",))
    assert out.count("max. allocated: ") == native
    assert out.count("[HEAP]| TotalSz") == tables


@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_zephyr_port(tmp_path: Path, opt: str) -> None:
    exe, out = _run(tmp_path, opt)
    marks = markers(SHIM / "app.c")

    blocks = {m[1]: int(m[2], 16) for m in re.finditer(r"^BLOCK (\w+) owner 0x([0-9a-f]+)", out,
                                                       re.M)}
    assert set(blocks) == {"timer_mem", "conn", "aligned", "realloc"}
    for name, where in zip(blocks, symbolize(exe, list(blocks.values())), strict=True):
        assert where == marks["SITE"][name], (name, opt)

    # Timers: a create line per k_timer_init (heap, embedded, static); a delete line when the
    # heap block holding the timer is freed (Zephyr has no timer destructor).
    events = re.findall(r"^\[MSOBJ\] (create|delete) timer 0x[0-9a-f]+ caller 0x([0-9a-f]+)",
                        out, re.M)
    got = [(op, w) for (op, _), w in zip(events, symbolize(exe, [int(c, 16) for _, c in events]),
                                         strict=True)]
    o = marks["OBJ"]
    assert got == [("create", o["timer_a"]), ("create", o["timer_b"]),
                   ("create", o["timer_static"]), ("delete", o["timer_a_del"]),
                   ("delete", o["timer_b_del"])]

    # Zephyr's `kernel heap` text, and the overview without a largest-free-block column
    # (sys_heap cannot tell it), both from sys_heap_runtime_stats_get().
    free = int(re.search(r"^free:\s+(\d+)$", out, re.M)[1])
    alloc = int(re.search(r"^allocated:\s+(\d+)$", out, re.M)[1])
    peak = int(re.search(r"^max\. allocated: (\d+)$", out, re.M)[1])
    total = free + alloc
    row = f"      | 0x{total:08X} | 0x{free:08X} | 0x{alloc:08X} | 0x{total - peak:08X} |"
    assert row in out
    assert "MaxFreeBlkSz" not in out

    assert out.count("WARNING, malloc failed!!!! need size:1048576, but free size:") == 2
    pre = re.search(r"^\[MSAGENT\] WARNING 1 allocation\(s\) before init, first caller "
                    r"0x([0-9a-f]+): not tracked$", out, re.M)
    assert pre and symbolize(exe, [int(pre[1], 16)])[0] == marks["PRE"]["early"]
    assert re.search(r"^LOCK depth 0 calls [1-9]\d*$", out, re.M)
    assert "CHECK 0" in out

    # memsleuth reads all of it: nothing skipped or cut, the overview's numbers as printed.
    log = tmp_path / "z.log"
    log.write_text(out)
    parsed = parse_file(log)
    records = list(parsed)
    assert parsed.stats.skipped_in_sections == 0 and parsed.stats.partial_sections == 0
    overviews = [r for r in records if isinstance(r, HeapOverview)]
    assert overviews and all(r.free == free and r.total == free + alloc for r in overviews[:1])
