"""``procflow.levers``: the levers it builds, what it screens, and how it ranks them.

The ranking is checked on a process with one obvious bottleneck
(tests/fixtures/levers/bottleneck.yaml: two clerks at 95% utilization):
one more clerk must come first, with a significant effect, while one more
unit of a nearly idle team changes nothing. The duration lever is checked
family by family, on the distribution objects and in the simulator.
"""

from __future__ import annotations

import json
import math
from typing import Any, get_args

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, ROOT
from procflow._levers import GoalSpec, LeverRanking, scale_duration
from procflow._levers.candidates import (
    all_levers,
    automation_levers,
    capacity_levers,
    duration_levers,
    feedback_levers,
    halved_feedback,
)
from procflow.distributions import (
    AnyDistribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)

FIXTURES = ROOT / "tests" / "fixtures" / "levers"
BOTTLENECK = FIXTURES / "bottleneck.yaml"
FAMILIES = FIXTURES / "families.yaml"


@pytest.fixture(scope="module")
def ranking() -> LeverRanking:
    return procflow.levers(BOTTLENECK, cases=2000, runs=5, seed=0, jobs=1)


@pytest.fixture(scope="module")
def full() -> LeverRanking:
    """Every lever with the full replications (``--full``): no screening stage."""
    return procflow.levers(BOTTLENECK, cases=2000, runs=5, seed=0, jobs=1, confirm=None)


# --------------------------------------------------------------------------
# the ranking


@pytest.mark.parametrize("design", ["ranking", "full"])
def test_the_bottleneck_owners_extra_unit_ranks_first_and_is_significant(
    design: str, request: pytest.FixtureRequest
) -> None:
    ranking: LeverRanking = request.getfixturevalue(design)
    first = ranking.ranked[0]
    assert first.lever.id == "capacity:clerk"
    assert first.rank == 1
    assert first.significant is True
    assert first.difference is not None
    assert first.ci95 is not None
    assert first.ci95[1] < 0  # the whole interval is a shorter cycle time
    # 95% -> 63% utilization removes most of a waiting of about an hour and a half
    assert first.difference < -3600
    assert first.improvement is not None
    for other in ranking.ranked[1:]:
        assert other.improvement is not None
        assert other.improvement < first.improvement, other.lever.id


def test_ranks_follow_the_improvement(ranking: LeverRanking) -> None:
    ranked = ranking.ranked
    assert [e.rank for e in ranked] == list(range(1, len(ranked) + 1))
    improvements = [e.improvement for e in ranked]
    assert improvements == sorted(improvements, reverse=True)  # type: ignore[type-var]
    for effect in ranked:  # mean cycle time: improvement is the cut in seconds
        assert effect.improvement == -effect.difference  # type: ignore[operator]


def test_a_lever_that_cannot_matter_is_not_significant(
    full: LeverRanking, ranking: LeverRanking
) -> None:
    # eight archivists for 0.19 busy servers: with common random numbers a ninth
    # changes no case's times at all, so every paired difference is exactly 0
    idle = full["capacity:archivist"]
    assert idle.screened is None  # P(wait) is tiny but not 0: it is simulated
    assert idle.difference == 0.0
    assert idle.ci95 == (0.0, 0.0)
    assert idle.significant is False
    # in two stages the screening sees the same exact 0 and drops it
    dropped = ranking["capacity:archivist"]
    assert dropped.stage == "screening"
    assert dropped.screening is not None
    assert (dropped.screening.difference, dropped.screening.ci95) == (0.0, (0.0, 0.0))
    assert (dropped.rank, dropped.difference, dropped.significant) == (None, None, None)


def test_provably_useless_levers_are_listed_but_not_simulated(ranking: LeverRanking) -> None:
    never = ranking["feedback:confirm.disputed"]
    assert never.screened == "the transition is never taken (p = 0)"
    assert never.rank is None
    assert never.difference is None
    external = ranking["automation:confirm"]
    assert external.screened is not None
    assert "no queue" in external.screened
    assert set(ranking.effects[-2:]) == {never, external}  # after every simulated lever
    assert ranking.simulated == ranking.considered - 2
    assert ranking.considered == len(all_levers(procflow.load(BOTTLENECK)))


