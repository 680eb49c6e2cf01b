"""The scanning fast path (parse/scan.py) gives exactly the line path's records and counters.

Compared on every committed log, at several chunk sizes (shortcuts cut by a chunk end), and on
logs mutated where the shortcuts are fragile: noise inside tables, damaged or unusual
``[MSOBJ]`` lines, ``[POOL]`` rows, prefixes, escapes, line endings; with a user's cycle
pattern and object patterns; and with a reader the scanner does not know.
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest

from memsleuth import accel
from memsleuth.parse import parse_file, registry, scan
from memsleuth.parse.base import Feed
from memsleuth.records import LeakCandidate
from memsleuth.sources import file as file_source

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted((ROOT / "examples").rglob("*.log")) + sorted((ROOT / "tests" / "fixtures").rglob(
    "*.log"))


@pytest.fixture(params=["C", "pure"], autouse=True)
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the C loops (when built) and with the pure-Python scanner."""
    if request.param == "pure":
        monkeypatch.setattr(accel, "_loaded", None)
    elif accel.module() is None:
        pytest.skip("the C scanner is not built (no compiler at install, or MEMSLEUTH_ACCEL=0)")
    return request.param


def both(path: Path, **kw) -> tuple[tuple, tuple]:
    def run(fast: bool) -> tuple:
        log = parse_file(path, fast=fast, **kw)
        return [repr(r) for r in log], dataclasses.asdict(log.stats)
    return run(True), run(False)


@pytest.mark.parametrize("path", LOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_log(path: Path) -> None:
    fast, line = both(path)
    assert fast == line


@pytest.mark.parametrize("chunk", [97, 4096])
def test_chunk_ends_inside_shortcuts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     chunk: int) -> None:
    monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
    path = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
    data = path.read_bytes()[:150_000]
    small = tmp_path / "cut.log"
    small.write_bytes(data)
    fast, line = both(small)
    assert fast == line
    assert any("ObjectEvent" in r for r in fast[0]) and any("HeapOverview" in r for r in fast[0])


# -- mutations ----------------------------------------------------------------------------------

NOISE = ["[I][wifi] rssi=-45 ch=6", "12:10:07.331 > [W][lwip] tcp_write: queue full",
         "\x1b[0;32mI (12) app: heartbeat ok\x1b[0m", "", "   ", "------------------------",
         "random text with mmlk 3", "WARNING, malloc failed! need size : 12, but free size : 4",
         "[MSOBJ] create timer 0x2000 caller 0x0 seq 1", "[POOL]| PoolSz | FreeSz | UsedSz |",
         "| 0x100 | 0x80 | 0x80 |", "[HEAP]| TotalSz | FreeSz |", "café ünïcode",
         "[  12.500]<I> [MSCYCLE] 77", "!!!!!! Exception !!!!!!", "Heap Info", "\t",
         "  adress: 0x20000000 owner: 0x0800 len: 16 type: leak"]


def mutate_line(line: str, rnd: random.Random) -> str:
    choice = rnd.randrange(12)
    if choice == 0:
        return line + " name " + rnd.choice(["t1", "mmlk", "WARNING,x", "a" * 40])
    if choice == 1:
        return line.upper()
    if choice == 2:
        return line + rnd.choice([" ", "\t", "  x"])
    if choice == 3:
        return line.replace("0x", "0x" + "0" * 8, 1)
    if choice == 4:
        return rnd.choice(["12:34:56.789 > ", "[  1.5] ", "\x1b[1m", "I (5) tag: "]) + line
    if choice == 5 and len(line) > 3:
        cut = rnd.randrange(len(line))
        return line[:cut] + line[cut + 1:]
    if choice == 6:
        return line.replace(" ", "  ", 1)
    if choice == 7:
        return line.replace("seq", "seq -")
    return line


def mutate(text: str, seed: int) -> bytes:
    rnd = random.Random(seed)
    out: list[str] = []
    for line in text.split("\n"):
        if rnd.random() < 0.08:
            line = mutate_line(line, rnd)
        out.append(line)
        if rnd.random() < 0.06:
            out.append(rnd.choice(NOISE))
    eol = rnd.choice(["\n", "\r\n", "\n\r", None])
    if eol is None:
        return "".join(line + rnd.choice(["\n", "\r\n", "\n\r", "\r"]) for line in out).encode()
    return eol.join(out).encode()


