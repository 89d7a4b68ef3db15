"""Working time in the slow reference simulator, and the engines checked against it.

The reference (:mod:`procflow.sim.reference`, :mod:`procflow.sim.reference_time`) does
working time the obvious way -- explicit queues, units that come on and off duty, the work
of a visit walked through its unit's open intervals, arrivals mapped by walking the
arrival calendar -- independently of :mod:`procflow.sim.workingtime`. First both are held
to hand-computed cases (docs/working-time.md); then, on the same seed, the fast engine
(plain processes) and the token engine (forks) must write the same event log row for row
as the reference -- start and end to a microsecond; the two compute the same instants
along different float paths (cumulative sums against a walk), a few ulps apart -- and the
same statistics to float precision, on-duty time included.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from helpers import PROCESSES, ROOT
from procflow.loader import load, load_text
from procflow.sim.attributed import replication as replication_with_attributes
from procflow.sim.engine import RunStats, run_replication
from procflow.sim.plan import Plan
from procflow.sim.reference import run_reference
from procflow.sim.results import run_kpis
from procflow.sim.simulation import prepare
from procflow.sim.tokens import Replicate, replication, run_tokens
from procflow.sim.workingtime import start_of
from test_sim_engine import Rows

CALENDARS = ROOT / "tests" / "fixtures" / "calendars"
AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0
MICROSECOND = 1e-6


def _plan(path: Path, start: str) -> Plan:
    process = load(path)
    moment = start_of(process, start)
    assert moment is not None
    return prepare(process, moment)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _same_log(fast: Rows, slow: Rows) -> None:
    """Row for row: the same case, step and owner, start and end within a microsecond."""
    assert len(fast.rows) == len(slow.rows)
    for mine, theirs in zip(sorted(fast.rows), sorted(slow.rows), strict=True):
        assert mine[:3] == theirs[:3], (mine, theirs)
        assert abs(mine[3] - theirs[3]) < MICROSECOND, (mine, theirs)
        assert abs(mine[4] - theirs[4]) < MICROSECOND, (mine, theirs)


def _same_stats(fast: RunStats, slow: RunStats) -> None:
    assert fast.counted == slow.counted
    assert fast.rework == slow.rework
    assert fast.completed_in_window == slow.completed_in_window
    for name in ("window_start", "window_end", "makespan", "wip_area", "arrival_span"):
        assert _close(getattr(fast, name), getattr(slow, name)), name
    for name in ("cycle", "wait"):
        assert _close(getattr(fast, name).total, getattr(slow, name).total), name
        assert np.array_equal(getattr(fast, name).counts, getattr(slow, name).counts), name
    assert fast.visits == slow.visits
    for name in ("wait_sum", "service_sum", "busy", "on_duty"):
        mine, theirs = getattr(fast, name), getattr(slow, name)
        assert len(mine) == len(theirs) > 0, name
        assert all(_close(a, b) for a, b in zip(mine, theirs, strict=True)), name
    assert fast.step_time.keys() == slow.step_time.keys()
    for index, histogram in fast.step_time.items():
        assert np.array_equal(histogram.counts, slow.step_time[index].counts)


AGREEMENT = [
    ("lunch", "2027-01-04T00:00"),  # lunch breaks, a Saturday morning, a step-time goal
    ("night", "2027-01-04T00:00"),  # a night shift over midnight, day work queued for it
    ("shifts", "2027-01-04T00:00"),  # two shifts handing over with an overlap
    ("dst", "2027-03-22T00:00"),  # night shifts over spring forward ...
    ("dst", "2027-10-25T00:00"),  # ... and over fall back
    ("holidays", "2027-04-19T00:00"),  # King's Day, a closing day, Ascension; a profile
    ("holidays", "2027-12-13T00:00"),  # Christmas, New Year
    ("external", "2027-01-04T00:00"),  # a calendared supplier in New York between staff
    ("forks", "2027-01-04T00:00"),  # forks: shifts, a calendared supplier, a race of delays
    ("race", "2027-01-04T00:00"),  # a race withdrawing paused and not yet begun staff work
    ("race-shifts", "2027-01-04T00:00"),  # a race withdrawing work of an owner in two shifts
]


@pytest.mark.parametrize(("name", "start"), AGREEMENT, ids=[f"{n}-{s[:10]}" for n, s in AGREEMENT])
def test_the_engines_agree_with_the_reference_on_working_time(name: str, start: str) -> None:
    plan = _plan(CALENDARS / f"{name}.yaml", start)
    assert plan.working is not None
    engine = replication(plan)
    fast_log, slow_log = Rows(), Rows()
    fast = engine(plan, 1, 5, 1_200, 120, log=fast_log)
    slow = run_reference(plan, 1, 5, 1_200, 120, log=slow_log)
    assert len(fast_log.rows) > 2_000
    _same_log(fast_log, slow_log)
    _same_stats(fast, slow.stats)


@pytest.mark.parametrize("name", ["purchase-approval", "employee-onboarding"])
def test_the_calendared_examples_agree_with_the_reference(name: str) -> None:
    """Both examples on their calendars from a fixed start over Christmas and New Year
    (Dutch holidays); onboarding runs on tokens (a fork) with an IT desk in two shifts."""
    plan = _plan(PROCESSES / f"{name}.yaml", "2026-12-21T00:00")
    assert plan.working is not None
    fast_log, slow_log = Rows(), Rows()
    fast = replication(plan)(plan, 2, 11, 2_000, 200, log=fast_log)
    slow = run_reference(plan, 2, 11, 2_000, 200, log=slow_log)
    assert len(fast_log.rows) > 15_000
    _same_log(fast_log, slow_log)
    _same_stats(fast, slow.stats)
    # the KPIs on top: utilization over on-duty time, staffing and busy cost
    kpis = run_kpis(plan, fast)
    for key, value in run_kpis(plan, slow.stats).items():
        mine = kpis[key]
        assert (mine is None) == (value is None), key
        if value is not None and mine is not None:
            assert math.isclose(mine, value, rel_tol=1e-6, abs_tol=1e-9), key


@pytest.mark.parametrize("name", ["lunch", "external", "shifts"])
def test_tokens_make_the_fast_engines_run_on_working_time(name: str) -> None:
    """A plain process on the token engine is the fast engine's run, calendars and all (a
    calendared external delay is chained and drawn like any pure delay)."""
    plan = _plan(CALENDARS / f"{name}.yaml", "2027-01-04T00:00")
    fast_log, token_log = Rows(), Rows()
    fast = run_replication(plan, 0, 9, 1_000, 100, log=fast_log)
    tokens = run_tokens(plan, 0, 9, 1_000, 100, log=token_log)
    _same_log(fast_log, token_log)
    _same_stats(fast, tokens)


def test_a_race_against_an_owner_in_shifts_on_tokens() -> None:
    """A fixed bug: on working time the token engine committed work to the unit that could
    start first even while that unit was still busy, so one unit of a two-shift owner could
    hold two visits and ``join: first`` withdrawing the first of them found no unit whose
    work ended then (``Shifts.release``: ValueError). Work now waits in the queue until a
    unit is free and on duty, as in the reference (the fixture is also in AGREEMENT)."""
    plan = _plan(CALENDARS / "race-shifts.yaml", "2027-01-04T00:00")
    slow = run_reference(plan, 1, 5, 1_200, 120)
    assert slow.stats.counted == 1_080
    fast = run_tokens(plan, 1, 5, 1_200, 120)
    assert fast.counted == 1_080
    assert fast.cycle.mean == pytest.approx(slow.stats.cycle.mean, rel=1e-9)


# -- hand-computed cases: the reference and the engine against the clock ----------------------

HAND = """
process: hand
calendars:
  office:
    timezone: Europe/Amsterdam
    hours: {mon-fri: "09:00-12:30, 13:30-17:00"}
    country: NL
  nights: {timezone: Europe/Amsterdam, hours: {mon-sun: "22:00-06:00"}}
  early: {timezone: Europe/Amsterdam, hours: {mon-fri: "07:00-15:00"}}
  late: {timezone: Europe/Amsterdam, hours: {mon-fri: "14:00-22:00"}}
