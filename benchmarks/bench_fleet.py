"""Fleet benchmark: ingest throughput, scaling, worker memory, query latency, Dask vs local.

    python benchmarks/bench_fleet.py [--logs 10000] [--fleet benchmarks/work/fleet] [--keep]
                                     [--spark]

Needs a generated fleet (``python3 examples/fleet/generate.py benchmarks/work/fleet``: 520
real runs). The replicator writes ``--logs`` plain-text logs under benchmarks/work/bench/,
cycling through the real runs with new device ids (a first line names the replica, so every
copy has its own content hash). Then:

- ``cat`` of every file to /dev/null: the floor (how fast the files can be read at all);
- ``memsleuth ingest`` with 1 worker on a share of the logs, and with every core on all of
  them: MB/s, logs/s, MB/s per core, the speed-up, and the peak RSS of the largest worker;
- the fleet questions with DuckDB on the resulting store (seconds each, best of 3);
- the same ingest and questions on a local Dask cluster (one worker process per core);
- ``--spark``: the start-up time and idle memory of a local Spark session next to a Dask
  cluster's (the measurement behind choosing Dask; needs pyspark and a JVM).

Ratios, not absolute targets: the machine it runs on is what it is. The work folder is
deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PATTERN = "{build}/{device}/{date}.log"


def replicate(fleet: Path, dest: Path, count: int) -> list[Path]:
    """``count`` logs from the fleet's runs, each with a new device id and its own content."""
    runs = sorted((fleet / "logs").rglob("*.log.gz"))
    if not runs:
        sys.exit(f"no runs under {fleet}/logs: run examples/fleet/generate.py first")
    texts = [gzip.decompress(r.read_bytes()) for r in runs]
    out = []
    for i in range(count):
        src = runs[i % len(runs)]
        build, date = src.parent.parent.name, src.name.split(".")[0]
        path = dest / build / f"dev-r{i // len(runs):03d}-{src.parent.name}" / f"{date}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"replica {i} of {src.parent.name}\n".encode() + texts[i % len(runs)])
        out.append(path)
    return out


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t, result


def cat(paths: list[Path]) -> float:
    t = time.perf_counter()
    for i in range(0, len(paths), 500):
        subprocess.run(["cat", *map(str, paths[i:i + 500])], stdout=subprocess.DEVNULL,
                       check=True)
    return time.perf_counter() - t


def run_ingest(paths: list[Path], store: Path, symbols: Path, jobs: int, engine: str,
               scheduler: str | None = None) -> dict:
    """Ingest in a fresh process (so its children's peak RSS is this run's)."""
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from memsleuth.fleet.extract import Options\n"
        "from memsleuth.fleet.identity import PathPattern\n"
        "from memsleuth.fleet.ingest import ingest\n"
        "if __name__ == '__main__':\n"
        "    a = json.loads(sys.argv[1])\n"
        "    t = time.perf_counter()\n"
        "    r = ingest([Path(p) for p in a['paths']], Path(a['store']),\n"
        "               Options(PathPattern.compile(a['pattern'])), Path(a['symbols']),\n"
        "               jobs=a['jobs'], engine=a['engine'], scheduler=a['scheduler'])\n"
        "    dt = time.perf_counter() - t\n"
        "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "    if a['jobs'] == 1 and a['engine'] == 'local':  # ran in this process\n"
        "        kids = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    bad = [x for x in r.logs if x['status'] != 'ok']\n"
        "    print(json.dumps({'seconds': dt, 'worker_rss_kb': kids, 'driver_rss_kb': me,\n"
        "                      'logs': len(r.logs), 'not_ok': len(bad)}))\n"
    )
    arg = json.dumps({"paths": [str(p) for p in paths], "store": str(store),
                      "symbols": str(symbols), "pattern": PATTERN, "jobs": jobs,
                      "engine": engine, "scheduler": scheduler})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def questions(store: Path) -> dict[str, float]:
    from memsleuth.fleet import queries

    con = queries.connect(store)
    out = {}
    for name, sql in queries.QUESTIONS.items():
        out[name] = min(timed(queries.rows, con, sql)[0] for _ in range(3))
    return out


