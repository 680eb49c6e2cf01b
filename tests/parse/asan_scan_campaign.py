"""The C scanner (``memsleuth._scan``) under AddressSanitizer and UBSan, differentially against
the line path (a one-off campaign, not collected by pytest).

    python3 tests/parse/asan_scan_campaign.py [--minutes 15] [--seed 1]

Builds ``_scan`` with ``-fsanitize=address,undefined`` into a copy of src/ under a temporary
directory, then re-runs itself there with the sanitizer runtimes preloaded. Each case is a
window (8-400 lines) of a committed AliOS / example log with 1-8 mutations aimed at the C
readers added for issue 12 (dump_run2's value lines: ``g_kmm_head``, ``[2^n] bytes:``
buckets, task rows, the ISR line; dump_run3's nested tables, banners and dump ends; block
lines; heap tables and the foreign lines
``heap_checks`` judges): digit runs of 1-25 digits, hex runs of 1-20, prefixes, escapes,
Latin-1 and wider characters, case flips, blanks, CR/NUL, byte flips, lines dropped or
duplicated. Every case goes through ``parse_file`` with the C scanner (at a random chunk
size) and with ``MEMSLEUTH_FAST=0``'s line path; record reprs and parse stats must be
equal. With ``heap_runs=True`` every ``heap_checks`` call is also checked against
parse/scan.py's Python loop on the same arguments, and direct calls with synthetic tables
(valid spans, and out-of-range or huge counts that must give -2) are made too. The first
invalid read or undefined behaviour aborts with the sanitizer's report; a difference is
printed with its (seed, case) and the run exits 1. ``--no-asan`` runs the same campaign on
the built module in src/.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from asan_helpers import in_child, rerun_sanitized  # noqa: E402

SEEDS = sorted((ROOT / "tests" / "fixtures" / "alios").glob("*.log")) + sorted(
    (ROOT / "examples").rglob("*.log"))

VALUE_LINES = [
    "g_kmm_head = 0x{h}", "g_kmm_head_resv={h}", "G_KMM_HEAD = 0X{h}", "g_kmm_head = 0x",
    "g_kmm_head 0x{h}", "[2^{d}] bytes: {d}", "[2^{d}]bytes:{d} [2^{d}] bytes:   {d}",
    "[2^{d}] bytes: {d}\t[2^{d}] bytes: {d}   [2^{d}] bytes: x", "[2^{d} bytes: {d}",
    "  [2^{d}] BYTES: {d}", "{w} {d} {d} {d}", "{w}\t{d}\t{d}\t{d}", "{w} {d} {d}",
    "{d} {d} {d} {d}", "{w}  {d}  {d}  {d}", "{w} -{d} {d} {d}", "{w} {d} {d} {d} ",
    "Allocated in ISR {n}, Allocated by deleted task {n}",
    "allocated in isr{n},allocated by deleted task{n}",
    "ALLOCATED IN ISR {n},   Allocated By Deleted Task {n} trailing",
    "x Allocated in ISR {n}, Allocated by deleted task", "Allocated in ISR {n} Allocated",
    "TaskName  Prio  StackSize  HeapAllocSize", "taskname prio stacksize heapallocsize {d}",
    "------------- task allocation statistic -------------",
    "---------- all free memory blocks ----------",
    "------------ memory allocation statistic ------------",
    "------------ alloc size statistic ------------", "-" * 24, "-" * 19, "ALL BLOCKS",
    "freelist bitmap: 0x{h}", "FL bitmap 0x{h}", "-> [{d}] [{d}]", "Blk_Addr  Stat  Len",
    "Address Stat Len Chk", "free | used | maxused", "{d} {d} {d}", "...",
    "0x{h} used {d} OK 0x{h}", "0x{h} free {d} OK 0x{h} (0x{h} <- 0x{h})",
    "0x{h} used sentinel OK 0x{h}", "0x{h}  used  {d}  fefefefe  0x{h}",
    "[HEAP]| TotalSz | FreeSz | UsedSz | MinFreeSz | MaxFreeBlkSz |",
    "[HEAP]| 0x{h} | 0x{h} | 0x{h} | 0x{h} | 0x{h} |", "[MSCYCLE] {d}",
    "k_mm_statistic IN K_CONFIG.H is closed", "[I][wifi] rssi=-45 ch={d}", "",
    # dump_run3: nested tables, the banners it reads on across, the dump's ends
    "-------------[kernel] heap size overview -------------", "--- heap size overview ---",
    "----[{w}] HEAP SIZE OVERVIEW----", "------ [] heap size overview ------",
    "      | 0x{h} | 0x{h} | 0x{h} | 0x{h} | 0x{h}    |", "| {d} | {d} | {d} |",
    "| {d} || {d} | {d} |", "[POOL]| PoolSz | FreeSz | UsedSz | BlkSz |", "=====x=====",
    "!!!!! {w} !!!!!", "----- New alloced blocks info ends. -----",
    "--------------New alloced blocks info ends-------------", "| 0x{h} | 0X{h} | {d} |",
]
PREFIXES = ["", "", "", "[  12.500] ", "[  12.500]<I> ", "I (123) tag: ", "12:10:07.331 > ",
            "2024-01-01 12:00:00.123 ", "<6>[ 1.000] ", "[00:00:01.000,000] <inf> app: ",
            "E: ", "\x1b[0;32m", "\x1b[0m", "Jan  1 00:00:01 host app: ", "(12) "]
ODD = ["\xe9", "\xa0", "\x85", "\x1c", "\u017f", "\u212a", "\u0661", "\x00", "\r", "\t",
       "\x1b[", "\x1b]0;", "\x1bX", "\x7f", "\x0b", " "]


def digits(rng: random.Random) -> str:
    n = rng.choice([1, 1, 2, 3, 4, 5, 9, 17, 18, 19, 20, 25]) if rng.random() < .5 \
        else rng.randint(1, 25)
    return "".join(rng.choice("0123456789") for _ in range(n))


def hexes(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdefABCDEF")
                   for _ in range(rng.choice([1, 4, 8, 15, 16, 17, 20, rng.randint(1, 20)])))


def value_line(rng: random.Random) -> str:
    t = rng.choice(VALUE_LINES)
    while "{" in t:
        t = t.replace("{h}", hexes(rng), 1).replace("{d}", digits(rng), 1).replace(
            "{n}", rng.choice(["", "-"]) + digits(rng), 1).replace(
            "{w}", rng.choice(["idle", "app_task", "t", "cli task", "a1", "[x]", "ab-c", "f"]), 1)
    return t


def mutate_line(line: str, rng: random.Random) -> str:
    k = rng.randrange(10)
    if k == 0 and any(c.isdigit() for c in line):        # a digit run of another length
        spans = [i for i, c in enumerate(line) if c.isdigit()]
        i = rng.choice(spans)
        j = i
        while j < len(line) and line[j].isdigit():
            j += 1
        return line[:i] + digits(rng) + line[j:]
    if k == 1:
        return rng.choice(PREFIXES) + line
    if k == 2:
        i = rng.randint(0, len(line))
        return line[:i] + rng.choice(ODD) + line[i:]
    if k == 3:
        return line.swapcase() if rng.random() < .3 else line.upper()
    if k == 4:
        return line.replace(" ", rng.choice(["\t", "  ", "", " \t"]), rng.randint(1, 3))
    if k == 5 and line:
        i = rng.randrange(len(line))
        return line[:i] + chr(rng.randrange(32, 256)) + line[i + 1:]
    if k == 6:
        return line[:rng.randint(0, len(line))]
    if k == 7:
        return line + rng.choice(["", " ", "\t", "\r", " x", " 1", "\x1b[0m"])
    return line


def make_case(seed: int, index: int, texts: list[list[str]]) -> str:
    rng = random.Random(f"{seed}-{index}")
    lines = rng.choice(texts)
    start = rng.randrange(max(1, len(lines) - 8))
    win = lines[start:start + rng.randint(8, 400)]
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(6)
        i = rng.randrange(len(win) + 1)
        if k <= 1:
            win.insert(i, rng.choice(PREFIXES) * (rng.random() < .3) + value_line(rng))
        elif k == 2 and win:
            win[min(i, len(win) - 1)] = mutate_line(win[min(i, len(win) - 1)], rng)
        elif k == 3 and win:
            del win[min(i, len(win) - 1)]
        elif k == 4 and win:
            win.insert(i, win[rng.randrange(len(win))])
        else:
            for j in range(len(win)):                   # many lines at once
                if rng.random() < .05:
                    win[j] = mutate_line(win[j], rng)
    end = rng.choice(["\n", "\n", "\r\n"])
    return end.join(win) + (end if rng.random() < .8 else "")


# -- heap_checks against scan._heap_run's Python loop -------------------------------------
def python_checks(text: str, skips: bytes, nskip: bytes, check_s: bytes, check_e: bytes) -> int:
    """scan._heap_run's Python decision (``scan.first_failing_table``) on the C call's arguments."""
    from memsleuth.parse import scan
    return scan.first_failing_table(text, *(memoryview(b).cast("q")
                                            for b in (skips, nskip, check_s, check_e)))


class Checked:
    """Wraps _scan.heap_checks: every call from parse/scan.py compared with Python's loop."""

    def __init__(self, real):
        self.real, self.calls, self.decided, self.bad = real, 0, 0, []

    def __call__(self, text, skips, nskip, check_s, check_e):
        got = self.real(text, skips, nskip, check_s, check_e)
        self.calls += 1
        if got != -2:
            self.decided += 1
            want = python_checks(text, bytes(skips), bytes(nskip), bytes(check_s),
                                 bytes(check_e))
            if got != want:
                self.bad.append((got, want))
        return got


