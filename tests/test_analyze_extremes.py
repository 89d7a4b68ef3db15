"""The analytic model at the edges of floating point: huge and tiny numbers never crash it.

Schema-valid but extreme processes -- a capacity of 10**15 (the largest allowed), a rate of
1e300/s, durations of 1e300 s and 1e-300 s, probabilities of 1e-300,
thousands of owners, utilization exactly 1 -- must give finite figures or
``None`` (JSON ``null``), ``stable: false`` when overloaded, or a positioned
:class:`~procflow.errors.ProcflowError`; never an arithmetic exception, a
hang, NaN or infinity in JSON, or an "internal error" finding from lint.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console

from complexity import counting_calls
from procflow._lint import lint
from procflow.analysis import analyze, analyze_or_none
from procflow.cli import main
from procflow.cli.analyze import print_analysis
from procflow.errors import ProcflowError, SimulationError
from procflow.loader import load_text
from procflow.model import Process

EXAMPLES = int(os.environ.get("PROCFLOW_FUZZ_EXAMPLES", "60"))


def desk(arrivals: str, duration: str, capacity: int | str, extra: str = "") -> Process:
    return load_text(
        f"""
process: desk
owners: {{agent: {{capacity: {capacity}, cost_per_hour: 40}}}}
arrivals: {{{arrivals}}}
start: serve
steps:
  serve:
    owner: agent
    duration: "{duration}"
    on:
      ok: {{to: done, p: 0.9}}
      redo: {{to: serve, p: 0.1, feedback: true}}
  done: {{end: true}}
goals:
  - {{id: ct, metric: cycle_time, stat: mean, target: "<= 1h"}}
  - {{id: ct90, metric: cycle_time, stat: p90, target: "<= 1h"}}
  - {{id: busy, metric: utilization:agent, target: "<= 80%"}}
  - {{id: cost, metric: cost_per_case, target: "<= 5"}}
  - {{id: few, metric: wip, target: "<= 5"}}
  - {{id: step, metric: step_time:serve, stat: mean, target: "<= 10m"}}
{extra}""",
        "desk.yaml",
    )


def check(process: Process) -> None:
    """analyze returns or raises ProcflowError; JSON is valid; lint has no internal errors.

    That it finishes promptly is measured in benchmarks/robustness_bench.py, not asserted here.
    """
    try:
        analysis = analyze(process)
    except ProcflowError:
        assert analyze_or_none(process) is None
    else:
        text = json.dumps(analysis.to_dict(), allow_nan=False)
        assert "NaN" not in text
        assert "Infinity" not in text
        console = Console(file=io.StringIO(), width=160, color_system=None)
        print_analysis(analysis, console, "x.yaml")
    findings = lint(process)
    assert not [f for f in findings if "internal error" in f.message], findings


@pytest.mark.parametrize(
    ("arrivals", "duration", "capacity"),
    [
        ("rate: 9/h", "exponential(20m)", 10**15),
        ("rate: 1e300/s", "exponential(20m)", 4),
        ("rate: 9/h", "exponential(1e300s)", 4),
        ("rate: 9/h", "exponential(1e-300s)", 4),
        ("rate: 9/h", "1e-300s", 4),
        ("rate: 1e300/s", "1e300s", 10**15),
        ("rate: 1e-300/s", "exponential(1e-300s)", 4),
        ("every: 1e-300s", "exponential(20m)", 4),
        ("every: 1e300s", "exponential(20m)", 4),
        # (sd/mean)^2 must stay finite: lognormal(1e-300s, 1e300s) is PF002 (test_field_processes)
        ('every: "lognormal(1e-150s, 1e3s)"', "lognormal(1e-150s, 1e3s)", 2),
        ("rate: 9/h", "normal(1e300s, 1e300s)", 10**15),
        ("rate: 9/h", "gamma(1e300s, 1e-300s)", 3),
        ("rate: 9/h", "uniform(1e-300s, 1e300s)", 3),
        ("rate: 9/h", "triangular(0s, 1e-300s, 1e300s)", 3),
        ("rate: 1e300/s", "exponential(20m)", 10**15),
    ],
)
def test_extreme_values_never_crash(arrivals: str, duration: str, capacity: int) -> None:
    check(desk(arrivals, duration, capacity))


def test_huge_load_is_overloaded_with_a_capacity_that_would_do() -> None:
    a = analyze(desk("rate: 1e300/s", "exponential(20m)", 4))
    agent = a.owners["agent"]
    assert not a.stable
    assert agent.utilization is not None
    assert agent.utilization > 1e300
    assert agent.required_capacity is not None
    assert agent.load < agent.required_capacity <= agent.load * (1 + 1e-12)
    data = a.to_dict()
    assert data["owners"]["agent"]["wait_mean"] is None
    assert data["cycle_time"]["expected"] is None


def test_pf501_states_absurd_loads_compactly() -> None:
    p = desk("rate: 1e300/s", "exponential(20m)", 4)
    (finding,) = [f for f in lint(p) if f.code == "PF501"]
    assert "utilization 3.33e+304%" in finding.message
    assert "at least 1.33e+303" in finding.message
    assert max(len(word) for word in finding.message.split()) < 20


def test_a_billion_servers_near_capacity() -> None:
    # 8.9e5/s x 1000 s / 0.9 = 9.9e8 busy servers of 1e9: Erlang B in its normal limit
    agent = analyze(desk("rate: 8.9e5/s", "exponential(1000s)", 10**9)).owners["agent"]
    assert agent.stable
    assert agent.utilization == pytest.approx(0.98889, rel=1e-4)
    assert agent.p_wait is not None
    assert 0.0 <= agent.p_wait < 1e-6  # a pool this large hardly ever makes anyone wait
    assert agent.wait_mean is not None
    assert agent.wait_mean < 1e-3


def test_huge_capacity_is_stable_and_waits_nothing() -> None:
    agent = analyze(desk("rate: 9/h", "exponential(20m)", 10**15)).owners["agent"]
    assert agent.stable
    assert agent.p_wait == 0.0
    assert agent.wait_mean == 0.0


def test_tiny_durations_give_tiny_times_not_errors() -> None:
    a = analyze(desk("rate: 9/h", "1e-300s", 4))
    assert a.steps["serve"].service_scv == 0.0
    expected = a.cycle_time.expected
    assert expected is not None
    assert 0.0 < expected < 1e-299


def test_offered_load_beyond_floating_point_is_a_positioned_error() -> None:
    with pytest.raises(SimulationError, match=r"desk\.yaml:\d+:\d+: the offered load of owner"):
        analyze(desk("rate: 1e300/s", "1e300s", 4))


def test_utilization_exactly_one_is_overloaded() -> None:
    agent = analyze(desk("rate: 6/h", "exponential(18m)", 2)).owners["agent"]
    assert agent.utilization == pytest.approx(1.0, rel=1e-12)
    assert not agent.stable
    assert agent.wait_mean is None
    assert agent.required_capacity == 3


def test_a_loop_left_with_probability_1e_300() -> None:
    p = load_text(
        """
