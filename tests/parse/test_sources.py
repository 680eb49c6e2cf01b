"""Bytes to lines: line endings, chunk boundaries, decoding, gzip, unreadable files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from memsleuth.errors import InputError
from memsleuth.sources import FileSource, decode_line, split_lines, strip_eol


def test_split_mixed_line_endings() -> None:
    data = b"a\r\nb\nc\rd\r\n\ne"
    assert list(split_lines([data])) == [b"a\r\n", b"b\n", b"c\r", b"d\r\n", b"\n", b"e"]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_split_is_independent_of_chunking(size: int) -> None:
    data = b"one\r\ntwo\rthree\n\r\nfour\r"
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert list(split_lines(chunks)) == list(split_lines([data]))
    assert [strip_eol(x) for x in split_lines(chunks)] == [b"one", b"two", b"three", b"",
                                                             b"four"]


def test_long_line_is_cut() -> None:
    lines = list(split_lines([b"x" * 25 + b"\n"], max_line=10))
    assert b"".join(lines) == b"x" * 25 + b"\n"
    assert max(len(x) for x in lines) <= 10 + 1


def test_decode_line_counts_invalid_utf8_and_drops_nul() -> None:
    assert decode_line(b"caf\xc3\xa9") == ("café", False)
    text, bad = decode_line(b"abc\xff\xfedef")
    assert bad and text.startswith("abc") and text.endswith("def")
    assert decode_line(b"\x00ALL\x00 BLOCKS") == ("ALL BLOCKS", False)


def test_file_source_plain_and_gzip(tmp_path: Path) -> None:
    data = b"first\r\nsecond\rthird\n"
    plain = tmp_path / "a.log"
    plain.write_bytes(data)
    packed = tmp_path / "a.log.gz"
    packed.write_bytes(gzip.compress(data))
    assert list(FileSource(plain)) == [b"first\r\n", b"second\r", b"third\n"]
    assert list(FileSource(packed)) == [b"first\r\n", b"second\r", b"third\n"]


def test_file_source_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        FileSource(tmp_path / "missing.log")
    with pytest.raises(InputError, match="directory"):
        FileSource(tmp_path)


def test_truncated_gzip_ends_quietly(tmp_path: Path) -> None:
    packed = gzip.compress(b"line one\nline two\n" * 1000)
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    lines = list(FileSource(path))   # no exception
    assert all(isinstance(x, bytes) for x in lines)
