"""Heap overview tables (alios-formats.md §1), one record per table, field by field."""

from __future__ import annotations

from parse_helpers import fixture_lines, parse_all, parse_fixture

from memsleuth.parse.alios_heap import OverviewReader
from memsleuth.parse.base import Feed
from memsleuth.records import HeapOverview, PoolStats


def test_h4_crash_heap_info() -> None:
    records, stats = parse_fixture("h4_crash_heap_info.log")
    assert records == [HeapOverview(
        line=1, variant="H4", total=0x2E000, free=0x1B2A0, used=0x12D60, min_free=0x9A40,
        pool=PoolStats(size=0x1000, free=0xC00, used=0x400, blk_size=0x20))]
    assert stats.sections == {"heap_overview": 1}
    assert stats.lines == 8 and stats.partial_sections == 0


def test_h4_seed_case() -> None:
    records, _ = parse_fixture("h4_seed_case.log")
    assert records == [HeapOverview(
        line=1, variant="H4", total=0x4A838, free=0x47E50, used=0x29E8, min_free=0x47E50,
        pool=PoolStats(size=0x2000, free=0x1E00, used=0x200, blk_size=0x20))]


def test_h5b_real_dumpsys_mm() -> None:
    records, _ = parse_fixture("h5b_dumpsys_mm_real.log")
    assert records == [HeapOverview(
        line=1, variant="H5b", total=0x07F435A0, free=0x07E65F80, used=0x000DD620,
        min_free=0x07E03E18, max_free_block=0x07E244F8,
        pool=PoolStats(size=0x400, free=0, used=0x400, min_free=0, max_free_block=0x20))]


def test_misc_overviews() -> None:
    records, stats = parse_fixture("overviews_misc.log")
    assert records == [
        HeapOverview(line=1, variant="show_mm", total=188416, free=111264, used=77152,
                     min_free=39488),
        HeapOverview(line=3, variant="show_mm2", total=764212 + 284364, free=764212,
                     used=284364, min_free=764212),
        # 'Heap Info' banner + 'K_MM_STATISTIC ... closed!' (line 5-6) yields nothing;
        # the H4 table with a [POOL] header but no data row has pool None.
        HeapOverview(line=7, variant="H4", total=0x2E000, free=0x1B2A0, used=0x12D60,
                     min_free=0x9A40),
        HeapOverview(line=13, variant="H5a", total=0x2E000, free=0x1B2A0, used=0x12D60,
                     min_free=0x9A40, max_free_block=0x18000,
                     pool=PoolStats(size=0x1000, free=0xC00, used=0x400, blk_size=0x20,
                                    max_free_block=0x20)),
    ]
    assert stats.skipped_in_sections == 0


def test_heap_prt_line() -> None:
    records, _ = parse_all(["free = 0x0001B2A0 | used = 0x00012D60 | max used = 0x000243C0"])
    assert records == [HeapOverview(line=1, variant="heap_prt", total=0x2E000, free=0x1B2A0,
                                    used=0x12D60, min_free=0x2E000 - 0x243C0)]


def test_lowercase_hex_missing_trailing_bars_and_big_values() -> None:
    lines = [
        "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  |",
        "      | 0x0002e000 | 0x0001b2a0 | 0x00012d60 | 0x00009a40",
    ]
    records, _ = parse_all(lines)
    assert records == [HeapOverview(line=1, variant="H4", total=0x2E000, free=0x1B2A0,
                                    used=0x12D60, min_free=0x9A40)]
    wide = ["[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |",
            "      | 0x00000001F435A000 | 0x0000000007E65F80 | 0x1 | 0x2 | 0x3 |"]
    records, _ = parse_all(wide)
    assert isinstance(records[0], HeapOverview) and records[0].total == 0x1F435A000


def test_interleaved_line_inside_table_is_skipped() -> None:
    lines = fixture_lines("h4_crash_heap_info.log")
    lines.insert(3, "wifi: scan done")
    records, stats = parse_all(lines)
    assert len(records) == 1 and isinstance(records[0], HeapOverview)
    assert records[0].free == 0x1B2A0 and records[0].pool is not None
    assert stats.skipped_in_sections == 1


def test_overview_cut_in_pool_part_is_partial() -> None:
    lines = fixture_lines("h4_crash_heap_info.log")[:6]   # up to the [POOL] header
    records, stats = parse_all(lines)
    assert len(records) == 1
    rec = records[0]
    assert isinstance(rec, HeapOverview)
    assert rec.partial and rec.partial_reason == "log ended before the end of the section"
    assert rec.pool is None and stats.partial_sections == 1


def test_overview_reader_driven_from_outside() -> None:
    """The crash reader drives OverviewReader(nested=True) after its own banner."""
    reader = OverviewReader(nested=True)
    lines = fixture_lines("h4_crash_heap_info.log")
    assert reader.opens(lines[0], 1, None)
    feeds = [reader.feed(text, n, None) for n, text in enumerate(lines[1:], start=2)]
    assert feeds[-1] is Feed.DONE
    assert all(f is Feed.CONSUMED for f in feeds[:-1])
    (rec,) = reader.close(None)
    assert isinstance(rec, HeapOverview) and rec.nested and rec.variant == "H4"
    assert rec.line == 1
    # the next line after the table would be another section: ENDED if fed
    reader2 = OverviewReader(nested=True)
    reader2.opens(lines[0], 1, None)
    for n, text in enumerate(lines[1:4], start=2):
        reader2.feed(text, n, None)
    assert reader2.feed("========== Task Info  ==========", 5, None) in (Feed.ENDED,)
