"""What-if changes: Process.apply / with_changes, procflow.compare and ``procflow compare``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

import procflow
from helpers import CUSTOMER_SERVICE, CUSTOMER_SERVICE_247, PROCESSES, ROOT, run
from procflow.errors import ProcessError
from procflow.loader import load, load_change
from procflow.sim import compare, simulate
from procflow.sim.plan import compile_process
from procflow.sim.sampling import DURATIONS, Buffer, drawer, generator

CHANGES = ROOT / "changes"

#: Every committed change file and the example process it is written for.
CHANGE_TARGETS: dict[str, str] = {
    "hire-support-agent": "customer-service",
    "halve-reopens": "customer-service",
    "skip-triage": "customer-service",
    "add-quality-inspector": "order-fulfilment",
    "halve-repacks": "order-fulfilment",
    "skip-inspection": "order-fulfilment",
    "add-engineer": "incident-management",
    "better-first-line": "incident-management",
    "raise-cfo-threshold": "purchase-approval",
    "digital-documents": "employee-onboarding",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- Process.apply and Process.with_changes ----------------------------------------


def test_with_changes_merges_nested_mappings_and_keeps_the_rest() -> None:
    process = load(CUSTOMER_SERVICE)
    changed = process.with_changes({"owners": {"support-agent": {"capacity": 7}}})
    agent = changed.owners["support-agent"]
    assert agent.capacity == 7
    assert agent.cost_per_hour == 32  # a sibling key survives the merge
    assert process.owners["support-agent"].capacity == 5  # the original is untouched
    assert changed.steps == process.steps
    assert changed.goals == process.goals


def test_null_deletes_and_lists_are_replaced_whole() -> None:
    process = load(CUSTOMER_SERVICE)
    changed = process.with_changes(
        {
            "goals": [{"id": "fast", "metric": "wait_time", "stat": "mean", "target": "<= 5m"}],
            "owners": {"support-lead": None},
            "owner": None,
        }
    )
    assert [g.id for g in changed.goals] == ["fast"]
    assert "support-lead" not in changed.owners
    assert changed.owner is None
    assert "support-lead" in process.owners


def test_removing_a_step_and_rerouting_around_it() -> None:
    process = load(CUSTOMER_SERVICE)
    changed = process.apply(load_change(CHANGES / "skip-triage.yaml"))
    assert "triage" not in changed.steps
    intake = changed.steps["intake"]
    assert [(t.trigger, t.to, t.p) for t in intake.transitions] == [
        ("simple", "resolve", 0.7),
        ("complex", "escalate", 0.3),
    ]
    reopened = changed.steps["confirm"].transitions[1]
    assert (reopened.to, reopened.p, reopened.feedback, reopened.max) == ("intake", 0.15, True, 3)
    from procflow._lint import ensure_runnable

    ensure_runnable(changed)  # structurally sound


def test_changes_compose_and_the_document_is_a_copy() -> None:
    process = load(CUSTOMER_SERVICE)
    once = process.apply(load_change(CHANGES / "hire-support-agent.yaml"))
    twice = once.apply(load_change(CHANGES / "halve-reopens.yaml"))
    assert twice.owners["support-agent"].capacity == 6
    assert [t.p for t in twice.steps["confirm"].transitions] == [0.925, 0.075]
    document = twice.document
    document["owners"]["support-agent"]["capacity"] = 99
    assert twice.owners["support-agent"].capacity == 6
    assert twice.document["owners"]["support-agent"]["capacity"] == 6


def test_unpatched_parts_keep_their_positions_in_the_process_file() -> None:
    process = load(CUSTOMER_SERVICE)
    changed = process.apply(load_change(CHANGES / "hire-support-agent.yaml"))
    assert changed.position(("steps", "triage")) == process.position(("steps", "triage"))
    where = changed.position(("owners", "support-agent", "capacity"), "value")
    assert where.file.endswith("hire-support-agent.yaml")
    assert (where.line, where.column) == (8, 17)


def test_a_schema_error_in_a_change_points_into_the_change_file(tmp_path: Path) -> None:
    change = write(
        tmp_path,
        "bad.yaml",
        """\
        change: bad
        patch:
          owners:
            tier2:
              capacity: -1
          steps:
            escalate:
              duration: exponential(nope)
        """,
    )
    with pytest.raises(ProcessError) as info:
        load(CUSTOMER_SERVICE).apply(load_change(change))
    found = {(p.position.file, p.position.line, p.position.column) for p in info.value.problems}
    assert (str(change), 5, 17) in found
    assert any(p.position.line == 8 and p.position.file == str(change) for p in info.value.problems)


def test_with_changes_errors_name_the_patch() -> None:
    with pytest.raises(ProcessError) as info:
        load(CUSTOMER_SERVICE).with_changes({"arrivals": {"rate": "fast"}}, name="<what-if>")
    (problem,) = info.value.problems
    assert problem.position.file == "<what-if>"
    assert "rate" in problem.message


def test_a_change_file_must_be_a_change(tmp_path: Path) -> None:
    change = write(tmp_path, "nochange.yaml", "patch: {}\nextra: 1\n")
    with pytest.raises(ProcessError) as info:
        load_change(change)
    messages = [p.message for p in info.value.problems]
    assert any("change" in m for m in messages)
    assert any("extra" in m for m in messages)


@pytest.mark.parametrize("name", sorted(CHANGE_TARGETS))
def test_every_committed_change_applies_to_its_process(name: str) -> None:
    process = load(PROCESSES / f"{CHANGE_TARGETS[name]}.yaml")
    change = load_change(CHANGES / f"{name}.yaml")
    assert change.id == name
    assert change.description
    changed = process.apply(change)
    assert changed != process
    compile_process(changed)  # it can be simulated


def test_every_change_file_is_known() -> None:
    assert {p.stem for p in CHANGES.glob("*.yaml")} == set(CHANGE_TARGETS)


# -- common random numbers ----------------------------------------------------------------


def test_streams_are_keyed_by_step_id_not_position() -> None:
    """Removing triage does not shift the durations 'resolve' draws."""
    base = compile_process(load(CUSTOMER_SERVICE))
    changed = compile_process(
        load(CUSTOMER_SERVICE).apply(load_change(CHANGES / "skip-triage.yaml"))
    )
    resolve_base = base.steps[base.step_index("resolve")]
    resolve_changed = changed.steps[changed.step_index("resolve")]
    assert base.step_index("resolve") != changed.step_index("resolve")
    assert resolve_base.key == resolve_changed.key

    def draws(spec_key: int) -> list[float]:
        step = resolve_base
        assert step.duration is not None
        buffer = Buffer(drawer(step.duration, generator(3, 0, DURATIONS, spec_key)))
        buffer.refill()
        return buffer.values[-5:]

    assert draws(resolve_base.key) == draws(resolve_changed.key)


def test_a_change_that_changes_nothing_has_exactly_zero_differences() -> None:
    process = load(CUSTOMER_SERVICE)
    same = process.with_changes({"title": "renamed"})
    result = compare(process, same, cases=1_500, runs=3, seed=4)
    for key, diff in result.differences["change-1"].items():
        if diff.baseline is None:
            continue
        assert diff.difference == 0.0, key
        assert diff.significant is False, key


def test_an_unaffected_step_sees_the_same_numbers() -> None:
    """Arrivals and intake are untouched by more tier-2 staff: identical per run."""
    process = load(CUSTOMER_SERVICE)
    more = process.with_changes({"owners": {"tier2": {"capacity": 6}}})
    result = compare(process, more, names=["more-tier2"], cases=2_000, runs=3, seed=1)
    changed = result.changes["more-tier2"]
    assert changed.kpis["step:intake.service_mean"].runs == (
        result.baseline.kpis["step:intake.service_mean"].runs
    )
    assert changed.kpis["step:intake.visits"].runs == (1.0, 1.0, 1.0)


def test_paired_intervals_are_much_narrower_than_independent_ones() -> None:
    process = load(CUSTOMER_SERVICE_247)  # around the clock: waits are the agents' queue
    hire = load_change(CHANGES / "hire-support-agent.yaml")  # a Change is applied by compare
    result = compare(process, hire, cases=3_000, runs=6, seed=2)
    wait = result.differences["hire-support-agent"]["wait_time.mean"]
    assert wait.significant is True
    assert wait.ci95 is not None
    assert wait.ci95[1] < 0  # waiting goes down
    # cycle time is mostly the customers' own time, drawn alike in both scenarios
    diff = result.differences["hire-support-agent"]["cycle_time.mean"]
    base = result.baseline["cycle_time.mean"]
    other = result.changes["hire-support-agent"]["cycle_time.mean"]
    assert diff.ci95 is not None
    assert base.half_width is not None
    assert other.half_width is not None
    paired_half = (diff.ci95[1] - diff.ci95[0]) / 2
    assert paired_half < 0.3 * np.hypot(base.half_width, other.half_width)


def test_compare_results_match_simulate_with_the_same_seed() -> None:
    process = load(CUSTOMER_SERVICE)
    hire = process.apply(load_change(CHANGES / "hire-support-agent.yaml"))
    result = compare(process, hire, names=["hire-support-agent"], cases=1_500, runs=2, seed=7)
    alone = simulate(hire, cases=1_500, runs=2, seed=7)
    assert result.changes["hire-support-agent"].to_json() == alone.to_json()
    assert result.baseline.to_json() == simulate(process, cases=1_500, runs=2, seed=7).to_json()


def test_change_names() -> None:
    process = load(CUSTOMER_SERVICE)
    change = load_change(CHANGES / "hire-support-agent.yaml")
    result = compare(process, change, change, process, cases=300, runs=1, seed=1)
    assert list(result.changes) == ["hire-support-agent", "hire-support-agent-2", "change-3"]
    assert all(d.ci95 is None for d in result.differences["change-3"].values())


# -- the command line --------------------------------------------------------------------


def test_make_demo_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "compare",
        str(CUSTOMER_SERVICE),
        "--change",
        str(CHANGES / "hire-support-agent.yaml"),
        "--cases",
        "5000",
        "--runs",
        "5",
        "--seed",
        "1",
    )
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("customer-service")
    assert "baseline and 1 change, same random numbers" in lines[1]
    assert "hire-support-agent: Six support agents instead of five." in out
    header = next(line for line in lines if "95% CI of difference" in line)
    assert header.split() == [
        "baseline",
        "hire-support-agent",
        "difference",
        "95%",
        "CI",
        "of",
        "difference",
        "significant",
    ]
    # the agents' queue shrinks (p90 of waiting); most waiting is for the desk to open,
    # which one more agent does not change
    wait = next(line for line in lines if line.strip().startswith("waiting per case p90"))
    assert wait.rstrip().endswith("yes")
    assert "-" in wait.split("waiting per case p90")[1]
    agent = next(line for line in lines if "utilization support-agent" in line)
    before, after = (float(word[:-1]) for word in agent.split() if word.endswith("%"))
    # the same work over 6 agents instead of 5; analytic: 52.3% over the on-duty hours
    assert after == pytest.approx(before * 5 / 6, abs=0.1)
    assert before == pytest.approx(52.3, abs=2.5)
    assert agent.rstrip().endswith("yes")
    assert "support-lead" not in out  # owns no step: nothing to compare
    assert any(line.startswith(" resolve-within-a-day") for line in lines)


def test_json_of_a_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "compare",
        str(CUSTOMER_SERVICE),
        "--change",
        str(CHANGES / "hire-support-agent.yaml"),
        "--change",
        str(CHANGES / "halve-reopens.yaml"),
        "--cases",
        "1500",
        "--runs",
        "3",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert (doc["version"], doc["process"], doc["runs"], doc["seed"]) == (
        1,
        "customer-service",
        3,
        0,
    )
    assert doc["baseline"]["kpis"]["cycle_time"]["mean"] > 0
    names = [c["change"] for c in doc["changes"]]
    assert names == ["hire-support-agent", "halve-reopens"]
    halve = doc["changes"][1]
    assert halve["file"].endswith("halve-reopens.yaml")
    assert halve["description"].startswith("A resolution checklist")
    rework = halve["differences"]["rework_rate"]
    assert rework["baseline"] == doc["baseline"]["kpis"]["rework_rate"]["mean"]
    assert rework["value"] == halve["result"]["kpis"]["rework_rate"]["mean"]
    assert rework["difference"] == pytest.approx(rework["value"] - rework["baseline"])
    assert rework["significant"] is True
    assert rework["ci95"][1] < 0
    assert "utilization:support-agent" in halve["differences"]
    assert "goals" in halve["result"]


def test_compare_check_goals_looks_at_the_changes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    slow = write(
        tmp_path,
        "slow.yaml",
        """\
        change: slow-customers
        description: Customers take two days to confirm.
        patch:
          steps:
            confirm: {duration: exponential(2d)}
        """,
    )
    args = [str(CUSTOMER_SERVICE_247), "--cases", "1500", "--runs", "2", "--check-goals"]
    assert (
        run(capsys, "compare", *args, "--change", str(CHANGES / "hire-support-agent.yaml"))[0] == 0
    )
    code, out, _ = run(capsys, "compare", *args, "--change", str(slow))
    assert code == 1
    goal = next(line for line in out.splitlines() if line.startswith(" resolve-within-a-day"))
    assert " met " in goal
    assert goal.rstrip().endswith("not met")


def test_compare_needs_a_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compare", str(CUSTOMER_SERVICE))
    assert code == 2
    assert "--change" in err


def test_an_invalid_change_exits_2_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    change = write(
        tmp_path,
        "loop.yaml",
        """\
        change: loop
        patch:
          steps:
            confirm:
              on:
                accepted: {to: closed, p: 0.5}
        """,
    )
    code, out, err = run(capsys, "compare", str(CUSTOMER_SERVICE), "--change", str(change))
    assert code == 2
    assert out == ""
    assert f"{change}:5:7: PF401 bad-probabilities: step 'confirm'" in err
    assert f"error: {change}: change 'loop' leaves process 'customer-service' invalid" in err


def test_examples_of_other_processes_compare(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "compare",
        str(PROCESSES / "incident-management.yaml"),
        "--change",
        str(CHANGES / "add-engineer.yaml"),
        "--change",
        str(CHANGES / "better-first-line.yaml"),
        "--cases",
        "2000",
        "--runs",
        "3",
    )
    assert code == 0
    engineer = next(line for line in out.splitlines() if "utilization engineer" in line)
    assert "add-engineer" in engineer


def test_compare_is_the_same_on_one_or_two_workers() -> None:
    process = load(CUSTOMER_SERVICE)
    change = load_change(CHANGES / "halve-reopens.yaml")
    one = compare(process, change, cases=800, runs=3, seed=5, jobs=1)
    two = compare(process, change, cases=800, runs=3, seed=5, jobs=2)
    assert one.to_json() == two.to_json()


def test_compare_log_writes_one_event_log_per_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "out" / "events.csv"
    args = [CUSTOMER_SERVICE, "--change", CHANGES / "skip-triage.yaml"]
    options = ["--cases", "200", "--runs", "2", "--jobs", "2", "--seed", "3", "--log", log]
    code, out, _ = run(capsys, "compare", *args, *options)
    assert code == 0
    baseline = tmp_path / "out" / "events.baseline.csv"
    changed = tmp_path / "out" / "events.skip-triage.csv"
    assert f"event logs of run 1 written to {baseline}, {changed}" in " ".join(out.split())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "events.baseline.csv",
        "events.skip-triage.csv",
    ]  # nothing at events.csv itself, no temporary file left
    steps = {}
    for path in (baseline, changed):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("case,step,owner,start,end\n")
        steps[path] = {line.split(",")[1] for line in text.splitlines()[1:]}
        cases = {line.split(",")[0] for line in text.splitlines()[1:]}
        assert cases == {str(n) for n in range(1, 201)}
    assert "triage" in steps[baseline]
    assert "triage" not in steps[changed]
    # the same writer and the same run as simulate --log
    alone = tmp_path / "alone.csv"
    run(capsys, "simulate", CUSTOMER_SERVICE, *options[:-2], "--runs", "1", "--log", alone)
    assert alone.read_bytes() == baseline.read_bytes()


def test_scenario_log_names() -> None:
    from procflow._simulate import scenario_logs

    found = scenario_logs("logs/events.csv", ["baseline", "hire", "a/b", "a-b", "../x"])
    assert {k: str(v) for k, v in found.items()} == {
        "baseline": "logs/events.baseline.csv",
        "hire": "logs/events.hire.csv",
        "a/b": "logs/events.a-b.csv",
        "a-b": "logs/events.a-b-2.csv",
        "../x": "logs/events.-x.csv",
    }
    assert str(scenario_logs("events", ["baseline"])["baseline"]) == "events.baseline.csv"


def test_compare_api_writes_the_logs(tmp_path: Path) -> None:
    process = load(CUSTOMER_SERVICE)
    hire = process.apply(load_change(CHANGES / "hire-support-agent.yaml"))
    procflow.compare(
        process, hire, names=["hire"], cases=100, runs=1, seed=2, log=tmp_path / "e.csv"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.baseline.csv", "e.hire.csv"]


# -- significance at the report's precision ------------------------------------------


def test_a_difference_too_small_to_show_is_negligible_not_significant() -> None:
    from procflow.cli.simreport import _significance, visible
    from procflow.sim.stats import Difference

    # issue 11: -0.018 out of 6,612 was flagged significant
    wip = Difference(6612.3, 6612.282, -0.018, (-0.02, -0.016), True)
    assert not visible("wip", wip)
    assert _significance("wip", wip, "red").plain == "negligible"
    # ±0 pp: a utilization that moved by a millionth of a point
    busy = Difference(0.5, 0.5000001, 1e-7, (5e-8, 1.5e-7), True)
    assert not visible("utilization:clerk", busy)
    assert _significance("utilization:clerk", busy, "cyan").plain == "negligible"
    # a difference that shows is significant as before, and not significant stays "no"
    faster = Difference(3600.0, 3000.0, -600.0, (-700.0, -500.0), True)
    assert visible("cycle_time.mean", faster)
    assert _significance("cycle_time.mean", faster, "green").plain == "yes"
    noise = Difference(3600.0, 3590.0, -10.0, (-30.0, 10.0), False)
    assert _significance("cycle_time.mean", noise, "dim").plain == "no"


def test_compare_json_keeps_exact_differences(capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(CUSTOMER_SERVICE), "--cases", "1500", "--runs", "3", "--seed", "2"]
    change = ["--change", str(CHANGES / "halve-reopens.yaml")]
    code, out, _ = run(capsys, "compare", *args, *change, "--format", "json")
    assert code == 0
    differences = json.loads(out)["changes"][0]["differences"]
    # significance in JSON is the paired-t test alone, whatever the text shows
    assert all(d["significant"] in (True, False, None) for d in differences.values())
    code, text, _ = run(capsys, "compare", *args, *change)
    assert code == 0
    for line in text.splitlines():
        if line.rstrip().endswith(" yes"):
            # a significant row shows a difference that is not ±0
            assert "±0" not in line
