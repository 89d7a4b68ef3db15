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
from procflow.report.sarif import REPOSITORY, artifact_uri, token_end

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
    # the region ends where the token ends: `ghost` on `    owner: ghost`
    assert location["region"] == {"startLine": 8, "startColumn": 12, "endLine": 8, "endColumn": 17}
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
    (tmp_path / ".git").mkdir()
    assert artifact_uri("processes/a b.yaml") == "processes/a%20b.yaml"
    assert artifact_uri(str(tmp_path / "x" / "p.yaml")) == "x/p.yaml"
    assert artifact_uri("<stdin>") == "stdin"
    outside = artifact_uri(os.path.join(os.sep, "elsewhere", "p.yaml"))
    assert outside == "file:///elsewhere/p.yaml"


@pytest.mark.parametrize(
    ("line", "column", "end"),
    [
        ("    owner: ghost", 12, 17),
        ("    owner: ghost   # a typo", 12, 17),
        ("  idle: {}", 3, 7),
        ("      redo: {to: nowhere, p: 0.2}", 18, 25),
        ("      ok: {to: done, p: 0.9}", 16, 20),
        ('  title: "A: quoted, string"', 10, 29),
        ("  title: 'unclosed", 10, 19),
        ("steps: [", 8, 9),
        ("  - id: fast", 3, 4),
        ("process: a:b", 10, 13),
        ("x", 5, None),
        ("   ", 2, None),
    ],
)
def test_token_end(line: str, column: int, end: int | None) -> None:
    assert token_end(line, column) == end


def test_uris_are_relative_to_the_repository_root_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: jsonschema.protocols.Validator
) -> None:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "ops" / "processes"
    folder.mkdir(parents=True)
    (folder / "broken flow.yaml").write_text(BROKEN, encoding="utf-8")
    expected = "ops/processes/broken%20flow.yaml"
    for cwd, target in ((tmp_path, "ops"), (folder, "."), (folder / "..", "processes")):
        monkeypatch.chdir(cwd)
        data = json.loads(render(lint_paths([target]), "sarif"))
        validator.validate(data)
        run = data["runs"][0]
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
        }
        assert uris == {expected}, cwd
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_help_and_information_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = sarif_of(tmp_path, monkeypatch)
    driver = data["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == REPOSITORY
    rules_doc = (Path(__file__).parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in driver["rules"]:
        page, _, anchor = rule["helpUri"].partition("#")
        assert page == f"{REPOSITORY}/blob/main/docs/rules.md"
        # GitHub's anchor of the heading "### PF105 no-way-out" (scripts/docs_rules.py)
        assert f"\n### {rule['id']} {rule['name']}\n" in rules_doc
        assert anchor == f"{rule['id'].lower()}-{rule['name']}"


def _fingerprints(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    data = json.loads(render(lint_paths(["p.yaml"]), "sarif"))
    prints: dict[str, str] = {}
    for result in data["runs"][0]["results"]:
        key = f"{result['ruleId']} {result.get('properties', {}).get('subject')}"
        prints[key] = result["partialFingerprints"]["procflowFinding/v1"]
    return prints


def test_fingerprints_survive_moved_lines_and_tell_findings_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _fingerprints(BROKEN, tmp_path, monkeypatch)
    moved = BROKEN.replace("process: broken\n", "process: broken\ndescription: moved\n\n")
    after = _fingerprints(moved, tmp_path, monkeypatch)
    assert before == after
    assert len(set(before.values())) == len(before)  # one identity per finding
    renamed = _fingerprints(BROKEN.replace("ghost", "phantom"), tmp_path, monkeypatch)
    assert renamed["PF202 phantom"] != before["PF202 ghost"]
