"""`memsleuth analyze`: the first command a user runs: what the log holds and what it means."""

from __future__ import annotations

import sys
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.check import Accumulators
from memsleuth.analysis.crash_context import CrashCollector
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.analysis.summary import require_sections, summarize
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    load_model,
    log_argument,
    objects_options,
    open_symbolizer,
    say_identity_mismatch,
)
from memsleuth.errors import EXIT_PARTIAL
from memsleuth.model import ENDS_ONLY
from memsleuth.parse import agent
from memsleuth.results.analyze import AnalyzeOutput
from memsleuth.results.common import extend


def run_analyze(log: Path, elf: Path | None, top: int, cycle_pattern: str | None = None,
                grace: int = 1, config: Path | None = None) -> tuple[AnalyzeOutput, bool]:
    attributor = Attributor(open_symbolizer(elf))
    acc = Accumulators.create(attributor, grace=grace)
    crashes = CrashCollector(keep=1)
    identity = IdentityCollector()
    model = load_model(log, cycle_pattern=cycle_pattern,
                       hooks=[acc.on_record, crashes, identity.on_record],
                       object_patterns=agent.load_patterns(config), objects="runs",
                       heap_runs=True, series_capacity=ENDS_ONLY)
    require_sections(model, log)
    result, partial = summarize(model, acc, crashes, attributor, top=top, identity=identity)
    return extend(AnalyzeOutput, result, log=str(log), elf=str(elf) if elf else None), partial


def _render(result: AnalyzeOutput) -> None:
    # (imported here: the text report loads rich, which --json never needs)
    from memsleuth.report.analyze_text import render_analyze

    render_analyze(result)


@click.command("analyze")
@log_argument
@elf_option
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Census rows to show.")
@cycle_pattern_option
@objects_options
@json_option
@guarded
def command(log: Path, elf: Path | None, top: int, cycle_pattern: str | None, grace: int,
            config: Path | None, as_json: bool) -> None:
    """Everything at once: what the log holds, heap health, where the memory went."""
    result, partial = run_analyze(log, elf, top, cycle_pattern, grace, config)
    emit("analyze", result, as_json, _render)
    say_identity_mismatch(result.elf_match)
    if partial:
        sys.exit(EXIT_PARTIAL)
