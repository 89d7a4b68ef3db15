"""The analytic model with calendars: weekly means, effective capacity, approximate waits."""

from __future__ import annotations

import pytest

from procflow import analyze, load_text
from procflow.analysis.workweek import effective_capacity, hourly_units, weekly_rate

TEXT = """
process: desk
calendars:
  day: {timezone: Europe/Amsterdam, hours: {mon-sun: "09:00-17:00"}}
  late: {timezone: Europe/Amsterdam, hours: {mon-fri: "17:00-21:00"}}
owners:
  agent: {capacity: 2, calendar: day, cost_per_hour: 30}
  back:
    cost_per_hour: 20
    shifts:
      - {calendar: day, capacity: 2}
      - {calendar: late, capacity: 1}
arrivals: {rate: 1.5/h, calendar: day}
start: a
steps:
  a: {owner: agent, duration: exponential(1h), next: b}
  b: {owner: back, duration: exponential(30m), next: c}
  c: {end: true}
"""


def test_weekly_rate_and_effective_capacity() -> None:
    process = load_text(TEXT)
    assert weekly_rate(process) * 3600 == pytest.approx(1.5 * 8 / 24)
    assert effective_capacity(process, process.owners["agent"]) == pytest.approx(2 * 56 / 168)
    back = effective_capacity(process, process.owners["back"])
    assert back == pytest.approx((2 * 56 + 20) / 168)
    units = hourly_units(process, process.owners["back"])
    assert units[9] == 2.0  # Monday 09-10
    assert units[17] == 1.0  # Monday 17-18: the late shift
    assert units[6 * 24 + 18] == 0.0  # Sunday 18-19


def test_utilization_waits_and_costs() -> None:
    analysis = analyze(load_text(TEXT))
    agent = analysis.owners["agent"]
    # arrivals 0.5/h over the week, 1 h each, against 2 units on duty a third of the week
    assert agent.utilization == pytest.approx(0.75)
    assert agent.capacity == 2
    # M/M/2 at load 1.5 while on duty: Wq = 1.2857 h (in working time), and approximate
    assert agent.wait_mean == pytest.approx(9 / 7 * 3600)
    assert not agent.exact
    assert analysis.loads["agent"].on_duty == pytest.approx(2 / 3)
    # staffing: 30 x 2/3 + 20 x (132/168) per hour, over 0.5 cases per hour
    expected = (30 * 2 / 3 + 20 * (132 / 168)) / 0.5
    assert analysis.cost_per_case == pytest.approx(expected)
    assert analysis.busy_cost_per_case == pytest.approx(30 * 1 + 20 * 0.5)


def test_a_process_without_calendars_is_unchanged() -> None:
    plain = TEXT.split("owners:")[0].split("calendars:")[0] + "owners:\n  agent: {capacity: 2}\n"
    plain += "  back: {capacity: 3}\narrivals: {rate: 1.5/h}\nstart: a\nsteps:\n"
    plain += "  a: {owner: agent, duration: exponential(1h), next: b}\n"
    plain += "  b: {owner: back, duration: exponential(30m), next: c}\n  c: {end: true}\n"
    analysis = analyze(load_text(plain))
    assert analysis.owners["agent"].utilization == pytest.approx(0.75)
    assert analysis.owners["agent"].exact
    assert analysis.loads["agent"].on_duty is None
