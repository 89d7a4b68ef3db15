"""Exact visits when the tokens of a fork share ``max:`` counters (docs/parallel-work.md).

The simulators keep one set of counters per case, shared by its tokens. The analysis
moves a case's tokens one at a time in a fixed order with one counter set
(:mod:`procflow.analysis.casechain`), which is exact because, for ``join: all``, the order
in which tokens use a shared counter does not change the distribution of the visits.

Three kinds of truth check it here:

* an independent exact enumerator (fractions, every routing outcome) that moves the
  tokens of a case in the order a *scheduler* picks -- oldest token first, newest first,
  and schedulers that look at the counters and the positions (the adversarial case:
  timing that depends on the routing so far). Every scheduler gives the same expected
  visits, and the analysis gives them too;
* hand-computed fractions for the small models;
* the reference simulator and the token engine, many cases: the visits per case within
  their confidence intervals, on models whose branches race for one busy desk.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from fractions import Fraction

import pytest

from procflow.analysis import analyze
from procflow.analysis.routing import build_chain, solve_dense, step_flows, step_visits
from procflow.compiled import CompiledProcess
from procflow.errors import ProcessError
from procflow.loader import load_text
from procflow.sim import simulate
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare
from test_sim_engine import Rows
from test_sim_tokens_max import CROSS, OUTER, SHARED

ASYMMETRIC = """\
process: asymmetric
owners:
  desk: {capacity: 1}
arrivals: {rate: 1/h}
start: split
steps:
  split: {duration: 0s, parallel: [left, right, meet]}
  left:
    owner: desk
    duration: exponential(5m)
    on:
      again: {to: left, p: 0.5, feedback: true, max: 1}
      on: {to: s, p: 0.5}
  right: {owner: desk, duration: exponential(20m), next: s}
  s:
    owner: desk
    duration: exponential(3m)
    on:
      redo: {to: s, p: 0.4, feedback: true, max: 2}
      side: {to: t, p: 0.3, max: 1}
      ok: {to: meet, p: 0.3}
  t:
    owner: desk
    duration: exponential(2m)
    on:
      back: {to: s, p: 0.5, feedback: true, max: 1}
      ok: {to: meet, p: 0.5}
  meet: {join: all, owner: desk, duration: 1m, next: done}
  done: {end: true}
"""
"""Three branches, one of them empty (it starts at the join); two reach 's', whose loop
(``max: 2``), side trip (``max: 1``, in no loop of its own) and return from 't'
(``max: 1``) are all shared."""

NESTED = """\
process: nested
owners:
  desk: {capacity: 2}
arrivals: {rate: 1/h}
start: split
steps:
  split: {owner: desk, duration: exponential(2m), parallel: [a, b]}
  a: {owner: desk, duration: exponential(4m), next: g}
  b: {owner: desk, duration: exponential(9m), next: g}
  g: {duration: 0s, parallel: [x, y]}
  x:
    owner: desk
    duration: exponential(3m)
    on:
      again: {to: x, p: 0.5, feedback: true, max: 2}
      ok: {to: j, p: 0.5}
  y: {owner: desk, duration: exponential(1m), next: j}
  j:
    join: all
    owner: desk
    duration: exponential(1m)
    on:
      redo: {to: g, p: 0.25, feedback: true, max: 1}
      ok: {to: meet, p: 0.75}
  meet: {join: all, owner: desk, duration: 1m, next: done}
  done: {end: true}
