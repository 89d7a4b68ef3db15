"""check-log on processes with forks: token replay accepts any interleaving of the branches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations
from pathlib import Path

import pytest

import procflow
from procflow import Case
from procflow.eventlog.conformance import check_log
from procflow.eventlog.events import Event
from procflow.eventlog.replay import replay
from procflow.loader import load, load_text
from procflow.model import Process

FORKS = Path(__file__).parent / "fixtures" / "forks2"
HOUR = 3600.0


@pytest.fixture
def hire() -> Process:
    return load(FORKS / "hire.yaml")


def events(case: str, *steps: tuple[str, float]) -> list[Event]:
    return [Event(case, step, end * HOUR) for step, end in steps]


def test_every_interleaving_of_the_branches_conforms(hire: Process) -> None:
    branch_a = [("it-setup", "it")]
    branch_b = [("hr-paperwork", "hr"), ("hr-paperwork", "hr")]  # one redo
    log: list[Event] = []
    count = 0
    for number, order in enumerate(set(permutations([*branch_a, *branch_b]))):
        if [s for s, _ in order if s == "hr-paperwork"] != ["hr-paperwork"] * 2:
            continue
        steps = [("approve-hire", 1.0)]
        steps += [(step, 2.0 + k) for k, (step, _) in enumerate(order)]
        steps.append(("ready", 10.0))
        log += events(f"c{number}", *steps)
        count += 1
    assert count == 3  # it-setup first, between the two hr-paperwork visits, or last
    report = check_log(hire, log)
    assert report.measurements.cases == 3
    assert report.conforming == 3
    m = report.measurements
    redo = next(e for e in m.index.edges if e.trigger == "redo")
    assert m.edge_counts[redo.number] == 3


def test_a_skipped_branch_does_not_conform_and_is_named(hire: Process) -> None:
    log = events("c1", ("approve-hire", 1), ("hr-paperwork", 2), ("ready", 3))
    report = check_log(hire, log)
    assert report.conforming == 0
    (deviation,) = report.deviations
    assert deviation.kind == "skipped-branch"
    assert (deviation.source, deviation.target) == ("approve-hire", "it-setup")
    assert "branch 'it-setup' of the fork at 'approve-hire' is skipped" in deviation.message


def test_a_branch_cut_short_before_the_join_is_named() -> None:
    process = load_text(
        """
process: p
owners: {x: {capacity: 2}}
arrivals: {rate: 1/h}
start: a
steps:
  a: {owner: x, duration: 1m, parallel: [b, c]}
  b: {owner: x, duration: 1m, next: b2}
  b2: {owner: x, duration: 1m, next: j}
  c: {owner: x, duration: 1m, next: j}
  j: {join: all, owner: x, duration: 1m, next: done}
  done: {end: true}
""",
        "p.yaml",
    )
    report = check_log(process, events("c1", ("a", 1), ("b", 2), ("c", 3), ("j", 4)))
    (deviation,) = report.deviations
    assert (deviation.kind, deviation.source, deviation.target) == ("incomplete-branch", "b", "j")


def test_elapsed_time_is_measured_within_each_branch(hire: Process) -> None:
    log = events("c1", ("approve-hire", 1), ("hr-paperwork", 2), ("it-setup", 5), ("ready", 6))
    log += events("c2", ("approve-hire", 1), ("it-setup", 3), ("hr-paperwork", 4), ("ready", 9))
    m = replay(hire, log)
    assert m.conforming == 2
    # it-setup from the fork's end: 4h and 2h; hr-paperwork 1h and 3h; ready after the last
    assert m.steps["it-setup"].elapsed.mean == pytest.approx(3 * HOUR)
    assert m.steps["hr-paperwork"].elapsed.mean == pytest.approx(2 * HOUR)
    assert m.steps["ready"].elapsed.mean == pytest.approx(3 * HOUR)  # 6-5 and 9-4


GATEWAYS = """
process: g
owners: {x: {capacity: 2}}
arrivals: {rate: 1/h}
start: a
steps:
  a:
    owner: x
    duration: 1m
    "on":
      go: {to: split, p: 0.9}
      stop: {to: stopped, p: 0.1}
  split: {duration: 0s, parallel: [b, c]}
  b: {owner: x, duration: 1m, next: done}
  c: {owner: x, duration: 1m, next: done}
  done: {join: all, end: true}
  stopped: {end: true}
