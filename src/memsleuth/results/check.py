"""`check`: the leak verdict, with the trend, object balance and growth behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memsleuth.results.common import Document, ElfMatch
from memsleuth.results.diff import Attribution, Growth
from memsleuth.results.objects import Objects
from memsleuth.results.trend import Trend

FindingKind = Literal[
    "steady_leak", "step", "fragmentation", "warmup_plateau", "imbalance", "alloc_failure",
    "steady_growth",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A finding (fails the check) or an observation (does not)."""

    source: Literal["trend", "objects", "growth", "log"]
    kind: FindingKind
    value: float | None
    threshold: float | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictInputs:
    trend: bool
    objects: bool
    growth: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What ``analysis.check.verdict`` returns: exit 0 clean, 1 leak, 3 cannot judge."""

    leak: bool
    judged: bool
    exit_code: Literal[0, 1, 3]
    reason: str
    findings: tuple[Finding, ...]
    observations: tuple[Finding, ...]
    inputs: VerdictInputs


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakReport:
    """What ``analysis.check.leak_report`` returns (also ``analyze``'s ``leak``)."""

    trend: Trend | None
    objects: Objects
    growth: Growth | None
    attribution: Attribution | None
    notes: tuple[str, ...]
    verdict: Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutput(LeakReport, Document):
    """`memsleuth check --json`."""

    log: str
    elf: str | None
    elf_match: ElfMatch | None
