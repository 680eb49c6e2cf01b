"""Start-up: an on-disk cache of what Python compiles on every run and never caches itself.

A ``.pyc`` keeps a module's bytecode, but two things are compiled again by every process:

- dataclasses: ``@dataclass`` writes each class's ``__init__``/``__repr__``/``__eq__``/... as
  source text and compiles it (~75 us a method on Python 3.11; ~200 methods, ~15 ms, on the
  way to a ``census``);
- regular expressions: the ``re`` parser and compiler are pure Python (~100 patterns, ~15 ms,
  for a ``census`` of one AliOS dump).

:func:`install` keeps both results in one ``marshal`` file per verb (each verb compiles a
different set): the code object of each generated method, keyed by its whole source text,
and the program the ``re`` compiler hands to ``_sre.compile``, keyed by (pattern, flags).
A key is the whole input, so a stale entry is never served (a changed class or pattern is a
new key); the file name carries the interpreter's cache tag and the regex engine's magic
number. The file is trusted as a ``.pyc`` is (it holds code): it is read only when owned by
this user and writable by no one else. Any unreadable file counts as empty; the file is
rewritten (temp file + rename) only when something new was compiled, and never under
``PYTHONDONTWRITEBYTECODE`` (as a ``.pyc``) or ``MEMSLEUTH_NO_CACHE``.

Only the console entry point calls :func:`install` (``memsleuth.entry``): a program that
imports memsleuth as a library keeps its ``dataclasses`` and ``re`` untouched. The hooks are
private seams of the standard library (the ``exec`` that ``dataclasses`` calls, the ``re``
compiler's ``compile`` and its ``_sre`` handle); when one is missing, or anything in the
cache does not fit, that side simply compiles as usual.
"""

from __future__ import annotations

import _sre
import builtins
import contextlib
import marshal
import os
import re
import sys
from pathlib import Path
from typing import Any

from memsleuth.cachedir import cache_disabled, default_cache_dir

try:
    from re import _compiler as _re_compiler  # Python >= 3.11
except ImportError:  # pragma: no cover - Python 3.10
    import sre_compile as _re_compiler  # type: ignore[no-redef]

FORMAT = 1
#: a file holding more entries than this is rewritten with this run's entries only
MAX_ENTRIES = 4096


class CodeCache:
    """The two tables of one verb's file, and the hooks that read and fill them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.methods: dict[str, Any] = {}           # source text -> code object
        self.patterns: dict[tuple[Any, int], tuple] = {}   # (pattern, flags) -> _sre args
        self.used_methods: dict[str, Any] = {}
        self.used_patterns: dict[tuple[Any, int], tuple] = {}
        self.added = 0
        self._load()

    # -- the file ------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if st.st_uid != os.getuid() or st.st_mode & 0o022:
                    return                              # not ours alone: never run its code
                blob = marshal.loads(f.read())
        except (OSError, EOFError, ValueError, TypeError, AttributeError):
            return
        if (isinstance(blob, tuple) and len(blob) == 3 and blob[0] == FORMAT
                and isinstance(blob[1], dict) and isinstance(blob[2], dict)):
            self.methods, self.patterns = blob[1], blob[2]

    def save(self) -> None:
        """Write the file if this run compiled anything new; silently skip on any failure."""
        if not self.added or sys.dont_write_bytecode or cache_disabled():
            return
        methods, patterns = self.methods, self.patterns
        if len(methods) + len(patterns) > MAX_ENTRIES:
            methods, patterns = self.used_methods, self.used_patterns
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps((FORMAT, methods, patterns)))
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    # -- dataclasses: stands in for ``exec`` in the dataclasses module -------------------
    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)
            return
        code = self.methods.get(source)
        if code is None:
            code = compile(source, "<string>", "exec")   # what exec(source) compiles
            self.methods[source] = code
            self.added += 1
        self.used_methods[source] = code
        builtins.exec(code, globals, locals)

    # -- regexes: stands in for the ``re`` compiler's ``compile`` ------------------------
    def compile_re(self, p: Any, flags: int = 0) -> Any:
        if not isinstance(p, (str, bytes)) or flags & _DEBUG:
            return _compile(p, flags)
        key = (p, int(flags))
        args = self.patterns.get(key)
        if args is not None:
            try:
                compiled = _sre.compile(p, *args)
            except (TypeError, ValueError, OverflowError, RuntimeError):
                del self.patterns[key]
            else:
                self.used_patterns[key] = args
                return compiled
        recorder = _Recorder()
        _re_compiler._sre = recorder   # type: ignore[attr-defined]
        try:
            compiled = _compile(p, flags)
        finally:
            _re_compiler._sre = _sre   # type: ignore[attr-defined]
        args = recorder.program(p)
        if args is not None:
            self.patterns[key] = self.used_patterns[key] = args
            self.added += 1
        return compiled


_compile = _re_compiler.compile
_DEBUG = int(re.DEBUG)   # an int: '&' with the RegexFlag itself builds enum members


class _Recorder:
    """``_sre`` as the ``re`` compiler sees it, noting what it passes to ``_sre.compile``."""

    def __init__(self) -> None:
        self.args: tuple[Any, ...] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(_sre, name)

    def compile(self, *args: Any) -> Any:
        if self.args is None:
            self.args = args
        return _sre.compile(*args)

    def program(self, p: Any) -> tuple | None:
        """The arguments after the pattern, as plain marshal-able values; None if unusual."""
        if self.args is None or len(self.args) != 6 or self.args[0] is not p:
            return None
        flags, code, groups, groupindex, indexgroup = self.args[1:]
        try:
            out = (int(flags), [int(c) for c in code], int(groups), dict(groupindex),
                   tuple(indexgroup))
            marshal.dumps(out)
        except (TypeError, ValueError):
            return None
        return out


_installed: CodeCache | None = None


def cache_path(verb: str, directory: Path | None = None) -> Path:
    verb = verb if verb.isascii() and verb.replace("-", "").isalnum() else "other"
    tag = sys.implementation.cache_tag or "python"
    return (directory or default_cache_dir()) / f"startup-{verb}-{tag}-sre{_sre.MAGIC}.marshal"


def install(verb: str) -> CodeCache | None:
    """Serve this process's dataclass methods and regexes from the verb's cache file; the
    file is saved at exit. Idempotent; None when caching is off or a hook is missing."""
    global _installed
    if _installed is not None:
        return _installed
    if cache_disabled():
        return None
    import dataclasses

    if not callable(getattr(_re_compiler, "compile", None)) \
            or getattr(_re_compiler, "_sre", None) is not _sre \
            or "exec" in vars(dataclasses):
        return None
    import atexit

    cache = _installed = CodeCache(cache_path(verb))
    dataclasses.exec = cache.exec            # type: ignore[attr-defined]
    _re_compiler.compile = cache.compile_re  # type: ignore[assignment]
    atexit.register(cache.save)
    return cache
