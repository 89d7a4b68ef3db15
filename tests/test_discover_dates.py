"""Date-only logs: no working hours from a time of day that is only a date (docs/discover.md)."""

from __future__ import annotations

import numpy as np
import pytest

import procflow
from procflow.discovery.discover import discover
from procflow.discovery.hours import date_resolution, local_offset
from procflow.eventlog.events import Event
from shared_data import SHARED_DATA

DAY = 86400.0
MIDNIGHT_PLUS_ONE = 1_136_070_000.0  # 2006-01-01T00:00:00+01:00 (23:00 UTC the day before)


def _date_only_log(cases: int = 40) -> list[Event]:
    """Cases of three steps, each done on a later date, every stamp at local midnight (+01:00)."""
    rng = np.random.default_rng(3)
    events = []
    for c in range(cases):
        day = MIDNIGHT_PLUS_ONE + DAY * int(c * 2)
        for activity, who in (("register", "Ann"), ("check", "Bob"), ("decide", "Cy")):
            start = day + DAY * int(rng.integers(0, 3))
            end = start + DAY * int(rng.integers(0, 2))
            events.append(Event(f"c{c}", activity, end, start, who))
            day = end
    return events


def test_date_resolution_reads_the_common_time_of_day_and_its_offset() -> None:
    moments = MIDNIGHT_PLUS_ONE + DAY * np.arange(50.0)
    share, midnight = date_resolution(np.append(moments, MIDNIGHT_PLUS_ONE + 3600.0 * 9))
    assert share == pytest.approx(50 / 51)
    assert midnight == 23 * 3600.0
    assert local_offset(midnight) == 3600.0
    assert local_offset(5 * 3600.0) == -5 * 3600.0  # -05:00: local midnight is 05:00 UTC


def test_a_date_only_log_gets_no_calendars_and_says_why() -> None:
    found = discover(_date_only_log())
    assert "calendars:" not in found.text
    assert "profile:" not in found.text
    assert found.found.calendars is False
    assert found.found.resolution is not None
    assert found.found.resolution.startswith(
        "timestamps carry dates only (100% at 00:00 local, offset +01:00): no working hours"
    )
    assert found.to_dict()["resolution"] == found.found.resolution


def test_a_log_with_real_times_reports_no_resolution() -> None:
    events = [
        Event(f"c{c}", "work", MIDNIGHT_PLUS_ONE + c * 3700.0 + 1800.0, None, "Ann")
        for c in range(60)
    ]
    assert discover(events).found.resolution is None


needs_data = pytest.mark.skipif(
    not (SHARED_DATA / "reviewing.xes").exists(), reason="../shared/data is not available"
)


@needs_data
def test_reviewing_xes_twin_is_closer_in_cycle_time() -> None:
    """Before: calendars mon-sun 23:00-24:00 and every wait taken for queueing, 87.6% EMD."""
    log = procflow.read_log(SHARED_DATA / "reviewing.xes")
    found = discover(log)
    assert found.found.resolution is not None
    result = procflow.fidelity(found.process, log, runs=3)
    assert result["cycle_time_relative"].value is not None
    assert result["cycle_time_relative"].value < 0.6  # 0.399 measured; 0.876 before
    assert result["wip_error"].verdict == "within noise"  # 44.5 cases (4.3x) before
    assert any("dates only" in note for note in result.notes)
