"""`memsleuth fleet`: questions across every log of a store (DuckDB, or Dask)."""

from __future__ import annotations

import sys
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.commands.common import emit, engine_options, guarded, json_option
from memsleuth.results.common import extend


@click.command("fleet")
@click.argument("store", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--sql", default=None, metavar="QUERY",
              help="Run your own SELECT over the views (schema in docs/fleet.md).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Rows per table in the terminal.")
@engine_options("DuckDB embedded")
@json_option
@guarded
def command(store: Path, sql: str | None, top: int, engine: str, scheduler: str | None,
            as_json: bool) -> None:
    """Leak sites by devices, build to build, crash signatures, devices by exhaustion."""
    from memsleuth.report.fleet_text import render_fleet
    from memsleuth.results.fleet import FleetAnswers, FleetOutput, FleetSqlOutput

    if sql is not None:
        from memsleuth.fleet.queries import run_sql

        rows = run_sql(store, sql)
        if as_json:
            emit("fleet-sql", FleetSqlOutput(store=str(store), sql=sql, rows=tuple(rows)),
                 True, print)
        else:
            for row in rows:
                click.echo("\t".join("" if v is None else str(v) for v in row.values()))
        return
    if engine == "dask":
        from memsleuth.fleet.ingest import dask_engine

        answers = dask_engine().answer(store, scheduler=scheduler)
    else:
        from memsleuth.fleet.queries import answer

        answers = answer(store)
    result = extend(FleetOutput, FleetAnswers.of(answers), store=str(store),
                    engine=engine)  # type: ignore[arg-type]
    emit("fleet", result, as_json, lambda r: render_fleet(r, top))
    if result.problems:
        sys.exit(4)
