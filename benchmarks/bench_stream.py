"""Stream benchmark: `trend` and `objects` over a ~1 GB stress log, in constant memory.

    python benchmarks/bench_stream.py [--size-mb 1024] [--work benchmarks/work] [--keep]

Builds benchmarks/work/stress-<size>MB.log by concatenating the real firmware runs
(examples/wifi_reconnect_leak/out/*.log) with foreign noise lines between them, written to disk
as it goes (the big file is never held in memory; cycle markers are renumbered so the series
continues across runs). Then, each in a fresh process so peak RSS is its own:
`grep -c MSOBJ` (the floor: how fast the disk and one tight C loop read the file), the
trend collector and the object pairing (the code behind `memsleuth trend` / `objects`), on the
full file and on an eighth of it: equal peak RSS on both is the constant-memory claim.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "examples" / "wifi_reconnect_leak" / "out"

NOISE = (
    "[I][wifi] rssi=-{n} ch=6 bssid=ac:84:c6:12:34:56\n",
    "[D][netmgr] dhcp renew in {n} s\n",
    "12:{n:02d}:07.331 > [W][lwip] tcp_write: queue full, retry {n}\n",
    "\x1b[0;32mI ({n}) app: heartbeat ok\x1b[0m\n",
)


def build(path: Path, size_mb: int) -> None:
    """Write the stress log: real runs, renumbered cycles, a noise line every 7 lines."""
    runs = sorted(RUNS.glob("*.log"))
    if not runs:
        sys.exit(f"no runs in {RUNS}: build the example first")
    texts = [r.read_text(errors="replace").splitlines(keepends=True) for r in runs]
    target = size_mb * 1024 * 1024
    written = 0
    offset = 0
    k = 0
    with path.open("w", buffering=1 << 20) as out:
        while written < target:
            lines = texts[k % len(texts)]
            k += 1
            top = 0
            chunk: list[str] = []
            for i, line in enumerate(lines):
                if line.startswith("[MSCYCLE] "):
                    n = int(line.split()[1])
                    top = max(top, n)
                    line = f"[MSCYCLE] {n + offset}\n"
                chunk.append(line)
                if i % 7 == 3:
                    chunk.append(NOISE[i % len(NOISE)].format(n=i % 60))
            offset += top
            text = "".join(chunk)
            out.write(text)
            written += len(text)


def measure(kind: str, path: Path) -> dict[str, float | int | str]:
    """Run one reader over the file in this process; its peak RSS is the process's."""
    start = time.perf_counter()
    summary: str | int
    if kind == "grep":
        proc = subprocess.run(["grep", "-c", "MSOBJ", str(path)], capture_output=True, text=True,
                              check=False)
        summary = int(proc.stdout.strip() or 0)
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    else:
        from memsleuth.analysis.objects import ObjectBalance
        from memsleuth.analysis.trend import TrendCollector
        from memsleuth.parse import parse_file

        if kind == "trend":
            acc = TrendCollector()
            for record in parse_file(path):
                acc.on_record(record)
            r = acc.result()
            summary = f"{r['classification']} over {r['points_available']} cycles"
        else:
            bal = ObjectBalance()
            for record in parse_file(path):
                bal.on_record(record)
            r = bal.result()
            summary = f"{r['events']} events, {r['live_handles']} live handles"
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed = time.perf_counter() - start
    size = path.stat().st_size
    return {"kind": kind, "file_mb": round(size / 2**20, 1), "seconds": round(elapsed, 2),
            "mb_per_s": round(size / 2**20 / elapsed, 2), "peak_rss_mb": round(rss_kb / 1024, 1),
            "result": summary}


def child(kind: str, path: Path) -> dict[str, float | int | str]:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    big = args.work / f"stress-{args.size_mb}MB.log"
    small = args.work / f"stress-{max(1, args.size_mb // 8)}MB.log"
    for path, mb in ((big, args.size_mb), (small, max(1, args.size_mb // 8))):
        if not path.exists():
            t = time.perf_counter()
            build(path, mb)
            print(f"built {path.name}: {path.stat().st_size / 2**20:.0f} MB in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
    rows = []
    for path in (small, big):
        for kind in ("grep", "trend", "objects"):
            row = child(kind, path)
            rows.append(row)
            print(json.dumps(row), flush=True)
    by = {(r["kind"], r["file_mb"]): r for r in rows}
    big_mb = rows[-1]["file_mb"]
    small_mb = rows[0]["file_mb"]
    grep_speed = by[("grep", big_mb)]["mb_per_s"]
    print("\nsummary (full file):")
    for kind in ("trend", "objects"):
        r = by[(kind, big_mb)]
        s = by[(kind, small_mb)]
        print(f"  {kind:8s} {r['mb_per_s']:7.2f} MB/s ({r['mb_per_s'] / grep_speed:.3%} of grep -c"
              f" at {grep_speed:.0f} MB/s); peak RSS {r['peak_rss_mb']} MB on {big_mb} MB vs "
              f"{s['peak_rss_mb']} MB on {small_mb} MB")
    if not args.keep:
        for path in (big, small):
            os.unlink(path)


if __name__ == "__main__":
    main()
