"""``procflow optimize``: the cheapest staffing at which every goal is met (docs/optimize.md)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, run
from procflow import load, load_change, load_text, optimize, simulate
from procflow.errors import ConfigError, SimulationError

QUICK = ("--cases", "1000", "--runs", "3", "--jobs", "1")
ARRIVALS_PER_HOUR = 10.0
SERVICE_MINUTES = 30.0
WAIT_TARGET_MINUTES = 3.0

MMC = f"""\
process: mmc
owners:
  server: {{capacity: 2}}
arrivals: {{rate: {ARRIVALS_PER_HOUR:g}/h}}
start: serve
steps:
  serve: {{owner: server, duration: exponential({SERVICE_MINUTES:g}m), next: done}}
  done: {{end: true}}
goals:
  - {{id: short-wait, metric: wait_time, stat: mean, target: "<= {WAIT_TARGET_MINUTES:g}m"}}
"""


def erlang_c_wait_minutes(servers: int, arrivals_per_hour: float, service_minutes: float) -> float:
    """Mean wait in queue of M/M/c from the closed form: C(c, a) / (c mu - lambda)."""
    mu = 60.0 / service_minutes  # per hour
    a = arrivals_per_hour / mu
    if servers <= a:
        return math.inf
    below = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / math.factorial(servers) * servers / (servers - a)
    probability = top / (below + top)
    return probability / (servers * mu - arrivals_per_hour) * 60.0


def smallest_servers() -> int:
    c = 1
    while erlang_c_wait_minutes(c, ARRIVALS_PER_HOUR, SERVICE_MINUTES) > WAIT_TARGET_MINUTES:
        c += 1
    return c


def test_mmc_gets_exactly_the_smallest_c_erlang_c_allows() -> None:
    best = smallest_servers()
    assert best == 8  # 7 servers wait 4.86m, 8 wait 1.67m: the target of 3m sits between
    found = optimize(load_text(MMC), cases=4000, runs=5, seed=3, jobs=1)
    assert found.feasible
    assert found.reason is None
    assert [(s.owner, s.before, s.after) for s in found.staffing] == [("server", 2, best)]
    assert [g.verdict for g in found.goals] == ["met"]
    value = found.goals[0].value
    assert value is not None
    assert value / 60 == pytest.approx(erlang_c_wait_minutes(best, 10.0, 30.0), rel=0.25)
    # the screen starts at Erlang C's answer; the back-off tries one fewer and keeps 8
    assert found.evaluations == 2
    assert found.screened >= 1
    assert not found.costed
    assert found.cost_before == 2
    assert found.cost_after == best


def test_mmc_within_too_few_units_is_infeasible() -> None:
    found = optimize(load_text(MMC), max_capacity=7, cases=2000, runs=5, seed=3, jobs=1)
    assert not found.feasible
    assert "--max-capacity 7" in (found.reason or "")
    assert found.staffing[0].after == 7
    assert found.goals[0].verdict != "met"


@pytest.mark.parametrize(
    ("goal", "reason"),
    [
        ('{id: more, metric: throughput, target: ">= 1000/h"}', "throughput cannot exceed"),
        ('{id: never, metric: rework_rate, target: "< 0%"}', "give a rework rate of 0%"),
        ('{id: faster, metric: cycle_time, target: "<= 10s"}', "with no waiting the mean cycle"),
    ],
)
def test_a_goal_no_staffing_can_meet_is_named_without_a_search(goal: str, reason: str) -> None:
    """A throughput above the arrival rate, a rework rate the probabilities fix or a floor
    of the durations: no staffing moves them, so optimize says which goal and why at once.
    It used to search on -- simulating every unit that noise made look useful, ~80 s in the
    field sweep -- and then say only that no more staff brought the goals closer."""
    text = MMC + f"  - {goal}\n"
    found = optimize(load_text(text), max_capacity=40, cases=500, runs=2, seed=3, jobs=1)
    assert not found.feasible
    assert "cannot be met by any staffing" in (found.reason or ""), found.reason
    assert reason in (found.reason or ""), found.reason
    assert found.evaluations <= 1  # the screened staffing, simulated once to show the goals


def test_customer_service_staffing_holds_with_another_seed() -> None:
    process = load(CUSTOMER_SERVICE)
    found = optimize(process, cases=2000, runs=5, seed=0, jobs=1)
    assert found.feasible
    assert found.costed
    assert found.evaluations >= 1
    assert all(g.verdict == "met" for g in found.goals)
    # only support-agent has a cost: the search cannot pay more than before
    assert found.cost_after <= found.cost_before
    confirmed = simulate(process.with_changes(found.change()["patch"]), cases=3000, runs=5, seed=99)
    assert confirmed.goals
    assert all(g.verdict == "met" for g in confirmed.goals)
    # one fewer agent than found misses the goal or is not stable: found is the floor or needed
    agent = next(s for s in found.staffing if s.owner == "support-agent")
    assert agent.after >= 4  # 2.6 busy on duty, 4.5 at the Monday peak: 3 do not meet it surely


def test_the_change_file_is_accepted_by_compare(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    change = tmp_path / "staff.yaml"
    code, out, err = run(capsys, "optimize", CUSTOMER_SERVICE, *QUICK, "-o", change)
    assert code == 0, err
    # 5 agents × 32 an hour, on duty 50 of the week's 168 hours: 47.62 per hour of the week
    assert f"cheapest staffing meeting every goal: cost/h {5 * 32 * 50 / 168:.2f} → " in out
    assert re.search(r" · (1 staffing|\d+ staffings) simulated \(common random numbers\), ", out)
    assert "support-agent" in out
    assert "resolve-within-a-day" in out
    loaded = load_change(change)
    assert loaded.patch["owners"]["support-agent"]["capacity"] >= 4
    code, out, err = run(capsys, "compare", CUSTOMER_SERVICE, "--change", change, *QUICK)
    assert code == 0, err
    assert "optimized-staffing" in out


def test_json_and_exit_one_when_no_staffing_meets_the_goals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    process = tmp_path / "mmc.yaml"
    process.write_text(MMC, encoding="utf-8")
    code, out, _ = run(
        capsys, "optimize", process, "--max-capacity", "7", *QUICK, "--format", "json"
    )
    assert code == 1
    document = json.loads(out)
    assert document["feasible"] is False
    assert "--max-capacity 7" in document["reason"]
    assert document["staffing"] == [
        {
            "owner": "server",
            "shift": None,
            "calendar": None,
            "before": 2,
            "after": 7,
            "cost_per_hour": None,
            "on_duty_share": 1.0,
        }
    ]
    assert document["goals"][0]["id"] == "short-wait"
    assert document["goals"][0]["verdict"] != "met"
    assert document["evaluations"] >= 1
    code, out, _ = run(capsys, "optimize", process, "--max-capacity", "7", *QUICK)
    assert code == 1
    assert "no staffing meets every goal: every searched owner is at --max-capacity 7" in out


def test_bad_input_exits_two_with_a_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "optimize", CUSTOMER_SERVICE, "--owners", "nobody")
    assert code == 2
    assert "'nobody' is not a staff owner" in err
    no_goals = tmp_path / "no-goals.yaml"
    no_goals.write_text(MMC.split("goals:")[0], encoding="utf-8")
    code, _, err = run(capsys, "optimize", no_goals)
    assert code == 2
    assert "no-goals.yaml:1:1" in err
    assert "no goals" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text(MMC.replace("owner: server", "owner: nobody"), encoding="utf-8")
    code, _, err = run(capsys, "optimize", broken)
    assert code == 2
    assert "broken.yaml:7:18: PF202" in err


def test_api_errors() -> None:
    with pytest.raises(ConfigError, match="max_capacity"):
        optimize(load_text(MMC), max_capacity=0)
    with pytest.raises(SimulationError, match="no arrivals"):
        optimize(load_text(MMC.replace("arrivals: {rate: 10/h}\n", "")))
    with pytest.raises(TypeError):
        optimize(42)  # type: ignore[arg-type]
    assert procflow.Optimization is type(optimize(load_text(MMC), runs=2, cases=300, jobs=1))


def test_progress_is_told_every_staffing_it_simulates_to_the_end() -> None:
    told: list[tuple[dict[str, int], int, int]] = []
    found = optimize(
        load_text(MMC),
        cases=600,
        runs=2,
        seed=3,
        jobs=1,
        progress=lambda staffing, done, total: told.append((dict(staffing), done, total)),
    )
    staffings = list(dict.fromkeys(tuple(s.items()) for s, _, _ in told))
    assert len(staffings) == found.evaluations  # one bar per staffing simulated, none twice
    assert all([owner for owner, _ in staffing] == ["server"] for staffing in staffings)
    for staffing in staffings:
        reports = [(done, total) for s, done, total in told if tuple(s.items()) == staffing]
        assert reports[-1] == (600 * 2, 600 * 2)  # each staffing runs to its end
        assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    final = (("server", found.staffing[0].after),)
    assert final in staffings


class _Recorder:
    """A stand-in for the rich bar: what it was labelled and told."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.calls: list[tuple[int, int]] = []

    def relabel(self, label: str) -> None:
        self.labels.append(label)

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def test_the_search_bar_numbers_each_staffing_as_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from procflow.cli.optimize import SearchBar

    monkeypatch.setenv("COLUMNS", "100")
    recorder = _Recorder()
    bar = SearchBar(recorder, "desk")  # type: ignore[arg-type]
    bar({"agent": 3, "lead": 1}, 0, 100)
    bar({"agent": 3, "lead": 1}, 100, 100)
    bar({"agent": 4, "lead": 1}, 50, 100)
    assert recorder.labels == [
        "optimizing desk: staffing 1 (agent 3, lead 1)",
        "optimizing desk: staffing 2 (agent 4, lead 1)",
    ]
    assert recorder.calls == [(0, 100), (100, 100), (50, 100)]
    monkeypatch.setenv("COLUMNS", "80")  # the capacities would squeeze the bar out
    narrow = _Recorder()
    SearchBar(narrow, "desk")({"agent": 3, "lead": 1}, 0, 100)  # type: ignore[arg-type]
    assert narrow.labels == ["optimizing desk: staffing 1"]


