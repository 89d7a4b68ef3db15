"""A rate goal's value reads in the unit its target was written in.

``throughput >= 100/week`` was shown beside a value of ``0.693/h`` (and in the
HTML report as a bare ``0.6808``): the reader had to convert to see that 116
a week meets 100 a week.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import procflow
from helpers import run, write
from procflow.units import format_rate, rate_unit

PROCESS = """\
process: weekly
owners:
  a: {capacity: 2}
arrivals: {rate: 1/h}
start: s1
steps:
  s1: {owner: a, duration: exponential(30m), next: done}
  done: {end: true}
goals:
  - {id: output, metric: throughput, target: ">= 150/week", deadline: 2030-01-01}
"""


def test_rate_units_of_targets() -> None:
    assert rate_unit(">= 100/week") == "week"
    assert rate_unit(">= 2.5 / d") == "d"
    assert rate_unit("<= 24h") is None
    assert rate_unit(">= 10/fortnight") is None
    assert format_rate(1 / 3600.0, like=">= 150/week") == "168/week"
    assert format_rate(1 / 3600.0, like=">= 20/d") == "24/d"
    assert format_rate(1 / 3600.0) == "1/h"


@pytest.mark.parametrize("command", ["simulate", "analyze"])
def test_goal_tables_show_the_target_s_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = write(tmp_path, "weekly.yaml", PROCESS)
    extra = ["--cases", "2000", "--runs", "3", "--seed", "1"] if command == "simulate" else []
    code, out, err = run(capsys, command, path, *extra)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.lstrip().startswith("output"))
    values = [float(v) for v in re.findall(r"([\d.]+)/week", row)]
    assert values[0] == 150  # the target
    assert len(values) >= 2, row
    assert 160 < values[1] < 176, row  # 1/h = 168/week
    assert "/h" not in row


def test_the_html_goal_row_shows_the_target_s_unit(tmp_path: Path) -> None:
    path = write(tmp_path, "weekly.yaml", PROCESS)
    page = procflow.html_report(path, cases=1000, runs=2, seed=1, jobs=1)
    row = re.search(r"<td>output</td>.*?</tr>", page)
    assert row is not None
    values = [float(v) for v in re.findall(r">([\d.]+)/week", row.group(0))]
    assert values, row.group(0)
    assert 160 < values[0] < 176, row.group(0)  # the value, then its interval
    assert re.search(r"[\d.]+/week – [\d.]+/week", row.group(0)), row.group(0)
