"""On-disk cache of symbolized addresses, one file per ELF content.

The file name is ``<build-id or "nobuildid">-<sha256>.symcache``: a rebuilt or patched ELF
gets a new name, so a stale entry can never be served. Files are ``marshal`` dumps of
plain tuples (fast to load, no code execution), written to a temp file and renamed into
place. Any unreadable file is treated as empty: a cache can only save time, never fail.

Two tables: the DWARF frames of each lookup address, and the whole answer (``Location``
fields) for each logged address and kind, so a warm run rebuilds answers without looking
anything up in the ELF (that per-address work was most of a warm run of 10,000 addresses).
``marshal`` writes a repeat of one object as a reference, and the symbolizer hands both
tables the same objects (one frame chain per lookup, each file path and function name
made once per unit), so the file holds each of them about once (10,000 addresses: 1.07 MB,
1.5 MB if the chains were copies; a pass making equal strings one object would save another
3 % of the file and ~1 ms of a warm load, and cost ~40 ms of every cold run).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import tempfile
from pathlib import Path

FORMAT = 2

#: lookup address -> frames as (function, file, line, column) tuples, innermost first
Entries = dict[int, tuple[tuple[str | None, str | None, int | None, int | None], ...]]
#: (logged address, kind) -> the Location's fields after ``address`` (symbolizer.py)
Locations = dict[tuple[int, str], tuple]


class SymbolCache:
    """Per-address results for one ELF content, loaded once and saved when grown."""

    def __init__(self, directory: Path, build_id: str | None, content_hash: str) -> None:
        self.directory = Path(directory)
        self.key = f"{build_id or 'nobuildid'}-{content_hash}"
        self.path = self.directory / f"{self.key}.symcache"
        self.entries: Entries = {}
        self.locations: Locations = {}
        self.loaded_from_disk = False
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                blob = marshal.loads(f.read())   # marshal.load(f) reads in small pieces: 10x slower
        except (OSError, EOFError, ValueError, TypeError):
            return
        if (isinstance(blob, tuple) and len(blob) == 4 and blob[0] == FORMAT
                and blob[1] == self.key and isinstance(blob[2], dict)
                and isinstance(blob[3], dict)):
            self.entries, self.locations = blob[2], blob[3]
            self.loaded_from_disk = True

    def get(self, lookup: int):
        return self.entries.get(lookup)

    def put(self, lookup: int, frames) -> None:
        self.entries[lookup] = frames
        self._dirty = True

    def put_many(self, entries: Entries) -> None:
        if entries:
            self.entries.update(entries)
            self._dirty = True

    def put_location(self, key: tuple[int, str], fields: tuple) -> None:
        self.locations[key] = fields
        self._dirty = True

    def save(self) -> bool:
        """Write atomically if anything was added; False (silently) if that failed."""
        if not self._dirty:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".symcache", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(marshal.dumps((FORMAT, self.key, self.entries, self.locations)))
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, ValueError):
            return False
        self._dirty = False
        return True
