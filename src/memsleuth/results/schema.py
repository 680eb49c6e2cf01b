"""JSON Schema (draft 2020-12) made from the result types, one document per verb.

The types in ``memsleuth.results`` are the contract; this module only translates them, so the
schema cannot drift from the types. What it enforces: every required key is present and has
its type (a removed, renamed or retyped field fails); closed sets (verdicts, classifications,
variants) are enums. What it allows: keys it does not know (``additionalProperties`` is left
open), because new fields may appear at any time without a version change (docs/json.md).

    python3 -m memsleuth.results.schema --write docs/schema   # regenerate docs/schema/*.json
    python3 -m memsleuth.results.schema census                # print one
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from memsleuth.results.analyze import AnalyzeOutput
from memsleuth.results.census import CensusOutput
from memsleuth.results.check import CheckOutput
from memsleuth.results.common import SCHEMA_VERSION, Document, Envelope
from memsleuth.results.crash import CrashOutput
from memsleuth.results.diff import DiffOutput
from memsleuth.results.fleet import FleetOutput, FleetSqlOutput, IngestOutput
from memsleuth.results.monitor import MonitorOutput
from memsleuth.results.objects import ObjectsOutput
from memsleuth.results.report import FleetReportOutput, ReportOutput
from memsleuth.results.trend import TrendOutput

DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: verb -> the type of its ``--json`` document (envelope included); ``fleet-sql`` is
#: `fleet --sql`'s document
VERBS: dict[str, Any] = {
    "analyze": AnalyzeOutput,
    "census": CensusOutput,
    "check": CheckOutput,
    "crash": CrashOutput,
    "diff": DiffOutput,
    "fleet": FleetOutput,
    "fleet-sql": FleetSqlOutput,
    "ingest": IngestOutput,
    "monitor": MonitorOutput,
    "objects": ObjectsOutput,
    "report": ReportOutput | FleetReportOutput,     # one log, or a fleet store
    "trend": TrendOutput,
}

_SCALARS: dict[Any, str] = {int: "integer", float: "number", str: "string", bool: "boolean",
                            type(None): "null"}


def schema_id(verb: str) -> str:
    return f"memsleuth.{verb}/{SCHEMA_VERSION}"


class _Builder:
    """Walks a type tree; every result dataclass (or TypedDict) becomes one ``$defs`` entry
    referenced by name."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        if tp is Any:
            return {}
        if tp in _SCALARS:
            return {"type": _SCALARS[tp]}
        if is_typeddict(tp) or (dataclasses.is_dataclass(tp) and isinstance(tp, type)):
            name = tp.__name__
            if name not in self.defs:
                self.defs[name] = {}            # placeholder: recursion and repeats
                self.defs[name] = self.object(tp)
            return {"$ref": f"#/$defs/{name}"}
        origin = get_origin(tp)
        args = get_args(tp)
        if origin is Literal:
            return {"enum": list(args)}
        if origin in (Union, types.UnionType):
            return self.union(args)
        if origin is list or origin is typing.Sequence:
            return {"type": "array", "items": self.of(args[0])}
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"type": "array", "items": self.of(args[0])}
            return {"type": "array", "prefixItems": [self.of(a) for a in args],
                    "minItems": len(args), "maxItems": len(args)}
        if origin is dict:
            if args[0] is not str:
                raise TypeError(f"JSON object keys are strings, not {args[0]!r}")
            return {"type": "object", "additionalProperties": self.of(args[1])}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def union(self, args: tuple[Any, ...]) -> dict[str, Any]:
        parts = [self.of(a) for a in args]
        if all(set(p) == {"type"} for p in parts):
            return {"type": [p["type"] for p in parts]}
        if all(set(p) == {"enum"} or p == {"type": "null"} for p in parts):
            return {"enum": [v for p in parts for v in p.get("enum", [None])]}
        return {"anyOf": parts}

    def object(self, tp: Any) -> dict[str, Any]:
        hints = get_type_hints(tp)
        if is_typeddict(tp):
            required = [k for k in hints if k in tp.__required_keys__]
        else:
            fields = dataclasses.fields(tp)
            hints = {f.name: hints[f.name] for f in fields}
            required = [f.name for f in fields if not f.metadata.get("omit_none")]
            if issubclass(tp, Document):     # the envelope the serializer's caller adds
                envelope = get_type_hints(Envelope)
                hints = {**envelope, **hints}
                required = [*envelope, *required]
        out: dict[str, Any] = {"type": "object"}
        doc = _doc(tp)
        if doc:
            out["description"] = doc
        out["properties"] = {key: self.of(t) for key, t in hints.items()}
        out["required"] = required
        return out


def _doc(tp: Any) -> str | None:
    doc = tp.__dict__.get("__doc__")
    if not doc or (dataclasses.is_dataclass(tp) and doc.startswith(f"{tp.__name__}(")):
        return None                     # none written (dataclass makes one from the fields)
    return " ".join(doc.split())


def schema_for(verb: str) -> dict[str, Any]:
    """The JSON Schema of ``memsleuth VERB --json``."""
    if verb not in VERBS:
        raise KeyError(verb)
    builder = _Builder()
    root = builder.of(VERBS[verb])
    head: dict[str, Any] = {"$schema": DRAFT, "$id": schema_id(verb), "title": schema_id(verb)}
    if "$ref" in root:                  # one type: inline it as the root object
        name = root["$ref"].rsplit("/", 1)[-1]
        body = dict(builder.defs.pop(name))
    else:                               # a union of documents (objects: trace or dumps; report:
                                        # one log or a store)
        body = {"description": f"`memsleuth {verb} --json`: one of these documents.", **root}
    doc: dict[str, Any] = {**head, **body}
    _pin_envelope(doc, builder.defs, verb)
    if builder.defs:
        doc["$defs"] = dict(sorted(builder.defs.items()))
    return doc


def _pin_envelope(doc: dict[str, Any], defs: dict[str, Any], verb: str) -> None:
    """``schema`` must be exactly this verb's name and version, wherever the envelope is."""
    for obj in [doc, *defs.values()]:
        props = obj.get("properties", {})
        if "schema" in props and "memsleuth" in props:
            props["schema"] = {"const": schema_id(verb)}


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


def write_all(directory: Path) -> list[Path]:
    """Write docs/schema/<verb>.json for every verb; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for verb in VERBS:
        path = directory / f"{verb}.json"
        path.write_text(dumps(schema_for(verb)), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m memsleuth.results.schema",
                                     description="Print or write the JSON Schemas.")
    parser.add_argument("verb", nargs="?", choices=sorted(VERBS))
    parser.add_argument("--write", type=Path, metavar="DIR",
                        help="write DIR/<verb>.json for every verb")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_all(args.write):
            print(path)
        return 0
    if not args.verb:
        parser.error("give a verb or --write DIR")
    sys.stdout.write(dumps(schema_for(args.verb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
