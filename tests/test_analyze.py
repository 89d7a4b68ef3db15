"""The analytic model (SPEC section 4): visits, load, Erlang C, cycle time, goals.

Numbers are checked against hand computation, against an independent
path enumeration of SPEC 1.1's routing semantics, and against a full dense
solve of the unrolled chain.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator

import numpy as np
import pytest

import procflow
from helpers import CUSTOMER_SERVICE_247
from procflow.analysis import analyze, analyze_or_none, queueing
from procflow.analysis.routing import build_chain, solve_dense, solve_visits, step_visits
from procflow.errors import ProcessError, SimulationError
from procflow.loader import load_text
from procflow.model import Process

REL = 1e-3


def single(rate: str, duration: str, capacity: int, extra: str = "") -> Process:
    return load_text(
        f"""
process: desk
owners: {{agent: {{capacity: {capacity}}}}}
arrivals: {{{rate}}}
start: serve
steps:
  serve: {{owner: agent, duration: "{duration}", next: done}}
  done: {{end: true}}
{extra}
""",
        "desk.yaml",
    )


def rework(bound: str = "", p: float = 0.2) -> Process:
    return load_text(
        f"""
process: loop
owners: {{agent: {{capacity: 4}}}}
arrivals: {{rate: 1/h}}
start: work
steps:
  work:
    owner: agent
    duration: exponential(20m)
    on:
      ok: {{to: done, p: {1 - p}}}
      redo: {{to: work, p: {p}, feedback: true{bound}}}
  done: {{end: true}}
""",
        "loop.yaml",
    )


# --------------------------------------------------------------------------
# the figures the issue pins


def test_single_step_mmc_is_exact() -> None:
    a = analyze(single("rate: 9/h", "exponential(20m)", 4))
    agent = a.owners["agent"]
    assert agent.utilization == pytest.approx(0.75, rel=REL)
    assert agent.load == pytest.approx(3.0, rel=1e-12)
    assert agent.p_wait == pytest.approx(0.5094, rel=REL)
    assert agent.wait_mean is not None
    assert agent.wait_mean / 60 == pytest.approx(10.19, rel=REL)
    assert agent.exact
    assert agent.stable
    assert a.bottleneck == "agent"
    assert a.cycle_time.expected == pytest.approx(agent.wait_mean + 1200.0, rel=1e-12)
    assert a.cycle_time.minimum == pytest.approx(1200.0)
    assert a.cycle_time.exact
    assert a.steps["serve"].wait_mean == agent.wait_mean


def test_exponential_every_counts_as_poisson() -> None:
    a = analyze(single("every: exponential(400s)", "exponential(20m)", 4))
    assert a.poisson
    assert a.owners["agent"].exact
    assert a.owners["agent"].p_wait == pytest.approx(0.5094, rel=REL)


@pytest.mark.parametrize(
    ("bound", "visits"),
    [("", 1.25), (", max: 1", 1.2), (", max: 2", 1.24), (", max: 3", 1.248)],
)
def test_rework_loop_visits(bound: str, visits: float) -> None:
    a = analyze(rework(bound))
    assert a.steps["work"].visits == pytest.approx(visits, abs=1e-12)
    assert a.rework_rate == pytest.approx(0.2, abs=1e-12)
    assert a.routing.exact


def test_rework_loop_with_bound_unrolls_states() -> None:
    a = analyze(rework(", max: 3"))
    assert a.routing.states == 5  # work with counter 0..3, and done
    assert [str(b) for b in a.routing.bounds] == ["work --redo--> work (max 3)"]


# --------------------------------------------------------------------------
# routing against hand computation


def chain_process(steps: str, owners: str = "{agent: {capacity: 9}}") -> Process:
    return load_text(
        f"process: x\nowners: {owners}\narrivals: {{rate: 1/h}}\nstart: a\nsteps:\n{steps}",
        "x.yaml",
    )


def visits_of(process: Process) -> dict[str, float]:
    return {s: f.visits for s, f in analyze(process).steps.items()}


def test_tandem_steps() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: b}
  b: {owner: agent, duration: 10m, next: c}
  c: {owner: agent, duration: 15m, next: end}
  end: {end: true}
"""
    )
    a = analyze(p)
    assert visits_of(p) == {"a": 1.0, "b": 1.0, "c": 1.0, "end": 1.0}
    assert a.owners["agent"].load == pytest.approx(30 / 60)
    assert a.cycle_time.minimum == pytest.approx(1800.0)
    assert a.cycle_time.fastest_path == ("a", "b", "c", "end")


def test_branching_tree() -> None:
    p = chain_process(
        """
  a:
    owner: agent
    duration: 5m
    on:
      left: {to: b, p: 0.3}
      right: {to: c, p: 0.7}
  b:
    owner: agent
    duration: 5m
    on: {x: {to: d, p: 0.5}, y: {to: e, p: 0.5}}
  c: {owner: agent, duration: 5m, next: end}
  d: {owner: agent, duration: 5m, next: end}
  e: {owner: agent, duration: 5m, next: end}
  end: {end: true}
"""
    )
    v = visits_of(p)
    assert v["b"] == pytest.approx(0.3)
    assert v["c"] == pytest.approx(0.7)
    assert v["d"] == pytest.approx(0.15)
    assert v["e"] == pytest.approx(0.15)
    assert v["end"] == pytest.approx(1.0)


