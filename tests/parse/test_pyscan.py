"""The pure-Python scanner (parse/pyscan.py) answers as the C scanner's calls and the line path.

pyscan mirrors ``memsleuth._scan`` at ABI 5 in Python and NumPy; parse/scan.py runs its C-path
code on top of it when the C module is absent or off. Checked here, on every committed log,
on those logs cut into small chunks (every cut a chunk boundary) and on lines mutated where
the bulk tests could part from the C loop (escapes, odd cells, foreign lines in tables,
overlong numbers): the records equal the line path's, ``prefix_count`` equals
``normalize.count_prefixed``, ``blocks`` and ``dump_run2`` (an open block dump's lines) equal
``_scan.blocks`` and ``_scan.dump_run2`` tuple for tuple, and the scan with the C module
equals the scan with pyscan record for record. The verbs' answers are compared
three ways by tests/parse/test_verb_paths.py and the differential fuzzer.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_prefix_c import LOGS, PIECES

from memsleuth import accel
from memsleuth.parse import parse_file, pyscan
from memsleuth.parse.normalize import count_prefixed
from memsleuth.records import HeapBlock, HeapRun, ObjectEventRun

ROOT = Path(__file__).resolve().parents[2]


def _flat(records: list) -> list:
    """Records with the bulk forms (HeapRun, ObjectEventRun) opened up."""
    out: list = []
    for r in records:
        if isinstance(r, HeapRun):
            out.extend(_flat(r.records()))
        elif isinstance(r, ObjectEventRun):
            out.extend(r.events())
        else:
            out.append(r)
    return out


def _records(path: Path, monkeypatch, mode: str) -> list:
    """The records of a whole parse: "line" (MEMSLEUTH_FAST=0), "py" (pyscan), "C"."""
    monkeypatch.setattr(accel, "_loaded", False if mode == "C" else None)
    monkeypatch.setenv("MEMSLEUTH_FAST", "0" if mode == "line" else "1")
    monkeypatch.setenv("MEMSLEUTH_ACCEL", "1" if mode == "C" else "0")
    parsed = parse_file(path, objects="runs", heap_runs=True)
    recs = _flat(list(parsed))
    monkeypatch.setattr(accel, "_loaded", False)
    stats = parsed.stats
    return [*recs, ("stats", stats.lines, stats.prefixed_lines, stats.skipped_in_sections,
                    dict(stats.sections))]


def _mutants(text: str, seed: int) -> list[str]:
    """A few lines of the log spliced with pieces the bulk tests must decide as C does."""
    rnd = random.Random(seed)
    lines = text.splitlines(keepends=True)
    extra = ["\x1b[0;32m[MSOBJ] create timer 0x20000100 caller 0x00000101 seq 7\x1b[0m\n",
             "[MSOBJ] create timer 0x20000100 caller 0x00000101 seq 123456789012345678901\n",
             "[MSCYCLE] 1234567890123456789012\n", "[MSCYCLE] \n", "      | 0x1 | 12 |\n",
             "      | 0xFFFFFFFFFFFFFFFF | 0x0000C6A0 |\n", "[POOL]| x |\n", "----\n",
             "-" * 30 + "\n", "== Heap Info ==\n", "[HEAP]| a | b |\n", "plain text\n",
             "warning: low\n", "\tTAB line\n", "x" * 5000 + "\n", "\r\n", "\n", "caf\xe9\n"]
    out = []
    for _ in range(3):
        mutated = list(lines)
        for _ in range(max(1, len(lines) // 40)):
            at = rnd.randrange(len(mutated) + 1)
            piece = rnd.choice(extra + [p + "\n" for p in PIECES])
            mutated.insert(at, piece)
        out.append("".join(mutated))
    return out


#: the example runs (the agent's [MSCYCLE] markers: heap stretches, packed events) and the
#: smaller committed logs (other formats: what the scanner must leave to the line path)
RUNS = sorted((ROOT / "examples").glob("*/out/*.log"))
SAMPLE = RUNS + [p for p in LOGS if p.stat().st_size < 400_000 and p not in RUNS][:30]


@pytest.mark.parametrize("log", SAMPLE, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_records_equal_line_path(log: Path, monkeypatch) -> None:
    assert _records(log, monkeypatch, "py") == _records(log, monkeypatch, "line")


@pytest.mark.parametrize("log", RUNS[::2] + SAMPLE[len(RUNS)::6],
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_mutants_and_small_chunks(log: Path, monkeypatch, tmp_path: Path) -> None:
    """Mutated logs, read in chunks of a few KiB (tables and runs cut at every boundary)."""
    import memsleuth.sources.file as source

    monkeypatch.setattr(source, "CHUNK_BYTES", 3001)
    text = log.read_bytes().decode("latin-1")[:150_000]
    for k, mutant in enumerate(_mutants(text, hash(log.name) & 0xFFFF)):
        path = tmp_path / f"m{k}.log"
        path.write_bytes(mutant.encode("latin-1"))
        assert _records(path, monkeypatch, "py") == _records(path, monkeypatch, "line"), k
        if accel.module() is not None:
            assert _records(path, monkeypatch, "C") == _records(path, monkeypatch, "py"), k


def test_prefix_count_is_count_prefixed() -> None:
    rnd = random.Random(5)
    for log in LOGS:
        text = log.read_bytes().decode("latin-1")
        got = pyscan.prefix_count(text)
        if got is None:              # not ASCII: Python counts
            continue
        plain, count, rest, lines = got
        assert count + (count_prefixed(rest) if rest else 0) == count_prefixed(text), log
        assert lines == text.count("\n")
    for _ in range(400):
        text = "".join(rnd.choice(PIECES) + rnd.choice(["", " ", "\t", "x", "y "]) + "\n"
                       for _ in range(rnd.randrange(1, 30)))
        got = pyscan.prefix_count(text)
        if got is not None:
            assert got[1] == count_prefixed(text), repr(text)


def _facts(text: str, memo: bool) -> tuple:
    """A chunk's line facts (inert, foreign, ok after a table), looked up or in bulk."""
    saved = pyscan._facts_memo
    pyscan._facts_memo = pyscan._FactsMemo()
    if not memo:
        pyscan._facts_memo.pause = 1 << 30
    try:
        an = pyscan._anchors_of(_ANCHORS)
        ch = pyscan._Chunk(text, text.encode("latin-1"), an, True, True)
        return ch.inert.copy(), ch.foreign.copy(), ch.after_ok.copy()
    finally:
        pyscan._facts_memo = saved