def test_effect_per_unit_of_cost_is_the_difference_over_the_staffing_cost(
    ranking: LeverRanking,
) -> None:
    clerk = ranking["capacity:clerk"]
    assert clerk.lever.cost_per_hour == 40
    assert clerk.per_cost == pytest.approx(clerk.difference / 40)  # type: ignore[operator]
    assert ranking["capacity:archivist"].per_cost is None  # no cost_per_hour
    assert ranking["duration:check"].per_cost is None  # not a staffing lever


def test_the_baseline_is_the_comparisons_baseline(ranking: LeverRanking) -> None:
    again = procflow.simulate(BOTTLENECK, cases=2000, runs=5, seed=0, jobs=1)
    assert ranking.baseline == again["cycle_time.mean"].mean
    assert ranking.baseline_ci95 == again["cycle_time.mean"].ci95
    assert (ranking.cases, ranking.runs, ranking.seed) == (2000, 5, 0)


def test_json_is_versioned_and_complete(ranking: LeverRanking) -> None:
    document = json.loads(ranking.to_json())
    assert document["version"] == 1
    assert document["goal"] == {
        "id": None,
        "metric": "cycle_time",
        "stat": "mean",
        "kpi": "cycle_time.mean",
        "better": "lower",
        "target": None,
    }
    first = document["levers"][0]
    assert first["lever"] == "capacity:clerk"
    assert (first["kind"], first["subject"], first["before"], first["after"]) == (
        "capacity",
        "clerk",
        "2",
        "3",
    )
    assert first["rank"] == 1
    assert first["significant"] is True
    assert len(first["ci95"]) == 2
    assert first["per_cost"] < 0
    screened = [lever for lever in document["levers"] if lever["screened"]]
    assert {lever["lever"] for lever in screened} == {
        "feedback:confirm.disputed",
        "automation:confirm",
    }
    assert all(lever["rank"] is None and lever["value"] is None for lever in screened)
    assert document["considered"] == document["simulated"] + document["screened"]


def test_top_keeps_the_best_and_still_lists_the_screened() -> None:
    ranking = procflow.levers(BOTTLENECK, top=2, cases=300, runs=3, seed=1, jobs=1)
    assert [e.rank for e in ranking.effects] == [1, 2, None, None]
    assert all(e.screened for e in ranking.effects[2:])


# --------------------------------------------------------------------------
# goals


def test_a_goal_picks_its_metric_stat_and_direction() -> None:
    p = procflow.load(ROOT / "processes" / "purchase-approval.yaml")
    from procflow._levers.goal import resolve_goal

    by_goal = {goal.id: resolve_goal(p, goal.id) for goal in p.goals}
    kpis = {goal_id: (spec.kpi, spec.better) for goal_id, spec in by_goal.items()}
    assert sorted(kpis.values()) == [
        ("busy_cost_per_case", "lower"),  # the example's cost goal is on staff time (SPEC 7.1)
        ("cycle_time.p50", "lower"),
        ("throughput_per_hour", "higher"),
    ]
    higher = next(spec for spec in by_goal.values() if spec.better == "higher")
    assert higher.improvement(2.0, 10.0) == 2.0
    closer = GoalSpec("g", "wip", None, "wip", "closer", "== 5", 5.0)
    assert closer.improvement(-2.0, 8.0) == 2.0  # 8 -> 6: 2 closer to 5
    assert closer.improvement(3.0, 4.0) == -1.0  # 4 -> 7: 1 further