def test_equal_probabilities_without_p() -> None:
    p = chain_process(
        """
  a:
    owner: agent
    duration: 5m
    on: {x: b, y: c, z: end}
  b: {owner: agent, duration: 5m, next: end}
  c: {owner: agent, duration: 5m, next: end}
  end: {end: true}
"""
    )
    v = visits_of(p)
    assert v["b"] == pytest.approx(1 / 3)
    assert v["c"] == pytest.approx(1 / 3)


def test_nested_unbounded_loops() -> None:
    # v_a = 1 + .25 v_b; v_b = v_a + .4 v_c; v_c = .75 v_b  =>  v_b = 1/.45
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: b}
  b:
    owner: agent
    duration: 5m
    on:
      back: {to: a, p: 0.25, feedback: true}
      on: {to: c, p: 0.75}
  c:
    owner: agent
    duration: 5m
    on:
      again: {to: b, p: 0.4, feedback: true}
      done: {to: end, p: 0.6}
  end: {end: true}
"""
    )
    v = visits_of(p)
    assert v["b"] == pytest.approx(1 / 0.45, rel=1e-12)
    assert v["a"] == pytest.approx(1 + 0.25 / 0.45, rel=1e-12)
    assert v["c"] == pytest.approx(0.75 / 0.45, rel=1e-12)
    # no feedback at all: go a, b, c, end with prob .75 * .6
    assert analyze(p).rework_rate == pytest.approx(1 - 0.75 * 0.6, rel=1e-12)


def test_used_up_bound_renormalizes_the_rest() -> None:
    # first visit: x .6, y .2, redo .2; after redo: x .75, y .25
    p = chain_process(
        """
  a:
    owner: agent
    duration: 5m
    on:
      redo: {to: a, p: 0.2, feedback: true, max: 1}
      x: {to: b, p: 0.6}
      y: {to: c, p: 0.2}
  b: {owner: agent, duration: 5m, next: end}
  c: {owner: agent, duration: 5m, next: end}
  end: {end: true}
"""
    )
    v = visits_of(p)
    assert v["a"] == pytest.approx(1.2)
    assert v["b"] == pytest.approx(0.6 + 0.2 * 0.75)
    assert v["c"] == pytest.approx(0.2 + 0.2 * 0.25)


def test_bound_on_an_edge_between_components_never_binds() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, on: {go: {to: b, max: 1}}}
  b: {owner: agent, duration: 5m, next: end}
  end: {end: true}
"""
    )
    a = analyze(p)
    assert a.steps["b"].visits == 1.0
    assert a.routing.bounds == ()  # no counter needed


def test_bound_on_an_unmarked_cycle_edge_is_honoured() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: b}
  b:
    owner: agent
    duration: 5m
    on:
      back: {to: a, p: 0.5, max: 1}
      on: {to: end, p: 0.5}
  end: {end: true}
"""
    )
    assert visits_of(p)["a"] == pytest.approx(1.5)
    assert analyze(p).rework_rate == 0.0  # 'back' is not marked feedback


# --------------------------------------------------------------------------
# routing against an independent path enumeration (SPEC 1.1 semantics)


def enumerate_visits(process: Process, cutoff: float = 1e-13) -> dict[str, float]:
    """Expected visits by walking every path, probability-weighted, honouring ``max``."""
    visits = dict.fromkeys(process.steps, 0.0)

    def walk(step: str, used: dict[tuple[str, str], int], prob: float) -> None:
        stack = [(step, used, prob)]
        while stack:
            here, counts, weight = stack.pop()
            visits[here] += weight
            node = process.steps[here]
            if node.end or weight <= cutoff:
                continue
            options = [
                t
                for t in node.transitions
                if t.max is None or counts.get((here, t.trigger), 0) < t.max
            ]
            raw = [t.p if t.p is not None else 1.0 for t in options]
            total = sum(raw)
            if total <= 0:
                raw, total = [1.0] * len(options), float(len(options))
            for t, r in zip(options, raw, strict=True):
                if r <= 0:
                    continue
                after = dict(counts)
                if t.max is not None:
                    after[(here, t.trigger)] = after.get((here, t.trigger), 0) + 1
                stack.append((t.to, after, weight * r / total))

    walk(process.start, {}, 1.0)
    return visits


TWO_BOUNDED_LOOPS = """
  a: {owner: agent, duration: 5m, next: b}
  b:
    owner: agent
    duration: 5m
    on:
      fix: {to: a, p: 0.3, feedback: true, max: 2}
      check: {to: c, p: 0.7}
  c:
    owner: agent
    duration: 5m
    on:
      reopen: {to: a, p: 0.4, feedback: true, max: 3}
      self: {to: c, p: 0.1, feedback: true, max: 1}
      close: {to: end, p: 0.5}
  end: {end: true}
