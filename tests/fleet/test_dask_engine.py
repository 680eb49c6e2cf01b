"""The same job on a real Dask cluster (a local scheduler and two worker processes): ingest
and the fleet questions, compared with the local path row for row."""

from __future__ import annotations

import math

import pytest
from fleet_helpers import LOGS, PATTERN, SYMBOLS

from memsleuth.fleet import dask_engine, queries
from memsleuth.fleet.extract import Options
from memsleuth.fleet.identity import PathPattern
from memsleuth.fleet.ingest import collect_logs, ingest

distributed = pytest.importorskip("dask.distributed")

#: Columns that name the ingest run or where the store is: everything else must be equal.
RUN_SPECIFIC = {"path"}


@pytest.fixture(scope="module")
def scheduler():
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="1GiB",
                                  silence_logs=logging.ERROR) as cluster:
        assert len(cluster.workers) == 2
        yield cluster.scheduler_address


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9,
                                                                abs_tol=1e-12)
    return a == b


def _assert_rows_equal(left: dict, right: dict, skip: set[str] = frozenset()) -> None:
    assert left.keys() == right.keys()
    for question in left:
        a, b = left[question], right[question]
        assert len(a) == len(b), question
        for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
            assert ra.keys() == rb.keys(), (question, i)
            diff = {k: (ra[k], rb[k]) for k in ra if k not in skip and not _same(ra[k], rb[k])}
            assert not diff, (question, i, diff)


def test_dask_questions_match_duckdb_row_for_row(scheduler, fleet_store):
    duck = queries.answer(fleet_store)
    dask = dask_engine.answer(fleet_store, scheduler=scheduler)
    assert duck["leak_sites"] and duck["crash_signatures"] and duck["build_comparison"]
    _assert_rows_equal(duck, dask)


def test_dask_ingest_writes_the_same_store(scheduler, fleet_store, tmp_path):
    store = tmp_path / "store"
    run = ingest(collect_logs([LOGS]), store, Options(PathPattern.compile(PATTERN)), SYMBOLS,
                 engine="dask", scheduler=scheduler)
    assert {r["status"] for r in run.logs} == {"ok"} and len(run.logs) == 48
    # the same rows, whichever engine ingested them (paths are the same files)
    _assert_rows_equal(queries.answer(fleet_store), queries.answer(store))
    for table in ("overviews", "blocks", "objects", "crashes", "findings"):
        sql = f"SELECT count(*) AS n, sum(line) AS s FROM {table}"
        assert queries.run_sql(store, sql) == queries.run_sql(fleet_store, sql), table