"""
"""Both branches of the outer fork reach the inner fork 'g' (two instances of it run in
one case, each joined on its own); the loop in 'x' and the loop round the inner fork are
shared by all of them."""


def loops_in_a_row(branches: int, loops: int, most: int) -> str:
    """``branches`` branches that all run through the same ``loops`` rework loops in a row
    (``p: 0.5``, ``max: most`` each), then join."""
    lines = [
        "process: loops-in-a-row",
        "owners:",
        "  desk: {capacity: 3}",
        "arrivals: {rate: 1/h}",
        "start: split",
        "steps:",
        f"  split: {{duration: 0s, parallel: [{', '.join(f'b{i}' for i in range(branches))}]}}",
    ]
    lines += [f"  b{i}: {{owner: desk, duration: 1m, next: s0}}" for i in range(branches)]
    for j in range(loops):
        after = f"s{j + 1}" if j + 1 < loops else "meet"
        lines.append(f"  s{j}:")
        lines.append("    owner: desk")
        lines.append("    duration: exponential(1m)")
        lines.append("    on:")
        lines.append(f"      again: {{to: s{j}, p: 0.5, feedback: true, max: {most}}}")
        lines.append(f"      ok: {{to: {after}, p: 0.5}}")
    lines.append("  meet: {join: all, owner: desk, duration: 1m, next: done}")
    lines.append("  done: {end: true}")
    return "\n".join(lines) + "\n"


MODELS = {
    "shared": SHARED,
    "outer": OUTER,
    "cross": CROSS,
    "asym": ASYMMETRIC,
    "nested": NESTED,
    "row": loops_in_a_row(3, 2, 2),
}

# --------------------------------------------------------------------------
# an independent exact enumerator of the token semantics

Token = tuple[int, tuple[int, ...], bool]
"""``(step, open frames outer to inner, joined)``: ``joined`` after its join fired."""
Frames = tuple[tuple[int, int, int], ...]
"""``(frame id, branches, arrived)`` of every open fork instance."""
Scheduler = Callable[[tuple[Token, ...], tuple[int, ...]], int]


def _probability(p: float | None) -> Fraction | None:
    return None if p is None else Fraction(str(p))


def expected_visits(text: str, scheduler: Scheduler) -> dict[str, Fraction]:
    """Expected visits per step of one case, exactly, moving tokens in the scheduler's order.

    Follows docs/parallel-work.md directly: a fork replaces its token by one per branch in
    a new frame; a token reaching a step with ``join`` waits for its frame's other tokens,
    and the last one to arrive goes on (in the parent frame); every routing draws by ``p``
    among the edges whose case-wide counter is below ``max`` (equal shares when only
    ``p: 0`` ones are left). Every routing outcome is followed (all loops must be bounded).
    """
    c = CompiledProcess.of(load_text(text))
    slot = {e.number: i for i, e in enumerate(e for e in c.edges if e.max is not None)}

    def arrive(token: Token, frames: Frames) -> tuple[list[Token], Frames]:
        step, path, _joined = token
        if c.join[step] is None or not path:
            return [token], frames
        fid = path[-1]
        rows = []
        fired = False
        for frame, branches, arrived in frames:
            if frame == fid:
                arrived += 1
                fired = arrived == branches
                if fired:
                    continue
            rows.append((frame, branches, arrived))
        return ([(step, path[:-1], True)] if fired else []), tuple(rows)

    def future(tokens: tuple[Token, ...], frames: Frames, counters: tuple[int, ...]) -> Counter:
        if not tokens:
            return Counter()
        i = scheduler(tokens, counters)
        step, path, _joined = tokens[i]
        rest = tokens[:i] + tokens[i + 1 :]
        result: Counter = Counter({c.steps[step]: Fraction(1)})
        if c.end[step]:
            assert not rest
            assert not frames
            return result
        outgoing = c.outgoing[step]
        if c.fork[step]:
            fid = max((f for f, _b, _a in frames), default=0) + 1
            new_frames = (*frames, (fid, len(outgoing), 0))
            made: list[Token] = []
            for e in outgoing:
                arrived, new_frames = arrive((e.target, (*path, fid), False), new_frames)
                made.extend(arrived)
            result.update(future(rest + tuple(made), new_frames, counters))
            return result
        open_ = [e for e in outgoing if e.max is None or counters[slot[e.number]] < e.max]
        weights = [_probability(e.p) for e in open_]
        if all(w is None for w in weights):
            shares = [Fraction(1, len(open_))] * len(open_)
        else:
            total = sum(w or 0 for w in weights)
            shares = (
                [w / total for w in weights]  # type: ignore[operator]
                if total > 0
                else [Fraction(1, len(open_))] * len(open_)
            )
        for e, q in zip(open_, shares, strict=True):
            if q == 0:
                continue
            moved = list(counters)
            if e.number in slot:
                moved[slot[e.number]] += 1
            arrived, new_frames = arrive((e.target, path, False), frames)
            for step_id, value in future(rest + tuple(arrived), new_frames, tuple(moved)).items():
                result[step_id] += q * value
        return result

    start: Token = (c.start, (), False)
    found = future((start,), (), (0,) * len(slot))
    return {step: found.get(step, Fraction(0)) for step in c.steps}


def _oldest(tokens: tuple[Token, ...], counters: tuple[int, ...]) -> int:
    return 0


def _newest(tokens: tuple[Token, ...], counters: tuple[int, ...]) -> int:
    return len(tokens) - 1


def _by_counters(tokens: tuple[Token, ...], counters: tuple[int, ...]) -> int:
    """Timing that depends on the routing so far: which counters are used, where tokens are."""
    return (sum(counters) * 7 + sum(step for step, _p, _j in tokens)) % len(tokens)


def _furthest_step(tokens: tuple[Token, ...], counters: tuple[int, ...]) -> int:
    return max(range(len(tokens)), key=lambda i: (tokens[i][0], -i))


SCHEDULERS = [_oldest, _newest, _by_counters, _furthest_step]


@pytest.mark.parametrize("name", list(MODELS))
def test_every_interleaving_gives_the_same_visits_and_the_analysis_finds_them(name: str) -> None:
    """The claim the method rests on, checked exactly, and the chain against it."""
    text = MODELS[name]
    truths = [expected_visits(text, scheduler) for scheduler in SCHEDULERS]
    assert all(truth == truths[0] for truth in truths[1:]), name
    analysis = analyze(load_text(text))
    assert analysis.routing.exact is True
    assert analysis.routing.method == "sequential"
    for step, value in truths[0].items():
        assert analysis.steps[step].visits == pytest.approx(float(value), rel=1e-12, abs=1e-15)


def test_the_interleaving_independence_is_not_a_property_of_any_order_of_draws() -> None:
    """The enumerator can tell orders apart: a scheduler that peeks at the draws would not
    be a timing (it sees the future), and the same models then give other visits."""
    c = CompiledProcess.of(load_text(CROSS))
    assert c.steps  # the enumerator reads the same tables
    # with the shared bound, per token ('t' once per branch with p 0.5) would be 1
    truth = expected_visits(CROSS, _oldest)
    assert truth["t"] == Fraction(3, 4)
    assert truth["s"] == 2


def test_hand_computed_fractions() -> None:
    """SHARED: 2 + 2 visits of 'check'. OUTER: E[K] + 1 - E[0.5^K] with K the fork's
    instances (1, 2, 3 with 1/2, 1/4, 1/4) = 7/4 + 1 - 11/32 = 77/32. CROSS: 1 - (1/2)^2."""
    assert analyze(load_text(SHARED)).steps["check"].visits == 4.0
    outer = analyze(load_text(OUTER)).steps
    assert outer["left"].visits == pytest.approx(77 / 32, rel=1e-14)
    assert outer["split"].visits == pytest.approx(7 / 4, rel=1e-14)
    assert analyze(load_text(CROSS)).steps["t"].visits == pytest.approx(0.75, rel=1e-14)


def test_rework_is_per_case() -> None:
    """The sequential chain follows one path per case: the share of cases taking any
    feedback edge is exact. OUTER: 1 - P(no 'again' in the first 'left') x P(no 'redo')."""
    assert analyze(load_text(OUTER)).rework_rate == pytest.approx(0.75, rel=1e-14)
    assert analyze(load_text(SHARED)).rework_rate == pytest.approx(1.0)
    assert analyze(load_text(CROSS)).rework_rate == 0.0


def test_the_chain_solves_like_a_dense_system_and_flows_count_every_token_move() -> None:
    chain = build_chain(load_text(NESTED))
    assert chain.per_case
    dense = step_visits(chain, solve_dense(chain))
    fast = step_visits(chain, chain.visits)
    assert dense == pytest.approx(fast, rel=1e-12)
    flows = step_flows(chain, chain.visits)
    truth = expected_visits(NESTED, _oldest)
    # every visit of a non-start step is one move into it (a join: one per branch token)
    assert flows[("split", "a")] == flows[("split", "b")] == pytest.approx(1.0)
    assert flows[("g", "x")] == flows[("g", "y")] == pytest.approx(float(truth["g"]))
    into_j = flows[("x", "j")] + flows[("y", "j")]
    assert into_j == pytest.approx(2 * float(truth["j"]))
    assert flows[("j", "meet")] == pytest.approx(2.0)  # both outer branches arrive
    assert ("x", "y") not in flows
    assert ("a", "b") not in flows


def test_json_and_text_say_how_the_visits_were_computed() -> None:
    from procflow.cli.analyze import notes

    analysis = analyze(load_text(SHARED))
    routing = analysis.routing.to_dict()
    assert routing["method"] == "sequential"
    assert routing["exact"] is True
    assert routing["shared_bounds"] == ["check --again--> check (max 2)"]
    assert "one at a time" in routing["note"]
    (line,) = [line for line in notes(analysis) if "routing" in line]
    assert line.startswith("routing: the tokens of a fork share")
    assert not any("approximate routing" in line for line in notes(analysis))


def test_a_race_keeps_the_per_token_chain_and_says_why() -> None:
    """``join: first`` withdraws branches part way: how far they got (timing) decides
    how often they used the shared counter, so the analysis stays approximate."""
    race = SHARED.replace("join: all", "join: first")
    analysis = analyze(load_text(race))
    assert analysis.routing.exact is False
    assert analysis.routing.method == "approximate"
    assert "race" in (analysis.routing.note or "")
    assert analysis.routing.to_dict()["shared_bounds"] == ["check --again--> check (max 2)"]


def test_beyond_the_state_limit_the_per_token_chain_is_labelled() -> None:
    process = load_text(ASYMMETRIC)
    analysis = analyze(process, max_states=20)
    assert analysis.routing.exact is False
    assert "more than 20 states" in (analysis.routing.note or "")
    assert analyze(load_text(ASYMMETRIC)).routing.exact is True


def test_a_process_without_shared_bounds_keeps_the_unrolled_chain() -> None:
    plain = OUTER.replace(
        "redo: {to: split, p: 0.5, feedback: true, max: 2}", "redo: {to: x, p: 0.5}"
    )
    plain = plain.replace(
        "  done: {end: true}", "  x: {duration: 1m, next: done}\n  done: {end: true}"
    )
    analysis = analyze(load_text(plain))
    assert analysis.routing.method == "unrolled"
    assert "shared_bounds" not in analysis.routing.to_dict()
    assert not build_chain(load_text(plain)).per_case


# --------------------------------------------------------------------------
# against simulation


def _per_case(rows: list[tuple[int | str, str, str | None, float, float]], step: str) -> list[int]:
    counts = Counter(case for case, s, *_ in rows if s == step)
    cases = {case for case, *_ in rows}
    return [counts.get(case, 0) for case in cases]


@pytest.mark.parametrize("name", ["asym", "nested"])
def test_the_reference_simulator_agrees_case_by_case(name: str) -> None:
    """Per-case visits of every staffed step, 4,000 cases of the reference simulator on a
    busy desk (branches wait and interleave every which way): within 4 standard errors."""
    text = MODELS[name]
    plan = prepare(load_text(text))
    log = Rows()
    run_reference(plan, 0, 11, 4_000, 0, log=log)
    analysis = analyze(load_text(text))
    for step, figures in analysis.steps.items():
        if figures.owner is None or figures.end:
            continue
        counts = _per_case(log.rows, step)
        n = len(counts)
        mean = sum(counts) / n
        spread = math.sqrt(sum((x - mean) ** 2 for x in counts) / (n - 1) / n)
        assert abs(mean - figures.visits) <= 4 * spread + 1e-9, (step, mean, figures.visits)


def test_the_simulated_intervals_hold_the_exact_visits() -> None:
    """simulate (the token engine), 8 runs: each step's visits per case are within twice
    the half-width of their 95% interval (about 4.7 standard errors: five steps at 95%
    each would fail one run in four by chance alone) of the analysis's exact figure."""
    process = load_text(ASYMMETRIC)
    result = simulate(process, cases=3_000, runs=8, seed=4, warmup=0)
    analysis = analyze(process)
    for step in ("left", "right", "s", "t", "meet"):
        interval = result.steps[step].visits.ci95
        assert interval is not None
        low, high = interval
        middle, half = (low + high) / 2, (high - low) / 2
        assert abs(analysis.steps[step].visits - middle) <= 2 * half + 1e-9, (step, low, high)
        assert half < 0.02 * middle  # and the intervals are narrow enough to tell


