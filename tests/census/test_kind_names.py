"""Census and objects name a kind alike: a vendor constructor `vsdk_tmr_create` builds the
"timer" the object trace counts (examples/vendor_stress, a real run with vendor names)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from memsleuth.analysis.census import kind_from_name
from memsleuth.cli import main

RUN = Path(__file__).resolve().parents[2] / "examples" / "vendor_stress" / "out" / \
    "cortex-m4-leak"


def _json(verb: str) -> dict:
    result = CliRunner().invoke(main, [verb, f"{RUN}.log", "--elf", f"{RUN}.elf", "--json"])
    return json.loads(result.stdout)


def test_census_kinds_are_the_object_trace_kinds() -> None:
    census = _json("census")
    objects = _json("objects")
    traced = {k["kind"] for k in objects["kinds"]}
    assert traced == {"timer"}
    census_kinds = {o["kind"] for o in census["objects"]} | {
        r["object_kind"] for r in census["rows"] if r["object_kind"]}
    assert census_kinds and census_kinds <= traced


def test_short_spellings_map_to_the_trace_words() -> None:
    assert kind_from_name("vsdk_tmr_create") == "timer"
    assert kind_from_name("osal_sema_new") == "sem"
    assert kind_from_name("tx_thread_create") == "task"
    assert kind_from_name("foo_widget_create") == "widget"   # unknown words stay as printed
