"""The JSON contract of every verb, as types: one ``TypedDict`` tree per verb.

The analyses still return plain dicts; these types say which keys those dicts always have
(required), which they may have (optional bases, ``total=False``), and what each holds.
``memsleuth.results.schema`` turns them into JSON Schema (``memsleuth schema VERB``), and the
tests validate every ``--json`` output against it, so a removed or renamed field fails a
test instead of a user's pipeline.
"""

from memsleuth.results.common import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION"]