"""


def test_two_bounded_loops_interacting_match_enumeration() -> None:
    p = chain_process(TWO_BOUNDED_LOOPS)
    expected = enumerate_visits(p)
    got = visits_of(p)
    for step, value in expected.items():
        assert got[step] == pytest.approx(value, rel=1e-9, abs=1e-12), step
    assert got["end"] == pytest.approx(1.0)
    # a, b, c carry three counters (3 x 4 x 2 values at most); end carries none
    assert analyze(p).routing.states <= 3 * 24 + 1


def test_block_solve_matches_dense_solve() -> None:
    p = chain_process(TWO_BOUNDED_LOOPS)
    chain = build_chain(p)
    blocks = solve_visits(chain)
    dense = solve_dense(chain)
    assert blocks == pytest.approx(dense, rel=1e-10, abs=1e-13)


def random_process(rng: random.Random, size: int, *, all_bounded: bool) -> str:
    """A random process: forward edges, some feedback edges, some (or all) bounded."""
    lines = ["process: rnd", "owners: {agent: {capacity: 50}}", "arrivals: {rate: 1/h}"]
    lines += ["start: s0", "steps:"]
    for i in range(size):
        lines += [f"  s{i}:", "    owner: agent", "    duration: exponential(1m)", "    on:"]
        forward = [f"s{j}" for j in range(i + 1, size)] + ["end"]
        targets = rng.sample(forward, k=min(len(forward), rng.randint(1, 2)))
        edges = [(t, "") for t in targets]
        if i > 0 and rng.random() < 0.6:
            back = f"s{rng.randint(0, i)}"
            bounded = all_bounded or rng.random() < 0.7
            bound = f", max: {rng.randint(1, 3)}" if bounded else ""
            edges.append((back, f", feedback: true{bound}"))
        weights = [rng.random() + 0.1 for _ in edges]
        total = sum(weights)
        ps = [round(w / total, 6) for w in weights]
        ps[-1] = round(1 - sum(ps[:-1]), 6)
        for k, ((target, extra), prob) in enumerate(zip(edges, ps, strict=True)):
            lines.append(f"      t{k}: {{to: {target}, p: {prob}{extra}}}")
    lines.append("  end: {end: true}")
    return "\n".join(lines) + "\n"


def random_processes(count: int, *, all_bounded: bool) -> Iterator[Process]:
    rng = random.Random(20240601 + all_bounded)
    for _ in range(count):
        text = random_process(rng, rng.randint(2, 6), all_bounded=all_bounded)
        yield load_text(text, "rnd.yaml")


@pytest.mark.parametrize("process", list(random_processes(20, all_bounded=True)))
def test_random_bounded_processes_match_path_enumeration(process: Process) -> None:
    chain = build_chain(process)
    fast = step_visits(chain, solve_visits(chain))
    reference = enumerate_visits(process, cutoff=0.0)  # every loop bounded: finite paths
    for step in process.steps:
        assert fast[step] == pytest.approx(reference[step], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("process", list(random_processes(20, all_bounded=False)))
def test_random_processes_block_solve_matches_dense(process: Process) -> None:
    chain = build_chain(process)
    fast = step_visits(chain, solve_visits(chain))
    dense = step_visits(chain, solve_dense(chain))
    for step in process.steps:
        assert fast[step] == pytest.approx(dense[step], rel=1e-9, abs=1e-12)
    assert fast["end"] == pytest.approx(1.0)


def test_rework_rate_matches_monte_carlo() -> None:
    p = chain_process(TWO_BOUNDED_LOOPS)
    rng = random.Random(7)
    trials, reworked = 8_000, 0
    for _ in range(trials):
        step, counts, took = p.start, {}, False
        while not p.steps[step].end:
            options = [
                t
                for t in p.steps[step].transitions
                if t.max is None or counts.get((step, t.trigger), 0) < t.max
            ]
            weights = [1.0 if t.p is None else t.p for t in options]
            t = rng.choices(options, weights=weights)[0]
            if t.max is not None:
                counts[(step, t.trigger)] = counts.get((step, t.trigger), 0) + 1
            took = took or t.feedback
            step = t.to
        reworked += took
    estimate = reworked / trials
    exact = analyze(p).rework_rate
    assert abs(estimate - exact) < 4 * math.sqrt(exact * (1 - exact) / trials)
    # and by hand: no feedback only via b -> c (0.7) then c -> end (0.5)
    assert exact == pytest.approx(1 - 0.7 * 0.5, rel=1e-12)


# --------------------------------------------------------------------------
# the state-space limit


def test_state_limit_drops_the_largest_bound_and_says_so() -> None:
    p = chain_process(TWO_BOUNDED_LOOPS)
    exact = analyze(p)
    approx = analyze(p, max_states=30)
    assert exact.routing.exact
    assert not approx.routing.exact
    assert [b.max for b in approx.routing.dropped] == [3]
    assert approx.routing.method == "approximate"
    data = approx.to_dict()
    assert data["routing"]["exact"] is False
    assert data["routing"]["dropped_bounds"] == ["c --reopen--> a (max 3)"]
    # the dropped bound is thinned to its cap, not ignored: close to the unrolled truth
    assert approx.steps["a"].visits == pytest.approx(exact.steps["a"].visits, rel=0.02)
    assert approx.steps["a"].visits != exact.steps["a"].visits
    assert not approx.owners["agent"].exact
    assert approx.routing.states <= 30


def test_sequential_loops_add_states_instead_of_multiplying() -> None:
    body = []
    n = 40
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "end"
        body.append(
            f"  s{i}:\n    owner: agent\n    duration: 1m\n    on:\n"
            f"      redo: {{to: s{i}, p: 0.5, feedback: true, max: 3}}\n"
            f"      ok: {{to: {nxt}, p: 0.5}}\n"
        )
    text = "".join(body).replace("  s0:", "  a: {owner: agent, duration: 1m, next: s0}\n  s0:", 1)
    p = chain_process(text + "  end: {end: true}\n")
    a = analyze(p)
    assert a.routing.exact
    assert a.routing.states == 1 + n * 4 + 1  # 3^40 if counters were carried along
    assert a.steps["s17"].visits == pytest.approx(1 + 0.5 + 0.25 + 0.125)


# --------------------------------------------------------------------------
# queueing


def test_erlang_c_is_stable_for_large_pools() -> None:
    small = queueing.erlang_c(2000, 1950.0)
    large = queueing.erlang_c(2001, 1950.0)
    assert 0.0 < large < small < 1.0
    # the log-space branch agrees with the recursion
    recursion = 1.0
    for k in range(1, 2501):
        recursion = 2400.0 * recursion / (k + 2400.0 * recursion)
    assert queueing.erlang_b(2500, 2400.0) == pytest.approx(recursion, rel=1e-9)
    assert 0.0 < queueing.erlang_c(100_000, 99_000.0) < 1.0


def test_erlang_known_values() -> None:
    assert queueing.erlang_b(1, 1.0) == pytest.approx(0.5)
    assert queueing.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert queueing.mmc_wait(1, 0.5, 10.0) == pytest.approx(10.0)  # rho/(1-rho) * s
    assert queueing.required_servers(3.0) == 4
    assert queueing.required_servers(3.31, 0.85) == 4
    assert queueing.required_servers(3.5, 0.85) == 5


def test_deterministic_service_halves_the_wait() -> None:
    exp = analyze(single("rate: 9/h", "exponential(20m)", 4)).owners["agent"]
    det = analyze(single("rate: 9/h", "20m", 4)).owners["agent"]
    assert not det.exact
    assert det.service_scv == 0.0
    assert det.arrival_scv == pytest.approx(1.0)
    assert det.wait_mean == pytest.approx(exp.wait_mean / 2)  # type: ignore[operator]
    assert det.p_wait == pytest.approx(exp.p_wait)


def test_regular_arrivals_lower_the_arrival_scv() -> None:
    a = analyze(single("every: 400s", "exponential(20m)", 4))
    agent = a.owners["agent"]
    assert not a.poisson
    assert not agent.exact
    assert agent.arrival_scv == pytest.approx(0.0)
    mmc = queueing.mmc_wait(4, 3.0, 1200.0)
    assert agent.wait_mean == pytest.approx(mmc * (0.0 + 1.0) / 2)


def test_mixed_exponential_means_are_not_exact() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: exponential(10m), next: b}
  b: {owner: agent, duration: exponential(30m), next: end}
  end: {end: true}
""",
        owners="{agent: {capacity: 2}}",
    )
    agent = analyze(p).owners["agent"]
    assert agent.service_mean == pytest.approx(1200.0)
    assert agent.service_scv == pytest.approx(1.5)
    assert not agent.exact


