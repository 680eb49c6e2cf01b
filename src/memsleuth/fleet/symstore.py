"""A symbol store: ELFs found by build (like a debuginfod server or a crash service's symbols).

``--symbols DIR`` holds the firmware ELFs of every build, in any layout. A build is found by
the identity the log printed (GNU build-id note, or the SHA-256 of the ELF file that ESP-IDF
prints, a prefix of it), else by name: ``DIR/<build>.elf`` or any ``<build>.elf`` /
``<build>`` below DIR. Each worker opens an ELF once and symbolizes through the existing
symbolizer and its on-disk cache, so each distinct address of a build is resolved once.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memsleuth.symbols.elf import ElfImage

_HEX = frozenset("0123456789abcdef")
MAX_ELF_BYTES = 1 << 30


@dataclass
class SymbolStore:
    root: Path | None
    by_id: dict[str, Path] = field(default_factory=dict)
    by_sha: dict[str, Path] = field(default_factory=dict)
    by_name: dict[str, Path] = field(default_factory=dict)
    _open: dict[Path, Any] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: Path | None) -> SymbolStore:
        store = cls(root)
        if root is None:
            return store
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            try:
                if path.stat().st_size > MAX_ELF_BYTES:
                    continue
                with path.open("rb") as fh:
                    if fh.read(4) != b"\x7fELF":
                        continue
                image = ElfImage(path)
            except Exception:  # noqa: BLE001 - a broken file in the store is skipped
                continue
            if image.build_id:
                store.by_id.setdefault(image.build_id.lower(), path)
            store.by_sha.setdefault(hashlib.sha256(image.data).hexdigest(), path)
            name = path.name[:-4] if path.name.endswith(".elf") else path.name
            store.by_name.setdefault(name, path)
        return store

    def find(self, build: str | None) -> Path | None:
        """The ELF of a build, or None."""
        if not build:
            return None
        key = build.lower()
        if key in self.by_id:
            return self.by_id[key]
        if len(key) >= 8 and set(key) <= _HEX:
            for sha, path in self.by_sha.items():
                if sha.startswith(key):
                    return path
        return self.by_name.get(build)

    def symbolizer(self, elf: Path) -> Any:
        """The Symbolizer of an ELF, opened once per process."""
        sym = self._open.get(elf)
        if sym is None:
            from memsleuth.symbols import Symbolizer

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sym = self._open[elf] = Symbolizer.open(elf)
        return sym
