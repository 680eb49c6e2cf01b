"""The folders follow the data (sources → parse → records → symbols → analysis → report);
an import that runs back up the flow is how analysis logic ends up in the wrong place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "memsleuth"

#: package -> memsleuth packages it must not import (the arrows that would run back up)
FORBIDDEN = {
    "parse": ("symbols", "analysis", "report", "commands", "live", "model"),
    "symbols": ("parse", "analysis", "report", "commands", "live", "sources"),
    "analysis": ("parse", "report", "commands", "live", "sources"),
    "report": ("commands", "parse", "live", "sources"),
    "commands": (),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("memsleuth.")}


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).glob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_back_up_the_flow(package: str):
    bad = []
    for path in _modules(package):
        for name in _imports(path):
            top = name.split(".")[1]
            if top in FORBIDDEN[package]:
                bad.append(f"{package}/{path.name} imports {name}")
    assert not bad, bad


def test_a_command_imports_no_other_command():
    """A verb that needs another verb's logic needs it moved into analysis/."""
    bad = []
    for path in _modules("commands"):
        for name in _imports(path):
            if name.startswith("memsleuth.commands.") and name != "memsleuth.commands.common":
                bad.append(f"commands/{path.name} imports {name}")
    assert not bad, bad
