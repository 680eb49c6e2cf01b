"""Every verb's `--json` output on every example and fixture log validates against its schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from schema_helpers import schema_errors
from schema_runs import EXAMPLES, FILE_VERBS, LOGS, MONITOR_LOGS, document, label

from memsleuth.results import SCHEMA_VERSION

CASES = [(verb, log) for verb in FILE_VERBS for log in LOGS] + \
    [("monitor", log) for log in MONITOR_LOGS]


@pytest.mark.parametrize(("verb", "log"), CASES, ids=[f"{v}:{label(p)}" for v, p in CASES])
def test_json_output_follows_the_schema(verb: str, log: Path, scratch: Path) -> None:
    doc = document(verb, log, scratch)
    if doc is None:
        return                          # exit 3 with a one-line error, checked above
    errors = schema_errors(doc)
    assert not errors, f"{verb} {label(log)}:\n" + "\n".join(errors[:20])
    assert doc["schema"] == f"memsleuth.{verb}/{SCHEMA_VERSION}"


def test_every_verb_is_validated_on_real_documents(scratch: Path) -> None:
    """Not vacuous: each verb yields documents on the examples, with its rich parts filled."""
    counts = {verb: sum(document(verb, log, scratch) is not None for log in LOGS)
              for verb in FILE_VERBS}
    counts["monitor"] = sum(document("monitor", log, scratch) is not None
                            for log in MONITOR_LOGS)
    for verb in ("analyze", "census", "check", "objects", "report", "trend"):
        assert counts[verb] >= len(EXAMPLES), counts
    assert counts["diff"] >= len(EXAMPLES) and counts["crash"] >= 8, counts
    assert counts["monitor"] >= 20, counts
    leak = next(log for log in EXAMPLES if log.name == "cortex-m4-leak.log")
    trend = document("trend", leak, scratch)
    assert trend and trend["forecast"] and trend["evidence"]["jumps"]
    assert document("census", leak, scratch)["elf_match"]["verdict"] == "ok"
    assert document("diff", leak, scratch)["growth"]["rows"]
    crash = next(log for log in LOGS if log.name == "cm4_use_after_free.log")
    assert document("crash", crash, scratch)["crashes"][0]["heap"]["hits"]
