"""Block dumps (alios-formats.md §2, §3.2): every example, field by field, with line numbers."""

from __future__ import annotations

from pathlib import Path

from parse_helpers import fixture_lines, parse_all, parse_fixture

from memsleuth.parse.alios_heap import parse_block_line
from memsleuth.records import BlockDump, HeapBlock, HeapOverview, PoolStats, TaskAlloc

FE, AB = 0xFEFEFEFE, 0xABABABAB


def blk(line: int, addr: int, used: bool, size: int | None, owner: int, **kw) -> HeapBlock:
    return HeapBlock(line=line, addr=addr, used=used, size=size, owner=owner, **kw)


# -- single lines ------------------------------------------------------------------------------

B2_EXPECTED = [
    blk(1, 0x20003A40, True, 8, 0, dye=FE),
    blk(2, 0x20003A58, True, 1032, 0, dye=FE),
    blk(3, 0x20003E70, True, 72, 0x800A3C5, dye=FE),
    blk(4, 0x20003EC8, False, 512, 0, dye=AB, free_links=(0, 0x20007F10)),
    blk(5, 0x200040D8, True, 256, 0x8012D4F, dye=FE, prev_free=0x20003EC8),
    blk(6, 0x200041F0, True, 128, 0x801AA11, dye=0x12345678, dye_ok=False, corrupted=True),
    blk(7, 0x2001FFF0, True, None, 0, sentinel=True, dye=FE, prev_free=0x2001F000),
]

B3_EXPECTED = [
    blk(1, 0x20003A40, True, 8, 0),
    blk(2, 0x20003E70, True, 72, 0x800A3C5),
    blk(3, 0x200041F0, True, 128, 0x801AA11, dye=0x5678, dye_ok=False, corrupted=True),
    blk(4, 0x2001FFF0, True, None, 0x11224433, sentinel=True),
    blk(5, 0x20003E70, True, 72, 0x800A3C5, trace=(0x800A3C4, 0x800B120, 0x8004410)),
]


def test_b2_lines() -> None:
    lines = fixture_lines("b2_lines.log")
    assert [parse_block_line(t, n) for n, t in enumerate(lines, 1)] == B2_EXPECTED


def test_b3_lines() -> None:
    lines = fixture_lines("b3_lines.log")
    assert [parse_block_line(t, n, variant="B3") for n, t in enumerate(lines, 1)] == B3_EXPECTED
    # without the variant the wrong dye is still caught (5678 is no dye for 'used')
    assert parse_block_line(lines[2], 3) == B3_EXPECTED[2]


def test_block_line_quirks() -> None:
    assert parse_block_line("0x0x400b8b40  used       8   OK  0x0", 9) == blk(9, 0x400B8B40,
                                                                             True, 8, 0)
    assert parse_block_line("0X20003A40  USED       8  FEFE  0x0  pre-used;", 1) == blk(
        1, 0x20003A40, True, 8, 0, dye=0xFEFE)
    assert parse_block_line("20003a40  free  132269304  abababab  0x0", 1) == blk(
        1, 0x20003A40, False, 132269304, 0, dye=AB)
    # free block with the 'used' dye: the header lies
    assert parse_block_line("0x1000  free  16  fefefefe  0x0", 1).dye_ok is False  # type: ignore[union-attr]
    assert parse_block_line("0x1000 free 16 fefefefefefefefe 0x0", 1).dye_ok is False  # type: ignore[union-attr]
    assert parse_block_line("0x1000 used 16 fefefefefefefefe 0x0", 1).dye_ok is True  # type: ignore[union-attr]
    got = parse_block_line("0x80b6e0c  free  756212  abababab  0x0   pre-free [   (nil)]; "
                           "free[   (nil),0x20007f10] ", 4)
    assert got == blk(4, 0x80B6E0C, False, 756212, 0, dye=AB, prev_free=0,
                      free_links=(0, 0x20007F10))
    for junk in ["", "used", "address,  stat   size     dye     caller   pre-stat    point",
                 "Blk_Addr    Stat     Len  Chk      Caller    Point", "ALL BLOCKS",
                 "0x20003a40  used  eight  fefefefe  0x0"]:
        assert parse_block_line(junk, 1) is None


# -- whole dumps -------------------------------------------------------------------------------

