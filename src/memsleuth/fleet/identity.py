"""Which device and which build a log comes from.

The log itself is the best witness (the agent's ``[MSBUILD]`` line, ESP-IDF's ``ELF file
SHA256``: a :class:`memsleuth.records.BuildId`); then the folder layout the farm uses
(``--device-from '{build}/{device}/{date}.log.gz'``); then flags given for the whole batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from memsleuth.errors import UsageError

FIELDS = ("device", "build", "date")


@dataclass(frozen=True, slots=True)
class PathPattern:
    """``{device}/{date}.log``: fields match one path component part (no '/'); ``*`` any."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> PathPattern:
        parts = re.split(r"(\{[a-z_]*\}|\*)", text)
        out, seen = [], set()
        for part in parts:
            if part == "*":
                out.append(r"[^/]*")
            elif part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if name not in FIELDS and name not in ("", "_"):
                    raise UsageError(f"--device-from: unknown field {part} (known: "
                                     + ", ".join("{" + f + "}" for f in FIELDS) + ")")
                if name in seen:
                    raise UsageError(f"--device-from: {part} appears twice")
                seen.add(name)
                out.append(rf"(?P<{name}>[^/]+?)" if name in FIELDS else r"[^/]+?")
            else:
                out.append(re.escape(part))
        return cls(text, re.compile(r"(?:^|/)" + "".join(out) + r"$"))

    def match(self, path: Path) -> dict[str, str]:
        m = self.regex.search(path.as_posix())
        return {k: v for k, v in m.groupdict().items() if v} if m else {}


@dataclass(frozen=True, slots=True)
class Identity:
    device: str | None
    build: str | None
    build_source: str          # "log" | "path" | "flag" | "none"
    date: str | None


def identify(path: Path, printed_build: str | None, pattern: PathPattern | None,
             device_flag: str | None, build_flag: str | None) -> Identity:
    """Device, build and date of one log (the log's own build line wins)."""
    fields = pattern.match(path) if pattern else {}
    device = fields.get("device") or device_flag
    if printed_build:
        build, source = printed_build, "log"
    elif fields.get("build"):
        build, source = fields["build"], "path"
    elif build_flag:
        build, source = build_flag, "flag"
    else:
        build, source = None, "none"
    return Identity(device, build, source, fields.get("date"))
