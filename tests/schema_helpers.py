"""Validate any `--json` document a test produces against its verb's JSON Schema.

    from schema_helpers import loads_valid
    data = loads_valid(result.output)      # json.loads + validation; returns the document

(tests/ is on sys.path through tests/conftest.py; the ``valid_json`` fixture is the same
function.) The verb comes from the document's own ``schema`` key, so a document that names
no known schema fails too.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from memsleuth.results.schema import VERBS, schema_for, schema_id


@cache
def validator(verb: str) -> jsonschema.protocols.Validator:
    schema = schema_for(verb)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def verb_of(doc: Any) -> str:
    """The verb a document says it is (``memsleuth.<verb>/<version>``)."""
    name = doc.get("schema") if isinstance(doc, dict) else None
    verb = next((v for v in VERBS if name == schema_id(v)), None)
    assert verb is not None, f"not a memsleuth document of a known schema: schema={name!r}"
    return verb


def schema_errors(doc: Any, verb: str | None = None) -> list[str]:
    """Every violation, one line each ("path: message"); empty when the document is valid."""
    found = validator(verb or verb_of(doc)).iter_errors(doc)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in sorted(found, key=lambda e: list(map(str, e.absolute_path)))]


def check_document(doc: Any, verb: str | None = None) -> Any:
    errors = schema_errors(doc, verb)
    assert not errors, f"{len(errors)} schema violation(s):\n" + "\n".join(errors[:20])
    return doc


def loads_valid(text: str | bytes, verb: str | None = None) -> Any:
    """``json.loads`` that also validates the document against its schema."""
    return check_document(json.loads(text), verb)
