"""The token engine on working time: forks whose branches pause when their owners' calendars
close, computed by hand (docs/working-time.md, docs/parallel-work.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from procflow.loader import parse_process, parse_yaml
from procflow.model import Process
from procflow.sim.simulation import prepare
from procflow.sim.tokens import replication, run_tokens
from procflow.sim.workingtime import Shifts, working_time

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0


def process_of(text: str) -> Process:
    process, problems = parse_process(parse_yaml(text, "t.yaml"))
    assert problems == [], problems
    assert process is not None
    return process


FORK = """
process: t
calendars:
  office: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-17:00"}}
  supplier: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-17:00"}}
owners:
  it: {capacity: 1, calendar: office}
  hr: {capacity: 1, calendar: office}
  vendor: {external: true, calendar: supplier}
arrivals: {every: 1h}
start: approve
steps:
  approve: {owner: hr, duration: 30m, parallel: [it-setup, order-laptop]}
  it-setup: {owner: it, duration: 2h, next: ready}
  order-laptop: {owner: vendor, duration: 4h, next: ready}
  ready: {join: all, owner: hr, duration: 1h, next: done}
  done: {end: true}
"""


class Events:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        self.rows.append((step, start, end))


def test_a_fork_on_office_hours_pauses_each_branch_and_joins_on_the_slowest() -> None:
    """One case arrives Friday 15:00. approve 15:00-15:30; it-setup (2 h of work) 15:30-17:00
    and Monday 09:00-09:30; the vendor's 4 h of open time 15:30-17:00 and Monday 09:00-11:30;
    the join ready (1 h) 11:30-12:30 Monday: a cycle of 69.5 h."""
    process = process_of(FORK)
    arrival = datetime(2027, 1, 8, 15, 0, tzinfo=AMS)  # a Friday
    plan = prepare(process, arrival - timedelta(hours=1))
    assert plan.forks
    assert replication(plan) is run_tokens
    events = Events()
    stats = run_tokens(plan, 0, 1, 1, 0, log=events)
    origin = arrival - timedelta(hours=1)

    def at(seconds: float) -> datetime:
        return (origin + timedelta(seconds=seconds)).astimezone(AMS)

    rows = {step: (at(start), at(end)) for step, start, end in events.rows}
    monday = datetime(2027, 1, 11, tzinfo=AMS)
    assert rows["approve"] == (arrival, arrival + timedelta(minutes=30))
    assert rows["it-setup"][1] == monday + timedelta(hours=9, minutes=30)
    assert rows["order-laptop"][1] == monday + timedelta(hours=11, minutes=30)
    assert rows["ready"] == (
        monday + timedelta(hours=11, minutes=30),
        monday + timedelta(hours=12, minutes=30),
    )
    assert stats.cycle.n == 1
    assert stats.cycle.mean == pytest.approx(69.5 * HOUR)
    # service counts work, not the weekend: it-setup is 2 h of work spread over 66 h
    it_setup = plan.step_index("it-setup")
    assert stats.service_sum[it_setup] == pytest.approx(2 * HOUR)
    assert stats.on_duty  # utilization is busy over on-duty time


def test_arrivals_follow_the_arrival_calendar_on_tokens() -> None:
    """Arrivals while the office is open only, as on the fast engine: no case starts at night."""
    text = FORK.replace("arrivals: {every: 1h}", "arrivals: {rate: 2/h, calendar: office}")
    process = process_of(text)
    start = datetime(2027, 1, 4, tzinfo=AMS)  # a Monday 00:00
    plan = prepare(process, start)
    events = Events()
    run_tokens(plan, 0, 1, 200, 0, log=events)
    for step, begin, _ in events.rows:
        if step == "approve":
            moment = (start + timedelta(seconds=begin)).astimezone(AMS)
            assert moment.weekday() < 5, moment
            assert 9 <= moment.hour < 17, moment


SHIFTS = """
process: t
calendars:
  early: {timezone: Europe/Amsterdam, hours: {mon-fri: "07:00-15:00"}}
  late: {timezone: Europe/Amsterdam, hours: {mon-fri: "14:00-22:00"}}
owners:
  desk:
    shifts:
      - {calendar: early, capacity: 1}
      - {calendar: late, capacity: 1}
arrivals: {every: 1h}
start: work
steps:
  work: {owner: desk, duration: 1h, next: done}
  done: {end: true}
"""


def test_a_unit_of_a_shift_takes_work_only_while_free_and_on_duty() -> None:
    """What the token engine asks before it starts queued work (docs/working-time.md): a
    unit free *and* on duty now, else when a free unit next comes on duty -- never the
    early unit still busy with work paused overnight, though it could start first."""
    origin = datetime(2027, 1, 4, tzinfo=AMS)  # a Monday, local midnight
    working = working_time(process_of(SHIFTS), origin)
    assert working is not None
    pool = Shifts(
        [(calendar.timeline(origin), units) for calendar, units in working.owners["desk"]]
    )
    assert not pool.ready(6 * HOUR)
    assert pool.wake(6 * HOUR) == 7 * HOUR
    assert pool.take(7 * HOUR, 10 * HOUR) == (7 * HOUR, 33 * HOUR)  # 8h Monday, 2h Tuesday
    assert pool.ready(16 * HOUR)  # the late unit
    assert not pool.ready(23 * HOUR)
    assert pool.wake(23 * HOUR) == 38 * HOUR  # the late unit on Tuesday 14:00, not 09:00
    assert pool.ready(33 * HOUR)  # Tuesday 09:00: the early unit is free again
