"""The metric registry: every metric is declared once and every engine and report reads it.

A catalog test in the manner of the lint rules': each entry of
``procflow.metrics.REGISTRY`` must be accepted by the model as a goal
metric, measured by the simulator, estimated (or knowingly not) by the
analytic model, formatted by its kind and documented in docs/metrics.md.
"""

from __future__ import annotations

import doctest

import pytest

from helpers import ROOT
from procflow import metrics
from procflow.analysis import analyze
from procflow.cli.simreport import kind_of, label_of, show
from procflow.loader import load_text
from procflow.model import DISTRIBUTION_METRICS, METRICS, Process
from procflow.rules.goals import ARGUMENTS
from procflow.sim import results as sim_results
from procflow.sim import simulate
from procflow.sim.comparison import HEADLINE

#: One goal per metric (with an argument where it takes one), on a process that has
#: a cost, a feedback loop and a staff owner, so that every metric has a value.
EVERYTHING = """\
process: everything
owners:
  clerk: {capacity: 2, cost_per_hour: 30}
arrivals: {rate: 4/h}
start: a
steps:
  a:
    owner: clerk
    duration: exponential(10m)
    on:
      ok: {to: done, p: 0.8}
      redo: {to: a, p: 0.2, feedback: true}
  done: {end: true}
goals:
"""

TARGETS = {"duration": "<= 2h", "rate": ">= 1/h", "percent": "<= 90%", "number": "<= 100"}


def _process() -> Process:
    lines = []
    for index, metric in enumerate(metrics.REGISTRY):
        name = metric.name
        if metric.argument == "step":
            name += ":a"
        elif metric.argument == "owner":
            name += ":clerk"
        kind = metric.kind if metric.kind in metric.targets else sorted(metric.targets)[0]
        target = TARGETS[kind]
        stat = ", stat: p90" if metric.distribution else ""
        lines.append(
            f"  - {{id: g{index}, metric: '{name}'{stat}, target: '{target}', "
            "deadline: 2027-01-01}"
        )
    return load_text(EVERYTHING + "\n".join(lines) + "\n")


def test_the_model_reads_its_metrics_from_the_registry() -> None:
    assert tuple(m.name for m in metrics.REGISTRY) == METRICS
    assert {"cycle_time", "wait_time", "step_time"} == DISTRIBUTION_METRICS
    assert ARGUMENTS == {"step_time": "step", "utilization": "owner"}
    assert set(metrics.REPORTED) <= set(metrics.BY_NAME)
    # SPEC 1.4: these eight, in this order; then busy_cost_per_case (SPEC 7.1)
    assert METRICS == (
        "cycle_time",
        "wait_time",
        "step_time",
        "throughput",
        "utilization",
        "rework_rate",
        "cost_per_case",
        "wip",
        "busy_cost_per_case",
    )


def test_every_metric_is_simulated_estimated_and_shown() -> None:
    process = _process()
    result = simulate(process, cases=1500, runs=2, seed=3, warmup=100)
    analysis = analyze(process)
    for metric, goal, measured, estimated in zip(
        metrics.REGISTRY, process.goals, result.goals, analysis.goals, strict=True
    ):
        assert measured.value is not None, metric.name
        assert measured.verdict in ("met", "not met", "uncertain"), metric.name
        key = sim_results.goal_key(goal)
        assert key is not None, metric.name
        assert key in result.kpis, metric.name
        assert metrics.metric_of_key(key) is metric
        assert kind_of(key) == metric.kind
        assert show(key, measured.value) != "-"
        # the analytic model estimates every mean; percentiles it leaves to simulate
        if metric.distribution:
            assert estimated.estimate is None
            assert "simulate" in (estimated.note or "")
        else:
            assert estimated.estimate is not None, metric.name


def test_the_registry_fixes_what_reports_used_to_spell_out() -> None:
    # the headline of compare, unchanged by the move to the registry
    assert HEADLINE == (
        "cycle_time.mean",
        "cycle_time.p50",
        "cycle_time.p90",
        "cycle_time.p95",
        "wait_time.mean",
        "wait_time.p90",
        "throughput_per_hour",
        "wip",
        "rework_rate",
        "cost_per_case",
        "busy_cost_per_case",
    )
    assert metrics.kpi_key("throughput", None, None) == "throughput_per_hour"
    assert metrics.kpi_key("step_time", "triage", "p90") == "step_time:triage.p90"
    assert metrics.kpi_key("cycle_time", None, None) == "cycle_time.mean"
    assert metrics.kpi_key("utilization", None, None) is None  # needs an owner
    assert metrics.kpi_key("latency", None, None) is None
    assert label_of("utilization:tier2") == "utilization tier2"
    assert label_of("wait_time.p90") == "waiting per case p90"
    lower = {m.name for m in metrics.REGISTRY if m.lower_is_better}
    assert lower == {
        "cycle_time",
        "wait_time",
        "step_time",
        "wip",
        "rework_rate",
        "cost_per_case",
        "busy_cost_per_case",
    }
    assert {m.name for m in metrics.REGISTRY if m.most == 1.0} == {"utilization", "rework_rate"}


@pytest.mark.parametrize("metric", metrics.REGISTRY, ids=lambda m: m.name)
def test_every_metric_is_documented(metric: metrics.Metric) -> None:
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert f"`{metric.syntax}`" in text
    assert metric.unit in text


def test_the_docstring_examples_run() -> None:
    from procflow.sim import runlength

    for module in (metrics, sim_results, runlength):
        failed, _attempted = doctest.testmod(module)
        assert failed == 0, module.__name__
