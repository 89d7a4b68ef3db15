"""``procflow schema``: the JSON Schema generated from the models validates every example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helpers import CUSTOMER_SERVICE, PROCESSES
from procflow.cli import main
from procflow.loader import read_document
from procflow.model import json_schema

EXAMPLES = sorted((PROCESSES).glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def data_of(path: Path) -> Any:
    return read_document(path).data


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(json_schema()))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(printed["required"]) >= {"process", "start", "steps"}


def test_schema_command_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schema" / "process.json"
    assert main(["schema", "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["title"] == "procflow process"


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_process_validates(
    path: Path, validator: jsonschema.protocols.Validator
) -> None:
    errors = list(validator.iter_errors(data_of(path)))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_starter_process_validates(validator: jsonschema.protocols.Validator) -> None:
    from procflow.cli.new import starter
    from procflow.loader import parse_yaml

    validator.validate(parse_yaml(starter("my-process"), "new.yaml").data)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("start: intake", "start: 12"), ["start"]),
        (("owners:", "colours:"), []),
        (("capacity: 5", "capacity: five"), ["owners", "support-agent", "capacity"]),
        (("duration: exponential(6m)", "duration: slow"), ["steps", "intake", "duration"]),
        (("next: triage", "next: [triage]"), ["steps", "intake", "next"]),
        (("stat: p90", "stat: p42"), ["goals", 0, "stat"]),
        (('target: "<= 24h"', "target: 24"), ["goals", 0, "target"]),
    ],
)
def test_a_broken_file_fails_the_schema(
    validator: jsonschema.protocols.Validator, change: tuple[str, str], where: list[Any]
) -> None:
    text = (CUSTOMER_SERVICE).read_text(encoding="utf-8")
    assert change[0] in text
    from procflow.loader import parse_yaml

    data = parse_yaml(text.replace(*change, 1), "broken.yaml").data
    errors = list(validator.iter_errors(data))
    assert errors
    assert any(list(e.absolute_path)[: len(where)] == where for e in errors), [
        (list(e.absolute_path), e.message) for e in errors
    ]


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("a step id", lambda d: d["steps"].update({"Bad-Id": {"end": True}})),
        ("an owner id", lambda d: d["owners"].update({"1": {"capacity": 1}})),
        ("next and on", lambda d: d["steps"]["intake"].update({"on": {"x": {"to": "triage"}}})),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(
    validator: jsonschema.protocols.Validator, where: str, change: Any
) -> None:
    data = data_of(CUSTOMER_SERVICE)
    assert "next" in data["steps"]["intake"]
    change(data)
    assert list(validator.iter_errors(data)), where