def sample_text() -> str:
    runs = sorted((ROOT / "examples" / "wifi_reconnect_leak" / "out").glob("*.log"))
    parts = [runs[0].read_text(errors="replace")[:60_000],
             *(p.read_text(errors="replace") for p in LOGS if p.stat().st_size < 20_000)]
    return "\n".join(parts)


@pytest.mark.parametrize("seed", range(12))
def test_mutated_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.setattr(file_source, "CHUNK_BYTES", [4096, 65536, 1 << 19][seed % 3])
    path = tmp_path / "mutated.log"
    path.write_bytes(mutate(sample_text(), seed))
    fast, line = both(path)
    assert fast == line


@pytest.mark.parametrize("pattern", [r"seq (\d+)", r"^\[MSCYCLE\] (\d+)$", r"timer", r"(?i)CYCLE"])
def test_user_cycle_pattern(tmp_path: Path, pattern: str) -> None:
    path = tmp_path / "m.log"
    path.write_bytes(mutate(sample_text(), 99))
    fast, line = both(path, cycle_pattern=pattern)
    assert fast == line


def test_user_object_patterns(tmp_path: Path) -> None:
    from memsleuth.parse.agent import UserPattern

    path = tmp_path / "m.log"
    path.write_bytes(mutate(sample_text(), 7) + b"tmr new 1234 by 0800\ntmr del 1234 by 0800\n")
    patterns = (UserPattern(re.compile(r"tmr (?P<op>new|del) (?P<handle>\w+) by (?P<caller>\w+)"),
                            kind="timer", create=("new",), delete=("del",)),)
    fast, line = both(path, object_patterns=patterns)
    assert fast == line
    assert any("handle=4660" in r for r in fast[0])


# -- readers the scanner does not know -----------------------------------------------------------


class ClaimsTimers:
    """A line reader placed first that claims lines the [MSOBJ] shortcut would take."""

    name = "claims_timers"
    anchors = ("create timer",)

    def read(self, text: str, lineno: int, ts: float | None):
        if "create timer" in text.lower():
            return LeakCandidate(line=lineno, addr=1, owner=2, size=3, ts=ts)
        return None


class OpensOnRules:
    """A section reader placed first that opens on table rules (the overview shortcut's lines)."""

    name = "opens_on_rules"
    anchors = ("-" * 20,)

    def __init__(self) -> None:
        self.n = 0

    def opens(self, text: str, lineno: int, ts: float | None) -> bool:
        return text.startswith("-" * 20) and lineno % 3 == 0

    def feed(self, text: str, lineno: int, ts: float | None) -> Feed:
        return Feed.DONE

    def close(self, reason: str | None):
        self.n += 1
        return [LeakCandidate(line=self.n, addr=0, owner=0, size=0)]


def _with(monkeypatch: pytest.MonkeyPatch, section=None, line=None) -> None:
    original = registry.default_readers

    def readers(*args, **kw):
        sections, lines = original(*args, **kw)
        return ([section(), *sections] if section else sections,
                [line(), *lines] if line else lines)

    import memsleuth.parse as parse_pkg
    monkeypatch.setattr(parse_pkg, "default_readers", readers)


@pytest.mark.parametrize("kind", ["line", "section"])
@pytest.mark.parametrize("anchored", [True, False])
def test_unknown_readers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
                         anchored: bool) -> None:
    cls = ClaimsTimers if kind == "line" else OpensOnRules
    if not anchored:
        cls = type(cls.__name__ + "NoAnchors", (cls,), {"anchors": ()})
    _with(monkeypatch, **{kind: cls})
    path = tmp_path / "m.log"
    path.write_bytes(mutate(sample_text(), 3))
    fast, line = both(path)
    assert fast == line
    assert any("LeakCandidate(line" in r for r in fast[0])


def test_default_readers_keep_the_fast_path() -> None:
    """A reader added to the registry must declare ``anchors`` (see parse/scan.py), or every
    log is read line by line, ~3x slower: this test says so before a benchmark does."""
    sections, lines = registry.default_readers()
    plan = scan.Plan(sections, lines)
    assert plan.enabled and plan.inert is not None and plan.anchors is None
    fast = accel.module()
    if fast is not None:
        # the C loops take every anchor of the registry (past their limit they step over
        # nothing: a silent fall back to Python, as when 66 anchors met a limit of 64)
        text = "plain words\n[MSOBJ] x\n"
        assert fast.skip_inert(text, 0, plan.inert_words) == (12, 1)
        assert fast.run(text, 0, 0, plan.inert_words, True, True, None)[:2] == (12, 1)
        # built from this _scan.c (`python3 setup.py build_ext --inplace` after a change)
        assert accel.abi() == accel.ABI


