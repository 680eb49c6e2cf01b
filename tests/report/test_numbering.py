"""Block dumps are named one way everywhere: '#N' in log order, with their kind."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main
from memsleuth.report.numbering import dump_list, dumps_phrase
from memsleuth.results.analyze import DumpEntry

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
LOG = str(OUT / "cortex-m4-leak.log")


def _run(*args: str) -> str:
    return CliRunner().invoke(main, list(args)).stdout


def _dump(index: int, variant: str) -> DumpEntry:
    return DumpEntry(index=index, line=1, variant=variant, cycle=None,  # type: ignore[arg-type]
                     used_blocks=1, used_bytes=8, partial=False)


def test_dump_lists_are_short_and_exact():
    assert dump_list([4, 0, 1, 2, 3, 7]) == "#0–#4, #7"
    assert dump_list([0, 3, 4]) == "#0, #3, #4"
    phrase = dumps_phrase([_dump(0, "B3"), _dump(1, "mmlk")])
    assert phrase == "2 block dumps: 1 full dump (#0), 1 mmlk listing (#1)"


def test_every_output_numbers_the_dumps_as_the_log_has_them():
    contents = json.loads(_run("analyze", LOG, "--json"))["contents"]
    kinds = {d["index"]: d["variant"] for d in contents["block_dumps"]}
    mmlk = sorted(i for i, v in kinds.items() if v == "mmlk")
    full = sorted(i for i, v in kinds.items() if v != "mmlk")
    assert mmlk and full                       # the example mixes both kinds
    text = _run("analyze", LOG)
    assert dump_list(mmlk) in text and dump_list(full) in text
    assert f"across {len(full)} full dumps {dump_list(full)}" in text
    census = json.loads(_run("census", LOG, "--json"))
    assert f"block dump #{census['snapshot']['index']} (full dump" in _run("census", LOG)
    # the same number picks the same dump in census --snapshot
    listing = _run("census", LOG, "--snapshot", str(mmlk[0]))
    assert f"block dump #{mmlk[0]} (mmlk listing" in listing
