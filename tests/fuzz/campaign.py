"""Fuzz campaign (issue 10): mutated logs through every verb as the CLI runs them, mutated ELFs
through the symbolizer. It passes with 0 tracebacks, 0 hangs, and 0 "clean" verdicts from
``check`` on a mutant of a leaking log that keeps the leak visible to a human
(``visible.py`` defines that class).

    python3 tests/fuzz/campaign.py --logs 1000000 --elfs 10000 --out fuzz.json   # the campaign
    python3 tests/fuzz/campaign.py --logs 300 --elfs 30 --seed 7                 # a slice
    python3 tests/fuzz/campaign.py --replay log:123456 --seed 10                 # one case

Logs are windows (8-100 lines; 60-600 lines for the leak cases, a tenth of them, which need
many overview rows) of the bundled examples, the crash fixtures, the AliOS and FreeRTOS
fixtures and /work/shared/corpus/real, mutated (bit flips, byte noise, digits changed, lines
dropped/duplicated/swapped/spliced from another log, CR/LF/NUL noise, truncation). Each is
run in-process through the click entry point with stdout captured, as the CLI runs it (a
process start per run would take days): every mutant through ``check`` (the verdict under
test) and, except the leak cases, through one more verb in turn (analyze, census, crash
--all, objects, diff, trend, report), text or --json by turns, with the matching ELF for
30 % of the cases whose seed has one.

A traceback is any exception that reaches the verb's last line of defence (``internal error``)
or escapes it. Hangs are bounded twice, in CPU seconds (on a shared machine a starved run
is slow, not hung): SIGPROF in the worker (--timeout CPU seconds per verb run) and the
parent, which kills a worker whose verb run has used 3x that (a loop in C code that no
signal interrupts) or has sat --stuck wall seconds (blocked, not running) and restarts it
after that case. Every case is derived from
``(--seed, kind, index)`` alone, so each finding replays alone (--replay).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import visible  # noqa: E402  (tests/fuzz/visible.py)

REAL = Path("/work/shared/corpus/real")
VERBS = ("analyze", "census", "crash", "check", "objects", "diff", "trend", "report")
#: per-verb counters in shared memory: runs, exit 0..4, other exit, tracebacks, hangs
COLS = ("runs", "exit0", "exit1", "exit2", "exit3", "exit4", "other", "tracebacks", "hangs")
#: leak-class counters: visible mutants (overview rows / failure line), clean on them,
#: failure-line mutants whose check did not exit 1
CLASS = ("leak_cases", "visible_rows", "visible_failure", "clean_on_visible",
         "failure_not_exit1")
BUSY = 5                   # slots per worker in Campaign.busy
LEAK_SHARE = 0.1           # share of log cases cut from a leaking seed with long windows
OTHERS = tuple(v for v in VERBS if v != "check")


class Hang(BaseException):
    """Raised by SIGPROF: a BaseException so the verbs' last line of defence lets it by."""


def _alarm(_signum, _frame):
    raise Hang()


def _arm(seconds: float) -> None:
    """SIGPROF after ``seconds`` of this process's CPU time (0: disarm)."""
    signal.setitimer(signal.ITIMER_PROF, seconds)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed_logs() -> list[tuple[str, list[bytes]]]:
    paths = sorted((ROOT / "examples").glob("*/out/*.log"))
    paths += sorted((ROOT / "tests" / "fixtures" / "crash").rglob("*.log"))
    paths += sorted((ROOT / "tests" / "fixtures" / "alios").glob("*.log"))
    paths += sorted((ROOT / "tests" / "fixtures" / "freertos").glob("*.log"))
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
def mutate_log(rng: random.Random, seeds: list[tuple[str, list[bytes]]],
               leak_seeds: list[int] | None = None, leak_share: float = LEAK_SHARE
               ) -> tuple[bytes, str, list[tuple[int, int] | None], int, bool]:
    """A mutated window of one seed: (bytes, seed name, provenance, seed index, leak case).

    Provenance has one entry per element of the mutant: (seed, line) for a line copied
    unchanged (a duplicate or a splice from another seed included), None for a changed one.
    """
    leak_case = bool(leak_seeds) and rng.random() < leak_share
    if leak_case:
        si = rng.choice(leak_seeds)
        n = rng.randint(60, 600)
    else:
        si = rng.randrange(len(seeds))
        n = rng.randint(8, 100)
    name, lines = seeds[si]
    start = rng.randrange(max(1, len(lines) - n + 1))
    win = list(lines[start:start + n])
    tags: list[tuple[int, int] | None] = [(si, start + k) for k in range(len(win))]
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
            del win[i], tags[i]
            continue
        elif op == 4:                              # line duplicated
            win.insert(i, bytes(line))
            tags.insert(i, tags[i])
            continue
        elif op == 5 and len(win) > 1:             # lines swapped
            k = rng.randrange(len(win))
            win[i], win[k] = win[k], win[i]
            tags[i], tags[k] = tags[k], tags[i]
            continue
        elif op == 6:                              # spliced from another log
            oi = rng.randrange(len(seeds))
            other = seeds[oi][1]
            k = rng.randrange(len(other))
            part = other[k:k + rng.randint(1, 30)]
            win[i:i] = part
            tags[i:i] = [(oi, k + m) for m in range(len(part))]
            continue
        elif op == 7:                              # CR / LF / NUL noise, cut line
            cut = rng.randrange(len(line) + 1)
            line[cut:cut] = rng.choice([b"\r", b"\n", b"\x00", b"\r\r\n", b"\n\r"])
        else:                                      # truncated mid-line
            line = line[: rng.randrange(len(line) + 1)]
            win[i] = bytes(line)
            tags[i] = None
            del win[i + 1:], tags[i + 1:]
            continue
        if bytes(line) != win[i]:
            tags[i] = None
        win[i] = bytes(line)
    return b"".join(win), name, visible.intact_tags(win, tags), si, leak_case


