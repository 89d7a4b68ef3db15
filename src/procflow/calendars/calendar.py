"""A named working calendar: a time zone, weekly open hours and closed dates.

:class:`Calendar` is what ``calendars:`` in a process file declares
(docs/working-time.md). It answers working-time questions on aware
datetimes -- the runtime's due dates, check-log's "inside declared hours" --
and lays itself out as a :class:`~procflow.calendars.timeline.Timeline` in
seconds for the simulator.

Public holidays by country come from the ``holidays`` package (imported
only here), year by year as a query reaches them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from procflow.calendars.hours import Week, describe_week
from procflow.calendars.timeline import Timeline

DEFAULT_TIMEZONE = "UTC"


class TimezoneError(ValueError):
    """An unknown IANA time zone name."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Amsterdam``); :class:`TimezoneError` if unknown."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimezoneError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Amsterdam' or 'UTC'"
        ) from None


@functools.cache
def _zone(name: str) -> ZoneInfo:
    if not name or name != name.strip():
        raise ValueError(name)
    return ZoneInfo(name)


@functools.cache
def country_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (ISO 3166 code, optionally ``NL-ZH``) in ``year``."""
    import holidays

    code, _, subdivision = country.partition("-")
    found = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


def check_country(country: str) -> None:
    """Raise :class:`ValueError` naming the problem if ``holidays`` does not know ``country``."""
    import holidays

    code, _, subdivision = country.partition("-")
    try:
        holidays.country_holidays(code, subdiv=subdivision or None, years=2000)
    except NotImplementedError:
        known = holidays.list_supported_countries()
        if subdivision and code in known:  # the country is fine, its subdivision is not
            raise ValueError(
                f"country {code!r} has no subdivision {subdivision!r}: use one of "
                f"{', '.join(known[code])}"
            ) from None
        hint = "use an ISO 3166 code such as 'NL'"
        if code.upper() in known:
            hint = f"did you mean {country.upper()!r}? (codes are upper case)"
        raise ValueError(f"no public holidays known for country {code!r}: {hint}") from None
    except ValueError as exc:
        raise ValueError(f"country {country!r}: {exc}") from None


@dataclass(frozen=True)
class Calendar:
    """Open hours of a week in a time zone, with closed dates (holidays)."""

    week: Week
    timezone: str = DEFAULT_TIMEZONE
    holidays: frozenset[date] = field(default_factory=frozenset)
    country: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def closed_on(self, day: date) -> bool:
        """Whether ``day`` is a holiday (declared, or public in :attr:`country`)."""
        if day in self.holidays:
            return True
        return self.country is not None and day in country_holidays(self.country, day.year)

    def timeline(self, origin: datetime) -> Timeline:
        """This calendar's open intervals in seconds after ``origin``."""
        return Timeline(self.week, self.zone, origin, self.closed_on)

    def weekly_open_hours(self) -> float:
        """Open hours in a week without holidays (clock hours, ignoring DST)."""
        return sum(end - start for day in self.week for start, end, _ in day) / 60.0

    def on_duty_share(self) -> float:
        """The share of a week this calendar is open (holidays aside)."""
        return self.weekly_open_hours() / 168.0

    def closed_dates(self, year: int) -> frozenset[date]:
        """The holidays of ``year``: the declared dates in it and the country's public ones."""
        declared = frozenset(day for day in self.holidays if day.year == year)
        if self.country is None:
            return declared
        return declared | country_holidays(self.country, year)

    def holiday_factor(self, year: int, week: Week | None = None) -> float:
        """The share of ``year``'s open time its holidays leave open (1.0 without holidays).

        Open time is weighted by ``week`` (this calendar's hours by default; an
        arrival profile's rates for arrivals that skip this calendar's
        holidays): the weight of each local date of the year by its weekday,
        against the weight of the year's holiday dates. So Mon-Fri with ten
        weekday holidays in a year of 261 weekdays keeps 251/261 of its
        hours, and a holiday on a closed Sunday takes nothing. Clock hours,
        DST aside, as :meth:`weekly_open_hours`.
        """
        closed = self.closed_dates(year)
        if not closed:
            return 1.0
        pattern = self.week if week is None else week
        per_weekday = [sum((end - start) * weight for start, end, weight in day) for day in pattern]
        first = date(year, 1, 1).weekday()
        counts = [52] * 7  # 364 days; the year's one or two more start on its first weekday
        for extra in range((date(year + 1, 1, 1) - date(year, 1, 1)).days - 364):
            counts[(first + extra) % 7] += 1
        total = sum(count * weight for count, weight in zip(counts, per_weekday, strict=True))
        lost = sum(per_weekday[day.weekday()] for day in closed)
        return 1.0 - lost / total if total > 0.0 else 1.0

    def describe(self) -> str:
        """In words: ``Mon-Fri 09:00-17:00, Europe/Amsterdam``."""
        text = f"{describe_week(self.week)}, {self.timezone}"
        if self.country:
            text += f", {self.country} holidays closed"
        return text

    # -- working time on datetimes ---------------------------------------------------------

    def _around(self, moment: datetime) -> tuple[Timeline, float]:
        if moment.tzinfo is None:
            raise ValueError("a moment must be time-zone aware (give it an offset or a zone)")
        origin = moment.astimezone(UTC)
        return self.timeline(origin), 0.0

    def is_open(self, moment: datetime) -> bool:
        """Whether the calendar is open at ``moment``."""
        timeline, t = self._around(moment)
        return timeline.is_open(t)

    def next_open(self, moment: datetime) -> datetime | None:
        """The first open instant at or after ``moment`` (``None``: never again)."""
        timeline, t = self._around(moment)
        found = timeline.next_open(t)
        return None if found == float("inf") else timeline.instant(found)

    def add_working_time(self, moment: datetime, seconds: float) -> datetime | None:
        """When ``seconds`` of working time after ``moment`` are done (DST-correct)."""
        timeline, t = self._around(moment)
        found = timeline.add(t, seconds)
        return None if found == float("inf") else timeline.instant(found)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Open (on-duty) seconds between two instants."""
        timeline, _ = self._around(start)
        return timeline.between(0.0, timeline.seconds(end))

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals between two instants, clipped, as local datetimes."""
        timeline, _ = self._around(start)
        return [
            (timeline.instant(a), timeline.instant(b))
            for a, b in timeline.intervals(0.0, timeline.seconds(end))
        ]


def always_open(timezone: str = DEFAULT_TIMEZONE) -> Calendar:
    """A calendar open around the clock (an owner without a calendar)."""
    day = ((0, 1440, 1.0),)
    return Calendar((day,) * 7, timezone)


def dates(values: Iterable[date]) -> frozenset[date]:
    return frozenset(values)


def next_monday(timezone: str, now: datetime | None = None) -> datetime:
    """The next Monday 00:00 in ``timezone`` (today if it is Monday 00:00 exactly)."""
    tz = zone(timezone)
    local = (now or datetime.now(UTC)).astimezone(tz)
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)
    days = (7 - local.weekday()) % 7
    if days == 0 and local > midnight:
        days = 7
    return datetime.combine(local.date() + timedelta(days=days), datetime.min.time(), tzinfo=tz)


__all__ = [
    "DEFAULT_TIMEZONE",
    "Calendar",
    "TimezoneError",
    "always_open",
    "check_country",
    "country_holidays",
    "next_monday",
    "zone",
]
