"""analyze with case attributes: class shares, Cobham's priority waits, outcomes, JSON."""

from __future__ import annotations

import json
import math

import pytest

from procflow.analysis import analyze
from procflow.loader import load_text

MM1 = """
process: mm1
owners: {server: {capacity: CAPACITY}}
arrivals: {rate: RATE/m}
attributes:
  cls: {hi: 30%, lo: 70%}
priority: {by: cls, order: [hi, lo], preemptive: PREEMPTIVE}
start: serve
steps:
  serve: {owner: server, duration: exponential(1m), next: done}
  done: {end: true}
"""


def mm1(rate: float = 0.8, preemptive: bool = False, capacity: int = 1) -> str:
    return (
        MM1.replace("RATE", str(rate))
        .replace("PREEMPTIVE", "true" if preemptive else "false")
        .replace("CAPACITY", str(capacity))
    )


def test_non_preemptive_two_class_mm1_is_cobham() -> None:
    a = analyze(load_text(mm1()))
    classes = a.classes
    assert classes is not None
    assert [f.value for f in classes.figures] == ["hi", "lo"]
    lam, mu, rho1, rho = 0.8 / 60, 1 / 60, 0.24, 0.8
    w0 = lam * (2 / mu**2) / 2
    hi, lo = (f.owners["server"] for f in classes.figures)
    assert hi.wait_mean == pytest.approx(w0 / (1 - rho1))
    assert lo.wait_mean == pytest.approx(w0 / ((1 - rho1) * (1 - rho)))
    assert hi.exact
    assert lo.exact
    # work conservation: the share-weighted waits are the FIFO wait
    fifo = a.owners["server"].wait_mean
    assert 0.3 * hi.wait_mean + 0.7 * lo.wait_mean == pytest.approx(fifo)


def test_preemptive_two_class_mm1_is_the_preemptive_resume_formula() -> None:
    a = analyze(load_text(mm1(preemptive=True)))
    assert a.classes is not None
    hi, lo = (f.owners["server"] for f in a.classes.figures)
    service, rho1, rho = 60.0, 0.24, 0.8
    # response times T1 = S / (1 - rho1), T2 = S / ((1 - rho1)(1 - rho)); wait = T - S
    assert hi.wait_mean == pytest.approx(service / (1 - rho1) - service)
    assert lo.wait_mean == pytest.approx(service / ((1 - rho1) * (1 - rho)) - service)


def test_many_servers_keep_work_conservation_and_say_approx_only_when_it_is() -> None:
    a = analyze(load_text(mm1(rate=2.4, capacity=3)))
    assert a.classes is not None
    hi, lo = (f.owners["server"] for f in a.classes.figures)
    fifo = a.owners["server"].wait_mean
    assert fifo is not None
    assert hi.wait_mean < fifo < lo.wait_mean
    assert 0.3 * hi.wait_mean + 0.7 * lo.wait_mean == pytest.approx(fifo)
    assert hi.exact  # exponential, one mean: the M/M/c priority formula is exact
    pre = analyze(load_text(mm1(rate=2.4, capacity=3, preemptive=True)))
    assert pre.classes is not None
    phi, plo = (f.owners["server"] for f in pre.classes.figures)
    assert phi.wait_mean < hi.wait_mean
    assert plo.wait_mean > lo.wait_mean


INCIDENTS = """
process: incidents
owners:
  desk: {capacity: 1}
  expert: {capacity: 1}
arrivals: {rate: 3/h}
attributes:
  severity: {p1: 10%, p2: 30%, p3: 60%}
priority: severity
start: triage
steps:
  triage:
    owner: desk
    duration: {by: severity, p1: exponential(2m), else: exponential(6m)}
    on:
      major: {to: fix, when: "severity == 'p1'"}
      minor: {to: fix, when: "severity == 'p2'"}
      standard: {to: closed}
  fix:
    owner: expert
    duration: exponential(10m)
    next: resolved
  resolved: {end: true}
  closed: {end: true}
"""


def test_classes_route_and_take_their_own_durations() -> None:
    a = analyze(load_text(INCIDENTS))
    classes = a.classes
    assert classes is not None
    by = {f.value: f for f in classes.figures}
    assert by["p1"].visits["fix"] == 1.0
    assert by["p3"].visits["fix"] == 0.0
    assert by["p1"].service["triage"] == 120.0
    assert by["p2"].service["triage"] == 360.0
    assert classes.outcomes == pytest.approx({"resolved": 0.4, "closed": 0.6})
    # the overall model sees the mixture: 40% of the cases go to the expert
    assert a.steps["fix"].visits == pytest.approx(0.4)
    assert a.steps["triage"].service_mean == pytest.approx(0.1 * 120 + 0.9 * 360)
    document = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert document["version"] == 1
    assert set(document["by_class"]["severity"]) == {"p1", "p2", "p3"}
    assert document["by_outcome"]["closed"]["share"] == pytest.approx(0.6)
    p1 = document["by_class"]["severity"]["p1"]
    desk, expert = by["p1"].owners["desk"].wait_mean, by["p1"].owners["expert"].wait_mean
    assert p1["cycle_time"]["expected"] == pytest.approx(desk + 120 + expert + 600)
    # p1 is first in line at both owners: it waits less than p3 does at the desk
    assert desk < by["p3"].owners["desk"].wait_mean
    assert math.isfinite(p1["wait_time"])


def test_a_process_without_priority_has_no_class_figures() -> None:
    plain = INCIDENTS.replace("priority: severity\n", "")
    a = analyze(load_text(plain))
    assert a.classes is None
    assert "by_class" not in a.to_dict()
