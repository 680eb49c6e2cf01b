"""`memsleuth schema VERB`: print the JSON Schema of that verb's ``--json`` document."""

from __future__ import annotations

import sys

from memsleuth import lazyclick as click
from memsleuth.commands.common import guarded, json_option
from memsleuth.errors import UsageError
from memsleuth.results.schema import VERBS, dumps, schema_for


@click.command("schema")
@click.argument("verb", metavar="VERB")
@json_option
@guarded
def command(verb: str, as_json: bool) -> None:
    """Print the JSON Schema (draft 2020-12) that VERB's --json output follows.

    VERB is one of: analyze, census, check, crash, diff, fleet, fleet-sql (fleet --sql),
    ingest, monitor, objects, report, trend. The schema is JSON already; --json is accepted
    for symmetry and changes nothing."""
    if verb not in VERBS:
        raise UsageError(f"no schema for {verb!r}; verbs: {', '.join(sorted(VERBS))}")
    sys.stdout.write(dumps(schema_for(verb)))
