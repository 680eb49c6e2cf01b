"""`memsleuth check`: the leak verdict as an exit code, for stress-test pipelines."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.check import Accumulators, Thresholds, leak_report
from memsleuth.analysis.diff import SiteSeries
from memsleuth.analysis.elf_fit import elf_match, identity_mismatch, partial_notes
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.analysis.objects import ObjectBalance
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    log_argument,
    objects_options,
    open_symbolizer,
    say_identity_mismatch,
    stream_log,
    threshold_options,
)
from memsleuth.errors import EXIT_PARTIAL, InputError, UsageError
from memsleuth.parse import agent
from memsleuth.results.check import CheckOutput
from memsleuth.results.common import extend

FAIL_ON = ("step", "fragmentation")


def run_check(log: Path, elf: Path | None, thresholds: Thresholds, *,
              cycle_pattern: str | None = None, config: Path | None = None,
              upto: int | None = None) -> CheckOutput:
    """One pass over the log: the leak report, the inputs and the ELF check."""
    attributor = Attributor(open_symbolizer(elf))
    acc = Accumulators(ObjectBalance(grace=thresholds.grace), SiteSeries(attributor),
                       TrendCollector(upto=upto))
    identity = IdentityCollector()
    # (markers, tables and the events between them in bulk, as analyze reads them)
    stats = stream_log(log, [acc.on_record, identity.on_record], cycle_pattern,
                       agent.load_patterns(config), objects="runs", heap_runs=True)
    trend = acc.trend
    if trend is not None:
        trend.cycle_source = stats.cycle_source
    # an allocation failure alone is evidence enough: the run did run out (exit 1)
    if not (acc.balance.events or acc.series.snapshots  # type: ignore[union-attr]
            or (trend and (trend.has_heap_evidence or trend.alloc_failures))):
        raise InputError(f"{log}: no heap overview, object trace or block dump to judge "
                         f"({stats.lines:,} lines read)")
    report = leak_report(acc, attributor, thresholds)
    match = elf_match(attributor.symbolizer, attributor.seen, identity,
                      traces=attributor.traces_seen)
    # a cut-short section or a wrong ELF does not change the verdict, but it is said
    report = replace(report, notes=(*report.notes, *partial_notes(stats, match)))
    return extend(CheckOutput, report, log=str(log), elf=str(elf) if elf else None,
                  elf_match=match)


def render_check(result: CheckOutput) -> None:
    click.echo(result.verdict.reason)
    for note in result.notes:
        click.echo(f"memsleuth: note: {note}", err=True)


@click.command("check")
@log_argument
@elf_option
@threshold_options
@click.option("--fail-on", default="", metavar="KINDS",
              help="Also fail on these heap patterns: step,fragmentation.")
@click.option("--allow-alloc-failure", is_flag=True,
              help="Do not fail on malloc failures printed in the log (tests that provoke "
                   "them on purpose).")
@cycle_pattern_option
@objects_options
@json_option
@guarded
def command(log: Path, elf: Path | None, max_leak_rate: float, max_imbalance: float,
            allow_warmup: bool, grace: int, fail_on: str, allow_alloc_failure: bool,
            cycle_pattern: str | None, config: Path | None, as_json: bool) -> None:
    """Exit 0 when clean, 1 when a leak, an object imbalance or an allocation failure is
    found, 3 when the log is too short to judge (reason on one line)."""
    kinds = tuple(k.strip() for k in fail_on.split(",") if k.strip())
    bad = [k for k in kinds if k not in FAIL_ON]
    if bad:
        raise UsageError(f"--fail-on: unknown {', '.join(bad)} (choose from {', '.join(FAIL_ON)})")
    thresholds = Thresholds(max_leak_rate=max_leak_rate, max_imbalance=max_imbalance,
                            allow_warmup=allow_warmup, fail_on=kinds, grace=grace,
                            fail_on_alloc_failure=not allow_alloc_failure)
    result = run_check(log, elf, thresholds, cycle_pattern=cycle_pattern, config=config)
    emit("check", result, as_json, render_check)
    if identity_mismatch(result.elf_match):   # the device ran another build
        if as_json:                                   # (text mode said it among the notes)
            say_identity_mismatch(result.elf_match)
        sys.exit(EXIT_PARTIAL)
    sys.exit(result.verdict.exit_code)
