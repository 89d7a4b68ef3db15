"""``procflow schema``: print the JSON Schema of each file kind, for editors and CI.

The schemas are generated from the pydantic models that the loader
validates with, so they cannot drift from what procflow accepts
(docs/file-format.md). Editors such as VS Code (with the YAML extension) use them for
completion, hover text and inline errors:
``# yaml-language-server: $schema=process.schema.json``.

``--kind process`` (the default) is :func:`procflow.model.json_schema`;
``--kind roster`` a shared owners file (a top-level ``owners`` mapping);
``--kind change`` a change file, whose ``patch`` is a *partial* process: a
JSON Merge Patch (RFC 7386) may name any part of a process and leave out
the rest, and ``null`` deletes a key. So the patch schema is the process
schema with nothing required and ``null`` allowed wherever a key may be
written -- except inside lists (``goals``), which a merge patch replaces
whole, so a goal in a patch is still a complete goal.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import click

from procflow.fileio import write_atomic
from procflow.model import Change, Roster, json_schema

KINDS = ("process", "change", "roster")
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(kind: str = "process") -> dict[str, Any]:
    """The JSON Schema (2020-12) of a process, change or roster file."""
    if kind == "process":
        return json_schema()
    if kind == "roster":
        schema = Roster.model_json_schema(by_alias=True)
        _close_id_maps(schema)
        return _titled(
            schema,
            "roster",
            "A shared owners file: owners that processes "
            "name with 'roster:' instead of declaring them.",
        )
    if kind == "change":
        return _change_schema()
    raise ValueError(f"unknown schema kind {kind!r}: one of {', '.join(KINDS)}")


def _titled(schema: dict[str, Any], kind: str, description: str) -> dict[str, Any]:
    return {
        "$schema": _DRAFT,
        "$id": f"https://procflow.dev/schema/{kind}.json",
        "title": f"procflow {kind}",
        "description": description,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def _close_id_maps(node: Any) -> None:
    """A mapping keyed by ids has no other keys (as the loader enforces)."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_id_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_id_maps(value)


def _change_schema() -> dict[str, Any]:
    process = json_schema()
    definitions: dict[str, Any] = process.get("$defs", {})
    partial = _Partial(definitions)
    patch = partial.object(
        {k: v for k, v in process.items() if k in ("type", "properties", "additionalProperties")}
    )
    patch["description"] = (
        "A JSON Merge Patch on the process (RFC 7386): the keys it names replace the "
        "process's, null deletes a key, lists are replaced whole."
    )
    schema = Change.model_json_schema(by_alias=True)
    schema["properties"]["patch"] = patch
    schema["$defs"] = {**definitions, **partial.made}
    return _titled(
        schema,
        "change",
        "A what-if change: a patch applied to a process by simulate --change and compare.",
    )


class _Partial:
    """Rewrites process schemas into patch schemas: nothing required, null allowed.

    A referenced definition gets a partial twin (``StepPatch`` beside
    ``Step``) made once; references from inside a list keep the original.
    """

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.made: dict[str, Any] = {}

    def node(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        result = copy.deepcopy(node)
        ref = result.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            result["$ref"] = self._twin(ref.removeprefix("#/$defs/"))
        for key in ("anyOf", "oneOf", "allOf"):
            if key in result:
                result[key] = [self.node(branch) for branch in node[key]]
        if "properties" in result or "patternProperties" in result:
            result = self.object(result)
        elif isinstance(result.get("additionalProperties"), dict):
            result["additionalProperties"] = self.nullable(node["additionalProperties"])
        return result

    def object(self, node: dict[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in node.items() if k not in ("required", "not", "minProperties")}
        if "properties" in node:
            result["properties"] = {k: self.nullable(v) for k, v in node["properties"].items()}
        if "patternProperties" in node:
            result["patternProperties"] = {
                k: self.nullable(v) for k, v in node["patternProperties"].items()
            }
        if isinstance(node.get("additionalProperties"), dict):
            result["additionalProperties"] = self.nullable(node["additionalProperties"])
        return result

    def nullable(self, node: Any) -> Any:
        """``node`` made partial, or ``null`` (which deletes the key)."""
        if not isinstance(node, dict):
            return node
        shown = {k: node[k] for k in ("title", "description") if k in node}
        inner = {k: v for k, v in node.items() if k not in ("title", "description", "default")}
        if inner.get("type") == "array":  # replaced whole: items stay complete
            return {**shown, "anyOf": [inner, {"type": "null"}]}
        return {**shown, "anyOf": [self.node(inner), {"type": "null"}]}

    def _twin(self, name: str) -> str:
        twin = f"{name}Patch"
        if twin not in self.made and name in self.definitions:
            self.made[twin] = {}  # reserved first: a definition may refer to itself
            self.made[twin] = self.node(self.definitions[name])
        return f"#/$defs/{twin}"


def schema_text(kind: str = "process") -> str:
    """The schema as indented JSON text."""
    return json.dumps(schema_of(kind), indent=2, ensure_ascii=False) + "\n"


@click.command("schema")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="process",
    show_default=True,
    help="Which file's schema: a process, a change file or a roster (shared owners).",
)
@click.option(
    "-o", "--output", metavar="FILE", help="Write the schema to FILE (atomically); '-' is stdout."
)
def schema_command(kind: str, output: str | None) -> int:
    """Print the JSON Schema of a process, change or roster file (for editors)."""
    text = schema_text(kind)
    if output and output != "-":
        write_atomic(output, text)
    else:
        sys.stdout.write(text)
    return 0


commands = [schema_command]
