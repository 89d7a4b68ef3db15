"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One ``run`` with procflow as the tool driver, one ``reportingDescriptor`` per
rule that ran (plus any code that appears in the results) carrying the rule's
documentation, and one ``result`` per finding whose location is the file
(a URI relative to the folder procflow ran in, under ``%SRCROOT%``) and the
1-based line and column. The output validates against the official SARIF
2.1.0 JSON schema (``tests/fixtures/sarif/``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from procflow._lint import LintReport, available_rules
from procflow._version import __version__
from procflow.findings import Finding, Severity
from procflow.rules.base import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_uri(file: str, root: str | None = None) -> str:
    """A relative URI for a finding's file; absolute ``file://`` only outside ``root``.

    >>> artifact_uri("processes/my flow.yaml")
    'processes/my%20flow.yaml'
    """
    if file.startswith("<") and file.endswith(">"):  # <stdin>, <string>
        return quote(file.strip("<>"))
    path = Path(file)
    if path.is_absolute():
        base = Path(root or os.getcwd()).resolve()
        try:
            relative = path.resolve().relative_to(base)
        except ValueError:
            return path.resolve().as_uri()
        return quote(relative.as_posix())
    posix = PurePosixPath(path.as_posix())
    return quote(str(posix))


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.doc or rule.summary or rule.name
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["procflow", rule.family]},
    }


def _result(finding: Finding, index: int) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if finding.process is not None:
        properties["process"] = finding.process
    if finding.subject is not None:
        properties["subject"] = finding.subject
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": artifact_uri(finding.file),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {
                        "startLine": max(finding.line, 1),
                        "startColumn": max(finding.column, 1),
                    },
                }
            }
        ],
    }
    if properties:
        result["properties"] = properties
    return result


def document(report: LintReport) -> dict[str, Any]:
    """The report as a SARIF log (JSON-ready data)."""
    catalog = {rule.code: rule for rule in available_rules()}
    codes = sorted({r.code for r in report.rules} | {f.code for f in report.findings})
    rules = [catalog.get(code) or Rule(code, code.lower(), Severity.ERROR, _none) for code in codes]
    index = {rule.code: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "procflow",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"uri": Path(os.getcwd()).resolve().as_uri() + "/"}
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code]) for f in report.findings],
            }
        ],
    }


def _none(context: Any) -> tuple[()]:
    return ()


def render(report: LintReport) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
