"""How the session ended: the command's own exit status, and 'eof' versus 'interrupted'."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from monitor_helpers import monitor_cmd
from schema_helpers import loads_valid
from test_monitor_engine import CRASH_LOG, ListSource

from memsleuth.live.decoder import AddressDecoder
from memsleuth.live.engine import Display, Monitor
from memsleuth.sources.capture import CaptureWriter


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(monitor_cmd(*args, "--no-input", "--log-dir", str(tmp_path)),
                          capture_output=True, timeout=120)


def test_failed_command_with_no_output_exits_3(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--cmd", "false")
    assert proc.returncode == 3
    assert b"the command exited with status 1" in proc.stderr
    proc = _run(tmp_path, "--cmd", "false", "--json")
    assert proc.returncode == 3
    summary = loads_valid(proc.stdout)
    assert summary["command_exit"] == 1 and summary["ended"] == "eof" and summary["bytes"] == 0


def test_failed_command_after_output_is_reported_not_fatal(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--cmd", "sh -c 'echo hello; exit 5'")
    assert proc.returncode == 0
    assert b"hello" in proc.stdout
    assert b"the command exited with status 5" in proc.stderr


def test_command_that_ends_normally_is_eof(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--cmd", f"cat {CRASH_LOG}", "--json")
    summary = loads_valid(proc.stdout)
    assert summary["ended"] == "eof"
    assert summary["command_exit"] == 0
    assert b"the command" not in proc.stderr


def _monitor(tmp_path: Path, parts: list[bytes | None]) -> Monitor:
    return Monitor(ListSource(parts), CaptureWriter(tmp_path, stamp="t"), AddressDecoder(None),
                   Display(io.StringIO(), io.StringIO(), tty=False, status_every=0), poll=0.0)


def test_engine_end_of_source_is_eof_and_stop_is_interrupted(tmp_path: Path) -> None:
    assert _monitor(tmp_path / "a", [b"one\n", None, b"two\n"]).run().ended == "eof"
    mon = _monitor(tmp_path / "b", [b"one\n"] + [None] * 10_000)
    mon.stop()
    assert mon.run().ended == "interrupted"


def test_bad_elf_is_a_one_line_input_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"not an elf")
    proc = _run(tmp_path, "--cmd", "true", "--elf", str(junk))
    assert proc.returncode == 3
    assert proc.stderr.startswith(b"memsleuth: error: ") and b"Traceback" not in proc.stderr
    proc = _run(tmp_path, "--cmd", "true", "--elf", str(tmp_path / "missing.elf"))
    assert proc.returncode == 2 and b"ELF not found" in proc.stderr


def test_live_layer_does_not_import_the_cli() -> None:
    live = Path(__file__).resolve().parents[2] / "src" / "memsleuth" / "live"
    for path in live.glob("*.py"):
        assert "memsleuth.commands" not in path.read_text(), path
