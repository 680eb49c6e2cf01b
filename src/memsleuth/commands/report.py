"""`memsleuth report`: one self-contained HTML file with every view of a log, and folded stacks.

The verb reads the log once, hands the pass to ``memsleuth.analysis.report_data`` and the
result to ``memsleuth.report.html.render_html``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor
from memsleuth.analysis.report_data import ReportHooks, build_report
from memsleuth.analysis.summary import require_sections
from memsleuth.commands.common import (
    cycle_pattern_option,
    elf_option,
    emit,
    guarded,
    json_option,
    load_model,
    objects_options,
    open_symbolizer,
    say_identity_mismatch,
)
from memsleuth.errors import EXIT_PARTIAL, UsageError
from memsleuth.parse import agent
from memsleuth.report.folded import write_folded
from memsleuth.report.html import render_html
from memsleuth.results.report import ReportOutput


def run_report(log: Path, elf: Path | None, *, cycle_pattern: str | None = None,
               grace: int = 1, config: Path | None = None
               ) -> tuple[dict[str, Any], list[tuple[tuple[str, ...], int]]]:
    """Read the log once into the report's data and its weighted stacks."""
    hooks = ReportHooks(Attributor(open_symbolizer(elf)), grace=grace)
    model = load_model(log, cycle_pattern=cycle_pattern, hooks=[hooks],
                       object_patterns=agent.load_patterns(config))
    require_sections(model, log)
    return build_report(model, hooks, log=str(log), elf=str(elf) if elf else None)


@click.command("report")
@click.argument("log", type=click.Path(path_type=Path), metavar="LOG|STORE")
@elf_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="HTML file to write.")
@click.option("--folded", "folded", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write folded stacks (flamegraph.pl / speedscope).")
@cycle_pattern_option
@objects_options
@json_option
@guarded
def command(log: Path, elf: Path | None, output: Path, folded: Path | None,
            cycle_pattern: str | None, grace: int, config: Path | None, as_json: bool) -> None:
    """One self-contained HTML report (works offline): heap over time, census, flame graph,
    diff, object balance, crash. Given a fleet store (``memsleuth ingest``): the fleet."""
    if log.is_dir():
        from memsleuth.fleet.report import write_fleet_report

        write_fleet_report(log, output, as_json)
        return
    data, stacks = run_report(log, elf, cycle_pattern=cycle_pattern, grace=grace,
                              config=config)
    html_text = render_html(data)
    try:
        output.write_text(html_text, encoding="utf-8")
        n_stacks = write_folded(folded, stacks) if folded is not None else None
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}") from None
    size = len(html_text.encode("utf-8"))
    if as_json:
        emit("report", ReportOutput(
            log=str(log), elf=str(elf) if elf else None, output=str(output), bytes=size,
            folded=str(folded) if folded else None, stacks=n_stacks,
            partial=data["partial"], notes=tuple(data["notes"]),
        ), True, lambda _: None)
    else:
        click.echo(f"wrote {output} ({size:,} bytes)", err=True)
        if folded is not None:
            click.echo(f"wrote {folded} ({n_stacks} stacks)", err=True)
    say_identity_mismatch((data.get("elf") or {}).get("match"))
    if data["partial"]:
        sys.exit(EXIT_PARTIAL)
