"""Live check on a freshly compiled host program, when gcc, objdump and addr2line exist."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import pytest
from sym_helpers import FIXTURES, frames_of, matches_addr2line

from memsleuth.symbols import Symbolizer

TOOLS = ("gcc", "objdump", "addr2line")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS)
                       or platform.machine() not in ("x86_64", "AMD64"),
                       reason="needs host gcc, objdump and addr2line on x86-64"),
]
INSN = re.compile(r"^\s*([0-9a-f]+):\t[0-9a-f ]+?\s*\t(\S+)")


def _addr2line(elf, addrs):
    text = "".join(f"0x{a:x}\n" for a in addrs)
    out = subprocess.run(["addr2line", "-a", "-f", "-i", "-e", str(elf)], input=text,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    res, i = [], 0
    while i < len(out):
        if re.fullmatch(r"0x[0-9a-f]+", out[i]):
            res.append([])
            i += 1
            continue
        loc = re.sub(r" \(discriminator \d+\)$", "", out[i + 1])
        file, _, line = loc.rpartition(":")
        res[-1].append([None if out[i] == "??" else out[i], None if file == "??" else file,
                        None if line in ("?", "0") else int(line)])
        i += 2
    return res


@pytest.mark.parametrize("flags", [["-O2", "-g"], ["-O2", "-gdwarf-4"], ["-Os", "-g"]])
def test_fresh_host_build_matches_addr2line(tmp_path, flags):
    src = FIXTURES / "src"
    elf = tmp_path / "prog"
    subprocess.run(["gcc", *flags, "-o", str(elf), str(src / "main.c"), str(src / "ring.c"),
                    str(src / "heap.c")], check=True)
    dis = subprocess.run(["objdump", "-d", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    insns = [(int(m.group(1), 16), m.group(2)) for m in map(INSN.match, dis.splitlines()) if m]
    rets = [n[0] for c, n in zip(insns, insns[1:], strict=False) if c[1] in ("call", "callq")]
    pcs = [a for a, _ in insns]
    s = Symbolizer.open(elf, use_cache=False, engine="python")
    for addrs, kind, lookups in ((rets, "return", [r - 1 for r in rets]), (pcs, "pc", pcs)):
        res = s.symbolize(addrs, kind)
        exp = _addr2line(elf, lookups)
        bad = [(hex(a), frames_of(res[a]), e) for a, e in zip(addrs, exp, strict=True)
               if not matches_addr2line(res[a], e)]
        assert not bad
