"""Format variants no committed firmware or real log covers, written from each printer's
format string (quoted in the reader modules): older layouts, other modes, other CPUs."""

from __future__ import annotations

from memsleuth.parse import parse_lines
from memsleuth.records import BlockDump, CrashDump, HeapOverview


def parse(text: str) -> list:
    return list(parse_lines(text.splitlines()))


def test_espidf_heap_trace_all_mode_v4_freed_records_are_not_live():
    recs = parse(
        "3 allocations trace (100 entry buffer)\n"
        "32 bytes (@ 0x3ffb1000) allocated CPU 0 ccount 0x00001000 caller 0x400d1000:0x400d2000\n"
        "freed by 0x400d3000:0x400d4000\n"
        "64 bytes (@ 0x3ffb1100) allocated CPU 1 ccount 0x00002000 caller 0x400d1000:0x400d2010\n"
        "16 bytes (@ 0x3ffb1200) allocated CPU 0 ccount 0x00003000 caller 0x400d1010:\n"
        "80 bytes alive in trace (2/3 allocations)\n"
        "total allocations 3 total frees 1\n"
        "I (100) app: next line\n")
    [dump] = [r for r in recs if isinstance(r, BlockDump)]
    assert [(b.addr, b.size, b.trace) for b in dump.blocks] == [
        (0x3FFB1100, 64, (0x400D1000, 0x400D2010)), (0x3FFB1200, 16, (0x400D1010,))]
    assert dump.totals["freed_records"] == 1 and dump.totals["mode_all"] == 1
    assert not dump.partial and dump.end_line == 7


def test_espidf_heap_trace_riscv_prints_no_callers():
    [dump] = [r for r in parse(
        "====== Heap Trace: 1 records (10 capacity) ======\n"
        "    32 bytes (@ 0x3fc9a0b0, Internal) allocated CPU 0 ccount 0x00000000 caller \n"
        "====== Heap Trace Summary ======\n"
        "Mode: Heap Trace Leaks\n"
        "32 bytes 'leaked' in trace (1 allocations)\n"
        "records: 1 (10 capacity, 1 high water mark)\n"
        "total allocations: 1\n"
        "total frees: 0\n"
        "================================\n") if isinstance(r, BlockDump)]
    assert [(b.owner, b.trace) for b in dump.blocks] == [(0, ())] and not dump.partial


def test_espidf_multi_heap_info_line():
    [ov] = [r for r in parse("heap: total_free_bytes=1000 total_allocated_bytes=3000 "
                             "largest_free_block=600 minimum_free_bytes=800 allocated_blocks=9")
            if isinstance(r, HeapOverview)]
    assert (ov.free, ov.used, ov.max_free_block, ov.min_free) == (1000, 3000, 600, 800)


def test_zephyr_riscv_fatal_with_call_trace():
    text = (
        "E: \n"
        "E:  mcause: 7, Store/AMO access fault\n"
        "E:   mtval: 0\n"
        "E:      a0: 00000000    t0: 00000001\n"
        "E:      a1: 80001234    t1: 00000002\n"
        "E:      sp: 80004f00\n"
        "E:      ra: 80000a12\n"
        "E:    mepc: 80000a40\n"
        "E: mstatus: 00001880\n"
        "E: \n"
        "E: call trace:\n"
        "E:       0: fp: 80004f20   ra: 80000a12\n"
        "E:       1: fp: 80004f40   ra: 80000b34\n"
        "E: \n"
        "E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0\n"
        "E: Current thread: 0x80002000 (main)\n"
        "E: Halting system\n")
    [crash] = [r for r in parse(text) if isinstance(r, CrashDump)]
    assert crash.arch == "riscv" and not crash.partial and crash.current_task == "main"
    assert crash.registers["MEPC"] == 0x80000A40 and crash.registers["MCAUSE"] == 7
    assert crash.registers["MTVAL"] == 0 and crash.registers["RA"] == 0x80000A12
    assert [b.addr for b in crash.backtrace] == [0x80000A12, 0x80000B34]
    assert all(b.kind == "return" for b in crash.backtrace)