def test_exactness_follows_the_upstream_owners() -> None:
    p = chain_process(
        """
  a: {owner: first, duration: exponential(10m), next: b}
  b: {owner: second, duration: 10m, next: c}
  c: {owner: third, duration: exponential(10m), next: end}
  end: {end: true}
""",
        owners="{first: {capacity: 1}, second: {capacity: 1}, third: {capacity: 1}}",
    )
    owners = analyze(p).owners
    assert owners["first"].exact  # Poisson in, exponential: M/M/1 (Burke downstream)
    assert not owners["second"].exact  # deterministic
    assert not owners["third"].exact  # fed by the deterministic owner


def test_external_and_ownerless_steps_are_pure_delays() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: exponential(10m), next: b}
  b: {owner: customer, duration: 2h, next: c}
  c: {duration: 1h, next: end}
  end: {end: true}
""",
        owners="{agent: {capacity: 1}, customer: {external: true}}",
    )
    a = analyze(p)
    customer = a.owners["customer"]
    assert customer.external
    assert customer.utilization is None
    assert customer.capacity is None
    assert customer.wait_mean == 0.0
    assert customer.load == pytest.approx(2.0)
    assert a.steps["b"].delay
    assert a.steps["c"].delay
    assert a.steps["b"].wait_mean == 0.0
    assert a.steps["c"].wait_mean == 0.0
    assert a.bottleneck == "agent"
    assert a.owners["agent"].exact  # delays keep Poisson streams Poisson
    agent_wait = a.owners["agent"].wait_mean
    assert agent_wait is not None
    assert a.cycle_time.expected == pytest.approx(agent_wait + 600 + 7200 + 3600)


def test_unstable_owner_reports_needed_capacity_and_no_infinite_numbers() -> None:
    a = analyze(single("rate: 9/h", "exponential(20m)", 2))
    agent = a.owners["agent"]
    assert agent.utilization == pytest.approx(1.5)
    assert not agent.stable
    assert not a.stable
    assert agent.wait_mean is None
    assert agent.p_wait is None
    assert agent.required_capacity == 4
    assert agent.capacity_below_threshold == 4  # 3/4 = 75% < 85%
    assert a.cycle_time.expected is None
    assert a.wip is None
    assert a.wait_time is None
    assert a.cycle_time.minimum == pytest.approx(1200.0)
    assert a.throughput_per_hour == pytest.approx(6.0)  # 2 agents x 3 per hour
    text = json.dumps(a.to_dict(), allow_nan=False)  # no inf, no NaN
    assert '"wait_mean": null' in text


def test_utilization_exactly_one_is_unstable() -> None:
    agent = analyze(single("rate: 6/h", "exponential(20m)", 2)).owners["agent"]
    assert agent.utilization == pytest.approx(1.0)
    assert not agent.stable
    assert agent.required_capacity == 3


def test_bottleneck_and_top_steps() -> None:
    p = chain_process(
        """
  a: {owner: desk, duration: exponential(10m), next: b}
  b: {owner: desk, duration: exponential(20m), next: c}
  c: {owner: lab, duration: exponential(40m), next: end}
  end: {end: true}
