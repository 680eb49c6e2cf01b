"""A crash dump cut short (device reset mid-dump) is closed as partial and explained."""

from __future__ import annotations

from pathlib import Path

from test_monitor_engine import CRASH_LOG, _monitor

import memsleuth.live.engine as engine
from memsleuth.live.scan import LiveScanner


def test_reset_mid_dump_is_explained_as_partial(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(engine, "CRASH_IDLE_S", 0.0)  # the first silent poll is the pause
    lines = CRASH_LOG.read_bytes().splitlines(keepends=True)
    cut = b"".join(lines[:39])            # banner .. call stack; no heap, tasks or dump end
    parts: list[bytes | None] = [b"boot ok\r\n", cut, None, None, b"boot ok again\r\n"]
    mon, out, _ = _monitor(tmp_path, parts)
    result = mon.run()
    assert [a.kind for a in result.alerts] == ["crash"]
    [crash] = result.crashes
    assert crash.line == 2 and "no output for" in crash.partial
    assert crash.explanation.partial is True
    assert crash.explanation.cause.category
    text = out.getvalue()
    assert text.index("Cause:") < text.index("boot ok again")  # explained at the pause
    assert not mon.scanner.in_crash


def test_stream_ending_mid_dump_is_explained_as_partial(tmp_path: Path) -> None:
    lines = CRASH_LOG.read_bytes().splitlines(keepends=True)
    mon, _, _ = _monitor(tmp_path, [b"".join(lines[:39])])
    [crash] = mon.run().crashes
    assert crash.explanation.partial is True
    assert "stream ended" in crash.partial


def test_complete_dump_comes_out_of_the_scanner_whole() -> None:
    scanner = LiveScanner()
    records = []
    for raw in CRASH_LOG.read_bytes().splitlines():
        records += scanner.feed(raw.decode())
    crashes = [r for r in records if type(r).__name__ == "CrashDump"]
    assert len(crashes) == 1 and not crashes[0].partial
    assert crashes[0].line == 1 and crashes[0].end_line == 74
    assert not scanner.in_crash


