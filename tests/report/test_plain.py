"""Piped census output is written without rich (start-up), and it is exactly what rich prints.

rich is the reference: ``report.plain`` either gives rich's text for a piece of markup or a
table, or declines (None) and rich prints it. Checked on generated markup and tables and on
the census and analyze outputs of committed logs, rendered both ways.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.table import Table

from memsleuth.cli import main
from memsleuth.report import plain, terminal

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "examples" / "wifi_reconnect_leak" / "out"
ALIOS = ROOT / "tests" / "fixtures" / "alios"
TAGS = ["[bold]", "[dim]", "[/]", "[red]", "[bold red]", "[bold yellow]", "[yellow]"]


def _rich_console(buf: io.StringIO) -> Console:
    """The console ``report.terminal`` makes when stdout is not a terminal."""
    return Console(file=buf, highlight=False, soft_wrap=True, width=plain.WIDTH)


def rich_text(markup: str) -> str:
    buf = io.StringIO()
    _rich_console(buf).print(markup)
    return buf.getvalue()


def rich_table(columns: list[tuple[str, str]], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    _rich_console(buf).print(table)
    return buf.getvalue()


@pytest.mark.parametrize("alphabet", ["abcxyz019 _.:-/()←…—[]\\#,%", "ab 0:.←", "abcdefgh   "])
def test_generated_markup_and_tables_print_as_rich_prints_them(alphabet: str):
    rnd = random.Random(alphabet)

    def word(k: int) -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, k)))

    written = 0
    for _ in range(1500):
        markup = "".join(rnd.choice([word(6), rnd.choice(TAGS)]) for _ in range(rnd.randint(0, 6)))
        text = plain.text(markup)
        if text is not None:
            assert text + "\n" == rich_text(markup), repr(markup)
            written += 1
        n = rnd.randint(1, 9)
        columns = [(word(8) or "h", rnd.choice(["left", "right"])) for _ in range(n)]
        rows = [[word(rnd.choice([0, 1, 3, 10, 40])) for _ in range(n)]
                for _ in range(rnd.randint(0, 5))]
        table = plain.table(columns, rows)
        if table is not None:
            assert table == rich_table(columns, rows), (columns, rows)
            written += 1
    assert written > 600          # the plain path is taken, not only declined


def test_what_plain_declines():
    assert plain.text("[/] closes nothing") is None          # rich raises on it
    assert plain.text("an [italic]unknown[/] tag") is None
    assert plain.text("an escaped \\[bold] bracket") is None
    assert plain.text("emoji-like :smile: pair") is None
    assert plain.text("a tab\there") is None                  # rich expands tabs
    assert plain.text("wide 字") is None
    assert plain.table([("h", "left")], [["x" * (plain.WIDTH + 1)]]) is None   # rich shrinks it
    assert plain.table([("h", "center")], [["x"]]) is None
    assert plain.text("[bold]kept[/] as rich shows it — ← …") == "kept as rich shows it — ← …"


CASES = [
    ["census", str(OUT / "cortex-m4-leak.log"), "--elf", str(OUT / "cortex-m4-leak.elf"),
     "--top", "0"],
    ["census", str(OUT / "x86_64-frag.log"), "--elf", str(OUT / "x86_64-frag.elf"),
     "--by", "function"],
    ["census", str(OUT / "cortex-m4-noleak.log"), "--elf", str(OUT / "x86_64-leak.elf")],
    ["census", str(ALIOS / "b2_full_1x.log"), "--top", "0"],     # corrupted block, no ELF
    ["census", str(ALIOS / "mmlk.log")],
    ["analyze", str(OUT / "cortex-m4-burst.log"), "--elf", str(OUT / "cortex-m4-burst.elf")],
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(Path(x).name for x in a[:2]))
def test_census_output_is_the_same_with_and_without_rich(args: list[str], monkeypatch):
    def no_rich():  # census, piped, prints without rich; analyze uses it for its other parts
        raise AssertionError("rich was used")

    with monkeypatch.context() as patch:
        if args[0] == "census":
            patch.setattr(terminal, "console", no_rich)
        plain_run = CliRunner().invoke(main, args)
    monkeypatch.setattr(plain, "active", lambda: False)
    rich_run = CliRunner().invoke(main, args)
    assert plain_run.exit_code == rich_run.exit_code
    assert plain_run.stdout == rich_run.stdout
    assert "live blocks" in plain_run.stdout or "memsleuth analyze" in plain_run.stdout
