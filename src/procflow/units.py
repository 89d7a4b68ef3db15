"""Durations and rates as people write them: ``90s``, ``6m``, ``1.5h``, ``2d``, ``12/h``.

Internally every time is a float number of **seconds** and every rate is per
**second**; these helpers are the only place that turns text into those
numbers and back, so the model, the reports and the diagrams agree on units.
A number without a unit is refused on purpose: is ``5`` minutes or hours?
"""

from __future__ import annotations

import math
import re

UNIT_SECONDS: dict[str, float] = {
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

RATE_UNIT_SECONDS: dict[str, float] = {
    **UNIT_SECONDS,
    "week": 7 * 86400.0,
    "month": 365 * 86400.0 / 12,
}
"""Units a rate may be per: durations' units, and ``week`` and ``month`` (1/12 of 365 days)."""

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z]+)\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*/\s*([a-zA-Z]+)\s*$")
_UNITS_HINT = "s, m (or min), h or d"


class UnitError(ValueError):
    """Text that is not a duration or rate; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


def _unit_seconds(unit: str, text: str, units: dict[str, float] = UNIT_SECONDS) -> float:
    try:
        return units[unit]
    except KeyError:
        lowered = unit.lower()
        hint = f" (did you mean '{lowered}'?)" if lowered in UNIT_SECONDS else ""
        raise UnitError(
            f"unknown time unit {unit!r} in {text!r}: use {_UNITS_HINT}{hint}",
            offset=max(text.find(unit), 0),
        ) from None


def _number_text(value: float) -> str | None:
    """A number as a message can show it, or ``None`` for one too long to repeat."""
    try:
        text = f"{value:g}"
    except OverflowError:  # an int too large for a float
        return None
    return text if len(text) <= 24 else None


def parse_duration(value: object) -> float:
    """Seconds in a duration such as ``"6m"``; a bare number is refused.

    >>> parse_duration("1.5h")
    5400.0
    >>> parse_duration("90s")
    90.0
    """
    if isinstance(value, bool) or value is None:
        raise UnitError(f"expected a duration such as '6m', got {value!r}")
    if isinstance(value, int | float):
        shown = _number_text(value)
        if shown is None:
            raise UnitError("a plain number has no unit: write it with s, m, h or d, e.g. 6m")
        raise UnitError(
            f"duration {shown} has no unit: write {shown}s, {shown}m, {shown}h or {shown}d"
        )
    if not isinstance(value, str):
        raise UnitError(f"expected a duration such as '6m', got {type(value).__name__}")
    match = _DURATION_RE.match(value)
    if match is None:
        stripped = value.strip()
        if re.fullmatch(_NUMBER, stripped):
            raise UnitError(
                f"duration {stripped} has no unit: write {stripped}m (minutes), {stripped}h, ..."
            )
        raise UnitError(f"{value!r} is not a duration: write a number and a unit ({_UNITS_HINT})")
    number, unit = match.groups()
    seconds = float(number) * _unit_seconds(unit, value)
    if not math.isfinite(seconds):
        raise UnitError(f"duration {value!r} is not finite")
    if seconds < 0:
        raise UnitError(f"duration {value!r} is negative")
    return seconds


def parse_rate(value: object) -> float:
    """Events per second in a rate such as ``"12/h"``.

    >>> parse_rate("12/h") * 3600
    12.0
    """
    if isinstance(value, bool) or value is None:
        raise UnitError(f"expected a rate such as '12/h', got {value!r}")
    if isinstance(value, int | float):
        raise UnitError(f"rate {value:g} has no unit: write {value:g}/h, {value:g}/d, ...")
    if not isinstance(value, str):
        raise UnitError(f"expected a rate such as '12/h', got {type(value).__name__}")
    match = _RATE_RE.match(value)
    if match is None:
        raise UnitError(f"{value!r} is not a rate: write a number per unit, such as '12/h'")
    number, unit = match.groups()
    per_second = float(number) / _unit_seconds(unit, value, RATE_UNIT_SECONDS)
    if not math.isfinite(per_second) or per_second <= 0:
        raise UnitError(f"rate {value!r} must be a positive number per unit")
    return per_second


def format_number(value: float, digits: int = 4) -> str:
    """A compact number: ``4``, ``1.5``, ``0.3333``."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    text = f"{value:.{digits}g}"
    if "e" in text:
        return text
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_duration(seconds: float, digits: int = 4) -> str:
    """Seconds as the shortest natural duration: ``90s``, ``6m``, ``1.5h``, ``2d``.

    >>> format_duration(5400)
    '1.5h'
    >>> format_duration(45)
    '45s'
    """
    if not math.isfinite(seconds):
        return "inf"
    magnitude = abs(seconds)
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if magnitude >= size:
            return f"{format_number(seconds / size, digits)}{unit}"
    return f"{format_number(seconds, digits)}s"


def format_percent(fraction: float, decimals: int = 1) -> str:
    """A fraction as a percentage with at most ``decimals`` places: ``66.2%``, ``100%``.

    >>> format_percent(0.662), format_percent(1.0), format_percent(0.125, 0)
    ('66.2%', '100%', '12%')
    """
    shown = f"{fraction * 100.0:.{decimals}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"{shown}%"


def format_rate(per_second: float, digits: int = 4, *, like: str | None = None) -> str:
    """A rate per second as cases per hour: ``12/h``; ``like`` a target such as
    ``">= 100/week"``: per that target's unit (``115.8/week``), so a goal's value reads
    in the unit its target was written in."""
    unit = rate_unit(like) if like is not None else None
    if unit is None:
        return f"{format_number(per_second * 3600.0, digits)}/h"
    return f"{format_number(per_second * RATE_UNIT_SECONDS[unit], digits)}/{unit}"


def rate_unit(text: str) -> str | None:
    """The unit of the rate in ``text`` (``">= 100/week"`` -> ``"week"``), ``None`` when
    ``text`` holds no rate with a known unit.

    >>> rate_unit(">= 100/week"), rate_unit("<= 2h")
    ('week', None)
    """
    _, slash, unit = text.rpartition("/")
    unit = unit.strip()
    return unit if slash and unit in RATE_UNIT_SECONDS else None
