"""The misreads of real published AliOS output listed in the corpus README, fixed.

Inputs are verbatim device output (tests/fixtures/real, provenance beside them).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from memsleuth.cli import main

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def analyze(name: str) -> tuple[dict, str]:
    log = str(REAL / name)
    data = json.loads(CliRunner().invoke(main, ["analyze", log, "--json"]).stdout)
    text = CliRunner().invoke(main, ["analyze", log]).stdout
    return data, text


def test_b1a_free_list_block_is_counted() -> None:
    data, text = analyze("B1a_wiki_dumpsys_mm_info_linuxhost.log")
    totals = data["census"]["totals"]
    assert (totals["free_blocks"], totals["free_bytes"], totals["largest_free"]) == (
        1, 756212, 756212)
    assert "free 756,212 B" in text


def test_b1b_mm_leak_line_is_said_in_text() -> None:
    data, text = analyze("B1b_wiki_dumpsys_mm_leak_linuxhost.log")
    assert data["contents"]["leak_candidates"] == 1
    assert "leak candidate (dumpsys mm_leak) at line 2: block 0x80acf28, 3096 B, owner " \
           "0x805ae3a" in text


def test_b2b_garbled_overview_is_not_the_heap() -> None:
    data, text = analyze("B2b_debugREADME_dumpsys_mm_info.log")
    assert data["heap"] is None                   # no negative "peak used" from TotalSz 32
    assert data["contents"]["impossible_rows"] == 1
    assert "FreeSz 1024 > TotalSz 32" in text


def test_b2c_elision_is_called_ambiguous() -> None:
    res = CliRunner().invoke(main, ["crash", str(REAL / "B2c_debugREADME_exception_dump.log"),
                                    "--json"])
    notes = " ".join(n for c in json.loads(res.stdout)["crashes"] for n in c["notes"])
    assert "'......'" in notes and "cut a log" in notes
