"""click's decorators, applied when click is needed: verbs are written with click and can run
without importing it (start-up).

A verb module says ``from memsleuth import lazyclick as click`` and defines its command as
with click: ``@click.command``, ``@click.option(...)``, ``click.Path(...)``... Those calls are
recorded, not made; ``click.command`` returns a :class:`Command` holding the function and
the recorded parameters. The CLI group (``memsleuth.cli``) turns it into the real click
command (:meth:`Command.click`) by making the same calls, in the same order, for help,
completion, errors, and every command line the quick reader declines.

The console entry point first tries :func:`parse` on a verb's command line. It reads the same
records, for the plain case only: known options and arguments, values of the kinds below
that click would accept, in any order. Anything else (``--help``, an unknown or malformed
option, a value click would reject, ``--``, a parameter feature not listed) returns None and
click reads the line as always. So the definition is click's, written once, and
``memsleuth census LOG --elf ELF`` runs without importing click (~10 ms of ~60).

Understood: arguments (one value each, required); options with a value (``--opt V`` or
``--opt=V``; a repeated one keeps the last, ``multiple=True`` keeps all) and ``is_flag``
options; types ``str``, ``int``, ``float``, ``click.IntRange``/``FloatRange`` (bounds, not
clamped), ``click.Choice`` (case-sensitive) and ``click.Path`` (the checks click makes on an
existing path); ``expose_value=False``; callbacks marked :func:`context_free` (called as
click calls them, in click's order, with ``ctx=None``). Any other name of this module
(``click.echo``, ``click.Context``...) is the real click's, imported on first use.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

_TYPES = ("Path", "Choice", "IntRange", "FloatRange")
_OPTION_KEYS = {"is_flag", "multiple", "type", "default", "show_default", "help", "metavar",
                "expose_value", "callback"}
_ARGUMENT_KEYS = {"type", "metavar"}


class Call:
    """One click call to make later: ``click.<name>(*args, **kwargs)``."""

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs

    def make(self) -> Any:
        import click

        kwargs = {k: v.make() if isinstance(v, Call) else v for k, v in self.kwargs.items()}
        return getattr(click, self.name)(*self.args, **kwargs)


def option(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    return _record(Call("option", decls, attrs))


def argument(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    return _record(Call("argument", decls, attrs))


def _record(call: Call) -> Callable[[Any], Any]:
    def decorate(f: Any) -> Any:
        f.__dict__.setdefault("__lazyclick_params__", []).append(call)
        return f
    return decorate


def Path(*args: Any, **kwargs: Any) -> Call:  # noqa: N802 - click's name
    return Call("Path", args, kwargs)


def Choice(*args: Any, **kwargs: Any) -> Call:  # noqa: N802
    return Call("Choice", args, kwargs)


def IntRange(*args: Any, **kwargs: Any) -> Call:  # noqa: N802
    return Call("IntRange", args, kwargs)


def FloatRange(*args: Any, **kwargs: Any) -> Call:  # noqa: N802
    return Call("FloatRange", args, kwargs)


def context_free(callback: Any) -> Any:
    """Mark a parameter callback that uses neither ``ctx`` nor more of ``param`` than its
    ``name``: the quick reader may call it (with ``ctx=None``)."""
    callback.__lazyclick_context_free__ = True
    return callback


def command(name: str | None = None, **attrs: Any) -> Callable[[Any], Command]:
    def decorate(f: Any) -> Command:
        return Command(name, attrs, f)
    return decorate


class Command:
    """A verb: its function and its recorded click parameters (in decorator order)."""

    def __init__(self, name: str | None, attrs: dict[str, Any], callback: Any) -> None:
        self.name = name or callback.__name__.lower().replace("_", "-")
        self.attrs = attrs
        self.callback = callback
        self.calls: list[Call] = callback.__dict__.pop("__lazyclick_params__", [])
        self._click: Any = None

    def click(self) -> Any:
        """The real ``click.Command``, made once."""
        if self._click is None:
            import click

            f = self.callback
            for call in self.calls:
                f = getattr(click, call.name)(*call.args, **{
                    k: v.make() if isinstance(v, Call) else v for k, v in call.kwargs.items()})(f)
            self._click = click.command(self.name, **self.attrs)(f)
        return self._click

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """As a click command is called: ``command(["LOG", "--json"])`` runs the verb."""
        return self.click()(*args, **kwargs)


# -- the quick reader --------------------------------------------------------------------
class _Decline(Exception):
    """Not the plain case: click reads this command line."""


class _Param:
    """What a callback sees of a parameter: its name."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Spec:
    def __init__(self, call: Call) -> None:
        self.call = call
        self.kind = call.name
        keys = _OPTION_KEYS if self.kind == "option" else _ARGUMENT_KEYS
        if set(call.kwargs) - keys:
            raise _Decline
        kw = call.kwargs
        self.is_flag = bool(kw.get("is_flag", False))
        self.multiple = bool(kw.get("multiple", False))
        self.expose = kw.get("expose_value", True)
        self.callback = kw.get("callback")
        if self.callback is not None and (self.expose or not getattr(
                self.callback, "__lazyclick_context_free__", False)):
            raise _Decline          # (an exposed value would be what the callback returns)
        self.type = kw.get("type")
        self.default = kw.get("default")
        names = [d for d in call.args if d.isidentifier()]
        opts = [d for d in call.args if not d.isidentifier()]
        if self.kind == "argument":
            if len(call.args) != 1 or not names:
                raise _Decline
            self.name, self.opts = names[0], []
            return
        if len(names) > 1 or any("/" in o or not o.startswith("-") or o == "-" for o in opts) \
                or not opts:
            raise _Decline
        if names:
            self.name = names[0]
        else:   # click's rule: the longest prefix ('--' before '-'), dashes to underscores
            best = sorted(opts, key=lambda o: -len(o) + len(o.lstrip("-")))[0]
            self.name = best.lstrip("-").replace("-", "_").lower()
        self.opts = opts
        if self.is_flag and (self.default not in (None, False) or self.multiple
                             or self.type is not None):
            raise _Decline
        if self.multiple and self.default not in (None, ()):
            raise _Decline

    def convert(self, value: str) -> Any:
        t = self.type
        if t is None:
            if self.default is None or isinstance(self.default, str):
                return value
            t = type(self.default)
        if t is str:
            return value
        if t is int or t is float:
            return _number(t, value)
        if not isinstance(t, Call) or t.name not in _TYPES:
            raise _Decline
        if t.name == "Choice":
            choices = t.args[0] if t.args else t.kwargs.get("choices")
            if set(t.kwargs) - {"choices"} or len(t.args) > 1 or value not in list(choices):
                raise _Decline
            return value
        if t.name in ("IntRange", "FloatRange"):
            return _in_range(t, value)
        return _path(t, value)

    def final(self, given: list[str]) -> Any:
        if self.is_flag:
            return bool(given)
        if self.multiple:
            return tuple(self.convert(v) for v in given)
        if given:
            return self.convert(given[-1])
        if self.kind == "argument":
            raise _Decline      # a missing argument: click says so
        if isinstance(self.default, str) or (self.default is not None
                                             and isinstance(self.type, Call)):
            return self.convert(str(self.default))   # click checks a default as a value
        return self.default


