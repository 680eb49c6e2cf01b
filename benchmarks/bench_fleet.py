"""Fleet benchmark: ingest throughput, scaling, worker memory, query latency, Dask vs local.

    python benchmarks/bench_fleet.py [--logs 10000] [--fleet DIR] [--work DIR] [--reuse]
                                     [--keep] [--spark] [--table]

Needs a generated fleet (``python3 examples/fleet/generate.py /tmp/fleet``: 520 real runs,
then ``--fleet /tmp/fleet``). The replicator writes ``--logs`` plain-text logs under
``--work`` (default: a folder in the system temp dir, not the repository: 10,000 logs are
~5.8 GB), cycling through the real runs with new device ids (a first line names the replica,
so every copy has its own content hash; ``--reuse`` keeps replicas already there). Then:

- ``cat`` of every file to /dev/null: the floor (how fast the files can be read at all);
- ``memsleuth ingest`` of a share of the logs (every ``--single-share``th) with 1 worker and
  with every core (the scaling, on the same files), then of all the logs with every core:
  MB/s and logs/s by the wall clock, CPU seconds per log and MB/s per CPU-second (what the
  wall clock shows on a machine shared with other work), and the peak RSS of the largest
  worker;
- the fleet questions with DuckDB on the full store (seconds each, best of 3);
- the same share ingested on a local Dask cluster (one worker process per core) next to
  the local pool on it, and the questions on Dask (cluster start-up included);
- ``--spark``: the start-up time and idle memory of a local Spark session next to a Dask
  cluster's (the measurement behind choosing Dask; needs pyspark and a JVM).

Ratios, not absolute targets: the machine it runs on is what it is. ``--table`` prints the
README table. The work folder is deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PATTERN = "{build}/{device}/{date}.log"


def replicate(fleet: Path, dest: Path, count: int, reuse: bool = False) -> list[Path]:
    """``count`` logs from the fleet's runs, each with a new device id and its own content."""
    runs = sorted((fleet / "logs").rglob("*.log.gz"))
    if not runs:
        sys.exit(f"no runs under {fleet}/logs: run examples/fleet/generate.py first")
    texts: dict[int, bytes] = {}
    out = []
    for i in range(count):
        src = runs[i % len(runs)]
        build, date = src.parent.parent.name, src.name.split(".")[0]
        path = dest / build / f"dev-r{i // len(runs):03d}-{src.parent.name}" / f"{date}.log"
        out.append(path)
        if reuse and path.exists():
            continue
        if i % len(runs) not in texts:
            texts[i % len(runs)] = gzip.decompress(src.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"replica {i} of {src.parent.name}\n".encode() + texts[i % len(runs)])
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
        "    a = json.loads(Path(sys.argv[1]).read_text())\n"
        "    t = time.perf_counter()\n"
        "    r = ingest([Path(p) for p in a['paths']], Path(a['store']),\n"
        "               Options(PathPattern.compile(a['pattern'])), Path(a['symbols']),\n"
        "               jobs=a['jobs'], engine=a['engine'], scheduler=a['scheduler'])\n"
        "    dt = time.perf_counter() - t\n"
        "    ch = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "    me = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    kids = ch.ru_maxrss\n"
        "    if a['jobs'] == 1 and a['engine'] == 'local':  # ran in this process\n"
        "        kids = me.ru_maxrss\n"
        "    cpu = ch.ru_utime + ch.ru_stime + me.ru_utime + me.ru_stime\n"
        "    bad = [x for x in r.logs if x['status'] != 'ok']\n"
        "    print(json.dumps({'seconds': dt, 'cpu_s': cpu, 'worker_rss_kb': kids,\n"
        "                      'driver_rss_kb': me.ru_maxrss, 'logs': len(r.logs),\n"
        "                      'not_ok': len(bad)}))\n"
    )
    arg = store.parent / f"{store.name}-args.json"    # 10,000 paths do not fit in argv
    arg.parent.mkdir(parents=True, exist_ok=True)
    arg.write_text(json.dumps({"paths": [str(p) for p in paths], "store": str(store),
                               "symbols": str(symbols), "pattern": PATTERN, "jobs": jobs,
                               "engine": engine, "scheduler": scheduler}))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code, str(arg)], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: The five fleet questions of the issue (the other two, problems and summary, are listed too).
