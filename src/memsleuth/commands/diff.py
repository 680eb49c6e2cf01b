"""`memsleuth diff`: per-site change between two snapshots (of one log or two logs)."""

from __future__ import annotations

from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.diff import SiteSeries
from memsleuth.analysis.dump_choice import diff_between, diff_within
from memsleuth.analysis.elf_fit import elf_match, partial_notes
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    exit_if_partial,
    guarded,
    json_option,
    open_symbolizer,
    stream_log,
)
from memsleuth.errors import UsageError
from memsleuth.report.diff_text import render_diff
from memsleuth.results.common import extend
from memsleuth.results.diff import DiffOutput


def parse_pair(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        i, j = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--snapshots {text!r}: expected two indexes, e.g. 0,-1") from None
    return i, j


def run_diff(log_a: Path, log_b: Path | None, elf: Path | None, snapshots: str | None,
             cycle_pattern: str | None = None) -> DiffOutput:
    pair = parse_pair(snapshots)
    symbolizer = open_symbolizer(elf)
    attributor = Attributor(symbolizer)
    keep_a = (pair[0],) if log_b is not None and pair else tuple(pair or ())
    series_a, trend = SiteSeries(attributor, keep=keep_a), TrendCollector()
    identity = IdentityCollector()
    # (no hook reads object events; markers and overview tables come in bulk, as the trend
    # verb reads them: a stress log's millions of records were most of diff's time)
    stats = [stream_log(log_a, [series_a.on_record, trend.on_record, identity.on_record],
                        cycle_pattern, objects=False, heap_runs=True)]
    read = [(log_a, series_a)]
    if log_b is None:
        result = diff_within(series_a, trend, pair, log_a)
    else:
        series_b = SiteSeries(attributor, keep=(pair[1],) if pair else ())
        read.append((log_b, series_b))
        stats.append(stream_log(log_b, [series_b.on_record, identity.on_record], cycle_pattern,
                                objects=False, heap_runs=True))
        result = diff_between(series_a, series_b, pair, log_a, log_b)
    match = elf_match(symbolizer, attributor.seen, identity, traces=attributor.traces_seen)
    # blocks left out as untrusted (corrupt header): the figures are lower bounds (census too)
    corrupt = [f"{log}: {series.untrusted_blocks} heap block(s) with a corrupt header or an "
               f"impossible size left out (first at line {series.untrusted_first}): heap "
               f"corruption, see `memsleuth census`"
               for log, series in read if series.untrusted_blocks]
    return extend(DiffOutput, result, log=str(log_a), elf=str(elf) if elf else None,
                  elf_match=match,
                  partial=tuple([n for st in stats for n in partial_notes(st, None)]
                                + partial_notes(None, match) + corrupt))


@click.command("diff")
@click.argument("log_a", type=click.Path(dir_okay=False, path_type=Path), metavar="A")
@click.argument("log_b", type=click.Path(dir_okay=False, path_type=Path), metavar="[B]",
                required=False)
@elf_option
@click.option("--snapshots", default=None, metavar="I,J",
              help="Which dumps to compare (0 = first, -1 = last); default first vs last "
                   "(two logs: last vs last).")
@cycle_pattern_option
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Rows to show (0 = all).")
@json_option
@guarded
def command(log_a: Path, log_b: Path | None, elf: Path | None, snapshots: str | None,
            cycle_pattern: str | None, top: int, as_json: bool) -> None:
    """Per call site: blocks and bytes before/after, new and vanished sites, growth slopes."""
    result = run_diff(log_a, log_b, elf, snapshots, cycle_pattern)
    emit("diff", result, as_json, lambda r: render_diff(r, top))
    exit_if_partial(result.partial)