def test_a_rework_goal_screens_every_lever_but_the_feedback_ones() -> None:
    text = BOTTLENECK.read_text(encoding="utf-8") + (
        "goals:\n  - {id: little-rework, metric: rework_rate, target: '<= 20%'}\n"
    )
    p = procflow.load_text(text, "rework.yaml")
    ranking = procflow.levers(p, "little-rework", cases=300, runs=3, jobs=1)
    assert ranking.goal.kpi == "rework_rate"
    assert [e.lever.id for e in ranking.ranked] == ["feedback:review.again"]
    assert ranking.simulated == 1
    halved = ranking.ranked[0]
    assert halved.difference is not None
    assert halved.difference < 0


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        ("nope", "has no goal 'nope' (its goals are 'busy-desk', 'cost')"),
        ("busy-desk", "'customer' is not a staff owner"),
        ("cost", "no owner has a cost_per_hour"),
    ],
)
def test_a_goal_that_cannot_rank_levers_is_refused_with_its_position(
    goal: str, message: str
) -> None:
    text = (
        "process: g\nowners: {desk: {capacity: 2}, customer: {external: true}}\n"
        "arrivals: {rate: 4/h}\nstart: a\n"
        "steps:\n  a: {owner: desk, duration: 5m, next: b}\n"
        "  b: {owner: customer, duration: 1h, next: c}\n  c: {end: true}\n"
        "goals:\n"
        "  - {id: busy-desk, metric: 'utilization:customer', target: '<= 80%'}\n"
        "  - {id: cost, metric: cost_per_case, target: '<= 10'}\n"
    )
    p = procflow.load_text(text, "g.yaml")
    with pytest.raises(procflow.ProcflowError, match=r"^g\.yaml:[0-9]+:[0-9]+: ") as error:
        procflow.levers(p, goal, cases=100, runs=2, jobs=1)
    assert message in str(error.value)
    assert error.value.exit_code == 2


def test_a_process_without_arrivals_says_why_levers_need_them() -> None:
    p = procflow.load_text(
        "process: t\nowners: {desk: {capacity: 1}}\nstart: a\n"
        "steps:\n  a: {owner: desk, duration: 5m, next: b}\n  b: {end: true}\n",
        "t.yaml",
    )
    with pytest.raises(procflow.SimulationError, match=r"^t\.yaml:1:1: .*no arrivals") as error:
        procflow.levers(p)
    assert "levers need them" in str(error.value)
    assert "arrivals: {rate: 8/h}" in str(error.value)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="takes a Process"):
        procflow.levers(42)  # type: ignore[arg-type]
    with pytest.raises(procflow.ConfigError, match="top must be"):
        procflow.levers(BOTTLENECK, top=0)


# --------------------------------------------------------------------------
# the levers themselves

EVERY_FAMILY: list[AnyDistribution] = [
    Fixed(value=300.0),
    Exponential(mean=360.0),
    Uniform(min=120.0, max=600.0),
    Triangular(min=120.0, mode=240.0, max=720.0),
    Normal(mean=120.0, sd=120.0),  # truncated at 0: its mean is not its mu
    Lognormal(mean=300.0, sd=180.0),
    Gamma(mean=480.0, sd=240.0),
    Empirical(values=(60.0, 120.0, 240.0, 540.0)),
]


def test_every_family_is_covered() -> None:
    assert {type(d) for d in EVERY_FAMILY} == set(get_args(AnyDistribution))


@pytest.mark.parametrize("dist", EVERY_FAMILY, ids=lambda d: d.dist)
def test_a_shorter_duration_has_exactly_ninety_percent_of_the_mean(dist: Any) -> None:
    shorter = scale_duration(dist, 0.9)
    assert type(shorter) is type(dist)
    assert shorter.mean == pytest.approx(0.9 * dist.mean, rel=1e-12)
    assert shorter.scv == pytest.approx(dist.scv, rel=1e-9)  # same shape, only shorter
    assert dist.mean != pytest.approx(shorter.mean)  # the original is untouched


def test_the_truncated_normal_is_scaled_by_its_parameters_not_its_mean() -> None:
    dist = Normal(mean=60.0, sd=120.0)
    assert dist.mean > 60.0  # the truncation lifts the mean
    assert scale_duration(dist, 0.9).mean == pytest.approx(0.9 * dist.mean, rel=1e-12)


def test_scaling_refuses_a_factor_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        scale_duration(Fixed(value=1.0), 0.0)


def test_duration_levers_change_the_model_and_the_simulation_by_exactly_ten_percent() -> None:
    p = procflow.load(FAMILIES)
    levers = list(duration_levers(p))
    assert [lever.subject for lever in levers] == [s for s in p.steps if s != "done"]
    variants = [lever.apply(p) for lever in levers]
    for lever, variant in zip(levers, variants, strict=True):
        old, new = p.steps[lever.subject].duration, variant.steps[lever.subject].duration
        assert old is not None
        assert new is not None
        assert new.dist == old.dist
        assert new.mean == pytest.approx(0.9 * old.mean, rel=1e-12)
        others = [s for s in p.steps if s != lever.subject]
        assert all(variant.steps[s] == p.steps[s] for s in others)
    # common random numbers: each visit draws the same number, only scaled
    cmp = procflow.compare(
        p, *variants, names=[lever.id for lever in levers], cases=200, runs=2, jobs=1
    )
    for lever in levers:
        key = f"step:{lever.subject}.service_mean"
        base, shorter = cmp.baseline.kpis[key].runs, cmp.changes[lever.id].kpis[key].runs
        for b, s in zip(base, shorter, strict=True):
            assert s == pytest.approx(0.9 * b, rel=1e-9)  # type: ignore[operator]


