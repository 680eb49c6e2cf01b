"""`memsleuth census`: live heap blocks of one snapshot, aggregated per call site."""

from __future__ import annotations

import sys
from pathlib import Path

from memsleuth import lazyclick as click
from memsleuth.analysis.census import Attributor, census, live_owners
from memsleuth.analysis.dump_choice import CensusKeep, census_dump
from memsleuth.analysis.elf_fit import elf_match
from memsleuth.analysis.identity import IdentityCollector
from memsleuth.commands.common import (
    elf_option,
    emit,
    guarded,
    json_option,
    load_model,
    log_argument,
    open_symbolizer,
    say_identity_mismatch,
)
from memsleuth.errors import EXIT_PARTIAL
from memsleuth.report.census_text import render_census, render_elf_match
from memsleuth.report.terminal import warn
from memsleuth.results.census import CensusOutput
from memsleuth.results.common import extend


def census_options(f):  # noqa: ANN001, ANN201 - click decorator stack
    f = click.option("--skip-fn", "skip_fns", multiple=True, metavar="GLOB",
                     help="Also treat these functions as allocator wrappers (repeatable).")(f)
    f = click.option("--by", type=click.Choice(["site", "function", "file"]), default="site",
                     show_default=True, help="Aggregate per call site, function or file.")(f)
    f = click.option("--sort", type=click.Choice(["bytes", "count", "size", "addr"]),
                     default="bytes", show_default=True)(f)
    return f


def run_census(
    log: Path, elf: Path | None, snapshot: int | None, by: str, sort: str, top: int | None,
    skip_fns: tuple[str, ...], no_skip: bool = False,
) -> tuple[CensusOutput, bool]:
    symbolizer = open_symbolizer(elf)
    choice = CensusKeep(snapshot)
    identity = IdentityCollector()
    # heap_runs: markers and overview tables in bulk (without it the C loop handed every
    # table of a stress log back one by one); heap_status=False: a census reads the dumps
    # only, the model need not keep the tables and markers either
    model = load_model(log, keep=choice.keep, hooks=[choice, identity.on_record], rounds=False,
                       objects=False, heap_runs=True, heap_status=False)
    dump, notes = census_dump(model, snapshot)
    attributor = Attributor(symbolizer, skip_fns=skip_fns)
    attributor.skipping = not no_skip
    result = extend(
        CensusOutput, census(dump, attributor, by=by, sort=sort, top=top or None),  # type: ignore[arg-type]
        log=str(log), elf=str(elf) if elf else None, snapshots=model.dumps.count,
        notes=tuple(notes), elf_match=elf_match(symbolizer, live_owners(dump), identity))
    # blocks left out as untrusted make the totals lower bounds, as untracked ones do
    partial = result.snapshot.partial or result.snapshot.untracked > 0 or (
        result.totals.untrusted_blocks > 0 or result.snapshot.untrusted_reason is not None
    ) or (result.elf_match is not None and result.elf_match.verdict == "mismatch")
    return result, partial


@click.command("census")
@log_argument
@elf_option
@click.option("--snapshot", type=int, default=None,
              help="Which block dump (0 = first, -1 = last); default: the last complete one.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
              help="Rows to show (0 = all).")
@census_options
@click.option("--no-skip", is_flag=True,
              help="The raw owner view: blame the logged owner, no wrapper skipped or learned.")
@json_option
@guarded
def command(log: Path, elf: Path | None, snapshot: int | None, top: int, sort: str, by: str,
            skip_fns: tuple[str, ...], no_skip: bool, as_json: bool) -> None:
    """Live heap blocks of one snapshot, aggregated per call site (like the AliOS tool)."""
    result, partial = run_census(log, elf, snapshot, by, sort, top, skip_fns, no_skip)

    def render(data: CensusOutput) -> None:
        render_elf_match(data.elf_match)
        for note in data.notes:
            warn(note)
        render_census(data)

    emit("census", result, as_json, render)
    say_identity_mismatch(result.elf_match)
    if partial:
        sys.exit(EXIT_PARTIAL)
