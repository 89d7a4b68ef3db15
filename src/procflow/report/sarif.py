"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One ``run`` with procflow as the tool driver (``informationUri``: the
project), one ``reportingDescriptor`` per rule that ran (plus any code that
appears in the results) carrying the rule's documentation and a ``helpUri``
into ``docs/rules.md``, and one ``result`` per finding.

Where a result lands: code scanning resolves a location's URI against the
root of the repository it was uploaded from. So URIs are relative to the
*repository root* -- the nearest folder at or above the working folder that
holds ``.git`` (else the working folder) -- under the base id ``%SRCROOT%``,
which ``originalUriBaseIds`` maps to that folder. ``procflow lint .`` run
inside ``processes/`` still reports ``processes/cs.yaml``. A file outside
the root keeps an absolute ``file://`` URI.

The region is the finding's 1-based line and column and, when the file can
be read, ends where the YAML token there ends (a key, a scalar, a quoted
string), so the alert underlines ``ghost`` rather than a whole line.
``partialFingerprints`` identify a finding by rule, file, process and
subject -- not by line -- so an alert keeps its identity (and its dismissal)
when lines above it move. The output validates against the official SARIF
2.1.0 JSON schema (``tests/fixtures/sarif/``).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from procflow._lint import LintReport, available_rules
from procflow._version import __version__
from procflow.findings import Finding, Severity
from procflow.rules.base import Rule
from procflow.safetext import json_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: Where procflow lives (a placeholder organisation until it is published; the same
#: address as pyproject.toml's project.urls and the README).
REPOSITORY = "https://github.com/your-org/procflow"
RULES_DOC = f"{REPOSITORY}/blob/main/docs/rules.md"
FINGERPRINT = "procflowFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_TOKEN_END = frozenset(",]}#")


def repository_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The nearest folder at or above ``start`` (the working folder) with ``.git``, else start."""
    folder = Path(os.path.abspath(start if start is not None else os.getcwd()))
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def artifact_uri(file: str, root: str | os.PathLike[str] | None = None) -> str:
    """A URI for a finding's file relative to ``root``; absolute ``file://`` outside it.

    ``root`` defaults to :func:`repository_root`; relative file names are
    taken relative to the working folder first.

    >>> artifact_uri("processes/my flow.yaml", root=os.getcwd())
    'processes/my%20flow.yaml'
    """
    if file.startswith("<") and file.endswith(">"):  # <stdin>, <string>
        return quote(file.strip("<>"))
    base = Path(root) if root is not None else repository_root()
    path = Path(os.path.abspath(file))
    try:
        relative = path.relative_to(os.path.abspath(base))
    except ValueError:
        return path.as_uri()
    return quote(PurePosixPath(relative.as_posix()).as_posix())


def token_end(text: str, column: int) -> int | None:
    """The 1-based column just past the YAML token starting at ``column`` of line ``text``.

    >>> token_end("    owner: ghost  # typo", 12)
    17
    >>> token_end("  idle: {}", 3), token_end('  a: "x y"', 6)
    (7, 11)

    ``None`` when no token starts there (past the end of the line, a blank).
    """
    start = column - 1
    if start < 0 or start >= len(text) or text[start].isspace():
        return None
    if text[start] == "-" and text[start + 1 : start + 2] in ("", " "):  # a sequence entry
        return start + 2
    if text[start] in "'\"":
        closing = text.find(text[start], start + 1)
        return closing + 2 if closing > start else len(text.rstrip()) + 1
    end = start
    while end < len(text):
        char = text[end]
        if char in _TOKEN_END and end > start:
            break
        if char == ":" and (end + 1 == len(text) or text[end + 1].isspace()):
            break
        if char == "#" or (char.isspace() and text[end + 1 : end + 2] == "#"):
            break
        end += 1
    end = len(text[:end].rstrip())
    return end + 1 if end > start else None


class _Lines:
    """Source lines of the files findings point into, read once each (``None``: unreadable)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._files:
            self._files[file] = self._read(file)
        lines = self._files[file]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    @staticmethod
    def _read(file: str) -> list[str] | None:
        if file.startswith("<"):
            return None
        try:
            with open(file, "rb") as handle:
                data = handle.read(8 * 1024 * 1024 + 1)
        except OSError:
            return None
        return data.decode("utf-8", errors="replace").splitlines()


def _region(finding: Finding, lines: _Lines) -> dict[str, Any]:
    line, column = max(finding.line, 1), max(finding.column, 1)
    region: dict[str, Any] = {"startLine": line, "startColumn": column}
    text = lines.line(finding.file, line)
    end = token_end(text, column) if text is not None else None
    if end is not None:
        region.update(endLine=line, endColumn=end)
    return region


def _help_uri(rule: Rule) -> str:
    return f"{RULES_DOC}#{rule.code.lower()}-{rule.name}"


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule.doc or rule.summary or rule.name
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or rule.name},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "helpUri": _help_uri(rule),
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["procflow", rule.family]},
    }


def _fingerprints(findings: Iterable[Finding], uris: list[str]) -> list[str]:
    """A stable identity per finding: rule, file, process, subject (or message), occurrence.

    Not the line: an alert must survive lines being added above it. Two
    findings with the same identity get an occurrence number.
    """
    seen: Counter[tuple[str, ...]] = Counter()
    prints = []
    for finding, uri in zip(findings, uris, strict=True):
        what = finding.subject if finding.subject is not None else finding.message
        key = (finding.code, uri, finding.process or "", what)
        seen[key] += 1
        digest = hashlib.sha256("\0".join((*key, str(seen[key]))).encode("utf-8"))
        prints.append(digest.hexdigest()[:32])
    return prints


def _result(
    finding: Finding, index: int, uri: str, fingerprint: str, lines: _Lines
) -> dict[str, Any]:
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
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": _region(finding, lines),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT: fingerprint},
    }
    if properties:
        result["properties"] = properties
    return result


def document(report: LintReport, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The report as a SARIF log (JSON-ready data); URIs relative to ``root`` (the repository)."""
    base = Path(root) if root is not None else repository_root()
    catalog = {rule.code: rule for rule in available_rules()}
    codes = sorted({r.code for r in report.rules} | {f.code for f in report.findings})
    rules = [catalog.get(code) or Rule(code, code.lower(), Severity.ERROR, _none) for code in codes]
    index = {rule.code: i for i, rule in enumerate(rules)}
    uris = [artifact_uri(f.file, base) for f in report.findings]
    prints = _fingerprints(report.findings, uris)
    lines = _Lines()
    results = [
        _result(f, index[f.code], uri, fp, lines)
        for f, uri, fp in zip(report.findings, uris, prints, strict=True)
    ]
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
                        "informationUri": REPOSITORY,
                        "rules": [_rule_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"uri": Path(os.path.abspath(base)).as_uri() + "/"}
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _none(context: Any) -> tuple[()]:
    return ()


def render(report: LintReport) -> str:
    return json_text(document(report)) + "\n"
