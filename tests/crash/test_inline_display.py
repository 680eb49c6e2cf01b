"""Every output shows an inlined frame as addr2line -fi does: the innermost function with its
own file:line first, then each function it was inlined into, each with its call line.

cm4_null_deref faults in ``config_timeout`` (crash_app.c:82), inlined into
``net_connect_timeout`` at crash_app.c:88 (its expected.json holds addr2line's answer).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main

QEMU = Path(__file__).resolve().parents[1] / "fixtures" / "crash" / "qemu"
NAME = "cm4_null_deref"
LOG, ELF = QEMU / f"{NAME}.log", QEMU / f"{NAME}.elf"
EXP = json.loads((QEMU / f"{NAME}.expected.json").read_text())
INNER, OUTER = EXP["addr2line"][0], EXP["addr2line"][-1]


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_crash_text_shows_inner_label_and_the_outer_call_line():
    out = _run("crash", str(LOG), "--elf", str(ELF)).output
    inner = Path(INNER["file"]).name
    assert re.search(rf"Faulting: {INNER['function']}\s+\S*{inner}:{INNER['line']}", out), out
    # the call site in the real function: never dropped
    assert re.search(rf"inlined into {OUTER['function']}\s+\S*{inner}:{OUTER['line']}", out)


def test_crash_json_carries_every_inline_level():
    doc = json.loads(_run("crash", str(LOG), "--elf", str(ELF), "--json").output)
    f = doc["crashes"][0]["faulting"]
    assert f["function"] == INNER["function"]
    assert [(g["function"], g["line"]) for g in f["inlined"]] == \
        [(g["function"], g["line"]) for g in EXP["addr2line"]]


def test_html_shows_the_outer_frame(tmp_path: Path):
    out = tmp_path / "r.html"
    _run("report", str(LOG), "--elf", str(ELF), "-o", str(out))
    html = out.read_text()
    assert f"inlined into {OUTER['function']} (crash_app.c:{OUTER['line']})" in html
    assert re.search(rf"Faulting.{{0,200}}{INNER['function']}.{{0,200}}inlined into "
                     rf"{OUTER['function']} crash_app.c:{OUTER['line']}", html)


def test_monitor_decoder_names_inner_then_outer():
    from memsleuth.live.decoder import format_location
    from memsleuth.symbols import Symbolizer

    sym = Symbolizer.open(ELF, use_cache=False, engine="python")
    text = format_location(sym.symbolize_one(EXP["address"], "pc"))
    assert text == (f"{INNER['function']} crash_app.c:{INNER['line']}, inlined into "
                    f"{OUTER['function']} crash_app.c:{OUTER['line']}")
