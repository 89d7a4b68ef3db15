"""The arrival arrow says when cases come, as the lanes say when owners work."""

from __future__ import annotations

from helpers import CUSTOMER_SERVICE, CUSTOMER_SERVICE_247
from procflow import load, load_text
from procflow._render import diagram, to_dot, to_mermaid

BASE = """
process: p
calendars:
  office: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-12:30, 13:30-17:00"}}
owners:
  agent: {capacity: 2, calendar: office}
ARRIVALS
start: a
steps:
  a: {owner: agent, duration: 20m, next: b}
  b: {end: true}
"""


def arrivals_of(arrivals: str) -> str | None:
    return diagram(load_text(BASE.replace("ARRIVALS", arrivals))).arrivals


def test_a_profile_shows_its_cases_a_week_and_its_hours() -> None:
    """customer-service: 3 × 11 + 4 × 3 × 9 + 5 × 5 × 7 = 316 tickets, weekdays 09-17."""
    drawn = diagram(load(CUSTOMER_SERVICE))
    assert drawn.arrivals == "316/week, Mon-Fri 09:00-17:00"
    assert "arrivals 316/week, Mon-Fri 09:00-17:00" in drawn.subtitle
    assert 'label="316/week, Mon-Fri 09:00-17:00"' in to_dot(drawn)
    assert "316/week, Mon-Fri 09:00-17:00" in to_mermaid(drawn)
    assert "weekly mean" not in to_dot(drawn)


def test_profile_hours_are_the_hours_it_brings_cases() -> None:
    # 2/h each night from 22:00 to 06:00: 7 × 8 × 2 = 112 a week, over midnight in one range
    night = arrivals_of("arrivals: {profile: {mon-sun 22:00-06:00: 2/h}}")
    assert night == "112/week, Mon-Sun 22:00-06:00"
    # neighbouring hours at different rates are one range of hours
    mixed = arrivals_of("arrivals: {profile: {mon-fri 08:00-10:00: 6/h, mon-fri 10:00-16:00: 3/h}}")
    assert mixed == "150/week, Mon-Fri 08:00-16:00"


def test_a_rate_on_a_calendar_shows_the_calendar_s_hours() -> None:
    shown = arrivals_of("arrivals: {rate: 3/h, calendar: office}")
    assert shown == "3/h while office is open (Mon-Fri 09:00-12:30, 13:30-17:00)"


def test_arrivals_around_the_clock_are_just_a_rate() -> None:
    assert diagram(load(CUSTOMER_SERVICE_247)).arrivals == "8/h"
    assert arrivals_of("arrivals: {rate: 3/h}") == "3/h"
