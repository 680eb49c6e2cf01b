"""`memsleuth ingest`: device logs -> a Parquet fleet store, on every core or a Dask cluster."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.commands.common import (
    cycle_pattern_option,
    emit,
    engine_options,
    guarded,
    json_option,
)
from memsleuth.errors import EXIT_PARTIAL


@click.command("ingest")
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "store", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The store folder (created; ingesting into it again adds new logs only).")
@click.option("--symbols", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Symbol store: a folder of ELFs, found by build id or name.")
@click.option("--device-from", "pattern", default=None, metavar="PATTERN",
              help="Where device, build and date are in a log's path, e.g. "
                   "'{build}/{device}/{date}.log.gz' ({device} {build} {date}, * any).")
@click.option("--device", default=None, help="Device id of every log (when not in the path).")
@click.option("--build", default=None,
              help="Build of every log that prints none (name or build id in the symbol store).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: every core).")
@engine_options("a process pool")
@cycle_pattern_option
@json_option
@guarded
def command(logs: tuple[Path, ...], store: Path, symbols: Path | None, pattern: str | None,
            device: str | None, build: str | None, jobs: int | None, engine: str,
            scheduler: str | None, cycle_pattern: str | None, as_json: bool) -> None:
    """Parse many logs into a Parquet store for `memsleuth fleet` (exit 4 if some failed)."""
    from memsleuth.fleet.extract import Options
    from memsleuth.fleet.identity import PathPattern
    from memsleuth.fleet.ingest import collect_logs, ingest
    from memsleuth.report.fleet_text import render_ingest
    from memsleuth.results.fleet import IngestedLog, IngestOutput

    opts = Options(PathPattern.compile(pattern) if pattern else None, device, build,
                   cycle_pattern)
    paths = collect_logs(logs)
    run = ingest(paths, store, opts, symbols, jobs=jobs, engine=engine, scheduler=scheduler)
    counts = Counter(r["status"] for r in run.logs)
    problems = tuple(IngestedLog(**{f: r.get(f) for f in IngestedLog.__dataclass_fields__})
                     for r in run.logs if r["status"] in ("failed", "partial"))
    result = IngestOutput(store=str(store), ingest_id=run.ingest_id, logs=len(run.logs),
                          counts=dict(counts), problems=problems)
    emit("ingest", result, as_json, render_ingest)
    if problems:
        sys.exit(EXIT_PARTIAL)
