"""How fast is ``procflow simulate`` next to SimPy, Ciw, Prosimos (and a hand-written loop)?

The model (issue 5): customer-service tickets -- intake, triage, 70 % resolve
/ 30 % escalate to tier 2, resolve, the customer confirms (an external
owner, a pure delay), 85 % closed / 15 % reopened back to triage at most
three times; arrivals 12/h; support agents: capacity 6, tier 2: capacity 4;
the durations of ``processes/customer-service.yaml`` (utilizations about
0.83 and 0.89).

On the same machine this script times

* ``procflow``: :func:`procflow.simulate` on the model written as a procflow
  YAML file -- the generic simulator, nothing specific to this model;
* ``simpy``: the same model written the idiomatic SimPy way (a process per
  case, ``Resource`` requests, Python's ``random``);
* ``hand-written``: a heapq event loop written for this one model only,
  the kind of code the generic simulator has to keep up with;
* ``ciw``: the model as a Ciw queueing network -- one node per pool (6
  and 4 servers, the customer an infinite-server node), the step a case
  is at (and how often it was reopened) as its customer class, moves as
  class-change matrices and per-class routing matrices;
* ``prosimos``: the model as BPMN + JSON simulation parameters
  (``benchmarks/peers/``), run by Prosimos in a subprocess with its own
  interpreter (it pins ``pandas<3``, so it lives in its own venv, see
  ``benchmarks/peers/README.md``); Prosimos is slow, so it simulates
  ``--prosimos-cases`` cases a round, and its peak memory (VmHWM) is
  reported;

each simulating ``--cases`` cases (one run, one core), ``--rounds`` times
with different seeds, taking the best CPU time; prints cases per second and
the ratios, checks that each peer agrees with procflow on the mean cycle
time (within 4 standard errors over the rounds), and measures the peak
memory (VmHWM) of procflow simulating 100,000 and
``--memory-cases`` cases in fresh subprocesses. A peer that is not
installed or fails is reported with the reason and skipped.

Then a fork-heavy variant (docs/parallel-work.md: a fork of three branches,
a nested race between a customer's signature and a time-out, a join) runs
on procflow's token engine beside the same model in SimPy (processes per
branch, ``all_of`` and ``any_of``), ``--fork-cases`` cases a round, with the
same agreement check on the mean cycle time (``--skip forks`` leaves it out).

**Priority variant** (issue 14, docs/attributes.md): one pool of 3 servers,
exponential(10m) work, arrivals 15/h (utilization 0.83), two classes (30 %
urgent, 70 % routine) served by non-preemptive priority; procflow (the
token engine with attributes) beside SimPy's ``PriorityResource``, both
also held against Cobham's M/M/c priority formula per class.

Targets: procflow >= 8x SimPy and >= 100x Prosimos; 1,000,000 cases under
150 MB peak RSS. Exit status 1 when a measured target is missed or a
model disagrees.

``--calendar`` times the working-time variant instead (docs/working-time.md):
the same model with both staff pools working Mon-Fri 08:00-18:00 and
cases arriving at 12/h only while the office is open (the customer still
answers around the clock), next to the same model without calendars and
to SimPy written the obvious way -- a working-time ``timeout`` loop per
service that holds the unit through the closed hours, and arrivals drawn
on the open-hours clock. Targets: the calendar model at least half the
speed of the plain one, and the mean cycle times agree with SimPy.

Run: ``python benchmarks/sim_bench.py [--cases 100000] [--rounds 5] [--calendar]``
(SimPy and Ciw are benchmark-only dependencies: ``pip install --group bench``).
"""

from __future__ import annotations

import argparse
import functools
import heapq
import importlib.util
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import PEAK_RSS, ratio_line, timed

MODEL = """\
process: benchmark-customer-service
owners:
  support-agent: {capacity: 6}
  tier2: {capacity: 4}
  customer: {external: true}
arrivals:
  rate: 12/h
start: intake
steps:
  intake:
    owner: support-agent
    duration: exponential(6m)
    next: triage
  triage:
    owner: support-agent
    duration: lognormal(4m, 2m)
    on:
      simple: {to: resolve, p: 0.7}
      complex: {to: escalate, p: 0.3}
  escalate:
    owner: tier2
    duration: triangular(20m, 40m, 90m)
    next: resolve
  resolve:
    owner: support-agent
    duration: exponential(12m)
    next: confirm
  confirm:
    owner: customer
    duration: exponential(4h)
    on:
      accepted: {to: closed, p: 0.85}
      reopened: {to: triage, p: 0.15, feedback: true, max: 3}
  closed:
    end: true
"""

MINUTE = 60.0
RATE = 12.0 / 3600.0
AGENTS, TIER2 = 6, 4
INTAKE, RESOLVE, CONFIRM = 6 * MINUTE, 12 * MINUTE, 240 * MINUTE
ESCALATE = (20 * MINUTE, 90 * MINUTE, 40 * MINUTE)  # low, high, mode (random.triangular)
TRIAGE_MEAN, TRIAGE_SD = 4 * MINUTE, 2 * MINUTE
P_ESCALATE, P_REOPEN, MAX_REOPEN = 0.3, 0.15, 3


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


# -- SimPy ----------------------------------------------------------------------------