def _default_anchors() -> tuple[str, ...]:
    """Every default reader's anchors, as a scan passes them."""
    from memsleuth.parse.registry import default_readers
    from memsleuth.parse.scan import Plan

    words = Plan(*default_readers()).inert_words
    assert "0x" in words and "2nd stage bootloader" in words   # (what the lookup hinges on)
    return words


_ANCHORS = _default_anchors()


def test_looked_up_line_facts_never_say_more() -> None:
    """The facts looked up by a line with its digits (and, led by "0x", hex letters) made 0
    may call a line non-inert that is (the scanner's Python then reads it), never the
    reverse: on every committed log and on lines made to trip the lookup (digits next to
    an anchor, [POOL] rows, escapes that hide or join words, "0x" lines with odd bytes)."""
    rnd = random.Random(12)
    odd = ["1nd stage bootloader\n", "2nd stage bootloader\n", "0xab [pool]|\n",
           "0x1f\x1b[1a]|\n", "0x1 [pool\x1b[1a]|\n", "[pool\x1b[1a]|\n",
           "0x12 fr\x1b[0mee: 4\n", "free: 12\n",
           "fre3: 12\n", "0xAB\x01 used\n", "rst:0x1 boot\n", "rst:1x1 boot\n",
           "  | 12 | 34 |\n", "  | 0x12 | 34 |\n", "0x" + "f" * 300 + "\n", "9x9 not hex\n"]
    texts = [log.read_bytes().decode("latin-1") for log in LOGS[:40]]
    for _ in range(60):
        texts.append("".join(rnd.choice(odd) for _ in range(rnd.randrange(5, 60))))
    for text in texts:
        if not text.endswith("\n") or not text.isascii():
            continue
        looked = _facts(text, True)
        bulk = _facts(text, False)
        for got, want in zip(looked, bulk, strict=True):
            assert not (got & ~want).any()
    # and the lookup is not vacuous: a stress-shaped chunk gets the same facts both ways
    run = (RUNS[0].read_bytes().decode("latin-1") * 3)
    looked, bulk = _facts(run, True), _facts(run, False)
    assert all((a == b).all() for a, b in zip(looked, bulk, strict=True))


