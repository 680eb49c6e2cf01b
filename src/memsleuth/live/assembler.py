"""Raw byte chunks to raw lines, incrementally (push model for the live loop).

Why not ``sources.text.split_lines``: that one pulls from an iterator, the monitor is pushed
chunks by a polling loop. The rule is the same (``\\r\\n``, ``\\n`` or a lone ``\\r`` ends a
line; a ``\\r`` at the end of a chunk waits for the next chunk; over-long lines are cut), so
line N here is line N for every file-based verb run on the capture afterwards.
"""

from __future__ import annotations

import re

from memsleuth.sources.text import MAX_LINE_BYTES

_EOL = re.compile(rb"\r\n|\n|\r")


class LineAssembler:
    """Feed chunks, get complete raw lines (line ending included)."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._buf = b""
        self.lines = 0

    @property
    def pending(self) -> bytes:
        """The unfinished line (a prompt, or a line still arriving)."""
        return self._buf

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk if self._buf else chunk
        out: list[bytes] = []
        start = 0
        end = len(buf)
        for m in _EOL.finditer(buf):
            if m.end() == end and m.group() == b"\r":
                break  # maybe the first half of \r\n
            out.append(buf[start:m.end()])
            start = m.end()
        buf = buf[start:]
        while len(buf) > self.max_line:
            out.append(buf[: self.max_line])
            buf = buf[self.max_line:]
        self._buf = buf
        self.lines += len(out)
        return out

    def flush(self) -> list[bytes]:
        """End of stream: the unfinished line becomes the last line."""
        if not self._buf:
            return []
        out = [self._buf]
        self._buf = b""
        self.lines += 1
        return out
