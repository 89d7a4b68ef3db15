"""calendars:, shifts:, arrival profiles, /week and /month rates and p as % in process files."""

from __future__ import annotations

import pytest

from procflow.loader import parse_process, parse_yaml
from procflow.model import Process, json_schema
from procflow.units import parse_rate

BASE = """\
process: calendared
calendars:
  office:
    timezone: Europe/Amsterdam
    hours:
      mon-fri: "09:00-12:30, 13:30-17:00"
      sat: "10:00-14:00"
    holidays: [2027-01-01, 2027-12-25]
    country: NL
  nights: {{timezone: Europe/Amsterdam, hours: {{mon-sun: "22:00-06:00"}}}}
owners:
  agent: {{capacity: 5, calendar: office, cost_per_hour: 32}}
  nurses:
    shifts:
      - {{calendar: office, capacity: 6}}
      - {{calendar: nights, capacity: 2}}
  supplier: {{external: true, calendar: office}}
arrivals:
{arrivals}
start: a
steps:
  a:
    owner: agent
    duration: 10m
    on:
      x: {{to: b, p: 65%}}
      y: {{to: c, p: 35%}}
  b: {{owner: nurses, duration: 1h, next: c}}
  c: {{end: true}}
"""


def load(arrivals: str = "  rate: 8/h\n  calendar: office", text: str = BASE) -> Process:
    process, problems = parse_process(parse_yaml(text.format(arrivals=arrivals), "t.yaml"))
    assert problems == [], problems
    assert process is not None
    return process


def problems(text: str) -> list[str]:
    process, found = parse_process(parse_yaml(text, "t.yaml"))
    assert process is None
    return [f"{p.code} {p.position.line}:{p.position.column} {p.message}" for p in found]


def test_a_calendared_process_loads() -> None:
    process = load()
    office = process.calendars["office"]
    assert office.calendar.describe() == (
        "Mon-Fri 09:00-12:30, 13:30-17:00; Sat 10:00-14:00, Europe/Amsterdam, NL holidays closed"
    )
    assert process.timezone == "Europe/Amsterdam"
    assert process.owners["nurses"].calendars == (("office", 6), ("nights", 2))
    assert process.owners["nurses"].units == 8
    assert process.owners["agent"].calendars == (("office", 5),)
    assert process.uses_calendars
    a = process.steps["a"].transitions
    assert [t.p for t in a] == [0.65, 0.35]


def test_profile_arrivals() -> None:
    process = load('  profile:\n    "mon-fri 08:00-12:00": 12/h\n    "sat": 2/h')
    arrivals = process.arrivals
    assert arrivals is not None
    assert arrivals.profile_week is not None
    # a week brings 5 x 4 h x 12 + 24 h x 2 = 288 cases
    assert arrivals.mean_interarrival == pytest.approx(7 * 86400 / 288)


def test_rates_per_week_and_month() -> None:
    assert parse_rate("7/week") == pytest.approx(1 / 86400)
    assert parse_rate("12/month") == pytest.approx(12 / (365 * 86400 / 12))


def test_a_process_without_calendars_has_utc_and_none() -> None:
    text = "process: p\nstart: a\nsteps:\n  a: {end: true}\n"
    process, _ = parse_process(parse_yaml(text, "t.yaml"))
    assert process is not None
    assert process.timezone == "UTC"
    assert not process.uses_calendars


def test_bad_hour_range_is_pf002_at_the_value() -> None:
    text = BASE.format(arrivals="  rate: 8/h").replace('sat: "10:00-14:00"', 'sat: "10:00-25:00"')
    (found,) = problems(text)
    assert found.startswith("PF002 7:19 ")
    assert "'25:00'" in found
    assert "not a time of day" in found


def test_bad_day_is_pf002_at_the_key() -> None:
    text = BASE.format(arrivals="  rate: 8/h").replace("sat:", "sa:")
    (found,) = problems(text)
    assert found.startswith("PF002 7:7 ")
    assert "unknown day 'sa'" in found


def test_unknown_timezone_and_country() -> None:
    text = BASE.format(arrivals="  rate: 8/h").replace("Europe/Amsterdam\n", "Mars/Olympus\n", 1)
    (found,) = problems(text)
    assert "unknown time zone 'Mars/Olympus'" in found
    text = BASE.format(arrivals="  rate: 8/h").replace("country: NL", "country: XX")
    (found,) = problems(text)
    assert "no public holidays known for country 'XX'" in found


def test_calendar_and_shifts_together_are_refused() -> None:
    text = BASE.format(arrivals="  rate: 8/h").replace(
        "  nurses:\n", "  nurses:\n    calendar: office\n"
    )
    (found,) = problems(text)
    assert "either 'calendar'" in found


def test_profile_with_rate_and_overlaps_are_refused() -> None:
    both = BASE.format(arrivals='  rate: 8/h\n  profile: {"mon": 2/h}')
    assert "a 'profile' gives the rates itself" in problems(both)[0]
    overlap = BASE.format(arrivals='  profile: {"mon 08:00-12:00": 2/h, "mon-fri": 1/h}')
    assert "overlaps" in problems(overlap)[0]


def test_bad_percentage() -> None:
    text = BASE.format(arrivals="  rate: 8/h").replace("p: 65%", "p: sixty%")
    assert "is not a percentage" in problems(text)[0]


def test_schema_knows_the_new_keys() -> None:
    schema = json_schema()
    assert "calendars" in schema["properties"]
    defs = schema["$defs"]
    assert {"calendar", "shifts", "cost_per_step"} <= set(defs["Owner"]["properties"])
    assert {"calendar", "profile"} <= set(defs["Arrivals"]["properties"])
    assert set(defs["CalendarSpec"]["properties"]) == {
        "title",
        "timezone",
        "hours",
        "holidays",
        "country",
    }
