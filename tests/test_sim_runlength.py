"""Run length (``--cases auto``, MSER-5, bias warnings) and goal verdicts.

The long-cycle fixture ``order-to-cash.yaml`` (a 36-day mean cycle time,
4 arrivals an hour) is the case of issue 11: half of sales operations'
load comes a month after the order, so a run whose warm-up is shorter than
a few cycle times sees that owner idle. The default run must agree with the
analytic model; a short explicit run must say it is biased.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import CUSTOMER_SERVICE, ROOT, run
from procflow import compare, simulate
from procflow.analysis import analyze
from procflow.errors import ConfigError
from procflow.loader import load, load_text
from procflow.model import parse_target
from procflow.sim.results import MET, NOT_MET, UNCERTAIN, verdict
from procflow.sim.runlength import (
    COUNTED,
    Truncation,
    WarmupEstimate,
    bias_notes,
    cycle_times,
    minimum_warmup,
    mser,
)
from procflow.sim.simulation import prepare

FIXTURES = ROOT / "tests" / "fixtures" / "sim"
O2C = FIXTURES / "order-to-cash.yaml"
MMC = FIXTURES / "mmc.yaml"


# -- MSER-5 ------------------------------------------------------------------------


def test_mser_finds_a_transient_in_noise() -> None:
    rng = np.random.default_rng(5)
    noise = rng.exponential(1.0, 20_000)
    # 2,000 cases at a third of the steady mean: the cut lands at the shift
    shifted = mser(np.concatenate([noise[:2_000] / 3.0, noise[2_000:]]))
    assert shifted.settled
    assert 1_900 <= shifted.cases <= 2_100
    assert shifted.cases % 5 == 0
    # 2,000 cases climbing to it: MSER cuts where the bias left is below the noise
    ramp = np.linspace(0.0, 1.0, 2_000)
    climbing = mser(np.concatenate([ramp * noise[:2_000], noise[2_000:]]))
    assert climbing.settled
    assert 500 <= climbing.cases < 2_000


def test_mser_keeps_a_stationary_series_whole() -> None:
    rng = np.random.default_rng(6)
    found = mser(rng.exponential(1.0, 10_000))
    assert found.settled
    assert found.cases < 500  # at most noise-sized


def test_mser_says_when_a_series_has_not_settled() -> None:
    # still climbing at the end: the minimum is pinned at the end of the first half
    assert mser(np.arange(10_000.0)) == Truncation(5_000, False)
    assert mser([1.0, 2.0, 3.0]) == Truncation(0, False)  # too short to tell


def test_mser_statistic_by_hand() -> None:
    # batches of 5 with means 10, 10, 0, 0, ..., 0 (20 batches): dropping the two
    # high batches leaves a constant series, MSER 0, which nothing beats
    series = [10.0] * 10 + [0.0] * 90
    assert mser(series) == Truncation(10, True)


def test_the_pilot_is_run_one_itself() -> None:
    process = load(MMC)
    plan = prepare(process)
    times = cycle_times(plan, 3, 2_000)
    assert len(times) == 2_000
    # the same trajectory as run 1 of a simulation: its mean cycle time, with warm-up 0
    result = simulate(process, cases=2_000, runs=1, seed=3, warmup=0)
    assert result["cycle_time.mean"].mean == pytest.approx(float(times.mean()), rel=1e-9)


# -- --cases auto on a long-cycle process -------------------------------------------


@pytest.fixture(scope="module")
def default_run() -> tuple[dict[str, object], str]:
    """``procflow simulate order-to-cash.yaml --seed 1 --format json`` (defaults)."""

    from procflow.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["simulate", str(O2C), "--seed", "1", "--format", "json"])
    assert code == 0
    return json.loads(out.getvalue()), err.getvalue()


def test_the_default_run_reaches_steady_state(default_run: tuple[dict[str, object], str]) -> None:
    document, err = default_run
    analysis = analyze(load(O2C))
    floor = minimum_warmup(load(O2C))
    assert floor is not None
    # about three 36.5-day cycle times of 4 arrivals an hour
    assert floor == pytest.approx(3 * 36.5 * 24 * 4, rel=0.01)
    assert document["warmup"] >= floor
    assert document["cases"] - document["warmup"] == COUNTED
    assert document["warmup_estimate"] == floor
    assert document["notes"] == []
    assert err == ""
    owners = document["owners"]
    assert isinstance(owners, dict)
    for owner_id in ("sales-ops", "credit", "warehouse"):
        low, high = owners[owner_id]["ci95"]
        assert low <= analysis.owners[owner_id].utilization <= high, owner_id


def test_too_few_cases_are_biased_and_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "simulate", O2C, "--seed", "1", "--cases", "2000", "--format", "json"
    )
    assert code == 0
    document = json.loads(out)
    (note,) = document["notes"]
    assert note.startswith("the warm-up of 1,000 cases is shorter than the 10,506 this process")
    assert "use --cases auto, or --warmup 10506 with --cases 20506" in note
    assert err == f"warning: {note}\n"
    # and the figures are biased indeed: sales-ops looks idle
    utilization = document["owners"]["sales-ops"]["utilization"]
    assert utilization < 0.6 < analyze(load(O2C)).owners["sales-ops"].utilization


def test_the_text_report_warns_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", O2C, "--cases", "2000", "--runs", "2")
    assert code == 0
    assert err.startswith("warning: the warm-up of 1,000 cases is shorter than")
    assert "shorter than" not in out


def test_an_explicit_warmup_long_enough_is_quiet() -> None:
    result = simulate(O2C, cases=12_000, warmup=10_600, runs=2, seed=2)
    assert result.bias == ()
    assert result.warmup_estimate == 10_506


def test_auto_with_an_explicit_warmup_counts_ten_thousand() -> None:
    result = simulate(MMC, warmup=500, runs=2, seed=2)
    assert (result.cases, result.warmup) == (500 + COUNTED, 500)


def test_compare_runs_auto_too() -> None:
    process = load(MMC)
    faster = process.with_changes({"owners": {"server": {"capacity": 5}}})
    comparison = compare(process, faster, runs=2, seed=4)
    assert comparison.baseline.cases - comparison.baseline.warmup == COUNTED
    assert comparison.baseline.warmup == comparison.changes["change-1"].warmup
    short = compare(O2C, load(O2C).with_changes({}), cases=2_000, runs=2, seed=4)
    assert short.baseline.bias
    assert short.changes["change-1"].bias
    assert "notes" in short.to_dict()["baseline"]


@pytest.mark.parametrize("cases", ["abc", "0", "-3", "1.5"])
def test_cases_must_be_auto_or_a_number(capsys: pytest.CaptureFixture[str], cases: str) -> None:
    code, out, err = run(capsys, "simulate", MMC, "--cases", cases)
    assert code == 2
    assert out == ""
    assert "--cases" in err


def test_the_api_refuses_other_cases() -> None:
    with pytest.raises(ConfigError, match="cases must be 'auto' or a whole number"):
        simulate(MMC, cases="lots")  # type: ignore[arg-type]


def test_bias_notes() -> None:
    settled = WarmupEstimate(floor=300, mser=Truncation(120, True), pilot=5_000)
    assert bias_notes(settled, cases=5_000, warmup=500) == ()
    (short,) = bias_notes(settled, cases=5_000, warmup=200)
    assert "shorter than the 300 this process needs" in short
    (few,) = bias_notes(settled, cases=1_200, warmup=400)
    assert few.startswith("only 800 cases are counted (fewer than 1,000)")
    unsettled = WarmupEstimate(floor=None, mser=Truncation(2_500, False), pilot=5_000)
    (never,) = bias_notes(unsettled, cases=5_000, warmup=2_600)
    assert "do not settle within its 5,000 cases" in never
    overloaded = WarmupEstimate(floor=None, mser=None, pilot=0)
    assert bias_notes(overloaded, cases=5_000, warmup=500) == ()


# -- verdicts ------------------------------------------------------------------------


def test_verdicts() -> None:
    within = parse_target("<= 4h")
    hour = 3600.0
    assert verdict(within, 3.5 * hour, (0.7 * hour, 11.3 * hour)) == UNCERTAIN
    assert verdict(within, 3.5 * hour, (3 * hour, 3.9 * hour)) == MET
    assert verdict(within, 4.5 * hour, (4.1 * hour, 4.9 * hour)) == NOT_MET
    assert verdict(within, 4.5 * hour, None) == NOT_MET  # one run: the mean decides
    assert verdict(within, None, None) is None
    at_least = parse_target(">= 90%")
    assert verdict(at_least, 0.92, (0.88, 0.96)) == UNCERTAIN
    assert verdict(at_least, 0.92, (0.91, 0.93)) == MET
    exactly = parse_target("== 4")
    assert verdict(exactly, 4.1, (3.9, 4.3)) == UNCERTAIN
    assert verdict(exactly, 5.0, (4.5, 5.5)) == NOT_MET


SHORT_RUN = """\
process: ed
owners:
  nurse: {capacity: 3}