def test_objects_false_skips_only_object_events(tmp_path: Path) -> None:
    path = tmp_path / "m.log"
    path.write_bytes(mutate(sample_text(), 5))
    everything = [repr(r) for r in parse_file(path)]
    log = parse_file(path, objects=False)
    without = [repr(r) for r in log]
    assert [r for r in everything if not r.startswith("ObjectEvent(")] == \
        [r for r in without if not r.startswith("ObjectEvent(")]
    assert len(without) < len(everything)


# -- overview tables with foreign lines inside (the C loop reads them whole) --------------------

TABLE = ["========== Heap Info  ==========", "-" * 60,
         "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |",
         "      | 0x0000D000 | 0x0000C6A0 | 0x00000960 | 0x0000C598 | 0x0000C580    |", "-" * 60]
FOREIGN = ["[I][wifi] rssi=-24 ch=6", "12:10:07.331 > [W][lwip] queue full",
           "\x1b[0;32mI (3) app: heartbeat ok\x1b[0m", "12:10:07.331 > ", "[I] ", "", "  ",
           "| 12 | 34 |", "x ===== y", "!!!!! z !!!!!", "a -- b", "----", "-" * 30,
           "K_MM_STATISTIC in k_config.h is closed", "\x1b[1m", "\x1b]0;title\x07text",
           "info 0x12", "caf\u00e9", "tab\there", "[POOL]| PoolSz | FreeSz |"]
AFTER = ["[MSOBJ] delete timer 0x200009e0 caller 0x00000567 seq 6", "", "   ", "-" * 40,
         "[HEAP]| TotalSz | FreeSz |", "[POOL]| PoolSz | FreeSz | UsedSz |",
         "12:00:00.000 > [POOL]| a |", "K_MM_STATISTIC in k_config.h is closed", "[MSCYCLE] 9",
         "I (5) tag: ", "plain words"]