def mutate_elf(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    if rng.random() < 0.1:
        return bytes(buf[: rng.randrange(len(buf))])
    for _ in range(rng.randint(1, 16)):
        j = rng.randrange(len(buf))
        buf[j] = buf[j] ^ (1 << rng.randrange(8)) if rng.random() < 0.6 else rng.randrange(256)
    return bytes(buf)


# -- running a verb in-process --------------------------------------------------------------
_CAUGHT: list[str] = []


def _install_error_hook() -> None:
    """The verbs' last line of defence prints 'internal error (...)' and exits 3: that is a
    traceback the user would have seen as a bug report request; keep its stack."""
    from memsleuth.commands import common

    original = common.error

    def error(message: str) -> None:
        if message.startswith("internal error"):
            _CAUGHT.append(traceback.format_exc(limit=-4)[-1200:])
        original(message)

    common.error = error


def run_verb(args: list[str]) -> tuple[int, str | None]:
    """memsleuth ARGS in this process: (exit code, traceback text or None)."""
    from memsleuth.cli import main

    _CAUGHT.clear()
    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            main.main(args=args, prog_name="memsleuth", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    except Hang:
        raise
    except BaseException:  # noqa: BLE001 - an escape from the verb is what we count
        return -1, traceback.format_exc(limit=-4)[-1200:]
    if _CAUGHT:
        return -1, _CAUGHT[0]
    code = 0 if code is None else code
    return (code if isinstance(code, int) else 2), None


def verb_args(verb: str, path: Path, elf: Path | None, as_json: bool, tmp: Path) -> list[str]:
    args = {"crash": ["crash", "--all"], "report": ["report", "-o", str(tmp / "r.html")]}.get(
        verb, [verb])
    args = [*args, str(path)] + ([] if verb in ("diff", "report") else ["-q"])
    if elf is not None and verb != "trend":
        args += ["--elf", str(elf)]
    if as_json:
        args.append("--json")
    return args


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


# -- the campaign ---------------------------------------------------------------------------
class Campaign:
    """Shared state of one run: seeds, counters in shared memory, where findings go."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.logs = seed_logs()
        self.elfs = [(p, p.read_bytes()) for p in seed_elfs()]
        self.truth = visible.SeedTruth.load(self.logs)
        self.leak_seeds = [i for i, (n, _) in enumerate(self.logs) if self.truth.leaking(i)]
        w = max(1, args.workers)
        self.counts = mp.Array("q", w * (len(VERBS) + 1) * len(COLS), lock=False)
        self.klass = mp.Array("q", w * len(CLASS), lock=False)
        self.done = mp.Array("q", w * 2, lock=False)          # logs, elfs finished
        # per worker: kind (1 log, 2 elf), case, CPU seconds at the run's start, verb, wall t0
        self.busy = mp.Array("d", w * BUSY, lock=False)

    def add(self, w: int, verb: int, col: str) -> None:
        self.counts[(w * (len(VERBS) + 1) + verb) * len(COLS) + COLS.index(col)] += 1

    def make_log(self, i: int):
        rng = random.Random(f"{self.args.seed}:log:{i}")
        data, name, intact, si, leak_case = mutate_log(rng, self.logs, self.leak_seeds)
        elf = elf_of(name) if rng.random() < 0.3 else None
        # check reads every mutant (the verdict under test); a general case also goes
        # through one other verb, in turn; the long leak cases through check alone
        verbs = ("check",) if leak_case else ("check", OTHERS[i % len(OTHERS)])
        return data, name, intact, si, elf, rng.random() < 0.5, verbs

    def make_elf(self, i: int) -> bytes:
        rng = random.Random(f"{self.args.seed}:elf:{i}")
        _, data = rng.choice(self.elfs)
        return mutate_elf(rng, data)


def finding(fh, **kw) -> None:
    fh.write(json.dumps(kw) + "\n")
    fh.flush()


def worker(c: Campaign, w: int, start: int, tmp: Path, findings: Path) -> None:
    """Cases w, w+W, w+2W, ... from ``start``: ELFs first (fewer), then logs."""
    os.nice(0)
    signal.signal(signal.SIGPROF, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _install_error_hook()
    W = max(1, c.args.workers)
    tmp = tmp / f"w{w}"
    tmp.mkdir(exist_ok=True)
    fh = findings.open("a")
    total = c.args.elfs + c.args.logs
    for k in range(start, total, W):
        kind = "elf" if k < c.args.elfs else "log"
        i = k if kind == "elf" else k - c.args.elfs
        b = w * BUSY
        c.busy[b], c.busy[b + 1], c.busy[b + 2], c.busy[b + 4] = (
            1 if kind == "log" else 2), k, time.process_time(), time.time()
        if kind == "elf":
            path = tmp / "case.elf"
            path.write_bytes(c.make_elf(i))
            _arm(c.args.timeout)
            try:
                run_elf_case(path)
                c.add(w, len(VERBS), "runs")
            except Hang:
                c.add(w, len(VERBS), "hangs")
                finding(fh, kind="elf", case=i, seed=c.args.seed, what="hang")
            except Exception:  # noqa: BLE001 - that is what we count
                c.add(w, len(VERBS), "tracebacks")
                finding(fh, kind="elf", case=i, seed=c.args.seed, what="traceback",
                        where=traceback.format_exc(limit=-4)[-1200:])
            finally:
                _arm(0)
            c.done[w * 2 + 1] += 1
            continue
        one_log(c, w, i, tmp, fh)
        c.done[w * 2] += 1
    c.busy[w * BUSY] = 0
    fh.close()


def one_log(c: Campaign, w: int, i: int, tmp: Path, fh) -> dict[str, int]:
    data, name, intact, si, elf, as_json, verbs = c.make_log(i)
    path = tmp / "case.log"
    path.write_bytes(data)
    codes: dict[str, int] = {}
    for verb in verbs:
        v = VERBS.index(verb)
        b = w * BUSY
        c.busy[b + 2], c.busy[b + 3], c.busy[b + 4] = time.process_time(), v, time.time()
        _arm(c.args.timeout)
        try:
            code, tb = run_verb(verb_args(verb, path, elf, as_json, tmp))
        except Hang:
            c.add(w, v, "hangs")
            finding(fh, kind="log", case=i, seed=c.args.seed, verb=verb, what="hang",
                    source=name)
            continue
        finally:
            _arm(0)
        c.add(w, v, "runs")
        codes[verb] = code
        if tb is not None:
            c.add(w, v, "tracebacks")
            finding(fh, kind="log", case=i, seed=c.args.seed, verb=verb, what="traceback",
                    source=name, where=tb)
        else:
            c.add(w, v, f"exit{code}" if 0 <= code <= 4 else "other")
    judge = c.truth.judge(si, intact)
    base = w * len(CLASS)
    if c.truth.leaking(si):
        c.klass[base + CLASS.index("leak_cases")] += 1
    if judge.visible:
        c.klass[base + CLASS.index("visible_rows" if judge.rows_visible
                                   else "visible_failure")] += 1
        if codes.get("check") == 0:
            c.klass[base + CLASS.index("clean_on_visible")] += 1
            finding(fh, kind="log", case=i, seed=c.args.seed, verb="check",
                    what="clean on a visible leak", source=name, why=judge.why)
    if judge.failure_line and codes.get("check") not in (1, None):
        c.klass[base + CLASS.index("failure_not_exit1")] += 1
    return codes


def summarize(c: Campaign, started: float, hangs: list[dict]) -> dict:
    W = max(1, c.args.workers)
    per: dict[str, dict[str, int]] = {}
    for v, verb in enumerate([*VERBS, "elf"]):
        per[verb] = {col: sum(c.counts[(w * (len(VERBS) + 1) + v) * len(COLS) + j]
                              for w in range(W)) for j, col in enumerate(COLS)}
    per["elf"]["hangs"] += sum(1 for h in hangs if h["kind"] == "elf")
    for h in hangs:
        if h["kind"] == "log":
            per[h["verb"]]["hangs"] += 1
    klass = {col: sum(c.klass[w * len(CLASS) + j] for w in range(W))
             for j, col in enumerate(CLASS)}
    return {
        "seed": c.args.seed, "workers": W, "timeout_s": c.args.timeout,
        "seeds_logs": len(c.logs), "leak_seeds": [c.logs[i][0] for i in c.leak_seeds],
        "seeds_elfs": len(c.elfs),
        "logs_run": sum(c.done[w * 2] for w in range(W)),
        "elfs_run": sum(c.done[w * 2 + 1] for w in range(W)),
        "tracebacks": sum(p["tracebacks"] for p in per.values()),
        "hangs": sum(p["hangs"] for p in per.values()),
        "clean_on_visible_leak": klass["clean_on_visible"],
        "leak_class": klass, "per_verb": per,
        "seconds": round(time.time() - started, 1),
    }


def replay(c: Campaign, spec: str) -> int:
    kind, _, num = spec.partition(":")
    i = int(num)
    _install_error_hook()
    tmp = Path(tempfile.mkdtemp(prefix="msfuzz-replay-"))
    if kind == "elf":
        path = tmp / "case.elf"
        path.write_bytes(c.make_elf(i))
        print(path)
        run_elf_case(path)
        return 0
    data, name, intact, si, elf, as_json, _ = c.make_log(i)
    path = tmp / "case.log"
    path.write_bytes(data)
    print(f"{path} (from {name}, elf {elf}, json {as_json})")
    for verb in VERBS:
        args = verb_args(verb, path, elf, as_json, tmp)
        code, tb = run_verb(args)
        print(f"memsleuth {' '.join(args)} -> {code}")
        if tb:
            print(tb)
    judge = c.truth.judge(si, intact)
    print(f"leak visible: {judge.visible} ({judge.why})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logs", type=int, default=1000)
    ap.add_argument("--elfs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=10,
                    help="CPU seconds per verb run (a hang)")
    ap.add_argument("--stuck", type=int, default=900,
                    help="wall seconds a verb run may sit (blocked, not running)")
    ap.add_argument("--out", type=Path, default=None, help="JSON summary, rewritten as it goes")
    ap.add_argument("--every", type=float, default=30.0, help="seconds between summaries")
    ap.add_argument("--replay", default=None, metavar="KIND:N", help="run one case, verbosely")
    args = ap.parse_args()
    # the committed ELFs of the log cases are read through the symbol cache, as users run it
    # (mutated ELFs are opened with use_cache=False); the cache lives in the campaign's tmp
    os.environ.setdefault("MEMSLEUTH_CACHE_DIR", tempfile.mkdtemp(prefix="msfuzz-cache-"))
    c = Campaign(args)
    if args.replay:
        return replay(c, args.replay)
    tmp = Path(tempfile.mkdtemp(prefix="msfuzz-", dir="/dev/shm" if Path("/dev/shm").is_dir()
                                else None))
    findings = (args.out.with_suffix(".findings.jsonl") if args.out
                else tmp / "findings.jsonl")
    findings.write_text("")
    started = time.time()
    ctx = mp.get_context("fork")
    W = max(1, args.workers)
    procs = {w: ctx.Process(target=worker, args=(c, w, w, tmp, findings)) for w in range(W)}
    for p in procs.values():
        p.start()
    hangs: list[dict] = []
    last = 0.0

    def save(final: bool = False) -> dict:
        s = summarize(c, started, hangs)
        s["findings"] = [json.loads(x) for x in findings.read_text().splitlines()[:200]] + hangs
        s["finished"] = final
        if args.out:
            args.out.write_text(json.dumps(s, indent=1) + "\n")
        return s

    try:
        while any(p.is_alive() for p in procs.values()):
            time.sleep(0.5)
            for w, p in list(procs.items()):
                b = w * BUSY
                if not (p.is_alive() and c.busy[b]):
                    continue
                cpu = _cpu_seconds(p.pid) - c.busy[b + 2]
                wall = time.time() - c.busy[b + 4]
                if cpu > 3 * args.timeout or wall > args.stuck:
                    k = int(c.busy[b + 1])
                    kind = "elf" if c.busy[b] == 2 else "log"
                    i = k if kind == "elf" else k - args.elfs
                    p.kill()
                    p.join()
                    h = {"kind": kind, "case": i, "seed": args.seed, "what": "hang (killed)",
                         "cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}
                    if kind == "log":
                        h["verb"] = VERBS[int(c.busy[b + 3])]
                    hangs.append(h)
                    c.busy[b] = 0
                    procs[w] = ctx.Process(target=worker, args=(c, w, k + W, tmp, findings))
                    procs[w].start()
            if time.monotonic() - last > args.every:
                last = time.monotonic()
                save()
    except KeyboardInterrupt:
        for p in procs.values():
            p.kill()
    s = save(final=True)
    print(json.dumps({k: v for k, v in s.items() if k not in ("findings", "per_verb")}))
    for f in s["findings"][:10]:
        print(f, file=sys.stderr)
    bad = s["tracebacks"] or s["hangs"] or s["clean_on_visible_leak"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
