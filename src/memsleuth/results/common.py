"""What every verb's document shares: the envelope, the ELF check, a source location; and
the one serializer that turns any result tree into its JSON value (``to_json``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeVar

T = TypeVar("T")

#: Bump when a JSON field changes meaning or disappears (adding fields is compatible).
#: 2: census rows' `owner` is the raw owner (`site_address` the blamed one);
#: 3: a trend with too few points has `warmup` and `evidence` null (were {"points": 0} and
#:    {"reason": ...}; `reason` says why); `observed_failure` and `alloc_failures.first`
#:    always carry `total`, `largest_free_block`, `explanation`, `cause` (null when unknown)
SCHEMA_VERSION = 3


class Envelope(TypedDict):
    """Every JSON document starts with these two keys."""

    schema: str         # memsleuth.<verb>/<SCHEMA_VERSION>
    memsleuth: str      # the tool version that wrote it


#: ``unknown``: nothing to check (no owner address, no PC).
ElfVerdict = Literal["ok", "suspect", "mismatch", "unknown"]


class Document:
    """Marks a verb's whole ``--json`` document: the serializer's caller puts the envelope
    (``schema``, ``memsleuth``) first, and the schema requires it."""

    __slots__ = ()


def omitted(default: Any = None) -> Any:
    """A field the JSON leaves out while it is None (the key appears only when it applies)."""
    return dataclasses.field(default=default, metadata={"omit_none": True})


def extend(cls: type[T], base: Any, **more: Any) -> T:
    """``cls`` (a subclass of ``base``'s type, e.g. a verb's document over its analysis
    result) made of ``base``'s fields and ``more``."""
    return cls(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, **more)


def to_json(value: Any) -> Any:
    """The JSON value of a result tree: a dataclass becomes an object (its fields in order, an
    ``omitted`` field left out while None), tuples and sets become lists, paths strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = to_json(item)
        return out
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LogBuildId:
    """A build id the device printed (``[MSBUILD]`` GNU build-id, ESP-IDF ELF SHA-256)."""

    kind: str
    value: str
    line: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BuildIdentity:
    """The device's own word on which build it runs, against the ELF's ids."""

    status: Literal["match", "mismatch", "unverified"]
    reason: str
    log_ids: tuple[LogBuildId, ...]
    elf_build_id: str | None
    elf_sha256: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ElfMatch:
    """Does the ELF fit the log? The verdict and why, with the counts behind it (the
    symbolizer's return-address check; ``total``, ``in_code`` and ``after_call`` are left out
    when there was no address to check), and the printed build id's word when an ELF was
    given (``identity``, ``verified``)."""

    verdict: ElfVerdict
    reason: str
    total: int | None = omitted()
    in_code: int | None = omitted()
    checked: int | None = omitted()
    after_call: int | None = omitted()
    identity: BuildIdentity | None = omitted()
    verified: bool | None = omitted()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CrashElfMatch(ElfMatch):
    """Does the ELF fit one crash dump? Its architecture, then the PC and return addresses."""

    dump_arch: str | None
    elf_arch: str | None
    pc: int | None
    pc_in_code: bool | None
    returns: int
    returns_in_code: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InlineFrame:
    """One frame of an inline chain (innermost first)."""

    function: str | None
    file: str | None
    line: int | None


class _CycleSourceOptional(TypedDict, total=False):
    count: int                  # detected: lines of that family in the scanned head
    scanned_lines: int


class CycleSource(_CycleSourceOptional):
    """Where the cycle markers come from: detected on the log's head, or --cycle-pattern."""

    how: Literal["detected", "option", "default"]
    template: str
    pattern: str
