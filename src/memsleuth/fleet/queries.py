"""The fleet questions in SQL, answered by DuckDB embedded over the store's Parquet files.

Views hide the store's bookkeeping: ``logs`` is the newest ingest of each log (one row per
content hash); every other table keeps only the rows of that ingest, of logs that did not
fail. ``symbols`` is one row per (build, address). Schema: docs/fleet.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from memsleuth.errors import InputError, UsageError
from memsleuth.fleet.layout import SCHEMAS, TABLES, is_store, part_files

#: The questions, in the order they are printed; each is one SELECT over the views.
QUESTIONS: dict[str, str] = {
    # Which leak sites, on how many devices, how fast (per site, over every build): ranked by
    # the devices whose own log carries the leak (evidence 'strong'); devices where the site
    # only grew weakly alongside another leak are counted apart (weak_devices).
    "leak_sites": """
        SELECT site_key, any_value(function) AS function, any_value(file) AS file,
               any_value(src_line) AS src_line,
               count(DISTINCT device) FILTER (WHERE evidence = 'strong') AS devices,
               count(DISTINCT device) - count(DISTINCT device) FILTER (WHERE evidence = 'strong')
                   AS weak_devices,
               count(DISTINCT log_id) AS logs, list_sort(list(DISTINCT build)) AS builds,
               median(rate) FILTER (WHERE source = 'objects') AS objects_per_cycle,
               median(rate) FILTER (WHERE unit = 'B/cycle') AS bytes_per_cycle
        FROM findings WHERE symbolized AND leaking
        GROUP BY site_key HAVING count(*) FILTER (WHERE evidence = 'strong') > 0
        ORDER BY devices DESC, bytes_per_cycle DESC NULLS LAST,
                 objects_per_cycle DESC NULLS LAST, site_key""",
    # Sites that grew on some devices but that no device's own verdict carries: shown apart,
    # with the share of the heap decline they explained (median) and the dumps seen.
    "weak_sites": """
        SELECT site_key, any_value(function) AS function, any_value(file) AS file,
               any_value(src_line) AS src_line, count(DISTINCT device) AS devices,
               count(DISTINCT log_id) AS logs, list_sort(list(DISTINCT build)) AS builds,
               median(share) AS median_share, max(snapshots) AS dumps,
               median(rate) FILTER (WHERE unit = 'B/cycle') AS bytes_per_cycle
        FROM findings WHERE symbolized AND leaking
        GROUP BY site_key HAVING count(*) FILTER (WHERE evidence = 'strong') = 0
        ORDER BY devices DESC, site_key""",
    # The same per build: where each leak site leaks (strong evidence).
    "leak_sites_by_build": """
        SELECT site_key, build, count(DISTINCT device) AS devices,
               count(DISTINCT log_id) AS logs,
               median(rate) FILTER (WHERE source = 'objects') AS objects_per_cycle,
               median(rate) FILTER (WHERE unit = 'B/cycle') AS bytes_per_cycle
        FROM findings WHERE symbolized AND leaking AND evidence = 'strong'
        GROUP BY site_key, build ORDER BY site_key, devices DESC, build""",
    # Build to build: every build where a leak site runs, leaking or not (a fix shows 0).
    "build_comparison": """
        WITH leaky AS (SELECT DISTINCT site_key FROM findings
                       WHERE symbolized AND leaking AND evidence = 'strong'),
             b AS (SELECT build, min(date) AS first_date FROM logs
                   WHERE status <> 'failed' AND build IS NOT NULL GROUP BY build)
        SELECT f.site_key, f.build, b.first_date,
               count(DISTINCT f.device) AS devices,
               count(DISTINCT f.device) FILTER (WHERE f.evidence = 'strong')
                   AS leaking_devices,
               median(f.rate) FILTER (WHERE f.source = 'objects') AS objects_per_cycle,
               median(f.rate) FILTER (WHERE f.unit = 'B/cycle') AS bytes_per_cycle
        FROM findings f JOIN leaky USING (site_key) JOIN b USING (build)
        WHERE f.symbolized
        GROUP BY f.site_key, f.build, b.first_date
        ORDER BY f.site_key, b.first_date NULLS LAST, f.build""",
    # Which crashes are the same crash: cause + address-free frames.
    "crash_signatures": """
        SELECT signature, any_value(category) AS category, count(*) AS crashes,
               count(DISTINCT device) AS devices, list_sort(list(DISTINCT build)) AS builds,
               count(DISTINCT pc) AS distinct_pcs, min(date) AS first_seen,
               max(date) AS last_seen, bool_and(symbolized) AS symbolized
        FROM crashes GROUP BY signature ORDER BY crashes DESC, signature""",
    # Which devices run out first: the newest log of each device, by forecast.
    "devices_by_exhaustion": """
        WITH latest AS (
            SELECT * FROM logs WHERE status <> 'failed' AND device IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY device
                                       ORDER BY date DESC NULLS LAST, path DESC) = 1)
        SELECT device, build, date, trend_class, heap_rate, trend_x, free_now,
               exhaustion_at, remaining, path
        FROM latest ORDER BY remaining ASC NULLS LAST, heap_rate DESC NULLS LAST, device""",
    # What could not be read, and why.
    "problems": """
        SELECT path, status, reason, device, build FROM logs
        WHERE status <> 'ok' ORDER BY status, path""",
    "summary": """
        SELECT count(*) AS logs, count(*) FILTER (WHERE status = 'ok') AS ok,
               count(*) FILTER (WHERE status = 'partial') AS partial,
               count(*) FILTER (WHERE status = 'failed') AS failed,
               count(DISTINCT device) AS devices, count(DISTINCT build) AS builds,
               coalesce(sum(bytes), 0) AS bytes, coalesce(sum(lines), 0) AS lines
        FROM logs""",
}


def connect(store: Path) -> Any:
    """A DuckDB connection with the store's views."""
    import duckdb

    if not is_store(store):
        raise UsageError(f"{store} is not a memsleuth fleet store (make one with "
                         "`memsleuth ingest LOG... --out STORE`)")
    con = duckdb.connect()
    for table in TABLES:
        files = [str(f) for f in part_files(store, table)]
        raw = f"raw_{table}"
        if files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW {raw} AS SELECT * FROM read_parquet([{listing}], "
                        "union_by_name = true)")
        else:
            con.register(raw, pa.Table.from_pylist([], schema=SCHEMAS[table]))
    con.execute("""CREATE VIEW logs AS SELECT * FROM raw_logs
                   QUALIFY row_number() OVER (PARTITION BY log_id
                                              ORDER BY ingested_at DESC, path) = 1""")
    for table in TABLES:
        if table in ("logs", "symbols"):
            continue
        con.execute(f"""CREATE VIEW {table} AS SELECT t.* FROM raw_{table} t
                        JOIN logs l ON t.log_id = l.log_id AND t.ingest_id = l.ingest_id
                                    AND t.path = l.path
                        WHERE l.status <> 'failed'""")
    con.execute("""CREATE VIEW symbols AS SELECT * EXCLUDE (ingest_id) FROM raw_symbols
                   QUALIFY row_number() OVER (PARTITION BY build, address
                                              ORDER BY ingest_id DESC) = 1""")
    return con


def rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def run_sql(store: Path, sql: str) -> list[dict[str, Any]]:
    """The user's own query over the views; a bad query is a usage error, not a traceback."""
    import duckdb

    con = connect(store)
    try:
        return rows(con, sql)
    except duckdb.Error as exc:
        raise UsageError(f"--sql: {str(exc).splitlines()[0]}") from None


def answer(store: Path, questions: tuple[str, ...] = tuple(QUESTIONS)) -> dict[str, Any]:
    """Every fleet question, as lists of row dicts."""
    con = connect(store)
    try:
        return {q: rows(con, QUESTIONS[q]) for q in questions}
    except Exception as exc:  # noqa: BLE001 - a damaged store is an input error
        raise InputError(f"{store}: cannot query the store ({exc})") from None