owners:
  clerk: {capacity: 1, calendar: OWNER}
  desk:
    shifts:
      - {calendar: early, capacity: 1}
      - {calendar: late, capacity: 1}
  it:
    shifts:
      - {calendar: early, capacity: 2}
      - {calendar: late, capacity: 1}
  supplier: {external: true, calendar: office}
arrivals: {every: EVERY}
start: work
steps:
  work: {owner: WHO, duration: WORK, next: done}
  done: {end: true}
"""


def _hand(
    who: str,
    work: str,
    first: datetime,
    every: str = "1h",
    owner: str = "office",
    cases: int = 1,
    engine: Replicate = run_replication,
) -> list[tuple[datetime, datetime]]:
    """The (start, end) of each case's ``work`` step, local time, by the reference and the
    engine (they must agree); the first case arrives at ``first``, then one every ``every``."""
    text = HAND.replace("OWNER", owner).replace("WHO", who).replace("WORK", work)
    process = load_text(text.replace("EVERY", every), "hand.yaml")
    gap = timedelta(seconds=float(every[:-1]) * {"m": 60, "h": 3600}[every[-1]])
    origin = (first - gap).astimezone(UTC)
    plan = prepare(process, origin)
    found: list[list[tuple[datetime, datetime]]] = []
    for simulate in (run_reference, engine):
        log = Rows()
        simulate(plan, 0, 1, cases, 0, log=log)
        found.append(
            [
                (
                    (origin + timedelta(seconds=row[3])).astimezone(AMS),
                    (origin + timedelta(seconds=row[4])).astimezone(AMS),
                )
                for row in sorted(log.rows, key=lambda r: (r[0], r[3]))
                if row[1] == "work"
            ]
        )
    reference, fast = found
    assert [(a.isoformat(), b.isoformat()) for a, b in fast] == [
        (a.isoformat(), b.isoformat()) for a, b in reference
    ]
    return reference


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


def test_friday_afternoon_work_ends_on_monday() -> None:
    """2 h of work arriving Friday 16:00 at an office open until 17:00: 1 h on Friday, 1 h
    from Monday 09:00 -- done Monday 10:00, 66 h after it arrived."""
    [(start, end)] = _hand("clerk", "2h", _at(2027, 1, 8, 16))
    assert (start, end) == (_at(2027, 1, 8, 16), _at(2027, 1, 11, 10))
    assert (end - start).total_seconds() == 66 * HOUR


def test_work_pauses_over_lunch() -> None:
    """1 h started at 12:00 with lunch 12:30-13:30: 30 min before, 30 min after, done 14:00."""
    assert _hand("clerk", "1h", _at(2027, 1, 6, 12)) == [(_at(2027, 1, 6, 12), _at(2027, 1, 6, 14))]


def test_a_public_holiday_closes_the_day() -> None:
    """King's Day (Tuesday 27 April 2027) is a Dutch public holiday: 2 h arriving Monday
    16:00 do 1 h on Monday and the rest on Wednesday from 09:00."""
    [(_, end)] = _hand("clerk", "2h", _at(2027, 4, 26, 16))
    assert end == _at(2027, 4, 28, 10)


def test_the_spring_forward_night_is_seven_hours() -> None:
    """8 h of night-shift work from Saturday 27 March 2027 22:00: the clocks go from 02:00
    to 03:00, so that shift ends at 06:00 after 7 h of work; the last hour is Sunday
    22:00-23:00."""
    [(start, end)] = _hand("clerk", "8h", _at(2027, 3, 27, 22), owner="nights")
    assert start == _at(2027, 3, 27, 22)
    assert end == _at(2027, 3, 28, 23)


def test_a_shift_hand_over_keeps_work_on_its_unit() -> None:
    """Desk: early 07:00-15:00 and late 14:00-22:00, one unit each. Case 1 (3 h) arrives
    13:00: the early unit works 13:00-15:00 and finishes next morning 07:00-08:00 -- on the
    same unit, not handed to the late shift. Case 2 (3 h) arrives 13:30: the early unit is
    busy and the late one is not on duty until 14:00, so it starts then and ends 17:00."""
    rows = _hand("desk", "3h", _at(2027, 1, 6, 13), every="30m", cases=2)
    assert rows == [
        (_at(2027, 1, 6, 13), _at(2027, 1, 7, 8)),
        (_at(2027, 1, 6, 14), _at(2027, 1, 6, 17)),
    ]


@pytest.mark.parametrize("engine", [run_replication, run_tokens], ids=["fast", "tokens"])
def test_a_second_unit_of_a_shift_takes_work_at_once(engine: Replicate) -> None:
    """IT: two units on the early shift (07:00-15:00), one on the late (14:00-22:00). Case 1
    (2 h) arrives 10:00, case 2 at 10:30: the second early unit takes it at once, 10:30-12:30.
    (The token engine held one early unit in memory and sent case 2 to wait for the first,
    12:00-14:00, while the other sat idle.)"""
    rows = _hand("it", "2h", _at(2027, 1, 6, 10), every="30m", cases=2, engine=engine)
    assert rows == [
        (_at(2027, 1, 6, 10), _at(2027, 1, 6, 12)),
        (_at(2027, 1, 6, 10, 30), _at(2027, 1, 6, 12, 30)),
    ]


def test_an_external_delay_counts_its_calendar() -> None:
    """A supplier working office hours, 4 h from Friday 15:00: 15:00-17:00, then Monday
    09:00-11:00 (no queue: the delay starts when the case arrives)."""
    [(start, end)] = _hand("supplier", "4h", _at(2027, 1, 8, 15))
    assert (start, end) == (_at(2027, 1, 8, 15), _at(2027, 1, 11, 11))


def test_on_duty_time_and_staffing_cost_are_every_unit_on_duty() -> None:
    """The reference's on-duty time is the units' open hours in the observation window,
    counted by hand; staffing cost pays exactly those hours and busy time stays within."""
    plan = _plan(CALENDARS / "shifts.yaml", "2027-01-04T00:00")
    slow = run_reference(plan, 0, 3, 300, 30).stats
    origin = plan.working.origin
    low = origin + timedelta(seconds=slow.window_start)
    high = origin + timedelta(seconds=slow.window_end)
    london = ZoneInfo("Europe/London")
    # by hand, minute by minute (the shifts change on whole minutes): desk units on duty
    seconds = 0.0
    moment = low
    while moment < high:
        local = moment.astimezone(london)
        hhmm = local.hour * 60 + local.minute
        early = local.weekday() < 6 and 7 * 60 <= hhmm < 15 * 60
        late = local.weekday() < 5 and 14 * 60 <= hhmm < 22 * 60
        whole = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        step = min(whole, high) - moment
        seconds += (3 * early + 1 * late) * step.total_seconds()
        moment += step
    ids = [owner.id for owner in plan.owners]
    desk, robot = ids.index("desk"), ids.index("robot")
    assert slow.on_duty[desk] == pytest.approx(seconds, rel=1e-9)
    assert slow.on_duty[robot] == pytest.approx(slow.horizon)  # no calendar: always on duty
    assert 0.0 < slow.busy[desk] <= slow.on_duty[desk]
    kpis = run_kpis(plan, slow)
    utilization = kpis["utilization:desk"]
    assert utilization == pytest.approx(slow.busy[desk] / slow.on_duty[desk])
    staffing_per_hour = (20 * slow.on_duty[desk] + 1 * slow.on_duty[robot]) / slow.horizon
    throughput = kpis["throughput_per_hour"]
    assert throughput is not None
    assert kpis["cost_per_case"] == pytest.approx(staffing_per_hour / throughput)


class Tiers(Rows):
    """Rows, and each case's tier (the attributes the engines hand the log)."""

    def __init__(self) -> None:
        super().__init__()
        self.tier: dict[int | str, str] = {}

    def set_case_attributes(self, case: int | str, values: dict[str, float | str]) -> None:
        self.tier[case] = str(values["tier"])


