"""The fast file path gives the same lines, records and statistics as the plain one.

`parse_file` decodes a whole chunk at a time (``sources.text.decode_lines``); everything
else (``parse_lines``, the live monitor) goes line by line. These tests pin the two to each
other and to a reference splitter written for clarity, not speed.
"""

from __future__ import annotations

import dataclasses
import gzip
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from memsleuth.parse import parse_file, parse_lines
from memsleuth.sources import file as file_source
from memsleuth.sources.text import (
    MAX_LINE_BYTES,
    decode_line,
    decode_lines,
    split_lines,
    strip_eol,
)

ROOT = Path(__file__).resolve().parents[2]
LOGS = sorted((ROOT / "examples" / "wifi_reconnect_leak" / "out").glob("*.log")) + sorted(
    (ROOT / "tests" / "fixtures").rglob("*.log"))


def reference_lines(data: bytes) -> list[bytes]:
    """The line rule spelled out: ``\\r\\n``, ``\\n\\r``, ``\\n`` or ``\\r`` ends a line (pairs
    first, read left to right: what an editor counts)."""
    lines: list[bytes] = []
    start = i = 0
    while i < len(data):
        if data[i] in b"\r\n":
            end = i + 2 if data[i:i + 2] in (b"\r\n", b"\n\r") else i + 1
            lines.append(data[start:end])
            start = i = end
        else:
            i += 1
    if start < len(data):
        lines.append(data[start:])
    return lines


_EOL = re.compile(rb"\r\n|\n\r|\n|\r")


def regex_split_lines(chunks: list[bytes], max_line: int) -> Iterator[bytes]:
    """split_lines as it was before chunk decoding (the reference for long-line cutting)."""
    buf = b""
    for chunk in chunks:
        if not chunk:
            continue
        buf = buf + chunk if buf else chunk
        start = 0
        for m in _EOL.finditer(buf):
            if m.end() == len(buf) and m.group() in (b"\r", b"\n"):
                break
            while m.start() - start > max_line:
                yield buf[start:start + max_line]
                start += max_line
            yield buf[start:m.end()]
            start = m.end()
        buf = buf[start:]
        while len(buf) > max_line:
            yield buf[:max_line]
            buf = buf[max_line:]
    if buf:
        yield buf


def decoded(raws: list[bytes]) -> tuple[list[str], int]:
    """Texts and bad-line count, one line at a time (decode_line, the per-line contract)."""
    pairs = [decode_line(strip_eol(r)) for r in raws]
    return [text for text, _ in pairs], sum(bad for _, bad in pairs)


def flatten(chunks: list[bytes], max_line: int = MAX_LINE_BYTES) -> tuple[list[str], int, int]:
    lines: list[str] = []
    nbytes = bad = 0
    for batch in decode_lines(chunks, max_line):
        lines += batch.lines
        nbytes += batch.nbytes
        bad += batch.bad
    return lines, nbytes, bad


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def summary(log) -> tuple[list[str], dict]:
    records = [repr(r) for r in log]
    return records, dataclasses.asdict(log.stats)


# -- real logs -----------------------------------------------------------------------------------


def mangle(data: bytes, seed: int) -> bytes:
    """What a serial line does to a log: CRLF, lone CR, bad UTF-8, NULs, colour, prefixes."""
    rnd = random.Random(seed)
    noise = (b"\r", b"\xff\xfe", b"\x00", b"\r\x00", b"\xe2\x82", "é€".encode(), b"\x1b[0;32m",
             b"12:34:56.789 > ", b"[  12.500]<I> ", b"\x07\t", "\u2028\x85".encode())
    out = []
    for line in data.split(b"\n"):
        if rnd.random() < 0.2:
            pos = rnd.randrange(len(line) + 1)
            line = line[:pos] + rnd.choice(noise) + line[pos:]
        out.append(line + rnd.choice((b"\n", b"\n", b"\r\n", b"\r")))
    return b"".join(out)


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
def test_file_parse_equals_line_parse(path: Path) -> None:
    data = path.read_bytes()
    assert summary(parse_file(path)) == summary(parse_lines(reference_lines(data)))


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("seed", range(3))
def test_mangled_logs_any_chunk_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     seed: int, chunk: int) -> None:
    logs = [p for p in LOGS if p.stat().st_size < 200_000]
    data = mangle(b"".join(p.read_bytes() for p in logs[seed::3]), seed)
    if chunk == 1:
        data = data[:20_000]   # byte-sized reads are slow; the start has every kind of noise
    path = tmp_path / "mangled.log.gz"
    path.write_bytes(gzip.compress(data))
    monkeypatch.setattr(file_source, "CHUNK_BYTES", chunk)
    assert summary(parse_file(path)) == summary(parse_lines(reference_lines(data)))


def test_str_lines_count_bytes_as_utf8() -> None:
    log = parse_lines(["abc", "café", "\udcff"])
    list(log)
    assert log.stats.bytes == 3 + 5 + len("\udcff".encode("utf-8", "replace"))


# -- random bytes, random chunking ---------------------------------------------------------------

_pieces = st.sampled_from([b"ab", b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"\xc3", b"\xa9",
                           "é".encode(), b"[MSOBJ] ", b"\x1b[1m", b"\x85", b"\x0b", b" "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=60), st.lists(st.integers(0, 400), max_size=12))
@example([b"\r", b"\x00", b"\n"], [])   # two lines: dropping the NUL first made them one
@example([b"\xc3", b"\x00", b"\xa9\n"], [])   # NUL inside a UTF-8 sequence: not a bad line
def test_decode_lines_matches_reference(parts: list[bytes], points: list[int]) -> None:
    data = b"".join(parts)
    chunks = cut(data, points)
    assert list(split_lines(chunks)) == reference_lines(data)
    texts, bad = decoded(reference_lines(data))
    assert flatten(chunks) == (texts, len(data), bad)


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=60), st.lists(st.integers(0, 400), max_size=12),
       st.integers(1, 12))
@example([b"\r", b"\x00", b"\n"], [], 3)
def test_long_lines_cut_as_before(parts: list[bytes], points: list[int], max_line: int) -> None:
    """Cutting depends on where chunks end (a held-back CR); it must not change at all."""
    data = b"".join(parts)
    chunks = cut(data, points)
    old = list(regex_split_lines(chunks, max_line))
    assert list(split_lines(chunks, max_line)) == old
    texts, bad = decoded(old)
    assert flatten(chunks, max_line) == (texts, len(data), bad)
