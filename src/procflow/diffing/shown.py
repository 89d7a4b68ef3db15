"""KPI figures as the reports show them: ``5.5h``, ``8/h``, ``66.2%``, ``+12m``, ``-4.1 pp``.

Shared by the text, markdown and GitHub renderers so they agree to the digit.
"""

from __future__ import annotations

import math

from procflow.diffing.result import KpiEffect, ProcessDiff, StructuralChange, Unit
from procflow.units import format_duration, format_number, format_percent

DASH = "-"

_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def figure(unit: Unit, value: float | str | None) -> str:
    """One figure in its unit; :data:`DASH` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if isinstance(value, str):
        return value
    if unit == "seconds":
        return format_duration(value, 3)
    if unit == "per_hour":
        return f"{format_number(value, 4)}/h"
    if unit == "fraction":
        return format_percent(value, 1)
    return format_number(value, 4)


def difference(unit: Unit, value: float | None) -> str:
    """A signed difference: ``+12m``, ``-0.5/h``, ``-4 pp`` (percentage points)."""
    if value is None or math.isnan(value):
        return DASH
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "-"
    magnitude = abs(value)
    if unit == "fraction":
        return f"{sign}{format_number(magnitude * 100.0, 3)} pp"
    return sign + figure(unit, magnitude)


def verdict(met: bool | None) -> str:
    return {True: "met", False: "not met", None: DASH}[met]


def kpi_old(effect: KpiEffect) -> str:
    text = figure(effect.unit, effect.old)
    return f"{text} ({verdict(effect.old_met)})" if effect.kpi.startswith("goal:") else text


def kpi_new(effect: KpiEffect) -> str:
    text = figure(effect.unit, effect.new)
    return f"{text} ({verdict(effect.new_met)})" if effect.kpi.startswith("goal:") else text


def sign(change: StructuralChange) -> str:
    """``+`` added, ``-`` removed, ``~`` changed."""
    return _SIGNS[change.kind]


def sentence(change: StructuralChange) -> str:
    """``changed p of transition 'x' of step 'y': 0.7 -> 0.5`` (one line, plain text)."""
    if change.kind == "changed":
        return f"changed {change.what}: {change.old} -> {change.new}"
    if change.kind == "added":
        return f"added {change.what}: {change.new}"
    return f"removed {change.what} (was {change.old})"


def expected_cycle_time(result: ProcessDiff, arrow: str) -> str | None:
    """``expected cycle time 5.47h -> 5.44h (-1.37m)``, or None when it did not change.

    The one-line headline of a diff's effect, shared by the markdown summary
    (``arrow`` ``→``, capitalised there) and the GitHub summary notice (``->``,
    plain ASCII in a workflow command), so they state the same figures.
    """
    expected = next((k for k in result.kpis if k.kpi == "cycle_time.expected"), None)
    if expected is None or not expected.changed:
        return None
    old, new = figure(expected.unit, expected.old), figure(expected.unit, expected.new)
    change = difference(expected.unit, expected.difference)
    return f"expected cycle time {old} {arrow} {new} ({change})"
