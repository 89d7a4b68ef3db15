"""The imported process as commented YAML text.

procflow reads YAML in one place (``procflow.loader``) and writes this one
small, fixed shape by hand: every text value is double-quoted with JSON's
escapes (which YAML 1.2 reads the same), so no name from a BPMN file can
change the structure, and the loader reads it back to check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from procflow.bpmn.importer import Draft
from procflow.units import format_number

_RAW = {0x85, 0x2028, 0x2029, 0xFEFF}
_PLAIN = re.compile(
    r"[a-z][a-z0-9_-]*|[0-9.]+ ?(s|m|min|h|d)|[0-9.]+/(s|m|min|h|d)|[a-z]+\([0-9a-z., ]*\)"
)
_KEYWORDS = {"null", "true", "false", "y", "n", "yes", "no", "on", "off"}


def quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar, non-printable characters escaped."""
    body = json.dumps(text, ensure_ascii=False)
    return "".join(
        f"\\u{ord(c):04x}"
        if ord(c) in _RAW or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF
        else c
        for c in body
    )


def comment(text: str) -> str:
    """``text`` for a ``#`` comment: a line break or control character in it escaped.

    A note names BPMN ids and names, which may hold any character XML allows:
    a line break would end the comment and put the rest into the YAML.
    """
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def _scalar(value: Any) -> str:
    if isinstance(value, list):  # a fork's branches
        return (
            "[" + ", ".join(_mapping(v) if isinstance(v, dict) else _scalar(v) for v in value) + "]"
        )
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value, 12)
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _KEYWORDS:
        return text
    return quote(text)


def _mapping(data: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in data.items()) + "}"


def _calendars(draft: Draft) -> list[str]:
    """The ``calendars:`` block; day keys are quoted (``"mon,tue"`` has a comma)."""
    if not draft.calendars:
        return []
    lines = ["calendars:             # from the parameters' resource_calendars"]
    for ident, spec in draft.calendars.items():
        lines.append(f"  {ident}:")
        for key, value in spec.items():
            if key == "hours":
                lines.append("    hours:")
                lines += [f"      {quote(day)}: {quote(text)}" for day, text in value.items()]
            elif isinstance(value, list):
                lines.append(f"    {key}: [{', '.join(quote(str(v)) for v in value)}]")
            else:
                lines.append(f"    {key}: {quote(str(value))}")
    return [*lines, ""]


def render(draft: Draft, source: str, notes: list[str]) -> str:
    """The process file text, with a header saying where it came from and what was left out."""
    lines = [f"# Imported from {quote(source)} by `procflow import`."]
    lines += [f"# note: {comment(note)}" for note in notes]
    lines.append(f"process: {draft.process}")
    if draft.title:
        lines.append(f"title: {quote(draft.title)}")
    if draft.description:
        lines.append(f"description: {quote(draft.description)}")
    if draft.owner:
        lines.append(f"owner: {draft.owner}")
    lines.append("")
    lines.append("owners:                # from the lanes, else the resource profiles")
    if not draft.owners:
        lines[-1] = "owners: {}"
    for ident, owner in draft.owners.items():
        lines.append(f"  {ident}: {_mapping(owner)}")
    lines.append("")
    lines += _calendars(draft)
    if draft.attributes:
        lines.append("attributes:            # from the parameters' case_attributes")
        for name, value in draft.attributes.items():
            text = _mapping(value) if isinstance(value, dict) else _scalar(value)
            lines.append(f"  {name}: {text}")
        lines.append("")
    if draft.arrivals:
        lines.append("arrivals:")
        lines += [f"  {key}: {_scalar(value)}" for key, value in draft.arrivals.items()]
        lines.append("")
    else:
        lines += ["# arrivals: none given (no --params); add e.g. `arrivals: {rate: 10/h}`", ""]
    lines.append(f"start: {draft.start}")
    lines.append("steps:")
    for ident, step in draft.steps.items():
        lines.append(f"  {ident}:")
        for key, value in step.items():
            if key == "on":
                lines.append("    on:")
                for trigger, edge in value.items():
                    lines.append(f"      {trigger}: {_mapping(edge)}")
            else:
                lines.append(f"    {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"
