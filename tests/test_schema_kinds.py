"""``procflow schema --kind process|change|roster``: every property described, every example valid.

Editors show a property's description on hover and offer its enum values
and default on completion; a property without a description is a blank
tooltip. The count of undescribed properties is held at 0 for every kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helpers import PROCESSES, ROOT
from procflow.cli import main
from procflow.cli.schema import KINDS, schema_of
from procflow.loader import read_document
from procflow.model import json_schema

CHANGES = sorted((ROOT / "changes").glob("*.yaml"))
ROSTERS = [
    ROOT / "tests" / "fixtures" / "rules" / "PF203" / "shared" / "finance-team.yaml",
]


def properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property schema in ``node``, with a path to name it by."""
    if isinstance(node, dict):
        for name, schema in (node.get("properties") or {}).items():
            yield f"{where}/{name}", schema
        for key, value in node.items():
            yield from properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{where}[{index}]")


def validator(kind: str) -> jsonschema.protocols.Validator:
    schema = schema_of(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description(kind: str) -> None:
    found = list(properties(schema_of(kind)))
    assert len(found) > 5
    undescribed = [where for where, schema in found if not schema.get("description")]
    assert undescribed == []


def test_the_process_schema_counts_and_shows_enums_and_defaults() -> None:
    schema = schema_of("process")
    assert schema == json_schema()
    # 84 + parallel and join (docs/parallel-work.md) + 13 working-time keys (calendars)
    # + attributes, priority, when, where, by (docs/attributes.md)
    assert len(list(properties(schema))) == 110
    step = schema["$defs"]["Step"]["properties"]
    assert "exponential" in step["duration"]["description"]
    stat = schema["$defs"]["Goal"]["properties"]["stat"]
    assert stat["anyOf"][0]["enum"] == ["mean", "p50", "p90", "p95", "p99"]
    assert schema["$defs"]["Owner"]["properties"]["capacity"]["default"] == 1


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_processes_validate(path: Path) -> None:
    errors = list(validator("process").iter_errors(read_document(path).data))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("path", CHANGES, ids=lambda p: p.name)
def test_example_changes_validate(path: Path) -> None:
    errors = list(validator("change").iter_errors(read_document(path).data))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("path", ROSTERS, ids=lambda p: p.name)
def test_rosters_validate(path: Path) -> None:
    assert path.exists()
    errors = list(validator("roster").iter_errors(read_document(path).data))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_there_are_example_changes() -> None:
    assert len(CHANGES) >= 5


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"change": "c", "patch": {"owners": {"agent": {"capacity": 6}}}}, True),
        ({"change": "c", "patch": {"steps": {"triage": {"duration": "exponential(5m)"}}}}, True),
        ({"change": "c", "patch": {"steps": {"triage": {"on": {"ok": {"p": 0.4}}}}}}, True),
        ({"change": "c", "patch": {"steps": {"triage": None}, "arrivals": None}}, True),
        ({"change": "c", "patch": {"steps": {"a": {"next": "b", "on": None}}}}, True),
        ({"change": "c", "patch": {"goals": [{"id": "fast", "metric": "wip"}]}}, True),
        ({"change": "c"}, False),  # no patch
        ({"change": "C", "patch": {}}, False),  # not an id
        ({"change": "c", "patch": {"colours": 1}}, False),  # not a process key
        ({"change": "c", "patch": {"owners": {"agent": {"capacity": 0}}}}, False),
        ({"change": "c", "patch": {"steps": {"Bad-Id": {"end": True}}}}, False),
        ({"change": "c", "patch": {"steps": {"a": {"duration": "slow"}}}}, False),
        ({"change": "c", "patch": {"goals": [{"metric": "wip"}]}}, False),  # a goal is whole
    ],
)
def test_the_change_schema_takes_partial_processes(document: dict[str, Any], valid: bool) -> None:
    errors = list(validator("change").iter_errors(document))
    assert (not errors) is valid, [e.message for e in errors]


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"owners": {"clerk": {"capacity": 2, "cost_per_hour": 40}}}, True),
        ({"owners": {"clerk": {"capacity": 0}}}, False),
        ({"owners": {"Clerk": {}}}, False),
        ({}, False),
        ({"owners": {}, "steps": {}}, False),
    ],
)
def test_the_roster_schema(document: dict[str, Any], valid: bool) -> None:
    assert (not list(validator("roster").iter_errors(document))) is valid


@pytest.mark.parametrize("kind", KINDS)
def test_schema_command_prints_each_kind(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(schema_of(kind)))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed["title"] == f"procflow {kind}"


def test_an_unknown_kind_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", "goal"]) == 2
    assert "goal" in capsys.readouterr().err
