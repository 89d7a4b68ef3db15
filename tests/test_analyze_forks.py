"""The analytic model with forks: exact visits, the block-time approximation against closed
forms and simulation (docs/parallel-work.md states the errors these tests hold)."""

from __future__ import annotations

import math

import pytest

from helpers import ROOT
from procflow.analysis import analyze
from procflow.analysis.forks import extreme_moments
from procflow.loader import load
from procflow.sim import simulate
from test_sim_tokens import _two_branches

FORKS = ROOT / "tests" / "fixtures" / "forks"


def test_visits_are_exact_with_join_all() -> None:
    a = analyze(load(FORKS / "onboarding.yaml"))
    visits = {s: f.visits for s, f in a.steps.items()}
    # every branch is taken once per case; the bounded redo loop gives 1 + 0.1 + 0.01
    assert visits["approve-hire"] == pytest.approx(1.0)
    assert visits["it-setup"] == pytest.approx(1.0)
    assert visits["hr-paperwork"] == pytest.approx(1.11)
    assert visits["ready"] == pytest.approx(1.0)  # one visit of the join per fork
    assert visits["first-day"] == pytest.approx(1.0)


def test_visits_of_a_loop_round_a_fork() -> None:
    a = analyze(load(FORKS / "race-heavy.yaml"))
    # 'again' (p 0.1, max 1) sends the case round the whole fork once at most
    assert a.steps["intake"].visits == pytest.approx(1.1)
    assert a.steps["race"].visits == pytest.approx(1.1)
    assert a.steps["done"].visits == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("join", "expected"),
    [("all", 20 + 50 - 20 * 50 / 70), ("first", 20 * 50 / 70)],
)
def test_block_time_of_two_exponential_branches_is_the_closed_form(
    join: str, expected: float
) -> None:
    a = analyze(_two_branches(join, "20m", "50m"))
    assert a.cycle_time.expected == pytest.approx(expected * 60.0, rel=1e-6)
    assert not a.cycle_time.exact  # fork blocks are labelled approximate


def test_extremes_of_fixed_and_exponential_branches() -> None:
    assert extreme_moments([(120.0, 0.0), (60.0, 0.0)], largest=True) == pytest.approx(
        (120.0, 0.0), abs=1e-9
    )
    assert extreme_moments([(120.0, 0.0), (60.0, 0.0)], largest=False) == pytest.approx(
        (60.0, 0.0), abs=1e-9
    )
    # three exponential branches of mean 1: E[max] = 1 + 1/2 + 1/3, Var = 1 + 1/4 + 1/9
    mean, variance = extreme_moments([(1.0, 1.0)] * 3, largest=True)
    assert mean == pytest.approx(11 / 6, rel=1e-6)
    assert variance == pytest.approx(1 + 1 / 4 + 1 / 9, rel=1e-5)
    # a high-variance branch (hyperexponential fit) against a fixed one
    mean, _variance = extreme_moments([(10.0, 400.0), (10.0, 0.0)], largest=False)
    assert 0.0 < mean < 10.0


#: The documented error bound of the expected cycle time against simulation, per fixture.
ERRORS = {"onboarding": 0.05, "nested": 0.10, "race-heavy": 0.20}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_cycle_time_is_within_the_documented_error_of_simulation(name: str) -> None:
    process = load(FORKS / f"{name}.yaml")
    estimate = analyze(process).cycle_time.expected
    simulated = simulate(process, cases=8_000, runs=4, seed=3).kpis["cycle_time.mean"].mean
    assert estimate is not None
    assert simulated is not None
    assert abs(estimate / simulated - 1.0) <= ERRORS[name], (estimate, simulated)


def test_fastest_path_takes_the_slowest_branch_of_a_join_all() -> None:
    cycle = analyze(load(FORKS / "onboarding.yaml")).cycle_time
    # 30m + max(2h, 1h) + 15m at mean durations; 30m + max(0, 0) + 15m at the shortest
    assert cycle.minimum == pytest.approx(165 * 60.0)
    assert cycle.floor == pytest.approx(45 * 60.0)
    assert cycle.fastest_path == ("approve-hire", "ready", "first-day")


def test_a_race_lowers_the_load_it_withdraws() -> None:
    a = analyze(load(ROOT / "tests/fixtures/rules/PF501/quiet-race-withdraws-work.yaml"))
    assert a.steps["check"].visits == pytest.approx(0.5)  # 6m of the 12m check
    assert a.owners["checker"].utilization == pytest.approx(0.7)
    assert math.isfinite(a.cycle_time.expected or math.inf)
