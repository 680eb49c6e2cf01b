"""On-disk cache: hit after reopen, invalidated by content, never fatal."""

from __future__ import annotations

import shutil

import pytest
from sym_helpers import FIXTURES, expected, frames_of

from memsleuth.cachedir import default_cache_dir
from memsleuth.symbols import Symbolizer
from memsleuth.symbols import resolver as resolver_mod


@pytest.fixture
def elf(tmp_path):
    p = tmp_path / "fw.elf"
    shutil.copy(FIXTURES / "arm_thumb.elf", p)
    return p


def _logged():
    return [r["logged"] for r in expected("arm_thumb")["returns"]]


def test_cache_hit_after_reopen_needs_no_dwarf(elf, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = Symbolizer.open(elf, cache_dir=cache).symbolize(_logged())
    files = list(cache.glob("*.symcache"))
    assert len(files) == 1

    def boom(*_a, **_k):
        raise AssertionError("DWARF decoded despite a warm cache")

    monkeypatch.setattr(resolver_mod.DwarfResolver, "frames", boom)
    s = Symbolizer.open(elf, cache_dir=cache)
    second = s.symbolize(_logged())
    assert s.cache.loaded_from_disk
    assert {a: frames_of(v) for a, v in first.items()} == \
        {a: frames_of(v) for a, v in second.items()}


def test_cache_invalidated_when_elf_changes(elf, tmp_path):
    cache = tmp_path / "cache"
    s1 = Symbolizer.open(elf, cache_dir=cache)
    s1.symbolize(_logged())
    elf.write_bytes(elf.read_bytes() + b"\0patched")  # same DWARF, new content
    s2 = Symbolizer.open(elf, cache_dir=cache)
    assert s2.content_hash != s1.content_hash
    assert not s2.cache.loaded_from_disk
    s2.symbolize(_logged())
    assert len(list(cache.glob("*.symcache"))) == 2


def test_corrupt_cache_is_ignored(elf, tmp_path):
    cache = tmp_path / "cache"
    good = Symbolizer.open(elf, cache_dir=cache).symbolize(_logged())
    (path,) = cache.glob("*.symcache")
    for junk in (b"", b"\x00garbage\xff" * 10, path.read_bytes()[:20]):
        path.write_bytes(junk)
        again = Symbolizer.open(elf, cache_dir=cache).symbolize(_logged())
        assert {a: frames_of(v) for a, v in again.items()} == \
            {a: frames_of(v) for a, v in good.items()}


def test_unwritable_cache_dir_is_not_fatal(elf, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    res = Symbolizer.open(elf, cache_dir=blocker / "sub").symbolize(_logged())
    assert all(loc.frames for loc in res.values())


def test_cache_dir_from_environment(elf, tmp_path, monkeypatch):
    monkeypatch.setenv("MEMSLEUTH_CACHE_DIR", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    Symbolizer.open(elf).symbolize(_logged())
    assert list((tmp_path / "envcache").glob("*.symcache"))


def test_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("MEMSLEUTH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "memsleuth"


def test_no_cache_env_and_flag(elf, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    Symbolizer.open(elf, cache_dir=cache, use_cache=False).symbolize(_logged())
    assert not cache.exists()
    monkeypatch.setenv("MEMSLEUTH_NO_CACHE", "1")
    s = Symbolizer.open(elf, cache_dir=cache)
    assert s.cache is None
    s.symbolize(_logged())
    assert not cache.exists()


@pytest.mark.parametrize("kind", ["return", "pc", "callsite"])
def test_a_warm_run_gives_the_cold_answers_without_looking_anything_up(elf, tmp_path,
                                                                        monkeypatch, kind):
    """The whole answer of each address is cached: a warm run rebuilds the same Locations
    (frames, symbol, section, after-call, notes) without the ELF's tables or DWARF."""
    from memsleuth.symbols.symbolizer import Symbolizer as Sym

    cache = tmp_path / "cache"
    addrs = [*_logged(), 0, 0x10, 0xFFFFFFF0]            # outside every section too
    cold = Symbolizer.open(elf, cache_dir=cache).symbolize(addrs, kind)
    uncached = Symbolizer.open(elf, use_cache=False).symbolize(addrs, kind)
    assert cold == uncached

    def boom(*_a, **_k):
        raise AssertionError("looked up again despite a warm cache")

    monkeypatch.setattr(Sym, "_location", boom)
    monkeypatch.setattr(Sym, "adjust", boom)
    warm = Symbolizer.open(elf, cache_dir=cache).symbolize(addrs, kind)
    assert warm == cold and list(warm) == list(cold)


def test_a_damaged_answer_in_the_cache_is_answered_afresh(elf, tmp_path):
    import marshal

    cache = tmp_path / "cache"
    good = Symbolizer.open(elf, cache_dir=cache).symbolize(_logged())
    (path,) = cache.glob("*.symcache")
    fmt, key, entries, locations = marshal.loads(path.read_bytes())
    damaged = {k: ("junk",) for k in locations}
    path.write_bytes(marshal.dumps((fmt, key, entries, damaged)))
    assert Symbolizer.open(elf, cache_dir=cache).symbolize(_logged()) == good
