"""Working time: calendars, shifts and arrival profiles (docs/working-time.md).

* :mod:`~procflow.calendars.hours` -- weekly hours and profiles as text -> pieces;
* :mod:`~procflow.calendars.timeline` -- a weekly pattern on a real clock, in
  seconds: next open instant, working time added to an instant, on-duty time;
* :mod:`~procflow.calendars.calendar` -- a named calendar (zone, hours,
  holidays) on aware datetimes.
"""

from __future__ import annotations

from procflow.calendars.calendar import (
    DEFAULT_TIMEZONE,
    Calendar,
    TimezoneError,
    always_open,
    check_country,
    next_monday,
    zone,
)
from procflow.calendars.hours import (
    DAYS,
    HoursError,
    Week,
    describe_week,
    hours_of,
    parse_days,
    parse_profile_key,
    parse_ranges,
    weekly_hours,
    weekly_profile,
)
from procflow.calendars.timeline import Timeline

__all__ = [
    "DAYS",
    "DEFAULT_TIMEZONE",
    "Calendar",
    "HoursError",
    "Timeline",
    "TimezoneError",
    "Week",
    "always_open",
    "check_country",
    "describe_week",
    "hours_of",
    "next_monday",
    "parse_days",
    "parse_profile_key",
    "parse_ranges",
    "weekly_hours",
    "weekly_profile",
    "zone",
]