def test_b1_wiki_real() -> None:
    records, stats = parse_fixture("b1_wiki_real.log")
    assert records == [BlockDump(
        line=1, variant="B1", index=0, end_line=20, kmm_head=0x806F820,
        blocks=[blk(5, 0x80701E0, True, 8, 0, dye=FE), blk(6, 0x80701F8, True, 8224, 0, dye=FE)],
        free_list=[blk(12, 0x80B6E0C, False, 756212, 0, dye=AB, free_links=(0, 0))],
        alloc_size_stats={2: 0, 3: 1, 4: 4, 5: 3},
        overview=HeapOverview(line=16, variant="stat", total=764212 + 284364, free=764212,
                              used=284364, min_free=764212, nested=True),
    )]
    assert stats.sections == {"block_dump": 1}
    assert stats.skipped_in_sections == 0 and stats.partial_sections == 0


def test_b2_full_1x() -> None:
    records, stats = parse_fixture("b2_full_1x.log")
    shifted = [blk(b.line + 5, b.addr, b.used, b.size, b.owner, sentinel=b.sentinel,
                   corrupted=b.corrupted, dye=b.dye, dye_ok=b.dye_ok, prev_free=b.prev_free,
                   free_links=b.free_links) for b in B2_EXPECTED]
    assert records == [BlockDump(
        line=2, variant="B2", index=0, end_line=26, kmm_head=0x20000400,
        blocks=shifted,
        free_list=[blk(17, 0x20003EC8, False, 512, 0, dye=AB, free_links=(0, 0x20007F10))],
        alloc_size_stats={6: 12, 7: 3, 8: 0, 9: 1, 10: 0, 11: 2},
        overview=HeapOverview(line=20, variant="stat", total=111264 + 77152, free=111264,
                              used=77152, min_free=111264 + 77152 - 148928, nested=True,
                              pool=PoolStats(size=4096, free=3072, used=1024)),
    )]
    assert stats.lines == 26


def test_b2_21_with_nested_overview() -> None:
    records, _ = parse_fixture("b2_21_overview.log")
    (dump,) = records
    assert isinstance(dump, BlockDump)
    assert (dump.variant, dump.line, dump.end_line, dump.partial) == ("B2", 1, 21, False)
    assert [b.line for b in dump.blocks] == [5, 6, 7] and dump.free_list == []
    assert dump.overview == HeapOverview(
        line=13, variant="H5a", total=0x2E000, free=0x1B2A0, used=0x12D60, min_free=0x9A40,
        max_free_block=0x18000, nested=True,
        pool=PoolStats(size=0x1000, free=0xC00, used=0x400, blk_size=0x20, max_free_block=0x20))
    assert dump.alloc_size_stats == {6: 12, 7: 3, 8: 0, 9: 1}


def test_b3_full() -> None:
    records, stats = parse_fixture("b3_full.log")
    shifted = [blk(b.line + 5, b.addr, b.used, b.size, b.owner, sentinel=b.sentinel,
                   corrupted=b.corrupted, dye=b.dye, dye_ok=b.dye_ok, trace=b.trace)
               for b in B3_EXPECTED]
    shifted[3], shifted[4] = shifted[4], shifted[3]          # fixture order differs
    shifted[3].line, shifted[4].line = 9, 10
    assert records == [BlockDump(
        line=2, variant="B3", index=0, end_line=37, kmm_head=0x20000400,
        blocks=shifted,
        free_list=[blk(15, 0x20004000, False, 4096, 0)],
        alloc_size_stats={6: 747, 7: 235, 8: 61, 9: 62, 10: 5},
        task_alloc=[TaskAlloc("main_task", 32, 65536, 593328),
                    TaskAlloc("DEFAULT-WORKQUEUE", 20, 2048, 96)],
        isr_alloc=290328, deleted_task_alloc=1072,
        overview=HeapOverview(line=20, variant="H5b", total=0x2E000, free=0x1B2A0,
                              used=0x12D60, min_free=0x9A40, max_free_block=0x1000,
                              nested=True,
                              pool=PoolStats(size=0x400, free=0, used=0x400, min_free=0,
                                             max_free_block=0x20)),
    )]
    assert stats.skipped_in_sections == 0


def test_b3_haas_real() -> None:
    records, stats = parse_fixture("b3_haas_real.log")
    assert records == [BlockDump(
        line=1, variant="B3", index=0, end_line=22, kmm_head=0x400B8A60,
        blocks=[blk(5, 0x400B8B40, True, 8, 0), blk(6, 0x400B8B58, True, 1368, 0),
                blk(7, 0x400B90C0, True, 40, 0x40009DDD),
                blk(8, 0x400B90F8, True, 40, 0x40009DDD)],
        free_list=[blk(13, 0x401975D8, False, 88, 0),
                   blk(14, 0x401D7AE8, False, 132269304, 0)],
        alloc_size_stats={6: 747, 7: 235, 8: 61, 9: 62},
        task_alloc=[TaskAlloc("main_task", 32, 65536, 593328), TaskAlloc("ash", 30, 4096, 1672)],
        isr_alloc=290328, deleted_task_alloc=1072,
    )]
    assert stats.partial_sections == 0


