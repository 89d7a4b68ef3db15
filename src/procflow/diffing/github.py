"""The diff as GitHub Actions workflow commands: one ``::notice`` per structural change.

A change is annotated at its line in NEW; a removal at the nearest part of
NEW that still exists (the removed lines are not in the checked-out file).
Escaping follows GitHub's rules for workflow commands: in the message
``%``, CR and LF are percent-encoded; in a property value (``file``,
``title``) also ``:`` and ``,``.
"""

from __future__ import annotations

from procflow.diffing.result import ProcessDiff
from procflow.diffing.shown import expected_cycle_time, sentence


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: ProcessDiff) -> str:
    """One workflow command per change (and a summary notice), each on its own line."""
    lines: list[str] = []
    for change in result.changes:
        position = change.new_position
        title = f"procflow diff: {change.kind} {change.subject}"
        lines.append(
            f"::notice file={escape_property(position.file)},line={position.line},"
            f"col={position.column},title={escape_property(title)}::"
            f"{escape_data(sentence(change))}"
        )
    total = len(result.changes)
    summary = (
        f"procflow diff: {total} structural change{'' if total == 1 else 's'} in {result.new.file}"
    )
    expected = expected_cycle_time(result, "->")
    if expected is not None:
        summary += f"; {expected}"
    lines.append(f"::notice title=procflow diff::{escape_data(summary)}")
    return "\n".join(lines) + "\n"
