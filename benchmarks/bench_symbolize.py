"""Symbolizer benchmark: memsleuth (cold / warm cache) vs addr2line batch vs per-address.

    python benchmarks/bench_symbolize.py [--small]

Builds a generated firmware (benchmarks/gen_firmware.py) with arm-none-eabi-gcc -O2 -g
into benchmarks/work/ (reused on later runs), falls back to host gcc + addr2line when the
cross toolchain is missing, and skips with a message when neither is there. Picks N
distinct real return addresses (the instruction after each bl/blx/call; one table per
--distinct N, default 1,000 and 10,000) and a 100,000-owner list drawn from them, as a
100,000-block heap dump would log them.

Every timing is a whole process (interpreter start and imports included), wall and CPU
(user + system), min and median of --repeat runs, the addr2line batch run as often as each
memsleuth run and interleaved with them; the memsleuth child also reports its in-process
time. memsleuth is timed cold with its own DWARF engine (engine "python": with the optional
C loops of memsleuth._dwarf, the line-program decoder and the DIE walks, when it is built,
and again with MEMSLEUTH_ACCEL=0, pure Python), cold with the default "auto" engine (which
hands big batches to addr2line when one is installed), and warm (answers from the on-disk
cache).
Prints the tables and exits 0; targets are reported (on CPU, the fairer figure on a shared
machine), never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
sys.path.insert(0, str(HERE))

from gen_firmware import generate  # noqa: E402

CALLS = {"arm": ("bl", "blx"), "x86_64": ("call", "callq")}
INSN = re.compile(r"^\s*([0-9a-f]+):\t[0-9a-f ]+?\s*\t(\S+)")

CHILD = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
from memsleuth.symbols import Symbolizer
elf, cache, owners_file, out_file, engine, frames = sys.argv[1:7]
owners = json.load(open(owners_file))
s = Symbolizer.open(elf, cache_dir=cache, engine=engine)
res = s.symbolize(owners, kind="return")
t1 = time.perf_counter()
lines = sys.modules.get("memsleuth.symbols.lines")   # loaded by a cold run only
json.dump({"seconds": t1 - t0, "unique": len(res), "engine": s.last_engine,
           "c_lines": lines is not None and lines._accel is not None,
           "c_walk": lines is not None and hasattr(lines._accel, "chain"),
           "frames": {str(a): [[f.function, f.file, f.line] for f in loc.frames]
                      for a, loc in res.items()} if frames == "1" else None},
          open(out_file, "w"))
"""


def toolchain() -> dict | None:
    if all(shutil.which(t) for t in ("arm-none-eabi-gcc", "arm-none-eabi-addr2line",
                                       "arm-none-eabi-objdump")):
        return {"arch": "arm", "cc": ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m4"],
                "addr2line": "arm-none-eabi-addr2line", "objdump": "arm-none-eabi-objdump"}
    if all(shutil.which(t) for t in ("gcc", "addr2line", "objdump")):
        return {"arch": "x86_64", "cc": ["gcc"], "addr2line": "addr2line",
                "objdump": "objdump"}
    return None