""",
        owners="{desk: {capacity: 1}, lab: {capacity: 1}, idle: {capacity: 3}}",
    )
    a = analyze(p)
    assert a.bottleneck == "lab"
    desk = a.owners["desk"]
    assert [(s.step, round(s.share, 6)) for s in desk.top_steps] == [
        ("b", round(2 / 3, 6)),
        ("a", round(1 / 3, 6)),
    ]
    assert a.owners["idle"].load == 0.0
    assert a.owners["idle"].top_steps == ()


def test_minimum_cycle_time_takes_the_fastest_branch_and_ignores_loops() -> None:
    p = chain_process(
        """
  a:
    owner: agent
    duration: 10m
    on:
      slow: {to: b, p: 0.9}
      fast: {to: c, p: 0.1}
  b: {owner: agent, duration: 2h, next: end}
  c:
    owner: agent
    duration: uniform(20m, 40m)
    on:
      again: {to: a, p: 0.5, feedback: true}
      done: {to: end, p: 0.5}
  end: {end: true}
"""
    )
    cycle = analyze(p).cycle_time
    assert cycle.minimum == pytest.approx(40 * 60)
    assert cycle.floor == pytest.approx(30 * 60)
    assert cycle.fastest_path == ("a", "c", "end")


# --------------------------------------------------------------------------
# goals


GOALS = """
goals:
  - {id: ct-mean, metric: cycle_time, stat: mean, target: "<= 1h"}
  - {id: ct-p90, metric: cycle_time, stat: p90, target: "<= 1h"}
  - {id: busy, metric: utilization:agent, target: "<= 80%"}
  - {id: flow, metric: throughput, target: ">= 8/h"}
  - {id: waits, metric: wait_time, stat: mean, target: "<= 5m"}
  - {id: serving, metric: step_time:serve, stat: mean, target: "<= 40m"}
  - {id: cheap, metric: cost_per_case, target: "<= 20"}
  - {id: few, metric: wip, target: "<= 5"}
  - {id: redo, metric: rework_rate, target: "<= 10%"}
  - {id: fast, metric: cycle_time, stat: mean, target: "<= 10m"}
"""


def test_goals_are_estimated_where_the_metric_allows() -> None:
    p = single("rate: 9/h", "exponential(20m)", 4, GOALS).with_changes(
        {"owners": {"agent": {"cost_per_hour": 30}}}
    )
    a = analyze(p)
    goals = {g.id: g for g in a.goals}
    wq = a.owners["agent"].wait_mean
    assert wq is not None
    assert goals["ct-mean"].estimate == pytest.approx(wq + 1200)
    assert goals["ct-mean"].met is True
    assert goals["ct-mean"].exact
    assert goals["ct-p90"].estimate is None
    assert goals["ct-p90"].met is None
    assert "not estimable analytically" in (goals["ct-p90"].note or "")
    assert goals["busy"].estimate == pytest.approx(0.75)
    assert goals["busy"].met is True
    assert goals["flow"].estimate == pytest.approx(9.0)
    assert goals["flow"].met is True
    assert goals["waits"].estimate == pytest.approx(wq)
    assert goals["waits"].met is False
    assert goals["serving"].estimate == pytest.approx(wq + 1200)
    # staffing: 4 agents at 30/h, paid busy or idle, over 9 cases/h; the work alone is 20m at 30/h
    assert goals["cheap"].estimate == pytest.approx(4 * 30 / 9)
    assert a.busy_cost_per_case == pytest.approx(10.0)
    assert goals["few"].estimate == pytest.approx(9 / 3600 * (wq + 1200))
    assert goals["redo"].estimate == 0.0
    assert goals["redo"].met is True
    assert goals["fast"].met is False
    assert goals["fast"].infeasible is not None
    assert "at least 20m" in goals["fast"].infeasible
    assert [g["id"] for g in a.to_dict()["goals"]] == [g.id for g in a.goals]


def test_infeasible_goals() -> None:
    goals = """
