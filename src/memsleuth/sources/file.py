"""Log files (plain or gzip) as a stream of raw lines, read in fixed-size chunks."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from memsleuth.errors import InputError
from memsleuth.sources.text import LineBatch, decode_lines, split_lines

CHUNK_BYTES = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"


class FileSource:
    """The raw lines of a log file; the file is opened at construction so errors show early.

    Gzip files (by magic bytes, not by name) are decompressed on the fly.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: BinaryIO | None = _open(self.path)

    def __iter__(self) -> Iterator[bytes]:
        fh = self._fh
        if fh is None:
            return
        try:
            yield from split_lines(self._chunks(fh))
        finally:
            self.close()

    def batches(self) -> Iterator[LineBatch]:
        """The same lines decoded a chunk at a time (what the parser reads: far fewer steps)."""
        fh = self._fh
        if fh is None:
            return
        try:
            yield from decode_lines(self._chunks(fh))
        finally:
            self.close()

    def _chunks(self, fh: BinaryIO) -> Iterator[bytes]:
        return iter(lambda: _read(fh, self.path), b"")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(path: Path) -> BinaryIO:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a log file")
    try:
        fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by FileSource
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        magic = fh.read(2)
        fh.seek(0)
    except OSError as exc:
        fh.close()
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if magic == _GZIP_MAGIC:
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh


def _read(fh: BinaryIO, path: Path) -> bytes:
    """Read one chunk; a corrupt gzip tail ends the stream instead of raising mid-parse."""
    try:
        return fh.read(CHUNK_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile):
        return b""
