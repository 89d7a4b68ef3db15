"""Intermediate timer events: an ISO 8601 ``timeDuration`` as a procflow duration.

``PT2H``, ``P1DT30M``, ``PT90S``, ``P2W`` are read; a duration in years or
months (calendar-dependent), a ``timeDate`` or a ``timeCycle`` is not a
fixed delay, so the timer is imported without a duration (and a warning).
"""

from __future__ import annotations

import re

from procflow.bpmn.names import BPMN
from procflow.bpmn.xmltree import Node
from procflow.units import format_duration

_ISO = re.compile(
    r"^P(?:(?P<w>\d+(?:[.,]\d+)?)W)?(?:(?P<d>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<m>\d+(?:[.,]\d+)?)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)
_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def iso_seconds(text: str) -> float | None:
    """Seconds of an ISO 8601 duration without years or months, else ``None``.

    >>> iso_seconds("PT1H30M"), iso_seconds("P1D"), iso_seconds("P1M")
    (5400.0, 86400.0, None)
    """
    match = _ISO.match(text.strip().upper())
    if match is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        return None
    return sum(
        float(value.replace(",", ".")) * _SECONDS[unit]
        for unit, value in match.groupdict().items()
        if value is not None
    )


def timer_duration(timer: Node, path: str) -> str | None:
    """The fixed delay of a ``timerEventDefinition`` as duration text, or ``None``."""
    for child in timer.children:
        if child.ns == BPMN and child.tag == "timeDuration":
            seconds = iso_seconds(child.text)
            if seconds is not None:
                return format_duration(seconds, 9)
    return None
