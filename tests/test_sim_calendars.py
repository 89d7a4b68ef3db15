"""Simulation on working time: hand-computed cases, long-run invariants and statistics.

Every exact case runs the real event loop (:func:`run_replication`) on a
small process whose one arrival falls at a chosen instant (``every: X``
with the run starting ``X`` before it).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats as scipy_stats

from procflow.calendars import Timeline
from procflow.loader import parse_process, parse_yaml
from procflow.model import Process
from procflow.sim.engine import RunStats, run_replication
from procflow.sim.plan import Plan
from procflow.sim.results import run_kpis
from procflow.sim.sampling import ArrivalTimes
from procflow.sim.simulation import prepare
from procflow.sim.workingtime import Shifts, map_arrivals
from procflow.units import parse_duration

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0


def process_of(text: str) -> Process:
    process, problems = parse_process(parse_yaml(text, "t.yaml"))
    assert problems == [], problems
    assert process is not None
    return process


class Events:
    """An event sink keeping ``(case, step, owner, start, end)``."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        self.rows.append((case, step, owner, start, end))


def one_job(
    hours: str,
    arrival: datetime,
    work: str,
    *,
    extra: str = "",
    cases: int = 1,
    every: str = "1h",
    owner: str = "{capacity: 1, calendar: office}",
) -> tuple[RunStats, Events, Plan]:
    text = f"""
process: t
calendars:
  office:
    timezone: Europe/Amsterdam
    hours: {hours}
{extra}
owners:
  agent: {owner}
arrivals: {{every: {every}}}
start: a
steps:
  a: {{owner: agent, duration: {work}, next: b}}
  b: {{end: true}}
"""
    process = process_of(text)
    first = timedelta(seconds=parse_duration(every))
    plan = prepare(process, arrival - first)
    events = Events()
    stats = run_replication(plan, 0, 1, cases, 0, log=events)
    return stats, events, plan


def staff_events(events: Events, plan: Plan) -> list[tuple[datetime, datetime]]:
    working = plan.working
    assert working is not None
    origin = working.origin.astimezone(UTC)  # elapsed seconds: add them in UTC
    return [
        (
            (origin + timedelta(seconds=start)).astimezone(AMS),
            (origin + timedelta(seconds=end)).astimezone(AMS),
        )
        for _, step, _, start, end in events.rows
        if step == "a"
    ]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


def test_friday_afternoon_two_hours_finish_monday_ten() -> None:
    stats, events, plan = one_job('{mon-fri: "09:00-17:00"}', at(2027, 1, 8, 16), "2h")
    assert staff_events(events, plan) == [(at(2027, 1, 8, 16), at(2027, 1, 11, 10))]
    assert stats.cycle.mean == 66 * HOUR
    assert stats.wait.mean == 0.0


def test_arriving_at_night_waits_for_the_morning() -> None:
    stats, events, plan = one_job('{mon-fri: "09:00-17:00"}', at(2027, 1, 5, 20), "30m")
    assert staff_events(events, plan) == [(at(2027, 1, 6, 9), at(2027, 1, 6, 9, 30))]
    assert stats.wait.mean == 13 * HOUR
    assert stats.cycle.mean == 13.5 * HOUR


def test_an_external_owner_with_a_calendar_counts_only_its_open_hours() -> None:
    """A supplier working Mon-Fri 09-17 takes 2 h from Friday 16:00: Monday 10:00, and it
    has no queue: two cases at once both finish then."""
    stats, events, plan = one_job(
        '{mon-fri: "09:00-17:00"}',
        at(2027, 1, 8, 16),
        "2h",
        owner="{external: true, calendar: office}",
        cases=2,
        every="1s",
    )
    ends = [end for _, end in staff_events(events, plan)]
    assert ends == [at(2027, 1, 11, 10), at(2027, 1, 11, 10, 0) + timedelta(seconds=1)]
    assert stats.wait.mean == 0.0
    assert stats.on_duty == [0.0]


def test_a_job_spanning_the_lunch_break() -> None:
    _, events, plan = one_job('{mon-fri: "09:00-12:30, 13:30-17:00"}', at(2027, 1, 4, 12), "1h")
    assert staff_events(events, plan) == [(at(2027, 1, 4, 12), at(2027, 1, 4, 14))]


