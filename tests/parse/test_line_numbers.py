"""Line numbers are an editor's: ``\\n\\r`` is one line end, UTF-16 logs are decoded."""

from __future__ import annotations

import codecs
import dataclasses
from pathlib import Path

import pytest

from memsleuth.parse import parse_file
from memsleuth.sources import split_lines
from memsleuth.sources.file import FileSource, sniff_encoding

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"


def records(path: Path) -> tuple[list[str], dict]:
    log = parse_file(path)
    out = [repr(r) for r in log]
    stats = dataclasses.asdict(log.stats)
    stats.pop("bytes")          # the encodings differ in size, nothing else may
    return out, stats


def test_lf_cr_is_one_line_end() -> None:
    assert list(split_lines([b"a\n\rb\n\r\n\rc"])) == [b"a\n\r", b"b\n\r", b"\n\r", b"c"]
    # held back at a chunk end: the \r may still come
    assert list(split_lines([b"a\n", b"\rb\n", b"\r"])) == [b"a\n\r", b"b\n\r"]


@pytest.mark.parametrize("eol", [b"\n\r", b"\r\n", b"\r"])
def test_records_carry_editor_line_numbers(tmp_path: Path, eol: bytes) -> None:
    data = LOG.read_bytes()[:200_000].replace(b"\r\n", b"\n")   # QEMU's serial says \r\n
    data = data[:data.rfind(b"\n") + 1]
    other = tmp_path / "other.log"
    other.write_bytes(data.replace(b"\n", eol))
    plain = tmp_path / "plain.log"
    plain.write_bytes(data)
    got, want = records(other), records(plain)
    assert got == want
    # an editor counts \n: the record for "malloc"/"[MSCYCLE] 40" is on the line it shows
    lines = data.split(b"\n")
    marker = next(r for r in got[0] if "index=40," in r)
    n = int(marker.split("line=")[1].split(",")[0])
    assert lines[n - 1] == b"[MSCYCLE] 40"


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", True), ("utf-16-be", True),
                                          ("utf-16-le", False), ("utf-16-be", False)])
def test_utf16_logs_are_decoded(tmp_path: Path, encoding: str, bom: bool) -> None:
    text = LOG.read_text()[:100_000].replace("\r\n", "\n")
    text = text[:text.rfind("\n") + 1].replace("\n", "\r\n")
    wide = tmp_path / "wide.log"
    mark = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) if bom else b""
    wide.write_bytes(mark + text.encode(encoding))
    narrow = tmp_path / "narrow.log"
    narrow.write_bytes(text.encode("utf-8"))
    assert FileSource(wide).encoding == encoding
    got = records(wide)
    assert got == records(narrow)
    assert got[1]["lines"] == text.count("\n") and got[1]["decode_errors"] == 0


def test_sniff_leaves_utf8_and_binary_alone() -> None:
    assert sniff_encoding("héllo wörld\n".encode() * 20) == "utf-8"
    assert sniff_encoding(bytes(range(256)) * 4) == "utf-8"
    assert sniff_encoding(b"\x00" * 64) == "utf-8"