goals:
  - {id: floor, metric: cycle_time, stat: p90, target: "<= 10m"}
  - {id: far, metric: cycle_time, stat: mean, target: "<= 18m"}
  - {id: busy, metric: utilization:agent, target: "<= 50%"}
  - {id: flow, metric: throughput, target: ">= 20/h"}
  - {id: fine, metric: cycle_time, stat: mean, target: "<= 2h"}
  - {id: p90-fine, metric: cycle_time, stat: p90, target: "<= 2h"}
"""
    a = analyze(single("rate: 9/h", "uniform(15m, 25m)", 4, goals))
    reasons = {g.id: g.infeasible for g in a.goals}
    assert "no case can finish in under 15m" in (reasons["floor"] or "")
    assert "at least 20m" in (reasons["far"] or "")
    assert "75%" in (reasons["busy"] or "")
    assert "6 would be needed" in (reasons["busy"] or "")
    assert "arrive at 9/h" in (reasons["flow"] or "")
    assert reasons["fine"] is None
    assert reasons["p90-fine"] is None


def test_upper_percentile_goal_far_below_the_expected_mean_is_infeasible() -> None:
    goals = """
goals:
  - {id: p90-far, metric: cycle_time, stat: p90, target: "<= 15m"}
  - {id: p50-far, metric: cycle_time, stat: p50, target: "<= 15m"}
  - {id: p90-near, metric: cycle_time, stat: p90, target: "<= 16m"}
"""
    a = analyze(single("rate: 9/h", "exponential(20m)", 4, goals))
    assert a.cycle_time.expected is not None
    assert a.cycle_time.expected == pytest.approx(30.19 * 60, rel=1e-3)  # 20m + 10.19m
    reasons = {g.id: g.infeasible for g in a.goals}
    assert "expected cycle time 30.19m is more than 2x the target <= 15m" in (
        reasons["p90-far"] or ""
    )
    assert reasons["p50-far"] is None  # a median may sit well below the mean
    assert reasons["p90-near"] is None


def test_goals_of_an_overloaded_process_are_not_met() -> None:
    goals = """
goals:
  - {id: ct, metric: cycle_time, stat: p90, target: "<= 1d"}
  - {id: ct-mean, metric: cycle_time, stat: mean, target: "<= 1d"}
"""
    a = analyze(single("rate: 9/h", "exponential(20m)", 2, goals))
    for goal in a.goals:
        assert goal.estimate is None
        assert goal.met is False
        assert "overloaded" in (goal.note or "")


# --------------------------------------------------------------------------
# errors and analyze_or_none


def test_no_arrivals() -> None:
    p = load_text(
        "process: x\nstart: a\nsteps:\n  a: {duration: 5m, next: b}\n  b: {end: true}\n", "x.yaml"
    )
    with pytest.raises(SimulationError, match="no arrivals"):
        analyze(p)
    assert analyze_or_none(p) is None


def test_missing_duration_names_the_step_and_its_line() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: b}
  b: {owner: agent, next: end}
  end: {end: true}
"""
    )
    with pytest.raises(ProcessError) as info:
        analyze(p)
    (problem,) = info.value.problems
    assert problem.code == "PF402"
    assert "'b'" in problem.message
    assert (problem.position.file, problem.position.line) == ("x.yaml", 8)
    assert analyze_or_none(p) is None


def test_unreachable_step_without_duration_does_not_block() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: end}
  orphan: {owner: agent, next: end}
  end: {end: true}
"""
    )
    a = analyze(p)
    assert a.steps["orphan"].visits == 0.0
    assert a.steps["orphan"].service_mean is None


def test_structural_errors_raise_with_positions() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: nowhere}
  end: {end: true}
"""
    )
    with pytest.raises(ProcessError) as info:
        analyze(p)
    assert any(problem.code == "PF101" for problem in info.value.problems)
    assert all(problem.position.file == "x.yaml" for problem in info.value.problems)
    assert analyze_or_none(p) is None


def test_the_routing_reads_the_gate_and_checks_nothing_again() -> None:
    """build_chain goes through the runnable gate: its errors, with the gate's positions."""
    p = chain_process(
        """
  a:
    owner: agent
    duration: 5m
    on:
      yes: {to: end, p: 0.5}
      no: {to: end, p: 0.4}
  end: {end: true}
"""
    )
    with pytest.raises(ProcessError) as info:
        build_chain(p)
    assert [problem.code for problem in info.value.problems] == ["PF401"]
    (problem,) = info.value.problems
    assert problem.message.startswith("bad-probabilities: ")  # the gate's check, named
    assert "sum to 0.9 (0.5 + 0.4)" in problem.message
    assert problem.position.file == "x.yaml"


