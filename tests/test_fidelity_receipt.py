"""The twin of the permit log: discover it, simulate it over the log's period, measure.

The must-show figures of docs/discover.md#measured-on-the-permit-log:
``procflow discover receipt.csv --min-share 1%`` then ``procflow fidelity``
(5 runs, seed 1). Real: mean cycle time 5.41 d, median 48 min, 0.2% of
events on weekends, a circadian noise floor of 1.98 h. Before the per-case
regime, working-time waits and rare hours: median 7.7 h, circadian 7.25 h,
cycle-time EMD 26.5% of the mean; before the slow class, the waits' full
tail, the ways into rare activities and processing after a wait counted as
waiting: 17.7%. Now about 12% (seeds 1 to 3: 11.7 to 12.8%), below the
issue's 15%. The default ``--min-share`` (5%) meets the same targets (it
missed the mean by 14% when rare activities were dropped). About 30 s.
"""

from __future__ import annotations

import pytest

import procflow
from shared_data import SHARED_DATA

LOG = SHARED_DATA / "receipt.csv"


@pytest.fixture(scope="module")
def report() -> procflow.Fidelity:
    if not LOG.exists():
        pytest.skip("../shared/data/receipt.csv is not there")
    twin = procflow.discover(LOG, min_share=0.01)
    return procflow.fidelity(twin.process, LOG, runs=5, seed=1)


@pytest.fixture(scope="module")
def default() -> procflow.Fidelity:
    """The twin discovered with the default ``--min-share``."""
    if not LOG.exists():
        pytest.skip("../shared/data/receipt.csv is not there")
    twin = procflow.discover(LOG)
    return procflow.fidelity(twin.process, LOG, runs=5, seed=2)


def test_mean_and_median_cycle_time(report: procflow.Fidelity) -> None:
    real, simulated = report.real, report.simulated
    assert real.cycle_mean is not None
    assert simulated.cycle_mean is not None
    assert real.cycle_median is not None
    assert simulated.cycle_median is not None
    assert simulated.cycle_mean == pytest.approx(real.cycle_mean, rel=0.10)
    assert simulated.cycle_median == pytest.approx(real.cycle_median, rel=0.25)


def test_weekends_and_hours_of_the_day(report: procflow.Fidelity) -> None:
    assert report.real.weekend_share is not None
    assert report.simulated.weekend_share is not None
    assert abs(report.simulated.weekend_share - report.real.weekend_share) <= 0.02
    circadian = report["circadian"]
    assert circadian.value is not None
    assert circadian.noise_floor is not None
    assert circadian.value <= circadian.noise_floor + 0.5


def test_cycle_time_distribution(report: procflow.Fidelity) -> None:
    emd = report["cycle_time_relative"].value
    assert emd is not None
    assert emd < 0.15  # the target; 0.265, then 0.177 before


def test_the_default_min_share_meets_the_targets_too(default: procflow.Fidelity) -> None:
    real, simulated = default.real, default.simulated
    assert real.cycle_mean is not None
    assert simulated.cycle_mean is not None
    assert simulated.cycle_mean == pytest.approx(real.cycle_mean, rel=0.10)  # was -14%
    assert simulated.cycle_median == pytest.approx(real.cycle_median, rel=0.25)
    emd = default["cycle_time_relative"].value
    assert emd is not None
    assert emd < 0.15
