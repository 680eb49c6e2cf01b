"""Fuzz campaign (issue 10): mutated logs through every verb's analysis, mutated ELFs through
the symbolizer. Passing means 0 tracebacks and 0 hangs: every case ends in a result or a
one-line MemsleuthError, within a time bound the harness enforces (SIGALRM per case).

    python3 tests/fuzz/campaign.py --logs 1000000 --elfs 10000 --out fuzz.json   # the campaign
    python3 tests/fuzz/campaign.py --logs 300 --elfs 30 --seed 7                 # a slice

Logs are windows (20-400 lines) of the bundled examples, the crash fixtures, the AliOS
fixtures and /work/shared/corpus/real, mutated (bit flips, byte noise, digits changed,
lines dropped/duplicated/swapped/spliced from another log, CR/LF/NUL noise, truncation),
then read by analyze, census, crash, trend, check, objects and diff as the CLI runs them
(in-process: 1,000,000 process starts would take days). ELFs are committed ELFs with random
bit flips and byte overwrites (1-16 per file) or a truncation, symbolized at ~200 addresses.
Failures are written out with their seed so each one replays alone (--replay).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

REAL = Path("/work/shared/corpus/real")


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang()


def seed_logs() -> list[tuple[str, list[bytes]]]:
    paths = sorted((ROOT / "examples").glob("*/out/*.log"))
    paths += sorted((ROOT / "tests" / "fixtures" / "crash").rglob("*.log"))
    paths += sorted((ROOT / "tests" / "fixtures" / "alios").glob("*.log"))
    if REAL.is_dir():
        paths += sorted(p for p in REAL.glob("*.log"))
    out = []
    for p in paths:
        lines = p.read_bytes().splitlines(keepends=True)
        if lines:
            out.append((str(p), lines))
    return out


def elf_of(log: str) -> Path | None:
    elf = Path(log).with_suffix(".elf")
    return elf if elf.exists() else None


def seed_elfs() -> list[Path]:
    return sorted(p for p in (ROOT / "tests" / "fixtures" / "symbols").glob("*.elf")) + \
        sorted((ROOT / "tests" / "fixtures" / "crash" / "qemu").glob("*.elf")) + \
        sorted((ROOT / "examples" / "wifi_reconnect_leak" / "out").glob("*.elf"))


# -- mutation -------------------------------------------------------------------------------
def mutate_log(rng: random.Random, seeds: list[tuple[str, list[bytes]]]
               ) -> tuple[bytes, str]:
    name, lines = rng.choice(seeds)
    n = rng.randint(20, 400)
    start = rng.randrange(max(1, len(lines) - n + 1))
    win = list(lines[start:start + n])
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(9)
        if not win:
            break
        i = rng.randrange(len(win))
        line = bytearray(win[i])
        if op == 0 and line:                       # bit flip
            j = rng.randrange(len(line))
            line[j] ^= 1 << rng.randrange(8)
        elif op == 1 and line:                     # random byte
            line[rng.randrange(len(line))] = rng.randrange(256)
        elif op == 2:                              # a digit changed
            digits = [j for j, c in enumerate(line) if 48 <= c <= 57]
            if digits:
                line[rng.choice(digits)] = rng.randrange(48, 58)
        elif op == 3:                              # line dropped
            del win[i]
            continue
        elif op == 4:                              # line duplicated
            win.insert(i, bytes(line))
        elif op == 5 and len(win) > 1:             # lines swapped
            k = rng.randrange(len(win))
            win[i], win[k] = win[k], win[i]
            continue
        elif op == 6:                              # spliced from another log
            _, other = rng.choice(seeds)
            k = rng.randrange(len(other))
            win[i:i] = other[k:k + rng.randint(1, 30)]
            continue
        elif op == 7:                              # CR / LF / NUL noise, cut line
            cut = rng.randrange(len(line) + 1)
            line[cut:cut] = rng.choice([b"\r", b"\n", b"\x00", b"\r\r\n", b"\n\r"])
        else:                                      # truncated mid-line
            line = line[: rng.randrange(len(line) + 1)]
            win[i] = bytes(line)
            del win[i + 1:]
            continue
        win[i] = bytes(line)
    return b"".join(win), name


def mutate_elf(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    if rng.random() < 0.1:
        return bytes(buf[: rng.randrange(len(buf))])
    for _ in range(rng.randint(1, 16)):
        j = rng.randrange(len(buf))
        buf[j] = buf[j] ^ (1 << rng.randrange(8)) if rng.random() < 0.6 else rng.randrange(256)
    return bytes(buf)


# -- one case -------------------------------------------------------------------------------
def run_log_case(path: Path, elf: Path | None) -> None:
    from memsleuth.analysis.check import Thresholds
    from memsleuth.commands import analyze, census, check, crash, diff, objects, report, trend
    from memsleuth.errors import MemsleuthError

    calls = [
        lambda: analyze.run_analyze(path, elf, 10),
        lambda: census.run_census(path, elf, None, "site", "bytes", 20, ()),
        lambda: crash.run_crash(path, elf, True),
        lambda: check.run_check(path, elf, Thresholds()),
        lambda: objects.run_objects(path, elf, 1, None),
        lambda: diff.run_diff(path, None, elf, None),
        lambda: trend.run_trend(path, None, "auto", None, "auto"),
        lambda: report.run_report(path, elf),
    ]
    for call in calls:
        with contextlib.suppress(MemsleuthError):  # a one-line error: fine
            call()


def run_elf_case(path: Path) -> None:
    from memsleuth.symbols import SymbolError, Symbolizer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sym = Symbolizer.open(path, use_cache=False, engine="python")
        ranges = sym.text_ranges[:8]
        total = sum(hi - lo for lo, hi in ranges) or 1
        step = max(2, (total // 200) & ~1)
        addrs = [a for lo, hi in ranges for a in range(lo, hi, step)][:400]
        sym.symbolize(addrs, "return")
        sym.symbolize(addrs, "pc")
        sym.check_return_addresses(addrs[:64])
    except SymbolError:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=int, default=1000)
    ap.add_argument("--elfs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=30, help="seconds per case (a hang)")
    ap.add_argument("--out", type=Path, default=None, help="JSON summary, rewritten as it goes")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between summaries")
    args = ap.parse_args()
    os.environ["MEMSLEUTH_NO_CACHE"] = "1"
    signal.signal(signal.SIGALRM, _alarm)
    logs, elfs = seed_logs(), seed_elfs()
    elf_bytes = [(p, p.read_bytes()) for p in elfs]
    tmp = Path(tempfile.mkdtemp(prefix="msfuzz-", dir="/dev/shm" if Path("/dev/shm").is_dir()
                                else None))
    summary = {"seed": args.seed, "seeds_logs": len(logs), "seeds_elfs": len(elfs),
               "logs_run": 0, "elfs_run": 0, "tracebacks": 0, "hangs": 0, "failures": [],
               "started": time.time(), "seconds": 0.0}
    last = time.monotonic()

    def save() -> None:
        summary["seconds"] = round(time.time() - summary["started"], 1)
        if args.out:
            args.out.write_text(json.dumps(summary, indent=1) + "\n")

    def one(kind: str, i: int) -> None:
        rng = random.Random(f"{args.seed}:{kind}:{i}")
        if kind == "log":
            path = tmp / "case.log"
            text, name = mutate_log(rng, logs)
            path.write_bytes(text)
            elf = elf_of(name) if rng.random() < 0.3 else None

            def fn(p: Path) -> None:
                run_log_case(p, elf)
        else:
            _, data = rng.choice(elf_bytes)
            path = tmp / "case.elf"
            path.write_bytes(mutate_elf(rng, data))
            fn = run_elf_case
        signal.alarm(args.timeout)
        try:
            fn(path)
        except Hang:
            summary["hangs"] += 1
            summary["failures"].append({"kind": kind, "case": i, "what": "hang"})
        except Exception as exc:  # noqa: BLE001 - that is what we are counting
            summary["tracebacks"] += 1
            summary["failures"].append({"kind": kind, "case": i,
                                        "what": f"{type(exc).__name__}: {exc}"[:300],
                                        "where": traceback.format_exc(limit=-3)[-800:]})
        finally:
            signal.alarm(0)

    try:
        for i in range(max(args.logs, args.elfs)):
            if i < args.elfs:
                one("elf", i)
                summary["elfs_run"] += 1
            if i < args.logs:
                one("log", i)
                summary["logs_run"] += 1
            if time.monotonic() - last > args.every:
                last = time.monotonic()
                save()
    except KeyboardInterrupt:
        summary["interrupted"] = True
    save()
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}))
    for f in summary["failures"][:10]:
        print(f, file=sys.stderr)
    return 1 if summary["tracebacks"] or summary["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