def test_table_spans_are_the_regex_groups() -> None:
    """The tables' group spans worked out from the match spans (and the lines of a table kind
    inside) equal the regex's own groups, on letter strings of tables with foreign lines of
    every kind inserted anywhere."""
    from itertools import chain

    import numpy as np

    rnd = random.Random(2)
    tables = pyscan._TABLES
    seen = 0
    for _ in range(1500):
        seq = []
        for _ in range(rnd.randrange(1, 12)):
            for k in rnd.choice([[1, 2, 3, 4, 2], [2, 3, 4, 2], [0], [0, 0]]):
                seq.append((k, rnd.random() < (0.15 if k else 0.9), rnd.random() < 0.95))
                while rnd.random() < 0.25:
                    seq.append((rnd.choice([0, 0, 0, 2, 4]), rnd.random() < 0.85,
                                rnd.random() < 0.9))
        kind = np.array([a for a, _, _ in seq], np.uint8)
        letters = (kind * 4 + np.array([b for _, b, _ in seq]) * 2
                   + np.array([c for _, _, c in seq]) + 65).astype(np.uint8)
        origin = rnd.randrange(len(seq))
        want = np.fromiter(chain.from_iterable(chain.from_iterable(
            m.regs for m in tables.finditer(letters.tobytes(), origin))), np.int64
        ).reshape(-1, tables.groups + 1, 2)
        got = pyscan._table_spans(letters, kind, origin)
        assert got.shape == want.shape and (got == want).all()
        seen += int(((want[:, 0, 1] - want[:, 0, 0]) > 5).sum())
    assert seen > 100          # tables with foreign lines inside were among them


def test_prefix_count_by_line_keys() -> None:
    """prefix_count looks lines up by a key with their digits made 0 (but 2, which the prefix
    shapes name): the same lines with other digits, read after their keys are known, are
    counted as count_prefixed counts them, digit for digit (every digit 0-9 in every place
    of every prefix shape, "[2^" and "[3^" led lines among them)."""
    rnd = random.Random(7)
    pieces = [*PIECES, "[2^3] bytes: ", "[3^3] bytes: ", "[9^9] ", "[ 2] [INFO] "]
    for _ in range(300):
        text = "".join(rnd.choice(pieces) + rnd.choice(["", "x", "y 2", "z 9:"]) + "\n"
                       for _ in range(rnd.randrange(1, 40)))
        for variant in range(3):      # the first fills the lookup, the others read from it
            if variant:
                text = "".join(rnd.choice("0123456789") if c.isdigit() else c for c in text)
            got = pyscan.prefix_count(text)
            if got is not None:          # (not ASCII: Python counts)
                assert got[1] == count_prefixed(text), repr(text)


def test_blocks_as_c() -> None:
    fast = accel.module()
    if fast is None or not hasattr(fast, "blocks"):
        pytest.skip("the C scanner is not built")
    rows = ["0x20000150  used    1536   OK  0x40d", "0x20000150 free 12 OK 0x1 (0x2 <- 0x3)",
            "0x2000015 used sentinel OK 0xAbC", "0x20000150  used    1536   OK  0x40d ",
            "0x1 used 1234567890123456789 OK 0x2", "0x12345678901234567 used 1 OK 0x1",
            "0x1 used 1 OK 0x1 (0x1<-0x2<- 0x3 )", "0x1 used 1 OK 0x1 (0x1 <-)",
            "0x1 free 1 NO 0x1", "0x1  used 1 OK 0x1(0x2)", "0x1 used 1 OK 0x1 (0xg)"]
    rnd = random.Random(3)
    for _ in range(300):
        text = "".join(rnd.choice(rows) + "\n" for _ in range(rnd.randrange(1, 6)))
        assert pyscan.blocks(text, 0, 10, HeapBlock) == fast.blocks(text, 0, 10, HeapBlock), text


