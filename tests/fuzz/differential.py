"""Differential fuzzing of the reading paths (issue 12): the C scanner (object events paired in
C, markers and tables in bulk), the pure-Python scanner and the line path must give the same
answer on any log, damaged or not. Mutants are the fuzz campaign's (``campaign.mutate_log``:
windows of every seed log with bit flips, noise, dropped/duplicated/swapped/spliced lines,
CR/LF/NUL, truncation; here half are 60-600-line windows of leaking runs, and half of all
get ``counter_edits`` too); each goes through trend, analyze, check and objects with --json
in this process, once per path, and the exit codes and outputs are compared.

    python3 tests/fuzz/differential.py --logs 20000 --seed 1      # a campaign
    python3 tests/fuzz/differential.py --replay 123 --seed 1       # one case, its diff

Every case is derived from (--seed, index) alone. Exit 1 when any case differs.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))

import campaign  # noqa: E402  (tests/fuzz/campaign.py)

VERBS = ("trend", "analyze", "check", "objects")
PATHS = ("C", "pure", "line")


def answer(verb: str, log: Path, path: str) -> tuple[int, str]:
    """(exit code, stdout) of ``memsleuth VERB LOG --json`` read the given way."""
    from memsleuth import accel
    from memsleuth.cli import main

    saved = accel._loaded
    env = os.environ.get("MEMSLEUTH_FAST")
    try:
        if path == "pure":
            accel._loaded = None
        elif path == "line":
            os.environ["MEMSLEUTH_FAST"] = "0"
        out = io.StringIO()
        code: object = 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                main.main(args=[verb, str(log), "--json"], prog_name="memsleuth",
                          standalone_mode=True)
        except SystemExit as exc:
            code = exc.code
        return (code if isinstance(code, int) else (0 if code is None else 2)), out.getvalue()
    finally:
        accel._loaded = saved
        if env is None:
            os.environ.pop("MEMSLEUTH_FAST", None)
        else:
            os.environ["MEMSLEUTH_FAST"] = env


def counter_edits(rng: random.Random, data: bytes) -> bytes:
    """What the campaign's line mutations seldom hit, in a window that holds many cycles:
    cycle counters going back, repeating, jumping or restarting, heap rows of another size or
    impossible, and foreign lines inside and after the tables."""
    lines = data.splitlines(keepends=True)
    marks = [k for k, s in enumerate(lines) if s.startswith(b"[MSCYCLE] ")]
    rows = [k for k, s in enumerate(lines) if s.lstrip().startswith(b"| 0x")]
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        if op < 2 and marks:
            k = rng.choice(marks)
            digits = lines[k][10:].strip()
            n = int(digits) if digits.isdigit() else 0
            new = rng.choice([n - 1, n, n + 1000, 1, max(0, n - rng.randint(2, 50))])
            if op == 1:              # a restart: every later marker counts from 1 again
                later = [m for m in marks if m >= k]
                for j, m in enumerate(later):
                    lines[m] = b"[MSCYCLE] %d\n" % (j + 1)
            else:
                lines[k] = b"[MSCYCLE] %d\n" % new
        elif op == 2 and rows:
            k = rng.choice(rows)
            cells = lines[k].split(b"|")
            if len(cells) > 3:
                c = rng.randrange(1, len(cells) - 1)
                cells[c] = b" 0x%08X " % rng.choice([0, 0x10, 0x7FFFFFF0, 0x00100000])
                lines[k] = b"|".join(cells)
        elif rows:
            k = rng.choice(rows) + rng.choice([-1, 0, 1, 2])
            lines.insert(max(0, k), rng.choice([b"\x1b[0m\n", b"noise 12\n", b"\n",
                                                b"12:00:01.000 > heartbeat\n"]))
    return b"".join(lines)


def case(seeds: list, leak_seeds: list[int], seed: int, i: int, tmp: Path) -> list[dict]:
    """The differences on mutant i: one dict per verb whose paths disagree."""
    rng = random.Random(f"{seed}:diff:{i}")
    data, name, _, _, _ = campaign.mutate_log(rng, seeds, leak_seeds, leak_share=0.5)
    if rng.random() < 0.5:
        data = counter_edits(rng, data)
    log = tmp / f"m{i}.log"
    log.write_bytes(data)
    found = []
    for verb in VERBS:
        answers = {p: answer(verb, log, p) for p in PATHS}
        if len({a for a in answers.values()}) > 1:
            found.append({"index": i, "seed_log": name, "verb": verb,
                          "exits": {p: a[0] for p, a in answers.items()}})
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--replay", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from memsleuth import accel

    if accel.module() is None:
        print("no C scanner built: comparing pure Python and the line path only",
              file=sys.stderr)
    seeds = campaign.seed_logs()
    leak_seeds = [k for k, (n, _) in enumerate(seeds) if "leak" in Path(n).name]
    found: list[dict] = []
    started = time.monotonic()
    run = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.replay is not None:
            rng = random.Random(f"{a.seed}:diff:{a.replay}")
            data, *_ = campaign.mutate_log(rng, seeds, leak_seeds, leak_share=0.5)
            if rng.random() < 0.5:
                data = counter_edits(rng, data)
            log = tmp / "case.log"
            log.write_bytes(data)
            for verb in VERBS:
                ans = {p: answer(verb, log, p) for p in PATHS}
                base = ans["line"]
                for p in ("C", "pure"):
                    if ans[p] != base:
                        print(f"== {verb}: {p} exit {ans[p][0]} vs line exit {base[0]}")
                        sys.stdout.writelines(difflib.unified_diff(
                            base[1].splitlines(True), ans[p][1].splitlines(True),
                            "line", p, n=2))
            return 0
        for i in range(a.start, a.start + a.logs):
            if a.minutes is not None and time.monotonic() - started > 60 * a.minutes:
                break
            found += case(seeds, leak_seeds, a.seed, i, tmp)
            run += 1
    summary = {"seed": a.seed, "start": a.start, "logs_run": run, "differences": len(found),
               "cases": found[:50], "seconds": round(time.monotonic() - started, 1)}
    text = json.dumps(summary, indent=2)
    if a.out is not None:
        a.out.write_text(text)
    print(text)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
