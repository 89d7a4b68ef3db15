"""Hostile times and rates found by the audit of 2026-12-07, each refused with a message.

Arrival rates so small that the clock overflows, a ``--start`` at the edge
of the dates Python has, runs whose clock passes the year 9999, and log
timestamps at the very first or last dates all crashed ("a bug in
procflow") or printed numpy warnings; restored cases and check-log said
something untrue.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import run, write
from procflow.errors import CaseError
from procflow.loader import load_text
from procflow.runtime import Case

BASE = """\
process: p
owners:
  a: {capacity: 2}
arrivals: {rate: 4/h}
start: s1
steps:
  s1: {owner: a, duration: exponential(10m), next: s2}
  s2: {owner: a, duration: 5m, next: done}
  done: {end: true}
"""

CALENDAR = BASE.replace(
    "owners:\n", 'calendars:\n  nights: {hours: {mon-sun: "22:00-06:00"}}\nowners:\n'
).replace("a: {capacity: 2}", "a: {capacity: 2, calendar: nights}")


def _fails(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    assert "bug in procflow" not in err
    assert "Traceback" not in err
    assert "RuntimeWarning" not in err
    return err


@pytest.mark.parametrize(
    ("arrivals", "position"),
    [
        ("{rate: 1e-300/month}", ":4:12:"),
        ("{profile: {'mon 08:00-09:00': 1e-300/h}}", ":4:12:"),
    ],
)
@pytest.mark.parametrize("command", ["simulate", "levers"])
def test_arrivals_too_rare_to_time_are_refused_at_their_position(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arrivals: str,
    position: str,
    command: str,
) -> None:
    path = write(tmp_path, "rare.yaml", BASE.replace("{rate: 4/h}", arrivals))
    err = _fails(capsys, command, path, "--runs", "2")
    assert f"rare.yaml{position}" in err
    assert "too far apart to simulate" in err


def test_a_vanishing_interval_is_a_schema_finding_in_lint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``every: 1e-320s`` linted clean, then analyze refused it: its rate is infinite."""
    path = write(tmp_path, "tiny.yaml", BASE.replace("{rate: 4/h}", "{every: 1e-320s}"))
    code, out, _err = run(capsys, "lint", path)
    assert code == 1
    assert "tiny.yaml:4:19: PF002 schema: arrivals: the mean time between arrivals" in out


@pytest.mark.parametrize(
    ("text", "start", "log"),
    [
        (CALENDAR, "0001-01-01T00:00", None),
        (CALENDAR, "9999-12-31T00:00", None),
        (BASE, "9999-12-31T23:00", "events.csv"),
        (BASE, "9999-12-31T23:00", "events.xes"),
        (BASE.replace("rate: 4/h", "every: 300000d"), None, "events.csv"),
    ],
)
def test_a_clock_past_the_last_date_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    start: str | None,
    log: str | None,
) -> None:
    path = write(tmp_path, "p.yaml", text)
    args: list[str | Path] = ["simulate", path, "--cases", "100", "--runs", "1"]
    args += ["--start", start] if start else []
    args += ["--log", tmp_path / log] if log else []
    err = _fails(capsys, *args)
    assert "9999" in err
    assert "--start" in err
    assert not log or not (tmp_path / log).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("command", "cases"), [("simulate", "auto"), ("simulate", "100"), ("levers", "100")]
)
def test_calendared_arrivals_centuries_apart_are_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, cases: str
) -> None:
    """One arrival a century on calendars: the clock passed the year 9999 only after laying
    out every week up to it (12 s here, minutes with more cases); now the expected span of
    the arrivals is checked first. 2026-12-14 + 79 × 99.9 years is before 9999, 80 is not."""
    path = write(tmp_path, "rare.yaml", CALENDAR.replace("rate: 4/h", "rate: 0.0000274/d"))
    started = time.perf_counter()
    err = _fails(capsys, command, path, "--cases", cases, "--runs", "2", "--start", "2026-12-14")
    assert time.perf_counter() - started < 5.0
    assert "rare.yaml:6:1: " in err
    assert "one every 99.9 years), past the year 9999 where dates end" in err
    assert "choose an earlier --start or simulate --cases 79 or fewer" in err


