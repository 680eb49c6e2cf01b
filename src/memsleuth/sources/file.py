"""Log files (plain, gzip, UTF-16) as a stream of raw lines, read in fixed-size chunks.

UTF-16 captures (Windows terminal programs save them) are recognised by their byte-order mark
or, without one, by NUL bytes in every other position, and transcoded to UTF-8 on the fly:
read as bytes they would show twice the lines and NUL noise everywhere.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from memsleuth.errors import InputError
from memsleuth.sources.text import LineBatch, TextBatch, decode_lines, decode_texts, split_lines

CHUNK_BYTES = 1 << 19   # well under MAX_LINE_BYTES: a block is decoded in one go
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 4096


class FileSource:
    """The raw lines of a log file; the file is opened at construction so errors show early.

    Gzip files (by magic bytes, not by name) are decompressed on the fly; UTF-16 text is
    transcoded to UTF-8 (``encoding`` says which was found).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: BinaryIO | None = _open(self.path)
        self.encoding = _sniff(self._fh)
        self.size = _size(self.path)
        #: raw bytes of the file read so far (compressed bytes for gzip): for progress
        self.consumed = 0

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

    def texts(self) -> Iterator[TextBatch]:
        """The same lines again, one ``\\n``-ended string per chunk (the scanning fast path)."""
        fh = self._fh
        if fh is None:
            return
        try:
            yield from decode_texts(self._chunks(fh))
        finally:
            self.close()

    def _chunks(self, fh: BinaryIO) -> Iterator[bytes]:
        raw = iter(lambda: _read(fh, self.path), b"")
        counted = self._count(fh, raw)
        if self.encoding in ("utf-16-le", "utf-16-be"):
            return _transcode(counted, self.encoding)
        return counted

    def _count(self, fh: BinaryIO, chunks: Iterator[bytes]) -> Iterator[bytes]:
        raw = getattr(fh, "fileobj", None)   # gzip: progress in compressed bytes
        for chunk in chunks:
            try:
                self.consumed = raw.tell() if raw is not None else self.consumed + len(chunk)
            except (OSError, ValueError):
                self.consumed += len(chunk)
            yield chunk

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
        import gzip  # here, not at the top: most logs are plain, and start-up counts
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh


def _sniff(fh: BinaryIO) -> str:
    """``utf-16-le`` / ``utf-16-be`` for UTF-16 text, else ``utf-8`` (decoded leniently)."""
    try:
        head = fh.peek(_SNIFF_BYTES)[:_SNIFF_BYTES] if hasattr(fh, "peek") else b""
    except (OSError, EOFError):   # gzip.BadGzipFile is an OSError
        return "utf-8"
    return sniff_encoding(head)


def sniff_encoding(head: bytes) -> str:
    """The encoding of a log from its first bytes: a UTF-16 byte-order mark, or ASCII text
    in UTF-16 (a NUL in nearly every second byte and almost none in the others)."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    pairs = len(head) // 2
    if pairs < 8:
        return "utf-8"
    even = head[0:pairs * 2:2].count(0)
    odd = head[1:pairs * 2:2].count(0)
    if odd >= 0.9 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.9 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return "utf-8"


def _transcode(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """UTF-16 chunks to UTF-8 chunks; a byte-order mark is dropped, bad units replaced."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    first = True
    for chunk in chunks:
        text = decoder.decode(chunk)
        if first and text.startswith("\ufeff"):
            text = text[1:]
        first = first and not text
        if text:
            yield text.encode("utf-8", "surrogatepass")
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest.encode("utf-8", "surrogatepass")


def _read(fh: BinaryIO, path: Path) -> bytes:
    """Read one chunk; a corrupt gzip tail ends the stream instead of raising mid-parse."""
    try:
        return fh.read(CHUNK_BYTES)
    except (OSError, EOFError):   # gzip.BadGzipFile is an OSError
        return b""