"""


def test_a_fork_that_does_no_work_need_not_be_in_the_log() -> None:
    process = load_text(GATEWAYS, "g.yaml")
    log = events("c1", ("a", 1), ("c", 2), ("b", 3))
    log += events("c2", ("a", 1), ("split", 1), ("b", 2), ("c", 3))  # recorded: fine too
    log += events("c3", ("a", 1))
    log += events("c4", ("a", 1), ("b", 2))  # c never happens
    m = replay(process, log)
    assert m.conforming == 3
    assert m.steps["split"].visits == 3
    assert m.steps["done"].visits == 3  # c4's join is not reached: the branch c is missing
    report = check_log(process, log)
    assert [(d.kind, d.source, d.target) for d in report.deviations] == [
        ("skipped-branch", "split", "c")
    ]


def test_join_first_withdraws_the_other_branches() -> None:
    process = load(FORKS / "race.yaml")
    log = events("c1", ("ask", 1), ("timeout", 2), ("answered", 3))
    log += events(
        "c2",
        ("ask", 1),
        ("reply", 2),
        ("checks", 3),
        ("check-address", 4),
        ("check-id", 5),
        ("checked", 6),
        ("answered", 7),
    )
    log += events("c3", ("ask", 1), ("reply", 2), ("answered", 3))  # not after 'reply'
    report = check_log(process, log)
    assert report.conforming == 2
    assert [(d.kind, d.source, d.target) for d in report.deviations] == [
        ("undeclared-transition", "reply", "answered")
    ]


def test_cases_driven_live_make_a_log_that_conforms(hire: Process, tmp_path: Path) -> None:
    clock_now = [datetime(2027, 1, 4, 9, tzinfo=UTC)]

    def clock() -> datetime:
        clock_now[0] += timedelta(minutes=7)
        return clock_now[0]

    cases = []
    for number in range(3):
        case = Case(hire, f"H-{number}", clock)
        case.trigger("next")
        if number % 2:
            case.trigger("signed")
            case.trigger("next", step="it-setup")
        else:
            case.trigger("next", step="it-setup")
            case.trigger("redo")
            case.trigger("signed")
        case.trigger("next")
        cases.append(case)
    path = tmp_path / "cases.csv"
    assert procflow.write_cases(path, cases) == 17
    report = check_log(hire, procflow.read_log(path))
    assert report.conforming == 3


def _simulated(process: Process, tmp_path: Path, cases: int = 1500) -> Path:
    path = tmp_path / f"{process.id}.csv"
    procflow.simulate(process, cases=cases, runs=1, seed=11, log=path)
    return path


def _branch_orders(path: Path, first: str, second: str) -> set[bool]:
    """Per case of the log: whether ``first`` ended before ``second`` (both present)."""
    log = procflow.read_log(path)
    ends: dict[str, dict[str, float]] = {}
    for event in log:
        ends.setdefault(event.case, {}).setdefault(event.activity, event.end)
    return {e[first] < e[second] for e in ends.values() if first in e and second in e}


def test_a_simulated_log_of_a_parallel_process_conforms_fully(
    hire: Process, tmp_path: Path
) -> None:
    path = _simulated(hire, tmp_path)
    assert _branch_orders(path, "it-setup", "hr-paperwork") == {True, False}  # interleaved
    report = check_log(hire, procflow.read_log(path))
    assert report.measurements.cases == 1500
    assert report.conforming == 1500
    m = report.measurements
    assert m.steps["ready"].visits == m.steps["approve-hire"].visits == 1500


def test_a_simulated_log_with_a_race_and_nested_fork_conforms_fully(tmp_path: Path) -> None:
    race = load(FORKS / "race.yaml")
    path = _simulated(race, tmp_path, 800)
    report = check_log(race, procflow.read_log(path))
    assert report.conforming == 800


def test_a_simulated_log_with_a_gateway_fork_conforms_with_or_without_it(
    tmp_path: Path,
) -> None:
    process = load_text(GATEWAYS, "g.yaml")
    path = _simulated(process, tmp_path, 600)
    assert check_log(process, procflow.read_log(path)).conforming == 600
    lines = path.read_text().splitlines()
    without = tmp_path / "without.csv"
    without.write_text("\n".join(line for line in lines if ",split," not in line) + "\n")
    assert len(without.read_text().splitlines()) < len(lines)  # the gateway was recorded
    assert check_log(process, procflow.read_log(without)).conforming == 600


def test_dropping_a_branch_from_a_simulated_log_is_a_named_deviation(
    hire: Process, tmp_path: Path
) -> None:
    path = _simulated(hire, tmp_path, 300)
    lines = path.read_text().splitlines()
    victims = {line.split(",")[0] for line in lines[1:] if ",it-setup," in line}
    cut = {sorted(victims)[0], sorted(victims)[1]}
    kept = [ln for ln in lines if not (ln.split(",")[0] in cut and ",it-setup," in ln)]
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(kept) + "\n")
    report = check_log(hire, procflow.read_log(broken))
    assert report.conforming == 298
    (deviation,) = report.deviations
    assert (deviation.kind, deviation.cases) == ("skipped-branch", 2)
    assert deviation.message.startswith("branch 'it-setup' of the fork at 'approve-hire'")


def test_branch_step_times_from_a_completion_only_log_fit_the_branch(
    hire: Process, tmp_path: Path
) -> None:
    """Without start times a step's time runs from its branch's previous completion."""
    path = _simulated(hire, tmp_path, 3000)
    log = list(procflow.read_log(path))
    complete_only = tmp_path / "complete-only.csv"
    complete_only.write_text(
        "case,step,end\n" + "".join(f"{e.case},{e.activity},{e.end}\n" for e in log)
    )
    m = replay(hire, procflow.read_log(complete_only))
    assert m.conforming == 3000
    assert not m.has_starts
    # the truth, from the simulator's own visits: each branch's previous completion
    truth: dict[str, list[float]] = {"it-setup": [], "hr-paperwork": [], "ready": []}
    cases: dict[str, list[Event]] = {}
    for event in log:
        cases.setdefault(event.case, []).append(event)
    for events in cases.values():
        ends = {}
        for event in events:
            if event.activity == "approve-hire":
                ends["it"] = ends["hr"] = event.end
            elif event.activity == "it-setup":
                truth["it-setup"].append(event.end - ends["it"])
                ends["it"] = event.end
            elif event.activity == "hr-paperwork":
                truth["hr-paperwork"].append(event.end - ends["hr"])
                ends["hr"] = event.end
            elif event.activity == "ready":
                truth["ready"].append(event.end - max(ends["it"], ends["hr"]))
    for step, values in truth.items():
        assert m.steps[step].elapsed.n == len(values)
        assert m.steps[step].elapsed.mean == pytest.approx(sum(values) / len(values)), step
    # exponential(2h) with hardly any queueing for IT (capacity 2, two cases a day): calibrate
    # fits the branch's own time, not the time since the other branch's last event
    calibrated = procflow.calibrate(hire, procflow.read_log(complete_only)).process
    duration = calibrated.steps["it-setup"].duration
    assert duration is not None
    assert duration.mean == pytest.approx(2 * HOUR, rel=0.08)


def test_random_interleavings_of_nested_branches_conform_and_random_logs_never_crash() -> None:
    import random

    nested = load(FORKS.parent / "forks" / "nested.yaml")
    rng = random.Random(5)

    def interleave(*branches: list[str]) -> list[str]:
        queues = [list(b) for b in branches if b]
        merged: list[str] = []
        while queues:
            queue = rng.choice(queues)
            merged.append(queue.pop(0))
            queues = [q for q in queues if q]
        return merged

    # open forks left, right and wait; left forks l1 and l2, joined at l-join (all);
    # the three meet at outer (join: first): the first to arrive wins, the rest is cut
    ends = {"l-join", "right", "wait"}
    log: list[Event] = []
    for number in range(200):
        left = ["left", *interleave(["l1"], ["l2"]), "l-join"]
        order = interleave(left, ["right"] * rng.randint(1, 3), ["wait"])
        first = min(k for k, step in enumerate(order) if step in ends)
        steps = ["open", *order[: rng.randint(first + 1, len(order))], "outer"]
        log += events(f"c{number}", *((s, float(k)) for k, s in enumerate(steps)))
    report = check_log(nested, log)
    assert report.conforming == 200, report.deviations[:3]
    names = [*nested.steps, "bogus"]
    for trial in range(100):
        noise = [
            Event(f"n{trial}-{c}", rng.choice(names), float(k))
            for c in range(3)
            for k in range(rng.randint(1, 10))
        ]
        assert check_log(nested, noise).measurements.cases == len({e.case for e in noise})
