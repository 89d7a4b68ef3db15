"""The words on a diagram: cleaned, wrapped labels, durations and edge captions.

Both back-ends draw the same text, so it is decided here, once, as plain
strings. Escaping is *not* done here: each back-end escapes for its own
language (DOT HTML labels, DOT quoted strings, Mermaid), because the same
character is dangerous in different ways in each.
"""

from __future__ import annotations

import re

from procflow.casedata import ByDuration, ByValue
from procflow.distributions import AnyDistribution, Empirical, Exponential, Fixed
from procflow.model import Transition
from procflow.units import format_duration, format_number

#: Characters per line before a label wraps; keeps step boxes compact on the wall.
WRAP = 24
#: Lines of a wrapped label before the rest is cut with an ellipsis (the full
#: text stays in the tooltip).
MAX_LINES = 3

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: str) -> str:
    """Text safe to lay out: newlines normalised, tabs and control characters as spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub(" ", text)


def one_line(text: str) -> str:
    """``text`` cleaned and with every run of whitespace (newlines too) as one space."""
    return " ".join(clean(text).split())


def wrap(text: str, width: int = WRAP, max_lines: int = MAX_LINES) -> tuple[str, ...]:
    """Greedy word wrap of ``text``; explicit newlines are kept, long words are split.

    >>> wrap("Send welcome pack and document checklist")
    ('Send welcome pack and', 'document checklist')
    """
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        current = ""
        for word in paragraph.split():
            while len(word) > width:
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:width])
                word = word[width:]
            if not current:
                current = word
            elif len(current) + 1 + len(word) <= width:
                current = f"{current} {word}"
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
    if not lines:
        return ("",)
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        kept[-1] = (last[: width - 1] if len(last) >= width else last) + "\u2026"
        return tuple(kept)
    return tuple(lines)


def duration_text(duration: AnyDistribution | ByDuration | None) -> str | None:
    """A duration as people read it on a wall chart: ``6m``, ``exp 6m``, ``lognormal(4m, 2m)``.

    Numbers keep three significant digits (``1.67d``, not ``1.66667d``).
    """
    match duration:
        case None:
            return None
        case ByDuration():
            return f"by {duration.by}"
        case Fixed():
            return format_duration(duration.value, 3)
        case Exponential():
            return f"exp {format_duration(duration.mean, 3)}"
        case Empirical() if len(duration.values) > 4:
            values = duration.values
            return f"empirical({len(values)} values, mean {format_duration(duration.mean, 3)})"
        case _:  # every kind: its name and arguments
            arguments = ", ".join(format_duration(value, 3) for value in duration.args())
            return f"{duration.dist}({arguments})"


def percent(p: float) -> str:
    """A probability as a percentage: ``0.7`` -> ``70%``, ``0.125`` -> ``12.5%``."""
    return f"{format_number(p * 100.0, 3)}%"


def busy_text(utilization: float) -> str:
    """Utilization as a whole percentage, never rounded up to a misleading 100%.

    >>> busy_text(0.662), busy_text(0.998), busy_text(1.2)
    ('66%', '99.8%', '120%')
    """
    whole = round(utilization * 100.0)
    if utilization < 1.0 and whole >= 100:
        return f"{format_number(utilization * 100.0, 3)}%"
    return f"{whole}%"


def edge_caption(transition: Transition) -> str | None:
    """Trigger, probability and bound of a transition: ``reopened 15% ≤3×``.

    The implicit trigger ``next`` is left out: on a diagram it says nothing
    the arrow does not.
    """
    parts: list[str] = []
    if transition.trigger != "next":
        parts.append(transition.trigger)
    if isinstance(transition.p, ByValue):
        parts.append(f"p by {transition.p.by}")
    elif transition.p is not None:
        parts.append(percent(transition.p))
    if transition.when is not None:
        parts.append(f"[{shorten(transition.when, CONDITION_WIDTH)}]")
    if transition.max is not None:
        parts.append(f"\u2264{transition.max}\u00d7")
    return " ".join(parts) or None


def rate_text(per_second: float) -> str:
    """An arrival rate in the unit people think in: ``8/h``, ``30/d`` (not ``1.25/h``).

    Per hour when that is a round figure (one decimal at most), else per
    day when that is whole, else per hour from one an hour, else per day.

    >>> rate_text(8 / 3600), rate_text(30 / 86400), rate_text(4 / 86400), rate_text(2.5 / 3600)
    ('8/h', '30/d', '4/d', '2.5/h')
    """
    per_hour = per_second * 3600.0
    per_day = per_second * 86400.0

    def whole(value: float) -> bool:
        return value >= 1 and abs(value - round(value)) < 1e-6 * max(1.0, value)

    if whole(per_hour * 10) and per_hour >= 1:
        return f"{format_number(per_hour, 3)}/h"
    if whole(per_day) or per_hour < 1:
        return f"{format_number(per_day, 3)}/d"
    return f"{format_number(per_hour, 3)}/h"


CONDITION_WIDTH = 24
"""The longest condition written on an edge; the tooltip has the whole text."""


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis (conditions on edges).

    >>> shorten("amount >= 1000 and amount < 10000", 16)
    'amount >= 1000 …'
    """
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 2].rstrip() + " \u2026"