FIVE = ("leak_sites", "leak_sites_by_build", "build_comparison", "crash_signatures",
        "devices_by_exhaustion")


def questions(store: Path) -> dict[str, float]:
    from memsleuth.fleet import queries

    con = queries.connect(store)
    out = {}
    for name, sql in queries.QUESTIONS.items():
        out[name] = min(timed(queries.rows, con, sql)[0] for _ in range(3))
    return out


def dask_questions(store: Path, cores: int) -> dict[str, float]:
    """Seconds per question on a local Dask cluster (started once, not counted)."""
    from memsleuth.fleet import dask_engine

    out = {}
    with dask_engine.client(None, cores):
        views = dask_engine._views(store)
        for name, fn in dask_engine.QUESTIONS.items():
            out[name] = timed(fn, views)[0]
    return out


def measured(run: dict, mb: float, logs: int) -> dict:
    """Wall-clock and CPU figures of one ingest run."""
    return {**run, "mb": mb, "mb_s": mb / run["seconds"], "logs_s": logs / run["seconds"],
            "cpu_ms_per_log": 1000 * run["cpu_s"] / logs, "mb_per_cpu_s": mb / run["cpu_s"]}


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


def ingest_batches(paths: list[Path], store: Path, symbols: Path, jobs: int, batch: int,
                   budget_s: float) -> dict:
    """The full ingest, ``batch`` logs per run into one store (ingest adds to a store),
    stopping after the batch that passes ``budget_s``: the wall clock on a shared machine is
    not ours to plan."""
    done, seconds, cpu, rss, bad, mb = 0, 0.0, 0.0, 0, 0, 0.0
    batches = []
    for i in range(0, len(paths), batch):
        part = paths[i:i + batch]
        r = run_ingest(part, store, symbols, jobs, "local")
        done += len(part)
        seconds += r["seconds"]
        cpu += r["cpu_s"]
        rss = max(rss, r["worker_rss_kb"])
        bad += r["not_ok"]
        mb += sum(p.stat().st_size for p in part) / 1e6
        batches.append({"logs": len(part), "seconds": r["seconds"], "cpu_s": r["cpu_s"]})
        print(f"  {done:,} logs ingested, {seconds / 60:.1f} min, "
              f"{1000 * cpu / done:.0f} ms CPU/log", flush=True)
        if seconds > budget_s:
            break
    run = {"seconds": seconds, "cpu_s": cpu, "worker_rss_kb": rss, "logs": done,
           "not_ok": bad, "batches": batches, "of": len(paths)}
    return measured(run, mb, done)


