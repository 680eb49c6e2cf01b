"""Terminal rendering of `memsleuth crash` results (only renders; the data comes from
``memsleuth.analysis.crash``)."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from memsleuth.report.terminal import console
from memsleuth.results.common import InlineFrame
from memsleuth.results.crash import CallFrame, CrashExplanation, CrashOutput


def _a(v: int | None) -> str:
    return "-" if v is None else f"0x{v:08X}"


def _frame_text(f: CallFrame) -> str:
    fn = f.function or "??"
    loc = f"{f.file}:{f.line}" if f.file and f.line else ""
    return f"{fn}  {loc}".rstrip()


def _where(g: InlineFrame) -> str:
    return f"{g.file}:{g.line}" if g.file and g.line else ""


def render_crash(r: CrashExplanation) -> None:
    """One crash: cause first, then where, then the evidence."""
    c = console()
    cause = r.cause
    head = f"Crash at line {r.line}" + (f"-{r.end_line}" if r.end_line else "")
    head += f"  ({r.kind.replace('_', ' ')}, {r.arch})"
    if r.crash_time:
        head += f"  time {r.crash_time}"
    c.print(f"[bold]{escape(head)}[/]")
    if r.partial:
        c.print(f"[bold yellow]partial dump:[/] {escape(r.partial_reason or '')}")
    c.print(f"[bold red]Cause:[/] {escape(cause.summary)}  [dim]\\[{cause.category}][/]")
    if cause.fault_address is not None:
        src = cause.fault_address_source or ""
        c.print(f"  fault address {_a(cause.fault_address)} ({src})")
    for d in cause.details:
        c.print(f"  - {escape(d)}")
    exc_name = getattr(r.fault, "exc_name", None)      # Cortex-M only
    if exc_name:
        er = getattr(r.fault, "exc_return", None)
        c.print(f"  exception {exc_name}" + (f"; EXC_RETURN: {er.text}" if er else ""))
    if r.errno:
        e = r.errno
        c.print(f"  errno {e.value} {e.name}: {escape(e.text)}")
    if r.file:
        c.print(f"  reported at {escape(str(r.file))}:{r.file_line}")

    f0 = r.faulting
    if f0:
        c.print(f"[bold]Faulting:[/] {escape(_frame_text(f0))}  [dim]{_a(f0.address)}[/]")
        for g in f0.inlined[1:]:
            c.print(f"  inlined into {escape(str(g.function))}  {escape(_where(g))}")
    ctx = r.context
    if ctx.in_interrupt:
        who = "in interrupt" + (f" (task {ctx.task} was running)" if ctx.task else "")
    else:
        who = f"task {ctx.task}" if ctx.task else "unknown task"
    how = f"  [dim]{escape(ctx.how)}[/]" if ctx.how else ""
    c.print(f"[bold]Context:[/] {escape(who)}{how}")

    cs = r.call_stack
    if cs.frames:
        label = {"device": "from the device backtrace", "registers": "from PC/LR only",
                 "heuristic": "HEURISTIC: scanned from stack words",
                 "device+heuristic": "device backtrace + HEURISTIC stack scan"}.get(
            cs.source, cs.source)
        c.print(f"[bold]Call stack[/] [dim]({label})[/]")
        frames = cs.frames
        i = 0
        while i < len(frames):
            f = frames[i]
            j = i
            while j + 1 < len(frames) and frames[j + 1].address == f.address:
                j += 1
            inl = f.inlined
            mark = " [yellow](heuristic)[/]" if f.source == "heuristic" else ""
            rep = f"  [dim](x{j - i + 1}: recursion)[/]" if j > i else ""
            c.print(f"  #{i:<2} {_a(f.address)}  {escape(_frame_text(f))}{mark}{rep}")
            i = j + 1
            for g in inl[1:]:   # the frame itself is the innermost level
                c.print(f"        [dim]inlined into {escape(str(g.function))}  "
                        f"{escape(_where(g))}[/]")
        if cs.end:
            c.print(f"  [dim]^{cs.end}^[/]")
    else:
        c.print("[bold]Call stack:[/] none printed")

    heap = r.heap
    if heap and heap.hits:
        c.print(f"[bold]Heap[/] [dim]({escape(heap.source)})[/]")
        for h in heap.hits:
            c.print(f"  {escape(h.text)}")
            for k, b in (("prev", h.prev), ("block", h.block), ("next", h.next)):
                if b and b.corrupted:   # size and owner as printed: garbage
                    c.print(f"    {k:5} {_a(b.addr)} header corrupt (printed size {b.size} B, "
                            f"owner {_a(b.owner)}: not to be believed)")
                elif b:
                    own = b.owner_function or _a(b.owner)
                    w = f" {b.owner_where}" if b.owner_where else ""
                    c.print(f"    {k:5} {_a(b.addr)} {'used' if b.used else 'free'} "
                            f"{b.size} B  owner {escape(str(own))}{escape(w)}")
    if r.oom:
        o = r.oom
        c.print(f"[bold]Out of memory:[/] {escape(o.reason)}")
        for t in o.top_owners:
            c.print(f"    {t.total:>8} B in {t.count:>4} blocks  "
                    f"{escape(str(t.function or _a(t.owner)))} {t.where or ''}")
    if r.tasks:
        t = Table(title="Tasks (stack high-water)", title_justify="left", box=None)
        for col in ("task", "state", "stack", "size", "min free", "peak used", "status"):
            t.add_column(col)
        for row in r.tasks:
            name = ("* " if row.crashed else "  ") + row.name
            t.add_row(escape(name), row.state, _a(row.stack_base),
                      str(row.stack_size), str(row.min_free), str(row.peak_used),
                      row.status)
        c.print(t)
    for w in r.stack_warnings:
        c.print(f"[bold yellow]stack:[/] {escape(w)}")
    for n in r.notes:
        c.print(f"[dim]note: {escape(n)}[/]")


def render_crashes(result: CrashOutput) -> None:
    c = console()
    crashes = result.crashes
    if not crashes:
        c.print(f"No crash dump in {escape(str(result.log))}.")
        return
    if result.sampled:
        c.print(f"[dim]{result.total:,} crash dumps in the log; showing {len(crashes)}: the "
                "first, the newest, the first of every signature and an evenly spaced "
                "sample[/]")
    elif result.total > len(crashes):
        c.print(f"[dim]{result.total:,} crash dumps in the log; showing the last "
                "(use --all for every one)[/]")
    if result.total > 1 and result.signatures:
        _signatures(result)
    for i, r in enumerate(crashes):
        if i:
            c.print()
        render_crash(r)


#: Signature rows printed (the JSON has every one).
SIGNATURE_ROWS = 20


def _signatures(result: CrashOutput) -> None:
    c = console()
    sigs = result.signatures
    t = Table(title=f"Crashes by signature ({len(sigs)} distinct)", title_justify="left",
              box=None)
    for col in ("crashes", "first line", "newest line", "signature"):
        t.add_column(col, justify="right" if col != "signature" else "left")
    for row in sigs[:SIGNATURE_ROWS]:
        t.add_row(f"{row.crashes:,}", str(row.first_line), str(row.newest_line),
                  escape(row.signature))
    c.print(t)
    if len(sigs) > SIGNATURE_ROWS:
        rest = sum(r.crashes for r in sigs[SIGNATURE_ROWS:])
        c.print(f"[dim]... {len(sigs) - SIGNATURE_ROWS} more signature(s), {rest:,} "
                "crash(es) (--json lists every one)[/]")
    if result.signatures_other:
        c.print(f"[dim]{result.signatures_other:,} crash(es) of further signatures, counted "
                "but not told apart (too many distinct)[/]")
    c.print()
