"""``optimize`` and ``levers`` on an owner with shifts (docs/optimize.md#shifts).

The hotline's calls come only during the day shift (08-18, every day), at
10/h, and take exponential(30m): while the day shift works it is an M/M/c
with an offered load of 5 (the M/M/c whose staff work part of the day while
the work arrives is the M/M/c during open hours, docs/working-time.md).
Erlang C gives a mean wait of 17.7 minutes with 6 agents and 4.9 with 7,
so the goal "wait <= 10m" needs exactly 7 on the day shift. Nothing arrives
at night: the night shift (18-08) keeps its least, one unit (a shift has at
least one). Its cost is by on-duty hours: 7 x 30 x 70/168 + 1 x 30 x 98/168
= 87.5 + 17.5 = 105 per elapsed hour.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import procflow
from helpers import run

START = "2027-01-04T00:00"

HOTLINE = """\
process: hotline
calendars:
  day: {timezone: Europe/Amsterdam, hours: {mon-sun: "08:00-18:00"}}
  night: {timezone: Europe/Amsterdam, hours: {mon-sun: "18:00-08:00"}}
owners:
  agent:
    cost_per_hour: 30
    shifts:
      - {calendar: day, capacity: 3}
      - {calendar: night, capacity: 3}
arrivals: {rate: 10/h, calendar: day}
start: answer
steps:
  answer: {owner: agent, duration: exponential(30m), next: done}
  done: {end: true}
goals:
  - {id: short-wait, metric: wait_time, target: "<= 10m"}
"""


def erlang_c_wait_minutes(servers: int, load: float, service_minutes: float) -> float:
    """Mean wait in an M/M/c queue (Erlang C), in minutes."""
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    bottom = sum(load**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom * service_minutes / (servers - load)


@pytest.fixture
def hotline(tmp_path: Path) -> Path:
    path = tmp_path / "hotline.yaml"
    path.write_text(HOTLINE)
    return path


def test_the_hand_computed_answer_of_erlang_c() -> None:
    assert erlang_c_wait_minutes(6, 5.0, 30.0) == pytest.approx(17.7, abs=0.1)
    assert erlang_c_wait_minutes(7, 5.0, 30.0) == pytest.approx(4.9, abs=0.1)


def test_optimize_staffs_each_shift_and_prices_its_on_duty_hours(hotline: Path) -> None:
    found = procflow.optimize(str(hotline), cases=2_000, runs=5, jobs=1, start=START)
    assert found.feasible
    rows = {row.name: row for row in found.staffing}
    assert list(rows) == ["agent@day", "agent@night"]
    assert (rows["agent@day"].before, rows["agent@day"].after) == (3, 7)
    assert (rows["agent@night"].before, rows["agent@night"].after) == (3, 1)
    assert rows["agent@day"].on_duty_share == pytest.approx(70 / 168)
    assert rows["agent@night"].on_duty_share == pytest.approx(98 / 168)
    assert found.cost_before == pytest.approx(3 * 30 * 70 / 168 + 3 * 30 * 98 / 168)  # 90
    assert found.cost_after == pytest.approx(105.0)
    assert found.change()["patch"] == {
        "owners": {
            "agent": {
                "shifts": [{"calendar": "day", "capacity": 7}, {"calendar": "night", "capacity": 1}]
            }
        }
    }


def test_the_change_file_runs_in_compare_and_costs_what_optimize_said(
    capsys: pytest.CaptureFixture[str], hotline: Path, tmp_path: Path
) -> None:
    change = tmp_path / "staff.yaml"
    code, out, err = run(capsys, "optimize", hotline, "--start", START, "--jobs", "1", "-o", change)
    assert code == 0, err
    assert "agent@day" in out
    assert "on duty h/week" in out
    assert (
        '"agent": {shifts: [{calendar: "day", capacity: 7}, {calendar: "night", capacity: 1}]}'
        in (change.read_text())
    )
    code, out, err = run(
        capsys, "compare", hotline, "--change", change, "--start", START,
        "--cases", "5000", "--runs", "5", "--seed", "3", "--jobs", "1", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    staffed = document["changes"][0]["result"]
    kpis = staffed["kpis"]
    # staffing cost per case = staffing cost per hour over throughput per hour
    assert kpis["cost_per_case"]["mean"] == pytest.approx(
        105.0 / kpis["throughput_per_hour"]["mean"], rel=0.02
    )
    wait = staffed["goals"][0]
    assert wait["verdict"] == "met"  # an independent confirmation, another seed


def test_json_names_each_shift(capsys: pytest.CaptureFixture[str], hotline: Path) -> None:
    code, out, err = run(
        capsys, "optimize", hotline, "--start", START, "--jobs", "1", "--format", "json"
    )
    assert code == 0, err
    rows = json.loads(out)["staffing"]
    assert [(r["owner"], r["shift"], r["calendar"], r["after"]) for r in rows] == [
        ("agent", 0, "day", 7),
        ("agent", 1, "night", 1),
    ]
    assert json.loads(out)["cost_per_hour_after"] == pytest.approx(105.0)


def test_levers_add_one_unit_per_shift(hotline: Path) -> None:
    ranking = procflow.levers(
        str(hotline), "short-wait", cases=3_000, runs=5, jobs=1, start=START, confirm=None
    )
    day, night = ranking["capacity:agent@day"], ranking["capacity:agent@night"]
    assert (day.lever.before, day.lever.after) == ("3", "4")
    assert (night.lever.before, night.lever.after) == ("3", "4")
    assert day.lever.cost_per_hour == pytest.approx(30 * 70 / 168)
    assert night.lever.cost_per_hour == pytest.approx(30 * 98 / 168)
    # calls arrive by day: a day agent cuts the wait more than a night one
    assert day.difference is not None
    assert night.difference is not None
    assert day.significant
    assert day.difference < night.difference < 0