# --------------------------------------------------------------------------
# the layers that read the visits


def test_a_branch_that_leaves_its_loop_only_by_the_bound_has_a_finite_time() -> None:
    """SHARED's branches leave 'check' only when its ``p: 1`` rework is used up: the block
    time reads the bound as a cap (docs/parallel-work.md, step 1) instead of an infinite
    time, and a race on the same model no longer stops analyze with a singular matrix."""
    process = load_text(SHARED)
    expected = analyze(process).cycle_time.expected
    assert expected is not None
    assert math.isfinite(expected)
    simulated = (
        simulate(process, cases=3_000, runs=4, seed=3, warmup=0).kpis["cycle_time.mean"].mean
    )
    assert abs(expected / simulated - 1.0) < 0.15  # approximate, labelled: +5.7% measured
    race = analyze(load_text(SHARED.replace("join: all", "join: first")))
    assert race.cycle_time.expected is not None
    assert math.isfinite(race.cycle_time.expected)


def test_diff_and_report_label_approximate_routing_only() -> None:
    from procflow.diffing.kpis import figures
    from procflow.htmlreport.collect import ProcessData
    from procflow.htmlreport.sections import analysis as section

    exact, _ = figures(load_text(SHARED))
    assert exact["cycle_time.expected"][0] == "expected cycle time"
    race_process = load_text(SHARED.replace("join: all", "join: first"))
    rough, _ = figures(race_process)
    assert rough["cycle_time.expected"][0] == "expected cycle time (approximate routing)"
    assert rough["utilization:desk"][0] == "utilization of desk (approximate routing)"
    assert rough["throughput_per_hour"][0] == "throughput"  # the arrivals alone
    shown = section(
        ProcessData("s", load_text(SHARED), [], analysis=analyze(load_text(SHARED)).to_dict())
    )
    assert "exact (sequential)" in shown
    shown = section(ProcessData("r", race_process, [], analysis=analyze(race_process).to_dict()))
    assert "approximate (approximate)" in shown
    plain = load_text(OUTER.replace("max: 2}", "}").replace("max: 1}", "}"))
    shown = section(ProcessData("p", plain, [], analysis=analyze(plain).to_dict()))
    assert "<td>visits</td>" not in shown


