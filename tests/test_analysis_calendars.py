"""The analytic model with calendars: weekly means, effective capacity, approximate waits."""

from __future__ import annotations

import pytest

from procflow import analyze, load_text
from procflow.analysis.workweek import (
    REFERENCE_YEAR,
    effective_capacity,
    holiday_year,
    hourly_units,
    weekly_rate,
)

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


HOLIDAYS = """
process: holidays
calendars:
  office:
    timezone: Europe/Amsterdam
    hours: {mon-fri: "09:00-17:00"}
    holidays: [HOLIDAYS]
owners:
  agent: {capacity: 2, calendar: office, cost_per_hour: 30}
arrivals: {rate: 3/h, calendar: office}
start: a
steps:
  a: {owner: agent, duration: exponential(20m), next: b}
  b: {end: true}
"""

# ten weekdays of 2027 (Friday 1 January, then Mondays to Fridays) and a Sunday
TEN_WEEKDAYS = (
    "2027-01-01, 2027-03-01, 2027-03-02, 2027-03-03, 2027-03-04, 2027-03-05, "
    "2027-12-27, 2027-12-28, 2027-12-29, 2027-12-30"
)


def holidays(dates: str) -> str:
    return HOLIDAYS.replace("HOLIDAYS", dates)


def test_holidays_take_their_share_of_a_year_of_open_days() -> None:
    """2027 has 261 weekdays (53 Fridays): ten weekday holidays leave 251 of them open."""
    process = load_text(holidays(TEN_WEEKDAYS + ", 2027-01-03"))  # and a Sunday: closed anyway
    assert holiday_year(process) == 2027
    kept = 251 / 261
    assert effective_capacity(process, process.owners["agent"]) == pytest.approx(
        2 * 40 / 168 * kept, rel=1e-12
    )
    assert weekly_rate(process) * 3600 == pytest.approx(3 * 40 / 168 * kept, rel=1e-12)
    a = analyze(process)
    assert a.throughput_per_hour == pytest.approx(3 * 40 / 168 * kept)
    # staffing is paid while on duty: 2 units x 30 x (40 h of 168, holidays off)
    assert a.staffing_cost_per_hour == pytest.approx(2 * 30 * 40 / 168 * kept)


def test_dates_of_other_years_and_weekends_do_not_count() -> None:
    """Holidays are averaged over the year of the earliest declared date (2027 here)."""
    plain = load_text(holidays("2027-01-02, 2027-01-03"))  # a Saturday and a Sunday
    assert effective_capacity(plain, plain.owners["agent"]) == 2 * 40 / 168
    later = load_text(holidays("2027-01-01, 2028-01-03"))  # Monday 3 Jan 2028: another year
    assert effective_capacity(later, later.owners["agent"]) == pytest.approx(
        2 * 40 / 168 * 260 / 261
    )


def test_a_country_s_public_holidays_are_averaged_over_the_reference_year() -> None:
    """Without declared dates: REFERENCE_YEAR (2027). The Netherlands then closes on Fri 1 Jan,
    Fri 26 Mar, Mon 29 Mar, Tue 27 Apr, Thu 6 May, Mon 17 May (Christmas is a weekend, and
    5 May is a day off only every fifth year): 6 of 261 weekdays."""
    text = HOLIDAYS.replace("    holidays: [HOLIDAYS]\n", "    country: NL\n")
    process = load_text(text)
    assert holiday_year(process) == REFERENCE_YEAR == 2027
    assert effective_capacity(process, process.owners["agent"]) == pytest.approx(
        2 * 40 / 168 * 255 / 261
    )


def test_a_night_shift_loses_the_nights_that_start_on_a_holiday() -> None:
    """22:00-06:00 is cut at midnight: a holiday closes its own date's 00-06 and 22-24."""
    text = holidays("2027-01-01").replace('{mon-fri: "09:00-17:00"}', '{mon-sun: "22:00-06:00"}')
    process = load_text(text)
    # every date holds 8 open hours (00-06 after the night before, 22-24): 365 x 8 in 2027
    assert effective_capacity(process, process.owners["agent"]) == pytest.approx(
        2 * 56 / 168 * 364 / 365
    )


def test_a_profile_on_a_calendar_skips_its_holidays_by_weight() -> None:
    """Mondays bring 10 cases, other weekdays 5: a Monday holiday takes 10 of the year's."""
    text = holidays("2027-01-04").replace(
        "arrivals: {rate: 3/h, calendar: office}",
        "arrivals:\n  calendar: office\n"
        "  profile: {mon 09:00-11:00: 5/h, tue-fri 09:00-10:00: 5/h}",
    )
    process = load_text(text)
    year = 52 * 10 + 3 * 52 * 5 + 53 * 5  # 53 Fridays in 2027
    assert weekly_rate(process) * 3600 * 168 == pytest.approx(30 * (1 - 10 / year))
