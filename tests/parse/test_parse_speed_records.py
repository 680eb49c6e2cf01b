"""Records built positionally for speed (agent.MsobjReader) still get the right fields."""

from __future__ import annotations

import dataclasses

from memsleuth.parse.agent import MsobjReader
from memsleuth.records import ObjectEvent


def test_object_event_field_order_is_what_the_reader_assumes() -> None:
    names = [f.name for f in dataclasses.fields(ObjectEvent)]
    assert names == ["line", "op", "kind", "handle", "caller", "seq", "name", "ts"]


def test_msobj_line_fields() -> None:
    text = "[MSOBJ] delete sem 0x0000000000407ad0 caller 0x00401684 seq 17 name wifi_sem"
    event = MsobjReader().read(text, 12, 3.5)
    assert event == ObjectEvent(line=12, op="delete", kind="sem", handle=0x407AD0,
                                caller=0x401684, seq=17, name="wifi_sem", ts=3.5)
