"""The fidelity section's distribution plots (htmlreport/distplots.py) and their data.

Checked against the truth: the percentiles :func:`procflow.fidelity` keeps are
numpy's of the cycle times, the week tables count every start and end, and
the plots' tables give those numbers, as text, without relying on colour.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import procflow
from helpers import write
from procflow.htmlreport.distplots import cycle_time_plot, week_plot

PROCESS = """\
process: desk
owners:
  a: {capacity: 2}
arrivals: {rate: 2/h}
start: check
steps:
  check: {owner: a, duration: exponential(20m), next: done}
  done: {end: true}
"""

SVG = "{http://www.w3.org/2000/svg}"


def _log(tmp_path: Path) -> Path:
    rows = ["case,activity,start,end"]
    rng = np.random.default_rng(7)
    start = np.datetime64("2027-01-04T08:00:00")
    for case in range(200):
        begin = start + np.timedelta64(int(case * 1800 + rng.integers(0, 600)), "s")
        length = np.timedelta64(int(rng.exponential(1200)) + 1, "s")
        rows.append(f"c{case},check,{begin},{begin + length}")
    return write(tmp_path, "desk.csv", "\n".join(rows) + "\n")


def test_fidelity_keeps_the_percentiles_and_the_week(tmp_path: Path) -> None:
    process = write(tmp_path, "desk.yaml", PROCESS)
    log = _log(tmp_path)
    found = procflow.fidelity(process, log, runs=2, seed=3)
    real = np.array(
        [
            (np.datetime64(end) - np.datetime64(begin)) / np.timedelta64(1, "s")
            for begin, end in (line.split(",")[2:] for line in log.read_text().splitlines()[1:])
        ]
    )
    assert found.cycle_real == pytest.approx(tuple(np.percentile(real, np.arange(101))))
    assert len(found.cycle_simulated) == 101
    assert list(found.cycle_simulated) == sorted(found.cycle_simulated)
    assert len(found.circadian_real) == 7
    assert {len(row) for row in found.circadian_real} == {24}
    assert sum(map(sum, found.circadian_real)) == 2 * 200  # a start and an end per event
    assert found.circadian_real[0][8] > 0  # Monday 08:00 UTC, where the log begins
    assert sum(map(sum, found.circadian_simulated)) > 0


def test_a_wide_cycle_time_spread_gets_a_log_axis_marked_in_durations() -> None:
    real = tuple(float(v) for v in np.geomspace(30.0, 30 * 86400.0, 101))
    plot = cycle_time_plot(real, real, process="p")
    assert "log scale" in plot.description
    root = ET.fromstring(plot.svg)
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"1m", "1h", "1d", "7d", "30d"} <= texts
    assert plot.table.rows[2] == ("p50", "2.449h", "2.449h")  # the median: 30 s × 86,400 ** 0.5
    assert plot.table.rows[-1][0] == "longest"


def test_a_narrow_spread_stays_linear() -> None:
    real = tuple(3600.0 + 36 * k for k in range(101))
    plot = cycle_time_plot(real, real, process="p")
    assert "linear axis" in plot.description
    assert "log scale" not in plot.description


def test_the_week_is_drawn_in_vectors_with_its_shares_as_text() -> None:
    real = [[0] * 24 for _ in range(7)]
    real[0][9] = 30  # Monday 09:00: 30 of 40 events
    real[4][14] = 10  # Friday 14:00
    simulated = [[1] * 24 for _ in range(7)]  # around the clock
    plot = week_plot(real, simulated, process="p")
    root = ET.fromstring(plot.svg)
    assert not list(root.iter(f"{SVG}image"))  # no raster: the sanitizer would drop it
    assert len(list(root.iter(f"{SVG}path"))) > 2 * 168  # every cell a shape
    rows = {row[0]: row[1:] for row in plot.table.rows}
    assert len(rows) == 7 * 6
    assert rows["Mon 08–12"] == ("75%", "2.4%")  # 4 of 168 hours: 2.381 %
    assert rows["Fri 12–16"] == ("25%", "2.4%")
    assert rows["Sun 20–24"] == ("0%", "2.4%")
    assert re.search("cividis|lightness|darker", plot.description)


def test_cases_of_no_time_at_all_draw_from_zero() -> None:
    """A log of one-event cases: every cycle time 0; the axis starts at 0, not at -0.04."""
    plot = cycle_time_plot((0.0,) * 101, (0.0,) * 101, process="p")
    texts = [t.text or "" for t in ET.fromstring(plot.svg).iter(f"{SVG}text")]
    assert not [t for t in texts if t.startswith(("−", "-"))], texts
    assert plot.table.rows[2] == ("p50", "0s", "0s")
