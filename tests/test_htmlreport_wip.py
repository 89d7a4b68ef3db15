"""The report's work-in-progress-over-time plot: the series is run 1's, exactly.

The truth: a process whose first step is a pure delay (no queue before it)
has each case open from its arrival to its completion in the event log,
which is exactly what the simulator's ``wip`` KPI integrates over its
window (from the arrival of the first counted case to the last arrival).
So the sink's series over that window must give run 1's ``wip`` to
rounding, and its bins must add up to the same case-time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import procflow
from helpers import CUSTOMER_SERVICE
from procflow.distance.wip import open_cases
from procflow.htmlreport.wip import MOST_BINS, OpenCases, bin_width, wip_series

DELAY_FIRST = """\
process: delay-first
owners:
  post: {external: true}
  clerk: {capacity: 2}
arrivals: {rate: 5/h}
start: receive
steps:
  receive: {owner: post, duration: exponential(30m), next: handle}
  handle: {owner: clerk, duration: exponential(20m), next: done}
  done: {end: true}
"""


def test_two_cases_by_hand() -> None:
    sink = OpenCases(2)
    sink.write_simulated(1, "a", None, 0.0, 1800.0)
    sink.write_simulated(1, "b", "x", 1800.0, 3600.0)
    sink.write_simulated(2, "a", None, 1800.0, 5400.0)
    series = wip_series(sink, warmup=0)
    assert series is not None
    assert series.width == 60.0  # 5400 s in at most 240 bins: one minute each
    assert series.values == (1.0,) * 30 + (2.0,) * 30 + (1.0,) * 30
    assert series.warmup_end is None
    assert series.arrivals_end == 1800.0
    assert series.cases == 2


def test_bins_are_round_and_at_most_the_limit() -> None:
    for span in (59.0, 3600.0, 86400.0 * 3, 86400.0 * 700, 86400.0 * 40000):
        width = bin_width(span)
        assert span / width <= MOST_BINS
        assert width >= 60.0
    assert bin_width(86400.0 * 10) == 3600.0
    assert bin_width(86400.0 * 700) == 86400.0 * 7


def test_partial_bins_keep_the_case_time() -> None:
    starts = np.array([10.0, 95.0, 230.0])
    ends = np.array([130.0, 100.0, 1000.0])
    values = open_cases(starts, ends, 0.0, 60.0, 17)
    assert float(values.sum()) * 60.0 == pytest.approx(float((ends - starts).sum()))
    assert values[0] == pytest.approx(50.0 / 60.0)
    assert values[1] == pytest.approx((60.0 + 5.0) / 60.0)


def test_the_series_integrates_to_the_simulated_wip_of_run_one() -> None:
    process = procflow.load_text(DELAY_FIRST)
    cases, warmup = 3000, 300
    sink = OpenCases(cases)
    result = procflow.simulate(process, cases=cases, runs=2, seed=5, warmup=warmup, log=sink)
    series = wip_series(sink, result.warmup)
    assert series is not None
    assert series.cases == cases
    starts = np.frombuffer(sink.starts)
    ends = np.frombuffer(sink.ends)
    window = series.arrivals_end - (series.warmup_end or 0.0)
    assert series.warmup_end == starts[warmup]
    (in_window,) = open_cases(starts, ends, series.warmup_end or 0.0, window, 1)
    assert in_window == pytest.approx(result.per_run[0]["wip"], rel=1e-9)
    # and the bins hold every case's time in the system
    total = math.fsum(series.values) * series.width
    assert total == pytest.approx(float((ends - starts).sum()), rel=1e-9)


def test_the_page_plots_it_with_its_references() -> None:
    page = procflow.html_report(procflow.load_text(DELAY_FIRST), cases=800, runs=2, seed=1, jobs=1)
    assert "Work in progress over time of delay-first" in page
    assert "warm-up (80 cases)" in page
    assert "after the last arrival" in page
    assert "time-average WIP over runs: " in page
    assert "queueing model (Little's law): " in page
    assert "open cases: mean" in page  # the data table, the plot's text alternative


def test_a_calendared_model_s_wip_line_says_it_is_working_time() -> None:
    """customer-service's model WIP (10) is Little's law on a working-time cycle time; the
    run's elapsed WIP is 16: the line said 'queueing model' as if they were comparable."""
    page = procflow.html_report(CUSTOMER_SERVICE, cases=300, runs=2, seed=1, jobs=1)
    assert "queueing model (Little's law, working time, approximate): " in page
    assert "queueing model (Little's law): " not in page
