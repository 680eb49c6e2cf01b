"""``memsleuth report STORE``: the fleet answers rendered as one HTML file (kept here so the
single-log report command only dispatches)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from memsleuth.errors import UsageError


def write_fleet_report(store: Path, output: Path, as_json: bool) -> None:
    from memsleuth.commands.common import envelope
    from memsleuth.fleet.queries import answer
    from memsleuth.report.fleet_html import render_fleet_html
    from memsleuth.results.fleet import FleetAnswers
    from memsleuth.results.report import FleetReportOutput

    result = FleetAnswers.of(answer(store))
    page = render_fleet_html(result, str(store))
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}") from None
    size = len(page.encode("utf-8"))
    if as_json:
        json.dump(envelope("report", FleetReportOutput(
            store=str(store), output=str(output), bytes=size,
            problems=len(result.problems))), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        click.echo(f"wrote {output} ({size:,} bytes)", err=True)
    if result.problems:
        sys.exit(4)
