"""The ThreadX port's own code on the host, against a kernel-API shim (issue 15, item 3).

device/tests/threadx_shim/ is a small shim written for these tests (ThreadX 6.4 names and
signatures; a byte pool with ThreadX' block layout; the interrupt posture; object services that
print what they were asked); the port (device/ports/threadx/ms_threadx.c) sits beside the pool
through --wrap. Built at -O0, -Og, -O2, -Os; owners and [MSOBJ] callers are checked against
addr2line, the overview and the pool line against figures the app computes from its own
pointers, and memsleuth's reader against the agent's output. The real kernel under QEMU is
test_threadx_qemu_fixture.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from device_helpers import DEVICE, OPT_LEVELS, host_build, markers, need, symbolize

from memsleuth.parse import parse_file
from memsleuth.records import HeapOverview

SHIM = DEVICE / "tests" / "threadx_shim"
PORT = DEVICE / "ports" / "threadx"


def _wrap_flags(tmp_path: Path) -> str:
    """MS_THREADX_WRAP_LDFLAGS as the recipe tells users to link with (ms_threadx.h): the test
    links with exactly that, so a wrapper missing from it fails the link or the checks."""
    src = tmp_path / "flags.c"
    src.write_text('#include <stdio.h>\n#include "ms_threadx.h"\n'
                   "int main(void) { puts(MS_THREADX_WRAP_LDFLAGS); return 0; }\n")
    exe = host_build(tmp_path / "flags", [src], "-O0", 0, [SHIM, DEVICE, PORT])
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def _run(tmp_path: Path, opt: str, defines: tuple[str, ...] = ()) -> tuple[Path, str]:
    need("gcc", "addr2line")
    sources = [SHIM / "app.c", SHIM / "shim_kernel.c", PORT / "ms_threadx.c",
               DEVICE / "memsleuth_agent.c"]
    flags = _wrap_flags(tmp_path)
    assert flags.startswith("-Wl,--wrap=_txe_byte_allocate,")
    exe = host_build(tmp_path / "tx", sources, opt, 0, [SHIM, DEVICE, PORT], defines, (flags,))
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return exe, proc.stdout.replace("\r\n", "\n")


@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_threadx_port(tmp_path: Path, opt: str) -> None:
    exe, out = _run(tmp_path, opt)
    marks = markers(SHIM / "app.c")

    blocks = {m[1]: int(m[2], 16) for m in re.finditer(r"^BLOCK (\w+) owner 0x([0-9a-f]+)", out,
                                                       re.M)}
    assert set(blocks) == {"timer_mem", "a", "d"}
    for name, where in zip(blocks, symbolize(exe, list(blocks.values())), strict=True):
        assert where == marks["SITE"][name], (name, opt)
    # Released blocks leave the table; another pool's block is never in it.
    assert "BLOCK timer_mem_released missing" in out and "BLOCK other missing" in out

    events = re.findall(r"^\[MSOBJ\] (create|delete) (\w+) 0x[0-9a-f]+ caller 0x([0-9a-f]+)",
                        out, re.M)
    where = symbolize(exe, [int(c, 16) for _, _, c in events])
    o = marks["OBJ"]
    assert [(op, kind, w) for (op, kind, _), w in zip(events, where, strict=True)] == [
        ("create", "timer", o["timer_create"]), ("delete", "timer", o["timer_delete"]),
        ("create", "task", o["thread_create"]), ("create", "sem", o["sem_create"]),
        ("create", "queue", o["queue_create"]), ("create", "mutex", o["mutex_create"]),
        ("delete", "mutex", o["mutex_delete"]), ("delete", "queue", o["queue_delete"]),
        ("delete", "sem", o["sem_delete"])]
    # An auto-started thread is created suspended and resumed after its create line.
    seq = [line for line in out.splitlines() if "worker" in line and "thread" in line
           or line.startswith("[MSOBJ] create task")]
    assert [s.split()[1] for s in seq] == ["thread_create", "create", "thread_resume"]
    assert "SHIM thread_create worker start 0" in out

    # The pool's figures: free = ThreadX' available bytes, largest free block = the run of
    # B and C released (what the app computed from its pointers), in the table and the line.
    expect = re.search(r"^EXPECT largest (\d+) available (\d+)$", out, re.M)
    largest, available = int(expect[1]), int(expect[2])
    row = re.search(r"^      \| 0x([0-9A-F]{8}) \| 0x([0-9A-F]{8}) \| 0x([0-9A-F]{8}) \| "
                    r"0x([0-9A-F]{8}) \| 0x([0-9A-F]{8})", out, re.M)
    total, free, used, _minfree, maxblk = (int(g, 16) for g in row.groups())
    assert (total, free, used, maxblk) == (2048, available, 2048 - available, largest)
    assert (f"tx_byte_pool_info_get name=app available_bytes={available} " in out
            and f" largest_free_run={largest} pool_size=2048" in out)

    # Every failure warns; the first one dumps. The worker's block is charged to it.
    assert out.count(f"WARNING, malloc failed!!!! need size:{1 << 20}, but free size:") == 2
    assert re.search(r"^worker\s+5\s+128\s+904\s*$", out, re.M)
    pre = re.search(r"^\[MSAGENT\] WARNING 1 allocation\(s\) before init, first caller "
                    r"0x([0-9a-f]+): not tracked$", out, re.M)
    assert pre and symbolize(exe, [int(pre[1], 16)])[0] == marks["PRE"]["early"]
    lock = re.search(r"^LOCK disabled (\d+) calls (\d+) bad (\d+)$", out, re.M)
    assert lock[1] == "0" and int(lock[2]) > 0 and lock[3] == "0"

    # memsleuth reads all of it: nothing skipped or cut, the overview's numbers as printed.
    log = tmp_path / "tx.log"
    log.write_text(out)
    parsed = parse_file(log)
    records = list(parsed)
    assert parsed.stats.skipped_in_sections == 0 and parsed.stats.partial_sections == 0
    overviews = [r for r in records if isinstance(r, HeapOverview)]
    assert overviews and overviews[0].free == available and overviews[0].total == 2048
