"""Working-time rules (PF504, PF505): calendars that are missing or do not match the work.

See docs/working-time.md. PF505 reads the declaration alone; PF504 reads
the analytic model (visits and mean durations per owner, ``ctx.analysis``)
and the hour-of-week profiles of :mod:`procflow.analysis.workweek`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from procflow.analysis import Analysis
from procflow.analysis.workweek import (
    HOURS_OF_WEEK,
    hourly_arrivals,
    hourly_units,
    keeps_hours,
    weekly_rate,
)
from procflow.calendars import Week, describe_week
from procflow.findings import Severity
from procflow.model import Process
from procflow.rules.base import LintContext, Violation, path_of_owner, rule
from procflow.units import format_number


def _names(process: Process) -> Iterable[tuple[str, tuple[str | int, ...], str]]:
    """Every calendar named, with where: ``(name, path, who)``."""
    for owner_id, owner in process.owners.items():
        if owner.calendar is not None:
            yield owner.calendar, ("owners", owner_id, "calendar"), f"owner {owner_id!r}"
        for index, shift in enumerate(owner.shifts or ()):
            path = ("owners", owner_id, "shifts", index, "calendar")
            yield shift.calendar, path, f"shift {index + 1} of owner {owner_id!r}"
    arrivals = process.arrivals
    if arrivals is not None and arrivals.calendar is not None:
        yield arrivals.calendar, ("arrivals", "calendar"), "arrivals"


@rule("PF505", "unknown-calendar", Severity.ERROR)
def unknown_calendar(ctx: LintContext) -> Iterable[Violation]:
    """An owner, a shift or the arrivals name a calendar that `calendars:` does not declare.

    ## What it does
    Checks every `calendar:` of owners, of their `shifts:` and of `arrivals:`
    against the ids under `calendars:`, and suggests the closest declared one.

    ## Why is this bad?
    The working hours are unknown: the process cannot be analyzed or
    simulated in working time, and a typo would silently make a team work
    around the clock.

    ## Example
    ```yaml
    calendars:
      office: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-17:00"}}
    owners:
      support-agent: {capacity: 5, calendar: ofice}
    ```

    ## Use instead
    ```yaml
    owners:
      support-agent: {capacity: 5, calendar: office}
    ```
    """
    declared = list(ctx.process.calendars)
    for name, path, who in _names(ctx.process):
        if name in ctx.process.calendars:
            continue
        close = difflib.get_close_matches(name, declared, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(repr(c) for c in declared) if declared else "none"
        yield Violation(
            f"{who} names calendar {name!r}, which is not declared under 'calendars:'"
            f"{hint}; declared: {known}",
            name,
            path,
            "value",
        )


def _hours(overloaded: list[int]) -> str:
    """Hours of the week (0 = Monday 00-01) in words: ``Mon-Fri 17:00-09:00; Sat 00:00-24:00``."""
    days: list[list[tuple[int, int, float]]] = [[] for _ in range(7)]
    for hour in sorted(overloaded):
        day, clock = divmod(hour, 24)
        pieces = days[day]
        if pieces and pieces[-1][1] == clock * 60:
            pieces[-1] = (pieces[-1][0], (clock + 1) * 60, 1.0)
        else:
            pieces.append((clock * 60, (clock + 1) * 60, 1.0))
    week: Week = tuple(tuple(day) for day in days)
    return describe_week(week)


@rule("PF504", "peak-overload", Severity.WARNING)
def peak_overload(ctx: LintContext) -> Iterable[Violation]:
    """In some hours of the week, arriving work exceeds the owner's units on duty.

    ## What it does
    Cuts the week into its 168 hours and compares, for each staffed owner,
    the work the arrivals of that hour bring (arrival rate in that hour --
    from the arrival `profile` or `calendar` -- × expected visits × mean
    duration of the owner's steps, in busy people) with the units on duty
    in that hour (from the owner's `calendar` or `shifts`). It names the
    hours where the work is more than the units can do. Owners overloaded
    over the whole week are PF501's.

    ## Why is this bad?
    Work that arrives while nobody (or too few people) are on duty waits for
    the next shift: cases arriving Friday evening wait the weekend, and a
    morning peak builds a queue the afternoon has to clear. The weekly
    average can look fine while cycle times grow by hours or days.

    ## Example
    ```yaml
    calendars:
      office: {hours: {mon-fri: "09:00-17:00"}}
    owners:
      agent: {capacity: 2, calendar: office}
    arrivals: {rate: 1/h}          # around the clock: nights and weekends too
    ```

    ## Use instead
    Say when work really arrives (an arrival `calendar` or `profile`), add a
    shift for the hours named, or accept the wait and set goals in elapsed time.
    ```yaml
    arrivals: {rate: 3/h, calendar: office}
    ```
    """
    analysis = ctx.analysis
    if not isinstance(analysis, Analysis):
        return
    process = ctx.process
    hourly = hourly_arrivals(process)
    if hourly is None and not any(keeps_hours(process, o) for o in process.owners.values()):
        return
    rate = weekly_rate(process)
    if not rate > 0.0:
        return
    for owner_id, load in analysis.loads.items():
        owner = process.owners[owner_id]
        if load.external or not load.stable or load.load <= 0.0:
            continue
        per_arrival = load.load / rate  # busy people per (case per second)
        units = hourly_units(process, owner)
        work = [per_arrival * (rate if hourly is None else hourly[h]) for h in range(HOURS_OF_WEEK)]
        over = [h for h in range(HOURS_OF_WEEK) if work[h] > units[h] + 1e-9]
        if not over:
            continue
        peak = max(over, key=lambda h: work[h] - units[h])
        yield Violation(
            f"owner {owner_id!r} gets more work than its units on duty can do in "
            f"{_hours(over)} ({process.timezone}): up to {format_number(work[peak], 3)} busy "
            f"people against {format_number(units[peak], 3)} on duty; that work waits for the "
            "next shift",
            owner_id,
            path_of_owner(owner_id),
        )
