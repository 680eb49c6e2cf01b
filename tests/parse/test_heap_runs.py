"""Heap stretches read in bulk (``HeapRun``: cycle markers and overview tables in columns from
the C scanner, with the object events between them for analyze; taken by the trend a segment
at a time, by the model and the object ledger in bulk) give trend and analyze the answers the
line path gives,
also where a stretch holds what the bulk path must read on its own: a counter glitch, a
reboot, an impossible row, another heap's rows, a header without TotalSz, foreign lines in
and after tables (one that normalises to nothing sends its table back to the line path).
The logs are a real run with those lines edited in; the answers are compared as whole JSON
outputs and exit codes, with the C scanner, pure Python and the line path."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from parse_helpers import paths_agree, verb_answer

from memsleuth import accel
from memsleuth.analysis import trend as trend_mod

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
OTHER = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "x86_64-noleak.log"
ROW = re.compile(r"^( *\| )0x([0-9A-F]{8})( \| )0x([0-9A-F]{8})", re.M)


def _answer(log: Path, mode: str, monkeypatch: pytest.MonkeyPatch,
            verb: str = "trend") -> tuple:
    return verb_answer(verb, log, mode, monkeypatch)


def _agree(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for verb in ("trend", "analyze"):      # the verbs that take HeapRuns
        paths_agree(verb, log, monkeypatch)


def _lines() -> list[str]:
    return RUN.read_text().splitlines(keepends=True)


def _edit_marker(lines: list[str], n: int, new: str) -> None:
    i = lines.index(f"[MSCYCLE] {n}\n")
    lines[i] = f"[MSCYCLE] {new}\n"


def _row_index(lines: list[str], cycle: int) -> int:
    i = lines.index(f"[MSCYCLE] {cycle}\n")
    while not ROW.match(lines[i]):
        i += 1
    return i


def _after_tail(lines: list[str], cycle: int, line: str) -> None:
    """A foreign line after the row of cycle's table (its tail), ``line`` after the table."""
    i = _row_index(lines, cycle)
    lines.insert(i + 1, "[D][netmgr] renew\n")
    lines.insert(i + 3, line)