def test_a_holiday_closes_the_day() -> None:
    stats, events, plan = one_job(
        '{mon-fri: "09:00-17:00"}\n    holidays: [2027-01-11]', at(2027, 1, 8, 16), "2h"
    )
    assert staff_events(events, plan) == [(at(2027, 1, 8, 16), at(2027, 1, 12, 10))]
    assert stats.cycle.mean == 90 * HOUR


def test_dst_night_shift_is_an_hour_short() -> None:
    """22:00-06:00 on 27/28 March 2027 has 7 elapsed hours: 8 h of work end Sunday 23:00."""
    stats, events, plan = one_job('{mon-sun: "22:00-06:00"}', at(2027, 3, 27, 22), "8h")
    assert staff_events(events, plan) == [(at(2027, 3, 27, 22), at(2027, 3, 28, 23))]
    assert stats.cycle.mean == 24 * HOUR  # 21:00 UTC to 21:00 UTC


def test_shift_hand_over() -> None:
    """Early 06-14 and late 14-22, one unit each. Job 1 (3 h at 13:00) starts on the early
    unit, pauses at 14:00 and resumes on the same unit at 06:00 next day; job 2 (13:30)
    waits for the late unit, which starts it at 14:00."""
    extra = '  late: {timezone: Europe/Amsterdam, hours: {mon-sun: "14:00-22:00"}}'
    owner = "{shifts: [{calendar: office, capacity: 1}, {calendar: late, capacity: 1}]}"
    stats, events, plan = one_job(
        '{mon-sun: "06:00-14:00"}',
        at(2027, 1, 5, 13),
        "3h",
        extra=extra,
        owner=owner,
        cases=2,
        every="30m",
    )
    assert staff_events(events, plan) == [
        (at(2027, 1, 5, 13), at(2027, 1, 6, 8)),
        (at(2027, 1, 5, 14), at(2027, 1, 5, 17)),
    ]
    assert stats.wait.mean == 0.25 * HOUR


def test_capacity_of_a_shift_is_honoured() -> None:
    """Three jobs at 08:00 on two office units: the third starts when one is free."""
    _, events, plan = one_job(
        '{mon-fri: "09:00-17:00"}',
        at(2027, 1, 4, 8),
        "5h",
        owner="{capacity: 2, calendar: office}",
        cases=3,
        every="1s",
    )
    starts = sorted(staff_events(events, plan))
    assert [s for s, _ in starts] == [at(2027, 1, 4, 9)] * 2 + [at(2027, 1, 4, 14)]
    assert starts[2][1] == at(2027, 1, 5, 11)


LONG = """
process: long
calendars:
  office:
    timezone: Europe/Amsterdam
    hours: {mon-fri: "08:00-12:00, 12:45-17:00", sat: "10:00-13:00"}
    holidays: [2027-04-27]
  nights: {timezone: Europe/Amsterdam, hours: {sun-thu: "22:00-06:00"}}
owners:
  desk: {capacity: 2, calendar: office, cost_per_hour: 40}
  ops:
    cost_per_hour: 55
    shifts:
      - {calendar: office, capacity: 2}
      - {calendar: nights, capacity: 1}
  client: {external: true}
arrivals: {rate: 2/h}
start: intake
steps:
  intake: {owner: desk, duration: 20m, next: work}
  work:
    owner: ops
    duration: 45m
    on:
      done: {to: answer, p: 80%}
      redo: {to: intake, p: 20%, feedback: true, max: 2}
  answer: {owner: client, duration: exponential(1d), next: closed}
  closed: {end: true}
"""


def test_work_never_starts_or_runs_outside_on_duty_hours() -> None:
    process = process_of(LONG)
    plan = prepare(process, at(2027, 1, 4))
    working = plan.working
    assert working is not None
    office = working.owners["desk"][0][0].timeline(working.origin)
    nights = working.owners["ops"][1][0].timeline(working.origin)
    events = Events()
    run_replication(plan, 0, 3, 8_000, 0, log=events)
    checked = 0
    for _, step, _, start, end in events.rows:
        if step == "intake":
            assert office.is_open(start)
            assert office.between(start, end) == pytest.approx(20 * 60, abs=1e-6)
            checked += 1
        elif step == "work":
            ok = [
                line
                for line in (office, nights)
                if line.is_open(start) and line.between(start, end) == pytest.approx(2700, abs=1e-6)
            ]
            assert ok, (start, end)
            checked += 1
    assert checked > 16_000  # months of simulated time, DST changes and a holiday included
    assert events.rows[-1][4] > 150 * 24 * HOUR


