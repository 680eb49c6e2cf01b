"""Raw byte chunks to raw lines, incrementally (push model for the live loop).

The splitting rule is ``sources.text.LineSplitter``'s, the one file reading uses, so line N
here is line N for every file-based verb run on the capture afterwards.
"""

from __future__ import annotations

from memsleuth.sources.text import MAX_LINE_BYTES, LineSplitter


class LineAssembler:
    """Feed chunks, get complete raw lines (line ending included); counts them."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._splitter = LineSplitter(max_line)
        self.lines = 0

    @property
    def pending(self) -> bytes:
        """The unfinished line (a prompt, or a line still arriving)."""
        return self._splitter.pending

    def feed(self, chunk: bytes) -> list[bytes]:
        out = self._splitter.lines(chunk)
        self.lines += len(out)
        return out

    def flush(self) -> list[bytes]:
        """End of stream: the unfinished line becomes the last line."""
        rest = self._splitter.flush()
        if not rest:
            return []
        self.lines += 1
        return [rest]