def expanded(log) -> list[str]:
    """Record reprs with each HeapRun given as the records it stands for (its own repr
    shows memoryview addresses)."""
    out = []
    for r in log:
        if type(r).__name__ == "HeapRun":
            out.append(f"HeapRun {r.width} {r.cols} {r.variant} {r.nested}")
            out.extend(repr(x) for x in r.records())
        else:
            out.append(repr(r))
    return out


def pack(vals: list[int]) -> bytes:
    return struct.pack(f"{len(vals)}q", *vals)


def direct_checks(rng: random.Random, lines: list[str], fast, tally: dict) -> str | None:
    """One synthetic call: tables whose skipped lines and check lines are spans of text."""
    text = "\n".join(lines) + "\n"
    spans, pos = [], 0
    for ln in lines:
        spans.append((pos, pos + len(ln)))
        pos += len(ln) + 1
    tables = rng.randint(1, 6)
    skips: list[int] = []
    nskip, cs, ce = [], [], []
    for _ in range(tables):
        n = rng.choice([0, 0, 1, 2, 3])
        for _ in range(n):
            skips.extend(rng.choice(spans))
        nskip.append(n)
        a, b = rng.choice(spans) if rng.random() < .6 else (-1, -1)
        cs.append(a)
        ce.append(b)
    hostile = rng.random() < .1
    if hostile:                       # out of range: C must say -2 (or decide in range)
        which = rng.randrange(4)
        if which == 0:
            nskip[rng.randrange(tables)] = rng.choice([1 << 62, (1 << 63) - 1, 1 << 61, -1])
        elif which == 1 and skips:
            skips[rng.randrange(len(skips))] = rng.choice([-5, len(text) + 3, 1 << 62])
        elif which == 2:
            ce[rng.randrange(tables)] = len(text) + rng.randint(1, 9)
            cs[rng.randrange(tables)] = 0
        else:
            skips = skips[:max(0, len(skips) - 1)]
    args = (text, pack(skips), pack(nskip), pack(cs), pack(ce))
    got = fast.heap_checks(*args)
    tally["direct"] += 1
    if got == -2:
        tally["direct -2"] += 1
        return None
    if hostile:
        return None               # decided before reaching the bad entry: nothing to compare
    want = python_checks(*args)
    if got != want:
        return f"heap_checks {got} != Python {want} on {args!r}"
    return None


