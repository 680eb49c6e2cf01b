"""`memsleuth objects`: kernel-object create/delete balance per kind, per site, per cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.diff import SiteSeries
from memsleuth.analysis.elf_fit import elf_match, partial_notes
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.analysis.objects import ObjectBalance, analyze_objects
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    exit_if_partial,
    guarded,
    json_option,
    log_argument,
    objects_options,
    open_symbolizer,
    stream_log,
)
from memsleuth.errors import InputError
from memsleuth.parse import agent
from memsleuth.report.objects_text import render_objects
from memsleuth.results.common import extend
from memsleuth.results.objects import (
    ObjectsFromTrace,
    ObjectsNone,
    ObjectsOutput,
    ObjectsOutputDumps,
    ObjectsOutputTrace,
)


def run_objects(log: Path, elf: Path | None, grace: int, config: Path | None,
                cycle_pattern: str | None = None, symbolizer: Any = None) -> ObjectsOutput:
    """Stream the log once through the pairing; the analysis plus its inputs."""
    patterns = agent.load_patterns(config)
    if symbolizer is None:
        symbolizer = open_symbolizer(elf)
    balance = ObjectBalance(grace=grace)
    attributor = Attributor(symbolizer)
    series = SiteSeries(attributor)
    identity = IdentityCollector()
    # (markers and the events between them in bulk: the tables in them are not read)
    stats = stream_log(log, [balance.on_record, series.on_record, identity.on_record],
                       cycle_pattern, patterns, objects="runs", heap_runs=True)
    result = analyze_objects(balance, series, attributor)
    if isinstance(result, ObjectsNone):
        raise InputError(f"{log}: no object trace ([MSOBJ] lines) and no block dump")
    match = elf_match(symbolizer, attributor.seen, identity, traces=attributor.traces_seen)
    output = ObjectsOutputTrace if isinstance(result, ObjectsFromTrace) else ObjectsOutputDumps
    return extend(output, result, damaged_lines=stats.damaged_lines,
                  learned_shapes=stats.object_shapes, cycle_source=stats.cycle_source,
                  log=str(log), elf=str(elf) if elf else None, elf_match=match,
                  partial=tuple(partial_notes(stats, match)))


@click.command("objects")
@log_argument
@elf_option
@objects_options
@cycle_pattern_option
@json_option
@guarded
def command(log: Path, elf: Path | None, grace: int, config: Path | None,
            cycle_pattern: str | None, as_json: bool) -> None:
    """Pair kernel-object creates and deletes: per kind, per create site, per cycle."""
    result = run_objects(log, elf, grace, config, cycle_pattern)
    emit("objects", result, as_json, render_objects)
    exit_if_partial(result.partial)
