"""Working calendars as Prosimos ``resource_calendars``, both ways (docs/bpmn.md#calendars).

A procflow calendar's weekly open hours become Prosimos time periods, one
per open piece of a day (``{"from": "MONDAY", "to": "MONDAY", "beginTime":
"09:00:00", "endTime": "12:30:00"}``); what Prosimos has no key for -- the
time zone, holidays, the country and the title -- is kept as extra keys of
the calendar entry, which Prosimos ignores and ``procflow import --params``
reads back. The arrival calendar is Prosimos's ``arrival_time_calendar``
plus an ``arrival_calendar`` key naming it.
"""

from __future__ import annotations

from typing import Any

from procflow.calendars import weekly_hours
from procflow.calendars.hours import DAYS, MINUTES_PER_DAY
from procflow.errors import ProcflowError
from procflow.model import Process

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
END_OF_DAY = "23:59:59.999999"
_EXTRAS = ("title", "timezone", "country")


def _clock(minutes: int) -> str:
    if minutes >= MINUTES_PER_DAY:
        return END_OF_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: Any, where: str) -> int:
    if text == END_OF_DAY or text == "24:00:00":
        return MINUTES_PER_DAY
    try:
        hours, minutes, seconds = str(text).split(":")
        total = int(hours) * 60 + int(minutes) + round(float(seconds) / 60)
    except ValueError:
        raise ProcflowError(f"{where}: time {text!r} is not HH:MM:SS") from None
    if not 0 <= total <= MINUTES_PER_DAY:
        raise ProcflowError(f"{where}: time {text!r} is outside the day")
    return total


def periods(hours: dict[str, str]) -> list[dict[str, str]]:
    """A calendar's ``hours:`` as Prosimos time periods, one per open piece of a day."""
    out = []
    for day, pieces in zip(WEEKDAYS, weekly_hours(hours), strict=True):
        for start, end, _weight in pieces:
            out.append({"from": day, "to": day, "beginTime": _clock(start), "endTime": _clock(end)})
    return out


def write_calendars(process: Process, always: list[dict[str, str]]) -> dict[str, Any]:
    """``resource_calendars`` (with ``always``), ``arrival_time_calendar`` and its name."""
    calendars: list[dict[str, Any]] = [{"id": "always", "name": "always", "time_periods": always}]
    for ident, spec in process.calendars.items():
        entry: dict[str, Any] = {
            "id": ident,
            "name": spec.title or ident,
            "time_periods": periods(spec.hours),
            "timezone": spec.timezone,
        }
        if spec.title:
            entry["title"] = spec.title
        if spec.country:
            entry["country"] = spec.country
        if spec.holidays:
            entry["holidays"] = [day.isoformat() for day in spec.holidays]
        calendars.append(entry)
    data: dict[str, Any] = {"resource_calendars": calendars, "arrival_time_calendar": always}
    arrival = process.arrivals.calendar if process.arrivals is not None else None
    if arrival is not None and arrival in process.calendars:
        data["arrival_time_calendar"] = periods(process.calendars[arrival].hours)
        data["arrival_calendar"] = arrival
    return data


def hours_of(time_periods: Any, where: str) -> dict[str, str]:
    """Prosimos time periods as ``hours:`` (days with the same hours share a key)."""
    if not isinstance(time_periods, list):
        raise ProcflowError(f"{where}: 'time_periods' must be a list")
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for index, period in enumerate(time_periods):
        here = f"{where}.time_periods[{index}]"
        if not isinstance(period, dict):
            raise ProcflowError(f"{here}: must be an object")
        first, last = str(period.get("from", "")).upper(), str(period.get("to", "")).upper()
        if first not in WEEKDAYS or last not in WEEKDAYS:
            raise ProcflowError(f"{here}: 'from' and 'to' must be days such as MONDAY")
        start = _minutes(period.get("beginTime"), here)
        end = _minutes(period.get("endTime"), here)
        begin = WEEKDAYS.index(first)
        span = (WEEKDAYS.index(last) - begin) % 7 + 1  # FRIDAY to MONDAY: over the weekend
        for number in (day % 7 for day in range(begin, begin + span)):
            if end > start:
                days[number].append((start, end))
            elif end < start:  # crosses midnight into the next day
                days[number].append((start, MINUTES_PER_DAY))
                days[(number + 1) % 7].append((0, end))
    by_text: dict[str, list[str]] = {}
    for name, ranges in zip(DAYS, days, strict=True):
        if ranges:
            text = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in sorted(ranges))
            by_text.setdefault(text, []).append(name)
    return {_days_key(found): text for text, found in by_text.items()}


def _days_key(days: list[str]) -> str:
    """``["mon", "tue", "wed"]`` -> ``"mon-wed"``; days that skip one stay listed."""
    numbers = [DAYS.index(day) for day in days]
    if len(days) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{days[0]}-{days[-1]}"
    return ",".join(days)


def read_calendars(data: dict[str, Any], name: str, params: Any) -> None:
    """Fill ``params`` with the calendars, which resource works which, and the arrivals'."""
    raw = data.get("resource_calendars", [])
    if not isinstance(raw, list):
        raise ProcflowError(f"{name}: 'resource_calendars' must be a list")
    always = {"mon-sun": "00:00-24:00"}
    for index, entry in enumerate(raw):
        where = f"{name}: resource_calendars[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ProcflowError(f"{where}: needs an 'id'")
        hours = hours_of(entry.get("time_periods"), where)
        if not hours:
            raise ProcflowError(f"{where}: no time period is open: a calendar that never opens")
        if hours == always and "timezone" not in entry:
            continue  # open around the clock: procflow's default, no calendar needed
        spec: dict[str, Any] = {k: entry[k] for k in _EXTRAS if isinstance(entry.get(k), str)}
        spec["hours"] = hours
        holidays = entry.get("holidays")
        if isinstance(holidays, list) and holidays:
            spec["holidays"] = [str(day) for day in holidays]
        params.calendars[entry["id"]] = spec
    for profile in data.get("resource_profiles") or []:
        for resource in profile.get("resource_list") or [] if isinstance(profile, dict) else []:
            calendar = resource.get("calendar") if isinstance(resource, dict) else None
            if isinstance(calendar, str) and calendar in params.calendars:
                params.resource_calendar[str(resource.get("id"))] = calendar
    arrival = data.get("arrival_calendar")
    if isinstance(arrival, str) and arrival in params.calendars:
        params.arrival_calendar = arrival
    elif data.get("arrival_time_calendar") is not None:  # Simod's: match it, else name it
        hours = hours_of(data["arrival_time_calendar"], f"{name}: arrival_time_calendar")
        if hours and hours != always:
            same = [k for k, spec in params.calendars.items() if spec["hours"] == hours]
            params.arrival_calendar = same[0] if same else "arrivals"
            if not same:
                params.calendars.setdefault("arrivals", {"hours": hours})


def arrival_interval(process: Process) -> float:
    """Mean seconds between arrivals as exported, where a profile keeps only its mean.

    A rate exported beside an arrival calendar counts the calendar's open
    time (as ``rate:`` with ``calendar:`` does), so a profile with an arrival
    calendar exports its weekly total over the calendar's open hours: the same
    cases a week, not the week's mean squeezed into the open hours.
    """
    arrivals = process.arrivals
    assert arrivals is not None
    mean = arrivals.mean_interarrival
    spec = process.calendars.get(arrivals.calendar) if arrivals.calendar is not None else None
    if arrivals.profile is not None and spec is not None:
        share = spec.calendar.on_duty_share()
        if share > 0.0:
            return mean * share
    return mean
