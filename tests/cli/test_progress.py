"""Issue 16: a progress line on a terminal, nothing elsewhere; Ctrl-C keeps a partial answer."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = sorted((ROOT / "examples" / "wifi_reconnect_leak" / "out").glob("x86_64-*.log"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~30 MB of real runs: long enough to be read in many chunks."""
    path = tmp_path_factory.mktemp("progress") / "big.log"
    data = b"".join(p.read_bytes() for p in RUNS)
    with path.open("wb") as out:
        for _ in range(max(1, (30 << 20) // len(data))):
            out.write(data)
    return path


def run_on_pty(args: list[str]) -> tuple[int, bytes, bytes]:
    """Run memsleuth with stderr on a terminal (a pty), stdout on a pipe."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "memsleuth", *args], stdout=subprocess.PIPE,
                            stderr=slave, env=ENV)
    os.close(slave)
    assert proc.stdout is not None
    out_fd = proc.stdout.fileno()
    streams = {master: b"", out_fd: b""}
    open_fds = [master, out_fd]
    while open_fds:                # read both, or a full stdout pipe would block the child
        ready, _, _ = select.select(open_fds, [], [], 1.0)
        if not ready and proc.poll() is not None and master in open_fds:
            open_fds.remove(master)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:        # the child closed the terminal
                chunk = b""
            if chunk:
                streams[fd] += chunk
            else:
                open_fds.remove(fd)
    os.close(master)
    code = proc.wait(timeout=600)
    proc.stdout.close()
    return code, streams[out_fd], streams[master]


def test_progress_line_on_a_terminal_is_erased(big_log: Path) -> None:
    code, out, err = run_on_pty(["trend", str(big_log)])
    assert code in (0, 4)
    assert b"memsleuth: reading " in err and b" lines" in err and b"MB/s" in err
    assert b"(0%)" in err                      # drawn as soon as reading starts
    assert err.endswith(b"\r\x1b[K")           # and erased before the answer is printed
    assert out.startswith(b"Heap trend")


@pytest.mark.parametrize("extra", [["--json"], ["--quiet"]])
def test_nothing_on_stderr_with_json_or_quiet(big_log: Path, extra: list[str]) -> None:
    code, out, err = run_on_pty(["trend", str(big_log), *extra])
    assert code in (0, 4)
    assert err == b""
    if extra == ["--json"]:
        json.loads(out)


def test_nothing_on_stderr_into_a_pipe_unless_forced(big_log: Path) -> None:
    quiet = subprocess.run([sys.executable, "-m", "memsleuth", "trend", str(big_log)],
                           capture_output=True, env=ENV, check=False)
    assert quiet.stderr == b""
    forced = subprocess.run([sys.executable, "-m", "memsleuth", "trend", str(big_log),
                             "--progress"], capture_output=True, env=ENV, check=False)
    assert b"memsleuth: reading " in forced.stderr and b"\r" not in forced.stderr


def start_and_interrupt(args: list[str], presses: int = 1) -> tuple[int, bytes, bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "memsleuth", *args, "--progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert proc.stderr is not None and proc.stdout is not None
    first = proc.stderr.readline()      # reading has started: Ctrl-C is handled from here on
    assert first.startswith(b"memsleuth: reading ")
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, first + err


@pytest.mark.parametrize("verb", ["analyze", "trend", "objects"])
def test_ctrl_c_gives_a_partial_valid_answer(big_log: Path, verb: str) -> None:
    code, out, err = start_and_interrupt([verb, str(big_log), "--json"], presses=1)
    assert code == 4, err.decode()
    doc = json.loads(out)
    assert doc["schema"].startswith(f"memsleuth.{verb}/")
    size = big_log.stat().st_size
    if verb == "analyze":
        reading = [p for p in doc["contents"]["partial"] if p["kind"] == "reading"]
        assert len(reading) == 1
        offset = int(reading[0]["reason"].split(" at byte ")[1].split(":")[0].replace(",", ""))
        assert 0 < offset < size
        assert doc["contents"]["bytes"] == offset
    else:
        assert any("interrupted at byte" in note for note in doc["partial"])
        assert b"interrupted at byte" in err      # said on stderr too


def test_second_ctrl_c_quits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two presses that arrive together are one signal to Python, so this is checked on the
    handler itself: the first asks to stop, the second quits (KeyboardInterrupt: exit 130)."""
    from memsleuth import progress

    monkeypatch.setattr(progress, "_mode", "off")
    watch = progress.Watch(source=None, parsed=None)
    watch._on_sigint(signal.SIGINT, None)
    assert watch.stop
    with pytest.raises(KeyboardInterrupt):
        watch._on_sigint(signal.SIGINT, None)