def spark_vs_dask(cores: int) -> dict:
    """Start-up time and resident memory of a local Spark session and of a Dask cluster."""
    out: dict = {}
    code_dask = (
        "import time, psutil\n"
        "from dask.distributed import LocalCluster, Client\n"
        "if __name__ == '__main__':\n"
        "    t = time.perf_counter()\n"
        f"    c = LocalCluster(n_workers={cores}, threads_per_worker=1, dashboard_address=None)\n"
        "    cl = Client(c); cl.submit(sum, [1, 2]).result()\n"
        "    dt = time.perf_counter() - t\n"
        "    me = psutil.Process()\n"
        "    rss = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])\n"
        "    print(dt, rss); cl.close(); c.close()\n")
    code_spark = (
        "import time, psutil\n"
        "from pyspark.sql import SparkSession\n"
        "t = time.perf_counter()\n"
        f"s = SparkSession.builder.master('local[{cores}]').getOrCreate()\n"
        "s.sparkContext.parallelize([1, 2], 2).map(lambda x: x + 1).collect()\n"
        "dt = time.perf_counter() - t\n"
        "me = psutil.Process()\n"
        "rss = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])\n"
        "print(dt, rss); s.stop()\n")
    for name, code in (("dask", code_dask), ("spark", code_spark)):
        try:
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=300, check=True)
            dt, rss = res.stdout.split()[-2:]
            out[name] = {"startup_s": float(dt), "rss_mb": int(rss) / 1e6}
        except (subprocess.SubprocessError, ValueError) as exc:
            out[name] = {"error": str(exc)[:200]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=int, default=10_000)
    ap.add_argument("--fleet", type=Path, default=ROOT / "benchmarks" / "work" / "fleet")
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "bench")
    ap.add_argument("--single-share", type=int, default=8,
                    help="the 1-worker run ingests every Nth log")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--spark", action="store_true")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    report: dict = {"cores": cores, "logs": args.logs}
    try:
        dt, paths = timed(replicate, args.fleet, work / "logs", args.logs)
        size = sum(p.stat().st_size for p in paths)
        report.update(bytes=size, replicate_s=round(dt, 1))
        print(f"replicated {len(paths):,} logs, {size / 1e6:,.0f} MB in {dt:.0f} s",
              flush=True)
        t_cat = cat(paths)
        report["cat_mb_s"] = size / 1e6 / t_cat
        print(f"cat: {report['cat_mb_s']:,.0f} MB/s", flush=True)

        share = paths[::args.single_share]      # every Nth: the same mix of builds
        share_mb = sum(p.stat().st_size for p in share) / 1e6
        one = run_ingest(share, work / "store1", args.fleet / "symbols", 1, "local")
        report["ingest_1"] = {**one, "mb_s": share_mb / one["seconds"]}
        print(f"ingest, 1 worker: {share_mb / one['seconds']:.2f} MB/s "
              f"({len(share) / one['seconds']:.2f} logs/s), peak RSS "
              f"{one['worker_rss_kb'] / 1024:.0f} MB", flush=True)

        full = run_ingest(paths, work / "store", args.fleet / "symbols", cores, "local")
        report["ingest_all"] = {**full, "mb_s": size / 1e6 / full["seconds"]}
        print(f"ingest, {cores} workers: {size / 1e6 / full['seconds']:.2f} MB/s "
              f"({len(paths) / full['seconds']:.2f} logs/s, "
              f"{size / 1e6 / full['seconds'] / cores:.2f} MB/s per core), speed-up "
              f"{(size / full['seconds']) / (share_mb * 1e6 / one['seconds']):.2f}x, "
              f"peak worker RSS {full['worker_rss_kb'] / 1024:.0f} MB, "
              f"{full['not_ok']} not ok", flush=True)

        report["duckdb_s"] = questions(work / "store")
        print("DuckDB: " + ", ".join(f"{k} {v:.3f} s" for k, v in report["duckdb_s"].items()),
              flush=True)

        dask_run = run_ingest(paths, work / "store-dask", args.fleet / "symbols", cores,
                              "dask")
        report["ingest_dask"] = {**dask_run, "mb_s": size / 1e6 / dask_run["seconds"]}
        print(f"ingest on a local Dask cluster ({cores} workers): "
              f"{size / 1e6 / dask_run['seconds']:.2f} MB/s", flush=True)
        from memsleuth.fleet import dask_engine

        dt, _ = timed(dask_engine.answer, work / "store")
        report["dask_questions_s"] = dt
        print(f"Dask: all questions {dt:.1f} s (cluster start-up included)", flush=True)
        if args.spark:
            report["startup"] = spark_vs_dask(cores)
            print(f"start-up: {report['startup']}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
