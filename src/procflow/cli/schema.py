"""``procflow schema``: print the JSON Schema of the process file, for editors and CI.

The schema is generated from the pydantic models that the loader validates
with, so it cannot drift from what procflow accepts (SPEC section 1).
Editors such as VS Code (with the YAML extension) use it for completion and
inline errors: ``# yaml-language-server: $schema=process.schema.json``.
"""

from __future__ import annotations

import json
import sys

import click

from procflow.fileio import write_atomic
from procflow.model import json_schema


def schema_text() -> str:
    """The schema as indented JSON text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


@click.command("schema")
@click.option(
    "-o", "--output", metavar="FILE", help="Write the schema to FILE (atomically); '-' is stdout."
)
def schema_command(output: str | None) -> int:
    """Print the JSON Schema of a process file (for editors)."""
    text = schema_text()
    if output and output != "-":
        write_atomic(output, text)
    else:
        sys.stdout.write(text)
    return 0


commands = [schema_command]
