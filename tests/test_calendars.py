"""The working-time core against hand-computed instants (docs/working-time.md)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from procflow.calendars import (
    Calendar,
    HoursError,
    Timeline,
    describe_week,
    next_monday,
    parse_days,
    parse_ranges,
    weekly_hours,
    weekly_profile,
)

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0


def office(**extra: object) -> Calendar:
    return Calendar(weekly_hours({"mon-fri": "09:00-17:00"}), "Europe/Amsterdam", **extra)  # type: ignore[arg-type]


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=AMS)


def test_day_sets() -> None:
    assert parse_days("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_days("mon,wed") == (0, 2)
    assert parse_days("fri-mon") == (0, 4, 5, 6)
    assert parse_days("sun") == (6,)
    with pytest.raises(HoursError, match="unknown day 'funday'"):
        parse_days("funday")


def test_hour_ranges_and_their_errors() -> None:
    assert parse_ranges("09:00-12:30, 13:30-17:00") == ((540, 750), (810, 1020))
    assert parse_ranges("22:00-06:00") == ((1320, 360),)
    assert parse_ranges("00:00-24:00") == ((0, 1440),)
    for bad, offset in (("9-17", 0), ("09:00-25:00", 6), ("09:00-09:00", 0), ("09:61-10:00", 0)):
        with pytest.raises(HoursError) as info:
            parse_ranges(bad)
        assert info.value.offset == offset, bad
    with pytest.raises(HoursError, match="empty text: a closed day is left out of hours"):
        parse_ranges("  ")  # sat: "" -- meant as closed


def test_a_range_over_midnight_belongs_to_two_days() -> None:
    week = weekly_hours({"fri": "22:00-06:00"})
    assert week[4] == ((1320, 1440, 1.0),)
    assert week[5] == ((0, 360, 1.0),)
    assert describe_week(week) == "Fri 22:00-06:00"


def test_descriptions() -> None:
    week = weekly_hours({"mon-fri": "09:00-12:30, 13:30-17:00", "sat": "10:00-14:00"})
    assert describe_week(week) == "Mon-Fri 09:00-12:30, 13:30-17:00; Sat 10:00-14:00"
    assert office().describe() == "Mon-Fri 09:00-17:00, Europe/Amsterdam"
    assert describe_week(weekly_hours({"mon-sun": "22:00-06:00"})) == "Mon-Sun 22:00-06:00"


def test_friday_afternoon_job_finishes_monday_ten() -> None:
    """2 h of work arriving Friday 16:00 at Mon-Fri 09-17: 1 h Friday, 1 h Monday."""
    friday = at(2027, 1, 8, 16)
    assert friday.weekday() == 4
    done = office().add_working_time(friday, 2 * HOUR)
    assert done == at(2027, 1, 11, 10)
    assert done is not None
    assert (done - friday) == timedelta(hours=66)


def test_work_ending_at_closing_ends_at_closing() -> None:
    assert office().add_working_time(at(2027, 1, 8, 16), HOUR) == at(2027, 1, 8, 17)


def test_lunch_break() -> None:
    calendar = Calendar(weekly_hours({"mon-fri": "09:00-12:30, 13:30-17:00"}), "Europe/Amsterdam")
    # 1 h from 12:00: 30 min before lunch, 30 min after
    assert calendar.add_working_time(at(2027, 1, 4, 12), HOUR) == at(2027, 1, 4, 14)
    assert calendar.working_seconds(at(2027, 1, 4), at(2027, 1, 5)) == 7 * HOUR


def test_holiday_closes_its_whole_day() -> None:
    calendar = office(holidays=frozenset({date(2027, 1, 11)}))
    assert calendar.add_working_time(at(2027, 1, 8, 16), 2 * HOUR) == at(2027, 1, 12, 10)
    assert calendar.next_open(at(2027, 1, 9, 12)) == at(2027, 1, 12, 9)


def test_country_holidays() -> None:
    dutch = office(country="NL")
    # 2027-04-27 (Tuesday) is King's Day, 2027-01-01 New Year's Day (Friday)
    assert dutch.next_open(at(2027, 4, 26, 18)) == at(2027, 4, 28, 9)
    assert dutch.next_open(at(2026, 12, 31, 18)) == at(2027, 1, 4, 9)
    assert office().next_open(at(2026, 12, 31, 18)) == at(2027, 1, 1, 9)


def test_dst_spring_forward_shortens_a_night_shift() -> None:
    """Amsterdam skips 02:00-03:00 on 2027-03-28: the night shift has 7 elapsed hours."""
    nights = Calendar(weekly_hours({"mon-sun": "22:00-06:00"}), "Europe/Amsterdam")
    assert nights.working_seconds(at(2027, 3, 27, 12), at(2027, 3, 28, 12)) == 7 * HOUR
    assert nights.working_seconds(at(2027, 3, 20, 12), at(2027, 3, 21, 12)) == 8 * HOUR
    # autumn: 2027-10-31 repeats 02:00-03:00, 9 elapsed hours
    assert nights.working_seconds(at(2027, 10, 30, 12), at(2027, 10, 31, 12)) == 9 * HOUR
    # 7 h of work from Saturday 22:00 end at Sunday 06:00 local
    assert nights.add_working_time(at(2027, 3, 27, 22), 7 * HOUR) == at(2027, 3, 28, 6)


def test_dst_keeps_office_hours_local() -> None:
    """Across the change, opening is 09:00 local: 167 elapsed hours from Friday 17:00 ..."""
    friday, monday = at(2027, 3, 26, 17), at(2027, 3, 29, 9)
    timeline = office().timeline(friday)
    assert timeline.next_open(0.0) == timeline.seconds(monday)
    assert timeline.seconds(monday) == (64 - 1) * HOUR


def test_timeline_queries() -> None:
    origin = at(2027, 1, 4)  # a Monday 00:00
    line = office().timeline(origin)
    assert line.next_open(0.0) == 9 * HOUR
    assert line.next_open(10 * HOUR) == 10 * HOUR
    assert line.next_open(17 * HOUR) == 33 * HOUR  # closing is [start, end): reopens Tuesday
    assert line.is_open(9 * HOUR)
    assert not line.is_open(17 * HOUR)
    assert line.measure(24 * 7 * HOUR) == 40 * HOUR
    assert line.between(12 * HOUR, 34 * HOUR) == 6 * HOUR
    assert line.add(8 * HOUR, 9 * HOUR) == 34 * HOUR
    assert line.at_measure(8 * HOUR) == 17 * HOUR
    assert line.intervals(16 * HOUR, 34 * HOUR) == [(16 * HOUR, 17 * HOUR), (33 * HOUR, 34 * HOUR)]
    # a year later the sum still adds up: 52 weeks of 40 h
    assert line.measure(364 * 24 * HOUR) == 52 * 40 * HOUR


def test_origin_inside_an_open_interval() -> None:
    line = office().timeline(at(2027, 1, 4, 12))
    assert line.next_open(0.0) == 0.0
    assert line.add(0.0, 5 * HOUR) == 5 * HOUR
    assert line.add(0.0, 6 * HOUR) == 22 * HOUR


def test_never_open_is_infinite() -> None:
    line = Timeline(((),) * 7, AMS, at(2027, 1, 4))
    assert line.next_open(0.0) == math.inf
    assert line.add(0.0, 1.0) == math.inf
    everything_closed = office(
        holidays=frozenset(date(2027, 1, 4) + timedelta(d) for d in range(5))
    )
    assert everything_closed.next_open(at(2027, 1, 4)) == at(2027, 1, 11, 9)


def test_profile_weights_the_clock() -> None:
    week = weekly_profile({"mon-fri 08:00-12:00": 12 / HOUR, "sat": 2 / HOUR})
    line = Timeline(week, AMS, at(2027, 1, 4))
    assert line.measure(24 * HOUR) == pytest.approx(48.0)
    assert line.measure(7 * 24 * HOUR) == pytest.approx(5 * 48.0 + 48.0)
    assert line.at_measure(6.0) == pytest.approx(8.5 * HOUR)
    with pytest.raises(HoursError, match="overlaps"):
        weekly_profile({"mon 08:00-12:00": 1.0, "mon-fri 11:00-13:00": 2.0})


def test_next_monday() -> None:
    wednesday = datetime(2027, 1, 6, 15, tzinfo=UTC)
    assert next_monday("Europe/Amsterdam", wednesday) == at(2027, 1, 11)
    monday_midnight = at(2027, 1, 11)
    assert next_monday("Europe/Amsterdam", monday_midnight) == monday_midnight


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        office().is_open(datetime(2027, 1, 4, 10))
