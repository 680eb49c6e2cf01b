"""The start-up cache (``memsleuth.codecache``): what it serves is what Python would compile,
a second process compiles nothing, and a file it cannot trust or read is ignored."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from memsleuth import codecache
from memsleuth.parse import alios_heap, normalize

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "examples" / "wifi_reconnect_leak" / "out" / "cortex-m4-leak.log"
ELF = LOG.with_suffix(".elf")


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "MEMSLEUTH_NO_CACHE")}
    return {**env, "PYTHONPATH": str(ROOT / "src"), "MEMSLEUTH_CACHE_DIR": str(tmp_path)}


# What a process reports about its cache: run through the console entry point, then (in an
# atexit handler registered first, so it runs last) the counts of what was compiled.
PROBE = """\
import atexit, json, sys
def report():
    from memsleuth import codecache
    c = codecache._installed
    sys.stderr.write("CACHE " + json.dumps(None if c is None else {
        "added": c.added, "methods": len(c.used_methods), "patterns": len(c.used_patterns)}))
atexit.register(report)
sys.argv = ["memsleuth", *sys.argv[1:]]
from memsleuth.entry import main
main()
"""


def run_probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, env=env or env_for(tmp_path), check=False)
    report = proc.stderr.rsplit("CACHE ", 1)[1]
    return proc, json.loads(report)


def test_second_run_compiles_nothing_and_answers_the_same(tmp_path: Path) -> None:
    args = ("census", str(LOG), "--elf", str(ELF))
    first, cold = run_probe(tmp_path, *args)
    files = list(tmp_path.glob("startup-census-*.marshal"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o022 == 0
    second, warm = run_probe(tmp_path, *args)
    # (methods: one entry per generated method; per class from Python 3.13, one exec each)
    assert cold["added"] > 80 and cold["methods"] > 30 and cold["patterns"] > 50
    # (the first run also symbolized from the DWARF: the second reads the symbol cache)
    assert warm["added"] == 0 and 30 < warm["methods"] <= cold["methods"]
    assert 50 < warm["patterns"] <= cold["patterns"]
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert first.stdout.startswith("Live heap by site")


def test_patterns_from_the_file_equal_fresh_compiles(tmp_path: Path, monkeypatch) -> None:
    """``re.Pattern`` equality compares the compiled program, not only the text."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    patterns = [(p.pattern, p._flags) for p in vars(alios_heap).values()
                if type(p).__name__ in ("LazyPattern", "_Compiled")]
    patterns += [(normalize._BULK_PREFIX.pattern, 0), (r"(?P<a>x)|(?P<b>y)\d+", re.I),
                 (rb"[\x00-\x08]+(?P<n>\d)", 0), (r"\w+", re.ASCII | re.M)]
    assert len(patterns) > 20
    path = tmp_path / "cache.marshal"
    writer = codecache.CodeCache(path)
    for pattern, flags in patterns:
        assert writer.compile_re(pattern, flags) == re.compile(pattern, flags)
    writer.save()
    reader = codecache.CodeCache(path)
    assert len(reader.patterns) == len(set(patterns))
    for pattern, flags in patterns:
        served = reader.compile_re(pattern, flags)
        fresh = re.compile(pattern, flags)
        assert served == fresh and served is not fresh
        assert served.groupindex == fresh.groupindex and served.groups == fresh.groups
    assert reader.added == 0


def test_dataclass_methods_from_the_file_behave_as_compiled(tmp_path: Path) -> None:
    code = """\
import dataclasses, sys
from memsleuth import codecache
codecache.install("test")

@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    a: int
    b: str = "x"
    c: tuple = dataclasses.field(default_factory=tuple)

r = Row(a=1)
try:
    r.a = 2
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(repr(r), r == Row(a=1), r != Row(a=2), hash(r) == hash(Row(a=1)), frozen,
      [f.name for f in dataclasses.fields(Row)], dataclasses.replace(r, b="y"))
print(codecache._installed.added)
"""
    env = env_for(tmp_path)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout.splitlines() for _ in range(2)]
    off = subprocess.run([sys.executable, "-c", code.replace("print(codecache._installed"
                                                             ".added)", "")],
                         capture_output=True, text=True, env={**env, "MEMSLEUTH_NO_CACHE": "1"},
                         check=True).stdout.splitlines()
    assert runs[0][0] == runs[1][0] == off[0] == (
        "Row(a=1, b='x', c=()) True True True True ['a', 'b', 'c'] Row(a=1, b='y', c=())")
    assert int(runs[0][1]) > 0 and runs[1][1] == "0"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "group-writable", "other-format"])
def test_a_file_it_cannot_trust_or_read_is_ignored(tmp_path: Path, damage: str,
                                                  monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = tmp_path / "cache.marshal"
    writer = codecache.CodeCache(path)
    writer.compile_re(r"a+b", 0)
    writer.save()
    assert list(codecache.CodeCache(path).patterns) == [("a+b", 0)]   # read back whole
    blob = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(blob[:len(blob) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage")
    elif damage == "group-writable":
        path.chmod(0o664)
    else:
        import marshal
        path.write_bytes(marshal.dumps((codecache.FORMAT + 1, {}, {})))
    reader = codecache.CodeCache(path)
    assert reader.patterns == {} and reader.methods == {}
    assert reader.compile_re(r"a+b", 0) == re.compile(r"a+b")


def test_nothing_written_when_bytecode_is_not(tmp_path: Path) -> None:
    """PYTHONDONTWRITEBYTECODE (no .pyc) and MEMSLEUTH_NO_CACHE: no file, same answer."""
    args = ("census", str(LOG), "--elf", str(ELF))
    plain, _ = run_probe(tmp_path, *args)
    for name in list(tmp_path.iterdir()):
        name.unlink()
    env = env_for(tmp_path)
    quiet, _ = run_probe(tmp_path, *args, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})
    off, report = run_probe(tmp_path, *args, env={**env, "MEMSLEUTH_NO_CACHE": "1"})
    assert report is None
    assert list(tmp_path.glob("startup-*")) == []
    assert plain.stdout == quiet.stdout == off.stdout


def test_importing_memsleuth_touches_neither_dataclasses_nor_re() -> None:
    """Only the console entry point installs the cache; a library import leaves the
    standard library as it found it."""
    code = ("import dataclasses, re, memsleuth.cli, memsleuth.commands.census\n"
            "from memsleuth import codecache\n"
            "print('exec' in vars(dataclasses), re._compiler.compile is codecache._compile)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("args, code", [(["census", str(LOG), "--elf", str(ELF)], 0),
                                        (["census", "/nonexistent.log"], 2),
                                        (["census", str(LOG), "--top", "-1"], 2),
                                        (["check", str(LOG), "--elf", str(ELF)], 1)])
def test_exit_codes_and_output_survive_the_quick_exit(tmp_path: Path, args: list[str],
                                                      code: int) -> None:
    """The entry point ends with os._exit after the atexit handlers and a flush: the exit
    code and every byte of both streams are still what the verb produced."""
    proc, _ = run_probe(tmp_path, *args)
    assert proc.returncode == code
    if code in (0, 1):
        assert proc.stdout.endswith("\n") and len(proc.stdout) > 200
    else:
        assert proc.stderr.startswith(("memsleuth: error:", "Usage:"))