def _dump_lines() -> list[str]:
    """Lines an open dump meets: the fast-path tests' foreign, structural and value lines
    (and near misses), the committed dumps' own lines, block lines at the edges of the C
    loop's shape (a 64- and a 65-frame trace, escapes, a prefix, CR, control characters,
    non-ASCII, lines around the 4096-character buffer)."""
    from test_scan_fast_path import DUMPS, INSERTS

    own = [line for path in DUMPS for line in path.read_text(errors="replace").split("\n")]
    trace = " <- ".join(["0x1"] * 64)
    edge = ["0x20000150  used    1536   OK  0x40d", "0x1 used 1 OK 0x1 (" + trace + ")",
            "0x1 used 1 OK 0x1 (" + trace + " <- 0x2)", "\x1b[0;32m0x1 used 1 OK 0x1\x1b[0m",
            "12:00:00.000 > 0x1 used 1 OK 0x1", "0x1 used 1 OK 0x1\r", "\x01\x02", "a\x7fb",
            "\x1b[1m\x1b(B", "x" * 4097, " " * 4097, "y" * 4096, "y" * 4096 + "\x01",
            "z" * 4095 + "\x1b[0m ", "caf\xe9", "\t\t", "I (3) x: \x1b[0m",
            "0x2000d118  used  sentinel   OK  0x11224433  (0x0 <- 0x0)", "0x1 free 1 OK 0x2 ("]
    return [*INSERTS, *[x for x in own if len(x) < 300], *edge]


def test_dump_run2_as_c() -> None:
    """``dump_run2`` on random mixes of dump lines, in every mode, with skip runs at and
    around the limit, from the start and from inside the text: the C loop's tuple (blocks,
    counts, last consumed line, B3 hint, phase move, value lines), the same stop line."""
    fast = accel.module()
    if fast is None or not hasattr(fast, "dump_run2"):
        pytest.skip("the C scanner is not built")
    from memsleuth.parse.scan import KNOWN_ANCHORS, _register_blocks

    _register_blocks(fast)
    words = (*dict.fromkeys(w for ws in KNOWN_ANCHORS.values() for w in ws), "[mscycle]")
    pool = _dump_lines()
    blocks = [x for x in pool if x.startswith("0x")]
    rnd = random.Random(11)
    seen = {"blocks": 0, "skipped": 0, "acts": 0, "phase": 0, "b3": 0}
    for _ in range(6000):
        lines = [rnd.choice(blocks if rnd.random() < 0.4 else pool)
                 for _ in range(rnd.randrange(1, 14))]
        text = "\n".join(lines) + ("\n" if rnd.random() < 0.9 else "")
        pos = 0 if rnd.random() < 0.7 else text.find("\n") + 1
        mode = rnd.choice((-1, 0, 0, 0, 1, 2, 3, 3, 4))
        run, limit = rnd.randrange(0, 5), rnd.choice((0, 1, 2, 3, 200))
        args = (text, pos, 7, HeapBlock, words, mode, run, limit)
        got = pyscan.dump_run2(*args)
        assert got == fast.dump_run2(*args), (text, mode, run, limit)
        seen["blocks"] += bool(got[2])
        seen["skipped"] += bool(got[3])
        seen["acts"] += bool(got[8])
        seen["phase"] += bool(got[7])
        seen["b3"] += got[6]
    assert min(seen.values()) > 50, seen


@pytest.mark.parametrize("chunk", [97, 1000, 3001, 1 << 16])
def test_dumps_cut_anywhere(chunk: int, monkeypatch, tmp_path: Path) -> None:
    """Committed dumps with the dump lines above spliced in at random, read in chunks of
    several sizes (a dump cut at every kind of line): pyscan's records equal the line
    path's (and the C scanner's)."""
    from test_scan_fast_path import DUMPS

    import memsleuth.sources.file as source

    monkeypatch.setattr(source, "CHUNK_BYTES", chunk)
    pool = [x for x in _dump_lines() if len(x) < 200]
    rnd = random.Random(chunk)
    rows: list[str] = []
    for path in DUMPS:
        lines = path.read_text(errors="replace").split("\n")
        for _ in range(2):
            copy = [*lines]
            for _ in range(max(1, len(copy) // 8)):
                copy.insert(rnd.randrange(len(copy) + 1), rnd.choice(pool))
            rows += copy
    path = tmp_path / "dumps.log"
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1", "replace"))
    py = _records(path, monkeypatch, "py")
    assert py == _records(path, monkeypatch, "line")
    assert sum(type(r).__name__ == "BlockDump" for r in py) >= len(DUMPS)
    if accel.module() is not None:
        assert _records(path, monkeypatch, "C") == py


def test_version_says_which_scanner(monkeypatch) -> None:
    monkeypatch.setattr(accel, "_loaded", None)
    monkeypatch.setenv("MEMSLEUTH_ACCEL", "0")
    assert accel.scanner() is pyscan
    assert "NumPy" in accel.describe()
    monkeypatch.setenv("MEMSLEUTH_PYSCAN", "0")
    assert accel.scanner() is None
    assert "line by line" in accel.describe()