def test_dead_end_once_bounds_are_used_up() -> None:
    p = chain_process(
        """
  a: {owner: agent, duration: 5m, next: b}
  b:
    owner: agent
    duration: 5m
    on:
      back: {to: a, feedback: true, max: 1}
  end: {end: true}
"""
    )
    with pytest.raises(ProcessError) as info:
        analyze(p)
    assert {problem.code for problem in info.value.problems} & {"PF104", "PF105"}


def test_trap_raises_pf105() -> None:
    p = chain_process(
        """
  a:
    owner: agent
    duration: 5m
    on: {x: {to: b, p: 0.5}, y: {to: end, p: 0.5}}
  b: {owner: agent, duration: 5m, next: c}
  c: {owner: agent, duration: 5m, next: b}
  end: {end: true}
"""
    )
    with pytest.raises(ProcessError) as info:
        analyze(p)
    assert any(problem.code == "PF105" for problem in info.value.problems)


# --------------------------------------------------------------------------
# the JSON shape and the public API


def test_json_shape_follows_the_spec() -> None:
    data = analyze(procflow.load(CUSTOMER_SERVICE_247)).to_dict()  # 8/h around the clock
    assert data["version"] == 1
    assert data["process"] == "customer-service"
    assert data["arrival_rate_per_hour"] == pytest.approx(8.0)
    assert set(data) >= {
        "steps", "owners", "bottleneck", "cycle_time", "goals", "arrival_rate_per_hour",
    }  # fmt: skip
    for step in data["steps"].values():
        assert {"visits", "service_mean", "wait_mean"} <= set(step)
    for owner in data["owners"].values():
        assert {
            "load", "capacity", "utilization", "p_wait", "wait_mean", "exact", "stable",
            "top_steps",
        } <= set(owner)  # fmt: skip
    assert {"expected", "minimum"} <= set(data["cycle_time"])
    assert all({"id", "estimate", "met"} <= set(goal) for goal in data["goals"])
    json.dumps(data, allow_nan=False)


def test_customer_service_example_figures() -> None:
    a = procflow.analyze(procflow.load("processes/customer-service.yaml"))
    # triage is revisited after each reopen (p .15, at most 3 times)
    assert a.steps["triage"].visits == pytest.approx(1 + 0.15 + 0.15**2 + 0.15**3)
    assert a.steps["escalate"].visits == pytest.approx(0.3 * a.steps["triage"].visits)
    assert a.rework_rate == pytest.approx(0.15)
    # working time: 316 tickets in a week of 168 h (11/h Monday and 9/h Tuesday to Friday
    # 09-12, 7/h weekdays 12-17); tier 2 is on duty 40 h a week, the agents 50 h.
    # Berlin's weekday holidays of 2027 (the reference year): Fri 1 Jan, Mon 8 Mar,
    # Fri 26 Mar, Mon 29 Mar, Thu 6 May, Mon 17 May. 2027 has 53 Fridays and 52 of
    # every other day: 261 weekdays, so the staff keep 255/261 of their hours; the
    # arrivals (68 on a Monday, 62 on other weekdays) keep 1 - 390/16494 of theirs.
    year = 52 * 68 + 3 * 52 * 62 + 53 * 62
    rate = (3 * 11 + 4 * 3 * 9 + 5 * 5 * 7) / 168.0 * (1 - (3 * 68 + 3 * 62) / year)
    assert a.arrival_rate_per_hour == pytest.approx(rate)
    staff = 255 / 261
    tier2 = rate * a.steps["escalate"].visits * (50 / 60) / (4 * 40 / 168 * staff)
    agents = rate * (6 + a.steps["triage"].visits * (4 + 12)) / 60 / (5 * 50 / 168 * staff)
    assert a.loads["tier2"].utilization == pytest.approx(tier2)  # 58.0%
    assert a.loads["support-agent"].utilization == pytest.approx(agents)  # 52.2%
    assert a.bottleneck == "tier2"
    assert a.stable
    assert isinstance(a, procflow.Analysis)


def test_qna_splitting_a_regular_stream_makes_it_more_random() -> None:
    # regular arrivals (SCV 0) pass a pure delay unchanged, then split 50/50:
    # each half has SCV p * 0 + (1 - p) = 0.5 (Whitt's splitting rule)
    p = load_text(
        """
process: split
owners: {left: {capacity: 1}, right: {capacity: 1}}
arrivals: {every: 10m}
start: route
steps:
  route:
    duration: 1m
    on: {l: {to: a, p: 0.5}, r: {to: b, p: 0.5}}
  a: {owner: left, duration: exponential(5m), next: end}
  b: {owner: right, duration: exponential(5m), next: end}
  end: {end: true}
""",
        "split.yaml",
    )
    a = analyze(p)
    assert a.arrival_scv == 0.0
    assert a.owners["left"].arrival_scv == pytest.approx(0.5)
    assert a.owners["right"].arrival_scv == pytest.approx(0.5)
    mmc = queueing.mmc_wait(1, 0.25, 300.0)
    assert a.owners["left"].wait_mean == pytest.approx(mmc * (0.5 + 1.0) / 2)


