"""Parse benchmark: how fast `memsleuth.parse.parse_file` reads a big log, next to `grep -c`.

    python benchmarks/bench_parse.py [--size-mb 200] [--work benchmarks/work] [--repeat 1]

Builds benchmarks/work/parse-<size>MB.log by concatenating the committed real firmware runs
(examples/wifi_reconnect_leak/out/*.log) byte for byte, streamed to disk, so the file is what
a device really prints (no synthetic noise: that is bench_stream's job). It is kept between
runs so before/after numbers are on the same bytes. Then it times, in this process,
`grep -c .` (the floor: the disk plus one tight C loop) and full `parse_file` passes (records
counted, nothing else done with them) three ways: the line path (MEMSLEUTH_FAST=0), the
scanning fast path in pure Python, and the fast path with the C scanner; MB/s, lines/s,
ratio to grep. Each is repeated --repeat times, grep as often; the fastest counts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "examples" / "wifi_reconnect_leak" / "out"


def build(path: Path, size_mb: int) -> None:
    """Write the log: the real runs over and over until it reaches ``size_mb``."""
    runs = sorted(RUNS.glob("*.log"))
    if not runs:
        sys.exit(f"no runs in {RUNS}: build the example first")
    target = size_mb * 2**20
    written = 0
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as out:
        while written < target:
            for run in runs:
                data = run.read_bytes()  # one run (< 2 MB) at a time, never the whole file
                out.write(data)
                written += len(data)
    tmp.replace(path)


def time_grep(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(["grep", "-c", ".", str(path)], capture_output=True, text=True,
                          check=False)
    return time.perf_counter() - start, int(proc.stdout.strip() or 0)


def time_parse(path: Path, mode: str) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, records and lines of one full parse.

    CPU time is printed too because wall time swings on a shared machine.
    """
    from memsleuth import accel
    from memsleuth.parse import parse_file

    accel._loaded = False if mode == "C" else None   # type: ignore[attr-defined]
    if mode == "C" and accel.module() is None:
        return float("nan"), float("nan"), 0, 0
    start, cpu = time.perf_counter(), time.process_time()
    log = parse_file(path, fast=mode != "line")
    records = sum(1 for _ in log)
    return time.perf_counter() - start, time.process_time() - cpu, records, log.stats.lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--repeat", type=int, default=1, help="parse passes; the fastest counts")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / f"parse-{args.size_mb}MB.log"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.size_mb)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s", flush=True)
    mb = path.stat().st_size / 2**20
    greps = []
    for mode in ("line", "pure", "C"):
        best = None
        for _ in range(max(1, args.repeat)):
            greps.append(time_grep(path)[0])
            run = time_parse(path, mode)
            best = run if best is None or run[0] < best[0] else best
        assert best is not None
        secs, cpu, records, lines = best
        if secs != secs:   # nan: no C scanner built
            print(f"{mode:5s}: no C scanner built")
            continue
        grep_s = min(greps)
        print(f"{mode:5s}: {secs:6.2f} s  {mb / secs:7.1f} MB/s  {lines / secs:10,.0f} lines/s "
              f"(CPU {cpu:6.2f} s)  {secs / grep_s:5.1f}x grep -c . ({grep_s:.2f} s)  "
              f"[{records} records, {lines} lines, {mb:.0f} MB]", flush=True)


if __name__ == "__main__":
    main()
