"""The census read in a real terminal: at 80 columns every row's function and file:line stay
whole on one screen line (secondary columns give way), and nothing is wider than the screen."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from memsleuth.cli import main

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pty semantics are Linux's")

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _in_pty(columns: int, args: list[str]) -> str:
    """Run memsleuth on a pseudo-terminal of ``columns`` columns; return what it showed."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal's size is the only width it may use
        # an explicit environment: a library in the parent (curses) may have put COLUMNS
        # into the C environment behind os.environ's back
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        os.execvpe(sys.executable, [sys.executable, "-m", "memsleuth", *args], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r", "")


@pytest.mark.parametrize("scenario", ["cortex-m4-leak", "x86_64-leak"])
def test_census_rows_read_whole_at_80_columns(scenario: str):
    log, elf = OUT / f"{scenario}.log", OUT / f"{scenario}.elf"
    args = ["census", str(log), "--elf", str(elf), "--top", "0"]
    shown = _in_pty(80, args).splitlines()
    rows = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)["rows"]
    assert rows
    assert max(len(line) for line in shown) <= 80
    for row in rows:
        if not (row["function"] and row["file"]):
            continue
        where = f"{row['file'].rsplit('/', 1)[-1]}:{row['line']}"
        assert any(row["function"] in line and line.rstrip().endswith(where)
                   for line in shown), (row["function"], where, "\n".join(shown))


def test_a_wide_terminal_keeps_every_column():
    log, elf = OUT / "cortex-m4-leak.log", OUT / "cortex-m4-leak.elf"
    header = next(line for line in _in_pty(160, ["census", str(log), "--elf", str(elf)])
                  .splitlines() if "blocks" in line and "function" in line)
    assert all(col in header for col in ("share", "min..max", "owner", "kind", "file:line")), header
