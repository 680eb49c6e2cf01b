"""The same job on Dask distributed: ingest tasks on a cluster, the fleet questions as Dask
dataframe computations over the same Parquet files.

Dask, not Spark (measured in benchmarks/bench_fleet.py, reasons in the README): ingest is
Python (the parser, the symbolizer, the analyses), which Dask runs natively in its worker
processes; Spark would run it in Python workers behind a JVM, on every machine that also needs
a Java runtime. ``--scheduler tcp://host:8786`` uses an existing cluster (workers need the
same memsleuth and a shared filesystem for the store); without it a local cluster of worker
processes is started for the call.

The questions follow ``queries.QUESTIONS`` exactly (same filters, groups, medians, order):
the tests compare both engines row for row on the same store.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask

from memsleuth.errors import UsageError
from memsleuth.fleet.layout import SCHEMAS, is_store, part_files


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler``, or to a local cluster of worker processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as c:
            yield c
        return
    import logging

    n = workers or min(os.cpu_count() or 2, 4)
    with LocalCluster(n_workers=max(2, n), threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit="2GiB",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as c:
        yield c


def run_tasks(fn: Callable[..., Any], args: list[tuple], scheduler: str | None,
              workers: int | None) -> Iterator[Any]:
    """Run ``fn(*a)`` for every ``a`` on the cluster; results in order."""
    with client(scheduler, workers) as c:
        futures = c.map(fn, *zip(*args, strict=True), pure=False) if args else []
        for fut in futures:
            yield fut.result()


# ------------------------------------------------------------------------------------------
# The questions


#: Parquet bytes (compressed) per Dask partition of a table.
PARTITION_BYTES = 32 << 20


def _read(store: Path, table: str) -> Any:
    import dask.dataframe as dd
    import pyarrow as pa

    files = [str(f) for f in part_files(store, table)]
    if not files:
        return dd.from_pandas(pa.Table.from_pylist([], schema=SCHEMAS[table]).to_pandas(),
                              npartitions=1)
    return dd.read_parquet(files)


def _views(store: Path) -> dict[str, Any]:
    """The views of ``queries.connect``: newest ingest of each log, rows of logs not failed."""
    if not is_store(store):
        raise UsageError(f"{store} is not a memsleuth fleet store")
    raw = _read(store, "logs")
    newest = raw.groupby("log_id").ingested_at.max().rename("newest").reset_index()
    logs = raw.merge(newest, on="log_id")
    logs = logs[logs.ingested_at == logs.newest].drop(columns="newest")
    first_path = logs.groupby("log_id").path.min().rename("first_path").reset_index()
    logs = logs.merge(first_path, on="log_id")
    logs = logs[logs.path == logs.first_path].drop(columns="first_path")
    logs = logs.repartition(npartitions=1).persist()
    live = logs[logs.status != "failed"][["log_id", "ingest_id", "path"]]
    views = {"logs": logs}
    for table in ("findings", "crashes"):
        df = _read(store, table)
        # the small side (one row per log) goes to every partition: no shuffle of the table
        df = df.merge(live, on=["log_id", "ingest_id", "path"], broadcast=True)
        size = sum(f.stat().st_size for f in part_files(store, table))
        views[table] = df.repartition(npartitions=max(2, math.ceil(size / PARTITION_BYTES))
                                      ).persist()
    return views


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return value


def _records(df: Any, columns: list[str]) -> list[dict[str, Any]]:
    return [{c: (_clean(v) if not isinstance(v, list) else v) for c, v in zip(columns, row,
                                                                          strict=True)}
            for row in df[columns].itertuples(index=False, name=None)]


def _sort(df: Any, keys: list[tuple[str, bool]]) -> Any:
    """ORDER BY with NULLS LAST for every key (DuckDB's default for ASC; given for DESC)."""
    return df.sort_values([k for k, _ in keys], ascending=[a for _, a in keys],
                          na_position="last", kind="mergesort")


def _pairs(df: Any, by: list[str], col: str) -> Any:
    return df[[*by, col]].dropna().drop_duplicates()


def _lists(pairs: Any, by: list[str], col: str, name: str) -> Any:
    """Sorted distinct values per group (DuckDB's list_sort(list(DISTINCT col)))."""
    return pairs.groupby(by)[col].agg(lambda s: sorted(s)).rename(name)


def _medians(df: Any, by: list[str], mask: Any, name: str) -> Any:
    return df[mask].groupby(by).rate.median().rename(name)


def _site_counts(v: dict[str, Any]) -> tuple[Any, Any]:
    """(leaking findings, per site: devices with strong evidence, all devices, logs, the
    site's own fields, its builds and medians) as one computed frame."""
    f = v["findings"]
    lk = f[f.symbolized & f.leaking]
    st = lk[lk.evidence == "strong"]
    base, strong, strong_rows, devices, logs, pairs, obj, byt, share, dumps = dask.compute(
        lk.groupby("site_key").agg({"function": "first", "file": "first", "src_line": "first"}),
        st.groupby("site_key").device.nunique().rename("strong"),
        st.groupby("site_key").log_id.count().rename("strong_rows"),
        lk.groupby("site_key").device.nunique().rename("all_devices"),
        lk.groupby("site_key").log_id.nunique().rename("logs"),
        _pairs(lk, ["site_key"], "build"),
        _medians(lk, ["site_key"], lk.source == "objects", "objects_per_cycle"),
        _medians(lk, ["site_key"], lk.unit == "B/cycle", "bytes_per_cycle"),
        lk.groupby("site_key").share.median().rename("median_share"),
        lk.groupby("site_key").snapshots.max().rename("dumps"))
    builds = _lists(pairs, ["site_key"], "build", "builds")
    out = base.join([strong, strong_rows, devices, logs, builds, obj, byt, share, dumps])
    out["strong"] = out.strong.fillna(0).astype("int64")
    out["strong_rows"] = out.strong_rows.fillna(0).astype("int64")
    return out.reset_index()


def leak_sites(v: dict[str, Any]) -> list[dict[str, Any]]:
    out = _site_counts(v)
    out = out[out.strong_rows > 0].copy()
    out["devices"] = out.strong
    out["weak_devices"] = out.all_devices - out.strong
    out = _sort(out, [("devices", False), ("bytes_per_cycle", False),
                      ("objects_per_cycle", False), ("site_key", True)])
    return _records(out, ["site_key", "function", "file", "src_line", "devices",
                          "weak_devices", "logs", "builds", "objects_per_cycle",
                          "bytes_per_cycle"])


def weak_sites(v: dict[str, Any]) -> list[dict[str, Any]]:
    out = _site_counts(v)
    out = out[out.strong_rows == 0].copy()
    out["devices"] = out.all_devices
    out = _sort(out, [("devices", False), ("site_key", True)])
    return _records(out, ["site_key", "function", "file", "src_line", "devices", "logs",
                          "builds", "median_share", "dumps", "bytes_per_cycle"])


def leak_sites_by_build(v: dict[str, Any]) -> list[dict[str, Any]]:
    f = v["findings"]
    lk = f[f.symbolized & f.leaking & (f.evidence == "strong")]
    by = ["site_key", "build"]
    devices, logs, obj, byt = dask.compute(
        lk.groupby(by).device.nunique().rename("devices"),
        lk.groupby(by).log_id.nunique().rename("logs"),
        _medians(lk, by, lk.source == "objects", "objects_per_cycle"),
        _medians(lk, by, lk.unit == "B/cycle", "bytes_per_cycle"))
    out = devices.to_frame().join([logs, obj, byt]).reset_index()
    out = _sort(out, [("site_key", True), ("devices", False), ("build", True)])
    return _records(out, ["site_key", "build", "devices", "logs", "objects_per_cycle",
                          "bytes_per_cycle"])


def build_comparison(v: dict[str, Any]) -> list[dict[str, Any]]:
    f = v["findings"]
    f = f[f.symbolized]
    strong = f.leaking & (f.evidence == "strong")
    leaky = f[strong][["site_key"]].drop_duplicates()
    logs = v["logs"]
    b = logs[(logs.status != "failed") & logs.build.notnull()]
    b = b.groupby("build").date.min().rename("first_date").reset_index()
    j = f.merge(leaky, on="site_key").merge(b, on="build")
    by = ["site_key", "build"]
    devices, leaking, obj, byt, first = dask.compute(
        j.groupby(by).device.nunique().rename("devices"),
        j[j.leaking & (j.evidence == "strong")].groupby(by).device.nunique()
        .rename("leaking_devices"),
        _medians(j, by, j.source == "objects", "objects_per_cycle"),
        _medians(j, by, j.unit == "B/cycle", "bytes_per_cycle"), b)
    first = first.set_index("build").first_date
    out = devices.to_frame().join([leaking, obj, byt]).reset_index()
    out["first_date"] = out.build.map(first)
    out["leaking_devices"] = out.leaking_devices.fillna(0).astype("int64")
    out = _sort(out, [("site_key", True), ("first_date", True), ("build", True)])
    return _records(out, ["site_key", "build", "first_date", "devices", "leaking_devices",
                          "objects_per_cycle", "bytes_per_cycle"])


def crash_signatures(v: dict[str, Any]) -> list[dict[str, Any]]:
    c = v["crashes"]
    g = c.groupby("signature")
    c = c.assign(unsymbolized=(~c.symbolized.astype(bool)).astype("int64"))
    g = c.groupby("signature")
    out, devices, pcs, pairs = dask.compute(
        g.agg({"category": "first", "date": ["min", "max"], "unsymbolized": "sum",
               "log_id": "count"}),
        g.device.nunique().rename("devices"), g.pc.nunique().rename("distinct_pcs"),
        _pairs(c, ["signature"], "build"))
    out.columns = ["category", "first_seen", "last_seen", "unsymbolized", "crashes"]
    out["symbolized"] = out.pop("unsymbolized") == 0
    out = out.join([devices, pcs, _lists(pairs, ["signature"], "build", "builds")]
                   ).reset_index()
    out = _sort(out, [("crashes", False), ("signature", True)])
    return _records(out, ["signature", "category", "crashes", "devices", "builds",
                          "distinct_pcs", "first_seen", "last_seen", "symbolized"])


def devices_by_exhaustion(v: dict[str, Any]) -> list[dict[str, Any]]:
    logs = v["logs"]
    cols = ["device", "build", "date", "trend_class", "heap_rate", "trend_x", "free_now",
            "exhaustion_at", "remaining", "path"]
    live = logs[(logs.status != "failed") & logs.device.notnull()][cols].compute()
    live = _sort(live, [("device", True), ("date", False), ("path", False)])
    latest = live.drop_duplicates("device", keep="first")
    out = _sort(latest, [("remaining", True), ("heap_rate", False), ("device", True)])
    return _records(out, cols)


def problems(v: dict[str, Any]) -> list[dict[str, Any]]:
    logs = v["logs"]
    cols = ["path", "status", "reason", "device", "build"]
    out = _sort(logs[logs.status != "ok"][cols].compute(), [("status", True), ("path", True)])
    return _records(out, cols)


def summary(v: dict[str, Any]) -> list[dict[str, Any]]:
    logs = v["logs"]
    status, devices, builds, size, lines = dask.compute(
        logs.status.value_counts(), logs.device.nunique(), logs.build.nunique(),
        logs.bytes.sum(), logs.lines.sum())
    return [{
        "logs": int(status.sum()), "ok": int(status.get("ok", 0)),
        "partial": int(status.get("partial", 0)), "failed": int(status.get("failed", 0)),
        "devices": int(devices), "builds": int(builds),
        "bytes": int(size or 0), "lines": int(lines or 0),
    }]


QUESTIONS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "leak_sites": leak_sites, "weak_sites": weak_sites,
    "leak_sites_by_build": leak_sites_by_build,
    "build_comparison": build_comparison, "crash_signatures": crash_signatures,
    "devices_by_exhaustion": devices_by_exhaustion, "problems": problems, "summary": summary,
}


def answer(store: Path, questions: tuple[str, ...] = tuple(QUESTIONS),
           scheduler: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Every fleet question computed on a Dask cluster."""
    with client(scheduler, workers), dask.config.set({"dataframe.shuffle.method": "tasks"}):
        views = _views(store)
        return {q: QUESTIONS[q](views) for q in questions}