def test_levers_do_not_screen_a_step_only_the_case_count_reaches() -> None:
    """Per token, 'w' is never reached (each token takes 'x' while its own counter allows);
    per case the second token finds 'x' used up and takes 'y' (``p: 0``, equal shares).
    The exact chain sees the visit; the per-token chain (past the state limit) does not,
    and then levers must not call the step unreachable."""
    from procflow._levers.candidates import Lever
    from procflow._levers.goal import GoalSpec
    from procflow._levers.screen import screen

    text = CROSS.replace(
        "x: {to: t, p: 0.5, max: 1}\n      y: {to: meet, p: 0.5}",
        "x: {to: t, p: 1.0, max: 1}\n      y: {to: w, p: 0.0}",
    ).replace("  t: {", "  w: {owner: desk, duration: 1m, next: meet}\n  t: {")
    process = load_text(text)
    assert analyze(process).steps["w"].visits == pytest.approx(1.0)
    per_token = analyze(process, max_states=build_chain(process).size - 1)
    assert per_token.routing.exact is False
    assert per_token.steps["w"].visits == 0.0
    lever = Lever("duration", "w", "1m", "54s", {})
    goal = GoalSpec(None, "cycle_time", "mean", "cycle_time", "lower")
    assert screen(process, per_token, goal, lever) is None