def campaign(seed: int, minutes: float) -> int:
    from memsleuth import accel
    from memsleuth.parse import parse_file
    from memsleuth.sources import file as file_source

    fast = accel.module()
    assert fast is not None and hasattr(fast, "dump_run2"), "the C scanner is not loaded"
    print(f"C scanner from {fast.__file__}", flush=True)
    texts = [p.read_text(encoding="utf-8", errors="replace").splitlines() for p in SEEDS]
    texts = [t for t in texts if t]
    real_checks = fast.heap_checks
    name = "dump_run3" if hasattr(fast, "dump_run3") else "dump_run2"   # what scan.py calls
    real_dump = getattr(fast, name)
    acts = [0] * 8          # per act tag (kmm, buckets, task rows, ISR, nested table,
    #                         stat/tasks banner, mmlk end), then the dumps it ended

    def counted(*args):                 # how many of each act the cases make
        got = real_dump(*args)
        for act in got[8]:
            acts[act[0]] += 1
        acts[7] += len(got) > 9 and bool(got[9])
        return got
    setattr(fast, name, counted)
    checked = Checked(real_checks)
    tally = {"cases": 0, "direct": 0, "direct -2": 0, "heap_runs cases": 0}
    deadline = time.monotonic() + minutes * 60
    failures = 0
    chunk0 = file_source.CHUNK_BYTES
    with tempfile.TemporaryDirectory(prefix="scanrev-") as tmp:
        log = Path(tmp) / "case.log"
        index = 0
        while time.monotonic() < deadline:
            case = make_case(seed, index, texts)
            log.write_bytes(case.encode("utf-8", "surrogatepass"))
            crng = random.Random(f"{seed}-{index}-run")
            file_source.CHUNK_BYTES = crng.choice([chunk0, chunk0, 97, 4096, 1000])
            try:
                a = parse_file(log, fast=True)
                got = ([repr(r) for r in a], dataclasses.asdict(a.stats))
                file_source.CHUNK_BYTES = chunk0
                os.environ["MEMSLEUTH_FAST"] = "0"
                try:
                    b = parse_file(log, fast=False)
                finally:
                    del os.environ["MEMSLEUTH_FAST"]
                want = ([repr(r) for r in b], dataclasses.asdict(b.stats))
                if got != want:
                    failures += 1
                    print(f"DIFF seed {seed} case {index}", flush=True)
                    (Path.cwd() / f"scanrev_case_{seed}_{index}.log").write_bytes(log.read_bytes())
                if index % 3 == 0:            # HeapRuns: heap_checks on real arguments
                    fast.heap_checks = checked
                    try:
                        h1 = expanded(parse_file(log, fast=True, heap_runs=True))
                        del fast.heap_checks
                        h2 = expanded(parse_file(log, fast=True, heap_runs=True))
                    finally:
                        fast.heap_checks = real_checks
                    tally["heap_runs cases"] += 1
                    if h1 != h2:
                        failures += 1
                        print(f"HEAPRUN DIFF seed {seed} case {index}", flush=True)
                    if checked.bad:
                        failures += 1
                        print(f"heap_checks DIFF seed {seed} case {index}: {checked.bad[:3]}",
                              flush=True)
                        checked.bad.clear()
                lines = case.splitlines()
                for _ in range(3):
                    msg = direct_checks(crng, lines or [""], fast, tally)
                    if msg:
                        failures += 1
                        print(f"seed {seed} case {index}: {msg[:2000]}", flush=True)
            finally:
                file_source.CHUNK_BYTES = chunk0
            index += 1
            tally["cases"] = index
            if index % 2000 == 0:
                print(f"{tally} acts {acts} checks calls {checked.calls} decided {checked.decided} "
                      f"failures {failures}", flush=True)
    print(f"done: {tally} {name} acts (kmm, buckets, task rows, ISR, nested tables, "
          f"banners, mmlk ends; dumps ended) {acts}, "
          f"heap_checks calls from scan.py {checked.calls} "
          f"(decided in C {checked.decided}), failures {failures}", flush=True)
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-asan", action="store_true")
    args = ap.parse_args()
    if in_child() or args.no_asan:
        if args.no_asan:
            sys.path.insert(0, str(ROOT / "src"))
        return campaign(args.seed, args.minutes)
    return rerun_sanitized("_scan", __file__, sys.argv[1:], ignore="_scan*.so",
                           recover_ub=False)

if __name__ == "__main__":
    sys.exit(main())
