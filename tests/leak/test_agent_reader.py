"""The object-trace reader: [MSOBJ] lines per docs/object-trace.md and user TOML patterns."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from schema_helpers import loads_valid

from memsleuth.cli import main
from memsleuth.errors import UsageError
from memsleuth.parse import agent, parse_lines
from memsleuth.records import CycleMarker, ObjectEvent


def test_msobj_lines_with_prefix_name_and_damage() -> None:
    lines = [
        "[MSOBJ] create timer 0x20001234 caller 0x0800a3c5 seq 17",
        "12:00:01.250 > [MSOBJ] create sem 0x0000000020004a10 caller 0x0000000008003f21 "
        "seq 18 name wifi_evt",
        "[MSOBJ] delete timer 0x20001234 caller 0x0800b001 seq 19",
        "[MSOBJ] delete timer 0x2000[MSOBJ] create",          # two tasks on one line
        "[MSCYCLE] 3",
    ]
    parsed = parse_lines(lines)
    records = list(parsed)
    events = [r for r in records if isinstance(r, ObjectEvent)]
    assert [(e.op, e.kind, e.handle, e.caller, e.seq) for e in events] == [
        ("create", "timer", 0x20001234, 0x0800A3C5, 17),
        ("create", "sem", 0x20004A10, 0x08003F21, 18),
        ("delete", "timer", 0x20001234, 0x0800B001, 19),
    ]
    assert events[1].name == "wifi_evt"
    assert [r.index for r in records if isinstance(r, CycleMarker)] == [3]
    assert parsed.stats.damaged_lines == {"msobj": 1}


CONFIG = """
[[objects.pattern]]
regex = 'tmr (?P<op>new|del) (?P<handle>[0-9a-f]+)(?: by (?P<caller>[0-9a-f]+))?'
kind = "timer"
create = ["new"]
delete = ["del"]
"""


def test_user_pattern_from_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "objs.toml"
    cfg.write_text(CONFIG)
    patterns = agent.load_patterns(cfg)
    assert len(patterns) == 1
    records = list(parse_lines(["I/drv tmr new 2000abcd by 0800a001", "tmr del 2000abcd",
                                "tmr zap 1"], object_patterns=patterns))
    events = [r for r in records if isinstance(r, ObjectEvent)]
    assert [(e.op, e.kind, e.handle, e.caller) for e in events] == [
        ("create", "timer", 0x2000ABCD, 0x0800A001), ("delete", "timer", 0x2000ABCD, 0),
    ]


def test_mini_toml_parser_matches_tomllib() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    assert agent._mini_toml(CONFIG) == tomllib.loads(CONFIG)


@pytest.mark.parametrize(("text", "message"), [
    ("[[objects.pattern]]\nkind = 'x'\n", "'regex' is required"),
    ("[[objects.pattern]]\nregex = '(?P<op>a) (?P<handle>b'\n", "bad regex"),
    ("[[objects.pattern]]\nregex = '(?P<op>a)'\nkind = 'x'\n", "named groups"),
    ("[[objects.pattern]]\nregex = '(?P<op>a) (?P<handle>b)'\n", "no \\(\\?P<kind>"),
])
def test_bad_config_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(UsageError, match=message):
        agent.load_patterns(cfg)


def test_objects_cli_with_config(tmp_path: Path) -> None:
    cfg = tmp_path / "objs.toml"
    cfg.write_text(CONFIG)
    log = tmp_path / "dev.log"
    lines = []
    handle = 0x1000
    for cycle in range(1, 8):
        lines.append(f"loop {cycle}")
        made = []
        for site in (1, 2, 3):
            handle += 0x10
            made.append(handle)
            lines.append(f"tmr new {handle:x} by {0x800 + site:x}")
        for h in made[:2]:
            lines.append(f"tmr del {h:x}")
    log.write_text("\n".join(lines) + "\n")
    res = CliRunner().invoke(main, ["objects", str(log), "--config", str(cfg),
                                    "--cycle-pattern", r"^loop (\d+)", "--json"])
    assert res.exit_code == 0, res.output
    data = loads_valid(res.output)
    (timer,) = data["kinds"]
    assert (timer["per_cycle"]["created"], timer["per_cycle"]["deleted"]) == (3, 2)
    (leak,) = data["leaks"]
    assert leak["key"] == "0x803" and leak["leak_per_cycle"] == 1.0
    missing = CliRunner().invoke(main, ["objects", str(log), "--config", str(tmp_path / "x")])
    assert missing.exit_code == 2
