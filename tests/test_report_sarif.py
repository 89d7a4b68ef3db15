"""SARIF output: valid against the official SARIF 2.1.0 schema, with what code scanning needs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from procflow._lint import LintReport, available_rules, lint_paths
from procflow.findings import Finding, Severity
from procflow.report import render
from procflow.report.sarif import artifact_uri

SCHEMA_PATH = Path(__file__).parent / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"

BROKEN = """\
process: broken
owners:
  clerk: {capacity: 2}
  idle: {}
start: check
steps:
  check:
    owner: ghost
    duration: 5m
    on:
      ok: {to: done, p: 0.9}
      redo: {to: nowhere, p: 0.2}
  done:
    end: true
"""


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "broken flow.yaml").write_text(BROKEN, encoding="utf-8")
    (folder / "not-yaml.yaml").write_text("steps: [\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = lint_paths(["processes"])
    assert report.findings
    data: dict[str, Any] = json.loads(render(report, "sarif"))
    return data


def test_sarif_validates_against_the_official_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: jsonschema.protocols.Validator
) -> None:
    data = sarif_of(tmp_path, monkeypatch)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_an_empty_report_validates(validator: jsonschema.protocols.Validator) -> None:
    data = json.loads(render(LintReport((), ()), "sarif"))
    validator.validate(data)
    assert data["runs"][0]["results"] == []


def test_the_schema_catches_a_broken_log(validator: jsonschema.protocols.Validator) -> None:
    data = json.loads(render(LintReport((), ()), "sarif"))
    data["runs"][0]["results"] = [{"ruleId": "PF101", "level": "fatal", "message": {"text": "x"}}]
    assert list(validator.iter_errors(data))


def test_one_rule_per_code_with_documentation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sarif_of(tmp_path, monkeypatch)
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(set(ids))
    assert set(ids) == {r.code for r in available_rules()}
    catalog = {r.code: r for r in available_rules()}
    for rule in rules:
        known = catalog[rule["id"]]
        assert rule["name"] == known.name
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] == (known.doc or known.summary or known.name)
        assert rule["help"]["text"]
        assert (
            rule["defaultConfiguration"]["level"]
            == {
                Severity.ERROR: "error",
                Severity.WARNING: "warning",
                Severity.INFO: "note",
            }[known.severity]
        )
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_results_have_relative_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = sarif_of(tmp_path, monkeypatch)
    results = data["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert {"PF001", "PF101", "PF202", "PF203", "PF401"} <= set(by_rule)
    location = by_rule["PF202"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "processes/broken%20flow.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {"startLine": 8, "startColumn": 12}
    assert by_rule["PF202"]["level"] == "error"
    assert by_rule["PF203"]["level"] == "warning"
    assert by_rule["PF202"]["properties"] == {"process": "broken", "subject": "ghost"}
    assert data["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_result_levels_follow_severity_overrides() -> None:
    finding = Finding("a.yaml", 1, 1, "PF303", "no-feedback", Severity.ERROR, "m")
    data = json.loads(render(LintReport(("a.yaml",), (finding,)), "sarif"))
    assert data["runs"][0]["results"][0]["level"] == "error"
    rule = data["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["defaultConfiguration"]["level"] == "note"


def test_artifact_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_uri("processes/a b.yaml") == "processes/a%20b.yaml"
    assert artifact_uri(str(tmp_path / "x" / "p.yaml")) == "x/p.yaml"
    assert artifact_uri("<stdin>") == "stdin"
    outside = artifact_uri(os.path.join(os.sep, "elsewhere", "p.yaml"))
    assert outside == "file:///elsewhere/p.yaml"
