"""Terminal rendering of a census (and the log summary shared with `analyze`)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from memsleuth.report.terminal import addr, console, pct, size, warn, where


def render_census(result: dict[str, Any], title: str | None = None) -> None:
    out = console()
    snap = result["snapshot"]
    totals = result["totals"]
    head = title or (
        f"Live heap by {result['by']} — snapshot #{snap['index']} ({snap['variant']}, "
        f"log line {snap['line']})"
    )
    out.print(f"[bold]{head}[/]")
    free = (f"free {size(totals['free_bytes'])} in {totals['free_blocks']:,} blocks, largest "
            f"free {size(totals['largest_free'])}") if totals.get("free_listed", True) \
        else "free blocks not listed by this dump"
    out.print(
        f"  {totals['used_blocks']:,} live blocks, {size(totals['used_bytes'])} in "
        f"{totals['sites']} sites; {free}"
    )
    if snap["partial"]:
        warn(f"snapshot is partial: {snap['partial_reason']}")
    for obj in result.get("objects", []):
        ctors = ", ".join(obj["constructors"]) or "?"
        out.print(f"  [bold]{obj['blocks']:,} live {obj['kind']} object(s)[/], {size(obj['bytes'])}"
                  f" (blocks owned by {ctors}, from {obj['sites']} call site(s))")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in (
        ("#", "right"), ("blocks", "right"), ("bytes", "right"), ("share", "right"),
        ("min..max", "right"), ("owner", "left"), ("kind", "left"), ("function", "left"),
        ("file:line", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for n, row in enumerate(result["rows"], 1):
        function = escape(row["function"] or ("unknown (owner 0x0)" if row["key"] == "unknown"
                                              else "?"))
        if row.get("allocator"):
            function = f"{function}  [dim]via {escape(row['allocator'])}[/]"
        table.add_row(
            str(n), f"{row['blocks']:,}", f"{row['bytes']:,}", pct(row["share"]),
            f"{row['min_size']}..{row['max_size']}",
            addr(row["owner"]) if row["owner"] else "0x0",
            row["object_kind"] or "", function, escape(where(row)),
        )
        for frame in row["inlined"][:-1]:
            table.add_row("", "", "", "", "", "", "", f"[dim]  inlined {frame['function']}[/]",
                          f"[dim]{_fl(frame)}[/]")
        if row["chain"]:
            names = [frame.split(" (", 1)[0] for frame in row["chain"]]
            chain = escape(" ← ".join(names[:5]) + (" ← …" if len(names) > 5 else ""))
            table.add_row("", "", "", "", "", "", "", f"[dim]  ← {chain}[/]", "")
    out.print(table)
    hidden = result["rows_total"] - len(result["rows"])
    if hidden > 0:
        out.print(f"  … {hidden} more sites (use --top 0 for all)")
    if result["corrupted"]:
        out.print(f"[bold red]{len(result['corrupted'])} corrupted block(s)[/] (bad header dye):")
        for item in result["corrupted"]:
            for label in ("previous", "block", "next"):
                b = item[label]
                if b is None:
                    continue
                mark = "[red]>>[/]" if label == "block" else "  "
                out.print(
                    f"  {mark} line {b['line']}: {addr(b['addr'])} "
                    f"{'used' if b['used'] else 'free'}"
                    f" {b['size'] if b['size'] is not None else 'sentinel'} B"
                    f" owner {addr(b['owner'])} {b['site'] or ''}"
                )


def _fl(frame: dict[str, Any]) -> str:
    if frame.get("file"):
        return f"{frame['file'].rsplit('/', 1)[-1]}:{frame.get('line')}"
    return ""


def render_elf_match(match: dict[str, Any] | None) -> None:
    if not match or match.get("verdict") in (None, "ok", "unknown"):
        return
    out = console()
    style = "bold red" if match["verdict"] == "mismatch" else "bold yellow"
    text = match.get("reason") or match["verdict"]
    out.print(f"[{style}]ELF check ({match['verdict']}): {text}[/]")
    if match["verdict"] == "mismatch":
        out.print(f"[{style}]  the ELF does not match this log: names below are not to be trusted;"
                  " use the ELF of the build that printed the log[/]")