def fill_store(store: Path, logs: int) -> None:
    """Copy the store's rows under new log ids and device names until it holds ``logs``
    logs' worth (for timing the questions at full size when the ingest stopped short)."""
    import duckdb

    from memsleuth.fleet.layout import TABLES, part_files

    have = len(set(duckdb.connect().execute(
        f"SELECT DISTINCT log_id FROM read_parquet('{store}/logs/*.parquet')").fetchall()))
    rounds = -(-logs // have) - 1
    con = duckdb.connect()
    for table in TABLES:
        files = part_files(store, table)
        if not files or table == "symbols":
            continue
        listing = ", ".join(f"'{f}'" for f in files)
        for k in range(1, rounds + 1):
            cols = ["log_id || '-fill{k}' AS log_id", "'fill{k}-' || device AS device"]
            limit = f"WHERE log_id IN (SELECT DISTINCT log_id FROM read_parquet([{listing}]) " \
                    f"ORDER BY log_id LIMIT {min(have, logs - k * have)})"
            con.execute(
                f"COPY (SELECT * REPLACE ({', '.join(c.format(k=k) for c in cols)}) "
                f"FROM read_parquet([{listing}]) {limit}) TO "
                f"'{store / table / f'part-fill{k:03d}.parquet'}' (FORMAT parquet, "
                "COMPRESSION zstd)")


def table(r: dict) -> str:
    """The README table."""
    one, share, full = r["ingest_1"], r["ingest_share"], r["ingest_all"]
    c = r["cores"]
    rows = [
        ("logs", f"{r['logs']:,} logs, {r['bytes'] / 1e9:.2f} GB ({full['not_ok']} of the "
                 f"{full['logs']:,} ingested not ok)"),
        ("`cat` of the same files (page cache)", f"{r['cat_mb_s']:,.0f} MB/s"),
        (f"ingest, 1 worker (share: {one['logs']:,} logs)",
         f"{one['mb_s']:.2f} MB/s, {one['logs_s']:.2f} logs/s; "
         f"{one['cpu_ms_per_log']:.0f} ms CPU/log = {one['mb_per_cpu_s']:.2f} MB per "
         f"CPU-second; peak RSS {one['worker_rss_kb'] / 1024:.0f} MB"),
        (f"ingest, {c} workers (same share)",
         f"{share['mb_s']:.2f} MB/s, ×{share['mb_s'] / one['mb_s']:.2f} of 1 worker; peak "
         f"worker RSS {share['worker_rss_kb'] / 1024:.0f} MB"),
        (f"ingest, {c} workers ({full['logs']:,} of {r['logs']:,} logs)",
         f"{full['seconds'] / 60:.1f} min: {full['mb_s']:.2f} MB/s "
         f"({full['mb_s'] / c:.2f} per core), {full['logs_s']:.1f} logs/s; "
         f"{full['cpu_ms_per_log']:.0f} ms CPU/log; peak worker RSS "
         f"{full['worker_rss_kb'] / 1024:.0f} MB"),
        ("ingest ÷ `cat`", f"1 : {r['cat_mb_s'] / (full['mb_s'] / c):,.0f} per core"),
    ]
    if full["logs"] < r["logs"]:
        rest = r["logs"] - full["logs"]
        rows.append(("**extrapolated**: all logs at the measured rates",
                     f"{(full['seconds'] + rest / full['logs_s']) / 60:.0f} min at this "
                     f"run's wall rate; {r['logs'] * full['cpu_ms_per_log'] / 1000 / c / 60:.0f}"
                     f" min on {c} idle cores at its CPU per log"))
    dq = r["duckdb_s"]
    filled = (f" (store rows replicated from {r['store_filled_from']:,} ingested logs to "
              f"{r['logs']:,})") if r.get("store_filled_from") else ""
    rows.append((f"DuckDB, the five fleet questions{filled}",
                 ", ".join(f"{k} {dq[k]:.2f} s" for k in FIVE)))
    if "ingest_dask" in r:
        d = r["ingest_dask"]
        rows.append((f"ingest on a local Dask cluster ({c} workers, {d['logs']} logs)",
                     f"{d['mb_s']:.2f} MB/s vs {share['mb_s']:.2f} MB/s local "
                     f"(×{d['mb_s'] / share['mb_s']:.2f})"))
    if "dask_questions_s" in r:
        qs = r["dask_questions_s"]
        rows.append(("Dask, the five fleet questions (cluster up)",
                     ", ".join(f"{k} {qs[k]:.1f} s" for k in FIVE)))
    return "| measure | result |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=int, default=10_000)
    ap.add_argument("--fleet", type=Path, default=ROOT / "benchmarks" / "work" / "fleet")
    ap.add_argument("--work", type=Path,
                    default=Path(tempfile.gettempdir()) / "memsleuth-bench-fleet")
    ap.add_argument("--single-share", type=int, default=8,
                    help="the 1-worker run ingests every Nth log")
    ap.add_argument("--reuse", action="store_true", help="keep replicas already in --work")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--dask-share", type=int, default=4,
                    help="the Dask ingest takes every Nth log of the share")
    ap.add_argument("--batch", type=int, default=1000,
                    help="the full ingest runs in batches of this many logs (one store)")
    ap.add_argument("--budget-min", type=float, default=float("inf"),
                    help="stop the full ingest after the batch that passes this many minutes "
                         "(the rest is extrapolated, and labelled so)")
    ap.add_argument("--resume", action="store_true",
                    help="keep --work's report.json and store: skip phases already measured")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--table", action="store_true", help="print the README table")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    work: Path = args.work
    for sub in ("store1", "store-share", "store", "store-dask"):
        if not (args.resume and sub == "store"):
            shutil.rmtree(work / sub, ignore_errors=True)
    if not (args.reuse or args.resume):
        shutil.rmtree(work / "logs", ignore_errors=True)
    report: dict = {"cores": cores, "logs": args.logs}
    saved = work / "report.json"
    if args.resume and saved.exists():
        report = json.loads(saved.read_text())
        print(f"resumed: {', '.join(k for k in report if k.startswith('ingest'))} "
              "already measured", flush=True)
    symbols = args.fleet / "symbols"

    def save() -> None:
        saved.write_text(json.dumps(report, indent=1))
    try:
        dt, paths = timed(replicate, args.fleet, work / "logs", args.logs, args.reuse)
        size = sum(p.stat().st_size for p in paths)
        report.update(bytes=size, replicate_s=round(dt, 1))
        print(f"replicated {len(paths):,} logs, {size / 1e6:,.0f} MB in {dt:.0f} s",
              flush=True)
        t_cat = cat(paths)
        report["cat_mb_s"] = size / 1e6 / t_cat
        print(f"cat: {report['cat_mb_s']:,.0f} MB/s", flush=True)

        share = paths[::args.single_share]      # every Nth: the same mix of builds
        share_mb = sum(p.stat().st_size for p in share) / 1e6
        for key, jobs, store in (("ingest_1", 1, "store1"), ("ingest_share", cores,
                                                             "store-share")):
            if key not in report:
                report[key] = measured(run_ingest(share, work / store, symbols, jobs,
                                                  "local"), share_mb, len(share))
                save()
            r = report[key]
            print(f"ingest of {len(share):,} logs, {jobs} worker(s): {r['mb_s']:.2f} MB/s "
                  f"({r['logs_s']:.2f} logs/s), {r['cpu_ms_per_log']:.0f} ms CPU/log, peak "
                  f"RSS {r['worker_rss_kb'] / 1024:.0f} MB", flush=True)
        shutil.rmtree(work / "store1", ignore_errors=True)

        if "ingest_all" not in report:
            report["ingest_all"] = ingest_batches(paths, work / "store", symbols, cores,
                                                  args.batch, args.budget_min * 60)
            save()
        full = report["ingest_all"]
        print(f"ingest of {full['logs']:,} of {len(paths):,} logs, {cores} workers: "
              f"{full['seconds']:.0f} s, {full['mb_s']:.2f} MB/s ({full['logs_s']:.2f} logs/s), "
              f"{full['cpu_ms_per_log']:.0f} ms CPU/log, peak worker RSS "
              f"{full['worker_rss_kb'] / 1024:.0f} MB, {full['not_ok']} not ok", flush=True)
        if full["logs"] < len(paths):
            report["store_filled_from"] = full["logs"]
            fill_store(work / "store", len(paths))
            print(f"store rows replicated from {full['logs']:,} to {len(paths):,} logs' worth "
                  "for the query timing", flush=True)

        report["duckdb_s"] = questions(work / "store")
        save()
        print("DuckDB: " + ", ".join(f"{k} {v:.3f} s" for k, v in report["duckdb_s"].items()),
              flush=True)

        if not args.no_dask:
            small = share[::args.dask_share]
            report["ingest_dask"] = measured(
                run_ingest(small, work / "store-dask", symbols, cores, "dask"),
                sum(p.stat().st_size for p in small) / 1e6, len(small))
            save()
            print(f"ingest of {len(small):,} logs on a local Dask cluster ({cores} workers): "
                  f"{report['ingest_dask']['mb_s']:.2f} MB/s", flush=True)
            report["dask_questions_s"] = dask_questions(work / "store", cores)
            save()
            print("Dask: " + ", ".join(f"{k} {v:.1f} s" for k, v in
                                       report["dask_questions_s"].items()), flush=True)
        if args.spark:
            report["startup"] = spark_vs_dask(cores)
            print(f"start-up: {report['startup']}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    if args.table:
        print(table(report))


if __name__ == "__main__":
    main()
