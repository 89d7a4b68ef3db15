"""Durations and rates: parsing, refusing unit-less numbers, formatting back."""

from __future__ import annotations

import math

import pytest

from procflow.units import (
    UnitError,
    format_duration,
    format_rate,
    parse_duration,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("6m", 360.0),
        ("6min", 360.0),
        ("1.5h", 5400.0),
        ("2d", 172800.0),
        (" 3 m ", 180.0),
        (".5h", 1800.0),
        ("0s", 0.0),
        ("1e1m", 600.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [5, 5.0, "5", "abc", "5 parsecs", "-3m", None, True, [1]])
def test_parse_duration_refuses(value: object) -> None:
    with pytest.raises(UnitError):
        parse_duration(value)


def test_unitless_number_says_which_units() -> None:
    with pytest.raises(UnitError, match=r"no unit: write 5s, 5m, 5h or 5d"):
        parse_duration(5)


def test_wrong_case_unit_suggests_lower_case() -> None:
    with pytest.raises(UnitError, match="did you mean 'm'") as info:
        parse_duration("6M")
    assert info.value.offset == 1


def test_parse_rate() -> None:
    assert parse_rate("12/h") == pytest.approx(12 / 3600)
    assert parse_rate("200 / d") == pytest.approx(200 / 86400)
    for bad in ("12", 12, "0/h", "-1/h", "12/hour", "x/h"):
        with pytest.raises(UnitError):
            parse_rate(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (90, "1.5m"), (360, "6m"), (5400, "1.5h"), (172800, "2d"), (0, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_format_duration_infinite_and_rate() -> None:
    assert format_duration(math.inf) == "inf"
    assert format_rate(12 / 3600) == "12/h"