def test_mmlk_and_error_blocks() -> None:
    records, stats = parse_fixture("mmlk.log")
    assert records == [
        BlockDump(line=4, variant="mmlk", index=0, end_line=8, tag=2,
                  blocks=[blk(6, 0x20003E70, True, 72, 0x800A3C5),
                          blk(7, 0x20005000, True, 120, 0x800C1D3)]),
        BlockDump(line=10, variant="mmlk", index=1, end_line=12, tag=1),
        BlockDump(line=13, variant="error_blocks", index=2, end_line=14,
                  blocks=[blk(14, 0x200041F0, True, None, 0, corrupted=True, dye_ok=False),
                          blk(14, 0x20004400, True, None, 0, corrupted=True, dye_ok=False)]),
    ]
    assert stats.sections == {"block_dump": 2, "error_blocks": 1}


def test_yunos_region_dump_then_leak_line() -> None:
    records, _ = parse_fixture("by_yunos.log")
    dump, leak = records
    assert dump == BlockDump(
        line=2, variant="BY", index=0, end_line=7,
        blocks=[blk(6, 0x20003000, True, 72, 0x800A3C5, dye=FE),
                blk(7, 0x20003100, True, 3096, 0x800C1D3, dye=0x12345678, dye_ok=False)],
        free_list=[blk(4, 0x20008000, False, 4096, 0, dye=AB)])
    assert (leak.line, leak.addr, leak.owner, leak.size) == (8, 0x20005A10, 0x800C1D3, 3096)


# -- robustness --------------------------------------------------------------------------------

def test_interleaved_lines_are_skipped_and_counted() -> None:
    lines = fixture_lines("b3_haas_real.log")
    lines.insert(6, "[wifi] sta connected")
    lines.insert(12, "I (5000) app: tick")
    records, stats = parse_all(lines)
    (dump,) = records
    assert isinstance(dump, BlockDump)
    assert dump.skipped_lines == 2 and stats.skipped_in_sections == 2
    assert len(dump.blocks) == 4 and len(dump.free_list) == 2 and not dump.partial
    assert [b.line for b in dump.blocks] == [5, 6, 8, 9]


def test_dump_cut_by_end_of_log_is_partial() -> None:
    lines = fixture_lines("b3_haas_real.log")[:10]
    records, stats = parse_all(lines)
    (dump,) = records
    assert isinstance(dump, BlockDump)
    assert dump.partial and dump.partial_reason == "log ended before the end of the section"
    assert len(dump.blocks) == 4 and dump.end_line == 10
    assert stats.partial_sections == 1


def test_dump_cut_by_another_dump_is_partial_and_both_are_kept() -> None:
    first = fixture_lines("b3_haas_real.log")[:8]
    second = fixture_lines("b3_haas_real.log")
    records, _ = parse_all(first + second)
    a, b = records
    assert isinstance(a, BlockDump) and isinstance(b, BlockDump)
    assert (a.index, b.index) == (0, 1)
    assert a.partial and a.partial_reason == "interrupted by a new block dump at line 9"
    assert not b.partial and b.line == 9 and b.blocks[0].line == 13


def test_dump_cut_by_crash_banner_is_partial() -> None:
    lines = fixture_lines("b2_full_1x.log")[:10] + ["!!!!!!!!!! Exception  !!!!!!!!!!"]
    records, _ = parse_all(lines)
    dump = records[0]
    assert isinstance(dump, BlockDump) and dump.partial
    assert dump.partial_reason is not None
    assert "line 11" in dump.partial_reason


def test_three_dumps_in_time_order() -> None:
    lines = (["boot"] + fixture_lines("b1_wiki_real.log") + ["# dumpsys mm_info"]
             + fixture_lines("b2_full_1x.log") + ["cli> "] + fixture_lines("b3_full.log"))
    records, stats = parse_all(lines)
    dumps = [r for r in records if isinstance(r, BlockDump)]
    assert [d.index for d in dumps] == [0, 1, 2]
    assert [d.variant for d in dumps] == ["B1", "B2", "B3"]
    assert [d.partial for d in dumps] == [False, False, False]
    assert dumps[0].line == 2 and dumps[1].line == 2 + 20 + 1 + 1
    assert dumps[0].line < dumps[1].line < dumps[2].line
    assert stats.sections == {"block_dump": 3}


