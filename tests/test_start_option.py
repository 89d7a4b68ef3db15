"""``--start`` on every command that simulates (docs/working-time.md#start).

The desk below is closed Tuesday to Friday of the week of 4 January 2027
(holidays) while requests keep arriving on weekdays: a run starting on
4 January queues four days of work until Monday 11 January, one starting
on 11 January does not. So the start changes every figure by a lot, and
the same start must give the same figures.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import procflow
from helpers import run

HOLIDAY_WEEK = "2027-01-04T00:00"
NORMAL_WEEK = "2027-01-11T00:00"
AMS = ZoneInfo("Europe/Amsterdam")

DESK = """\
process: desk
calendars:
  office:
    timezone: Europe/Amsterdam
    hours: {mon-fri: "09:00-17:00"}
    holidays: [2027-01-05, 2027-01-06, 2027-01-07, 2027-01-08]
  open: {timezone: Europe/Amsterdam, hours: {mon-fri: "09:00-17:00"}}
owners:
  agent: {capacity: 2, calendar: office, cost_per_hour: 30}
arrivals: {rate: 4/h, calendar: open}
start: serve
steps:
  serve: {owner: agent, duration: exponential(20m), next: done}
  done: {end: true}
goals:
  - {id: quick, metric: cycle_time, target: "<= 100h"}
"""

FAST = ("--cases", "300", "--runs", "3", "--jobs", "1")


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(DESK)
    return path


def _json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, object]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code in (0, 1), err
    document: dict[str, object] = json.loads(out)
    return document


def test_levers_baseline_depends_on_the_start_and_only_on_it(
    capsys: pytest.CaptureFixture[str], desk: Path
) -> None:
    def baseline(start: str) -> float:
        document = _json(capsys, "levers", desk, *FAST, "--start", start)
        value = document["baseline"]
        assert isinstance(value, dict)
        return float(value["value"])

    holiday, normal = baseline(HOLIDAY_WEEK), baseline(NORMAL_WEEK)
    assert holiday > 10 * normal  # four closed days: work queues until Monday
    assert baseline(HOLIDAY_WEEK) == holiday
    api = procflow.levers(str(desk), cases=300, runs=3, jobs=1, start=HOLIDAY_WEEK)
    assert api.baseline == holiday


def test_optimize_staffs_the_holiday_week_differently(
    capsys: pytest.CaptureFixture[str], desk: Path
) -> None:
    def agents(start: str) -> int:
        document = _json(capsys, "optimize", desk, *FAST, "--start", start)
        staffing = document["staffing"]
        assert isinstance(staffing, list)
        return int(staffing[0]["after"])

    holiday, normal = agents(HOLIDAY_WEEK), agents(NORMAL_WEEK)
    assert holiday > normal  # the backlog of the closed days needs more hands
    moment = datetime(2027, 1, 4, tzinfo=AMS)
    api = procflow.optimize(str(desk), cases=300, runs=3, jobs=1, start=moment)
    assert api.staffing[0].after == holiday


def test_compare_runs_every_scenario_from_the_start_and_logs_it(
    capsys: pytest.CaptureFixture[str], desk: Path, tmp_path: Path
) -> None:
    change = tmp_path / "hire.yaml"
    change.write_text("change: hire\npatch: {owners: {agent: {capacity: 3}}}\n")
    log = tmp_path / "events.csv"
    args = ("compare", desk, "--change", change, *FAST, "--start", HOLIDAY_WEEK)
    document = _json(capsys, *args, "--log", log)
    baseline = document["baseline"]
    assert isinstance(baseline, dict)
    holiday = baseline["kpis"]["cycle_time"]["mean"]
    normal = _json(capsys, "compare", desk, "--change", change, *FAST, "--start", NORMAL_WEEK)
    assert isinstance(normal["baseline"], dict)
    assert holiday > 10 * normal["baseline"]["kpis"]["cycle_time"]["mean"]
    for name in ("events.baseline.csv", "events.hire.csv"):
        with open(tmp_path / name, newline="") as handle:
            starts = [datetime.fromisoformat(row["start"]) for row in csv.DictReader(handle)]
        first = min(starts)
        assert first.utcoffset() is not None  # ISO 8601 with the offset, from the start
        assert first.date().isoformat() == "2027-01-04"
        assert first.astimezone(AMS).hour == 9  # the desk opens at 09:00


def test_diff_simulate_and_report_take_the_start(
    capsys: pytest.CaptureFixture[str], desk: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(DESK.replace("capacity: 2", "capacity: 3"))

    def old_cycle(start: str) -> float:
        document = _json(capsys, "diff", desk, new, "--simulate", *FAST, "--start", start)
        simulation = document["simulation"]
        assert isinstance(simulation, dict)
        (row,) = [r for r in simulation["effects"] if r["kpi"] == "cycle_time.mean"]
        return float(row["old"])

    assert old_cycle(HOLIDAY_WEEK) > 10 * old_cycle(NORMAL_WEEK)
    pytest.importorskip("matplotlib")
    pages = {}
    for start in (HOLIDAY_WEEK, NORMAL_WEEK, HOLIDAY_WEEK):
        out = tmp_path / "report.html"
        code, _, err = run(capsys, "report", desk, "-o", out, *FAST, "--start", start)
        assert code == 0, err
        page = out.read_text()
        assert f"seed 0, starting {start};" in page
        body = page[page.index("<main>") :]
        assert pages.setdefault(start, body) == body  # the same start: the same figures
    assert pages[HOLIDAY_WEEK] != pages[NORMAL_WEEK]


def test_a_bad_start_exits_two_naming_the_option_value(
    capsys: pytest.CaptureFixture[str], desk: Path
) -> None:
    for command in (["levers"], ["optimize"], ["report", "-o", "-"]):
        code, _, err = run(capsys, *command, desk, "--start", "next tuesday")
        assert code == 2
        assert "'next tuesday' is not an ISO 8601 date and time" in err
