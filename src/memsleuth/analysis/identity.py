"""Is the --elf the build that printed this log? The device's own word, when it gave one.

The agent prints ``[MSBUILD] <GNU build-id>`` at boot and atop every dump; ESP-IDF prints
``ELF file SHA256: <prefix>``. Another build of the same firmware puts functions a few bytes
elsewhere, so its ELF names the right functions with the wrong lines, or the wrong
functions, with full confidence (issue 10). A printed id settles it; without one only the
address heuristics remain and the match is *unverified*.
"""

from __future__ import annotations

from typing import Any, Literal

from memsleuth.records import BuildId
from memsleuth.results.common import BuildIdentity, LogBuildId

#: distinct ids kept (a capture spanning a few reflashes has a few; more is noise)
MAX_IDS = 16


class IdentityCollector:
    """Streaming hook: the distinct build ids the log printed, first line of each."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], BuildId] = {}

    def record_leaves(self) -> list[dict[type, Any]]:
        """What ``on_record`` acts on (``commands.common.fan_out``)."""
        return [{BuildId: self.on_record}]

    def on_record(self, record: Any) -> None:
        if isinstance(record, BuildId) and len(self.ids) < MAX_IDS:
            self.ids.setdefault((record.kind, record.value.lower()), record)


def _matches(rec: BuildId, elf_build_id: str | None, elf_sha256: str) -> bool | None:
    value = rec.value.lower()
    if rec.kind == "gnu-build-id":
        return elf_build_id is not None and value == elf_build_id.lower()
    if rec.kind == "elf-sha256":
        return len(value) >= 8 and elf_sha256.lower().startswith(value)
    return None


def check_identity(ids: list[BuildId], elf_build_id: str | None, elf_sha256: str
                   ) -> BuildIdentity:
    """Match, mismatch or unverified (no id printed), with the reason and the ids.

    Any printed id that differs is a mismatch (a capture holding another build's output
    cannot be read with this ELF); ids of a kind we do not know are ignored.
    """
    log_ids = tuple(LogBuildId(kind=r.kind, value=r.value.lower(), line=r.line) for r in ids)

    def answer(status: Literal["match", "mismatch", "unverified"], reason: str) -> BuildIdentity:
        return BuildIdentity(status=status, reason=reason, log_ids=log_ids,
                             elf_build_id=elf_build_id, elf_sha256=elf_sha256)

    judged = [(r, _matches(r, elf_build_id, elf_sha256)) for r in ids]
    judged = [(r, ok) for r, ok in judged if ok is not None]
    if not judged:
        return answer("unverified", "the log prints no build id: the ELF match is unverified "
                                    "(address heuristics only)")
    bad = [r for r, ok in judged if not ok]
    if bad:
        r = bad[0]
        elf_side = (f"ELF build-id {elf_build_id or 'none (linked without --build-id)'}"
                    if r.kind == "gnu-build-id" else f"ELF file SHA-256 {elf_sha256[:16]}…")
        return answer("mismatch", f"the ELF is another build: log line {r.line} says {r.kind} "
                                  f"{r.value.lower()}, {elf_side}")
    kinds = sorted({r.kind for r, _ in judged})
    return answer("match", f"build id printed by the device matches the ELF ({', '.join(kinds)})")