process: sticky
owners: {agent: {capacity: 4}}
arrivals: {rate: 1e-280/s}
start: serve
steps:
  serve:
    owner: agent
    duration: 1s
    on:
      ok: {to: done, p: 1e-300}
      redo: {to: serve, p: 1.0, feedback: true}
  done: {end: true}
""",
        "sticky.yaml",
    )
    a = analyze(p)
    assert a.steps["serve"].visits == pytest.approx(1e300, rel=1e-9)
    assert a.owners["agent"].utilization == pytest.approx(1e300 * 1e-280 / 4, rel=1e-9)
    json.dumps(a.to_dict(), allow_nan=False)


def test_a_loop_left_too_rarely_for_floating_point_is_a_positioned_error() -> None:
    p = load_text(
        """
process: sticky
owners: {agent: {capacity: 4}}
arrivals: {rate: 1/h}
start: a
steps:
  a:
    owner: agent
    duration: 1s
    on:
      ok: {to: done, p: 1e-300}
      on: {to: b, p: 1.0}
  b:
    owner: agent
    duration: 1s
    on:
      ok: {to: done, p: 1e-300}
      back: {to: a, p: 1.0, feedback: true}
  done: {end: true}
""",
        "sticky.yaml",
    )
    check(p)


def many_owners(count: int) -> Process:
    """200 steps in a row spread over ``count`` owners (most of them own no step)."""
    owners = "\n".join(f"  o{i}: {{capacity: {1 + i % 3}}}" for i in range(count))
    steps = "\n".join(
        f"  s{i}: {{owner: o{i * 97 % count}, duration: exponential({1 + i % 5}m), next: "
        f"{'s' + str(i + 1) if i < 199 else 'done'}}}"
        for i in range(200)
    )
    return load_text(
        f"process: many\nowners:\n{owners}\narrivals: {{rate: 10/h}}\nstart: s0\n"
        f"steps:\n{steps}\n  done: {{end: true}}\n",
        "many.yaml",
    )


def test_ten_thousand_owners() -> None:
    """The work grows linearly with the owners: 10x the owners, at most ~10x the calls.

    Counted, not timed (benchmarks/robustness_bench.py times it): a pass per
    pair of owners would make 100x the calls.
    """
    work = {}
    analyze(many_owners(100))  # modules and caches warm before counting
    for count in (1_000, 10_000):
        p = many_owners(count)
        with counting_calls() as calls:
            a = analyze(p)
            json.dumps(a.to_dict(), allow_nan=False)
        assert len(a.owners) == count
        work[count] = calls.count
    assert work[10_000] < 12 * work[1_000], work


def test_cli_json_is_valid_for_extreme_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(
        "process: huge\nowners: {agent: {capacity: 2}}\narrivals: {rate: 1e300/s}\n"
        "start: a\nsteps:\n  a: {owner: agent, duration: 1e8s, next: done}\n"
        "  done: {end: true}\n",
        encoding="utf-8",
    )
    assert main(["analyze", str(path), "--format", "json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["stable"] is False
    assert "Infinity" not in out
    assert "NaN" not in out
    assert main(["lint", "--isolated", str(path)]) == 1
    assert "internal error" not in capsys.readouterr().out


# --------------------------------------------------------------------------
# random valid processes with wild numbers

WILD = [
    "1e-300",
    "1e-30",
    "1e-9",
    "0.001",
    "1",
    "7",
    "20",
    "3600",
    "1e9",
    "1e30",
    "1e150",
    "1e300",
]
CAPACITIES = [1, 2, 3, 50, 2001, 10**6, 10**15]
TIMES = ['"<= 1h"', '"<= 1e-300s"', '"< 1e300s"', '">= 1m"']
TARGETS = {
    "cycle_time": TIMES,
    "wait_time": TIMES,
    "step_time:s0": TIMES,
    "wip": ['"<= 3"', '"<= 1e-300"', '"<= 1e300"'],
    "throughput": ['">= 1/h"', '">= 1e300/s"'],
    "rework_rate": ['"<= 10%"', '"<= 0"'],
    "cost_per_case": ['"<= 3"', '"<= 1e300"'],
    "utilization:o0": ['"<= 50%"', '"<= 100%"'],
}


@st.composite
def wild_duration(draw: st.DrawFn) -> str:
    a, b, c = sorted(float(draw(st.sampled_from(WILD))) for _ in range(3))
    kind = draw(st.sampled_from(["fixed", "exp", "uni", "tri", "norm", "logn", "gamma", "emp"]))
    if kind == "emp":
        return f"{{dist: empirical, values: [{a:g}s, {c:g}s, {c:g}s]}}"
    return {
        "fixed": f"{a:g}s",
        "exp": f"exponential({c:g}s)",
        "uni": f"uniform({a:g}s, {c:g}s)",
        "tri": f"triangular({a:g}s, {b:g}s, {c:g}s)",
        "norm": f"normal({b:g}s, {c:g}s)",
        # an sd whose (sd/mean)^2 overflows is PF002 (test_field_processes): at most 1e150 x
        "logn": f"lognormal({b:g}s, {min(c, b * 1e150):g}s)",
        "gamma": f"gamma({c:g}s, {b:g}s)",
    }[kind].join('""')


#: Why analyze may refuse a wild (valid) process: numbers no float can hold.
REFUSALS = {
    "load too large": r"offered load of owner 'o\d' .* is too large to compute with",
    "visits beyond floats": r"leave the loop through step 's\d' so rarely that the expected "
    r"visits are beyond floating point",
}


@st.composite
def wild_process(draw: st.DrawFn) -> str:
    size = draw(st.integers(min_value=1, max_value=7))
    owners = draw(st.integers(min_value=1, max_value=4))
    lines = ["process: wild", "owners:"]
    for k in range(owners):
        external = draw(st.booleans()) and k > 0
        if external:
            lines.append(f"  o{k}: {{external: true}}")
        else:
            capacity = draw(st.sampled_from(CAPACITIES))
            cost = draw(st.sampled_from(["", ", cost_per_hour: 1e300", ", cost_per_hour: 30"]))
            lines.append(f"  o{k}: {{capacity: {capacity}{cost}}}")
    if draw(st.booleans()):
        lines.append(f"arrivals: {{rate: {draw(st.sampled_from(WILD))}/s}}")
    else:
        lines.append(f"arrivals: {{every: {draw(wild_duration())}}}")
    lines += ["start: s0", "steps:"]
    for i in range(size):
        owner = draw(st.integers(min_value=-1, max_value=owners - 1))
        head = f"  s{i}: {{duration: {draw(wild_duration())}"
        if owner >= 0:
            head += f", owner: o{owner}"
        forward = f"s{i + 1}" if i + 1 < size else "done"
        if i == 0 or not draw(st.booleans()):
            lines.append(f"{head}, next: {forward}}}")
            continue
        back = f"s{draw(st.integers(min_value=0, max_value=i))}"
        tiny = draw(st.sampled_from(["1e-300", "1e-9", "0.1", "0.5"]))
        bound = draw(st.sampled_from(["", ", max: 1", ", max: 3", ", max: 1000"]))
        rest = repr(1.0 - float(tiny))
        p_on, p_back = (tiny, rest) if draw(st.booleans()) else (rest, tiny)
        lines.append(
            f"{head}, on: {{on: {{to: {forward}, p: {p_on}}}, "
            f"back: {{to: {back}, p: {p_back}, feedback: true{bound}}}}}}}"
        )
    lines.append("  done: {end: true}")
    metric = draw(st.sampled_from(sorted(TARGETS)))
    stat = draw(st.sampled_from(["", ", stat: mean", ", stat: p90"]))
    target = draw(st.sampled_from(TARGETS[metric]))
    lines += ["goals:", f"  - {{id: g, metric: {metric}{stat}, target: {target}}}"]
    return "\n".join(lines) + "\n"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(wild_process())
def test_random_wild_processes(text: str) -> None:
    """Every wild process is valid; analyze gives sane figures or one of two positioned refusals."""
    process = load_text(text, "wild.yaml")  # the strategy only writes valid processes
    check(process)
    try:
        analysis = analyze(process)
    except SimulationError as exc:
        message = str(exc)
        kind = next((k for k, pattern in REFUSALS.items() if re.search(pattern, message)), None)
        assert kind is not None, message
        event(f"refused: {kind}")
        assert re.match(r"wild\.yaml:\d+:\d+: ", message), message  # names the owner or step
        assert analyze_or_none(process) is None
    else:
        event("analyzed")
        for owner in analysis.owners.values():
            assert owner.load >= 0.0
            assert math.isfinite(owner.load)
            if owner.utilization is not None:
                assert owner.stable == (owner.utilization < 1.0)
        for step in analysis.steps.values():
            assert step.visits >= 0.0
        assert 0.0 <= analysis.rework_rate <= 1.0


def test_an_owner_needing_more_units_than_a_float_holds_is_reported_not_crashed() -> None:
    """A load near the largest float over the 85% threshold needs ~2e308 units: an int no
    float holds. PF501 said "internal error (OverflowError)"; it now writes the number."""
    text = """process: wild
