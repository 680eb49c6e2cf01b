"""A block whose header is corrupt (or whose size is impossible) is in no figure of any verb.

The real case: our QEMU firmware overflowed a 32-byte block into the next header, and the
dump printed that header as ``0x20000bc8 !used  824326688      726f  0x22323430`` on an 8 KiB
heap whose overview says UsedSz 248 B. Counted, it was "786.1 MiB live, 100 % at 0x22323430".
The truth here is read off the log text by a regex of this file (the rows whose Chk is OK),
not by the parser under test. The other cases are real logs edited the way an overflow
writes a header (a bad dye, a garbage size and owner), or with a size no block can have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.analysis.block_trust import untrusted
from memsleuth.cli import main
from memsleuth.parse import parse_file
from memsleuth.records import BlockDump

ROOT = Path(__file__).resolve().parents[2]
OVERFLOW = ROOT / "tests" / "fixtures" / "crash" / "qemu" / "heap" / "cm4_heap_overflow"
OUT = ROOT / "examples" / "wifi_reconnect_leak" / "out"
GARBAGE_OWNER = 0x22323430
#: one row of a B3 dump: address, '!', state, size, Chk, owner
ROW = re.compile(r"^0x([0-9a-f]+)\s+(!?)(used|free)\s+(\d+)\s+(OK|[0-9a-f]+)\s+0x([0-9a-f]+)",
                 re.IGNORECASE)


def run_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    return result.exit_code, loads_valid(result.stdout)


def run_text(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def rows_of_last_dump(text: str) -> list[tuple[int, re.Match[str]]]:
    """(line number, row) of the last 'ALL BLOCKS' list of a B3 log."""
    lines = text.splitlines()
    start = max(i for i, s in enumerate(lines) if s.strip() == "ALL BLOCKS")
    out = []
    for n in range(start + 1, len(lines)):
        m = ROW.match(lines[n].strip())
        if m:
            out.append((n, m))
        elif out and not lines[n].strip():
            break
    return out


def trusted_used(rows: list[tuple[int, re.Match[str]]]) -> tuple[int, int]:
    """(blocks, bytes) of the used rows whose header checks out (Chk OK, no '!')."""
    used = [int(m[4]) for _, m in rows if m[3] == "used" and m[5].upper() == "OK" and not m[2]]
    return len(used), sum(used)


# -- the real overflow log ---------------------------------------------------------------


def test_overflow_census_counts_only_trusted_blocks() -> None:
    log = OVERFLOW.with_suffix(".log")
    rows = rows_of_last_dump(log.read_text())
    blocks, live = trusted_used(rows)
    code, data = run_json("census", str(log), "--elf", str(OVERFLOW.with_suffix(".elf")),
                          "--top", "0")
    totals = data["totals"]
    assert (totals["used_blocks"], totals["used_bytes"]) == (blocks, live) == (4, 136)
    assert totals["used_bytes"] <= totals["overview_used"] == 0xF8
    assert sum(r["bytes"] for r in data["rows"]) == live
    assert abs(sum(r["share"] for r in data["rows"]) - 1.0) < 1e-9
    # no site owns the garbage: not as a row, not as an owner of a row
    assert all(GARBAGE_OWNER not in r["owners"] for r in data["rows"])
    assert max(r["bytes"] for r in data["rows"]) == 96        # session_open's 2 x 48 B
    # the corrupt block is reported apart, as printed, with what it means
    (bad,) = data["corrupted"]
    assert bad["reason"] == "bad_dye" and bad["block"]["trusted"] is False
    assert (bad["block"]["addr"], bad["block"]["line"]) == (0x20000BC8, 14)
    assert (bad["block"]["size"], bad["block"]["owner"], bad["block"]["dye"]) == (
        824326688, GARBAGE_OWNER, 0x726F)
    assert bad["block"]["site"] is None
    assert bad["span"] == 0x20000BE8 - 0x20000BC8             # the free block that follows
    assert bad["overrun_by_previous"] is True
    assert bad["previous"]["addr"] == 0x20000B98
    assert bad["previous"]["site"].startswith("rx_frame_alloc")
    assert totals["untrusted_blocks"] == 1
    assert totals["printed_used_bytes"] == live + 824326688
    assert code == 4                       # the totals are lower bounds: a partial result


def test_overflow_census_text_says_what_was_left_out() -> None:
    log = OVERFLOW.with_suffix(".log")
    code, out = run_text("census", str(log), "--elf", str(OVERFLOW.with_suffix(".elf")))
    assert "4 live blocks, 136 B in 3 sites" in out
    assert "786" not in out.split("corrupted block")[0]       # no garbage in the figures
    assert "0x20000bc8" in out and "824326688" in out         # the raw header is shown
    assert "write past the end of the used block 0x20000b98" in out
    assert "rx_frame_alloc" in out
    assert "UsedSz printed with the dump is 248 B" in out
    assert code == 4


def test_overflow_analyze_and_report_figures() -> None:
    log, elf = OVERFLOW.with_suffix(".log"), OVERFLOW.with_suffix(".elf")
    _, data = run_json("analyze", str(log), "--elf", str(elf))
    assert data["census"]["totals"]["used_bytes"] == 136
    assert [d["used_bytes"] for d in data["contents"]["block_dumps"]] == [136]
    assert all(GARBAGE_OWNER not in r["owners"] for r in data["census"]["rows"])
    # the crash explanation still finds the overflow, and blames the block before it
    assert data["crash"]["cause"]["category"] == "heap_overflow"
    assert "rx_frame_alloc" in data["crash"]["cause"]["summary"]


def test_overflow_crash_heap_map_does_not_use_the_garbage_size() -> None:
    log, elf = OVERFLOW.with_suffix(".log"), OVERFLOW.with_suffix(".elf")
    _, data = run_json("crash", str(log), "--elf", str(elf))
    heap = data["crashes"][0]["heap"] if "crashes" in data else data["heap"]
    (bad,) = heap["corrupted_blocks"]
    assert bad["addr"] == 0x20000BC8 and "owner_function" not in bad
    # the garbage size (786 MiB) would make every address above the block "inside" it
    assert all(h["block"]["addr"] != 0x20000BC8 or h["address"] < 0x20000BE8
               for h in heap["hits"])
    _, text = run_text("crash", str(log), "--elf", str(elf))
    assert "block 0x20000BC8 header corrupt (printed size 824326688 B" in text
    assert "used 824326688 B" not in text


# -- real logs edited the way an overflow writes a header --------------------------------


def _edit(tmp_path: Path, name: str, new_row: str) -> tuple[Path, int, re.Match[str]]:
    """The real log with one used row of its last full dump replaced by ``new_row``
    (formatted with the row's address): the row after a used block, not the largest."""
    src = OUT / f"{name}.log"
    text = src.read_text()
    rows = rows_of_last_dump(text)
    sizes = [int(m[4]) for _, m in rows]
    k = next(k for k in range(1, len(rows) - 1)
             if rows[k][1][3] == "used" and rows[k - 1][1][3] == "used"
             and int(rows[k][1][4]) < max(sizes) and int(rows[k - 1][1][4]) > 0)
    n, m = rows[k]
    lines = text.splitlines(keepends=True)
    lines[n] = new_row.format(addr=m[1]) + "\n"
    out = tmp_path / src.name
    out.write_text("".join(lines))
    return out, n + 1, m


OVERWRITTEN = "0x{addr} !used  824326688      726f  0x22323430 "


def test_edited_real_log_census_trend_and_growth(tmp_path: Path) -> None:
    elf = str(OUT / "cortex-m4-leak.elf")
    log, line, row = _edit(tmp_path, "cortex-m4-leak", OVERWRITTEN)
    blocks, live = trusted_used(rows_of_last_dump(log.read_text()))
    code, data = run_json("census", str(log), "--elf", elf, "--top", "0")
    _, orig = run_json("census", str(OUT / "cortex-m4-leak.log"), "--elf", elf, "--top", "0")
    assert (data["totals"]["used_blocks"], data["totals"]["used_bytes"]) == (blocks, live)
    assert live == orig["totals"]["used_bytes"] - int(row[4])
    assert all(GARBAGE_OWNER not in r["owners"] for r in data["rows"])
    (bad,) = data["corrupted"]
    assert (bad["block"]["line"], bad["reason"]) == (line, "bad_dye")
    assert code == 4
    # the forecast's "largest allocation" level is a real block, not the garbage
    _, trend = run_json("trend", str(log))
    _, trend0 = run_json("trend", str(OUT / "cortex-m4-leak.log"))
    levels = {lv["level"]: lv["bytes"] for lv in trend["forecast"]["levels"]}
    levels0 = {lv["level"]: lv["bytes"] for lv in trend0["forecast"]["levels"]}
    assert levels["free_below_allocation"] == levels0["free_below_allocation"] < 8192
    assert trend["forecast"]["exhaustion"] == trend0["forecast"]["exhaustion"]
    # growth across the dumps: no site is made of the garbage, the verdict is unchanged
    code_c, check = run_json("check", str(log), "--elf", elf)
    code_c0, check0 = run_json("check", str(OUT / "cortex-m4-leak.log"), "--elf", elf)
    assert code_c == code_c0 == 1
    growth, growth0 = check["growth"], check0["growth"]
    assert growth["dumps"] == growth0["dumps"]      # the dump stays in the series
    newest = {r["key"]: r["bytes"][-1] for r in growth["rows"]}
    newest0 = {r["key"]: r["bytes"][-1] for r in growth0["rows"]}
    assert newest.keys() == newest0.keys()           # no site made of the garbage
    # the only change: the overwritten block's own site holds one block less
    assert sorted(newest0[k] - newest[k] for k in newest if newest0[k] != newest[k]) == [
        int(row[4])]
    # analyze's dump list: that dump's live bytes are the trusted ones
    _, an = run_json("analyze", str(log), "--elf", elf)
    newest = max(an["contents"]["block_dumps"], key=lambda d: d["line"])
    assert newest["used_bytes"] == live


@pytest.mark.parametrize(("new_row", "reason"), [
    # the dye checks out but the size is larger than the whole heap (TotalSz 0x19000)
    ("0x{addr}  used  824326688   OK  0x22323430 ", "too_large"),
    # below TotalSz, but running past the next block's header
    ("0x{addr}  used   70000   OK  0x22323430 ", "overlaps_next"),
])
def test_impossible_size_with_a_good_dye_is_left_out(tmp_path: Path, new_row: str,
                                                     reason: str) -> None:
    log, line, row = _edit(tmp_path, "cortex-m4-leak", new_row)
    code, data = run_json("census", str(log), "--top", "0")
    _, orig = run_json("census", str(OUT / "cortex-m4-leak.log"), "--top", "0")
    assert data["totals"]["used_bytes"] == orig["totals"]["used_bytes"] - int(row[4])
    assert all(GARBAGE_OWNER not in r["owners"] for r in data["rows"])
    (bad,) = data["corrupted"]
    assert (bad["block"]["line"], bad["reason"]) == (line, reason)
    assert code == 4


# -- nothing that is fine changes --------------------------------------------------------

REAL_LOGS = sorted({*ROOT.glob("examples/**/*.log"), *ROOT.glob("tests/fixtures/real/*.log"),
                    *ROOT.glob("tests/fixtures/rtos/real/*.log"),
                    *ROOT.glob("tests/fixtures/crash/qemu/**/*.log"),
                    *ROOT.glob("tests/fixtures/freertos/*.log")})


@pytest.mark.parametrize("log", REAL_LOGS, ids=lambda p: p.name)
def test_real_logs_only_device_flagged_blocks_are_left_out(log: Path) -> None:
    """On every real log (firmware that ran, verbatim device output), the blocks left out
    are exactly the ones the device flagged: no sound block is judged impossible."""
    for record in parse_file(log):
        if isinstance(record, BlockDump):
            flagged = {i for i, b in enumerate(record.blocks) if b.corrupted or not b.dye_ok}
            assert set(untrusted(record)) == flagged, (log.name, record.line)


def test_a_printer_convention_is_not_an_overlap() -> None:
    """A printer whose sizes all reach past the next address (header counted in the size of
    a user-pointer row) shows that on every pair: no block is judged from it."""
    dump = next(r for r in parse_file(OUT / "cortex-m4-leak.log")
                if isinstance(r, BlockDump) and r.variant == "B3")
    for a, c in zip(dump.blocks, dump.blocks[1:], strict=False):
        if a.size is not None and c.addr > a.addr:
            a.size = c.addr - a.addr + 8
    assert untrusted(dump) == {}


def test_edited_real_log_diff_says_blocks_were_left_out(tmp_path: Path) -> None:
    log, line, _ = _edit(tmp_path, "cortex-m4-leak", OVERWRITTEN)
    code, data = run_json("diff", str(log))
    assert code == 4
    assert any(f"first at line {line}" in n for n in data["partial"])
    code0, data0 = run_json("diff", str(OUT / "cortex-m4-leak.log"))
    assert code0 == 0 and not data0["partial"]


def test_trusted_blocks_above_the_overviews_used_size_make_the_dump_untrusted(
        tmp_path: Path) -> None:
    """The dump's own overview says UsedSz 0x40 (a possible table: used + free = total):
    136 B of trusted payload cannot fit, so the figures are marked, not believed."""
    text = OVERFLOW.with_suffix(".log").read_text()
    row = "| 0x00002000 | 0x00001F08 | 0x000000F8 | 0x00001F08 | 0x00001EF8    |"
    assert row in text
    log = tmp_path / "overflow_usedsz.log"
    log.write_text(text.replace(row, "| 0x00002000 | 0x00001FC0 | 0x00000040 | 0x00001F08 | "
                                     "0x00001EF8    |", 1))
    code, data = run_json("census", str(log))
    assert data["totals"]["used_bytes"] == 136 and data["totals"]["overview_used"] == 0x40
    assert "more than the UsedSz 64 B" in data["snapshot"]["untrusted_reason"]
    assert code == 4
    _, orig = run_json("census", str(OVERFLOW.with_suffix(".log")))
    assert orig["snapshot"]["untrusted_reason"] is None


def test_fleet_blocks_table_flags_an_impossible_size(tmp_path: Path) -> None:
    """The store's blocks table flags what every verb leaves out, a size no block can have
    (its dye checks out) included, so a SQL sum over unflagged rows is the census's."""
    from memsleuth.fleet.queries import run_sql

    log, line, _ = _edit(tmp_path, "cortex-m4-leak", "0x{addr}  used  824326688   OK  0x22323430 ")
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["ingest", str(log), "--out", str(store), "--json"])
    assert result.exit_code in (0, 4), result.output
    flagged = run_sql(store, "SELECT line, size FROM blocks WHERE corrupted")
    assert [(r["line"], r["size"]) for r in flagged] == [(line, 824326688)]
    _, census = run_json("census", str(log))
    last = run_sql(store, "SELECT sum(size) AS n FROM blocks WHERE used AND NOT corrupted AND "
                          "size IS NOT NULL AND dump_index = (SELECT max(dump_index) FROM "
                          "blocks)")
    assert last[0]["n"] == census["totals"]["used_bytes"]


def test_error_blocks_list_is_not_the_census_dump():
    """AliOS' ``mmlk`` prints the device's error blocks after the tag's new blocks: a list of
    corrupt headers, no census of the heap. The census shows the listing before it and says
    where the error blocks are; ``--snapshot`` still shows them."""
    log = ROOT / "tests" / "fixtures" / "alios" / "mmlk.log"
    runner = CliRunner()
    doc = loads_valid(runner.invoke(main, ["census", str(log), "--json"]).stdout)
    assert doc["snapshot"]["variant"] == "mmlk" and doc["snapshot"]["index"] == 1
    assert any("error blocks" in n and "--snapshot 2" in n for n in doc["notes"])
    errors = loads_valid(runner.invoke(main, ["census", str(log), "--json",
                                              "--snapshot", "2"]).stdout)
    assert errors["snapshot"]["variant"] == "error_blocks"
    assert {c["block"]["addr"] for c in errors["corrupted"]} == {0x200041F0, 0x20004400}
