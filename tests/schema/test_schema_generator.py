"""The type -> JSON Schema translation (TypedDict and dataclass trees), on small trees whose
schema is written out by hand here, and checked against documents the validator must accept
and reject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import jsonschema

from memsleuth.results.common import Document, omitted, to_json
from memsleuth.results.schema import _Builder


class Leaf(TypedDict):
    """A leaf."""

    n: int
    x: float


class _TreeOptional(TypedDict, total=False):
    extra: str


class Tree(_TreeOptional):
    name: str
    ok: bool
    leaf: Leaf | None
    leaves: list[Leaf]
    pair: tuple[int, str]
    many: tuple[float, ...]
    counts: dict[str, int]
    mode: Literal["a", "b"] | None
    code: Literal[0, 1, 3]
    value: float | Literal["inf"]
    anything: Any


def test_tree_translates_as_written() -> None:
    builder = _Builder()
    assert builder.of(Tree) == {"$ref": "#/$defs/Tree"}
    assert builder.defs["Leaf"] == {
        "type": "object", "description": "A leaf.",
        "properties": {"n": {"type": "integer"}, "x": {"type": "number"}},
        "required": ["n", "x"],
    }
    tree = builder.defs["Tree"]
    assert "description" not in tree
    assert tree["required"] == ["name", "ok", "leaf", "leaves", "pair", "many", "counts",
                                "mode", "code", "value", "anything"]
    assert tree["properties"] == {
        "extra": {"type": "string"},
        "name": {"type": "string"},
        "ok": {"type": "boolean"},
        "leaf": {"anyOf": [{"$ref": "#/$defs/Leaf"}, {"type": "null"}]},
        "leaves": {"type": "array", "items": {"$ref": "#/$defs/Leaf"}},
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                 "minItems": 2, "maxItems": 2},
        "many": {"type": "array", "items": {"type": "number"}},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "mode": {"enum": ["a", "b", None]},
        "code": {"enum": [0, 1, 3]},
        "value": {"anyOf": [{"type": "number"}, {"enum": ["inf"]}]},
        "anything": {},
    }


def test_tree_schema_accepts_and_rejects() -> None:
    builder = _Builder()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              **builder.of(Tree), "$defs": builder.defs}
    validator = jsonschema.Draft202012Validator(schema)
    good: dict[str, Any] = {
        "name": "t", "ok": True, "leaf": None, "leaves": [{"n": 1, "x": 0.5}],
        "pair": [1, "a"], "many": [1, 2.5], "counts": {"a": 1}, "mode": None, "code": 3,
        "value": "inf", "anything": [None], "not_in_the_type": 1,
    }
    assert validator.is_valid(good)
    bad = [
        {k: v for k, v in good.items() if k != "name"},          # required key removed
        {**good, "ok": 1},                                       # bool is not an integer
        {**good, "leaves": [{"n": 1.5, "x": 0}]},                # integer field got 1.5
        {**good, "leaves": [{"n": 1}]},                          # nested required removed
        {**good, "pair": [1, "a", 2]},                           # fixed-length tuple
        {**good, "counts": {"a": "1"}},                          # dict values typed
        {**good, "mode": "c"},                                   # not in the Literal
        {**good, "code": 2},
        {**good, "value": "nan"},
        {**good, "extra": 5},                                    # optional, but typed
    ]
    for doc in bad:
        assert not validator.is_valid(doc), doc


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    size: int
    note: str | None = omitted()


@dataclass(frozen=True, slots=True, kw_only=True)
class Whole(Document):
    """A whole document."""

    parts: tuple[Part, ...]
    first: Part | None


def test_dataclass_tree_translates_and_serializes_alike() -> None:
    builder = _Builder()
    assert builder.of(Whole) == {"$ref": "#/$defs/Whole"}
    whole = builder.defs["Whole"]
    assert whole["description"] == "A whole document."
    # a verb's document: the envelope the serializer's caller adds is required first
    assert whole["required"] == ["schema", "memsleuth", "parts", "first"]
    assert whole["properties"]["parts"] == {"type": "array", "items": {"$ref": "#/$defs/Part"}}
    assert builder.defs["Part"] == {          # no docstring written: no description
        "type": "object",
        "properties": {"size": {"type": "integer"}, "note": {"type": ["string", "null"]}},
        "required": ["size"],
    }
    doc = Whole(parts=(Part(size=1), Part(size=2, note="x")), first=None)
    assert to_json(doc) == {"parts": [{"size": 1}, {"size": 2, "note": "x"}], "first": None}
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              **builder.of(Whole), "$defs": builder.defs}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"schema": "s", "memsleuth": "0", **to_json(doc)})
    assert not validator.is_valid(to_json(doc))                      # no envelope
    assert not validator.is_valid({"schema": "s", "memsleuth": "0", "parts": [{}], "first": None})