def test_one_more_unit_per_staff_owner_and_none_for_externals() -> None:
    p = procflow.load(CUSTOMER_SERVICE)
    levers = {lever.subject: lever for lever in capacity_levers(p)}
    assert set(levers) == {"support-lead", "support-agent", "tier2"}
    agent = levers["support-agent"].apply(p)
    assert agent.owners["support-agent"].capacity == 6
    # 32 an hour for each of the 50 hours a week on duty (Mon-Fri 08-18), per hour of the week
    assert levers["support-agent"].cost_per_hour == pytest.approx(32 * 50 / 168)
    assert levers["tier2"].cost_per_hour is None


def test_half_a_feedback_edge_gives_its_share_to_the_others_in_proportion() -> None:
    p = procflow.load(CUSTOMER_SERVICE)
    (lever,) = feedback_levers(p)
    assert (lever.subject, lever.before, lever.after) == ("confirm.reopened", "0.15", "0.075")
    confirm = lever.apply(p).steps["confirm"]
    by_trigger = {edge.trigger: edge for edge in confirm.transitions}
    assert by_trigger["reopened"].p == pytest.approx(0.075)
    assert by_trigger["accepted"].p == pytest.approx(0.925)
    kept = by_trigger["reopened"]
    assert (kept.to, kept.feedback, kept.max) == ("triage", True, 3)
    assert halved_feedback([0.5, 0.3, 0.2], 2) == pytest.approx([0.5625, 0.3375, 0.1])
    assert halved_feedback([1.0], 0) is None  # nothing else to take the rest


def test_unwritten_probabilities_are_equal_shares_before_halving() -> None:
    p = procflow.load_text(
        "process: q\nowners: {desk: {capacity: 1}}\narrivals: {rate: 1/h}\nstart: a\n"
        "steps:\n  a:\n    owner: desk\n    duration: 5m\n    on:\n"
        "      ok: b\n      later: b\n      redo: {to: a, feedback: true, max: 2}\n"
        "  b: {end: true}\n",
        "q.yaml",
    )
    (lever,) = feedback_levers(p)
    edges = {edge.trigger: edge for edge in lever.apply(p).steps["a"].transitions}
    assert edges["redo"].p == pytest.approx(1 / 6)
    assert edges["ok"].p == pytest.approx(5 / 12)
    assert edges["ok"].to == "b"
    assert math.fsum(e.p or 0.0 for e in edges.values()) == pytest.approx(1.0)


def test_automation_moves_the_step_to_an_external_owner_of_its_own() -> None:
    p = procflow.load(CUSTOMER_SERVICE)
    levers = {lever.subject: lever for lever in automation_levers(p)}
    assert set(levers) == {"intake", "triage", "escalate", "resolve", "confirm"}
    automated = levers["triage"].apply(p)
    owner = automated.steps["triage"].owner
    assert owner == "automated-triage"
    assert automated.owners["automated-triage"].external
    assert automated.steps["intake"].owner == "support-agent"  # nothing else moves
    taken = p.with_changes({"owners": {"automated-triage": {"capacity": 1}}})
    again = {lever.subject: lever for lever in automation_levers(taken)}["triage"]
    assert again.apply(taken).steps["triage"].owner == "automated-triage-2"


def test_every_example_process_gets_valid_levers() -> None:
    for path in sorted((ROOT / "processes").glob("*.yaml")):
        p = procflow.load(path)
        for lever in all_levers(p):
            procflow.ensure_runnable(lever.apply(p))


def test_the_same_seed_gives_the_same_ranking_whatever_the_jobs() -> None:
    one = procflow.levers(BOTTLENECK, cases=200, runs=2, seed=5, jobs=1)
    two = procflow.levers(procflow.load(BOTTLENECK), cases=200, runs=2, seed=5, jobs=2)
    assert one.to_json() == two.to_json()
