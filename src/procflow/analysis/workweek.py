"""The analytic model's view of working time: weekly means and hour-of-week profiles.

The queueing formulas of :mod:`procflow.analysis` assume a steady state
around the clock. With calendars (docs/working-time.md) the model uses

* the **weekly mean arrival rate**: a ``rate`` with a ``calendar`` arrives
  only while it is open (rate x open share of the week); a ``profile``
  brings the sum of its rates over the week;
* the **effective capacity** of an owner: units x the share of the week
  their calendar is open, summed over shifts.

Both count holidays (declared dates and a ``country:``'s public holidays)
as a yearly average: a calendar's weekly share is scaled by the share of
the reference year's open time its holidays leave open
(:meth:`~procflow.calendars.Calendar.holiday_factor`), and arrivals on a
calendar skip its holidays as the simulator's do. The reference year
(:func:`holiday_year`) is the year of the earliest declared holiday date,
else :data:`REFERENCE_YEAR`: analyze has no run start, and a fixed year
keeps its figures the same on every day it runs.

Utilization is weekly load over effective capacity. Waits are then
approximate (docs/working-time.md#analysis): an owner is treated as an
M/M/c whose time stops while it is off duty -- exact when work arrives only
while it works (the test of :mod:`tests.test_sim_calendars`), optimistic
when work piles up overnight -- and its waits are in *working* time.

For PF504 the week is also cut into its 168 hours: arrivals per hour
(from the profile or the arrival calendar) against the units on duty, in
an ordinary week (no holiday). DST is left out of all these figures, and
the price of a unit per elapsed hour (:func:`on_duty_share`, for optimize
and levers) is that of an ordinary week too.
"""

from __future__ import annotations

from procflow.calendars import Calendar, Week
from procflow.model import Owner, Process

HOURS_OF_WEEK = 168
REFERENCE_YEAR = 2027
"""The year whose public holidays analyze averages when no calendar declares a date."""


def _calendar(process: Process, name: str | None) -> Calendar | None:
    spec = process.calendars.get(name) if name is not None else None
    return None if spec is None else spec.calendar


def holiday_year(process: Process) -> int:
    """The year over which analyze averages holidays: that of the earliest date any
    calendar declares (a file lists the closures of the year it plans), else
    :data:`REFERENCE_YEAR`. Declared dates of other years are not counted."""
    declared = [day for spec in process.calendars.values() for day in spec.holidays]
    return min(declared).year if declared else REFERENCE_YEAR


def _open_share(process: Process, calendar: Calendar) -> float:
    """The share of the week ``calendar`` is open, its holidays averaged over the year."""
    return calendar.on_duty_share() * calendar.holiday_factor(holiday_year(process))


def weekly_rate(process: Process, *, holidays: bool = True) -> float:
    """Mean arrivals per second over a week (see the module docstring); ``holidays=False``:
    over an ordinary week, without the arrival calendar's holidays."""
    arrivals = process.arrivals
    assert arrivals is not None
    calendar = _calendar(process, arrivals.calendar)
    year = holiday_year(process)
    if arrivals.profile_week is not None:
        if calendar is None or not holidays:
            return arrivals.rate_per_second
        return arrivals.rate_per_second * calendar.holiday_factor(year, arrivals.profile_week)
    if calendar is None:
        return arrivals.rate_per_second
    if not holidays:
        return arrivals.rate_per_second * calendar.on_duty_share()
    return arrivals.rate_per_second * _open_share(process, calendar)


def effective_capacity(process: Process, owner: Owner) -> float:
    """Units x on-duty share of the week (holidays averaged over the year), summed over
    the owner's shifts."""
    total = 0.0
    for name, units in owner.calendars:
        calendar = _calendar(process, name)
        total += units * (1.0 if calendar is None else _open_share(process, calendar))
    return total


def on_duty_share(process: Process, calendar: str | None) -> float:
    """The share of the week a unit on ``calendar`` is on duty (1 around the clock).

    What one unit of staff costs per elapsed hour, in units of its
    ``cost_per_hour`` (``optimize`` and ``levers`` price a unit by it).
    """
    found = _calendar(process, calendar)
    return 1.0 if found is None else found.on_duty_share()


def arrivals_on_duty(process: Process, calendar: str | None) -> float:
    """How much of a week's arriving work comes while ``calendar`` is open (mean arrivals
    per second summed over the hours of the week, each hour weighted by its open share):
    where a unit on that calendar meets the work (``optimize`` puts its floor there)."""
    hourly = hourly_arrivals(process)
    found = _calendar(process, calendar)
    shares = [1.0] * HOURS_OF_WEEK if found is None else _hourly(found.week)
    if hourly is None:
        return sum(shares)
    return sum(rate * share for rate, share in zip(hourly, shares, strict=True))


def shift_names(owner_id: str, owner: Owner) -> list[str]:
    """A name for each of ``owner``'s shifts: ``owner@calendar`` (``#2``... for a calendar
    named twice), as ``optimize`` and ``levers`` show a shift's capacity."""
    names: list[str] = []
    for shift in owner.shifts or ():
        name = f"{owner_id}@{shift.calendar}"
        base, counter = name, 2
        while name in names:
            name = f"{base}#{counter}"
            counter += 1
        names.append(name)
    return names


def keeps_hours(process: Process, owner: Owner) -> bool:
    """Whether ``owner`` works a declared calendar (not around the clock)."""
    return any(_calendar(process, name) is not None for name, _ in owner.calendars)


def _hourly(week: Week) -> list[float]:
    """A week of pieces as 168 hourly means of their weights."""
    hours = [0.0] * HOURS_OF_WEEK
    for day, pieces in enumerate(week):
        for start, end, weight in pieces:
            for hour in range(start // 60, (end + 59) // 60):
                overlap = min(end, (hour + 1) * 60) - max(start, hour * 60)
                if overlap > 0:
                    hours[day * 24 + hour] += weight * overlap / 60.0
    return hours


def hourly_arrivals(process: Process) -> list[float] | None:
    """Mean arrivals per second in each hour of the week (Monday 00-01 first), or ``None``
    when arrivals are the same at every hour."""
    arrivals = process.arrivals
    if arrivals is None:
        return None
    if arrivals.profile_week is not None:
        return _hourly(arrivals.profile_week)
    calendar = _calendar(process, arrivals.calendar)
    if calendar is None:
        return None
    rate = arrivals.rate_per_second
    return [rate * share for share in _hourly(calendar.week)]


def hourly_units(process: Process, owner: Owner) -> list[float]:
    """Mean units on duty in each hour of the week."""
    units_by_hour = [0.0] * HOURS_OF_WEEK
    for name, units in owner.calendars:
        calendar = _calendar(process, name)
        shares = [1.0] * HOURS_OF_WEEK if calendar is None else _hourly(calendar.week)
        for hour, share in enumerate(shares):
            units_by_hour[hour] += units * share
    return units_by_hour


__all__ = [
    "HOURS_OF_WEEK",
    "REFERENCE_YEAR",
    "arrivals_on_duty",
    "effective_capacity",
    "holiday_year",
    "hourly_arrivals",
    "hourly_units",
    "keeps_hours",
    "on_duty_share",
    "shift_names",
    "weekly_rate",
]