CASES = {
    "glitch_back": lambda ls: _edit_marker(ls, 300, "12"),
    "glitch_forward": lambda ls: _edit_marker(ls, 300, "9000"),
    "repeated_marker": lambda ls: _edit_marker(ls, 300, "299"),
    "reboot": lambda ls: [_edit_marker(ls, k, str(k - 499)) for k in range(500, 914)],
    "impossible_row": lambda ls: ls.__setitem__(
        _row_index(ls, 400), ROW.sub(r"\g<1>0x00001000\g<3>0x7FFFFFF0", ls[_row_index(ls, 400)])),
    "heap_change": lambda ls: ls.__setitem__(
        _row_index(ls, 450), ROW.sub(r"\g<1>0x00100000\g<3>0x000F0000", ls[_row_index(ls, 450)])),
    "blank_in_table": lambda ls: ls.insert(_row_index(ls, 200), "\x1b[0m\n"),
    "noise_in_table": lambda ls: ls.insert(_row_index(ls, 200), "[I][wifi] rssi=-40\n"),
    "noise_after_row": lambda ls: ls.insert(_row_index(ls, 210) + 1, "[D][netmgr] renew\n"),
    # foreign lines the C loop's checks decide (scan._heap_run: heap_checks) or hand back:
    # nothing left once a prefix or colour goes, text only Python decodes, and after a
    # table with a tail, a next line that could continue it
    "prefix_only_in_table": lambda ls: ls.insert(_row_index(ls, 220), "12:10:07.331 > \n"),
    "colour_level_only_in_table": lambda ls: ls.insert(
        _row_index(ls, 230), "\x1b[0;32m[I] \x1b[0m\n"),
    "latin1_in_table": lambda ls: ls.insert(_row_index(ls, 240), "[I][wifi] caf\xe9\n"),
    "notice_after_tail": lambda ls: _after_tail(
        ls, 250, "k_mm_statistic IN K_CONFIG.H is closed\n"),
    "rule_after_tail": lambda ls: _after_tail(ls, 260, "-" * 24 + "\n"),
    "prefix_only_after_tail": lambda ls: _after_tail(ls, 270, "[  12.500] \n"),
    "header_after_tail": lambda ls: _after_tail(ls, 280, "[I] [HEAP]| TotalSz | FreeSz |\n"),
    "text_after_tail": lambda ls: _after_tail(ls, 290, "12:10:07.331 > [W][lwip] retry\n"),
    "no_total_column": lambda ls: [ls.__setitem__(i, ls[i].replace(
        "TotalSz", "Region ")) for i in range(len(ls)) if ls[i].startswith("[HEAP]|")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_edited_stretches(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _lines()
    CASES[case](lines)
    log = tmp_path / f"{case}.log"
    log.write_text("".join(lines))
    _agree(log, monkeypatch)


def test_two_heaps_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "two.log"
    log.write_bytes(RUN.read_bytes() + OTHER.read_bytes() + RUN.read_bytes())
    _agree(log, monkeypatch)


def test_random_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several edits of every kind at random places in one log (seeded)."""
    rng = random.Random(7)
    lines = _lines()
    markers = [i for i, s in enumerate(lines) if s.startswith("[MSCYCLE] ")]
    for i in rng.sample(markers, 12):
        lines[i] = f"[MSCYCLE] {rng.choice([1, 5, 300, 10_000, int(lines[i].split()[1]) - 1])}\n"
    rows = [i for i, s in enumerate(lines) if ROW.match(s)]
    for i in rng.sample(rows, 6):
        lines[i] = ROW.sub(r"\g<1>0x00000010\g<3>0x7FFF0000", lines[i])
    for i in sorted(rng.sample(rows, 8), reverse=True):
        lines.insert(i + rng.choice([0, 1]), rng.choice(["\x1b[0m\n", "noise 12\n", "\n"]))
    log = tmp_path / "random.log"
    log.write_text("".join(lines))
    _agree(log, monkeypatch)


def _reference_remedian(points: list[trend_mod.Point], capacity: int) -> list[trend_mod.Point]:
    """The remedian as a list of Points (the collector's former form), written apart."""
    out: list[trend_mod.Point] = []
    for p in points:
        out.append(p)
        if len(out) >= capacity:
            full = len(out) - len(out) % 3
            merged = []
            for i in range(0, full, 3):
                a, b, c = out[i:i + 3]

                def med(*vs: int | None) -> int | None:
                    vals = sorted(v for v in vs if v is not None)
                    return vals[len(vals) // 2] if vals else None
                merged.append(trend_mod.Point(
                    x=b.x, index=b.index, cycle=b.cycle, ts=b.ts, line=b.line,
                    free=med(a.free, b.free, c.free) or 0, total=b.total, min_free=c.min_free,
                    max_free_block=med(a.max_free_block, b.max_free_block, c.max_free_block),
                    pool_free=med(a.pool_free, b.pool_free, c.pool_free), nested=b.nested))
            out = merged + out[full:]
    return out


@pytest.mark.parametrize("capacity", [9, 10, 50])
def test_bins_in_bulk_are_the_remedian(capacity: int) -> None:
    rng = random.Random(capacity)
    pts = []
    for i in range(2_000):
        pts.append(trend_mod.Point(
            x=float(i), index=i, cycle=i, ts=None if i % 5 else float(i), line=i + 1,
            free=rng.randrange(0, 1 << 20), total=1 << 20,
            min_free=rng.choice([None, rng.randrange(0, 1 << 20)]),
            max_free_block=None if i % 7 == 0 else rng.randrange(0, 1 << 20),
            pool_free=None, nested=False))
    want = _reference_remedian(pts, capacity)
    one = trend_mod._Bins(capacity)
    for p in pts:
        one.add(p)
    bulk = trend_mod._Bins(capacity)
    start = 0
    while start < len(pts):
        n = rng.randrange(1, 3 * capacity)
        chunk = pts[start:start + n]
        bulk.add_many([[getattr(p, f) for p in chunk] for f in trend_mod._FIELDS])
        start += n
    assert one.points == want
    assert bulk.points == want
    assert one.weight == bulk.weight > 1
    # as the trend adds them: NumPy columns and ranges kept as given until read, rows in
    # between, the points read now and then (the order of adding is kept throughout)
    import numpy as np
    mixed = trend_mod._Bins(capacity)
    start = 0
    while start < len(pts):
        if rng.random() < 0.3:
            mixed.add(pts[start])
            start += 1
        else:
            chunk = pts[start:start + rng.randrange(1, 3 * capacity)]
            cols: list = [[getattr(p, f) for p in chunk] for f in trend_mod._FIELDS]
            cols[0] = np.array(cols[0], dtype=float)
            cols[1] = range(chunk[0].index, chunk[-1].index + 1)
            for k in (2, 4, 5, 6):        # cycle, line, free, total: int64 columns
                cols[k] = np.array(cols[k], dtype=np.int64)
            mixed.add_many(cols)
            start += len(chunk)
        if rng.random() < 0.05:
            assert len(mixed.points) == len(mixed)
    got = mixed.points
    assert got == want
    assert {type(v) for p in got for v in (p.x, p.index, p.cycle, p.free, p.total)} <= {
        int, float}


@pytest.mark.parametrize("capacity", [3, 4, 10])
def test_thinned_lazy_extend_is_append(capacity: int) -> None:
    """``Thinned.extend_lazy`` keeps what appending one by one keeps, and builds only those."""
    from memsleuth.model import Thinned

    rng = random.Random(capacity)
    one, lazy = Thinned[int](capacity), Thinned[int](capacity)
    built: list[int] = []
    value = 0
    for _ in range(300):
        n = rng.randrange(0, 3 * capacity)
        for i in range(n):
            one.append(value + i)

        def at(i: int, base: int = value) -> int:
            built.append(base + i)
            return base + i
        lazy.extend_lazy(n, at)
        value += n
        assert list(lazy) == list(one) and lazy.count == one.count
    assert len(built) < value / 2          # most items were never built


@pytest.mark.parametrize("chunk", [1_000, 4_096, 65_536])
def test_stretches_cut_by_chunks(chunk: int, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads cut into small chunks (a stretch, a table, a line split at every place) give the
    answers of one read: the C loop stops at a chunk's last whole table and the next chunk
    starts the next stretch."""
    from memsleuth.sources import file as file_source

    log = tmp_path / "two.log"
    log.write_bytes(RUN.read_bytes()[:300_000] + OTHER.read_bytes()[:200_000])
    whole = {verb: _answer(log, "C", monkeypatch, verb) for verb in ("trend", "analyze")}
    monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
    for verb in ("trend", "analyze"):
        line = _answer(log, "line", monkeypatch, verb)
        assert line == whole[verb]
        assert _answer(log, "pure", monkeypatch, verb) == line
        if accel.module() is not None:
            assert _answer(log, "C", monkeypatch, verb) == line
