"""Hostile simulator inputs (issue 11): each refused with a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run, write
from procflow.errors import SimulationError
from procflow.loader import load_text
from procflow.sim import simulate
from procflow.sim.stats import estimate

HUGE = """\
process: huge
owners:
  a: {capacity: 1}
arrivals: {rate: 1/h}
start: s
steps:
  s:
    owner: a
    duration: 1e300h
    next: done
  done: {end: true}
"""


def test_a_duration_of_1e300h_is_refused_at_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SimulationError, match=r"huge\.yaml:9:5: step 's': a duration of"):
        simulate(load_text(HUGE, "huge.yaml"), cases=20, runs=2)
    code, out, err = run(capsys, "simulate", write(tmp_path, "huge.yaml", HUGE), "--runs", "2")
    assert code == 2
    assert out == ""
    assert "too long to simulate" in err
    assert "Traceback" not in err
    assert "bug in procflow" not in err


def test_arrivals_too_far_apart_are_refused_too() -> None:
    text = HUGE.replace("arrivals: {rate: 1/h}", "arrivals: {every: 1e20d}").replace("1e300h", "1h")
    with pytest.raises(SimulationError, match="too far apart to simulate"):
        simulate(load_text(text, "far.yaml"), cases=20, runs=2)


def test_an_interval_of_huge_values_does_not_overflow() -> None:
    """Squares of 1e300 overflow; the interval is computed on scaled values instead."""
    runs = [1e300, 3e300, 2e300]
    result = estimate(runs, nonnegative=True)
    assert result.mean == pytest.approx(2e300)
    assert result.ci95 is not None
    low, high = result.ci95
    assert low == 0.0  # cut at 0
    assert high == pytest.approx(2e300 + 4.302652729911275 * 1e300 / 3**0.5, rel=1e-9)


def test_a_refused_duration_is_quoted_as_written() -> None:
    """``exponential(1e15s)`` was quoted as ``exponential(1.15741e+10d)``: procflow's reading,
    not the user's text; and ``every: 1e20d`` as ``1.15741e+15d``... each as written now."""
    text = HUGE.replace("1e300h", "exponential(1e15s)")
    with pytest.raises(SimulationError, match=r"a duration of exponential\(1e15s\) is too long"):
        simulate(load_text(text, "huge.yaml"), cases=20, runs=2)
    far = HUGE.replace("arrivals: {rate: 1/h}", "arrivals: {every: 1e20d}").replace("1e300h", "1h")
    with pytest.raises(SimulationError, match=r"arrivals every 1e20d are too far apart"):
        simulate(load_text(far, "far.yaml"), cases=20, runs=2)
