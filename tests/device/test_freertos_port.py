"""The FreeRTOS port's own code on the host, against a kernel shim (issue 15, item 3).

device/tests/freertos_shim/ is a small FreeRTOS-API shim written for these tests (timers,
queues, semaphores, tasks allocating through pvPortMalloc; a heap_4-shaped heap expanding
traceMALLOC/traceFREE as heap_4 does). The port (device/ports/freertos/) is built on it in both
modes, beside (side table, MS_FREERTOS_BESIDE) and replace (heap_ms.c), with the object
wrappers linked through --wrap, at -O0, -Og, -O2, -Os. Owners, traces and [MSOBJ] callers are
checked against addr2line; the HeapStats_t line against the kernel's own numbers.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from device_helpers import DEVICE, OPT_LEVELS, host_build, markers, need, symbolize

SHIM = DEVICE / "tests" / "freertos_shim"
PORT = DEVICE / "ports" / "freertos"
WRAPS = ("xTimerCreate", "xTimerGenericCommandFromTask", "xQueueGenericCreate",
         "xQueueCreateMutex", "xQueueCreateCountingSemaphore", "vQueueDelete", "xTaskCreate",
         "vTaskDelete")
_BLOCK = re.compile(r"^BLOCK (\w+) owner 0x([0-9a-f]+) t0 0x([0-9a-f]+) t1 0x([0-9a-f]+)",
                    re.M)
_OBJ = re.compile(r"^\[MSOBJ\] (create|delete) (\w+) 0x[0-9a-f]+ caller 0x([0-9a-f]+) seq \d+",
                  re.M)
_FIELDS = ("xAvailableHeapSpaceInBytes", "xSizeOfLargestFreeBlockInBytes",
           "xSizeOfSmallestFreeBlockInBytes", "xNumberOfFreeBlocks",
           "xMinimumEverFreeBytesRemaining", "xNumberOfSuccessfulAllocations",
           "xNumberOfSuccessfulFrees", "configTOTAL_HEAP_SIZE")


def _stats(line: str) -> dict[str, int]:
    pairs = dict(p.split("=") for p in line.split() if "=" in p)
    assert tuple(pairs) == _FIELDS, line
    return {k: int(v) for k, v in pairs.items()}


def _run(tmp_path: Path, opt: str, replace: bool) -> tuple[Path, str]:
    need("gcc", "addr2line")
    sources = [SHIM / "app.c", SHIM / "shim_kernel.c", PORT / "ms_freertos.c",
               DEVICE / "memsleuth_agent.c"]
    sources.append(PORT / "heap_ms.c" if replace else SHIM / "shim_heap4.c")
    defines = ("SHIM_REPLACE=1",) if replace else ("SHIM_REPLACE=0", "MS_FREERTOS_BESIDE=1")
    exe = host_build(tmp_path / "fr", sources, opt, 2, [SHIM, PORT, DEVICE], defines,
                     ("-Wl,--wrap=" + ",--wrap=".join(WRAPS),))
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return exe, proc.stdout.replace("\r\n", "\n")


@pytest.mark.parametrize("mode", ["beside", "replace"])
@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_freertos_port_owners_objects_and_stats(tmp_path: Path, opt: str, mode: str) -> None:
    replace = mode == "replace"
    exe, out = _run(tmp_path, opt, replace)
    marks = markers(SHIM / "app.c", SHIM / "shim_kernel.c")

    # Block owners: the application line for a direct pvPortMalloc; for kernel objects the
    # kernel constructor, with the application line above the port's wrapper (trace[1]).
    blocks = {m[1]: [int(m[i], 16) for i in (2, 3, 4)] for m in _BLOCK.finditer(out)}
    want_blocks = {"ktimer", "direct", "kqueue", "kstack"} | ({"calloc"} if replace else set())
    assert set(blocks) == want_blocks, out[-2000:]
    for name, (owner, _t0, t1) in blocks.items():
        got_owner, got_t1 = symbolize(exe, [owner, t1])
        assert got_owner == marks["SITE"][name], (name, opt, mode)
        if name in marks["T1"]:
            assert got_t1 == marks["T1"][name], (name, opt, mode)

    # Object lines: every create/delete names the application line that called the kernel.
    events = [(m[1], m[2], int(m[3], 16)) for m in _OBJ.finditer(out)]
    got = dict(zip([f"{op}:{kind}" for op, kind, _ in events],
                   symbolize(exe, [c for _, _, c in events]), strict=True))
    assert got == {
        "create:timer": marks["OBJ"]["timer"], "create:queue": marks["OBJ"]["queue"],
        "create:sem": marks["OBJ"]["sem"], "create:mutex": marks["OBJ"]["mutex"],
        "create:task": marks["OBJ"]["task"], "delete:timer": marks["OBJ"]["timer_del"],
        "delete:sem": marks["OBJ"]["sem_del"], "delete:task": marks["OBJ"]["task_del"],
        "delete:queue": marks["OBJ"]["queue_del"], "delete:mutex": marks["OBJ"]["mutex_del"],
    }
    assert len(events) == 10
    assert re.search(r"\[MSOBJ\] create task 0x[0-9a-f]+ caller 0x[0-9a-f]+ seq \d+ name worker$",
                     out, re.M)

    # The FreeRTOS-native line carries exactly what vPortGetHeapStats() returns.
    ours = [_stats(line) for line in re.findall(r"^STATS .*$", out, re.M)]
    native = [_stats(line) for line in re.findall(r"^xAvailableHeapSpaceInBytes=.*$", out, re.M)]
    assert len(ours) == 3 and ours == native
    assert ours[-1]["xNumberOfSuccessfulAllocations"] == ours[-1]["xNumberOfSuccessfulFrees"]
    assert ours[-1]["xNumberOfFreeBlocks"] == 1
    assert ours[0]["xNumberOfSuccessfulAllocations"] >= 7

    # Failures: the hook on every one (FreeRTOS semantics), the AliOS warning on every one,
    # the dump on the first only (+ the explicit dump).
    assert "HOOK 3" in out
    assert out.count("WARNING, malloc failed!!!! need size:1048576, but free size:") == 3
    assert out.count("------ all memory blocks ------") == 3

    # Task table: the worker's block under its name while it lives (prio 1, 64 words), then
    # under "Allocated by deleted task"; the rest under "startup" (before the scheduler ran).
    assert "TASKBLOCK 1" in out
    tables = re.findall(r"TaskName .*?\nAllocated in ISR (\d+), Allocated by deleted task (\d+)",
                        out, re.S)
    assert len(tables) == 3
    first = tables[0]
    rows = re.findall(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$",
                      out.split("task allocation statistic")[1].split("Allocated in ISR")[0],
                      re.M)
    worker = [r for r in rows if r[0] == "worker"]
    assert worker and worker[0][1:3] == ("1", "64") and int(worker[0][3]) >= 200
    assert first[1] == "0"
    assert int(tables[1][1]) >= 200 and "worker  " not in out.split("task allocation")[2]
    assert re.search(r"^LOCK depth 0 calls [1-9]\d*$", out, re.M)
    assert "CHECK 0" in out

    if not replace:
        # Beside: an allocation before ms_freertos_init_side() is named at init, loudly.
        pre = re.search(r"^\[MSAGENT\] WARNING 1 allocation\(s\) before init, first caller "
                        r"0x([0-9a-f]+): not tracked$", out, re.M)
        assert pre, out[:2000]
        assert symbolize(exe, [int(pre[1], 16)])[0] == marks["PRE"]["early"]