def test_loops_in_a_row_add_states_instead_of_multiplying_them() -> None:
    """Every token leaves a loop before any goes past it, so each loop's counter is dropped
    before the next one's counts: 8 branches through 20 shared loops (``max: 9``) stay
    small and exact, where the per-token chain is 8% high (docs/parallel-work.md)."""
    process = load_text(loops_in_a_row(8, 20, 9))
    analysis = analyze(process)
    assert analysis.routing.method == "sequential"
    assert analysis.routing.states < 2_000
    # each loop sees all 8 tokens and lets at most 9 of them round: the same in every loop
    first, last = analysis.steps["s0"].visits, analysis.steps["s19"].visits
    assert first == pytest.approx(last, rel=1e-12)
    assert 8.0 < first < 8.0 + 9.0
    per_token = 8 * (2 - 0.5**9)  # each token: a geometric count cut at 9 rounds
    assert per_token / first - 1.0 == pytest.approx(0.078, abs=0.002)


def test_a_step_the_tokens_use_up_together_is_a_dead_end() -> None:
    """Three tokens reach 's', whose two edges a case may take once each: the third finds
    both used up. Counted per token nothing is ever used up; counted per case it is PF104,
    positioned at the step."""
    text = CROSS.replace("parallel: [left, right]", "parallel: [left, right, third]")
    text = text.replace(
        "  s:\n", "  third: {owner: desk, duration: exponential(4m), next: s}\n  s:\n"
    ).replace("y: {to: meet, p: 0.5}", "y: {to: meet, p: 0.5, max: 1}")
    with pytest.raises(ProcessError) as caught:
        analyze(load_text(text))
    (problem,) = caught.value.problems
    assert problem.code == "PF104"
    assert "'s' is a dead end" in problem.message
    assert "per case" in problem.message
    assert problem.position.line == text.splitlines().index("  s:") + 1


