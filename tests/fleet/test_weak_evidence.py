"""A leak seen only across a log's block dumps (no heap curve, no object trace) is strong
evidence only when its growth over the dumps is significant on its own (Mann-Kendall,
``STRONG_P``): three dumps never are, so such a site is listed under ``weak_sites``.

The log is the real x86-64 run of examples/wifi_reconnect_leak with its heap overview
tables and [MSOBJ] lines taken out: what a device that prints only dumps would send.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from memsleuth.fleet.extract import STRONG_P, Options
from memsleuth.fleet.identity import PathPattern
from memsleuth.fleet.ingest import ingest
from memsleuth.fleet.queries import answer, run_sql

OUT = Path(__file__).resolve().parents[2] / "examples" / "wifi_reconnect_leak" / "out"
#: the overview table (banner, rules, [HEAP]| header and row) and the object trace
_DROP = re.compile(r"^(=+ *Heap Info *=+|-{20,}|\[HEAP\]\|.*|\s+\|( *0x[0-9A-Fa-f]+ *\|)+"
                   r"|\[MSOBJ\] .*)\s*$")


def test_growth_over_three_dumps_alone_is_weak(tmp_path):
    from memsleuth.analysis.regression import mann_kendall

    logs, symbols = tmp_path / "logs" / "dev-dumps", tmp_path / "symbols"
    logs.mkdir(parents=True)
    symbols.mkdir()
    lines = (OUT / "x86_64-leak.log").read_text(encoding="utf-8").splitlines(True)
    (logs / "2026-11-01.log").write_text("".join(x for x in lines if not _DROP.match(x)))
    shutil.copy(OUT / "x86_64-leak.elf", symbols)
    store = tmp_path / "store"
    run = ingest([logs / "2026-11-01.log"], store, Options(PathPattern.compile(
        "{device}/{date}.log")), symbols, jobs=1)
    assert [r["status"] for r in run.logs] == ["ok"]
    log = run_sql(store, "SELECT overviews, object_events, block_dumps, leak FROM logs")[0]
    assert log["overviews"] == 0 and log["object_events"] == 0 and log["block_dumps"] >= 3

    rows = run_sql(store, """SELECT site_key, evidence, snapshots FROM findings
                             WHERE leaking AND function = 'wifi_connect'""")
    assert len(rows) == 1 and rows[0]["evidence"] == "weak"
    # three monotone dumps: the smallest p Mann-Kendall can give is far above STRONG_P
    n = rows[0]["snapshots"]
    assert n < 6 and mann_kendall(list(range(n)), list(range(n)))[2] > STRONG_P
    result = answer(store, ("leak_sites", "weak_sites"))
    assert result["leak_sites"] == []
    assert [s["site_key"] for s in result["weak_sites"]] == [rows[0]["site_key"]]
