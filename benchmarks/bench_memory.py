"""Memory benchmark: peak RSS of every log verb on a small and a big log, repeated.

    python benchmarks/bench_memory.py [--sizes 50,500] [--kinds stress,crashloop]
                                      [--verbs trend,analyze,check,objects,census,diff,crash,
                                               crash-all,report]
                                      [--modes accel,pure] [--repeat 3]
                                      [--work /tmp/mem_bench] [--keep]

Issue 12's memory target: peak RSS on a 1 GB log within 5 MiB of that on a 100 MB one, for
every verb; the brief's rule: memory must not grow with the length of the log. Each verb runs
as its own process (``memsleuth VERB LOG --json``, stdout to a file, as a user would run it),
with the C scanner ("accel") and without it ("pure", ``MEMSLEUTH_ACCEL=0``); the peak is the
child's own ``ru_maxrss`` (``os.wait4``). Each run is repeated ``--repeat`` times and the table
gives min / median per size and the difference of the medians (and of the minima), so the
allocator's noise (a few MiB from run to run) is visible next to the growth.

Two kinds of log, both built from output of firmware that really ran, written under --work
(never in the repository):

- ``stress``: ``bench_stream.build``: the example runs (examples/wifi_reconnect_leak/out)
  joined with renumbered cycles and foreign noise lines: a soak test's log.
- ``crashloop``: a device that crashes every few minutes for days. Each boot is the head of
  one of those runs (its ``[MSBUILD]`` line, banner, object events, heap tables and the
  agent's block dump, cycles starting at 1 again: a reboot), a varying number of cycles long,
  then a crash dump taken verbatim from real crash output (the QEMU Cortex-M4 faults of
  examples/crashes, tests/fixtures/crash/qemu, and the published AliOS dumps in
  /work/shared/corpus/real when present), rotating through them; every boot prints the
  lastword panic header (tests/fixtures/crash/lastword_boot.log, from the AliOS docs) and
  every 7th an ``mm_leak`` line (corpus B1b, else a line of that format). At 50 MB that is
  ~2,000 crashes and reboots, at 500 MB ~20,000.

``crash-all`` is ``crash --all``. ``report`` writes HTML to /dev/null's neighbour file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stream import RUNS, accel_built, build, env_for  # noqa: E402

CRASHES = ROOT / "tests" / "fixtures" / "crash" / "qemu"
CORPUS = Path("/work/shared/corpus/real")
#: published crash dumps of real devices (corpus README): the HaaS100 exception dump
REAL_CRASHES = ("B2c_debugREADME_exception_dump.log",)
LASTWORD = ROOT / "tests" / "fixtures" / "crash" / "lastword_boot.log"
MM_LEAK = "adress:0x80acf28 owner:0x805ae3a len:3096  type:leak\n"


def crash_texts() -> list[str]:
    """Every real crash output available, each as printed (QEMU runs, then published ones)."""
    texts = [p.read_text() for p in sorted(CRASHES.glob("*.log"))]
    texts += [p.read_text() for p in sorted((CRASHES / "heap").glob("*.log"))]
    texts += [(CORPUS / n).read_text() for n in REAL_CRASHES if (CORPUS / n).exists()]
    if not texts:
        sys.exit(f"no crash logs in {CRASHES}")
    return [t if t.endswith("\n") else t + "\n" for t in texts]


def boot_heads(runs: list[Path]) -> list[tuple[list[str], list[int]]]:
    """Each run's lines and where its cycle markers are (a boot is a head of a run)."""
    out = []
    for run in runs:
        lines = run.read_text(errors="replace").splitlines(keepends=True)
        cuts = [i for i, line in enumerate(lines) if line.startswith("[MSCYCLE] ")]
        out.append((lines, cuts[1:] or [len(lines)]))
    return out


