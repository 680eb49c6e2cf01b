"""The batch driver: logs -> store, on every core (a process pool) or on a Dask cluster.

Logs are dealt in chunks; each chunk is one task that writes its own part files, so workers
share nothing but the store folder and no result rows travel back (only each log's status).
Chunks grow with the batch (about eight tasks per worker, 8 to 128 logs each): one part file
per table per chunk keeps a 10,000-log store at hundreds of files, not tens of thousands,
which is what DuckDB's query time grows with.
A log whose content is already in the store with status ``ok`` is skipped (idempotent by
content hash); a failed or partial one is tried again (its ELF may have been added since).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memsleuth.errors import UsageError
from memsleuth.fleet.extract import Options, content_hash, extract_log
from memsleuth.fleet.layout import PartWriter, ingested, init_store, new_ingest_id
from memsleuth.fleet.symstore import SymbolStore

#: Logs per task, at least and at most: big enough to amortise a task and its part files,
#: small enough to spread over the workers.
CHUNK_LOGS = 8
MAX_CHUNK_LOGS = 128
#: Tasks per worker the chunks aim at (the last ones balance the load).
TASKS_PER_WORKER = 8

_SYMBOL_STORES: dict[str | None, SymbolStore] = {}


def collect_logs(inputs: Iterable[Path]) -> list[Path]:
    """Files given, and every file below the folders given (hidden ones skipped), sorted."""
    out: list[Path] = []
    for item in inputs:
        if item.is_dir():
            out.extend(sorted(p for p in item.rglob("*") if p.is_file()
                              and not any(part.startswith(".") for part in
                                          p.relative_to(item).parts)))
        elif item.exists():
            out.append(item)
        else:
            raise UsageError(f"log not found: {item}")
    return out


def ingest_chunk(store: str, ingest_id: str, part: str, paths: list[str], opts: Options,
                 symbols_root: str | None, done: dict[str, str]) -> list[dict[str, Any]]:
    """One task: ingest these logs into part files of their own; return their status rows."""
    symbols = _SYMBOL_STORES.get(symbols_root)
    if symbols is None:
        symbols = _SYMBOL_STORES[symbols_root] = SymbolStore.scan(
            Path(symbols_root) if symbols_root else None)
    writer = PartWriter(Path(store), ingest_id, part)
    emitted: dict[str, set[int]] = {}
    out = []
    try:
        for p in paths:
            path = Path(p)
            try:
                digest = content_hash(path)
            except OSError:
                digest = None
            if digest is not None and done.get(digest[0]) == "ok":
                out.append({"path": p, "log_id": digest[0], "status": "skipped",
                            "reason": "already in the store"})
                continue
            row = extract_log(path, ingest_id, opts, symbols, writer, emitted, digest)
            out.append({k: row.get(k) for k in ("path", "log_id", "status", "reason",
                                                "device", "build", "bytes")})
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return out


def dask_engine():  # -> module
    """The Dask engine, or a one-line error when Dask is not installed."""
    try:
        from memsleuth.fleet import dask_engine as engine
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'memsleuth[dask]'") from None
    return engine


@dataclass
class IngestResult:
    ingest_id: str
    logs: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.logs if r["status"] == status)


def ingest(paths: list[Path], store: Path, opts: Options, symbols: Path | None = None, *,
           jobs: int | None = None, engine: str = "local", scheduler: str | None = None,
           chunk: int | None = None) -> IngestResult:
    """Ingest logs into the store with the chosen engine (``chunk``: logs per task)."""
    if chunk is None:
        workers = jobs or os.cpu_count() or 1
        chunk = max(CHUNK_LOGS, min(MAX_CHUNK_LOGS, len(paths) // (workers * TASKS_PER_WORKER)))
    init_store(store)
    done = ingested(store)
    ingest_id = new_ingest_id()
    chunks = [[str(p) for p in paths[i:i + chunk]] for i in range(0, len(paths), chunk)]
    args = [(str(store), ingest_id, f"{n:05d}", c, opts,
             str(symbols) if symbols else None, done) for n, c in enumerate(chunks)]
    result = IngestResult(ingest_id)
    if engine == "dask":
        run_tasks = dask_engine().run_tasks

        for rows in run_tasks(ingest_chunk, args, scheduler, jobs):
            result.logs.extend(rows)
    elif engine == "local":
        jobs = jobs or os.cpu_count() or 1
        if jobs == 1 or len(chunks) <= 1:
            for a in args:
                result.logs.extend(ingest_chunk(*a))
        else:
            import concurrent.futures as cf
            import multiprocessing as mp

            ctx = mp.get_context("spawn" if os.name != "posix" else "fork")
            with cf.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
                for rows in pool.map(ingest_chunk, *zip(*args, strict=True)):
                    result.logs.extend(rows)
    else:
        raise UsageError(f"unknown engine {engine!r} (local, dask)")
    return result
