"""The C loops fill HeapBlock's slots themselves (``_scan.block_type``): the blocks they make
are the ones the class's own __init__ makes, and a class whose fields are not exactly the
known ones is refused (block lines then call the class, as before)."""

from __future__ import annotations

import dataclasses

import pytest

from memsleuth import accel
from memsleuth.records import HeapBlock

LINES = ("0x20000150  used    1536   OK  0x40d       (0x291 <- 0x76f)\n"
         "0x2000d118  used  sentinel   OK  0x11224433  (0x0 <- 0x0)\n"
         "0x20000888  free      32   OK  0x0\n"
         "0x20000fe8  used      64   OK  0x5df       (0x469 <- 0x291 <- 0x1 <- 0x2)\n")


def _c():
    mod = accel.module()
    if mod is None or not hasattr(mod, "block_type"):
        pytest.skip("the C scanner (with block_type) is not built")
    return mod


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def test_slots_filled_in_c_equal_init() -> None:
    c = _c()
    assert c.block_type(HeapBlock, _fields(HeapBlock)) is True
    _, _, fast = c.blocks(LINES, 0, 0, HeapBlock)

    @dataclasses.dataclass(slots=True)
    class Other(HeapBlock):       # not the registered class: made by calling it
        pass

    _, _, called = c.blocks(LINES, 0, 0, Other)
    assert len(fast) == len(called) == 4
    for a, b in zip(fast, called, strict=True):
        assert type(a) is HeapBlock and type(b) is Other
        assert dataclasses.astuple(a) == dataclasses.astuple(b)
    assert fast[1].size is None and fast[1].sentinel and fast[3].trace == (0x469, 0x291, 1, 2)


def test_changed_fields_are_refused() -> None:
    c = _c()
    try:
        @dataclasses.dataclass(slots=True)
        class Extra:
            line: int
            addr: int

        assert c.block_type(Extra, _fields(Extra)) is False
        names = list(_fields(HeapBlock))
        names[3], names[4] = names[4], names[3]
        assert c.block_type(HeapBlock, tuple(names)) is False
        _, _, got = c.blocks(LINES, 0, 0, HeapBlock)     # refused: called, same blocks
        assert dataclasses.astuple(got[0])[:5] == (1, 0x20000150, True, 1536, 0x40d)
    finally:
        assert c.block_type(HeapBlock, _fields(HeapBlock)) is True