def _gold_overtaken(log: Tiers) -> list[int | str]:
    """Gold cases that were waiting when a standard case began: non-preemptive priority
    means a unit that comes free (or on duty) takes gold work first."""
    arrived = {row[0]: row[3] for row in log.rows if row[1] == "receive"}
    begun = {row[0]: row[3] for row in log.rows if row[1] == "handle"}
    standard = [begun[c] for c in begun if log.tier[c] == "standard"]
    return [
        case
        for case, start in begun.items()
        if log.tier[case] == "gold" and any(arrived[case] < s < start for s in standard)
    ]


def test_the_reference_serves_the_most_urgent_class_when_the_office_opens() -> None:
    """Requests arrive around the clock, gold before standard (docs/attributes.md); at 09:00
    the units that come on duty take the gold work that waited overnight first."""
    plan = _plan(CALENDARS / "priorities.yaml", "2027-01-04T00:00")
    log = Tiers()
    run_reference(plan, 0, 4, 600, 0, log=log)
    assert "gold" in log.tier.values()
    assert _gold_overtaken(log) == []
    opening = [row for row in log.rows if row[1] == "handle" and row[3] % 86_400 == 9 * 3600]
    assert opening  # work waited for the office to open (the run starts at local midnight)


def test_the_attributed_engine_serves_the_most_urgent_class_when_the_office_opens() -> None:
    """A fixed bug: on working time the attributed engine (like the token engine) gave work
    to a unit when it arrived if a unit was not committed, even while the unit was off duty
    -- the night's first arrivals took the morning's units first come first served, and gold
    work that arrived later waited behind standard work. Now it queues the work until a unit
    is on duty and then serves the most urgent class first: the reference's schedule."""
    plan = _plan(CALENDARS / "priorities.yaml", "2027-01-04T00:00")
    log, slow_log = Tiers(), Tiers()
    fast = replication_with_attributes(plan)(plan, 0, 4, 600, 0, log=log)
    assert _gold_overtaken(log) == []
    slow = run_reference(plan, 0, 4, 600, 0, log=slow_log)
    _same_log(log, slow_log)
    _same_stats(fast, slow.stats)