def test_tables_with_foreign_lines_everywhere(tmp_path: Path) -> None:
    """Every foreign line at every position in a table, each followed by every next line:
    the fast path (C loop or not) gives the line path's records and counters."""
    rows: list[str] = []
    n = 0
    for at in range(1, len(TABLE) + 1):
        for foreign in FOREIGN:
            for after in AFTER:
                n += 1
                table = [*TABLE]
                table.insert(at, foreign)
                rows += [f"[MSCYCLE] {n}", *table, after]
                if n % 3 == 0:      # two foreign lines in a row
                    rows += [*TABLE[:4], foreign, foreign, TABLE[4], after]
    path = tmp_path / "tables.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert sum(r.startswith("HeapOverview(") for r in fast[0]) > n / 2


BLOCK_LINES = ["0x20000150  used    1536   OK  0x40d       (0x291 <- 0x76f)",
               "0x20000888  free      32   OK  0x0         (0x0 <- 0x0)",
               "0x20000888  free      32   OK  0x0", "0x20000888  free      32   OK  0x0   ",
               "0x2000D118  used  sentinel   OK  0x11224433  (0x0 <- 0x0)",
               "0x20000150  USED    1536   OK  0x40D       (0x291<-0x76F)",
               "0x20000150  used    1536   OK  0x40d       (0x291 <- 0x76f <- 0x1 <- 0x2)",
               "0x20000150  used    1536   OK  0x40d       ( 0x291 <- (nil) )",
               "0x20000150  used    1536   fefefefe  0x40d  (0x291 <- 0x76f)",
               "0x20000150 ! used    1536   OK  0x40d",
               "0x20000150\tused\t1536\tOK\t0x40d", "0x0x20000150  used  8  OK  0x1",
               "0x20000150  used    1536   OK  0x40d  pre-free [0x2000]; free[0x1, 0x2]",
               "0x" + "f" * 17 + "  used  8  OK  0x1",
               "0x20000150  used  " + "9" * 19 + "  OK  0x1",
               "0x20000150  used    1536   OK  0x40d       (0x291 <- 0x76f) tail",
               "0x20000150  used    1536   OK  0x40d       (0x291 <- 0x76f",
               "   0x20000150  used    16   OK  0x40d",
               "0x2000D118  used  sentinel   OK  0x11224433",
               "0x2000D118  free  sentinel   OK  0x0         (0x0 <- 0x0)",
               "0x2000D118  used  Sentinel   OK  0x1", "0x2000D118  used  sentinelx   OK  0x1",
               "0x2000D118  used  sentinel12   OK  0x1"]


def test_block_lines_in_bulk(tmp_path: Path) -> None:
    """Block-dump lines of every nearby shape, alone and in runs, between the dump's banners
    and after its free-list banner: the C scanner's bulk blocks equal the line path's."""
    rows: list[str] = []
    for i, shape in enumerate(BLOCK_LINES):
        rows += ["-" * 30 + " all memory blocks " + "-" * 30, "g_kmm_head = 20000130",
                 "ALL BLOCKS", "Blk_Addr    Stat     Len  Chk      Caller    Point",
                 BLOCK_LINES[0], shape, BLOCK_LINES[1], shape, shape,
                 "[I][wifi] rssi=-44" if i % 2 else "", BLOCK_LINES[(i + 1) % len(BLOCK_LINES)],
                 "-" * 29 + " all free memory blocks " + "-" * 29, shape, BLOCK_LINES[1],
                 f"[MSCYCLE] {i}"]
    path = tmp_path / "blocks.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert sum(r.startswith("BlockDump(") for r in fast[0]) == len(BLOCK_LINES)


ROWS = ["      | 0x0000D000 | 0x0000C6A0 | 0x00000960 | 0x0000C598 | 0x0000C580    |",
        "      | 53248 | 50848 | 2400 | 50584 | 50560 |", "| 0x1 | 2 | 0x3 |  ",
        "| 0x" + "f" * 17 + " | 0x1 | 0x2 |", "| " + "9" * 19 + " | 1 | 2 |",
        "| 0X10 | 0x1 | 0x2 |", "| 0x10 | 0x1 |", "|" + " 0x1 |" * 40, "| 0x10 | | 0x2 |",
        "| 0x1g | 0x1 | 0x2 |"]


@pytest.mark.parametrize("header", [TABLE[2], "[HEAP]| FreeSz | UsedSz | TotalSz |",
                                    "[HEAP]|   |  TotalSz|"])
def test_table_rows_read_in_c(tmp_path: Path, header: str) -> None:
    """Heap rows of every width and base (the C scanner reads their values itself)."""
    rows: list[str] = []
    for i, row in enumerate(ROWS):
        rows += [f"[MSCYCLE] {i}", TABLE[0], TABLE[1], header, row, TABLE[4], "x"]
    path = tmp_path / "rows.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert sum(r.startswith("HeapOverview(") for r in fast[0]) >= 5


# -- block dumps with foreign lines inside (the C scanner skips them in bulk) -----------------

DUMPS = sorted((ROOT / "tests" / "fixtures" / "alios").glob("*.log"))
DUMP_FOREIGN = ["[I][wifi] rssi=-45 ch=6 bssid=ac:84:c6:12:34:56", "[D][netmgr] dhcp renew in 7 s",
                "12:10:07.331 > [W][lwip] tcp_write: queue full, retry 9",
                "\x1b[0;32mI (12) app: heartbeat ok\x1b[0m", "", "   ", "12:10:07.331 > ", "[I] ",
                "\x1b[1m", "[I] 0x20000150  used    16   OK  0x40d", "abc free 1",
                "[I] g_kmm_head = 20000130", "12:00:00.000 > " + "-" * 30, "I (3) app: 1 2 3",
                "[W] free | used | maxused", "x | y", "...", "[I] ....", "TaskName x",
                "[D] a 1 2 3", "app_task 1 2 3", "Allocated in ISR 1, Allocated by deleted task 2",
                "freelist bitmap: 0x1", "[2^3] bytes: 4", "[I] all blocks", "Blk_Addr x",
                "café", "\x1b]0;t\x07x", "\tTab 1", "[I] tail 12", "WARNING, malloc failed",
                "mmlk 3", "Add tag 3 when malloc", "[MSCYCLE] 5",
                "[MSOBJ] create timer 0x2000 caller 0x0 seq 1", "!!! x", "Heap Info"]
# structural lines the C scanner consumes itself, and near misses
DUMP_STRUCTURE = ["ALL BLOCKS", "all blocks", "[I] ALL BLOCKS", "ALL BLOCKS x", "ALL  BLOCKS",
                  "freelist bitmap: 0x807", "FREELIST BITMAP 0X1f", "freelist bitmap: 0xg",
                  "freelist bitmap:", "freelist bitmap:\t0x1 tail", "Blk_Addr    Stat     Len",
                  "blk_addr stats", "Blk_AddrStat", "Address  Stat     Len  Chk    Caller",
                  "Address Stat Len", "address, stat size dye", "-" * 19, "-" * 20, "-" * 80,
                  "-" * 25 + " x", "12:00:00.000 > " + "-" * 30, "\x1b[1m" + "-" * 40,
                  "TaskName                 Prio  StackSize  HeapAllocSize",
                  "taskname prio stacksize heapallocsize x", "TaskName Prio StackSize",
                  "TaskName  Prio StackSize HeapAllocSize 1 2 3",
                  "--- all free memory blocks ---", "---all free memory blocks", "-all free "
                  "memory blocks-x", "-- ALL FREE MEMORY BLOCKS --", "- memory allocation "
                  "statistic -", "-- memory allocation statistics --", "--- task allocation "
                  "statistic ---", "-- task  allocation statistic --",
                  "[I] --- task allocation statistic ---", "-- task allocation statistic --x",
                  "-- memory allocation statistic -- x"]
# Lines a dump reads a value from (_scan.dump_run2 reads them in C) and near misses: the
# kmm head, alloc-size buckets, task rows, the ISR line, numbers past 64 bits, and lines
# ending in digits that are not task rows.
DUMP_STRUCTURE += [
    "g_kmm_head = 0x20000130", "G_KMM_HEAD_resv=20000130", "g_kmm_head = 0xZZ",
    "g_kmm_head = 0x123456789abcdef01", "g_kmm_head: 0x1", "[I] g_kmm_head = 0x2000",
    "[2^06] bytes:    64   |[2^07] bytes:    35   |[2^08] bytes:     7   |",
    "[2^6]bytes:1", "[2^06] Bytes: 3", "[2^99999999999999999999] bytes: 1",
    "[I] [2^10] bytes: 5 |", "[2^x] bytes: 3", "x [2^06] bytes: 4", "[2^07] bytes:",
    "app_task                 20    1024       2296      ", "my task 2 3 4 5",
    "abc_free 1 2 3", "1 2 3", "task 12345678901234567890 1 2", "\t tab_task\t1\t2\t3",
    "allocated_task 1 2 3", "t 1 2 3x", "[W] idle 0 512 0",
    "Allocated in ISR 0, Allocated by deleted task 0",
    "allocated in isr -5,allocated by deleted task 7",
    "Allocated in ISR 0 Allocated by deleted task 0",
    "[I] Allocated in ISR 3, Allocated by deleted task 4 extra",
    "Allocated in ISR 99999999999999999999, Allocated by deleted task 1",
    "[I][wifi] rssi=-44 ch=6 bssid=ac:84:c6:12:34:56", "tcp_write: queue full, retry 26",
]
# What _scan.dump_run3 reads on to (a nested table read whole after its banner, the banners
# it moves the phase on, the dump's ends) and near misses: a second banner, tables' own
# lines where they do not belong, a pool part, rows with empty, tabbed or too long cells,
# lines the nested reader ends or closes on.
DUMP_STRUCTURE += [
    "-------------------------------[kernel] heap size overview -----------------------",
    "--- heap size overview ---", "----[k2] HEAP SIZE OVERVIEW----", "--[] heap size overview--",
    "-- [a b] heap size overview --", "- heap size overview", "[I] --- heap size overview ---",
    "[HEAP]| TotalSz    | FreeSz     | UsedSz     | MinFreeSz  | MaxFreeBlkSz  |",
    "[HEAP]| TotalSz | FreeSz |", "[HEAP]| TotalSz | FreeSz | UsedSz | [2^3] bytes: 1 |",
    "      | 0x0000D000 | 0x0000BC58 | 0x000013A8 | 0x0000B3D0 | 0x0000BB58    |",
    "| 100 | 40 | 60 |", "| 100 || 40 | 60 |", "|\t100 | 40 | 60 |", "| 0X10 | 0x1 | 0xF |",
    "| 0x11112222333344445 | 0x1 | 0x1 |", "| 1 | 2", "[POOL]| PoolSz | FreeSz | UsedSz |",
    "| 0x100 | 0x80 | 0x80 | 0x10 |", "K_MM_STATISTIC in k_config.h is closed",
    "===== x =====", "!!!!! x !!!!!", "a | b", "[I] " + "-" * 40,
    "--------------New alloced blocks info ends.-------------", "-- new alloced blocks info "
    "ends --", "--- New alloced blocks info ends. ---x", "- New alloced blocks info ends.. -",
]
INSERTS = DUMP_FOREIGN + DUMP_STRUCTURE


@pytest.mark.parametrize("chunk", [97, 1 << 16])
def test_dumps_with_foreign_lines_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             chunk: int) -> None:
    """Every AliOS dump fixture with a foreign line (prefixed, coloured, blank, looking like
    dump content once its prefix is gone, or a line another reader reads) at every position,
    two in a row, and runs of them around the limit where the line path gives the dump up:
    the fast path gives the line path's records and counters."""
    monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
    rows: list[str] = []
    k = 0
    for path in [*DUMPS, None]:
        lines = _stress_dump() if path is None else path.read_text(errors="replace").split("\n")
        for at in range(len(lines) if chunk > 100 else min(len(lines), 60)):
            k += 1
            copy = [*lines]
            copy.insert(at, INSERTS[k % len(INSERTS)])
            if k % 4 == 0:
                copy.insert(at, INSERTS[(k * 7) % len(INSERTS)])
            rows += copy
    path = tmp_path / "dumps.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert line[1]["skipped_in_sections"] > 100
    assert sum(r.startswith("BlockDump(") for r in fast[0]) > 150


def _stress_dump() -> list[str]:
    """The first B3 dump of a bundled stress run (a nested heap table with no pool part,
    the shape _scan.dump_run3 reads whole), as lines."""
    lines = (ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
             ).read_text().split("\n")
    start = next(i for i, t in enumerate(lines) if "all memory blocks" in t)
    isr = next(i for i in range(start, len(lines)) if lines[i].startswith("Allocated in ISR"))
    dump = lines[start:isr + 3]
    assert any("heap size overview" in t for t in dump) and not any("[POOL]" in t for t in dump)
    return dump


def test_dump_structure_lines_everywhere(tmp_path: Path) -> None:
    """Each line the C scanner reads as dump structure (and each near miss) at every position
    of a B3 dump, a real one, a stress run's and an mmlk listing: the line path's records
    and counters."""
    rows: list[str] = []
    for name in ("b3_full.log", "b3_haas_real.log", "mmlk.log", "stress"):
        lines = _stress_dump() if name == "stress" else (
            ROOT / "tests" / "fixtures" / "alios" / name).read_text().split("\n")
        for extra in DUMP_STRUCTURE:
            for at in range(min(len(lines), 80)):
                rows += [*lines[:at], extra, *lines[at:]]
    path = tmp_path / "structure.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert sum(r.startswith("BlockDump(") for r in fast[0]) > 2000


def test_stress_dump_read_in_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               scanner: str) -> None:
    """A stress run's B3 dump, with foreign lines inside its nested table: the C scanner
    reads its banners, the nested table and its closing rule itself (dump_run3's acts and
    ``done``), and the records and counters are the line path's."""
    fast = accel.module()
    if scanner != "C" or not hasattr(fast, "dump_run3"):
        pytest.skip("dump_run3 is the C scanner's")
    dump = _stress_dump()
    at = next(i for i, t in enumerate(dump) if t.startswith("[HEAP]|"))
    noisy = [*dump[:at], DUMP_FOREIGN[0], dump[at], DUMP_FOREIGN[2], *dump[at + 1:]]
    path = tmp_path / "stress.log"
    path.write_text("\n".join([*dump, "", *noisy, ""]) + "\n")
    tags: list[int] = []
    real = fast.dump_run3

    def counted(*args):
        got = real(*args)
        tags.extend(act[0] for act in got[8])
        tags.extend([-1] * got[9])
        return got
    monkeypatch.setattr(fast, "dump_run3", counted)
    fast_run, line = both(path)
    assert fast_run == line
    assert tags.count(4) == 2 and tags.count(-1) == 2 and tags.count(5) == 4
    assert line[1]["skipped_in_sections"] >= 2
    assert sum("nested=True" in r for r in line[0]) == 2


# Lines outside any section whose anchors may all be one reader's (scan._Solo gives them to
# that reader alone) and lines where two readers' anchors meet, a marker shares the line, the
# opener is not whole or the text is not plain.
SOLO_LINES = [
    "[MSBUILD] c7794bc74d410b31a805d3d3ce08937426737bed", "[MSBUILD] abc 0x12",
    "[MSAGENT] dropped 3 events", "[MSAGENT] overflow [MSCYCLE] 4", "[MSCYCLE] 5 [MSBUILD] ab",
    "[MSBUILD]", "12:00:00.000 > [MSBUILD] abcdef", "\x1b[1m[MSBUILD] abc\x1b[0m",
    "Add tag 3 when malloc", "Add tag 300 when malloc WARNING", "mmlk 7", "# mmlk 3",
    "-----------------All new alloced blocks:----------------", "--- all memory blocks ---",
    "------------------------------- all memory blocks --------------------------------- ",
    "--- all memory blocks --- heap info", "--- all memory blocks --- 0x1",
    "[I] --- all memory blocks ---", "--- all memory blocks", "[FACT] heap_total 53248",
    "[FACT] leaked_timer_create_caller 0x1d", "[FACT] owner (nil)", "[FACT] total 0x10",
    "WARNING, malloc failed!!!! need size:16, but free size:8", "max used 5 total 7",
    "region info frag number: 1 free size: 100", "show panic header", "live timers: 3",
]


@pytest.mark.parametrize("chunk", [97, 1 << 16])
def test_lines_of_one_readers_anchors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      chunk: int) -> None:
    """Lines whose anchors are one reader's (read by it alone, not offered to every reader)
    and near misses, among a stress run's events, markers, tables and dumps: the line
    path's records and counters."""
    monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
    lines = (ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
             ).read_text().split("\n")[:4000]
    rng = random.Random(12)
    for k in range(400):
        at = rng.randrange(len(lines))
        lines.insert(at, SOLO_LINES[k % len(SOLO_LINES)])
    path = tmp_path / "solo.log"
    path.write_text("\n".join(lines) + "\n")
    fast, line = both(path)
    assert fast == line
    assert line[1]["line_records"].get("msbuild", 0) > 10


def test_anchors_in_finds_every_anchor() -> None:
    """_scan.anchors_in (the anchors of a line the C loops leave, for the inert test and the
    single-owner shortcut): every word of the plan that the lowercased line holds, and None
    for a line with a byte other than printable ASCII and TAB; on lines made of the readers'
    anchors (overlapping, repeated, in any case, cut), noise and odd bytes."""
    fast = accel.module()
    if fast is None or not hasattr(fast, "anchors_in"):
        pytest.skip("no C scanner")
    sections, lines = registry.default_readers(None, ())
    words = scan.Plan(sections, lines).inert_words
    rng = random.Random(5)
    pieces = [*words, *(w[:-1] for w in words if len(w) > 1), " ", "x", "\t", "0", "!",
              "-" * 19, "[", "]", "\x1b", "\xe9", "\x7f", "|"]
    for _ in range(20_000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 6))]
        line = "".join(p.upper() if rng.random() < .3 else p for p in parts)
        text = "ab\n" + line + "\ncd"
        got = fast.anchors_in(text, 3, 3 + len(line), words)
        if re.fullmatch(r"[\t -~]*", line) is None:
            assert got is None, line
        else:
            assert got == tuple(i for i, w in enumerate(words) if w in line.lower()), line


