"""Build small host programs from device/ sources and check addresses against addr2line.

The C sources mark their expectations in comments: ``SITE:a,b`` on the line where the owner
of blocks ``a`` and ``b`` must symbolize, ``T0:a``/``T1:a`` where their trace[0]/trace[1]
must, ``OBJ:a`` where an ``[MSOBJ]`` caller must, ``PRE:a`` where the caller named by the
agent's before-init warning must. A return address is symbolized as the agent README says:
``(addr & ~1) - 1``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVICE = ROOT / "device"
OPT_LEVELS = ("-O0", "-Og", "-O2", "-Os")
_MARK = re.compile(r"\b(SITE|T0|T1|OBJ|PRE):([\w,]+)")


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def markers(*files: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """{'SITE': {name: (basename, line)}, 'T0': {...}, 'OBJ': {...}} from the sources."""
    out: dict[str, dict[str, tuple[str, int]]] = {k: {} for k in ("SITE", "T0", "T1", "OBJ", "PRE")}
    for f in files:
        for lineno, text in enumerate(f.read_text().splitlines(), 1):
            comment = text.partition("/*")[2]
            for kind, names in _MARK.findall(comment):
                for name in names.split(","):
                    assert name not in out[kind], f"duplicate marker {kind}:{name}"
                    out[kind][name] = (f.name, lineno)
    return out


def host_build(out: Path, sources: list[Path], opt: str, depth: int,
               includes: list[Path], defines: tuple[str, ...] = (),
               ldflags: tuple[str, ...] = ()) -> Path:
    cmd = ["gcc", "-std=gnu99", "-g", opt, "-Wall", "-Wextra", "-Werror",
           "-fno-omit-frame-pointer", "-fno-pie", "-no-pie",
           f"-DMS_AGENT_TRACE_DEPTH={depth}", *(f"-D{d}" for d in defines),
           *(f"-I{i}" for i in includes), "-o", str(out), *map(str, sources), *ldflags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def symbolize(elf: Path, addrs: list[int]) -> list[tuple[str, int] | None]:
    """addr2line of each return address: (basename, line), None for 0 or '??'."""
    query = [hex((a & ~1) - 1) for a in addrs if a]
    lines = subprocess.run(["addr2line", "-e", str(elf), *query], capture_output=True,
                           text=True, check=True, timeout=60).stdout.splitlines() if query else []
    it = iter(lines)
    result: list[tuple[str, int] | None] = []
    for a in addrs:
        if not a:
            result.append(None)
            continue
        file, _, line = next(it).rpartition(":")
        line = line.split()[0]
        result.append(None if file.startswith("??") or not line.isdigit()
                      else (Path(file).name, int(line)))
    return result