def test_zephyr_kernel_heap_gives_total_and_lowest_free():
    [ov] = [r for r in parse("free:           7000\nallocated:      1000\nmax. allocated: 2500\n")
            if isinstance(r, HeapOverview)]
    assert (ov.total, ov.free, ov.used, ov.min_free) == (8000, 7000, 1000, 5500)


def test_nuttx_meminfo_old_layout_name_first():
    text = ("             total       used       free    largest\n"
            "        Umem:    8370496      14880    8355616    8355584\n")
    [ov] = [r for r in parse(text) if isinstance(r, HeapOverview)]
    assert (ov.total, ov.used, ov.free, ov.max_free_block) == (8370496, 14880, 8355616, 8355584)


def test_nuttx_memdump_with_sequence_and_free_dump():
    recs = parse(
        "Dump all used memory node info:\n"
        "   PID        Size    Sequence    Address Backtrace\n"
        "     3          48          17 0x20001010 0x000012a1 0x000013b5\n"
        "  Total Blks  Total Size\n"
        "           1          48\n"
        "Dump all free memory node info:\n"
        "        Size    Address\n"
        "        4000 0x20001040\n"
        "  Total Blks  Total Size\n"
        "           1        4000\n")
    used, free = [r for r in recs if isinstance(r, BlockDump)]
    [b] = used.blocks
    assert (b.pid, b.size, b.seq, b.addr, b.trace) == (3, 48, 17, 0x20001010, (0x12A1, 0x13B5))
    assert [(f.used, f.size) for f in free.blocks] == [(False, 4000)]
    assert not used.partial and not free.partial


def test_freertos_free_heap_lines():
    recs = [r for r in parse("Free heap: 10240, min free heap: 9000\n"
                             "xPortGetFreeHeapSize() 10100\n"
                             "free heap size is large today\n") if isinstance(r, HeapOverview)]
    assert [(r.free, r.min_free, r.used) for r in recs] == [(10240, 9000, None),
                                                            (10100, None, None)]


def test_logger_prefixes_are_stripped_not_content():
    from memsleuth.parse.normalize import normalize

    z = normalize("[00:00:05.979,000] <err> os: ***** BUS FAULT *****")
    assert (z.text, z.ts) == ("***** BUS FAULT *****", 5.979)
    assert normalize("E:  mcause: 7, Store/AMO access fault").text == \
        " mcause: 7, Store/AMO access fault"      # Zephyr's own leading space stays
    assert normalize("E:").text == ""
    n = normalize("[ 5286.767884] [ 9] [  INFO] [ap]    PID        Size    Address Backtrace")
    assert n.text == "   PID        Size    Address Backtrace" and n.ts == 5286.767884
    assert normalize("[HEAP]| TotalSz").text == "[HEAP]| TotalSz"     # AliOS content kept


def test_rtos_readers_ignore_the_fast_path_shapes():
    """They say shortcut_safe (parse/scan.py): none may open on or read an [MSOBJ] line, an
    [MSCYCLE] marker or a line of an AliOS heap table."""
    from memsleuth.parse import registry, scan

    shapes = [
        "[MSOBJ] create timer 0x20001000 caller 0x00001235 seq 7",
        "[MSOBJ] delete allocated_bytes 0x20001000 caller 0x00001235 seq 8",
        "[MSCYCLE] 12",
        "========== Heap Info  ==========",
        "-" * 75,
        "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |",
        "      | 0x00100000 | 0x000DC040 | 0x00023FC0 | 0x000DBE30 | 0x000DA0C0    |",
    ]
    sections, lines = registry.default_readers()
    safe = [r for r in [*sections, *lines] if getattr(r, "shortcut_safe", False)]
    assert len(safe) >= 13
    for reader in safe:
        for text in shapes:
            if hasattr(reader, "opens"):
                assert not reader.opens(text, 1, None), (reader.name, text)
            else:
                assert reader.read(text, 1, None) is None, (reader.name, text)
    assert scan.Plan(sections, lines).anchors is None
