"""Working-time rules (PF504, PF505): calendars that are missing or do not match the work.

See docs/working-time.md. PF505 reads the declaration alone; PF504 reads
the analytic model (mean durations and loads per step, ``ctx.analysis``),
the routing of the compiled process (which work a case brings with it on
arrival) and the hour-of-week profiles of :mod:`procflow.analysis.workweek`.
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
from procflow.compiled import CompiledProcess, StepKind
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


def _first_hands(compiled: CompiledProcess, analysis: Analysis, owner: str) -> list[int]:
    """The steps of ``owner`` a case reaches from its arrival without being handed over.

    Walks from the start step through ``owner``'s own steps and through steps
    that take no time (a ``0s`` step with no staff owner, such as a routing
    step or a fork); a step of another staff owner, a delay that takes time
    or an end stops the walk.
    """
    kinds = compiled.kind

    def passes(u: int) -> bool:
        if kinds[u] == StepKind.STAFF:
            return compiled.owner[u] == owner
        if kinds[u] == StepKind.END:
            return False
        service = analysis.step_service(compiled.steps[u])
        return service is not None and not (service[0] or 0.0) > 0.0

    seen: set[int] = set()
    todo = [compiled.start] if passes(compiled.start) else []
    while todo:
        u = todo.pop()
        if u in seen:
            continue
        seen.add(u)
        todo.extend(e.target for e in compiled.outgoing[u] if e.target >= 0 and passes(e.target))
    return sorted(seen)


def arriving_work(compiled: CompiledProcess, analysis: Analysis, owner: str) -> float:
    """Seconds of ``owner``'s work a case brings at the moment it arrives (0 for most owners).

    The expected visits of the steps :func:`_first_hands` finds, with the
    routing probabilities among them (the transitions that leave the walk end
    it), each step's work capped at its share of the owner's weekly load (a
    ``max:`` bound the walk does not unroll can only lower it), times its
    mean duration. Work after a handover arrives when the steps before it
    finish -- in the hours and behind the queues of their owners -- so it is
    not counted in the hour the case arrives.
    """
    steps = _first_hands(compiled, analysis, owner)
    if not any(compiled.kind[u] == StepKind.STAFF for u in steps):
        return 0.0
    import numpy as np  # here: lint of a process without working time never needs numpy

    where = {u: i for i, u in enumerate(steps)}
    routing = np.zeros((len(steps), len(steps)))
    probability = compiled.probability
    for u in steps:
        for edge in compiled.outgoing[u]:
            if edge.target in where:
                routing[where[u], where[edge.target]] += probability[edge.number]
    entry = np.zeros(len(steps))
    entry[where[compiled.start]] = 1.0
    try:
        visits = np.linalg.solve(np.eye(len(steps)) - routing.T, entry)
    except np.linalg.LinAlgError:  # a loop the walk cannot leave: count all of the owner's work
        visits = np.full(len(steps), np.inf)
    weekly = {share.step: share.load for share in analysis.loads[owner].top_steps}
    rate = analysis.arrival_rate_per_hour / 3600.0
    work = 0.0
    for u, visit in zip(steps, visits, strict=True):
        step_id = compiled.steps[u]
        if compiled.kind[u] != StepKind.STAFF or step_id not in weekly:
            continue
        service = analysis.step_service(step_id)
        mean = service[0] if service is not None and service[0] is not None else 0.0
        work += min(float(visit) * mean, weekly[step_id] / rate)
    return work


@rule("PF504", "peak-overload", Severity.WARNING)
def peak_overload(ctx: LintContext) -> Iterable[Violation]:
    """In some hours of the week, arriving work exceeds the owner's units on duty.

    ## What it does
    Cuts the week into its 168 hours and compares, for each staffed owner,
    the work the arrivals of that hour bring it (arrival rate in that hour --
    from the arrival `profile` or `calendar` -- × the work a case brings on
    arrival, in busy people) with the units on duty in that hour (from the
    owner's `calendar` or `shifts`). It names the hours where the work is more
    than the units can do. Owners overloaded over the whole week are PF501's.

    The work a case brings on arrival is that of its first hands: the steps
    of the owner it starts with (walking through `0s` routing steps and
    forks), up to the first handover to another owner, a delay or an end --
    their expected visits there × mean duration. Work after a handover (a
    second team, or the first team again after a customer's reply) arrives
    when the steps before it finish, in their owners' hours and behind their
    queues, not in the arrival hour; this rule does not check it hour by
    hour (its weekly balance is PF501's and PF502's).

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
    process = ctx.process
    hourly = hourly_arrivals(process)
    if hourly is None and not any(keeps_hours(process, o) for o in process.owners.values()):
        return  # around the clock: no hour is busier than the week (and no model needed)
    analysis = ctx.analysis
    if not isinstance(analysis, Analysis):
        return
    rate = weekly_rate(process)
    if not rate > 0.0:
        return
    for owner_id, load in analysis.loads.items():
        owner = process.owners[owner_id]
        if load.external or not load.stable or load.load <= 0.0:
            continue
        per_arrival = arriving_work(ctx.compiled, analysis, owner_id)  # busy people per case/s
        if not per_arrival > 0.0:
            continue
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