def test_calendared_arrivals_within_the_dates_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rare but reachable arrival rate (one a year, 100 cases) is not refused."""
    path = write(tmp_path, "yearly.yaml", CALENDAR.replace("rate: 4/h", "rate: 0.00274/d"))
    code, _out, err = run(capsys, "simulate", path, "--cases", "100", "--runs", "1")
    assert code == 0, err


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "first.csv",
            "case,step,owner,start,end\nc1,s1,a,0001-01-01T00:00:00,2027-01-04T09:00:00\n",
            "first.csv:2: column 'start': timestamp '0001-01-01T00:00:00'",
        ),
        (
            "last.xes",
            '<?xml version="1.0"?>\n<log xmlns="http://www.xes-standard.org/"><trace>'
            '<string key="concept:name" value="c1"/><event>'
            '<string key="concept:name" value="s1"/>'
            '<date key="time:timestamp" value="9999-12-31T23:00:00Z"/></event></trace></log>\n',
            "last.xes:2:",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check-log", "calibrate", "fidelity"])
def test_log_times_at_the_edge_of_dates_are_refused_with_their_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    where: str,
    command: str,
) -> None:
    process = write(tmp_path, "p.yaml", CALENDAR)
    log = write(tmp_path, name, text)
    err = _fails(capsys, command, process, log)
    assert where in err
    assert "too close to the year 1 or 9999" in err


def test_log_times_inside_the_span_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process = write(tmp_path, "p.yaml", BASE)
    log = write(
        tmp_path,
        "ok.csv",
        "case,step,owner,start,end\n"
        "c1,s1,a,0001-01-03T00:00:00,0001-01-03T00:10:00\n"
        "c1,s2,a,9999-12-29T00:00:00,9999-12-29T00:05:00\n",
    )
    code, _out, err = run(capsys, "check-log", process, log)
    assert code == 0, err


def test_a_restored_time_before_the_year_1_says_so() -> None:
    process = load_text(BASE, "p.yaml")
    saved = (
        '{"version": 1, "process": "p", "case": "c", "history": [{"step": "s1", '
        '"entered": "0001-01-01T00:00:00+05:00", "left": null, "trigger": null}]}'
    )
    with pytest.raises(CaseError, match="'entered' is before the year 1 in UTC"):
        Case.from_json(process, saved)


def test_an_unfinished_case_is_not_said_to_have_no_way_to_an_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """s1 leads to an end through s2; the case just stopped there."""
    process = write(tmp_path, "p.yaml", BASE)
    log = write(
        tmp_path,
        "log.csv",
        "case,step,owner,start,end\nc1,s1,a,2027-01-04T09:00:00,2027-01-04T09:10:00\n",
    )
    code, out, _err = run(capsys, "check-log", process, log)
    assert code == 0
    assert "its last event is 's1', which has no transition into an end step" in out
    assert "no way to an end" not in out


def test_a_change_file_with_a_duplicate_key_is_called_a_change_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process = write(tmp_path, "p.yaml", BASE)
    change = write(tmp_path, "c.yaml", "change: one\nchange: two\npatch: {}\n")
    err = _fails(capsys, "simulate", process, "--change", change, "--runs", "1")
    assert "c.yaml:2:1: PF003 duplicate key 'change'" in err
    assert err.rstrip().endswith("c.yaml: not a valid change file")


FORK_INTO_ITSELF = """\
process: f
owners:
  a: {capacity: 3}
arrivals: {rate: 1/h}
start: s1
steps:
  s1: {owner: a, duration: 5m, parallel: [s1, b1]}
  b1: {owner: a, duration: 5m, next: j}
  j: {join: all, owner: a, duration: 1m, next: done}
  done: {end: true}
"""

FORK_WITHOUT_JOIN = """\
process: g
owners:
  a: {capacity: 3}
arrivals: {rate: 1/h}
start: s1
steps:
  s1: {owner: a, duration: 5m, parallel: [b1, b2]}
  b1: {owner: a, duration: 5m, next: done}
  b2:
    owner: a
    duration: 5m
    on:
      ok: {to: done, p: 0.5}
      again: {to: s1, p: 0.5, feedback: true}
  done: {end: true}
"""


def test_crossing_edges_name_no_placeholder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PF703 said "enters branch '?'" and "not for the join 'its join'"."""
    code, out, _err = run(capsys, "lint", write(tmp_path, "f.yaml", FORK_INTO_ITSELF))
    assert code == 1
    assert "enters the branches of fork 's1' at step 's1'" in out
    code, out, _err = run(capsys, "lint", write(tmp_path, "g.yaml", FORK_WITHOUT_JOIN))
    assert code == 1
    assert "for step 's1', not for a join (the fork has none yet)" in out
    assert "'?'" not in out
    assert "its join'" not in out


BY_WITHOUT_ELSE = """\
process: b
attributes:
  sev: {p1: 50%, p2: 50%}
owners:
  a: {capacity: 2}
arrivals: {rate: 1/h}
start: s1
steps:
  s1:
    owner: a
    duration: {by: sev, p1: 5m}
    on:
      x: {to: done, when: "severity == 'p1'"}
      y: {to: done}
  done: {end: true}
goals:
  - id: g
    metric: cycle_time
    stat: p90
    target: "<= 1h"
    deadline: 2030-01-01
    where: "sev == 'p9'"
"""


@pytest.mark.parametrize("command", ["analyze", "simulate"])
def test_an_attribute_no_case_can_match_blocks_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """analyze/simulate gave p2 cases p1's 5m and never took 'x', without a word (PF801)."""
    path = write(tmp_path, "b.yaml", BY_WITHOUT_ELSE)
    err = _fails(capsys, command, path, *(["--runs", "1"] if command == "simulate" else []))
    assert (
        "b.yaml:11:5: PF801 unknown-attribute: the duration of step 's1': no value for sev p2"
        in err
    )
    assert (
        "b.yaml:13:27: PF801 unknown-attribute: transition 'x' of step 's1': attribute 'severity'"
        in err
    )
    assert "goal 'g'" not in err  # a goal's where misleads its verdict only: lint says so
    fixed = BY_WITHOUT_ELSE.replace("p1: 5m}", "p1: 5m, else: 10m}").replace("severity", "sev")
    code, _out, err = run(capsys, "analyze", write(tmp_path, "fixed.yaml", fixed))
    assert code == 0, err