owners:
  o0: {capacity: 1}
arrivals: {every: "uniform(1e-300s, 20s)"}
start: s0
steps:
  s0: {duration: "1e-300s", owner: o0, next: s1}
  s1: {duration: "1e-300s", owner: o0, next: s2}
  s2: {duration: "1e-300s", owner: o0, next: s3}
  s3:
    duration: "normal(1e-300s, 1e+300s)"
    owner: o0
    on: {on: {to: s4, p: 1e-9}, back: {to: s0, p: 0.999999999, feedback: true}}
  s4: {duration: "1e-300s", owner: o0, next: s5}
  s5:
    duration: "1e-300s"
    owner: o0
    on: {on: {to: done, p: 0.5}, back: {to: s0, p: 0.5, feedback: true}}
  done: {end: true}
"""
    findings = lint(load_text(text, "wild.yaml"))
    assert not [f for f in findings if "internal error" in f.message], findings
    (overloaded,) = [f for f in findings if f.code == "PF501"]
    assert "(1.88e+308 to stay below 85%)" in overloaded.message, overloaded


@pytest.mark.parametrize("most", [10**6, 10**400])
def test_a_max_beyond_any_state_space_is_thinned_without_overflow(most: int) -> None:
    """A bound too large to unroll is dropped and thinned; a 400-digit max is not a float."""
    process = desk("rate: 9/h", "exponential(20m)", 4).with_changes(
        {"steps": {"serve": {"on": {"redo": {"max": most}}}}}
    )
    check(process)
    assert analyze(process).steps["serve"].visits == pytest.approx(1 / 0.9)
