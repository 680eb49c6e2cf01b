"""Fleet scale: many device logs ingested into one Parquet store, questions asked across them.

    ingest (logs -> store) -> queries (DuckDB, or the same on Dask) -> report

``layout`` is the store (tables, schemas, part files), ``identity`` which device and build a
log comes from, ``symstore`` ELFs found by build, ``extract`` one log -> rows (reusing the
parser, the symbolizer and the analyses unchanged), ``ingest`` the batch driver, ``queries``
the fleet questions in SQL, ``dask_engine`` the same job on a Dask cluster.
"""