def test_counters_that_all_live_at_once_fall_back_past_the_case_limit() -> None:
    """Rework in each of ten branches inside a loop round the fork: every counter outlives
    the join, 4^10 combinations. The case chain stops at its limit (CASE_STATES) and the
    per-token chain answers, labelled approximate with the reason."""
    branches = [f"b{i}" for i in range(10)]
    lines = [
        "process: wide",
        "owners:",
        "  desk: {capacity: 50}",
        "arrivals: {rate: 1/h}",
        "start: split",
        "steps:",
        f"  split: {{owner: desk, duration: 1m, parallel: [{', '.join(branches)}]}}",
    ]
    for b in branches:
        lines += [f"  {b}:", "    owner: desk", "    duration: 1m", "    on:"]
        lines += [f"      again: {{to: {b}, p: 0.5, feedback: true, max: 3}}"]
        lines += ["      ok: {to: meet, p: 0.5}"]
    lines += ["  meet:", "    join: all", "    owner: desk", "    duration: 1m", "    on:"]
    lines += ["      redo: {to: split, p: 0.5, feedback: true, max: 3}"]
    lines += ["      ok: {to: done, p: 0.5}", "  done: {end: true}"]
    analysis = analyze(load_text("\n".join(lines) + "\n"))
    assert analysis.routing.method == "approximate"
    assert (analysis.routing.note or "").endswith("not run in sequence: more than 20,000 states")
    # the per-token chain drops the largest bounds past its own limit; the rest are shared
    routing = analysis.routing
    assert {b.step for b in routing.shared} | {b.step for b in routing.dropped} >= set(branches)
    assert routing.shared


REWORK = """\
process: rework-in-two-branches
owners:
  desk: {capacity: 3}
arrivals: {rate: 1/h}
start: split
steps:
  split: {duration: 0s, parallel: [a, b]}
  a:
    owner: desk
    duration: exponential(5m)
    on:
      again: {to: a, p: 0.1, feedback: true}
      ok: {to: meet, p: 0.9}
  b:
    owner: desk
    duration: exponential(5m)
    on:
      again: {to: b, p: 0.1, feedback: true}
      ok: {to: meet, p: 0.9}
  meet: {join: all, owner: desk, duration: 0s, next: done}
  done: {end: true}
"""


def test_rework_in_two_branches_is_counted_per_case() -> None:
    """No bound at all, but two tokens can each rework: a case reworks with probability
    1 - 0.9^2 = 0.19, where adding up the tokens' first feedback edges gives 0.2."""
    process = load_text(REWORK)
    analysis = analyze(process)
    assert analysis.routing.method == "unrolled"  # the visits need no case chain
    assert analysis.rework_rate == pytest.approx(0.19, rel=1e-12)
    simulated = simulate(process, cases=4_000, runs=6, seed=8, warmup=0).kpis["rework_rate"]
    assert simulated.ci95 is not None
    low, high = simulated.ci95
    assert low - (high - low) / 2 <= 0.19 <= high + (high - low) / 2, (low, high)
    one_branch = REWORK.replace("again: {to: b, p: 0.1, feedback: true}", "again: {to: b, p: 0.1}")
    assert analyze(load_text(one_branch)).rework_rate == pytest.approx(0.1, rel=1e-12)
