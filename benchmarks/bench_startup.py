"""Start-up benchmark: `memsleuth --version`, and `census` on a bundled dump vs the peer tool.

    python benchmarks/bench_startup.py [--repeat 20]

Whole processes, warm caches (one untimed run of each first; bytecode caches are written
even under PYTHONDONTWRITEBYTECODE, as an installed package has them; memsleuth's own caches,
the start-up cache and the symbol cache, go to a fresh directory that the untimed run fills).
`memsleuth` is run as the installed console script runs it: the script pip wrote (found next
to this interpreter; without one, `python -m memsleuth`, the same entry point), by this
interpreter, with this checkout's src first on the path. `memsleuth --version`
is timed next to `python3 -c pass` (the interpreter's own start-up: the floor); `memsleuth census`
on the last block dump of examples/wifi_reconnect_leak/out/cortex-m4-leak.log (cut into its
own file, as the peer needs: it mis-attributes blocks when a log holds several dumps) next to
the original AliOS tool, /work/shared/peer/coredump_parser_py3.py (one addr2line process
per caller address). Each reference runs as often as the measured command, interleaved;
min and median are reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "wifi_reconnect_leak" / "out"
PEER = Path("/work/shared/peer/coredump_parser_py3.py")


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the child's and what it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def last_dump(log: Path, into: Path) -> Path:
    lines = log.read_text(errors="replace").splitlines(keepends=True)
    start = max(i for i, line in enumerate(lines) if "all memory blocks" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[MSCYCLE]")),
               len(lines))
    into.write_text("".join(lines[start:end]))
    return into


def compare(name: str, cmd: list[str], ref_name: str, ref: list[str], env: dict[str, str],
            repeat: int) -> None:
    timed(cmd, env)      # warm: page cache, and the bytecode caches written
    timed(ref, env)
    mine, theirs = [], []
    for _ in range(repeat):
        theirs.append(timed(ref, env))
        mine.append(timed(cmd, env))

    def cell(runs: list[tuple[float, float]], i: int) -> str:
        values = [r[i] * 1000 for r in runs]
        return f"{min(values):.0f} / {statistics.median(values):.0f}"

    ratio = [statistics.median(r[i] for r in mine) / statistics.median(r[i] for r in theirs)
             for i in (0, 1)]
    print(f"| {name} | {cell(mine, 0)} | {cell(mine, 1)} | {ref_name} | {cell(theirs, 0)} | "
          f"{cell(theirs, 1)} | {ratio[0]:.2f}x / {ratio[1]:.2f}x |", flush=True)


def console_script() -> list[str]:
    """How the `memsleuth` command runs: pip's script for the entry point, by this Python."""
    script = Path(sysconfig.get_path("scripts")) / "memsleuth"
    try:
        text = script.read_text()
    except (OSError, UnicodeDecodeError):
        text = ""
    if text.startswith("#!") and "from memsleuth.entry import main" in text:
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "memsleuth"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_all(args.repeat, Path(tmp))


def run_all(repeat: int, tmp: Path) -> None:
    # Warm caches: bytecode is written (an installed package has it), whatever the shell says.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "MEMSLEUTH_NO_CACHE")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["MEMSLEUTH_CACHE_DIR"] = str(tmp / "cache")
    ms = console_script()
    version = subprocess.run([*ms, "--version"], capture_output=True, text=True, env=env).stdout
    print(f"{version.strip()}; run as: {' '.join(ms)}; load average before: "
          f"{os.getloadavg()[0]:.2f}; {repeat} runs each, interleaved")
    print("| command | wall min / median (ms) | CPU min / median (ms) | reference | "
          "wall min / median (ms) | CPU min / median (ms) | ratio wall / CPU (median) |")
    print("|---|---|---|---|---|---|---|")
    compare("memsleuth --version", [*ms, "--version"], "python3 -c pass",
            [sys.executable, "-c", "pass"], env, repeat)
    compare("memsleuth --help", [*ms, "--help"], "python3 -c pass",
            [sys.executable, "-c", "pass"], env, repeat)
    if not PEER.exists():
        print(f"(peer tool not found at {PEER}: census comparison skipped)")
        return
    dump = last_dump(OUT / "cortex-m4-leak.log", tmp / "dump.log")
    elf = OUT / "cortex-m4-leak.elf"
    peer_env = dict(env)
    if shutil.which("arm-none-eabi-addr2line") is None:
        Path(tmp, "arm-none-eabi-addr2line").symlink_to(shutil.which("addr2line") or "")
        peer_env["PATH"] = f"{tmp}:{env['PATH']}"
    compare("memsleuth census DUMP --elf ELF", [*ms, "census", str(dump), "--elf", str(elf)],
            "peer coredump_parser_py3.py", [sys.executable, str(PEER), str(dump), str(elf)],
            peer_env, repeat)


if __name__ == "__main__":
    main()