@pytest.mark.parametrize(
    ("args", "tty", "shown"),
    [
        ((), True, True),
        ((), False, False),
        (("--format", "json"), True, False),
        (("-q",), True, False),
    ],
)
def test_the_progress_bar_only_on_a_terminal_for_text_and_not_quiet(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    tty: bool,
    shown: bool,
) -> None:
    import procflow.cli.progress as command

    made: list[bool] = []
    real = command.progress_bar

    def spy(output_format: str, label: str) -> command.ProgressBar:
        bar = real(output_format, label)
        made.append(bar.enabled)
        return bar

    monkeypatch.setattr(command, "progress_bar", spy)
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    code, _, err = run(capsys, "optimize", CUSTOMER_SERVICE, *QUICK, *args)
    assert code == 0, err
    assert made == [shown]


def test_an_unreachable_scheduler_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from procflow.sim import runner

    monkeypatch.setattr(runner, "DASK_TIMEOUT", "1s")
    code, _, err = run(
        capsys, "optimize", CUSTOMER_SERVICE, *QUICK, "--scheduler", "tcp://127.0.0.1:9"
    )
    assert code == 2
    assert "cannot reach the Dask scheduler" in err


def test_a_dask_cluster_finds_the_same_staffing() -> None:
    distributed = pytest.importorskip("distributed")
    local = optimize(load_text(MMC), cases=600, runs=2, seed=3, jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
    ):
        remote = optimize(
            load_text(MMC), cases=600, runs=2, seed=3, scheduler=cluster.scheduler_address
        )
    assert remote.to_dict() == local.to_dict()
