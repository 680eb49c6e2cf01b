"""Bytes to lines: the part every source (file, serial, process) shares.

Device output is not well-formed text: line endings mix ``\\r\\n``, ``\\n\\r`` (some UART
drivers), ``\\n`` and lone ``\\r``, UART noise produces invalid UTF-8 and NUL bytes, and a stuck
line can be arbitrarily long. Each of ``\\r\\n``, ``\\n\\r``, ``\\n`` and ``\\r`` is one line end,
read left to right, so line N is the line an editor shows as N.
Splitting works on raw chunks with bounded buffers so a source never holds more than one
chunk plus one (capped) line.

Two views of the same split: :func:`split_lines` yields raw lines one by one (the live
monitor's rule, see ``memsleuth.live.assembler``); :func:`decode_lines` yields whole chunks
of decoded lines, for the parser, because per-line Python work is what limits reading a
multi-gigabyte log; :func:`decode_texts` gives the same lines as one ``\\n``-terminated
string per chunk (the scanning fast path, ``memsleuth.parse.scan``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

#: A line longer than this is cut into pieces (keeps memory flat on binary garbage).
MAX_LINE_BYTES = 1 << 20


#: One line end: tried left to right, a two-byte pair before a single byte.
_EOL = re.compile(rb"\r\n|\n\r|\r|\n")
_EOL_TEXT = re.compile("\r\n|\n\r|\r")


class TextBatch(NamedTuple):
    """Consecutive lines decoded together as one string, every line ended by ``\\n``."""

    text: str          # line endings normalised to "\n", NUL bytes removed
    nbytes: int        # raw bytes these lines took, line endings included
    bad: int           # lines that were not valid UTF-8 (decoded with replacement)


class LineBatch(NamedTuple):
    """Consecutive lines decoded together, with what the parser counts about them."""

    lines: list[str]   # decoded text, line endings and NUL bytes removed
    nbytes: int        # raw bytes these lines took, line endings included
    bad: int           # lines that were not valid UTF-8 (decoded with replacement)


def split_lines(chunks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Yield raw lines (line ending included) from a stream of byte chunks.

    A ``\\r`` at the very end of a chunk is held back: the next chunk may start with ``\\n``.
    """
    for block in _blocks(chunks, max_line):
        yield from _lines_of(block, max_line)


