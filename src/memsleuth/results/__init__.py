"""The JSON contract of every verb, as types: one tree of frozen dataclasses per verb.

The analyses return these types and the renderers read them; ``common.to_json`` is the one
serializer. Two small dicts stay ``TypedDict``s: the envelope the serializer's caller adds and
the parser's ``cycle_source``.
``memsleuth.results.schema`` turns them into JSON Schema (``memsleuth schema VERB``), and the
tests validate every ``--json`` output against it, so a removed or renamed field fails a
test instead of a user's pipeline.
"""

from memsleuth.results.common import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION"]