def test_crlf_lone_cr_and_lf_only_are_the_same() -> None:
    raw = fixture_lines("b3_full.log")
    crlf = [(t + "\r\n").encode() for t in raw]
    cr = [(t + "\r").encode() for t in raw]
    lf = [(t + "\n").encode() for t in raw]
    assert parse_all(crlf)[0] == parse_all(cr)[0] == parse_all(lf)[0]


def test_prefixed_and_coloured_dump() -> None:
    raw = fixture_lines("b2_full_1x.log")
    lines = [f"\x1b[0;32m[{i:6d}.{i % 1000:03d}]<I> {t}\x1b[0m" for i, t in enumerate(raw)]
    records, stats = parse_all(lines)
    plain, _ = parse_fixture("b2_full_1x.log")
    (dump,) = records
    assert isinstance(dump, BlockDump)
    assert dump.ts == 1.001   # opened on the second line
    dump.ts = None
    assert dump.overview is not None
    dump.overview.ts = None
    assert records == plain
    assert stats.prefixed_lines == len(raw)


def test_interleaved_line_inside_nested_overview() -> None:
    lines = fixture_lines("b3_full.log")
    lines.insert(21, "[app] tick")          # between the [HEAP]| header and its row
    records, stats = parse_all(lines)
    (dump,) = records
    assert isinstance(dump, BlockDump) and not dump.partial
    assert dump.overview is not None and dump.overview.free == 0x1B2A0
    assert dump.overview.pool is not None and dump.skipped_lines == 1
    assert len(dump.task_alloc) == 2


def test_error_blocks_cut_before_addresses_is_partial() -> None:
    records, _ = parse_all(["-----------------All error blocks:----------------"])
    (dump,) = records
    assert isinstance(dump, BlockDump) and dump.variant == "error_blocks"
    assert dump.partial and dump.blocks == []
    records, _ = parse_all(["-----------------All error blocks:----------------", "# "])
    assert isinstance(records[0], BlockDump) and not records[0].partial


def test_mmlk_cut_short_is_partial() -> None:
    lines = fixture_lines("mmlk.log")[:6]
    records, _ = parse_all(lines)
    (dump,) = records
    assert isinstance(dump, BlockDump) and dump.variant == "mmlk" and dump.partial
    assert len(dump.blocks) == 1 and dump.tag == 2


def test_foreign_lines_before_end_close_after_limit() -> None:
    lines = fixture_lines("b3_haas_real.log")[:8] + ["chatter"] * 250
    records, stats = parse_all(lines)
    (dump,) = records
    assert isinstance(dump, BlockDump) and dump.partial
    assert dump.partial_reason == "no line of the block_dump section for 201 lines (from line 9)"
    assert dump.skipped_lines == 201 and stats.skipped_in_sections == 201


def test_dump_banner_shortcut_keeps_the_regexes_answer() -> None:
    """``_is_dump_banner`` skips its seven banner regexes for lines that cannot be one (not
    "-+ words -+"): on every line of the committed logs and on banner-like variants it says
    what the regexes say."""
    from memsleuth.parse import alios_heap as ah

    def by_regexes(s: str) -> bool:
        return bool(
            ah._ALLOC_STAT.match(s) or ah._SIZE_STAT.match(s) or ah._FIX_POOL.match(s)
            or ah._MMBLK.match(s) or ah._TASK_STAT.match(s) or ah._ALL_BLOCKS.match(s)
            or ah._MMLK_END.match(s) or ah._BUCKET.search(s))

    root = Path(__file__).resolve().parents[2]
    lines = {line.strip() for p in [*(root / "tests" / "fixtures").rglob("*.log"),
                                    *(root / "examples").rglob("*.log")]
             for line in p.read_text(errors="replace").splitlines()[:5000]}
    words = ["memory allocation statistic", "alloc size statistic:", "number of alloc times",
             "fix pool information", "mmblk allocation statistic", "task allocation statistic",
             "all memory blocks", "New alloced blocks info ends.", "x", ""]
    for w in words:
        for left, right in (("---", "---"), ("-", "-"), ("- ", " -"), ("", "---"), ("--", ""),
                            ("-- ", " --x"), ("x--", "--")):
            lines.add(f"{left}{w}{right}")
            lines.add(f"{left}{w.upper()}{right} [2^06] bytes: 3")
    lines |= {"-" * n for n in range(0, 90)} | {"[2^06] bytes: 1", "- [2^1] bytes:2 -"}
    reader = ah.BlockDumpReader()
    assert sum(by_regexes(s) for s in lines) > 20
    for s in lines:
        assert reader._is_dump_banner(s) == by_regexes(s), s