def test_solve_blocks_matches_a_dense_solve() -> None:
    from procflow.analysis.linear import solve_blocks

    rng = random.Random(3)
    n = 30
    entries = [(rng.randrange(n), rng.randrange(n), rng.random() * 0.3) for _ in range(60)]
    source = [s for s, _t, _c in entries]
    target = [t for _s, t, _c in entries]
    coefficient = [c for _s, _t, c in entries]
    rhs = [rng.random() for _ in range(n)]
    matrix = np.eye(n)
    for s, t, c in entries:
        matrix[t, s] -= c
    assert solve_blocks(n, source, target, coefficient, rhs) == pytest.approx(
        np.linalg.solve(matrix, np.array(rhs)), rel=1e-9
    )


def test_qna_treats_parallel_flows_between_two_stations_as_one_stream() -> None:
    stations = [queueing.Station(0.7, 2, 0.3), queueing.Station(0.5, 1, 2.0)]
    external = np.array([1.0, 0.0])
    whole = queueing.arrival_scvs(
        stations, np.array([0, 1]), np.array([1, 0]), np.array([0.8, 0.2]), external, 0.5
    )
    parts = queueing.arrival_scvs(
        stations,
        np.array([0, 0, 1, 1]),
        np.array([1, 1, 0, 0]),
        np.array([0.3, 0.5, 0.1, 0.1]),
        external,
        0.5,
    )
    assert parts == pytest.approx(whole, rel=1e-12)
    assert 0.0 < whole[1] < 2.0


def ring_of_reviews(n: int, p: float, most: int = 3) -> Process:
    """``n`` steps in a row, each sending work back to the first with ``p``, ``max: most``."""
    lines = ["process: ring", "owners: {a: {capacity: 50}}", "arrivals: {rate: 1/h}"]
    lines += ["start: s0", "steps:"]
    for i in range(n):
        ahead = f"s{i + 1}" if i < n - 1 else "done"
        back = f"{{to: s0, p: {p}, feedback: true, max: {most}}}"
        lines.append(
            f"  s{i}: {{owner: a, duration: 1m, on: {{x: {{to: {ahead}, p: {1 - p}}}, y: {back}}}}}"
        )
    lines.append("  done: {end: true}")
    return load_text("\n".join(lines) + "\n", "ring.yaml")


@pytest.mark.parametrize(("n", "p"), [(6, 0.5), (6, 0.2), (8, 0.3), (5, 0.8)])
def test_dropped_bounds_are_thinned_to_their_cap_not_ignored(n: int, p: float) -> None:
    """Past max_states the approximation stays within a few percent of the unrolled truth.

    Treating a dropped bound as no bound (the old approximation) compounds
    loops into visits no case can make: with p = 0.8 that was over 30x the truth.
    """
    process = ring_of_reviews(n, p)
    exact = build_chain(process, max_states=10**6)
    approx = build_chain(process, max_states=300)
    assert exact.exact
    assert approx.dropped
    truth = step_visits(exact, exact.visits)
    estimate = step_visits(approx, approx.visits)
    for step, visits in truth.items():
        assert estimate[step] == pytest.approx(visits, rel=0.05), step
    assert estimate["s0"] <= 1 + 3 * n  # every back edge taken at most max times
    analysis = analyze(process, max_states=300)
    assert analysis.routing.method == "approximate"
    assert analysis.steps["s0"].visits == pytest.approx(estimate["s0"])


def test_thinned_factors_are_refined_on_the_full_chain() -> None:
    """Past the coarse fitting chain (4,096 states) the full chain is solved again to refine."""
    process = ring_of_reviews(7, 0.3)
    exact = build_chain(process, max_states=10**6)
    approx = build_chain(process, max_states=8000)
    assert exact.exact
    assert approx.dropped
    assert 4096 < approx.size <= 8000
    truth = step_visits(exact, exact.visits)["s0"]
    assert step_visits(approx, approx.visits)["s0"] == pytest.approx(truth, rel=0.02)


def test_a_distribution_goal_without_a_stat_is_read_as_its_mean_as_simulate_does() -> None:
    process = load_text(
        """
process: desk
owners: {agent: {capacity: 2}}
arrivals: {rate: 0.5/m}
start: serve
steps:
  serve: {owner: agent, duration: 2m, next: done}
  done: {end: true}
goals:
  - {id: ct, metric: cycle_time, target: "<= 1h", deadline: 2027-01-01}
""",
        "desk.yaml",
    )
    analysis = analyze(process)
    (goal,) = analysis.goals
    assert goal.estimate == pytest.approx(analysis.cycle_time.expected)
    assert goal.met is True
    simulated = procflow.simulate(process, cases=2000, runs=2, seed=1)
    assert simulated.goals[0].value == pytest.approx(simulated.kpis["cycle_time.mean"].mean)
