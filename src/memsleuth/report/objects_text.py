"""Terminal rendering of the kernel-object balance."""

from __future__ import annotations

from rich.table import Table

from memsleuth.report.terminal import console, warn
from memsleuth.results.objects import ObjectsFromDumps, ObjectsOutput


def render_objects(result: ObjectsOutput) -> None:
    out = console()
    if isinstance(result, ObjectsFromDumps):
        out.print(f"[bold]Objects from {result.snapshots} block dump(s)[/] "
                  "(no object trace in the log): live blocks per object kind")
        for line in result.summary:
            out.print(f"  {line}")
        if not result.kinds:
            out.print("  no block owned by a kernel-object constructor (give --elf to name them)")
        return
    cyc = result.cycles
    out.print(f"[bold]Kernel objects[/] — {result.log}: {result.events:,} events, "
              f"{cyc.complete} complete cycle(s), grace {result.grace} cycle(s)")
    for line in result.summary:
        out.print(f"  {line}")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("kind", "created", "deleted", "alive", "lost", "per cycle", "leaked/cycle"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for k in result.kinds:
        pc = k.per_cycle
        table.add_row(
            k.kind, f"{k.created:,}", f"{k.deleted:,}", f"{k.alive:,}", str(k.lost),
            f"+{pc.created}/-{pc.deleted} ({pc.share:.0%})" if pc else "-",
            "-" if k.leak_per_cycle is None else f"{k.leak_per_cycle:.3g}",
        )
    out.print(table)
    sites = [s for s in result.sites if s.alive or s.lost][:20]
    if sites:
        out.print("[bold]Create sites with objects alive at the end[/]")
        st = Table(show_edge=False, pad_edge=False, header_style="bold")
        for name in ("kind", "site", "created", "deleted", "alive", "startup", "pending",
                     "leaked", "leak/cycle", "steady"):
            st.add_column(name, justify="left" if name in ("kind", "site") else "right")
        for s in sites:
            st.add_row(
                s.kind, s.label, str(s.created), str(s.deleted), str(s.alive),
                str(s.startup), str(s.pending), str(s.leaked),
                "-" if s.leak_per_cycle is None else f"{s.leak_per_cycle:.3g}",
                "[bold red]yes[/]" if s.steady else "",
            )
        out.print(st)
    if result.seq_gaps:
        warn(f"{result.seq_gaps} object-trace line(s) lost (gaps in seq numbers)")
    src = result.cycle_source or {}
    if src.get("how") == "detected":
        out_note(f"cycles from `{src['template']}` (detected)")
    for shape, n in result.learned_shapes.items():
        out_note(f"object trace learned: `{shape}` ({n} lines)")
    for reader, n in result.damaged_lines.items():
        warn(f"{n} damaged {reader} line(s) ignored")


def out_note(text: str) -> None:
    """A line saying what memsleuth decided on its own (detected markers, learned shapes)."""
    from rich.markup import escape

    console().print(f"  note: {escape(text)}")