def _number(t: type, value: str) -> Any:
    try:
        return t(value)
    except ValueError:
        raise _Decline from None


def _in_range(t: Call, value: str) -> Any:
    keys = ("min", "max", "min_open", "max_open")
    if set(t.kwargs) - set(keys) or len(t.args) > 2:
        raise _Decline
    bounds = dict(zip(keys[:len(t.args)], t.args, strict=True)) | t.kwargs
    number = _number(int if t.name == "IntRange" else float, value)
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and (number < low or (bounds.get("min_open") and number == low)):
        raise _Decline
    if high is not None and (number > high or (bounds.get("max_open") and number == high)):
        raise _Decline
    return number


def _path(t: Call, value: str) -> Any:
    allowed = {"exists", "file_okay", "dir_okay", "readable", "writable", "path_type"}
    if t.args or set(t.kwargs) - allowed or not value:
        raise _Decline
    kw = {"exists": False, "file_okay": True, "dir_okay": True, "readable": True,
          "writable": False, "path_type": None} | t.kwargs
    try:
        st = os.stat(value)
    except OSError:
        if kw["exists"]:
            raise _Decline from None
    else:
        if (not kw["file_okay"] and stat.S_ISREG(st.st_mode)) \
                or (not kw["dir_okay"] and stat.S_ISDIR(st.st_mode)) \
                or (kw["readable"] and not os.access(value, os.R_OK)) \
                or (kw["writable"] and not os.access(value, os.W_OK)):
            raise _Decline
    path_type = kw["path_type"]
    if path_type is None or path_type is str:
        return value
    if getattr(path_type, "__module__", None) == "pathlib" and path_type.__name__ == "Path":
        return path_type(value)
    raise _Decline


def parse(command: Command,
          args: list[str]) -> tuple[dict[str, Any], list[Callable[[], Any]]] | None:
    """``(params, callbacks)`` for a plain command line, as click would make them: the
    keyword arguments of the verb's function, and the parameter callbacks to run first (in
    click's order); None when click must read the line."""
    try:
        specs = [_Spec(call) for call in reversed(command.calls)]   # click's order
        by_opt = {opt: spec for spec in specs for opt in spec.opts}
        if len(by_opt) != sum(len(s.opts) for s in specs):
            raise _Decline
        given: dict[int, list[str]] = {}
        order: list[int] = []           # first appearance on the command line, as click
        positional: list[str] = []
        rest = list(args)
        while rest:
            token = rest.pop(0)
            if token == "--":
                raise _Decline
            if not token.startswith("-") or token == "-":
                positional.append(token)
                continue
            opt, eq, inline = token.partition("=")
            if not opt.startswith("--"):
                opt, eq, inline = token, "", ""
            spec = by_opt.get(opt)
            if spec is None:
                raise _Decline
            if spec.is_flag:
                if eq:
                    raise _Decline
                value = "1"
            elif eq:
                value = inline
            elif rest:
                value = rest.pop(0)
            else:
                raise _Decline
            i = specs.index(spec)
            if i not in given:
                order.append(i)
            given.setdefault(i, []).append(value)
        arguments = [i for i, s in enumerate(specs) if s.kind == "argument"]
        if len(positional) != len(arguments):
            raise _Decline
        for i, value in zip(arguments, positional, strict=True):
            given[i] = [value]
            order.append(i)
        # click processes the parameters seen on the line first (in the order seen), then
        # the rest in declaration order
        sequence = order + [i for i in range(len(specs)) if i not in order]
        params: dict[str, Any] = {}
        callbacks: list[Callable[[], Any]] = []
        for i in sequence:
            spec = specs[i]
            value = spec.final(given.get(i, []))
            if spec.callback is not None:
                callbacks.append(_bound(spec.callback, spec.name, value))
            if spec.expose:
                params[spec.name] = value
    except _Decline:
        return None
    return params, callbacks


def _bound(callback: Callable[..., Any], name: str, value: Any) -> Callable[[], Any]:
    return lambda: callback(None, _Param(name), value)


def __getattr__(name: str) -> Any:
    """Everything else is click's own (``click.echo``, ``click.Context``...)."""
    if name.startswith("__"):
        raise AttributeError(name)
    import click

    return getattr(click, name)
