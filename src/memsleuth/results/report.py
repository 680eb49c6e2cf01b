"""`report`: what was written (the HTML page itself is not part of the JSON contract)."""

from __future__ import annotations

from dataclasses import dataclass

from memsleuth.results.common import Document


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOutput(Document):
    """`memsleuth report --json`: the files written and why the page may be partial."""

    log: str
    elf: str | None
    output: str
    bytes: int
    folded: str | None
    stacks: int | None
    partial: bool
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetReportOutput(Document):
    """`memsleuth report STORE --json`: the fleet page written for a store (``problems``: its
    partial and failed logs)."""

    store: str
    output: str
    bytes: int
    problems: int
