"""Findings: what lint reports, as immutable, sortable values.

A :class:`Finding` knows everything a renderer needs -- file, position,
code, name, severity, message, the process and the step/owner/goal it is
about -- and nothing about how it is shown: text, JSON, SARIF and GitHub
annotations are four small renderers of one sorted list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal


class Severity(enum.IntEnum):
    """How serious a finding is; ordered so ``severity >= fail_on`` reads naturally."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``"error"`` -> :attr:`ERROR`; raises ``ValueError`` naming the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: use error, warning or info") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Violation:
    """What a check reports: a message about ``subject``, located at ``path``.

    ``path`` is a model path such as ``("steps", "triage")``; the lint engine
    (or the runnable gate) turns it into a file position. ``part`` says
    whether the position is the key (a step, owner, transition: the line of
    its key) or the value (a bad value itself).
    """

    message: str
    subject: str | None
    path: tuple[str | int, ...] = ()
    part: Literal["key", "value"] = "key"


@dataclass(frozen=True, order=True)
class Finding:
    """One lint finding. Sorting orders by file, line, column, code (docs/commands.md)."""

    file: str
    line: int
    column: int
    code: str
    name: str = field(compare=False)
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    process: str | None = field(default=None, compare=False)
    subject: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding (docs/json.md#lint)."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "process": self.process,
            "subject": self.subject,
            "message": self.message,
        }

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}:{self.column}: {self.code} {self.name}: "
            f"{self.message} [{self.severity}]"
        )