def build(tc: dict, nfiles: int, nfuncs: int) -> Path:
    dest = WORK / f"{tc['arch']}-{nfiles}x{nfuncs}"
    elf = dest / "fw.elf"
    if elf.exists():
        return elf
    t0 = time.perf_counter()
    srcs = generate(dest / "src", nfiles, nfuncs)
    flags = ["-O2", "-g"]
    objs = []

    def compile_one(src: Path) -> Path:
        obj = dest / (src.stem + ".o")
        subprocess.run(tc["cc"] + flags + ["-c", str(src), "-o", str(obj)], check=True)
        return obj

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        objs = list(pool.map(compile_one, srcs))
    link = tc["cc"] + flags + ["-Wl,--build-id", "-o", str(elf)] + [str(o) for o in objs]
    if tc["arch"] == "arm":
        link += ["-nostdlib", "-T", str(dest / "src" / "arm.ld"), str(dest / "src" / "start.c")]
    else:
        link += [str(dest / "src" / "main.c")]
    subprocess.run(link, check=True)
    for o in objs:
        o.unlink()
    print(f"built {elf.relative_to(HERE.parent)} in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return elf


def return_addresses(tc: dict, elf: Path) -> list[int]:
    out = subprocess.run([tc["objdump"], "-d", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    insns = [(int(m.group(1), 16), m.group(2))
             for m in map(INSN.match, out.splitlines()) if m]
    calls = CALLS[tc["arch"]]
    rets = sorted({nxt[0] for cur, nxt in zip(insns, insns[1:], strict=False)
                   if cur[1] in calls})
    if tc["arch"] == "arm":
        rets = [r | 1 for r in rets]  # an LR carries the Thumb bit
    return rets


def adjust(arch: str, a: int) -> int:
    return (a & ~1) - 1 if arch == "arm" else a - 1


def _run(cmd: list[str], stdin: Path | None = None, env: dict[str, str] | None = None
         ) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one whole process."""
    with open(stdin or os.devnull, "rb") as feed:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=feed, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd)
    return wall, usage.ru_utime + usage.ru_stime


def run_child(elf: Path, cache: Path, owners_file: Path, out_file: Path, engine: str,
              frames: bool = False, accel: bool = True) -> tuple[float, float, float]:
    """(wall, CPU, in-process seconds) of one memsleuth child; ``frames``: it also writes
    every answer as JSON for the agreement check (an extra, untimed run: writing 10,000
    answers as JSON costs more than looking them up warm); ``accel``: False sets
    MEMSLEUTH_ACCEL=0 (no C decoder)."""
    env = {**os.environ, "MEMSLEUTH_NO_CACHE": ""}
    if not accel:
        env["MEMSLEUTH_ACCEL"] = "0"
    wall, cpu = _run([sys.executable, "-c", CHILD, str(elf), str(cache), str(owners_file),
                      str(out_file), engine, "1" if frames else "0"], env=env)
    return wall, cpu, json.loads(out_file.read_text())["seconds"]


def parse_a2l(text: str) -> list[list]:
    res: list[list] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if re.fullmatch(r"0x[0-9a-f]+", lines[i]):
            res.append([])
            i += 1
            continue
        func, loc = lines[i], re.sub(r" \(discriminator \d+\)$", "", lines[i + 1])
        file, _, line = loc.rpartition(":")
        res[-1].append([None if func == "??" else func, None if file == "??" else file,
                        None if line in ("?", "0") else int(line)])
        i += 2
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="10 files x 50 functions")
    ap.add_argument("--files", type=int)
    ap.add_argument("--funcs", type=int)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--distinct", type=lambda v: [int(x) for x in v.split(",")],
                    default=[1000, 10000], help="distinct addresses per table (default 1000,10000)")
    a = ap.parse_args()
    tc = toolchain()
    if tc is None:
        print("bench_symbolize: skipped: neither arm-none-eabi-gcc nor gcc+binutils found")
        return 0
    if tc["arch"] != "arm":
        print("bench_symbolize: arm-none-eabi toolchain missing: using host gcc + addr2line")
    nfiles = a.files or (10 if a.small else 50)
    nfuncs = a.funcs or (50 if a.small else 100)
    try:
        elf = build(tc, nfiles, nfuncs)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"bench_symbolize: skipped: firmware build failed: {exc}")
        return 0
    debug = sum(int(m.group(1)) for m in re.finditer(
        r"^\.debug_\S+\s+(\d+)", subprocess.run(
            ["size", "-A", str(elf)] if tc["arch"] != "arm" else
            ["arm-none-eabi-size", "-A", str(elf)],
            capture_output=True, text=True).stdout, re.M))
    rets = return_addresses(tc, elf)
    print(f"ELF {elf.relative_to(HERE.parent)}: {elf.stat().st_size / 1e6:.1f} MB, "
          f"DWARF {debug / 1e6:.1f} MB, {nfiles} files x {nfuncs} functions, {len(rets)} call "
          f"sites; load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"{a.repeat} runs of each, interleaved", flush=True)
    for n in a.distinct:
        if n > len(rets):
            print(f"({n:,} distinct addresses asked, the ELF has {len(rets):,}: skipped)")
            continue
        measure(tc, elf, rets, n, a.repeat)
    return 0


def measure(tc: dict, elf: Path, rets: list[int], n: int, repeat: int) -> None:
    """One table: ``n`` distinct return addresses, 100,000 owners drawn from them."""
    rng = random.Random(1234)
    uniq = rng.sample(rets, n)
    owners = uniq + rng.choices(uniq, k=max(100_000 - n, 0))   # each distinct one at least once
    rng.shuffle(owners)
    arch = tc["arch"]
    adjusted = "\n".join(f"0x{adjust(arch, r):x}" for r in uniq) + "\n"

    tmp = Path(tempfile.mkdtemp(prefix="memsleuth-bench-"))
    try:
        owners_file = tmp / "owners.json"
        owners_file.write_text(json.dumps(owners))
        batch_in = tmp / "batch.txt"
        batch_in.write_text(adjusted)
        out_file = tmp / "out.json"
        runs: dict[str, list[tuple[float, float, float | None]]] = {
            "py": [], "pure": [], "auto": [], "warm": [], "a2l": []}
        engines = {}
        for i in range(repeat):
            cache = tmp / f"cache{i}"
            runs["pure"].append(run_child(elf, tmp / f"pure{i}", owners_file, out_file,
                                          "python", accel=False))
            runs["py"].append(run_child(elf, cache, owners_file, out_file, "python"))
            got = json.loads(out_file.read_text())
            engines["py"] = ("C line decoder and DIE walk" if got["c_walk"] else
                             "C line decoder" if got["c_lines"] else "no C loops built")
            runs["warm"].append(run_child(elf, cache, owners_file, out_file, "auto"))
            engines["warm"] = json.loads(out_file.read_text())["engine"] or "cache only"
            runs["auto"].append(run_child(elf, tmp / f"auto{i}", owners_file, out_file, "auto"))
            engines["auto"] = json.loads(out_file.read_text())["engine"]
            runs["a2l"].append((*_run([tc["addr2line"], "-fie", str(elf)], batch_in), None))
        run_child(elf, tmp / "check", owners_file, out_file, "python", frames=True)  # untimed
        ours = json.loads(out_file.read_text())["frames"]
        run_child(elf, tmp / "check-pure", owners_file, out_file, "python", frames=True,
                  accel=False)
        ours_pure = json.loads(out_file.read_text())["frames"]
        ref = subprocess.run([tc["addr2line"], "-a", "-fie", str(elf)], input=adjusted,
                             capture_output=True, text=True, check=True).stdout
        sample = uniq[:50]
        per = [_run([tc["addr2line"], "-fie", str(elf), f"0x{adjust(arch, r):x}"])
               for r in sample]
        per_addr = tuple(sum(p[k] for p in per) / len(sample) * len(uniq) for k in (0, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    expected = parse_a2l(ref)
    agree = sum(ours[str(r)] == e for r, e in zip(uniq, expected, strict=True))
    agree_pure = sum(ours_pure[str(r)] == e for r, e in zip(uniq, expected, strict=True))
    med = statistics.median

    def cell(key: str, k: int) -> str:
        values = [r[k] for r in runs[key]]
        return f"{min(values):.3f} / {med(values):.3f}"

    def ratio(key: str, k: int) -> float:
        return med(r[k] for r in runs[key]) / med(r[k] for r in runs["a2l"])

    rows = [("py", f"memsleuth cold, own DWARF engine, {engines['py']}"),
            ("pure", "memsleuth cold, own DWARF engine, pure Python (MEMSLEUTH_ACCEL=0)"),
            ("auto", f"memsleuth cold, auto engine ({engines['auto']})"),
            ("warm", "memsleuth warm cache"),
            ("a2l", f"{tc['addr2line']} -fie, one batch")]
    print(f"\n{n:,} distinct return addresses (100,000 owners drawn from them)")
    print("| method | wall min / median (s) | CPU min / median (s) | in-process median (s) "
          "| vs batch, wall / CPU (median) |")
    print("|---|---|---|---|---|")
    for key, name in rows:
        inproc = [r[2] for r in runs[key] if r[2] is not None]
        ip = f"{med(inproc):.3f}" if inproc else ""
        print(f"| {name} | {cell(key, 0)} | {cell(key, 1)} | {ip} | "
              f"{ratio(key, 0):.2f}x / {ratio(key, 1):.2f}x |")
    base = [med(r[k] for r in runs["a2l"]) for k in (0, 1)]
    print(f"| {tc['addr2line']}, one process per address* | {per_addr[0]:.3f} | "
          f"{per_addr[1]:.3f} | | {per_addr[0] / base[0]:.2f}x / {per_addr[1] / base[1]:.2f}x |")
    print(f"* timed over {len(sample)} processes and extrapolated to {len(uniq):,}")
    print(f"own-engine agreement with addr2line -fi (function, file:line, inline chain): "
          f"{agree}/{len(uniq)}, pure Python {agree_pure}/{len(uniq)}; "
          f"load average after: {os.getloadavg()[0]:.1f}")
    targets = [("warm <= 1x addr2line batch", ratio("warm", 1) <= 1),
               ("cold (own engine) <= 3x addr2line batch", ratio("py", 1) <= 3),
               ("cold (own engine, pure Python) <= 3x addr2line batch", ratio("pure", 1) <= 3),
               ("cold (auto) <= 3x addr2line batch", ratio("auto", 1) <= 3),
               (">= 50x faster than per-address (cold, auto)",
                per_addr[1] / med(r[1] for r in runs["auto"]) >= 50)]
    print("targets (CPU): " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}"
                                       for name, ok in targets), flush=True)


if __name__ == "__main__":
    sys.exit(main())
