"""Bytes to lines: the part every source (file, serial, process) shares.

Device output is not well-formed text: line endings mix ``\\r\\n``, ``\\n`` and lone ``\\r``,
UART noise produces invalid UTF-8 and NUL bytes, and a stuck line can be arbitrarily long.
Splitting works on raw chunks with bounded buffers so a source never holds more than one
chunk plus one (capped) line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_EOL = re.compile(rb"\r\n|\n|\r")

#: A line longer than this is cut into pieces (keeps memory flat on binary garbage).
MAX_LINE_BYTES = 1 << 20


def split_lines(chunks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Yield raw lines (line ending included) from a stream of byte chunks.

    A ``\\r`` at the very end of a chunk is held back: the next chunk may start with ``\\n``.
    """
    buf = b""
    for chunk in chunks:
        if not chunk:
            continue
        buf = buf + chunk if buf else chunk
        start = 0
        for m in _EOL.finditer(buf):
            if m.end() == len(buf) and m.group() == b"\r":
                break  # maybe half of a \r\n split across chunks
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


def strip_eol(raw: bytes) -> bytes:
    """Drop the line ending of a raw line."""
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith((b"\n", b"\r")):
        return raw[:-1]
    return raw


def decode_line(raw: bytes) -> tuple[str, bool]:
    """Decode one line as UTF-8; return the text and whether bytes had to be replaced.

    NUL bytes (UART idle noise, zero-filled flash logs) are dropped before decoding.
    """
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"")
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True
