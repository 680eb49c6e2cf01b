#!/usr/bin/env python3
"""Build the fleet firmware and run it as a fleet of devices: real logs for `memsleuth ingest`.

Three releases of the wifi_reconnect_leak firmware (``fw-1.0`` and ``fw-1.1`` leak the roam
timer, ``fw-1.2`` is the fix; each release moves every address), each for x86-64 (runs
natively) and Cortex-M4 (runs under qemu-system-arm with the memsleuth fault handler). Every
device has its own leak share, warm-up, noise and seed; Cortex-M4 devices get injected faults
(two distinct crashes), some host devices reboot mid-log. Two log dates per device: on the
second, some devices were upgraded.

    python3 examples/fleet/generate.py OUT                   # full fleet: 260 devices, 520 runs
    python3 examples/fleet/generate.py OUT --devices 24 --stop-at 120   # the committed fixture

Writes OUT/logs/<build>/<device>/<date>.log.gz, OUT/symbols/<build>.elf and OUT/truth.json
(what each run was told to do: the answers `memsleuth fleet` must find).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "wifi_reconnect_leak"
DEVICE = HERE.parent.parent / "device"

RELEASES = {"fw-1.0": ("leak", 0), "fw-1.1": ("leak", 1), "fw-1.2": ("noleak", 2)}
TARGETS = {"x86_64": "x86_64", "cortex-m4": "cm4"}
DATES = ("2026-11-02", "2026-11-16")
COMMON = ["-std=c99", "-g", f"-ffile-prefix-map={HERE.parent.parent}=.", "-Wall", "-Wextra",
          f"-I{EXAMPLE}", f"-I{DEVICE}",
          "-DMS_AGENT_TRACE_DEPTH=2", "-DMS_AGENT_WRAP_LIBC=1", "-DFLEET_HOOKS",
          "-DARENA_SIZE=(100*1024)"]
WRAP = ["-Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc", "-Wl,--build-id"]
SOURCES = [EXAMPLE / "main.c", EXAMPLE / "wifi_drv.c", EXAMPLE / "kernel_timer.c"]


def sources(layout: int) -> list[str]:
    """Link order differs per release (and later ones carry padding): every address moves."""
    hooks = [HERE / "fleet_hooks.c"]
    return [str(p) for p in (hooks + SOURCES if layout == 0 else SOURCES + hooks)]


def build(release: str, target: str, out: Path) -> Path:
    scenario, layout = RELEASES[release]
    elf = out / f"{release}-{TARGETS[target]}.elf"
    defs = [f"-DSCENARIO={scenario}", f"-DFLEET_LAYOUT={layout}"]
    if target == "x86_64":
        cmd = ["gcc", *COMMON, *defs, "-Og", "-fno-omit-frame-pointer",
               "-fno-optimize-sibling-calls", "-fno-pie", "-no-pie", "-fcf-protection=none",
               "-o", str(elf), *sources(layout), str(EXAMPLE / "board_host.c"),
               str(DEVICE / "memsleuth_agent.c"), *WRAP]
    else:
        cmd = ["arm-none-eabi-gcc", *COMMON, *defs, "-mthumb", "-mcpu=cortex-m4", "-Og",
               "-ffunction-sections", "-fno-optimize-sibling-calls", "-o", str(elf),
               *sources(layout), str(HERE / "board_mps2_fleet.c"),
               str(DEVICE / "memsleuth_agent.c"), str(DEVICE / "memsleuth_port_cortexm.c"),
               str(DEVICE / "memsleuth_fault.c"), "-T", str(HERE / "mps2_fleet.ld"),
               "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", *WRAP]
    subprocess.run(cmd, check=True)
    return elf


def plan(devices: int, stop_at: int, seed: int = 14) -> list[dict]:
    """Which device runs which build with which parameters (deterministic)."""
    rng = random.Random(seed)
    runs = []
    for d in range(devices):
        target = "cortex-m4" if d % 4 == 0 else "x86_64"
        device = f"dev-{d:04d}"
        leak_pct = rng.choice((0, 60, 80, 100, 100))
        warmup = rng.choice((0, 10, 30))
        noise = rng.choice((0, 200, 400))
        crash_kind = (0, 1, 2)[(d // 4) % 3] if target == "cortex-m4" else 0
        crash_at = 30 + rng.randrange(max(1, min(100, stop_at - 40)))
        first = rng.choices(("fw-1.0", "fw-1.1", "fw-1.2"), (45, 35, 20))[0]
        second = "fw-1.2" if first == "fw-1.2" or rng.random() < 0.5 else first
        for i, (date, release) in enumerate(zip(DATES, (first, second), strict=True)):
            params = {"seed": d * 10 + i + 1, "leak_pct": leak_pct, "warmup": warmup,
                      "noise": noise, "stop_at": stop_at}
            if crash_kind:
                params.update(crash_at=crash_at, crash_kind=crash_kind)
            if target == "x86_64" and rng.random() < 0.1:
                params["reboot_at"] = 40 + rng.randrange(max(1, stop_at // 2))
            runs.append({"device": device, "date": date, "release": release,
                         "target": target, "build": f"{release}-{TARGETS[target]}",
                         "params": params})
    return runs


def run_one(run: dict, elf: Path, dest: Path) -> dict:
    params = run["params"]
    if run["target"] == "x86_64":
        env = {**os.environ, **{f"FLEET_{k.upper()}": str(v) for k, v in params.items()}}
        proc = subprocess.run([str(elf)], env=env, capture_output=True, timeout=120)
    else:
        args = ",".join(["arg=firmware"] + [f"arg={k}={v}" for k, v in params.items()])
        proc = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
             "-serial", "stdio", "-semihosting-config", f"enable=on,target=native,{args}",
             "-kernel", str(elf)], capture_output=True, timeout=120)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(dest, "wb", compresslevel=9) as f:
        f.write(proc.stdout)
    return {**run, "exit": proc.returncode, "bytes": len(proc.stdout),
            "log": str(dest.relative_to(dest.parents[3]))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--devices", type=int, default=260)
    ap.add_argument("--stop-at", type=int, default=600, help="cycles per run at most")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    out: Path = args.out
    if (out / "logs").exists():
        shutil.rmtree(out / "logs")
    (out / "symbols").mkdir(parents=True, exist_ok=True)
    runs = plan(args.devices, args.stop_at)
    needed = sorted({(r["release"], r["target"]) for r in runs})
    elfs = {f"{rel}-{TARGETS[t]}": build(rel, t, out / "symbols") for rel, t in needed}
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda r: run_one(
            r, elfs[r["build"]], out / "logs" / r["build"] / r["device"] / f"{r['date']}.log.gz"),
            runs))
    (out / "truth.json").write_text(json.dumps({"runs": done}, indent=1) + "\n")
    bad = [r for r in done if r["bytes"] == 0]
    print(f"{len(done)} runs, {sum(r['bytes'] for r in done) / 1e6:.1f} MB of log, "
          f"{len(elfs)} builds -> {out}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
