"""JSON output, exactly the shape of docs/json.md#lint (versioned from day one)::

{"version": 1,
 "findings": [{"code", "name", "severity", "file", "line", "column",
               "process", "subject", "message"}, ...],
 "summary": {"files", "errors", "warnings", "infos"}}

The text is byte for byte ``json.dumps(document, indent=2, ensure_ascii=False)``,
but written without it: with ``indent`` the standard library falls back to its
pure-Python encoder (~30 us a finding, 0.3 s for 10,000 findings). A finding is
a flat record of strings, integers and ``None``, so :func:`render` formats it
with one f-string and the C string encoder, ten times faster; tests check the
two agree on every finding field, whatever characters it holds.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from procflow._lint import LintReport
from procflow.findings import Finding, Severity
from procflow.safetext import json_escaped, json_text

VERSION = 1


def document(report: LintReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "version": VERSION,
        "findings": [finding.to_dict() for finding in report.findings],
        "summary": report.summary(),
    }


_SEVERITY = {severity: encode_basestring(str(severity)) for severity in Severity}


def _optional(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _finding(f: Finding) -> str:
    """One finding as ``json.dumps`` indents it, in :meth:`Finding.to_dict`'s key order."""
    return (
        f'    {{\n      "code": {encode_basestring(f.code)},\n'
        f'      "name": {encode_basestring(f.name)},\n'
        f'      "severity": {_SEVERITY[f.severity]},\n'
        f'      "file": {encode_basestring(f.file)},\n'
        f'      "line": {int(f.line)},\n'
        f'      "column": {int(f.column)},\n'
        f'      "process": {_optional(f.process)},\n'
        f'      "subject": {_optional(f.subject)},\n'
        f'      "message": {encode_basestring(f.message)}\n    }}'
    )


def render(report: LintReport) -> str:
    if not report.findings:
        return json_text(document(report)) + "\n"
    findings = ",\n".join(map(_finding, report.findings))
    summary = json.dumps(report.summary(), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    return json_escaped(
        f'{{\n  "version": {VERSION},\n  "findings": [\n{findings}\n  ],\n'
        f'  "summary": {summary}\n}}\n'
    )
