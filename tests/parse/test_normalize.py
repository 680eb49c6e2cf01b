"""Prefix, colour and control-character stripping (memsleuth.parse.normalize)."""

from __future__ import annotations

import pytest

from memsleuth.parse.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "text", "ts"),
    [
        ("[  123.456]<I> AOS started", "AOS started", 123.456),
        ("[  123.456] [HEAP]| TotalSz    |", "[HEAP]| TotalSz    |", 123.456),
        ("I (1234) wifi: connected", "connected", 1.234),
        ("W (99) heap_mon: WARNING, malloc failed!!!!", "WARNING, malloc failed!!!!", 0.099),
        ("12:34:56.789 > g_kmm_head = 20000400", "g_kmm_head = 20000400", 45296.789),
        ("[12:34:56.789] ALL BLOCKS", "ALL BLOCKS", 45296.789),
        ("(00:00:00.106) backtrace : 0x0800A3D2", "backtrace : 0x0800A3D2", 0.106),
        ("2026-11-28 02:15:24.123 free list:", "free list:", 1795832124.123),
        ("[I][wifi] link up", "link up", None),
        ("[E] boom", "boom", None),
        ("<W> careful", "careful", None),
    ],
)
def test_prefixes_are_stripped(raw: str, text: str, ts: float | None) -> None:
    norm = normalize(raw)
    assert norm.text == text
    assert norm.prefixed
    if ts is None:
        assert norm.ts is None
    else:
        assert norm.ts == pytest.approx(ts)


def test_syslog_prefix_orders_across_days() -> None:
    a = normalize("Nov 28 23:59:59 host prog[12]: x")
    b = normalize("Nov 29 00:00:01 host prog[12]: y")
    assert (a.text, b.text) == ("x", "y")
    assert a.ts is not None and b.ts is not None and b.ts - a.ts == pytest.approx(2.0)


@pytest.mark.parametrize(
    "content",
    [
        "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  |",
        "[POOL]| PoolSz     | FreeSz     | UsedSz     | BlkSz      |",
        "[2^06] bytes:   747   |[2^07] bytes:   235   |",
        "[2^02] bytes:     0   |",
        "[MSOBJ] create timer 0x20001000",
        "[MSCYCLE] 12",
        "[   0]:adress:0x20008000                  len:4096  type:free  flag:0xabababab",
        "[0   ]:adress:0x20005a10 owner:0x800c1d3 len:3096  type:leak",
        "[kernel task]",
        "-> [13][14]",
        "      | 0x0002E000 | 0x0001B2A0 | 0x00012D60 | 0x00009A40 |",
        "========== Heap Info  ==========",
        "!!!!!!!!!! Exception  !!!!!!!!!!",
        "0x0x400b8b40  used       8   OK  0x0",
        "PC      0x4000C6CA",
    ],
)
def test_alios_content_is_never_stripped(content: str) -> None:
    assert normalize(content) == (content.rstrip(), None, False)
    # ... nor after a real prefix
    prefixed = normalize("[  1.500]<I> " + content)
    assert prefixed.text == content.rstrip()
    assert prefixed.ts == pytest.approx(1.5)


def test_level_tag_before_alios_content_keeps_content() -> None:
    assert normalize("[I][HEAP]| TotalSz |").text == "[HEAP]| TotalSz |"
    assert normalize("[I][MSCYCLE] 3").text == "[MSCYCLE] 3"


def test_ansi_and_control_characters() -> None:
    norm = normalize("\x1b[0;32m[  1.250]<I> \x1b[1mfree list:\x1b[0m\r\n")
    assert norm == ("free list:", 1.25, True)
    assert normalize("\x00\x00ALL BLOCKS\x07").text == "ALL BLOCKS"
    assert normalize("\x1b]0;title\x07g_kmm_head = 1").text == "g_kmm_head = 1"


def test_stacked_prefixes_keep_outer_timestamp() -> None:
    norm = normalize("12:00:00.000 > [  5.000]<I> hello")
    assert norm.text == "hello"
    assert norm.ts == pytest.approx(43200.0)


def test_plain_lines_untouched() -> None:
    assert normalize("hello world") == ("hello world", None, False)
    assert normalize("") == ("", None, False)
    assert normalize("   ") == ("", None, False)