def test_utilization_and_costs_reconcile_with_on_duty_hours() -> None:
    process = process_of(LONG)
    plan = prepare(process, at(2027, 1, 4))
    working = plan.working
    assert working is not None
    stats = run_replication(plan, 0, 5, 6_000, 600)
    office = working.owners["desk"][0][0].timeline(working.origin)
    nights = working.owners["ops"][1][0].timeline(working.origin)
    a, b = stats.window_start, stats.window_end
    desk, ops = plan.owners.index(plan.owners[0]), 1
    assert [o.id for o in plan.owners][:2] == ["desk", "ops"]
    assert stats.on_duty[desk] == pytest.approx(2 * office.between(a, b))
    assert stats.on_duty[ops] == pytest.approx(2 * office.between(a, b) + nights.between(a, b))
    assert stats.on_duty[2] == 0.0
    for index in (desk, ops):
        assert 0.0 < stats.busy[index] <= stats.on_duty[index]
    kpis = run_kpis(plan, stats)
    assert kpis["utilization:desk"] == pytest.approx(stats.busy[desk] / stats.on_duty[desk])
    throughput = kpis["throughput_per_hour"]
    assert throughput is not None
    staffing_per_hour = (40 * stats.on_duty[desk] + 55 * stats.on_duty[ops]) / (b - a)
    client_cost = 0.0  # the external client has no cost_per_hour
    assert kpis["cost_per_case"] == pytest.approx(staffing_per_hour / throughput + client_cost)
    visits = [stats.visits[i] for i in range(2)]
    busy_cost = (40 * 20 * 60 * visits[0] + 55 * 2700 * visits[1]) / 3600 / stats.counted
    assert kpis["busy_cost_per_case"] == pytest.approx(busy_cost)


PROFILE = """
process: profiled
calendars:
  office: {timezone: Europe/Amsterdam, hours: {mon-fri: "08:00-18:00"}}
arrivals:
  calendar: office
  profile:
    mon-fri 08:00-12:00: 12/h
    mon-fri 12:00-18:00: 6/h
    sat 10:00-14:00: 3/h
start: a
steps:
  a: {duration: 1m, next: b}
  b: {end: true}
"""


def test_hourly_arrivals_follow_the_profile() -> None:
    """A chi-square test of the hour-of-week histogram of 60,000 arrivals (p > 0.001)."""
    process = process_of(PROFILE)
    plan = prepare(process, at(2027, 1, 4))
    working = plan.working
    assert working is not None
    line = working.arrival_timeline()
    assert line is not None
    times = ArrivalTimes(0, 0, plan.interarrival, 60_000, lambda x: map_arrivals(line, x))
    arrivals = np.concatenate(list(times._blocks()))
    origin = working.origin.astimezone(UTC)
    hours = np.array(
        [
            (origin + timedelta(seconds=float(t))).astimezone(AMS).weekday() * 24
            + (origin + timedelta(seconds=float(t))).astimezone(AMS).hour
            for t in arrivals
        ]
    )
    observed = np.bincount(hours, minlength=168)
    rate = np.zeros(168)
    for day in range(5):
        rate[day * 24 + 8 : day * 24 + 12] = 12
        rate[day * 24 + 12 : day * 24 + 18] = 6
    rate[5 * 24 + 10 : 5 * 24 + 14] = 3
    assert observed[rate == 0].sum() == 0  # no arrival while the profile is closed
    expected = rate[rate > 0] / rate.sum() * observed.sum()
    _, p = scipy_stats.chisquare(observed[rate > 0], expected)
    assert p > 0.001
    # and the weekly total: 5 x (48 + 36) + 12 = 432 a week
    weeks = (arrivals[-1] - arrivals[0]) / (7 * 24 * HOUR)
    assert len(arrivals) / weeks == pytest.approx(432, rel=0.02)


