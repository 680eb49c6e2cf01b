"""`memsleuth objects`: kernel-object create/delete balance per kind, per site, per cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

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


def run_objects(log: Path, elf: Path | None, grace: int, config: Path | None,
                cycle_pattern: str | None = None, symbolizer: Any = None) -> dict[str, Any]:
    """Stream the log once through the pairing; returns the analyze_objects dict."""
    patterns = agent.load_patterns(config)
    if symbolizer is None:
        symbolizer = open_symbolizer(elf)
    balance = ObjectBalance(grace=grace)
    attributor = Attributor(symbolizer)
    series = SiteSeries(attributor)
    identity = IdentityCollector()
    stats = stream_log(log, [balance.on_record, series.on_record, identity.on_record],
                       cycle_pattern, patterns)
    result = analyze_objects(balance, series, attributor)
    if result["source"] == "none":
        raise InputError(f"{log}: no object trace ([MSOBJ] lines) and no block dump")
    result["damaged_lines"] = stats.damaged_lines
    result["learned_shapes"] = stats.object_shapes
    result["cycle_source"] = stats.cycle_source
    result["log"] = str(log)
    result["elf"] = str(elf) if elf else None
    result["elf_match"] = elf_match(symbolizer, attributor.seen, identity,
                                   traces=attributor.traces_seen)
    result["partial"] = partial_notes(stats, result["elf_match"])
    return result


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
    exit_if_partial(result["partial"])
