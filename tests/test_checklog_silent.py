"""check-log skips silent delay steps (external, no ``activity:``) as it skips 0s gateways.

``procflow discover`` writes the waiting no resource explains as a step
``wait-<step>`` of an external owner in front of the step: a log never
records it. Replay must let a case pass it without an event (counting the
transition and the visit) and still replay it when a log does record it.
"""

from __future__ import annotations

import procflow
from procflow.eventlog.conformance import check_log
from procflow.eventlog.events import Event
from procflow.loader import load_text
from procflow.model import Process
from shared_data import SHARED_DATA

HOUR = 3600.0

PROCESS = """
process: delays
owners:
  clerk: {capacity: 1}
  waiting: {external: true}
  customer: {external: true}
start: register
steps:
  register:
    owner: clerk
    duration: 10m
    on:
      fine: {to: wait-check, p: 0.8}
      redo: {to: wait-register, p: 0.2, feedback: true, max: 1}
  wait-register:
    owner: waiting
    duration: 1d
    next: register
  wait-check:
    owner: waiting
    duration: 2d
    next: check
  check:
    owner: clerk
    duration: 5m
    on:
      ok: {to: done, p: 0.7}
      ask: {to: reply, p: 0.3}
  reply:
    owner: customer
    duration: 1d
    next: check
  done: {end: true}
"""


def process() -> Process:
    return load_text(PROCESS, "delays.yaml")


def log(case: str, *steps: str) -> list[Event]:
    return [Event(case, step, (k + 1) * HOUR) for k, step in enumerate(steps)]


def test_a_log_that_skips_the_delay_steps_conforms_and_counts_them() -> None:
    events = log("a", "register", "check") + log("b", "register", "register", "check")
    report = check_log(process(), events)
    assert report.conforming == 2
    m = report.measurements
    edges = {(m.index.step_ids[e.source], e.to): m.edge_counts[e.number] for e in m.index.edges}
    assert edges["register", "wait-check"] == 2
    assert edges["wait-check", "check"] == 2
    assert edges["register", "wait-register"] == 1
    assert edges["wait-register", "register"] == 1
    assert m.steps["wait-check"].visits == 2
    assert m.steps["wait-register"].visits == 1


def test_a_recorded_delay_step_is_replayed_as_any_step() -> None:
    report = check_log(process(), log("a", "register", "wait-check", "check"))
    assert report.conforming == 1
    assert report.measurements.steps["wait-check"].visits == 1


def test_skipping_keeps_the_bounds_of_the_edge_into_the_delay() -> None:
    # redo has max 1: a second redo through the skipped wait is still max-exceeded
    report = check_log(process(), log("a", "register", "register", "register", "check"))
    assert report.conforming == 0
    (deviation,) = report.deviations
    assert deviation.kind == "max-exceeded"


def test_only_pure_delays_are_skipped() -> None:
    # `reply` (external, no activity, one way on) is a pure delay too: check -> check passes
    assert check_log(process(), log("a", "register", "check", "check")).conforming == 1
    # `check` is work (a staffed owner): a log that lacks it deviates
    report = check_log(process(), log("b", "register", "done"))
    assert report.conforming == 0
    (deviation,) = report.deviations
    assert deviation.kind == "undeclared-transition"


def test_discovered_permit_process_conforms_without_its_waits() -> None:
    path = SHARED_DATA / "receipt.csv"
    discovered = procflow.discover(path, min_share=0.01)
    report = check_log(discovered.process, procflow.read_log(path))
    assert report.measurements.cases == 1434
    assert report.conforming / 1434 > 0.9  # 8.1% before delay steps were skipped


FORKED = """
process: forked
owners:
  clerk: {capacity: 2}
  waiting: {external: true}
start: open
steps:
  open:
    owner: clerk
    duration: 5m
    next: fork-1
  fork-1:
    owner: waiting
    duration: 0s
    parallel: [wait-a, b]
  wait-a:
    owner: waiting
    duration: 1d
    next: a
  a:
    owner: clerk
    duration: 5m
    next: join-1
  b:
    owner: clerk
    duration: 5m
    next: join-1
  join-1:
    join: all
    owner: waiting
    duration: 0s
    next: done
  done: {end: true}
"""


def test_a_branch_may_skip_its_delay_step_too() -> None:
    forked = load_text(FORKED, "forked.yaml")
    events = log("x", "open", "b", "a") + log("y", "open", "a", "b")
    report = check_log(forked, events)
    assert report.conforming == 2
    assert report.measurements.steps["wait-a"].visits == 2