arrivals: {rate: 5/h}
start: triage
steps:
  triage:
    owner: nurse
    duration: exponential(30m)
    next: done
  done: {end: true}
goals:
  - {id: seen-fast, metric: cycle_time, stat: p90, target: "<= 2h", deadline: 2027-01-01}
"""


def test_a_short_run_is_uncertain_not_met(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ed.yaml"
    path.write_text(SHORT_RUN, encoding="utf-8")
    result = simulate(load_text(SHORT_RUN), cases=100, runs=2, seed=1)
    (goal,) = result.goals
    assert goal.ci95 is not None
    low, high = goal.ci95
    assert low < 7200.0 < high
    assert goal.verdict == UNCERTAIN
    options = ["--cases", "100", "--runs", "2", "--seed", "1"]
    code, out, _ = run(capsys, "simulate", path, *options, "--check-goals")
    assert code == 0  # uncertain is not "not met"
    line = next(x for x in out.splitlines() if x.startswith(" seen-fast"))
    assert line.rstrip().endswith("uncertain")
    assert " … " in line  # the interval is shown beside the verdict
    code, out, _ = run(capsys, "simulate", path, *options, "--strict-goals", "--format", "json")
    assert code == 1
    (shown,) = json.loads(out)["goals"]
    assert shown["verdict"] == "uncertain"
    assert shown["met"] in (True, False)  # the mean against the target, as before


def test_strict_goals_passes_goals_met_beyond_doubt(capsys: pytest.CaptureFixture[str]) -> None:
    options = ["--cases", "3000", "--runs", "3", "--seed", "7", "--strict-goals"]
    code, _, _ = run(capsys, "simulate", CUSTOMER_SERVICE, *options)
    assert code == 0


def test_auto_on_an_overloaded_process_skips_a_tenth() -> None:
    overloaded = load(MMC).with_changes({"owners": {"server": {"capacity": 2}}})
    result = simulate(overloaded, runs=2, seed=1)
    assert (result.cases, result.warmup) == (COUNTED + COUNTED // 10, COUNTED // 10)
    assert result.warmup_estimate is None
    assert result.bias == ()
    assert any("overloaded" in note for note in result.notes)


def test_a_long_explicit_run_is_not_simulated_twice() -> None:
    from procflow.sim.runlength import estimate_warmup

    process = load(MMC)
    floor = minimum_warmup(process)
    assert floor is not None
    found = estimate_warmup(process, prepare(process), 1, 200_000)
    assert found.settled
    assert found.pilot == floor + COUNTED  # the start of run 1, not all 200,000 cases
    short = estimate_warmup(process, prepare(process), 1, 3_000)
    assert short.pilot == 3_000