def erlang_c_wait(arrival: float, service: float, servers: int) -> float:
    """Mean waiting time of M/M/c (Erlang C)."""
    a = arrival * service
    rho = a / servers
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / math.factorial(servers) / (1 - rho)
    return top / (terms + top) * service / (servers * (1 - rho))


def test_mmc_in_open_hours_is_mmc() -> None:
    """Staff work 8 h of 24 and cases arrive only while they work: measured in open time
    (the clock that stops while the office is closed), the queue is M/M/c."""
    text = """
process: mmc
calendars:
  day: {timezone: Europe/Amsterdam, hours: {mon-sun: "09:00-17:00"}}
owners:
  agent: {capacity: 2, calendar: day}
arrivals: {rate: 1.5/h, calendar: day}
start: a
steps:
  a: {owner: agent, duration: exponential(1h), next: b}
  b: {end: true}
"""
    plan = prepare(process_of(text), at(2027, 1, 4))
    working = plan.working
    assert working is not None
    line = working.owners["agent"][0][0].timeline(working.origin)
    sojourn: list[float] = []

    def observe(table: Any) -> None:
        for arrived, ended, _waited, code in table:
            if code >= 0:
                sojourn.append(line.between(arrived, ended))

    stats = run_replication(plan, 0, 11, 60_000, 2_000, observe=observe)
    expected = erlang_c_wait(1.5, 1.0, 2) + 1.0  # hours
    assert np.mean(sojourn) / HOUR == pytest.approx(expected, rel=0.05)
    kpis = run_kpis(plan, stats)
    assert kpis["utilization:agent"] == pytest.approx(0.75, rel=0.03)
    # elapsed time is longer: the nights are in it
    assert (kpis["cycle_time.mean"] or 0.0) > 1.5 * expected * HOUR


def test_a_process_without_calendars_has_no_working_time() -> None:
    text = "process: p\narrivals: {rate: 2/h}\nowners: {x: {}}\nstart: a\n"
    text += "steps:\n  a: {owner: x, duration: 5m, next: b}\n  b: {end: true}\n"
    assert prepare(process_of(text)).working is None
    assert prepare(process_of(text), at(2027, 1, 4)).working is None


def test_shifts_pool_answers_the_seam() -> None:
    origin = at(2027, 1, 4)
    from procflow.calendars import weekly_hours

    early = Timeline(weekly_hours({"mon-fri": "06:00-14:00"}), AMS, origin)
    late = Timeline(weekly_hours({"mon-fri": "14:00-22:00"}), AMS, origin)
    pool = Shifts([(early, 1), (late, 1)])
    pool.reserve(5)
    assert pool.next_free(0.0) == 6 * HOUR
    assert pool.take(13 * HOUR, 2 * HOUR) == (13 * HOUR, 30 * HOUR + 1 * HOUR)
    assert pool.next_free(13 * HOUR) == 14 * HOUR
    assert pool.take(13 * HOUR, HOUR) == (14 * HOUR, 15 * HOUR)
    assert pool.work_after(14 * HOUR) == pytest.approx(2 * HOUR)  # an hour left on each
    assert pool.on_duty(0.0, 24 * HOUR) == 16 * HOUR


def test_cost_per_step_adds_a_fixed_amount_per_step_done() -> None:
    text = """
process: fees
owners:
  agent: {capacity: 2, cost_per_hour: 30, cost_per_step: 5}
  courier: {external: true, cost_per_step: 12}
arrivals: {rate: 1/h}
start: a
steps:
  a: {owner: agent, duration: 30m, next: b}
  b: {owner: courier, duration: 1h, next: c}
  c: {end: true}
"""
    plan = prepare(process_of(text))
    stats = run_replication(plan, 0, 1, 2_000, 200)
    kpis = run_kpis(plan, stats)
    # per case: 0.5 h x 30 busy + 5 + 12 fixed
    assert kpis["busy_cost_per_case"] == pytest.approx(15 + 5 + 12)
    throughput = kpis["throughput_per_hour"]
    assert throughput is not None
    assert kpis["cost_per_case"] == pytest.approx(2 * 30 / throughput + 5 + 12)