def decode_lines(chunks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[LineBatch]:
    """The lines of :func:`split_lines`, decoded by :func:`decode_line`, a chunk at a time.

    Same lines, same count of bad lines; but one ``decode`` and one ``split`` per chunk
    instead of a regex match, a slice and a decode per line.
    """
    for batch in decode_texts(chunks, max_line):
        lines = batch.text.split("\n")
        lines.pop()     # the empty string after the final "\n"
        yield LineBatch(lines, batch.nbytes, batch.bad)


def decode_texts(chunks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[TextBatch]:
    """The lines of :func:`split_lines`, a chunk at a time, as one ``\\n``-ended string."""
    splitter = LineSplitter(max_line)
    for chunk in chunks:
        for block in splitter.views(chunk):
            yield _decode_block(block, max_line)
    rest = splitter.flush()
    if rest:
        yield _decode_block(rest, max_line)


def strip_eol(raw: bytes) -> bytes:
    """Drop the line ending of a raw line."""
    if raw.endswith((b"\r\n", b"\n\r")):
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


# -- the shared splitting rule ----------------------------------------------------------------
class LineSplitter:
    """The splitting rule in push form: feed byte chunks as they arrive, get whole lines.

    File reading pulls through it (:func:`split_lines`, :func:`decode_lines`) and the live
    monitor pushes through it, so line N of a capture is line N for every verb run on the
    file afterwards.
    """

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.pending = b""      # the unfinished line (a prompt, or a line still arriving)

    def views(self, chunk: bytes) -> list[bytes | memoryview]:
        """:meth:`blocks`, the first of them as a view of the buffer when it is most of it
        (no copy of a chunk's worth of bytes only to decode it once)."""
        if not chunk:
            return []
        buf = self.pending + chunk if self.pending else chunk
        end = _complete_end(buf)
        if not end or len(buf) - end > self.max_line:
            self.pending = b""          # (the rare cases: blocks() as it is)
            return self.blocks(buf)
        self.pending = buf[end:]
        return [memoryview(buf)[:end] if end < len(buf) else buf]

    def blocks(self, chunk: bytes) -> list[bytes]:
        """Regroup chunks into blocks that each hold whole lines only.

        A block ends with a line ending, except the pieces of an over-long unfinished line
        (cut at ``max_line`` when a chunk ends, which bounds the buffer). Splitting a block
        by itself gives exactly the lines of the stream.
        """
        if not chunk:
            return []
        buf = self.pending + chunk if self.pending else chunk
        out: list[bytes] = []
        end = _complete_end(buf)
        if end:
            out.append(buf[:end])
            buf = buf[end:]
        while len(buf) > self.max_line:
            out.append(buf[:self.max_line])
            buf = buf[self.max_line:]
        self.pending = buf
        return out

    def lines(self, chunk: bytes) -> list[bytes]:
        """The whole raw lines (line ending included) this chunk completes."""
        return [line for block in self.blocks(chunk) for line in _lines_of(block, self.max_line)]

    def flush(self) -> bytes:
        """End of stream: the unfinished line, now the last one (empty if none)."""
        rest, self.pending = self.pending, b""
        return rest


def _blocks(chunks: Iterable[bytes], max_line: int) -> Iterator[bytes]:
    splitter = LineSplitter(max_line)
    for chunk in chunks:
        yield from splitter.blocks(chunk)
    rest = splitter.flush()
    if rest:
        yield rest


def _complete_end(buf: bytes) -> int:
    """Offset just past the last line ending known to be complete (0 if none).

    A lone ``\\r`` or ``\\n`` at the very end may be the first half of a ``\\r\\n`` or
    ``\\n\\r`` whose second byte is still to come: its line is held back.
    """
    end = len(buf)
    run = end
    while run > 0 and buf[run - 1] in b"\r\n":
        run -= 1
    stop = end
    if run < end:
        # Pair the trailing run of line-end bytes from its start, as the splitter will.
        i = run
        while i < end:
            pair = i + 1 < end and buf[i] != buf[i + 1]
            if not pair and i == end - 1:
                stop = end - 1
            i += 2 if pair else 1
        if stop == end:
            return end
    return max(buf.rfind(b"\n", 0, stop), buf.rfind(b"\r", 0, stop)) + 1


def _raw_lines(block: bytes) -> list[bytes]:
    """A block's raw lines, line endings kept."""
    if b"\n\r" not in block:   # bytes.splitlines knows exactly \r\n, \n and \r
        return block.splitlines(keepends=True)
    out: list[bytes] = []
    start = 0
    for m in _EOL.finditer(block):
        out.append(block[start:m.end()])
        start = m.end()
    if start < len(block):
        out.append(block[start:])
    return out


def _lines_of(block: bytes, max_line: int) -> list[bytes]:
    """A block's raw lines (see :func:`_raw_lines`), over-long ones cut into pieces."""
    lines = _raw_lines(block)
    if len(block) <= max_line:
        return lines       # no line can be too long: the common case, no per-line check
    out: list[bytes] = []
    for line in lines:
        while len(strip_eol(line)) > max_line:
            out.append(line[:max_line])
            line = line[max_line:]
        out.append(line)
    return out


def _decode_block(block: bytes | memoryview, max_line: int) -> TextBatch:
    """Decode a block in one go; fall back to line by line only to count bad lines exactly."""
    if len(block) > max_line:
        return _decode_each(_lines_of(bytes(block), max_line), len(block))
    try:
        text = str(block, "utf-8")
    except UnicodeDecodeError:   # (a NUL inside a UTF-8 sequence lands here too)
        return _decode_each(_lines_of(bytes(block), max_line), len(block))
    if "\r" in text:   # str.splitlines knows more line endings than we do (\x0b, \x85, ...)
        if "\n\r" in text:
            text = _EOL_TEXT.sub("\n", text)
        else:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:  # only now: dropped earlier, '\r\x00\n' would become one line ending
        text = text.replace("\x00", "")
    if block[-1] not in (10, 13):      # (a view's items are ints, as bytes' are)
        text += "\n"  # the last line of the stream, without a line ending
    return TextBatch(text, len(block), 0)


def _decode_each(raws: list[bytes], nbytes: int) -> TextBatch:
    lines: list[str] = []
    bad = 0
    for raw in raws:
        text, was_bad = decode_line(strip_eol(raw))
        lines.append(text)
        bad += was_bad
    lines.append("")
    return TextBatch("\n".join(lines), nbytes, bad)
