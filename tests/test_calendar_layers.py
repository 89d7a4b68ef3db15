"""Working time through the outer layers: diagrams, live cases, check-log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from procflow import Case, load_text
from procflow._render import diagram
from procflow._render.palette import Key
from procflow.cli import main
from procflow.eventlog.events import Event
from procflow.eventlog.workhours import working_hours

AMS = ZoneInfo("Europe/Amsterdam")

TEXT = """
process: desk
calendars:
  office: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-12:30, 13:30-17:00"}}
  nights: {timezone: Europe/Amsterdam, hours: {mon-sun: "22:00-06:00"}}
owners:
  agent: {capacity: 2, calendar: office}
  nurses:
    shifts:
      - {calendar: office, capacity: 6}
      - {calendar: nights, capacity: 2}
  customer: {external: true}
arrivals: {rate: 1/h, calendar: office}
start: a
steps:
  a: {owner: agent, duration: 2h, next: b}
  b: {owner: nurses, duration: 30m, next: c}
  c: {owner: customer, duration: 1d, next: d}
  d: {end: true}
"""


def test_lanes_show_their_calendar_in_words_and_the_legend_explains() -> None:
    drawn = diagram(load_text(TEXT))
    lanes = {lane.id: lane for lane in drawn.lanes}
    assert lanes["agent"].hours == "Mon-Fri 09:00-12:30, 13:30-17:00, Europe/Amsterdam"
    assert "Mon-Fri 09:00-12:30, 13:30-17:00, Europe/Amsterdam" in lanes["agent"].caption
    assert lanes["nurses"].hours == (
        "6 \u00d7 Mon-Fri 09:00-12:30, 13:30-17:00 + 2 \u00d7 Mon-Sun 22:00-06:00, Europe/Amsterdam"
    )
    assert "capacity 8" in lanes["nurses"].caption
    assert lanes["customer"].hours is None
    assert Key.HOURS in drawn.legend
    assert "while office is open" in drawn.subtitle


def test_a_process_without_calendars_has_no_hours_in_its_legend() -> None:
    plain = "process: p\nowners: {x: {}}\nstart: a\nsteps:\n  a: {owner: x, next: b}\n"
    drawn = diagram(load_text(plain + "  b: {end: true}\n"))
    assert Key.HOURS not in drawn.legend
    assert all(lane.hours is None for lane in drawn.lanes)


def test_case_due_counts_working_time() -> None:
    friday = datetime(2027, 1, 8, 16, tzinfo=AMS)
    case = Case(load_text(TEXT), "c1", clock=lambda: friday)
    # 2 h from Friday 16:00: 1 h Friday, 1 h Monday from 09:00
    assert case.due() == datetime(2027, 1, 11, 10, tzinfo=AMS)
    assert case.due(work=timedelta(hours=4)) == datetime(2027, 1, 11, 12, tzinfo=AMS)
    # over lunch: 4 h from Monday 09:00 are 3.5 h to 12:30 and 0.5 h from 13:30
    monday = datetime(2027, 1, 11, 9, tzinfo=AMS)
    assert case.due("a", start=monday, work=4 * 3600) == datetime(2027, 1, 11, 14, tzinfo=AMS)
    # shifts: the earliest of the nurses' calendars (the night shift from 22:00)
    assert case.due("b", start=datetime(2027, 1, 8, 21, tzinfo=AMS)) == datetime(
        2027, 1, 8, 22, 30, tzinfo=AMS
    )
    # an external owner works around the clock; an end step is never due
    assert case.due("c", start=friday) == friday + timedelta(days=1)
    assert case.due("d") is None


def _events(moments: list[tuple[str, datetime, datetime]]) -> list[Event]:
    return [
        Event(f"c{i}", activity, end.timestamp(), start.timestamp(), "r1")
        for i, (activity, start, end) in enumerate(moments)
    ]


def test_working_hours_counts_events_outside_the_declared_hours() -> None:
    process = load_text(TEXT)
    at = lambda d, h, m=0: datetime(2027, 1, d, h, m, tzinfo=AMS)  # noqa: E731
    events = _events(
        [
            ("a", at(11, 9), at(11, 11)),  # Monday, inside
            ("a", at(11, 15), at(11, 17)),  # ends exactly at closing: inside
            ("a", at(11, 12, 45), at(11, 13, 15)),  # starts in the lunch break: outside
            ("a", at(9, 10), at(9, 11)),  # Saturday: outside
            ("b", at(11, 23), at(11, 23, 30)),  # nurses' night shift: inside
            ("b", at(11, 19), at(11, 19, 30)),  # between the nurses' shifts: outside
        ]
    )
    found = working_hours(process, events)
    assert found is not None
    agent, nurses = found.owners["agent"], found.owners["nurses"]
    assert (agent.events, agent.outside) == (4, 2)
    assert (nurses.events, nurses.outside) == (2, 1)
    shares = found.weekday_shares()
    assert shares[0] == pytest.approx(5 / 6)
    assert shares[5] == pytest.approx(1 / 6)
    assert found.counts[0][11] == 1  # Monday 11:00-12:00 local: one completion


def test_check_log_reports_working_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process = tmp_path / "desk.yaml"
    process.write_text(TEXT, encoding="utf-8")
    log = tmp_path / "events.csv"
    log.write_text(
        "case,step,owner,start,end\n"
        "1,a,agent,2027-01-11T09:00:00+01:00,2027-01-11T11:00:00+01:00\n"
        "2,a,agent,2027-01-09T09:00:00+01:00,2027-01-09T11:00:00+01:00\n",
        encoding="utf-8",
    )
    assert main(["check-log", str(process), str(log), "--format", "json"]) == 0
    working = json.loads(capsys.readouterr().out)["working_hours"]
    assert working["timezone"] == "Europe/Amsterdam"
    assert working["owners"]["agent"]["outside"] == 1
    assert working["by_weekday"]["Sat"] == 0.5
    assert main(["check-log", str(process), str(log)]) == 0
    assert "fall outside its declared hours" in capsys.readouterr().out
