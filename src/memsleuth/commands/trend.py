"""`memsleuth trend`: leak rate, warm-up, classification and forecast from heap overviews."""

from __future__ import annotations

import sys
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.elf_fit import partial_notes
from memsleuth.analysis.trend import TrendCollector
from memsleuth.commands.common import (
    cycle_pattern_option,
    emit,
    exit_if_partial,
    guarded,
    json_option,
    log_argument,
    stream_log,
)
from memsleuth.errors import EXIT_INPUT, InputError, UsageError
from memsleuth.report.trend_text import render_trend
from memsleuth.results.common import extend
from memsleuth.results.trend import TrendOutput


def parse_warmup(value: str) -> int | str:
    """'auto' or a number of points to drop at the start."""
    if value == "auto":
        return "auto"
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--warmup {value!r}: expected a number or 'auto'") from None
    if n < 0:
        raise UsageError("--warmup must be >= 0")
    return n


def trend_options(f):  # noqa: ANN001, ANN201 - click decorator stack
    f = click.option("--warmup", default="auto", show_default=True, metavar="N|auto",
                     help="Points to drop at the start, or detect the warm-up.")(f)
    f = click.option("--upto", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Use only the first N cycles (check a forecast against the end).")(f)
    f = click.option("--x", "x_mode", type=click.Choice(["auto", "cycle", "time", "index"]),
                     default="auto", show_default=True,
                     help="Abscissa: cycle markers, timestamps or overview index.")(f)
    f = cycle_pattern_option(f)
    return f


def run_trend(log: Path, cycle_pattern: str | None, x_mode: str, upto: int | None,
              warmup: str) -> TrendOutput:
    wu = parse_warmup(warmup)
    collector = TrendCollector(upto=upto)
    # the trend reads heap figures, markers and dumps; never object events
    stats = stream_log(log, [collector.on_record], cycle_pattern, objects=False,
                       heap_runs=True)
    collector.cycle_source = stats.cycle_source
    if not collector.has_heap_evidence:
        raise InputError(f"{log}: no heap overview in {stats.lines:,} lines "
                         "(expected [HEAP] tables)")
    try:
        result = collector.result(x=x_mode, warmup=wu)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return extend(TrendOutput, result, log=str(log),
                  partial=tuple(partial_notes(stats, None)))


@click.command("trend")
@log_argument
@trend_options
@click.option("-v", "--verbose", is_flag=True,
              help="Also name the statistics behind the verdict (tests, p-values).")
@json_option
@guarded
def command(log: Path, cycle_pattern: str | None, x_mode: str, upto: int | None, warmup: str,
            verbose: bool, as_json: bool) -> None:
    """Free-heap trend over a log: leak rate with its interval, warm-up, verdict, forecast.
    Exit 3 when there are too few points to judge."""
    result = run_trend(log, cycle_pattern, x_mode, upto, warmup)
    emit("trend", result, as_json, lambda r: render_trend(r, verbose))
    exit_if_partial(result.partial)
    if result.classification == "insufficient":
        sys.exit(EXIT_INPUT)
