"""How fast is ``procflow simulate`` next to SimPy (and a hand-written loop) on one model?

The model (issue 5): customer-service tickets -- intake, triage, 70 % resolve
/ 30 % escalate to tier 2, resolve, the customer confirms (an external
owner, a pure delay), 85 % closed / 15 % reopened back to triage at most
three times; arrivals 12/h; support agents: capacity 6, tier 2: capacity 4;
the durations of ``processes/customer-service.yaml`` (utilizations about
0.83 and 0.89).

In one process and on the same machine this script times

* ``procflow``: :func:`procflow.simulate` on the model written as a procflow
  YAML file -- the generic simulator, nothing specific to this model;
* ``simpy``: the same model written the idiomatic SimPy way (a process per
  case, ``Resource`` requests, Python's ``random``);
* ``hand-written``: a heapq event loop written for this one model only,
  the kind of code the generic simulator has to keep up with;

each simulating ``--cases`` cases (one run, one core), ``--rounds`` times
with different seeds, taking the best CPU time; prints cases per second and
the ratios, checks that procflow and SimPy agree on the mean cycle time
(within 4 standard errors over the rounds), and measures the peak memory
(``ru_maxrss``) of procflow simulating 100,000 and ``--memory-cases``
cases in fresh subprocesses.

Targets: procflow >= 8x SimPy; 1,000,000 cases under 150 MB peak RSS.
Exit status 1 when a target is missed or the models disagree.

Run: ``python benchmarks/sim_bench.py [--cases 100000] [--rounds 5]``
(SimPy is a benchmark-only dependency: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

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
    start = time.process_time()
    mean = runner(cases, seed)
    return cases / (time.process_time() - start), mean


PEAK = textwrap.dedent(
    """\
    import resource, sys
    import procflow
    process = procflow.load(sys.argv[1])
    cases = int(sys.argv[2])
    if cases:
        procflow.simulate(process, cases=cases, runs=1, seed=1, warmup=0, jobs=1)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
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
    return int(out.strip()) / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-cases", type=int, default=1_000_000)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark-customer-service.yaml"
        path.write_text(MODEL, encoding="utf-8")
        runners = {
            "procflow": procflow_runner(path),
            "simpy": run_simpy,
            "hand-written": run_hand_written,
        }
        rates: dict[str, list[float]] = {name: [] for name in runners}
        means: dict[str, list[float]] = {name: [] for name in runners}
        print(
            f"customer-service model, {args.cases:,} cases, one run on one core, "
            f"best of {args.rounds} rounds (CPU time)"
        )
        for round_ in range(args.rounds):
            for name, runner in runners.items():
                rate, mean = best_rate(runner, args.cases, seed=round_ + 1)
                rates[name].append(rate)
                means[name].append(mean)
        best = {name: max(values) for name, values in rates.items()}
        for name in runners:
            mean_hours = statistics.fmean(means[name]) / 3600.0
            print(f"  {name:<13} {best[name]:>10,.0f} cases/s   mean cycle time {mean_hours:.3f}h")
        ratio = best["procflow"] / best["simpy"]
        print(f"  procflow / simpy        {ratio:6.1f}x   (target >= 8x)")
        print(f"  procflow / hand-written {best['procflow'] / best['hand-written']:6.2f}x")

        ok = ratio >= 8.0
        spread = (
            math.sqrt(
                sum(statistics.variance(means[n]) / len(means[n]) for n in ("procflow", "simpy"))
            )
            if args.rounds > 1
            else math.inf
        )
        gap = abs(statistics.fmean(means["procflow"]) - statistics.fmean(means["simpy"]))
        agree = gap <= 4.0 * spread if math.isfinite(spread) else True
        print(
            f"  mean cycle time: procflow - simpy = {gap / 60.0:.2f} min "
            f"({'agree' if agree else 'DISAGREE'}: 4 standard errors = {4 * spread / 60.0:.2f} min)"
        )
        ok = ok and agree

        if not args.no_memory:
            base = peak_mb(path, 0)
            small = peak_mb(path, 100_000)
            large = peak_mb(path, args.memory_cases)
            print(
                f"  peak memory (ru_maxrss): imports {base:.0f} MB, 100,000 cases "
                f"{small:.0f} MB, {args.memory_cases:,} cases {large:.0f} MB (target < 150 MB)"
            )
            ok = ok and large < 150.0
        print("OK" if ok else "TARGET MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
