from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fleet_helpers import LOGS, PATTERN, SYMBOLS  # noqa: E402


@pytest.fixture(scope="session")
def fleet_store(tmp_path_factory) -> Path:
    """The fixture fleet ingested once (two worker processes), shared by the tests."""
    from memsleuth.fleet.extract import Options
    from memsleuth.fleet.identity import PathPattern
    from memsleuth.fleet.ingest import collect_logs, ingest

    store = tmp_path_factory.mktemp("fleet") / "store"
    result = ingest(collect_logs([LOGS]), store, Options(PathPattern.compile(PATTERN)),
                    SYMBOLS, jobs=2)
    assert {r["status"] for r in result.logs} == {"ok"}, [
        r for r in result.logs if r["status"] != "ok"]
    return store
