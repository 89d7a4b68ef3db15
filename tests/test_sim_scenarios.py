"""The scenario machinery compare, levers, optimize, diff and report share (sim/comparison.py).

``estimates=False`` skips the run-length estimate (a pilot run 1 of every
scenario) where nobody reads it; the figures must not move. The report's
comparison baseline is its simulation, made once. The rule shares of a
variant come from the memo, not a second sampling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import procflow.sim.runlength as runlength
from helpers import CUSTOMER_SERVICE, PROCESSES, ROOT
from procflow.htmlreport.collect import Settings, collect, load_changes
from procflow.loader import load, load_change
from procflow.sim import compare, simulate
from procflow.sim.comparison import simulate_scenarios

CHANGE = ROOT / "changes" / "hire-support-agent.yaml"
QUICK: dict[str, Any] = {"cases": 1_200, "runs": 3, "seed": 4, "jobs": 1}


def _runs(result: Any) -> dict[str, tuple[float | None, ...]]:
    return {key: tuple(kpi.runs) for key, kpi in result.kpis.items()}


@pytest.fixture
def pilots(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pilot runs made (their cases), through the real pilot."""
    made: list[int] = []
    real = runlength.cycle_times

    def counted(plan: Any, seed: int, cases: int) -> Any:
        made.append(cases)
        return real(plan, seed, cases)

    monkeypatch.setattr(runlength, "cycle_times", counted)
    return made


def test_without_estimates_no_pilot_runs_and_every_figure_is_the_same(pilots: list[int]) -> None:
    process = load(CUSTOMER_SERVICE)
    change = load_change(CHANGE)
    lean = compare(process, change, **QUICK, estimates=False)
    assert pilots == []
    full = compare(process, change, **QUICK)
    assert pilots == [QUICK["cases"], QUICK["cases"]]  # run 1 of each scenario again
    assert _runs(lean.baseline) == _runs(full.baseline)
    for name, result in full.changes.items():
        assert _runs(lean.changes[name]) == _runs(result)
        assert lean.differences[name] == full.differences[name]
    assert lean.baseline.warmup == full.baseline.warmup
    assert full.baseline.warmup_estimate is not None
    assert lean.baseline.warmup_estimate is None
    assert lean.baseline.bias == ()


def test_with_cases_auto_the_estimates_set_the_warmup_and_are_always_made(
    pilots: list[int],
) -> None:
    process = load(CUSTOMER_SERVICE)
    (result,) = simulate_scenarios([process], cases="auto", runs=2, seed=1, jobs=1, estimates=False)
    assert pilots  # the warm-up of an auto run comes from the pilot
    assert result.warmup_estimate is not None
    assert result.warmup >= result.warmup_estimate


def test_one_scenario_is_what_simulate_gives(pilots: list[int]) -> None:
    process = load(PROCESSES / "incident-management.yaml")
    (lean,) = simulate_scenarios([process], **QUICK, estimates=False)
    assert _runs(lean) == _runs(simulate(process, **QUICK))


def test_the_report_simulates_the_compared_baseline_once(pilots: list[int]) -> None:
    process = load(CUSTOMER_SERVICE)
    settings = Settings(cases=1_200, runs=3, seed=4, jobs=1, changes=load_changes([CHANGE]))
    data = collect("customer-service", process, settings)
    assert data.comparison is not None
    assert data.simulation is data.comparison.baseline
    assert pilots == [1_200, 1_200]  # one pilot per scenario: the baseline was not run again
    alone = simulate(process, cases=1_200, runs=3, seed=4, jobs=1)
    assert _runs(data.simulation) == _runs(alone)
    assert data.simulation.bias == alone.bias
    assert data.wip is not None


def test_a_failed_comparison_still_leaves_the_report_its_simulation(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("change: broken\npatch:\n  owners: {nobody: {capacity: 0}}\n")
    process = load(CUSTOMER_SERVICE)
    settings = Settings(cases=1_200, runs=2, seed=4, jobs=1, changes=load_changes([broken]))
    data = collect("customer-service", process, settings)
    assert data.comparison is None
    assert data.comparison_error
    assert data.simulation is not None
    assert data.simulation_error is None
    assert data.wip is not None


def test_a_variant_reads_its_rule_shares_from_the_memo() -> None:
    from procflow.compiled import CompiledProcess, _shares

    process = load(PROCESSES / "incident-priorities.yaml")
    first = CompiledProcess.of(process)
    before = _shares.cache_info()
    staff = next(o for o, owner in process.owners.items() if not owner.external)
    variant = process.with_changes({"owners": {staff: {"capacity": 9}}}, name="<variant>")
    again = CompiledProcess.of(variant)
    after = _shares.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits
    assert [e.p for e in again.edges] == [e.p for e in first.edges]
