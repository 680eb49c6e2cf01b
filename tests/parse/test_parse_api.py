"""The public API: parse_file / parse_lines, ParsedLog, cycle markers, the registry."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from parse_helpers import FIXTURES, fixture_lines, parse_all

from memsleuth.errors import InputError, UsageError
from memsleuth.parse import ParsedLog, parse_file, parse_lines, registry
from memsleuth.records import AllocWarning, BlockDump, CycleMarker, HeapOverview, LeakCandidate


def test_parse_file_gzip_and_path(tmp_path: Path) -> None:
    src = FIXTURES / "h4_crash_heap_info.log"
    packed = tmp_path / "heap.log.gz"
    packed.write_bytes(gzip.compress(src.read_bytes()))
    log = parse_file(packed)
    assert isinstance(log, ParsedLog) and log.path == packed
    assert list(log) == list(parse_file(src))
    assert log.stats.lines == 8 and log.stats.bytes == src.stat().st_size


def test_parse_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        parse_file(tmp_path / "nope.log")
    assert "\n" not in str(exc.value) and "nope.log" in str(exc.value)
    with pytest.raises(InputError):
        parse_file(tmp_path)
    with pytest.raises(UsageError):
        parse_lines([], cycle_pattern="(unclosed")


def test_iterable_once_and_stats_after() -> None:
    log = parse_lines(fixture_lines("h4_seed_case.log"))
    assert log.path is None
    assert len(list(log)) == 1
    assert log.stats.sections == {"heap_overview": 1}
    with pytest.raises(RuntimeError):
        list(log)


def test_default_cycle_markers() -> None:
    records, _ = parse_all(["[MSCYCLE] 12", "[  3.000]<I> [MSCYCLE] 13", "[MSCYCLE]"])
    assert records[:2] == [CycleMarker(line=1, index=12, text="[MSCYCLE] 12"),
                           CycleMarker(line=2, index=13, text="[MSCYCLE] 13", ts=3.0)]


def test_custom_cycle_pattern() -> None:
    lines = ["netmgr: reconnect 7 start", "reconnect", "[MSCYCLE] 3"]
    records = list(parse_lines(lines, cycle_pattern=r"reconnect(?: (\d+))?"))
    assert records == [CycleMarker(line=1, index=7, text="netmgr: reconnect 7 start"),
                       CycleMarker(line=2, index=None, text="reconnect")]


def test_one_line_records() -> None:
    records, _ = parse_all(fixture_lines("oneliners.log"))
    leaks = [r for r in records if isinstance(r, LeakCandidate)]
    warns = [r for r in records if isinstance(r, AllocWarning)]
    assert leaks == [LeakCandidate(line=1, addr=0x80ACF28, owner=0x805AE3A, size=3096),
                     LeakCandidate(line=2, addr=0x20005A10, owner=0x800C1D3, size=3096)]
    assert [(w.line, w.kind, w.need, w.free, w.addrs) for w in warns] == [
        (3, "malloc_failed", None, None, ()),
        (4, "malloc_failed", 4096, 1024, ()),
        (5, "realloc_failed", None, None, ()),
        (6, "realloc_failed", 2048, None, ()),
        (7, "malloc_size_zero", None, None, ()),
        (8, "double_free", None, None, ()),
        (9, "double_free", None, None, (0x20003E70,)),
        (10, "corrupt", None, None, ()),
        (11, "corrupt", None, None, (0x200041F0,)),
        (12, "overwritten", None, None, ()),
        (13, "overwritten", None, None, (0x200041F0, 0x20004270)),
        (14, "nnext_overwritten", None, None, (0x200041F0, 0x20004270, 0x20004300)),
    ]
    assert warns[1].text == "WARNING, malloc failed!!!! need size:4096, but free size:1024"
    assert isinstance(records[-1], HeapOverview) and records[-1].variant == "heap_prt"


def test_yunos_leak_prefix_and_interleaved_warning() -> None:
    records, _ = parse_all(["[3   ]:adress:0x20005a10 owner:0x800c1d3 len:3096  type:leak",
                            "[  9.1] app: WARNING, malloc failed!!!! need size:64, but free "
                            "size:32"])
    assert records[0] == LeakCandidate(line=1, addr=0x20005A10, owner=0x800C1D3, size=3096)
    assert isinstance(records[1], AllocWarning) and records[1].need == 64


def test_malloc_failure_sequence() -> None:
    """A 1.x malloc failure: warning, dump, leak lines, in that order."""
    lines = (["WARNING, malloc failed!!!!"] + fixture_lines("b2_full_1x.log")
             + ["adress:0x20005a10 owner:0x800c1d3 len:3096  type:leak"])
    records, stats = parse_all(lines)
    assert [type(r).__name__ for r in records] == ["AllocWarning", "BlockDump", "LeakCandidate"]
    assert isinstance(records[1], BlockDump) and not records[1].partial


def test_registry_order_and_user_patterns(tmp_path) -> None:
    """Cycle markers first, then the heap family's one-liners, then the object traces (the
    learned hand-added shapes last: a user pattern wins over a guess)."""
    from memsleuth.parse import agent

    cfg = tmp_path / "objs.toml"
    cfg.write_text("[[objects.pattern]]\nregex = 'tmr (?P<op>new|del) (?P<handle>[0-9a-f]+)'\n"
                   "kind = 'timer'\n")
    sections, lines = registry.default_readers(object_patterns=agent.load_patterns(cfg))
    assert {s.name for s in sections} >= {"block_dump", "heap_overview", "crash"}
    names = [r.name for r in lines]
    assert names[0] == "cycle" and names[-3:] == ["msobj", "objpattern", "objauto"]


def test_crash_readers_come_before_heap_readers() -> None:
    sections, _ = registry.default_readers()
    names = [s.name for s in sections]
    assert "crash" in names
    heap_first = names.index("heap_overview")
    assert all(names.index(n) < heap_first for n in names if "crash" in n)