def run_simpy(cases: int, seed: int) -> float:
    """The model the idiomatic SimPy way; returns the mean cycle time (seconds)."""
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, AGENTS)
    tier2 = simpy.Resource(env, TIER2)
    mu, sigma = lognormal_params(TRIAGE_MEAN, TRIAGE_SD)
    total = [0.0]

    def case(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        with agents.request() as request:
            yield request
            yield env.timeout(rnd.expovariate(1.0 / INTAKE))
        reopened = 0
        while True:
            with agents.request() as request:
                yield request
                yield env.timeout(rnd.lognormvariate(mu, sigma))
            if rnd.random() < P_ESCALATE:
                with tier2.request() as request:
                    yield request
                    yield env.timeout(rnd.triangular(*ESCALATE))
            with agents.request() as request:
                yield request
                yield env.timeout(rnd.expovariate(1.0 / RESOLVE))
            yield env.timeout(rnd.expovariate(1.0 / CONFIRM))
            if reopened < MAX_REOPEN and rnd.random() < P_REOPEN:
                reopened += 1
                continue
            break
        total[0] += env.now - arrived

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(cases):
            yield env.timeout(rnd.expovariate(RATE))
            env.process(case(env))

    env.process(source(env))
    env.run()
    return total[0] / cases


# -- the fork-heavy variant (docs/parallel-work.md) -------------------------------------

FORK_MODEL = """\
process: benchmark-forks
owners:
  clerk: {capacity: 3}
  it: {capacity: 2}
  hr: {capacity: 2}
  customer: {external: true}
arrivals:
  rate: 6/h
start: receive
steps:
  receive:
    owner: clerk
    duration: exponential(5m)
    parallel: [it-setup, paperwork, reply]
  it-setup:
    owner: it
    duration: exponential(15m)
    next: ready
  paperwork:
    owner: hr
    duration: exponential(12m)
    on:
      ok: {to: ready, p: 0.8}
      redo: {to: paperwork, p: 0.2, feedback: true, max: 2}
  reply:
    owner: customer
    duration: exponential(30m)
    parallel: [sign, timeout]
  sign:
    owner: customer
    duration: exponential(20m)
    next: signed
  timeout:
    owner: customer
    duration: 40m
    next: signed
  signed:
    join: first
    owner: clerk
    duration: 2m
    next: ready
  ready:
    join: all
    owner: clerk
    duration: exponential(4m)
    next: done
  done:
    end: true
"""
FORK_RATE = 6.0 / 3600.0
CLERKS, IT, HR = 3, 2, 2
RECEIVE, IT_SETUP, PAPERWORK, REPLY = 5 * MINUTE, 15 * MINUTE, 12 * MINUTE, 30 * MINUTE
SIGN, TIMEOUT, SIGNED, READY = 20 * MINUTE, 40 * MINUTE, 2 * MINUTE, 4 * MINUTE
P_REDO, MAX_REDO = 0.2, 2


def run_simpy_forks(cases: int, seed: int) -> float:
    """The fork-heavy model the idiomatic SimPy way: a process per branch, ``all_of`` for
    the join, ``any_of`` for the race; returns the mean cycle time (seconds)."""
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    clerk = simpy.Resource(env, CLERKS)
    it = simpy.Resource(env, IT)
    hr = simpy.Resource(env, HR)
    total = [0.0]

    def work(resource: Any, mean: float) -> simpy.events.ProcessGenerator:
        with resource.request() as request:
            yield request
            yield env.timeout(rnd.expovariate(1.0 / mean))

    def paperwork(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        redone = 0
        while True:
            yield env.process(work(hr, PAPERWORK))
            if redone < MAX_REDO and rnd.random() < P_REDO:
                redone += 1
                continue
            return

    def reply(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        yield env.timeout(rnd.expovariate(1.0 / REPLY))
        yield env.timeout(rnd.expovariate(1.0 / SIGN)) | env.timeout(TIMEOUT)  # the race
        with clerk.request() as request:
            yield request
            yield env.timeout(SIGNED)

    def case(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        yield env.process(work(clerk, RECEIVE))
        yield env.all_of(
            [env.process(work(it, IT_SETUP)), env.process(paperwork(env)), env.process(reply(env))]
        )
        yield env.process(work(clerk, READY))
        total[0] += env.now - arrived

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(cases):
            yield env.timeout(rnd.expovariate(FORK_RATE))
            env.process(case(env))

    env.process(source(env))
    env.run()
    return total[0] / cases


# -- the working-time variant (--calendar) ----------------------------------------------------

CALENDAR_MODEL = MODEL.replace(
    "owners:\n  support-agent: {capacity: 6}\n  tier2: {capacity: 4}\n",
    'calendars:\n  office: {timezone: UTC, hours: {mon-fri: "08:00-18:00"}}\n'
    "owners:\n  support-agent: {capacity: 6, calendar: office}\n"
    "  tier2: {capacity: 4, calendar: office}\n",
).replace("  rate: 12/h\n", "  rate: 12/h\n  calendar: office\n")
CALENDAR_START = "2027-01-04T00:00+00:00"  # a Monday: simulation time 0 in both peers
WEEK, OPEN, CLOSE, WORKDAYS = 7 * 86400.0, 8 * 3600.0, 18 * 3600.0, 5


def next_open(t: float) -> float:
    """The first instant at or after ``t`` when the office (Mon-Fri 08-18 UTC) is open."""
    while True:
        day, clock = divmod(t % WEEK, 86400.0)
        if day < WORKDAYS and clock < CLOSE:
            return t if clock >= OPEN else t - clock + OPEN
        t = t - clock + 86400.0


def open_until(t: float) -> float:
    """When the office closes after the open instant ``t``."""
    return t - (t % 86400.0) + CLOSE


def run_simpy_calendar(cases: int, seed: int) -> float:
    """The calendar model the obvious SimPy way; returns the mean cycle time (seconds)."""
    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, AGENTS)
    tier2 = simpy.Resource(env, TIER2)
    mu, sigma = lognormal_params(TRIAGE_MEAN, TRIAGE_SD)
    total = [0.0]

    def work(env: simpy.Environment, seconds: float) -> simpy.events.ProcessGenerator:
        """Hold the unit for ``seconds`` of open time: pause while the office is closed."""
        while seconds > 0:
            start = next_open(env.now)
            if start > env.now:
                yield env.timeout(start - env.now)
            chunk = min(seconds, open_until(start) - start)
            yield env.timeout(chunk)
            seconds -= chunk

    def serve(env: simpy.Environment, pool: Any, seconds: float) -> simpy.events.ProcessGenerator:
        with pool.request() as request:
            yield request
            yield from work(env, seconds)

    def case(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        yield from serve(env, agents, rnd.expovariate(1.0 / INTAKE))
        reopened = 0
        while True:
            yield from serve(env, agents, rnd.lognormvariate(mu, sigma))
            if rnd.random() < P_ESCALATE:
                yield from serve(env, tier2, rnd.triangular(*ESCALATE))
            yield from serve(env, agents, rnd.expovariate(1.0 / RESOLVE))
            yield env.timeout(rnd.expovariate(1.0 / CONFIRM))
            if reopened < MAX_REOPEN and rnd.random() < P_REOPEN:
                reopened += 1
                continue
            break
        total[0] += env.now - arrived

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(cases):  # an exponential gap of open time, then the next case
            yield from work(env, rnd.expovariate(RATE))
            env.process(case(env))

    env.process(source(env))
    env.run()
    return total[0] / cases


def fork_section(folder: Path, cases: int, rounds: int, skip_simpy: bool) -> bool:
    """Time the fork-heavy model in procflow (the token engine) and SimPy; True when they
    agree on the mean cycle time."""
    path = folder / "benchmark-forks.yaml"
    path.write_text(FORK_MODEL, encoding="utf-8")
    runners: dict[str, Callable[[int, int], float]] = {"procflow": procflow_runner(path)}
    if not skip_simpy:
        runners["simpy"] = run_simpy_forks
    rates: dict[str, list[float]] = {name: [] for name in runners}
    means: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(rounds):
        for name, runner in runners.items():
            rate, mean = best_rate(runner, cases, round_ + 1)
            rates[name].append(rate)
            means[name].append(mean)
    print(
        f"fork-heavy model (a fork of three branches, a nested race, a join), {cases:,} cases, "
        f"best of {rounds} rounds (CPU time)"
    )
    for name in runners:
        mean_hours = statistics.fmean(means[name]) / 3600.0
        print(
            f"  {name:<13} {max(rates[name]):>10,.0f} cases/s   mean cycle time {mean_hours:.3f}h"
        )
    if "simpy" not in runners:
        print("  simpy         skipped")
        return True
    print(ratio_line("procflow / simpy", max(rates["procflow"]) / max(rates["simpy"]), 24))
    gap, spread = agreement(means, "simpy")
    agree = gap <= 4.0 * spread
    print(
        f"  mean cycle time: procflow - simpy = {gap / 60.0:.2f} min "
        f"({'agree' if agree else 'DISAGREE'}: 4 standard errors = {4 * spread / 60.0:.2f} min)"
    )
    return agree


def calendar_runner(path: Path) -> Callable[[int, int], float]:
    import procflow

    process = procflow.load(path)

    def run(cases: int, seed: int) -> float:
        result = procflow.simulate(
            process, cases=cases, runs=1, seed=seed, warmup=0, jobs=1, start=CALENDAR_START
        )
        mean = result["cycle_time.mean"].mean
        assert mean is not None
        return mean

    return run


def calendar_main(args: argparse.Namespace, folder: Path) -> int:
    """``--calendar``: the working-time variant beside the plain model and SimPy."""
    plain, calendar = folder / "plain.yaml", folder / "calendar.yaml"
    plain.write_text(MODEL, encoding="utf-8")
    calendar.write_text(CALENDAR_MODEL, encoding="utf-8")
    runners: dict[str, Callable[[int, int], float]] = {
        "procflow": procflow_runner(plain),
        "procflow-cal": calendar_runner(calendar),
    }
    if "simpy" not in args.skip and importlib.util.find_spec("simpy") is not None:
        runners["simpy-cal"] = run_simpy_calendar
    rates: dict[str, list[float]] = {name: [] for name in runners}
    means: dict[str, list[float]] = {name: [] for name in runners}
    print(
        f"calendar variant (staff Mon-Fri 08-18, arrivals while open), {args.cases:,} cases, "
        f"one run on one core, best of {args.rounds} rounds (CPU time)"
    )
    for round_ in range(args.rounds):
        for name, runner in runners.items():
            rate, mean = best_rate(runner, args.cases, round_ + 1)
            rates[name].append(rate)
            means[name].append(mean)
    best = {name: max(values) for name, values in rates.items()}
    for name in runners:
        mean_hours = statistics.fmean(means[name]) / 3600.0
        print(f"  {name:<13} {best[name]:>10,.0f} cases/s   mean cycle time {mean_hours:.3f}h")
    ratio = best["procflow-cal"] / best["procflow"]
    ok = ratio >= 0.5
    print(ratio_line("procflow-cal / procflow", ratio, 26, 2) + "   (target >= 0.5x)")
    if "simpy-cal" in best:
        print(ratio_line("procflow-cal / simpy-cal", best["procflow-cal"] / best["simpy-cal"], 26))
        means["procflow"], saved = means["procflow-cal"], means["procflow"]
        gap, spread = agreement(means, "simpy-cal")
        means["procflow"] = saved
        agree = gap <= 4.0 * spread
        print(
            f"  mean cycle time: procflow-cal - simpy-cal = {gap / 60.0:.2f} min "
            f"({'agree' if agree else 'DISAGREE'}: 4 standard errors = {4 * spread / 60.0:.2f} min)"
        )
        ok = ok and agree
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


# -- a heapq loop written for this one model ---------------------------------------------


def run_hand_written(cases: int, seed: int) -> float:
    """A specialised event loop: FIFO pools as heaps of server free times; mean cycle time."""
    rnd = random.Random(seed)
    expo, lognorm, tri, uniform = rnd.expovariate, rnd.lognormvariate, rnd.triangular, rnd.random
    mu, sigma = lognormal_params(TRIAGE_MEAN, TRIAGE_SD)
    agents, tier2 = [0.0] * AGENTS, [0.0] * TIER2
    events: list[tuple[float, int, int, float, int]] = []  # (time, seq, where, arrived, reopens)
    push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
    seq, clock, left, total = 0, expo(RATE), cases, 0.0
    while left or events:
        if left and (not events or clock <= events[0][0]):
            t, where, arrived, reopens = clock, 0, clock, 0
            left -= 1
            clock += expo(RATE)
        else:
            t, _, where, arrived, reopens = pop(events)
        if where == 0:  # intake
            t = max(t, agents[0]) + expo(1.0 / INTAKE)
            replace(agents, t)
            where = 1
        elif where == 1:  # triage
            t = max(t, agents[0]) + lognorm(mu, sigma)
            replace(agents, t)
            where = 2 if uniform() < P_ESCALATE else 3
        elif where == 2:  # escalate
            t = max(t, tier2[0]) + tri(*ESCALATE)
            replace(tier2, t)
            where = 3
        else:  # resolve, then the customer confirms (a pure delay)
            t = max(t, agents[0]) + expo(1.0 / RESOLVE)
            replace(agents, t)
            t += expo(1.0 / CONFIRM)
            if reopens < MAX_REOPEN and uniform() < P_REOPEN:
                where, reopens = 1, reopens + 1
            else:
                total += t - arrived
                continue
        seq += 1
        push(events, (t, seq, where, arrived, reopens))
    return total / cases


# -- Ciw ------------------------------------------------------------------------------------


def run_ciw(cases: int, seed: int) -> float:
    """The model as a Ciw network; returns the mean cycle time (seconds).

    Ciw's servers belong to a node, so each pool is one node (support
    agents: 6 servers, tier 2: 4, the customer: infinitely many, a pure
    delay) and all steps of a pool share its FIFO queue, as in procflow. A
    case's step is its customer class (``triage1``: triage after one
    reopen); after a service the class-change matrix of the node draws the
    next step (70/30, 85/15, the fourth confirm always closes) and the
    class's routing matrix sends the case to that step's node.
    """
    import ciw

    class Arrivals(ciw.dists.Distribution):  # type: ignore[misc]
        """Exponential inter-arrival times for ``cases`` cases, then none."""

        def __init__(self) -> None:
            self.left = cases

        def sample(self, t: float | None = None, ind: object = None) -> float:
            if self.left == 0:
                return math.inf
            self.left -= 1
            return random.expovariate(RATE)

    ciw.seed(seed)
    agents, tier2, customer = range(3)
    reopens = range(MAX_REOPEN + 1)
    node: dict[str, int | None] = {"intake": agents, "closed": None}
    mu, sigma = lognormal_params(TRIAGE_MEAN, TRIAGE_SD)
    low, high, mode = ESCALATE
    durations: dict[str, Any] = {"intake": ciw.dists.Exponential(1.0 / INTAKE)}
    for k in reopens:
        node |= {f"triage{k}": agents, f"escalate{k}": tier2}
        node |= {f"resolve{k}": agents, f"confirm{k}": customer}
        durations[f"triage{k}"] = ciw.dists.Lognormal(mu, sigma)
        durations[f"escalate{k}"] = ciw.dists.Triangular(low, mode, high)
        durations[f"resolve{k}"] = ciw.dists.Exponential(1.0 / RESOLVE)
        durations[f"confirm{k}"] = ciw.dists.Exponential(1.0 / CONFIRM)
    classes = list(node)
    change = [{a: {b: float(a == b) for b in classes} for a in classes} for _ in range(3)]

    def then(where: int, step: str, after: dict[str, float]) -> None:
        change[where][step] = {b: after.get(b, 0.0) for b in classes}

    then(agents, "intake", {"triage0": 1.0})
    for k in reopens:
        then(agents, f"triage{k}", {f"resolve{k}": 1 - P_ESCALATE, f"escalate{k}": P_ESCALATE})
        then(tier2, f"escalate{k}", {f"resolve{k}": 1.0})
        then(agents, f"resolve{k}", {f"confirm{k}": 1.0})
        reopen = {f"triage{k + 1}": P_REOPEN, "closed": 1 - P_REOPEN}
        then(customer, f"confirm{k}", reopen if k < MAX_REOPEN else {"closed": 1.0})
    unused = ciw.dists.Deterministic(0.0)
    network = ciw.create_network(
        arrival_distributions={
            c: [Arrivals() if c == "intake" else None, None, None] for c in classes
        },
        service_distributions={
            c: [durations[c] if node[c] == n else unused for n in range(3)] for c in classes
        },
        routing={c: [[float(node[c] == n) for n in range(3)] for _ in range(3)] for c in classes},
        class_change_matrices=change,
        number_of_servers=[AGENTS, TIER2, float("inf")],
    )
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(cases, method="Complete")
    done = simulation.nodes[-1].all_individuals
    assert len(done) == cases, f"ciw completed {len(done)} of {cases} cases"
    total = 0.0
    for case in done:
        records = case.data_records
        total += records[-1].exit_date - records[0].arrival_date
    return total / cases


# -- Prosimos (in its own interpreter) ---------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
PROSIMOS_VENV = ROOT / ".venv" / "prosimos"
PROSIMOS_INSTALL = (
    f"python -m venv {PROSIMOS_VENV.relative_to(ROOT)} && "
    f"{(PROSIMOS_VENV / 'bin' / 'pip').relative_to(ROOT)} install "
    f"-r {(PEERS / 'requirements-prosimos.txt').relative_to(ROOT)}"
)

PROSIMOS_RUN = textwrap.dedent(
    """\
    import json, random, sys, time

    def hwm():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

    import numpy
    from prosimos.simulation_engine import run_simulation

    bpmn, parameters, cases, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    base = hwm()
    random.seed(seed)
    numpy.random.seed(seed)
    start = time.process_time()
    # No output files: Prosimos then returns its KPIs in memory, like procflow.simulate.
    (kpi, *_), _ = run_simulation(bpmn, parameters, cases, starting_at="2026-01-05T00:00:00+00:00")
    cpu = time.process_time() - start
    # idle_cycle_time: arrival to completion in wall-clock time (its cycle_time leaves
    # out off-calendar time, and the calendar here is 24/7 anyway).
    cycle = kpi.idle_cycle_time
    print(json.dumps({"cpu": cpu, "mean": cycle.avg, "count": cycle.count,
                      "hwm_kb": hwm(), "base_kb": base}))
    """
)


def prosimos_python(choice: str | None) -> tuple[str | None, str]:
    """The interpreter that has Prosimos, or ``None`` and why there is none."""
    candidates = [choice] if choice else []
    candidates += [os.environ.get("PROSIMOS_PYTHON", "")]
    if importlib.util.find_spec("prosimos") is not None:
        candidates.append(sys.executable)
    candidates.append(str(PROSIMOS_VENV / "bin" / "python"))
    for python in filter(None, candidates):
        if Path(python).exists():
            return os.path.abspath(python), ""  # abspath: a venv's python is a symlink
        if python == choice:
            return None, f"{python} does not exist"
    return None, f"not installed (install it in its own venv: {PROSIMOS_INSTALL})"


def truncated_normal_moments(mu: float, sd: float, low: float, high: float) -> tuple[float, float]:
    """Mean and standard deviation of a normal truncated to ``[low, high]``."""

    def pdf(z: float) -> float:
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(z: float) -> float:
        return (1 + math.erf(z / math.sqrt(2))) / 2

    a, b = (low - mu) / sd, (high - mu) / sd
    mass = cdf(b) - cdf(a)
    shift = (pdf(a) - pdf(b)) / mass
    variance = 1 + (a * pdf(a) - b * pdf(b)) / mass - shift**2
    return mu + sd * shift, sd * math.sqrt(variance)


def prosimos_escalate(path: Path) -> tuple[float, float, float, float]:
    """``(mu, sd, low, high)`` of the truncated normal that stands in for escalate's triangle."""
    for task in json.loads(path.read_text(encoding="utf-8"))["task_resource_distribution"]:
        if task["task_id"] == "escalate":
            mu, sd, low, high = (
                float(p["value"]) for p in task["resources"][0]["distribution_params"]
            )
            return mu, sd, low, high
    raise LookupError(f"{path}: no task escalate")


def check_prosimos_parameters(path: Path) -> list[str]:
    """Differences between ``customer-service.json`` and this script's model."""
    data = json.loads(path.read_text(encoding="utf-8"))

    def params(entry: dict[str, Any]) -> tuple[str, list[float]]:
        return entry["distribution_name"], [float(p["value"]) for p in entry["distribution_params"]]

    tasks = {t["task_id"]: t["resources"][0] for t in data["task_resource_distribution"]}
    events = {e["event_id"]: e for e in data["event_distribution"]}
    pools = {
        r["id"]: r["amount"] for pool in data["resource_profiles"] for r in pool["resource_list"]
    }
    branch = {
        p["path_id"]: float(p["value"])
        for g in data["gateway_branching_probabilities"]
        for p in g["probabilities"]
    }
    rules = {r["id"]: r["rules"] for r in data["branch_rules"]}
    counter = {
        e["event_id"]: [(a["name"], a["type"], a["values"]) for a in e["attributes"]]
        for e in data["event_attributes"]
    }
    low, high, mode = ESCALATE
    tri_mean = (low + mode + high) / 3
    tri_sd = math.sqrt((low**2 + mode**2 + high**2 - low * mode - low * high - mode * high) / 18)
    name, (mu, sd, lo, hi) = params(tasks["escalate"])
    got_mean, got_sd = truncated_normal_moments(mu, sd, lo, hi)
    expected = {
        "arrivals": (params(data["arrival_time_distribution"]), ("expon", [1 / RATE])),
        "intake": (params(tasks["intake"]), ("expon", [INTAKE])),
        "triage": (params(tasks["triage"]), ("lognorm", [TRIAGE_MEAN, TRIAGE_SD**2])),
        "resolve": (params(tasks["resolve"]), ("expon", [RESOLVE])),
        "confirm": (params(events["confirm"]), ("expon", [CONFIRM])),
    }
    problems = []
    for what, ((got_name, got), (want_name, want)) in expected.items():
        if got_name != want_name or any(
            not math.isclose(g, w, rel_tol=1e-9) for g, w in zip(got, want, strict=False)
        ):
            problems.append(f"{what}: {got_name}{got} is not {want_name}{want}")
        if got_name == "expon" and (got[1:2] != [0.0] or got[2:] < [100 * got[0]]):
            problems.append(f"{what}: exponential cut at {got[1:]} (want [0, far above the mean])")
    if name != "norm" or (lo, hi) != (low, high):
        problems.append(f"escalate: {name} on [{lo}, {hi}] is not a normal on [{low}, {high}]")
    if abs(got_mean - tri_mean) > 1e-3 * tri_mean or abs(got_sd - tri_sd) > 1e-3 * tri_sd:
        problems.append(
            f"escalate: mean/sd {got_mean:.1f}/{got_sd:.1f} s, "
            f"triangular {tri_mean:.1f}/{tri_sd:.1f} s"
        )
    if pools != {"agent": AGENTS, "tier2": TIER2}:
        problems.append(f"pools {pools} are not agent: {AGENTS}, tier2: {TIER2}")
    want_branch = {"f_simple": 1 - P_ESCALATE, "f_complex": P_ESCALATE}
    want_branch |= {"f_accepted": 1 - P_REOPEN, "f_reopened": P_REOPEN}
    if branch != want_branch:
        problems.append(f"branching {branch} is not {want_branch}")
    # The reopen loop's max: 3 -- the k-th confirm may reopen while resolve ran k <= 3 times.
    want_rules = {
        "always": [[{"attribute": "resolved", "comparison": ">=", "value": "1"}]],
        "reopen-allowed": [
            [{"attribute": "resolved", "comparison": "<=", "value": str(MAX_REOPEN)}]
        ],
    }
    want_counter = {
        "intake": [("resolved", "expression", "0")],
        "resolve": [("resolved", "expression", "resolved + 1")],
    }
    if rules != want_rules or counter != want_counter:
        problems.append(f"the reopen limit is not resolve counted and 'resolved <= {MAX_REOPEN}'")
    return problems


class ProsimosPeer:
    """Runs Prosimos in a fresh interpreter per round; remembers its peak memory."""

    def __init__(self, python: str, cases: int) -> None:
        self.python, self.cases = python, cases
        self.peaks: list[tuple[float, float]] = []  # (VmHWM MB after imports, at the end)

    def run(self, seed: int) -> tuple[float, float]:
        """``(cases per CPU second, mean cycle time)`` of one run of ``self.cases`` cases."""
        done = subprocess.run(
            [
                self.python,
                "-c",
                PROSIMOS_RUN,
                str(PEERS / "customer-service.bpmn"),
                str(PEERS / "customer-service.json"),
                str(self.cases),
                str(seed),
            ],
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no error message"])[-1]
            raise RuntimeError(f"exit status {done.returncode}: {last}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["count"] != self.cases:
            raise RuntimeError(f"completed {result['count']} of {self.cases} cases")
        self.peaks.append((result["base_kb"] / 1024.0, result["hwm_kb"] / 1024.0))
        return self.cases / result["cpu"], float(result["mean"])


# -- procflow ------------------------------------------------------------------------------


def procflow_runner(path: Path) -> Callable[[int, int], float]:
    import procflow

    process = procflow.load(path)

    def run(cases: int, seed: int) -> float:
        result = procflow.simulate(process, cases=cases, runs=1, seed=seed, warmup=0, jobs=1)
        mean = result["cycle_time.mean"].mean
        assert mean is not None
        return mean

    return run


def best_rate(runner: Callable[[int, int], float], cases: int, seed: int) -> tuple[float, float]:
    """``(cases per CPU second, mean cycle time)`` of one timed run."""
    mean, seconds = timed(functools.partial(runner, cases, seed), time.process_time)
    return cases / seconds, mean


PEAK = PEAK_RSS + textwrap.dedent(
    """\
    import sys
    import procflow
    process = procflow.load(sys.argv[1])
    cases = int(sys.argv[2])
    if cases:
        procflow.simulate(process, cases=cases, runs=1, seed=1, warmup=0, jobs=1)
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would
    # report the peak of this script's own process (large after the Ciw runs).
    print(peak_rss_mb())
    """
)


def peak_mb(path: Path, cases: int) -> float:
    """Peak resident memory (MB) of a fresh interpreter simulating ``cases`` cases."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(path), str(cases)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip())


PRIORITY_MODEL = """\
process: benchmark-priority
owners:
  agents: {capacity: 3}
arrivals:
  rate: 15/h
attributes:
  urgency: {urgent: 30%, routine: 70%}
priority: urgency
start: serve
steps:
  serve: {owner: agents, duration: exponential(10m), next: done}
  done: {end: true}
"""
PRIORITY_SERVERS, PRIORITY_RATE, PRIORITY_MEAN, URGENT = 3, 15 / 3600, 600.0, 0.3


def run_simpy_priority(cases: int, seed: int) -> tuple[float, float]:
    """Mean waits ``(urgent, routine)`` of the priority model, the SimPy way."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.PriorityResource(env, PRIORITY_SERVERS)
    waits: tuple[list[float], list[float]] = ([], [])

    def case(env: simpy.Environment, urgent: int) -> simpy.events.ProcessGenerator:
        arrived = env.now
        with agents.request(priority=0 if urgent else 1) as request:
            yield request
            waits[0 if urgent else 1].append(env.now - arrived)
            yield env.timeout(rng.expovariate(1.0 / PRIORITY_MEAN))

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(cases):
            yield env.timeout(rng.expovariate(PRIORITY_RATE))
            env.process(case(env, rng.random() < URGENT))

    env.process(source(env))
    env.run()
    return statistics.fmean(waits[0]), statistics.fmean(waits[1])


def cobham_mmc(servers: int, rate: float, mean: float, share: float) -> tuple[float, float]:
    """Non-preemptive M/M/c priority waits ``(urgent, routine)``, one service rate."""
    load = rate * mean
    term = sum(load**k / math.factorial(k) for k in range(servers))
    last = load**servers / math.factorial(servers) / (1 - load / servers)
    fifo = last / (term + last) * mean / (servers - load)
    sigma1, sigma = share * load / servers, load / servers
    return (
        fifo * (1 - sigma) / (1 - sigma1),
        fifo * (1 - sigma) / ((1 - sigma1) * (1 - sigma)),
    )


def priority_variant(cases: int, rounds: int) -> None:
    """Time the priority model on procflow and SimPy; print rates and per-class waits."""
    import procflow

    process = procflow.load_text(PRIORITY_MODEL)

    def run_procflow(seed: int) -> tuple[float, float]:
        result = procflow.simulate(process, cases=cases, runs=1, seed=seed, warmup=0, jobs=1)
        urgent = result["class:urgency=urgent.wait_time.mean"].mean
        routine = result["class:urgency=routine.wait_time.mean"].mean
        assert urgent is not None
        assert routine is not None
        return urgent, routine

    def run_simpy(seed: int) -> tuple[float, float]:
        return run_simpy_priority(cases, seed)

    best: dict[str, float] = {}
    waits: dict[str, list[tuple[float, float]]] = {"procflow": [], "simpy": []}
    for round_ in range(rounds):
        for name, run in (("procflow", run_procflow), ("simpy", run_simpy)):
            wait, seconds = timed(functools.partial(run, round_ + 1), time.process_time)
            waits[name].append(wait)
            best[name] = max(best.get(name, 0.0), cases / seconds)
    theory = cobham_mmc(PRIORITY_SERVERS, PRIORITY_RATE, PRIORITY_MEAN, URGENT)
    print(
        f"priority variant (3 servers, 2 classes, non-preemptive), {cases:,} cases, "
        f"best of {rounds} rounds (CPU time)"
    )
    for name in ("procflow", "simpy"):
        urgent = statistics.fmean(w[0] for w in waits[name]) / 60.0
        routine = statistics.fmean(w[1] for w in waits[name]) / 60.0
        print(
            f"  {name:<13} {best[name]:>10,.0f} cases/s   mean wait urgent {urgent:.2f} min, "
            f"routine {routine:.2f} min"
        )
    print(
        f"  Cobham (M/M/c priority)           urgent {theory[0] / 60:.2f} min, "
        f"routine {theory[1] / 60:.2f} min"
    )
    print(ratio_line("procflow / simpy", best["procflow"] / best["simpy"], 22))


TARGETS = {"simpy": 8.0, "prosimos": 100.0}  # procflow / peer, cases per second
INSTALL_BENCH = "not installed (pip install --group bench)"


def agreement(means: dict[str, list[float]], peer: str) -> tuple[float, float]:
    """``|procflow - peer|`` of the mean cycle time and one standard error of it."""
    if min(len(means["procflow"]), len(means[peer])) < 2:
        return 0.0, math.inf
    spread = math.sqrt(
        sum(statistics.variance(means[n]) / len(means[n]) for n in ("procflow", peer))
    )
    return abs(statistics.fmean(means["procflow"]) - statistics.fmean(means[peer])), spread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-cases", type=int, default=1_000_000)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--prosimos-cases", type=int, default=10_000, help="cases per Prosimos run (it is slow)"
    )
    parser.add_argument("--prosimos-python", help="an interpreter that has Prosimos")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("simpy", "ciw", "prosimos", "forks", "priority"),
    )
    parser.add_argument(
        "--fork-cases", type=int, default=20_000, help="cases per run of the fork-heavy model"
    )
    parser.add_argument(
        "--calendar", action="store_true", help="time the working-time variant (calendars)"
    )
    args = parser.parse_args(argv)
    if args.calendar:
        with tempfile.TemporaryDirectory() as folder:
            return calendar_main(args, Path(folder))
    if "priority" not in args.skip and importlib.util.find_spec("simpy") is not None:
        priority_variant(args.cases, args.rounds)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark-customer-service.yaml"
        path.write_text(MODEL, encoding="utf-8")
        runners = {
            "procflow": procflow_runner(path),
            "simpy": run_simpy,
            "hand-written": run_hand_written,
            "ciw": run_ciw,
        }
        skipped = dict.fromkeys(args.skip, "--skip")
        if "forks" in skipped:
            del skipped["forks"]
            skip_forks = True
        else:
            skip_forks = False
        for name in ("simpy", "ciw"):
            if name not in skipped and importlib.util.find_spec(name) is None:
                skipped[name] = INSTALL_BENCH
        runs: dict[str, Callable[[int], tuple[float, float]]] = {
            name: functools.partial(best_rate, runner, args.cases)
            for name, runner in runners.items()
            if name not in skipped
        }
        prosimos: ProsimosPeer | None = None
        if "prosimos" not in skipped:
            python, why = prosimos_python(args.prosimos_python)
            problems = check_prosimos_parameters(PEERS / "customer-service.json")
            if python is None:
                skipped["prosimos"] = why
            elif problems:
                skipped["prosimos"] = "customer-service.json is not the model: " + "; ".join(
                    problems
                )
            else:
                prosimos = ProsimosPeer(python, args.prosimos_cases)
                runs["prosimos"] = prosimos.run
        rates: dict[str, list[float]] = {name: [] for name in runs}
        means: dict[str, list[float]] = {name: [] for name in runs}
        print(
            f"customer-service model, {args.cases:,} cases, one run on one core, "
            f"best of {args.rounds} rounds (CPU time)"
        )
        for round_ in range(args.rounds):
            for name, run in list(runs.items()):
                try:
                    rate, mean = run(round_ + 1)
                except Exception as error:
                    if name in ("procflow", "hand-written"):
                        raise
                    skipped[name] = f"failed in round {round_ + 1}: {type(error).__name__}: {error}"
                    del runs[name], rates[name], means[name]
                    continue
                rates[name].append(rate)
                means[name].append(mean)
        best = {name: max(values) for name, values in rates.items()}
        for name in (*runners, "prosimos"):
            if name in skipped:
                print(f"  {name:<13} skipped: {skipped[name]}")
                continue
            mean_hours = statistics.fmean(means[name]) / 3600.0
            note = f"   ({args.prosimos_cases:,} cases a run)" if name == "prosimos" else ""
            print(
                f"  {name:<13} {best[name]:>10,.0f} cases/s   mean cycle time {mean_hours:.3f}h",
                end="",
            )
            print(note)
        ok = True
        for name in best:
            if name == "procflow":
                continue
            ratio = best["procflow"] / best[name]
            target = TARGETS.get(name)
            aim = f"   (target >= {target:.0f}x)" if target else ""
            digits = 2 if name == "hand-written" else 1
            print(ratio_line(f"procflow / {name}", ratio, 24, digits) + aim)
            ok = ok and (target is None or ratio >= target)
        for name in ("simpy", "ciw", "prosimos"):
            if name not in best:
                continue
            gap, spread = agreement(means, name)
            agree = gap <= 4.0 * spread
            print(
                f"  mean cycle time: procflow - {name} = {gap / 60.0:.2f} min "
                f"({'agree' if agree else 'DISAGREE'}: "
                f"4 standard errors = {4 * spread / 60.0:.2f} min)"
            )
            ok = ok and agree
        if prosimos is not None and prosimos.peaks:
            base_mb = max(base for base, _ in prosimos.peaks)
            peak = max(end for _, end in prosimos.peaks)
            print(
                f"  prosimos peak memory (VmHWM): imports {base_mb:.0f} MB, "
                f"{args.prosimos_cases:,} cases {peak:.0f} MB"
            )
        if "prosimos" in best:
            mu, sd, low, high = prosimos_escalate(PEERS / "customer-service.json")
            print(
                f"  prosimos has no triangular durations: escalate is a normal({mu / 60:.1f}m, "
                f"{sd / 60:.1f}m) cut to [{low / 60:.0f}m, {high / 60:.0f}m]: the triangle's "
                "mean and sd"
            )

        if not args.no_memory:
            base = peak_mb(path, 0)
            small = peak_mb(path, 100_000)
            large = peak_mb(path, args.memory_cases)
            print(
                f"  peak memory (VmHWM): imports {base:.0f} MB, 100,000 cases "
                f"{small:.0f} MB, {args.memory_cases:,} cases {large:.0f} MB (target < 150 MB)"
            )
            ok = ok and large < 150.0
        if not skip_forks:
            ok = fork_section(Path(folder), args.fork_cases, args.rounds, "simpy" in skipped) and ok
        verdict = "OK" if ok else "TARGET MISSED"
        print(verdict + (f" (skipped: {', '.join(skipped)})" if skipped else ""))
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
