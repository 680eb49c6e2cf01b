"""Unit tests of the monitor's pieces: line assembly, capture rotation, decoding, tracking."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsleuth.live.assembler import LineAssembler
from memsleuth.live.decoder import AddressDecoder, line_kind
from memsleuth.live.engine import parse_duration
from memsleuth.live.scan import LiveScanner
from memsleuth.live.tracker import LiveTracker
from memsleuth.records import CycleMarker, HeapOverview, ObjectEvent
from memsleuth.sources.capture import CaptureWriter
from memsleuth.sources.text import split_lines
from memsleuth.symbols.location import Frame, Location

# -- line assembly ------------------------------------------------------------------------------


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([b"ab", b"\r", b"\n", b"\r\n", b"0x0800a3c5 ", b"\xff", b"x"]),
             max_size=40),
    st.lists(st.integers(min_value=0, max_value=200), max_size=10),
)
def test_assembler_splits_like_file_reading(parts: list[bytes], cuts: list[int]) -> None:
    """Same lines as split_lines whatever the chunking: line N live is line N in census."""
    data = b"".join(parts)
    asm = LineAssembler()
    got: list[bytes] = []
    for chunk in _chunks(data, cuts):
        got += asm.feed(chunk)
    got += asm.flush()
    assert got == list(split_lines([data]))
    assert b"".join(got) == data


# -- capture ------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.binary(min_size=0, max_size=60), max_size=30),
    st.integers(min_value=16, max_value=300),
)
def test_capture_rotation_keeps_every_byte(chunks: list[bytes], limit: int) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        cap = CaptureWriter(tmp, rotate_bytes=limit, stamp="t")
        for c in chunks:
            cap.write(c)
        cap.close()
        data = b"".join(Path(p).read_bytes() for p in cap.files)
        assert data == b"".join(chunks)
        assert cap.bytes_written == len(data)


def test_capture_rotation_cuts_at_line_ends(tmp_path) -> None:
    cap = CaptureWriter(tmp_path, rotate_bytes=100, stamp="t")
    lines = [f"line {i:04d} {'x' * (i % 30)}\r\n".encode() for i in range(200)]
    blob = b"".join(lines)
    for i in range(0, len(blob), 37):
        cap.write(blob[i:i + 37])
    cap.close()
    assert len(cap.files) > 10
    for path in cap.files[:-1]:
        body = path.read_bytes()
        assert body.endswith(b"\r\n")
        assert len(body) <= 100 + 60  # at most one line over
    assert b"".join(p.read_bytes() for p in cap.files) == blob


def test_capture_never_overwrites(tmp_path) -> None:
    a = CaptureWriter(tmp_path, stamp="same")
    a.write(b"first\n")
    a.close()
    b = CaptureWriter(tmp_path, stamp="same")
    b.write(b"second\n")
    b.close()
    assert a.path != b.path
    assert a.path.read_bytes() == b"first\n"


# -- decoding -----------------------------------------------------------------------------------


@dataclass
class FakeSymbolizer:
    """Code at 0x08000000..0x08010000; records the batches it is asked for."""

    calls: list[tuple[str, tuple[int, ...]]]
    fail: bool = False
    text_ranges = [(0x08000000, 0x08010000)]

    def symbolize(self, addrs, kind="return"):
        addrs = tuple(addrs)
        self.calls.append((kind, addrs))
        if self.fail:
            raise RuntimeError("boom")
        out = {}
        for a in addrs:
            look = (a & ~1) - 1 if kind == "return" else a & ~1
            out[a] = Location(address=a, lookup=look,
                              frames=(Frame(f"f_{look:x}", "/src/wifi_drv.c", look & 0xFF),))
        return out


def test_line_kinds() -> None:
    assert line_kind("backtrace : 0x0800A3D2 ") == "callsite"
    assert line_kind("PC      0x0800A3D2") == "pc"
    assert line_kind("LR      0x0800A3C5") == "return"
    assert line_kind("0x20003e70  used      72   OK  0x800a3c5   (0x800a3c4 <- 0x800b120)") \
        == "return"
    assert line_kind("[MSOBJ] create timer 0x20000940 caller 0x0800041d seq 1") == "return"
    assert line_kind("stack(0x20004F80): 0x20004FA0 0x00000010 0x00000000 0x0800A3C5 ") == "stack"
    # numbers that are not code, even when they fall in a code range starting at 0
    assert line_kind("R3      0x00000010") is None
    assert line_kind("      | 0x00019000 | 0x000186A0 | 0x00000960 | 0x00018598 |") is None
    assert line_kind("app_task             RDY      0x00000014 0x20004690 "
                     "0x00001000(0x000000B4)") is None
    assert line_kind("0x20006100 0x00000008 0x00000003 0x00000000                     ") is None
    assert line_kind("free = 0x0001B2A0 | used = 0x00012D60 | max used = 0x000243C0") is None
    assert line_kind("assert failed at 0x0800a3c5") == "pc"


def test_decoder_batches_caches_and_adjusts_by_kind() -> None:
    sym = FakeSymbolizer(calls=[])
    dec = AddressDecoder(sym)
    lines = [
        "0x20003e70  used      72   OK  0x800a3c5  ",
        "backtrace : 0x0800A3D2 ",
        "PC      0x0800A3D2",
        "heap at 0x20001000 is data",
        "[MSOBJ] create timer 0x20000940 caller 0x0800a3c5 seq 1",
    ]
    out = dec.decode(lines)
    assert out[0] == "0x20003e70  used      72   OK  0x800a3c5 [f_800a3c3 wifi_drv.c:195]  "
    assert out[1] == "backtrace : 0x0800A3D2 [f_800a3d2 wifi_drv.c:210] "
    assert out[2] == "PC      0x0800A3D2 [f_800a3d2 wifi_drv.c:210]"
    assert out[3] == lines[3]                  # outside the code ranges: untouched
    assert "0x20000940 caller 0x0800a3c5 [f_800a3c3" in out[4]
    # one call per kind for the whole batch; the return address asked once
    assert sorted(k for k, _ in sym.calls) == ["callsite", "pc", "return"]
    before = len(sym.calls)
    assert dec.decode(lines) == out
    assert len(sym.calls) == before            # all cached


def test_decoder_stack_words_need_the_thumb_bit() -> None:
    sym = FakeSymbolizer(calls=[])
    sym.thumb = True  # type: ignore[attr-defined]
    dec = AddressDecoder(sym)
    [out] = dec.decode(["stack(0x20004F80): 0x08000010 0x08000021 0x00000000 0x20004FA0 "])
    # the even word is skipped, the odd one decoded
    assert "0x08000010 0x08000021 [f_800001f wifi_drv.c:31]" in out


def test_decoder_survives_symbolizer_failure() -> None:
    dec = AddressDecoder(FakeSymbolizer(calls=[], fail=True))
    assert dec.decode(["PC 0x08000010"]) == ["PC 0x08000010"]
    assert dec.errors == 1


def test_decoder_without_elf_passes_through() -> None:
    dec = AddressDecoder(None)
    assert dec.decode(["PC 0x08000010"]) == ["PC 0x08000010"]


# -- scanning and tracking ----------------------------------------------------------------------


def _overview_lines(free: int, total: int = 0xD000) -> list[str]:
    return [
        "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |",
        f"      | 0x{total:08X} | 0x{free:08X} | 0x{total - free:08X} | 0x{free:08X} "
        f"| 0x{free:08X}    |",
    ]


def _feed(tracker: LiveTracker, lines: list[str]) -> None:
    scanner = LiveScanner()
    for line in lines:
        for rec in scanner.feed(line):
            tracker.add(rec)  # type: ignore[arg-type]
        tracker.lines = scanner.lines


def _session(frees: list[int]) -> list[str]:
    out: list[str] = []
    for i, free in enumerate(frees, 1):
        out.append(f"[MSCYCLE] {i}")
        out += _overview_lines(free)
    return out


def test_scanner_reads_overview_object_and_cycle() -> None:
    scanner = LiveScanner()
    recs = []
    for line in ["[MSCYCLE] 3", *_overview_lines(0xC000),
                 "[MSOBJ] create timer 0x20000940 caller 0x0000041d seq 1 name t1",
                 "WARNING, malloc failed!!!! need size:515"]:
        recs += scanner.feed(line)
    assert isinstance(recs[0], CycleMarker) and recs[0].index == 3
    assert isinstance(recs[1], HeapOverview) and recs[1].free == 0xC000 and recs[1].line == 2
    assert isinstance(recs[2], ObjectEvent) and recs[2].name == "t1"
    assert recs[3].kind == "malloc_failed"


def test_tracker_alerts_on_steady_leak() -> None:
    frees = [50_000 - 150 * i + (37 * i % 5) * 40 for i in range(60)]
    tracker = LiveTracker()
    _feed(tracker, _session(frees))
    leaks = [a for a in tracker.alerts if a.kind == "leak"]
    assert len(leaks) == 1 and tracker.finding
    assert 140 < tracker.status().leak_rate < 160
    assert tracker.forecast() is not None


def test_tracker_ignores_warmup_then_plateau() -> None:
    frees = [50_000 - 300 * min(i, 12) + (37 * i % 5) * 40 for i in range(120)]
    tracker = LiveTracker()
    _feed(tracker, _session(frees))
    assert not tracker.alerts
    assert "free" in tracker.status_text()


def test_tracker_object_imbalance() -> None:
    lines: list[str] = []
    for c in range(1, 41):
        lines.append(f"[MSCYCLE] {c}")
        lines.append(f"[MSOBJ] create timer 0x{0x20000000 + c * 0x60:08x} caller 0x0000041d "
                     f"seq {c}")
    tracker = LiveTracker()
    _feed(tracker, lines)
    assert tracker.status().objects == {"timer": 40}
    assert [a.kind for a in tracker.alerts] == ["object_leak"]


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("30s", 30), ("1h", 3600),
                                               ("500ms", 0.5), ("2", 2)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_rejects() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_tracker_memory_is_bounded_on_long_sessions() -> None:
    """The tracker keeps what the offline accumulators keep: bounded bins, not every point."""
    from memsleuth.analysis.trend import TrendCollector
    from memsleuth.live import tracker as tr

    t = LiveTracker()
    t.acc.trend = TrendCollector(capacity=500)   # the offline collector, a small bound
    for c in range(1, 1500):
        t.add(CycleMarker(line=2 * c, index=c, text=f"[MSCYCLE] {c}"))
        t.add(HeapOverview(line=2 * c + 1, variant="H4", total=100_000, free=90_000 + c % 7,
                           used=10_000))
    t.refresh_forecast()
    assert len(t.acc.trend.by_cycle.points) <= 500
    assert len(t.heap.overviews) <= tr.HEALTH_CAPACITY
    assert t.status().cycle == 1499 and t.status().points <= 500
    assert not t.alerts
