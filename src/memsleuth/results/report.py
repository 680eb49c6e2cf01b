"""`report`: what was written (the HTML page itself is not part of the JSON contract)."""

from memsleuth.results.common import Envelope


class ReportOutput(Envelope):
    """`memsleuth report --json`: the files written and why the page may be partial."""

    log: str
    elf: str | None
    output: str
    bytes: int
    folded: str | None
    stacks: int | None
    partial: bool
    notes: list[str]
