"""The monitor loop with in-memory sources: ordering, crash explanation, TTY status, resilience."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from monitor_helpers import REPO, monitor_cmd
from schema_helpers import loads_valid

from memsleuth.live.decoder import AddressDecoder
from memsleuth.live.engine import Display, Monitor, Schedule
from memsleuth.sources.capture import CaptureWriter

CRASH_LOG = REPO / "tests" / "fixtures" / "crash" / "alios20_m4_busfault_task.log"


class ListSource:
    """Chunks from a list; ``None`` entries are idle polls (no data yet)."""

    def __init__(self, parts: list[bytes | None]) -> None:
        self.parts = list(parts)
        self.sent: list[bytes] = []
        self.on_event = lambda msg: None
        self.describe = "list"

    def open(self) -> None: ...

    def read(self, timeout: float) -> bytes | None:
        if not self.parts:
            return None
        part = self.parts.pop(0)
        return b"" if part is None else part

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None: ...


class ExplodingDecoder(AddressDecoder):
    def decode(self, texts):  # type: ignore[no-untyped-def]
        raise RuntimeError("decoder bug")


def _monitor(tmp_path: Path, parts: list[bytes | None], *, tty: bool = False,
             decoder: AddressDecoder | None = None, schedule: Schedule | None = None
             ) -> tuple[Monitor, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    mon = Monitor(ListSource(parts), CaptureWriter(tmp_path, stamp="t"),
                  decoder or AddressDecoder(None), Display(out, err, tty=tty, status_every=0),
                  schedule=schedule, poll=0.0)
    return mon, out, err


def test_capture_survives_a_broken_decoder(tmp_path: Path) -> None:
    data = [b"line one\r\nline ", b"two\r\n", b"PC 0x08000010\r\n"]
    mon, out, err = _monitor(tmp_path, data, decoder=ExplodingDecoder(None))
    result = mon.run()
    assert (tmp_path / "monitor-t.log").read_bytes() == b"".join(data)
    assert result.lines == 3
    assert "line two" in out.getvalue()           # shown undecoded
    assert result.decode.errors >= 1


def test_crash_alert_then_explanation_in_order(tmp_path: Path) -> None:
    blob = CRASH_LOG.read_bytes()
    parts: list[bytes | None] = [b"boot ok\r\n"]
    parts += [blob[i:i + 300] for i in range(0, len(blob), 300)]
    mon, out, _ = _monitor(tmp_path, parts)
    result = mon.run()
    text = out.getvalue()
    assert result.finding
    assert [a.kind for a in result.alerts] == ["crash"]
    assert result.alerts[0].line == 2
    assert len(result.crashes) == 1 and result.crashes[0].line == 2
    banner = text.index("!!!!!!!!!! Exception")
    alert = text.index("ALERT [crash]")
    end = text.index("dump end")
    assert banner < alert < end
    if result.crashes[0].explanation is not None:   # when the crash module is installed
        assert text.index("Cause:") > end


def test_tty_status_line_is_redrawn_below_output(tmp_path: Path) -> None:
    mon, out, _ = _monitor(tmp_path, [b"hello\r\n", None, b"world\r\n"], tty=True)
    mon.run()
    text = out.getvalue()
    assert "\r\x1b[K" in text and "[memsleuth]" in text
    assert text.index("hello") < text.index("world")
    # the status is erased before device text is printed over it
    assert "\x1b[0mworld" not in text


def test_prompt_without_newline_is_shown_once(tmp_path: Path, monkeypatch) -> None:
    import memsleuth.live.engine as engine

    clock = iter(range(0, 1000))
    monkeypatch.setattr(engine.time, "monotonic", lambda: float(next(clock)))
    mon, out, _ = _monitor(tmp_path, [b"# ", None, None, b"dumpsys mm\r\n"])
    mon.run()
    text = out.getvalue()
    assert text.count("# ") == 1
    assert "# dumpsys mm\n" in text


def test_schedule_sends_at_start_and_every_period() -> None:
    sched = Schedule(command=b"dumpsys mm_info\r\n", every=5.0)
    ticks = [0.0, 0.0, 1.0, 2.0, 5.0, 6.0, 10.5, 11.0, 12.0, 13.0, 14.0]
    assert [t for t in ticks if sched.due(t)] == [0.0, 5.0, 10.5]


def test_scheduled_command_reaches_the_source(tmp_path: Path) -> None:
    import time

    class SlowSource(ListSource):
        def read(self, timeout: float) -> bytes | None:
            time.sleep(0.01)
            return super().read(timeout)

    source = SlowSource([None] * 30)
    out, err = io.StringIO(), io.StringIO()
    mon = Monitor(source, CaptureWriter(tmp_path, stamp="t"), AddressDecoder(None),
                  Display(out, err, tty=False), poll=0.01,
                  schedule=Schedule(command=b"dumpsys mm\r\n", every=0.1))
    result = mon.run()
    assert result.sends >= 2
    assert source.sent == [b"dumpsys mm\r\n"] * result.sends


def test_cli_crash_via_cmd_exits_1(tmp_path: Path) -> None:
    proc = subprocess.run(
        monitor_cmd("--cmd", f"cat {CRASH_LOG}", "--log-dir", str(tmp_path), "--json"),
        capture_output=True, timeout=120,
    )
    assert proc.returncode == 1
    summary = loads_valid(proc.stdout)
    assert summary["schema"] == "memsleuth.monitor/3"
    assert [a["kind"] for a in summary["alerts"]] == ["crash"]
    assert Path(summary["capture_files"][0]).read_bytes() == CRASH_LOG.read_bytes()


def test_cli_usage_errors(tmp_path: Path) -> None:
    for args in (["--cmd", "true", "--send", "x"], ["--cmd", "true", "--send", "x",
                                                     "--every", "soon"], [],
                 ["--cmd", "true", "--warmup", "x"]):
        proc = subprocess.run(monitor_cmd(*args, "--log-dir", str(tmp_path)),
                              capture_output=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)


def test_cli_missing_command_is_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(monitor_cmd("--cmd", "no-such-program-xyz", "--log-dir",
                                      str(tmp_path)), capture_output=True, timeout=60)
    assert proc.returncode == 2
    assert b"command not found" in proc.stderr
    assert sys.executable


def test_typed_lines_are_forwarded(tmp_path: Path) -> None:
    import os

    r, w = os.pipe()
    os.write(w, b"help\n")
    os.close(w)
    keyboard = os.fdopen(r, "r")
    out, err = io.StringIO(), io.StringIO()
    source = ListSource([None, None, b"ok\r\n"])
    mon = Monitor(source, CaptureWriter(tmp_path, stamp="t"), AddressDecoder(None),
                  Display(out, err, tty=False), poll=0.0, keyboard=keyboard, eol=b"\r")
    mon.run()
    keyboard.close()
    assert source.sent == [b"help\r"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=60))
def test_engine_capture_and_line_numbers_match_file_reading(sizes: list[int]) -> None:
    """Whatever the chunking: capture == input, and live line numbers == file line numbers."""
    import tempfile

    from memsleuth.sources.text import split_lines

    blob = CRASH_LOG.read_bytes().replace(b"\n", b"\r\n")[:4000] + b"tail without newline"
    parts: list[bytes | None] = []
    pos = 0
    for n in sizes:
        if pos >= len(blob):
            break
        parts += [blob[pos:pos + n], None]
        pos += n
    parts.append(blob[pos:])
    with tempfile.TemporaryDirectory() as tmp:
        mon, _, _ = _monitor(Path(tmp), parts)
        result = mon.run()
        assert Path(result.capture_files[0]).read_bytes() == blob
    assert result.lines == len(list(split_lines([blob])))
    assert result.alerts[0].line == 1
