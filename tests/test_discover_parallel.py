"""Discover parallel branches back: a simulated fork comes back as the same fork.

The fixture forks after ``intake`` into a two-step chain (``check`` ->
``file``) and a one-step branch (``notify``) with comparable durations, so
the log shows both orders; staff are plentiful, so no waiting is
extraneous and the discovered file has no delay steps between the
recorded activities. The discovered process must lint without PF701-PF704,
have one fork with those branches and a ``join: all`` before ``close``, and
replay the very log it came from: at least 99% of the cases conform.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import procflow
from helpers import write
from procflow.discovery import Discovery, discover
from procflow.discovery.parallel import concurrent, find_blocks
from procflow.discovery.table import read_table
from procflow.eventlog.events import Event

MODEL = """\
process: forked
owners:
  clerk: {capacity: 20}
  officer: {capacity: 20}
arrivals:
  rate: 2/h
start: intake
steps:
  intake:
    owner: clerk
    duration: exponential(10m)
    parallel: [check, notify]
  check:
    owner: officer
    duration: exponential(20m)
    next: file
  file:
    owner: officer
    duration: exponential(10m)
    next: close
  notify:
    owner: clerk
    duration: exponential(30m)
    next: close
  close:
    join: all
    owner: clerk
    duration: exponential(5m)
    next: closed
  closed:
    end: true
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forked")
    model = write(folder, "forked.yaml", MODEL)
    log = folder / "simulated.csv"
    procflow.simulate(model, cases=1500, runs=1, seed=5, warmup=0, jobs=1, log=log)
    kept = folder / "recorded.csv"
    with log.open(encoding="utf-8") as source, kept.open("w", encoding="utf-8") as target:
        rows = [r for r in csv.DictReader(source) if r["step"] != "closed"]
        writer = csv.DictWriter(target, ["case", "step", "owner", "start", "end"])
        writer.writeheader()
        writer.writerows(rows)
    return kept


@pytest.fixture(scope="module")
def discovered(simulated: Path) -> Discovery:
    return procflow.discover(str(simulated))


def test_the_fork_comes_back_with_its_branches(discovered: Discovery) -> None:
    steps = discovered.process.steps
    forks = [s for s in steps.values() if s.parallel]
    assert len(forks) == 1
    fork = forks[0]
    assert sorted(fork.parallel or []) == ["check", "notify"]
    assert steps["intake"].on is not None
    assert [t.to for t in steps["intake"].on.values()] == ["fork-1"]
    assert [t.to for t in (steps["check"].on or {}).values()] == ["file"]
    assert [t.to for t in (steps["file"].on or {}).values()] == ["join-1"]
    assert [t.to for t in (steps["notify"].on or {}).values()] == ["join-1"]
    assert steps["join-1"].join == "all"
    assert [t.to for t in (steps["join-1"].on or {}).values()] == ["close"]
    block = discovered.found.blocks[0]
    assert sorted(block.branches) == [["check", "file"], ["notify"]]
    assert not [p for p in discovered.found.interleaving if {p[0], p[1]} <= {"check", "notify"}]


def test_the_discovered_fork_lints_clean_and_replays_its_log(
    discovered: Discovery, simulated: Path
) -> None:
    codes = {f.code for f in procflow.lint(discovered.process)}
    assert not codes & {"PF701", "PF702", "PF703", "PF704"}
    assert not [f for f in procflow.lint(discovered.process) if str(f.severity) == "error"]
    report = procflow.check_log(discovered.process, procflow.read_log(str(simulated)))
    assert report.conformance >= 0.99


def test_without_forks_the_same_log_is_alternatives(simulated: Path) -> None:
    """The model without a fork conforms much worse on the same log: the fork is what fits."""
    plain = discover(procflow.read_log(str(simulated)), forks=False)
    assert not [s for s in plain.process.steps.values() if s.parallel]
    report = procflow.check_log(plain.process, procflow.read_log(str(simulated)))
    assert report.conformance < 0.9


def _events(*cases: str) -> list[Event]:
    events = []
    for n, trace in enumerate(cases):
        for i, activity in enumerate(trace.split()):
            events.append(Event(f"c{n}", activity, float(n * 100 + i)))
    return events


def test_a_short_loop_is_not_concurrency() -> None:
    table = read_table(_events(*["a b c b c d"] * 20, *["a c b d"] * 5))
    b, c = table.activities.index("b"), table.activities.index("c")
    count: dict[tuple[int, int], int] = {}
    loops: dict[tuple[int, int], int] = {}
    seq = table.activity.tolist()
    for i in range(len(seq) - 1):
        if table.case[i] == table.case[i + 1]:
            count[(seq[i], seq[i + 1])] = count.get((seq[i], seq[i + 1]), 0) + 1
    for i in range(len(seq) - 2):
        if table.case[i] == table.case[i + 2] and seq[i] == seq[i + 2]:
            loops[(seq[i], seq[i + 1])] = loops.get((seq[i], seq[i + 1]), 0) + 1
    assert not concurrent(b, c, count, loops)
    assert find_blocks(table, 0.05).blocks == []


def test_a_group_that_is_not_a_clean_block_stays_alternatives() -> None:
    """b and c interleave, but half the cases do x between them: no block, and a note says why."""
    table = read_table(_events(*["a b c d"] * 10, *["a c b d"] * 10, *["a b x c d"] * 20))
    found = find_blocks(table, 0.05)
    assert found.blocks == []
    assert found.notes
    assert "kept as alternatives" in found.notes[0]


def test_the_onboarding_fork_comes_back(tmp_path: Path) -> None:
    """processes/employee-onboarding.yaml: payroll races IT setup then the workplace.

    Payroll nearly always finishes first, so the directly-follows orders
    alone would not show ``register-payroll || prepare-workplace``; the
    start times (overlapping intervals) do.
    """
    log = tmp_path / "onboarding.csv"
    procflow.simulate(
        "processes/employee-onboarding.yaml", cases=600, runs=1, seed=3, warmup=0, jobs=1, log=log
    )
    found = discover(procflow.read_log(str(log)))
    assert [sorted(b) for b in found.found.blocks[0].branches] == [
        ["register-payroll"],
        ["create-accounts", "prepare-workplace"],
    ]
    fork = found.process.steps["fork-1"]
    assert fork.parallel is not None
    assert len(fork.parallel) == 2
    codes = {f.code for f in procflow.lint(found.process)}
    assert not codes & {"PF701", "PF702", "PF703", "PF704"}


def test_concurrency_needs_comparable_orders_without_start_times() -> None:
    """60/40 orders are concurrent; 90/10 is a sequence with exceptions (HM dependency 0.8)."""
    count = {(0, 1): 60, (1, 0): 40, (2, 3): 90, (3, 2): 10}
    assert concurrent(0, 1, count, {})
    assert not concurrent(2, 3, count, {})
    assert concurrent(2, 3, count, {(-3, 3): 5})  # intervals overlap: concurrent anyway


def test_the_permit_log_stays_alternatives_and_says_why() -> None:
    """receipt.csv does the confirmation chain before the stop-advice chain in most cases.

    T05 -> T06 791 times against 16: a fork there would interleave the
    chains at random in simulation (3-gram distance 0.076 -> 0.295 measured
    with a 1% order share: docs/discover.md#parallel-work).
    """
    found = discover(procflow.read_log("examples/logs/receipt.csv"), min_share=0.01)
    assert found.found.blocks == []
    assert not [s for s in found.process.steps.values() if s.parallel]
    assert any("T02 Check confirmation of receipt" in n for n in found.found.parallel_notes)
