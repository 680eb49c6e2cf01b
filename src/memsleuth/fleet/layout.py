"""The store: one folder per table, Parquet part files, the same layout for every engine.

    STORE/memsleuth-fleet.json          what this folder is (format version)
    STORE/<table>/part-<ingest>-<n>.parquet

Every row carries ``log_id`` (SHA-256 of the log file's bytes: re-ingesting is a no-op),
``ingest_id`` (which ingest run wrote it: a log ingested again after a fix supersedes its
older rows), ``device``, ``build``, ``path`` and ``line``. Part files are written whole by
one worker and never appended to, so readers never see half a file; the ``logs`` row of a
batch is written last, and queries only read rows whose log has a ``logs`` row.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT = "memsleuth-fleet/1"
MARKER = "memsleuth-fleet.json"

_COMMON = [
    ("log_id", pa.string()), ("ingest_id", pa.string()), ("device", pa.string()),
    ("build", pa.string()), ("path", pa.string()), ("line", pa.int64()),
]
_U64 = pa.uint64()

SCHEMAS: dict[str, pa.Schema] = {
    "logs": pa.schema([
        ("log_id", pa.string()), ("ingest_id", pa.string()), ("ingested_at", pa.float64()),
        ("path", pa.string()), ("device", pa.string()), ("build", pa.string()),
        ("build_source", pa.string()), ("build_printed", pa.string()), ("elf", pa.string()),
        ("date", pa.string()), ("status", pa.string()), ("reason", pa.string()),
        ("bytes", pa.int64()), ("lines", pa.int64()), ("cycles", pa.int64()),
        ("boots", pa.int64()), ("overviews", pa.int64()), ("block_dumps", pa.int64()),
        ("object_events", pa.int64()), ("crashes", pa.int64()),
        ("trend_class", pa.string()), ("heap_rate", pa.float64()), ("trend_x", pa.string()),
        ("exhaustion_at", pa.float64()), ("last_x", pa.float64()),
        ("remaining", pa.float64()), ("free_now", pa.int64()), ("leak", pa.bool_()),
        ("verdict", pa.string()),
    ]),
    "overviews": pa.schema(_COMMON + [
        ("cycle", pa.int64()), ("boot", pa.int32()), ("ts", pa.float64()),
        ("free", pa.int64()), ("used", pa.int64()), ("total", pa.int64()),
        ("min_free", pa.int64()), ("max_free_block", pa.int64()), ("nested", pa.bool_()),
    ]),
    "cycles": pa.schema(_COMMON + [
        ("cycle", pa.int64()), ("boot", pa.int32()), ("ts", pa.float64()),
    ]),
    "blocks": pa.schema(_COMMON + [
        ("dump_index", pa.int32()), ("dump_line", pa.int64()), ("cycle", pa.int64()),
        ("boot", pa.int32()), ("addr", _U64), ("used", pa.bool_()), ("size", pa.int64()),
        ("owner", _U64), ("trace", pa.list_(_U64)), ("corrupted", pa.bool_()),
    ]),
    "objects": pa.schema(_COMMON + [
        ("cycle", pa.int64()), ("boot", pa.int32()), ("op", pa.string()),
        ("kind", pa.string()), ("handle", _U64), ("caller", _U64), ("seq", pa.int64()),
    ]),
    "crashes": pa.schema(_COMMON + [
        ("crash_index", pa.int32()), ("kind", pa.string()), ("arch", pa.string()),
        ("category", pa.string()), ("summary", pa.string()), ("pc", _U64),
        ("fault_address", _U64), ("task", pa.string()), ("signature", pa.string()),
        ("frames", pa.list_(pa.string())), ("addresses", pa.list_(_U64)),
        ("symbolized", pa.bool_()), ("cycle", pa.int64()), ("date", pa.string()),
    ]),
    "findings": pa.schema(_COMMON + [
        ("source", pa.string()), ("site_key", pa.string()), ("function", pa.string()),
        ("file", pa.string()), ("src_line", pa.int64()), ("inline_chain", pa.string()),
        ("object_kind", pa.string()), ("rate", pa.float64()), ("unit", pa.string()),
        ("leaking", pa.bool_()), ("pattern", pa.string()), ("symbolized", pa.bool_()),
        ("evidence", pa.string()), ("share", pa.float64()), ("snapshots", pa.int64()),
    ]),
    "symbols": pa.schema([
        ("build", pa.string()), ("address", _U64), ("site_key", pa.string()),
        ("function", pa.string()), ("file", pa.string()), ("src_line", pa.int64()),
        ("inline_chain", pa.string()), ("ingest_id", pa.string()),
    ]),
}

TABLES = tuple(SCHEMAS)
#: Rows buffered per table before a row group is written (bounds a worker's memory).
FLUSH_ROWS = 50_000


def init_store(store: Path) -> None:
    """Create the store folder (or accept an existing one of ours)."""
    marker = store / MARKER
    if store.exists() and any(store.iterdir()) and not marker.exists():
        from memsleuth.errors import UsageError

        raise UsageError(f"{store} exists and is not a memsleuth fleet store")
    store.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        (store / table).mkdir(exist_ok=True)
    if not marker.exists():
        marker.write_text(json.dumps({"format": FORMAT, "tables": list(TABLES)}) + "\n")


def is_store(path: Path) -> bool:
    return (path / MARKER).is_file()


def new_ingest_id() -> str:
    return uuid.uuid4().hex[:12]


class PartWriter:
    """Buffers rows per table and writes them as row groups of one part file per table.

    Two ways in: ``add`` a row dict (the few rows per log: logs, findings, crashes), or
    ``rows`` for a log's bulk rows: a list of value tuples in a fixed column order, the
    columns every row of that log shares given once (building a dict per block or object
    event cost more than parsing the line it came from). Files appear under their final name
    only when closed (written as ``.tmp`` first)."""

    def __init__(self, store: Path, ingest_id: str, part: str) -> None:
        self.store = store
        self.name = f"part-{ingest_id}-{part}.parquet"
        self._rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self._segments: dict[str, list[tuple[dict[str, Any], tuple[str, ...],
                                             list[tuple[Any, ...]]]]] = {t: [] for t in TABLES}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)

    def add(self, table: str, row: dict[str, Any]) -> None:
        rows = self._rows[table]
        rows.append(row)
        if len(rows) >= FLUSH_ROWS:
            self._flush(table)

    def rows(self, table: str, shared: dict[str, Any],
             names: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """A list to append rows to as tuples in ``names`` order; each row also has the
        ``shared`` columns. Call ``check`` now and then so a long log flushes row groups."""
        out: list[tuple[Any, ...]] = []
        self._segments[table].append((shared, names, out))
        return out

    def check(self) -> None:
        """Flush every table whose buffered rows reached FLUSH_ROWS."""
        for table, segments in self._segments.items():
            if segments and sum(len(s[2]) for s in segments) >= FLUSH_ROWS:
                self._flush(table)

    def _segment(self, table: str, shared: dict[str, Any], names: tuple[str, ...],
                 values: list[tuple[Any, ...]]) -> pa.Table:
        schema = SCHEMAS[table]
        n = len(values)
        columns = dict(zip(names, zip(*values, strict=True), strict=True)) if n else {}
        arrays = []
        for f in schema:
            if f.name in columns:
                arrays.append(pa.array(columns[f.name], type=f.type))
            elif shared.get(f.name) is not None:
                arrays.append(pa.array([shared[f.name]] * n, type=f.type))
            else:
                arrays.append(pa.nulls(n, f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _flush(self, table: str) -> None:
        rows = self._rows[table]
        segments = self._segments[table]
        parts = [self._segment(table, *s) for s in segments if s[2]]
        if rows:
            parts.append(pa.Table.from_pylist(rows, schema=SCHEMAS[table]))
        if not parts:
            return
        batch = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        writer = self._writers.get(table)
        if writer is None:
            tmp = self.store / table / (self.name + ".tmp")
            writer = self._writers[table] = pq.ParquetWriter(tmp, SCHEMAS[table],
                                                             compression="zstd")
        writer.write_table(batch)
        self.counts[table] += batch.num_rows
        rows.clear()
        for s in segments:
            s[2].clear()            # in place: the log being read keeps appending to its list
        del segments[:-1]

    def close(self) -> None:
        """Write what is buffered and publish the files; ``logs`` last."""
        for table in (*[t for t in TABLES if t != "logs"], "logs"):
            self._flush(table)
            writer = self._writers.pop(table, None)
            if writer is not None:
                writer.close()
                tmp = self.store / table / (self.name + ".tmp")
                os.replace(tmp, self.store / table / self.name)

    def abort(self) -> None:
        for table, writer in self._writers.items():
            writer.close()
            (self.store / table / (self.name + ".tmp")).unlink(missing_ok=True)
        self._writers.clear()


def part_files(store: Path, table: str) -> list[Path]:
    return sorted((store / table).glob("part-*.parquet"))


def ingested(store: Path) -> dict[str, str]:
    """log_id -> status of the newest ingest of every log already in the store."""
    files = part_files(store, "logs")
    if not files:
        return {}
    import pyarrow.dataset as ds

    table = ds.dataset([str(f) for f in files], format="parquet").to_table(
        columns=["log_id", "status", "ingested_at"])
    newest: dict[str, tuple[float, str]] = {}
    for log_id, status, at in zip(*(table.column(c).to_pylist() for c in
                                    ("log_id", "status", "ingested_at")), strict=True):
        if log_id not in newest or at > newest[log_id][0]:
            newest[log_id] = (at, status)
    return {k: v[1] for k, v in newest.items()}
