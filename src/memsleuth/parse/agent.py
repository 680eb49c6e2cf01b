"""Kernel-object trace lines: the device agent's ``[MSOBJ]`` format and user patterns.

The ``[MSOBJ]`` format is the contract in docs/object-trace.md. Other firmware prints its own
create/delete lines; for those the user supplies regexes in a TOML file (named groups ``op``,
``kind``, ``handle``, ``caller``, optional ``seq``/``name``)::

    [[objects.pattern]]
    regex = 'tmr (?P<op>new|del) (?P<handle>[0-9a-f]+) by (?P<caller>[0-9a-f]+)'
    kind = "timer"              # when the regex has no kind group
    create = ["new"]            # op words meaning create (default: create, new, alloc, init)
    delete = ["del"]            # op words meaning delete (default: delete, del, free, destroy)
    base = 16                   # base of handle/caller without a 0x prefix (default 16)

The registry (``memsleuth.parse.registry``) calls ``line_readers(patterns)`` with the
patterns a verb loaded by ``load_patterns(path)`` and passed to ``parse_file``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memsleuth.errors import InputError, UsageError
from memsleuth.parse.lazyre import lazy
from memsleuth.records import AgentNotice, BuildId, ObjectEvent

MSOBJ = lazy(
    r"\[MSOBJ\] (create|delete) ([a-z][a-z0-9_]{0,15}) "
    r"0x([0-9a-f]{8}|[0-9a-f]{16}) caller 0x([0-9a-f]{8}|[0-9a-f]{16}) "
    r"seq (\d+)(?: name ([!-~]{1,31}))?\r?$"
)

DEFAULT_CREATE = ("create", "new", "alloc", "init", "add")
DEFAULT_DELETE = ("delete", "del", "free", "destroy", "deinit", "remove")


class MsobjReader:
    """Reads ``[MSOBJ]`` lines; counts lines that carry the tag but do not parse (damaged)."""

    name = "msobj"

    def __init__(self) -> None:
        self.damaged = 0
        self.damaged_first_line: int | None = None

    def read(self, text: str, lineno: int, ts: float | None) -> ObjectEvent | None:
        if "[MSOBJ]" not in text:
            return None
        m = MSOBJ.search(text)
        if m is None:
            self.damaged += 1
            if self.damaged_first_line is None:
                self.damaged_first_line = lineno
            return None
        op, kind, handle, caller, seq, name = m.groups()
        # Positional on purpose: this is the log's commonest record, and keyword arguments
        # cost twice as much here. Field order: line, op, kind, handle, caller, seq, name, ts
        # (pinned by tests/parse/test_parse_speed_records.py).
        return ObjectEvent(lineno, op, kind, int(handle, 16),  # type: ignore[arg-type]
                           int(caller, 16), int(seq), name, ts)


MSBUILD = lazy(r"\[MSBUILD\] ([0-9a-fA-F]{8,128})\s*$")


class BuildIdReader:
    """Reads the agent's ``[MSBUILD] <hex>`` line (device/memsleuth_build_id.c): the GNU
    build-id of the firmware that printed the log, compared with ``--elf`` by every verb."""

    name = "msbuild"
    #: the fast path (parse/scan.py) hands it only lines holding one of these
    anchors = ("[msbuild]",)

    def __init__(self) -> None:
        self.damaged = 0

    def read(self, text: str, lineno: int, ts: float | None) -> BuildId | None:
        if "[MSBUILD]" not in text:
            return None
        m = MSBUILD.search(text)
        if m is None or len(m.group(1)) % 2:
            self.damaged += 1   # a torn id identifies nothing: never half-compare it
            return None
        return BuildId(lineno, "gnu-build-id", m.group(1).lower(), ts)


_NOTICE_PREINIT = lazy(
    r"\[MSAGENT\] WARNING (\d+) allocation\(s\) before init, first caller 0x([0-9a-fA-F]+)"
    r": (.*?)\s*$")
_NOTICE_FULL = lazy(
    r"\[MSAGENT\] WARNING side table full \((\d+) entries\).*?first caller 0x([0-9a-fA-F]+)")
_NOTICE_STATUS = lazy(
    r"\[MSAGENT\] side table (\d+)/(\d+) entries, (\d+) bytes tracked, untracked: "
    r"(\d+) before init, (\d+) table full, (\d+) unknown frees")
_NOTICE_BAD_FREE = lazy(r"\[MSAGENT\] bad free by caller 0x([0-9a-fA-F]+)")
_NOTICE_SET_FULL = lazy(r"\[MSAGENT\] WARNING (\w+) set full \((\d+)\)")


class AgentNoticeReader:
    """Reads the agent's ``[MSAGENT]`` lines (docs/object-trace.md, section 6): what its
    record misses, so a dump it could not list whole is never taken for the whole heap."""

    name = "msagent"
    anchors = ("[msagent]",)

    def __init__(self) -> None:
        self.damaged = 0

    def read(self, text: str, lineno: int, ts: float | None) -> AgentNotice | None:
        at = text.find("[MSAGENT]")
        if at < 0:
            return None
        said = text[at + len("[MSAGENT]"):].strip()
        m = _NOTICE_STATUS.search(text, at)
        if m is not None:
            live, _cap, _bytes, pre, full, unknown = (int(g) for g in m.groups())
            return AgentNotice(lineno, "table-status", said, missed=pre + full, tracked=live,
                               unknown_frees=unknown, side_table=True, ts=ts)
        m = _NOTICE_PREINIT.search(text, at)
        if m is not None:
            # heap mode: those allocations failed (NULL); side mode: they worked, untracked
            side = "not tracked" in m.group(3)
            return AgentNotice(lineno, "before-init", said, missed=int(m.group(1)),
                               caller=int(m.group(2), 16), side_table=side, ts=ts)
        m = _NOTICE_FULL.search(text, at)
        if m is not None:
            return AgentNotice(lineno, "table-full", said, caller=int(m.group(2), 16),
                               side_table=True, ts=ts)
        m = _NOTICE_BAD_FREE.search(text, at)
        if m is not None:
            return AgentNotice(lineno, "bad-free", said, caller=int(m.group(1), 16), ts=ts)
        if _NOTICE_SET_FULL.search(text, at) is not None:
            return AgentNotice(lineno, "set-full", said, ts=ts)
        self.damaged += 1           # tagged but torn: counted like a damaged [MSOBJ] line
        return None


@dataclass(slots=True)
class UserPattern:
    """One user-supplied create/delete line pattern (see the module docstring)."""

    regex: re.Pattern[str]
    kind: str | None = None
    create: tuple[str, ...] = DEFAULT_CREATE
    delete: tuple[str, ...] = DEFAULT_DELETE
    base: int = 16
    extra: dict[str, Any] = field(default_factory=dict)


def _to_int(text: str | None, base: int) -> int:
    if not text:
        return 0
    text = text.strip()
    if text.lower().startswith("0x"):
        return int(text, 16)
    return int(text, base)


class PatternReader:
    """Reads object events with a user pattern."""

    name = "objpattern"

    def __init__(self, pattern: UserPattern) -> None:
        self.pattern = pattern
        self.unknown_ops = 0

    def read(self, text: str, lineno: int, ts: float | None) -> ObjectEvent | None:
        p = self.pattern
        m = p.regex.search(text)
        if m is None:
            return None
        groups = m.groupdict()
        word = (groups.get("op") or "").lower()
        if word in p.create:
            op = "create"
        elif word in p.delete:
            op = "delete"
        else:
            self.unknown_ops += 1
            return None
        kind = groups.get("kind") or p.kind or "object"
        try:
            handle = _to_int(groups.get("handle"), p.base)
            caller = _to_int(groups.get("caller"), p.base)
            seq = int(groups["seq"]) if groups.get("seq") else None
        except ValueError:
            self.unknown_ops += 1
            return None
        return ObjectEvent(
            line=lineno, op=op, kind=kind, handle=handle,  # type: ignore[arg-type]
            caller=caller, seq=seq, name=groups.get("name"), ts=ts,
        )




# -- hand-added create/delete prints, recognised without configuration -----------------------

_VERBS_CREATE = ("create", "created", "new", "alloc", "allocated", "init", "add")
_VERBS_DELETE = ("delete", "deleted", "free", "freed", "del", "destroy", "destroyed", "deinit",
                 "remove", "removed")
_VERB = "|".join(sorted(_VERBS_CREATE + _VERBS_DELETE, key=len, reverse=True))
_P = r"0x[0-9a-fA-F]{1,16}|\(nil\)"
_CALLER = rf"(?:[\s,;]+(?:caller|by|from|owner|lr|ra|ret)\s*[=:]?\s*(?P<caller>{_P}))?"
_KIND = r"(?P<kind>[A-Za-z][A-Za-z0-9]{1,23})"
#: ``timer create 0x2000a1c0 caller 0x800123`` (kind, verb, handle, optional caller) and
#: ``create timer 0x...`` (verb first); ``%p`` with or without zero padding, ``(nil)``
AUTO_SHAPES = (
    ("{kind} {op} %p", lazy(
        rf"(?:^|[\s\]:>|])(?:{_KIND}[ _:-]+(?P<op>{_VERB}))\b[\s:=,]*(?:handle\s*[=:]?\s*)?"
        rf"(?P<handle>{_P}){_CALLER}\s*$", re.IGNORECASE)),
    ("{op} {kind} %p", lazy(
        rf"(?:^|[\s\]:>|])(?P<op>{_VERB})[ _:-]+{_KIND}\b[\s:=,]*(?:handle\s*[=:]?\s*)?"
        rf"(?P<handle>{_P}){_CALLER}\s*$", re.IGNORECASE)),
)
#: words before a verb that name the heap itself, not a kernel object (``heap free 0x...``)
_NOT_KINDS = frozenset({"heap", "mem", "memory", "malloc", "calloc", "realloc", "block", "blk",
                        "size", "bytes", "chunk", "region", "page", "ptr", "pointer", "addr",
                        "address", "the", "and", "then", "to", "of"})


class AutoObjectReader:
    """Create/delete prints of the common hand-added shapes (docs/object-trace.md), learned
    without a TOML pattern; ``shapes`` counts the lines read per learned template."""

    name = "objauto"

    def __init__(self) -> None:
        self.shapes: dict[str, int] = {}
        self.nil = 0            # creates that printed (nil): a failed create, not an object

    def read(self, text: str, lineno: int, ts: float | None) -> ObjectEvent | None:
        if "0x" not in text and "(nil)" not in text:
            return None
        for form, regex in AUTO_SHAPES:
            m = regex.search(text)
            if m is None:
                continue
            kind = m["kind"].lower()
            if kind in _NOT_KINDS or kind in _VERBS_CREATE or kind in _VERBS_DELETE:
                continue
            word = m["op"].lower()
            op = "create" if word in _VERBS_CREATE else "delete"
            handle = _ptr_or_zero(m["handle"])
            if handle == 0:
                self.nil += 1
                return None
            caller = _ptr_or_zero(m["caller"]) if m["caller"] else 0
            template = (form.replace("{kind}", kind).replace("{op}", word)
                        + (" caller %p" if m["caller"] else ""))
            self.shapes[template] = self.shapes.get(template, 0) + 1
            return ObjectEvent(lineno, op, kind, handle, caller, None, None,  # type: ignore[arg-type]
                               ts)
        return None


def _ptr_or_zero(text: str | None) -> int:
    if not text or text.startswith("("):
        return 0
    return int(text, 16)


def learned_shapes(readers: Iterable[Any]) -> dict[str, int]:
    """Object-trace templates learned without configuration, with the lines each read."""
    out: dict[str, int] = {}
    for reader in readers:
        for shape, n in getattr(reader, "shapes", {}).items():
            out[shape] = out.get(shape, 0) + n
    return out


def load_toml(path: Path) -> dict[str, Any]:
    """tomllib on 3.11+, tomli when installed, else a tiny parser for our own subset."""
    data = path.read_bytes()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return _mini_toml(data.decode("utf-8"))
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


def _mini_toml(text: str) -> dict[str, Any]:
    """Enough TOML for the pattern file: [table], [[array.of.tables]], key = str|int|[str]."""
    root: dict[str, Any] = {}
    current: dict[str, Any] = root
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            node = root
            parts = line.strip("[] ").split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            current = {}
            node.setdefault(parts[-1], []).append(current)
        elif line.startswith("["):
            node = root
            for part in line.strip("[] ").split("."):
                node = node.setdefault(part, {})
            current = node
        elif "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = _mini_value(value.strip())
        else:
            raise InputError(f"cannot read config line: {raw!r}")
    return root


def _mini_value(v: str) -> Any:
    if v.startswith("[") and v.endswith("]"):
        return [_mini_value(x.strip()) for x in v[1:-1].split(",") if x.strip()]
    if v[:1] == "'" and v[-1:] == "'":
        return v[1:-1]
    if v[:1] == '"' and v[-1:] == '"':
        return bytes(v[1:-1], "utf-8").decode("unicode_escape")
    if v in ("true", "false"):
        return v == "true"
    return int(v, 0)


def patterns_from_config(config: dict[str, Any]) -> list[UserPattern]:
    """The ``[[objects.pattern]]`` entries of a parsed config, validated."""
    entries = config.get("objects", {}).get("pattern", [])
    if isinstance(entries, dict):
        entries = [entries]
    out: list[UserPattern] = []
    for i, entry in enumerate(entries):
        where = f"objects.pattern[{i}]"
        if "regex" not in entry:
            raise UsageError(f"{where}: 'regex' is required")
        try:
            regex = re.compile(entry["regex"])
        except re.error as exc:
            raise UsageError(f"{where}: bad regex ({exc})") from None
        names = set(regex.groupindex)
        missing = {"op", "handle"} - names
        if missing:
            raise UsageError(f"{where}: regex needs named groups {sorted(missing)}")
        if "kind" not in names and not entry.get("kind"):
            raise UsageError(f"{where}: no (?P<kind>...) group and no 'kind' key")
        out.append(UserPattern(
            regex=regex,
            kind=entry.get("kind"),
            create=tuple(w.lower() for w in entry.get("create", DEFAULT_CREATE)),
            delete=tuple(w.lower() for w in entry.get("delete", DEFAULT_DELETE)),
            base=int(entry.get("base", 16)),
        ))
    return out


def load_patterns(path: Path | None) -> tuple[UserPattern, ...]:
    """The user's object-trace patterns from a TOML file (none without one)."""
    if path is None:
        return ()
    if not path.exists():
        raise UsageError(f"config not found: {path}")
    return tuple(patterns_from_config(load_toml(path)))


def line_readers(patterns: Sequence[UserPattern] = ()) -> list[Any]:
    """Fresh readers for one parse: ``[MSOBJ]``, one per user pattern, then the common
    hand-added shapes (last: a user pattern wins over a guess)."""
    return [MsobjReader(), *(PatternReader(p) for p in patterns), AutoObjectReader()]


def damaged_counts(readers: Iterable[Any]) -> dict[str, int]:
    """Lines that carried a trace tag but did not parse (e.g. two tasks' output on one line),
    per reader: a trace with holes must say so."""
    out: dict[str, int] = {}
    for reader in readers:
        n = getattr(reader, "damaged", 0) or getattr(reader, "unknown_ops", 0)
        if n:
            out[reader.name] = out.get(reader.name, 0) + n
    return out