def build_crashloop(path: Path, size_mb: int) -> int:
    """Write the crash-looping log; returns how many crashes it holds."""
    runs = sorted(RUNS.glob("*.log"))
    if not runs:
        sys.exit(f"no runs in {RUNS}: build the example first")
    heads = boot_heads(runs)
    crashes = crash_texts()
    lastword = LASTWORD.read_text()
    leak_file = CORPUS / "B1b_wiki_dumpsys_mm_leak_linuxhost.log"
    mm_leak = leak_file.read_text() if leak_file.exists() else MM_LEAK
    target = size_mb * 1024 * 1024
    written = k = 0
    tmp = path.with_suffix(".part")
    with tmp.open("w", buffering=1 << 20) as out:
        while written < target:
            lines, cuts = heads[k % len(heads)]
            cycles = 5 + (k * 37) % 60          # 5..64 cycles before it crashes again
            parts = [lastword, *lines[:cuts[min(cycles, len(cuts)) - 1]]]
            if k % 7 == 3:
                parts.append(mm_leak)
            parts.append(crashes[k % len(crashes)])
            text = "".join(parts)
            out.write(text)
            written += len(text)
            k += 1
    tmp.replace(path)
    return k


def run(cmd: list[str], env: dict[str, str]) -> float:
    """Peak RSS (MiB) of one child process (its own ru_maxrss).

    Linux keeps the pre-exec image's peak in ru_maxrss (fork/vfork share this process's
    pages): this process must stay smaller than any child, so nothing big is held here."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1, 3, 4):     # 3: a trend too short to judge (a reboot loop)
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed ({code}): {err.read().decode()[-400:]}")
    return usage.ru_maxrss / 1024


def verb_cmd(verb: str, log: Path, work: Path) -> list[str]:
    base = [sys.executable, "-m", "memsleuth"]
    if verb == "crash-all":
        return [*base, "crash", str(log), "--all", "--json"]
    if verb == "report":
        return [*base, "report", str(log), "-o", str(work / "report.html")]
    return [*base, verb, str(log), "--json"]


def log_path(work: Path, kind: str, mb: int) -> Path:
    """The log, generated by a child process: generating it here would grow this process,
    and Linux counts the image a child is forked from in the child's ru_maxrss (a floor of
    ~30 MiB under every verb's peak)."""
    path = work / f"{kind}-{mb}MB.log"
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--build-log", kind, str(mb), str(path)],
                       check=True)
    return path


def build_log(kind: str, mb: int, path: Path) -> None:
    t = time.perf_counter()
    if kind == "stress":
        build(path, mb)
        extra = ""
    else:
        extra = f", {build_crashloop(path, mb):,} crashes"
    print(f"built {path.name}: {path.stat().st_size / 2**20:.0f} MiB{extra} in "
          f"{time.perf_counter() - t:.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="50,500", help="small,big log size in MB")
    ap.add_argument("--kinds", default="stress,crashloop")
    ap.add_argument("--verbs", default="trend,analyze,check,objects,census,diff,crash,"
                                       "crash-all,report")
    ap.add_argument("--modes", default="accel,pure")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mem_bench"))
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--build-log", nargs=3, metavar=("KIND", "MB", "PATH"),
                    help=argparse.SUPPRESS)     # (log_path's child)
    args = ap.parse_args()
    if args.build_log:
        kind, mb, path = args.build_log
        build_log(kind, int(mb), Path(path))
        return
    small_mb, big_mb = (int(s) for s in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    modes = [m for m in args.modes.split(",") if m != "accel" or accel_built()]
    if "accel" in args.modes and "accel" not in modes:
        print("(no C scanner built: accel rows skipped)")
    print(f"peak RSS (MiB), each run {args.repeat}x; load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print(f"| log | verb | scanner | {small_mb} MB min / median | {big_mb} MB min / median "
          "| growth (median, min) |")
    print("|---|---|---|---|---|---|")
    made: list[Path] = []
    for kind in args.kinds.split(","):
        small, big = (log_path(args.work, kind, mb) for mb in (small_mb, big_mb))
        made += [small, big]
        for verb in args.verbs.split(","):
            for mode in modes:
                env = env_for(mode)
                peaks: dict[Path, list[float]] = {small: [], big: []}
                for _ in range(args.repeat):
                    for log in (small, big):       # interleaved: drift hits both sizes
                        peaks[log].append(run(verb_cmd(verb, log, args.work), env))
                s, b = peaks[small], peaks[big]
                ms, mb_ = statistics.median(s), statistics.median(b)
                print(f"| {kind} | {verb} | {mode} | {min(s):.1f} / {ms:.1f} | "
                      f"{min(b):.1f} / {mb_:.1f} | {mb_ - ms:+.1f}, {min(b) - min(s):+.1f} |",
                      flush=True)
    if not args.keep:
        for path in made:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