@pytest.mark.parametrize("run", [198, 199, 200, 201, 202])
def test_foreign_runs_at_the_skip_limit(tmp_path: Path, run: int) -> None:
    """A run of foreign lines (and blank ones between) inside a dump, up to and past
    LogParser.max_skipped: the dump is given up at the same line either way."""
    dump = (ROOT / "tests" / "fixtures" / "alios" / "b3_full.log").read_text().split("\n")
    rows: list[str] = []
    for at in (5, 8, len(dump) - 6):
        noise = [DUMP_FOREIGN[i % 4] for i in range(run)]
        if at == 8:
            noise[run // 2] = ""
        rows += [*dump[:at], *noise, *dump[at:]]
    path = tmp_path / "runs.log"
    path.write_text("\n".join(rows) + "\n")
    fast, line = both(path)
    assert fast == line
    assert any("partial=True" in r for r in fast[0]) == (run > 200)


def test_prefix_count_on_mixed_chunks() -> None:
    """The C prefixed-line count (tests/parse/test_prefix_c.py checks its matcher line by
    line) on chunks of mixed shapes: what it counts plus count_prefixed on the lines it
    leaves is normalize()'s count and count_prefixed's, ``plain`` is is_plain's answer and
    the line count str.count's."""
    from memsleuth.parse.normalize import count_prefixed, is_plain, normalize

    fast = accel.module()
    if fast is None or not hasattr(fast, "prefix_count"):
        pytest.skip("no C scanner")
    shapes = ["[MSOBJ] create x", "[MS] x", "[MSx] 1", "[MSCYCLE]5", "[HEAP]| a |", "[POOL]|",
              "[HEAP] | a", "[I][wifi] ok", "[  12.500]<I> text", "I (12) app: hi", "E: boom",
              "12:10:07.331 > x", "Nov 28 02:15:24 host prog[12]: x", "2026-11-28 02:15:24 x",
              "<err> os: x", "[ 9] [  INFO] [ap] x", "(00:00:00.106) x", "plain text 12:00",
              "  [I] indented", "\t[I] tab", "", "\x1b[0;32mI (3) app: x\x1b[0m", "[I] cr\r",
              "\x00[I] nul", "café [I]", "[D] naïve", "Jan  1 00:00:00 h p: x", "Xyz x"]
    shapes += ["[V]x", "[F] ", "[X] no", "[I", "[i] lower", "[E][MSOBJ] x", "0x2000 used",
               "1:2", "12", "1", "2026-11", "0", "9 x", "V (1) a:", "V (1) :a", "V (1)  a: x",
               "W (22) " + "t" * 40 + ": x", "W (22) " + "t" * 41 + ": x", "D (x) a: b",
               "E ()", "I (5) tag", "\x1b[1mE (7) wifi: x", "\x1b[0;32m[I] x\x1b[0m",
               "\x1b]0;t\x07I (3) a: b", "\x1b[0mplain", "\x1b[31m12:00:00 > x", "\x1b["]
    rnd = random.Random(5)
    for _ in range(600):
        lines = [rnd.choice(shapes) for _ in range(rnd.randrange(1, 12))]
        text = "\n".join(lines) + rnd.choice(["\n", ""])
        plain, counted, rest, n = fast.prefix_count(text)
        assert plain == is_plain(text), lines
        assert n == text.count("\n")
        whole = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        want = sum(normalize(line).prefixed for line in whole)
        assert counted + count_prefixed(rest) == count_prefixed(text) == want, lines


def _rule_variants() -> list[tuple[int, int | None, str]]:
    """(rule length, position of a foreign character or None, that character): lengths
    around the 20-dash minimum and the 8-byte steps _scan.c's rule test takes, breaks in
    every part of a step."""
    out: list[tuple[int, int | None, str]] = [(n, None, "") for n in (
        19, 20, 21, 23, 24, 25, 31, 32, 33, 75)]
    for n in (21, 24, 33, 75):
        out += [(n, at, ch) for at in (0, 1, 7, 8, 9, 15, 16, 19, 20, n - 2, n - 1)
                for ch in ("x", "=", " ") if at < n]
    return out


@pytest.mark.parametrize("length,at,ch", _rule_variants())
def test_table_rules_of_any_length_and_break(tmp_path: Path, length: int, at: int | None,
                                             ch: str) -> None:
    """A heap table's rule is 20 or more dashes and nothing else: the C loops (which test a
    rule 8 bytes at a time) and the line path agree on every rule of a real log shortened,
    lengthened or broken by one character anywhere, record for record, with the markers
    and tables taken in columns or one by one."""
    from memsleuth.records import HeapRun

    src = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
    lines = src.read_text().splitlines()[:400]
    rule = "-" * length
    if at is not None:
        rule = rule[:at] + ch + rule[at + 1:]
    edited = [rule if re.fullmatch(r"-{20,}", s.strip()) else s for s in lines]
    assert edited != lines
    path = tmp_path / "rules.log"
    path.write_text("\n".join(edited) + "\n")
    fast, line = both(path)
    assert fast == line

    def expanded(fast_path: bool) -> list[str]:
        log = parse_file(path, fast=fast_path, heap_runs=True)
        return [repr(x) for r in log
                for x in (r.records() if type(r) is HeapRun else [r])]
    assert expanded(True) == expanded(False)
