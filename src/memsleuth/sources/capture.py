"""Raw capture to disk: every received byte, written before anything else looks at it.

Why first and unbuffered: the capture is the evidence. If the decoder, the terminal, the
USB cable or the device dies, what was received must already be on disk, so each chunk is
written and flushed as it arrives. Rotation (``rotate_bytes``) cuts files at a line boundary
when it can, so every segment stays a parseable log; the segments concatenated are exactly
the byte stream received.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import BinaryIO


class CaptureWriter:
    """Append-only raw log with size-based rotation into numbered segments."""

    def __init__(
        self,
        log_dir: str | os.PathLike[str],
        *,
        prefix: str = "monitor",
        rotate_bytes: int | None = None,
        stamp: str | None = None,
    ) -> None:
        self.dir = Path(log_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.rotate_bytes = rotate_bytes if rotate_bytes and rotate_bytes > 0 else None
        self.stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
        self.files: list[Path] = []
        self.bytes_written = 0
        self._size = 0
        self._at_bol = True
        self._fh: BinaryIO | None = None
        self._open_next()

    @property
    def path(self) -> Path:
        """The segment being written now."""
        return self.files[-1]

    def _name(self, index: int) -> Path:
        base = f"{self.prefix}-{self.stamp}"
        name = f"{base}.log" if index == 0 else f"{base}.{index}.log"
        path = self.dir / name
        n = 1
        while path.exists():  # never overwrite an earlier capture
            suffix = ".log" if index == 0 else f".{index}.log"
            path = self.dir / f"{base}-{n}{suffix}"
            n += 1
        return path

    def _open_next(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        path = self._name(len(self.files))
        self._fh = open(path, "xb", buffering=0)  # noqa: SIM115 - lives as long as the writer
        self.files.append(path)
        self._size = 0

    def write(self, chunk: bytes) -> None:
        """Write one received chunk now (rotating first if it would overflow the segment)."""
        if not chunk or self._fh is None:
            return
        limit = self.rotate_bytes
        while limit is not None and self._size + len(chunk) > limit:
            room = max(limit - self._size, 0)
            cut = chunk.rfind(b"\n", 0, room)
            if cut < 0:
                if self._at_bol and self._size > 0:
                    self._open_next()  # nothing fits: start the next segment on this line
                    continue
                cut = chunk.find(b"\n")  # finish the current line here (overshoot)
                if cut < 0 or cut == len(chunk) - 1:
                    break
            head, chunk = chunk[: cut + 1], chunk[cut + 1:]
            self._raw_write(head)
            self._open_next()
        if chunk:
            self._raw_write(chunk)

    def _raw_write(self, data: bytes) -> None:
        assert self._fh is not None
        view = memoryview(data)
        while view:
            n = self._fh.write(view)
            view = view[n or 0:]
        self._size += len(data)
        self._at_bol = data.endswith(b"\n")
        self.bytes_written += len(data)

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
