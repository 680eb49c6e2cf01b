"""Owner-passing glue keeps the real caller at every optimisation level (issue 15, item 1).

A pvPortMalloc-like glue in its own file calls ``ms_malloc_from(n, MS_CALLER())``; the owner
the agent stores must symbolize (addr2line) to the application line that called the glue, the
trace must continue above it, and a kernel constructor that allocates through the glue owns
its block while the application is trace[0]. Built with gcc at -O0, -Og, -O2, -Os, trace
depth 0 and 2.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from device_helpers import DEVICE, OPT_LEVELS, host_build, markers, need, symbolize

SRC = DEVICE / "tests" / "owners"
_BLOCK = re.compile(r"^BLOCK (\w+) owner 0x([0-9a-f]+) t0 0x([0-9a-f]+) t1 0x([0-9a-f]+)$",
                    re.M)


@pytest.mark.parametrize("depth", [0, 2])
@pytest.mark.parametrize("opt", OPT_LEVELS)
def test_glue_owner_is_the_application_line(tmp_path: Path, opt: str, depth: int) -> None:
    need("gcc", "addr2line")
    sources = [SRC / "app.c", SRC / "glue.c", DEVICE / "memsleuth_agent.c"]
    exe = host_build(tmp_path / "owners", sources, opt, depth, [DEVICE, SRC])
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    marks = markers(SRC / "app.c", SRC / "glue.c")
    blocks = {m[1]: [int(m[2], 16), int(m[3], 16)] for m in _BLOCK.finditer(proc.stdout)}
    assert set(blocks) == set(marks["SITE"]) - {"badfree"}

    for name, (owner, t0) in blocks.items():
        got_owner, got_t0 = symbolize(exe, [owner, t0])
        assert got_owner == marks["SITE"][name], (name, opt)
        if depth:
            assert got_t0 == marks["T0"][name], (name, opt)
        else:
            assert t0 == 0

    # A double free through the glue names the line that freed, not the glue.
    bad = re.search(r"\[MSAGENT\] bad free by caller 0x([0-9a-f]+)", proc.stderr)
    assert bad, proc.stderr[-2000:]
    assert "WARNING, memory maybe double free!!" in proc.stderr
    assert symbolize(exe, [int(bad[1], 16)])[0] == marks["SITE"]["badfree"]
