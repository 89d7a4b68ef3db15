"""The two-stage design of ``procflow levers``: screening, selection, confirmation.

The selection rule is checked on made-up screening runs (which lever is
kept and why); the design end to end on the bottleneck fixture, where the
confirmed levers must carry exactly the figures ``--full`` gives them (the
confirmation simulates each of them on the same seeds), the bottleneck's
extra clerk must survive screening, and every lever screening drops must
be listed with its screening estimate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

import procflow
from helpers import ROOT
from procflow._levers import LeverRanking
from procflow._levers.stages import (
    DEFAULT_CONFIRM,
    INDIFFERENCE,
    SCREEN_ROUNDS,
    SCREEN_RUNS,
    RoundResult,
    Screened,
    Screening,
    screen_in_rounds,
    screening_design,
    select,
    worth_screening,
)

BOTTLENECK = ROOT / "tests" / "fixtures" / "levers" / "bottleneck.yaml"
TITLES = {name: name.upper() for name in "abcdef"}


# --------------------------------------------------------------------------
# the selection rule


def test_the_best_k_and_those_that_may_beat_the_kth_are_confirmed() -> None:
    runs = {
        "a": [10.0, 11.0, 12.0],  # clearly the best
        "b": [8.0, 8.5, 9.0],
        "c": [5.0, 5.2, 5.1],  # below b in every run, by about 3
        "d": [4.0, 9.0, 2.0],  # noisy: its interval against b reaches far above 0
        "e": [1.0, 1.1, 0.9],  # clearly below b, run by run
        "f": [0.0, 0.0, 0.0],
    }
    found = select(runs, list(runs), 2, 0.0, TITLES)
    assert {lever for lever, s in found.items() if s.confirmed} == {"a", "b", "d"}
    assert [found[lever].rank for lever in "abcdef"] == [1, 2, 3, 4, 5, 6]
    assert found["e"].reason == "cannot beat the 2nd best (B) by 1% in screening"
    assert found["a"].reason is None
    assert found["c"].improvement == pytest.approx(5.1)


def test_the_indifference_zone_drops_a_lever_that_can_beat_the_kth_only_by_a_little() -> None:
    runs = {"a": [10.0, 10.0, 10.0], "b": [5.0, 5.1, 4.9], "c": [4.9, 5.2, 4.8]}
    assert select(runs, list(runs), 2, 0.0, TITLES)["c"].confirmed  # may beat b by 0.25
    assert not select(runs, list(runs), 2, 1.0, TITLES)["c"].confirmed  # not by 1.0


def test_a_lever_screening_could_not_measure_is_confirmed() -> None:
    runs = {"a": [3.0, 3.0, 3.0], "b": [None, 1.0, 1.0], "c": [0.0, 0.0, 0.0]}
    found = select(runs, list(runs), 1, 0.0, TITLES)
    assert found["b"].confirmed
    assert found["b"].rank is None
    assert not found["c"].confirmed


def test_ties_keep_the_order_the_levers_were_built_in() -> None:
    runs = {"b": [1.0, 1.0, 1.0], "a": [1.0, 1.0, 1.0], "c": [0.0, 0.0, 0.0]}
    found = select(runs, ["b", "a", "c"], 1, 0.0, TITLES)
    assert (found["b"].rank, found["a"].rank) == (1, 2)
    # exactly as good as the 1st in every run: it may beat it by 0 (the zone is 0)
    assert found["a"].confirmed


def _rounds(
    truth: dict[str, float], noise: dict[str, list[float]], confirm: int = 1
) -> tuple[dict[str, Screened], int, list[tuple[list[str], int]]]:
    """Screen levers whose improvement in run ``r`` is ``truth + noise[r]`` (a fake simulation)."""
    calls: list[tuple[list[str], int]] = []

    def simulate(ids: Sequence[str], seed: int) -> RoundResult:
        calls.append((list(ids), seed))
        start = 3 * (len(calls) - 1)
        base: list[float | None] = [100.0, 100.0, 100.0]
        values: dict[str, list[float | None]] = {
            i: [100.0 - truth[i] - noise[i][start + r] for r in range(3)] for i in ids
        }
        return base, values

    design = screening_design(2000, 0, None)
    found, rounds = screen_in_rounds(
        list(truth), confirm, design, TITLES, simulate, lambda d, b: -d, 10_000
    )
    return found, rounds, calls


def test_undecided_levers_are_screened_again_on_the_next_seed() -> None:
    truth = {"a": 10.0, "b": 9.0, "c": 0.0}
    noise = {
        "a": [0.0] * 9,
        "b": [3.0, -3.0, 2.0, 0.1, -0.1, 0.0, 0.0, 0.0, 0.0],  # close to a at first
        "c": [0.0] * 9,
    }
    found, rounds, calls = _rounds(truth, noise)
    assert calls[0] == (["a", "b", "c"], 1)  # round 1: every lever on seed + 1
    assert calls[1] == (["a", "b"], 2)  # round 2: the best and the undecided, seed + 2
    assert not found["c"].confirmed  # dropped in round 1, for good
    assert len(found["c"].runs) == 3
    assert len(found["b"].runs) == 3 * rounds  # pooled over the rounds it took part in
    assert rounds == len(calls) <= SCREEN_ROUNDS
    assert [found[i].rank for i in "abc"] == [1, 2, 3]
    assert found["b"].difference == pytest.approx(
        -9.0 - sum(noise["b"][: 3 * rounds]) / (3 * rounds)
    )


def test_no_more_rounds_than_the_limit_nor_when_nothing_is_undecided() -> None:
    truth = {"a": 10.0, "b": 10.0}
    noise = {"a": [0.0] * 9, "b": [5.0, -5.0, 4.0, -4.0, 5.0, -5.0, 3.0, -3.0, 1.0]}
    _, rounds, calls = _rounds(truth, noise)
    assert rounds == SCREEN_ROUNDS == len(calls)  # b never settles
    _, rounds, _ = _rounds({"a": 10.0, "b": 0.0}, {"a": [0.0] * 9, "b": [0.0] * 9})
    assert rounds == 1  # b is clearly below a: nothing left to decide


# --------------------------------------------------------------------------
# the screening design


def test_screening_runs_a_fifth_of_the_cases_on_a_seed_of_its_own() -> None:
    assert screening_design(2000, 0, None) == Screening(SCREEN_RUNS, 400, None, 1)
    assert screening_design(100, 7, None).cases == 50  # at least 50 cases
    assert screening_design(30, 7, None).cases == 30  # never more than the full runs
    assert screening_design(2000, 0, 500).warmup == 100  # an explicit warm-up scales


def test_screening_is_skipped_where_it_cannot_save_work() -> None:
    design = screening_design(2000, 0, None)
    assert not worth_screening(DEFAULT_CONFIRM, DEFAULT_CONFIRM, design, 2000, 5)
    assert worth_screening(20, DEFAULT_CONFIRM, design, 2000, 5)
    assert not worth_screening(20, 18, design, 2000, 5)  # 3 × 400 × 21 + 19 full runs


# --------------------------------------------------------------------------
# end to end


@pytest.fixture(scope="module")
def rankings() -> tuple[LeverRanking, LeverRanking]:
    options = {"cases": 2000, "runs": 5, "seed": 0, "jobs": 1}
    two = procflow.levers(BOTTLENECK, **options)  # type: ignore[arg-type]
    full = procflow.levers(BOTTLENECK, confirm=None, **options)  # type: ignore[arg-type]
    return two, full


def test_confirmed_levers_carry_exactly_the_full_figures(
    rankings: tuple[LeverRanking, LeverRanking],
) -> None:
    two, full = rankings
    assert two.screening is not None
    assert full.screening is None
    assert (two.baseline, two.baseline_ci95) == (full.baseline, full.baseline_ci95)
    confirmed = [e for e in two.effects if e.stage == "confirmation"]
    assert len(confirmed) >= DEFAULT_CONFIRM
    for effect in confirmed:
        same = full[effect.lever.id]
        assert (effect.difference, effect.ci95, effect.significant) == (
            same.difference,
            same.ci95,
            same.significant,
        ), effect.lever.id
    # the ranking of the confirmed levers is the full ranking restricted to them
    ids = {e.lever.id for e in confirmed}
    assert [e.lever.id for e in two.ranked] == [
        e.lever.id for e in full.ranked if e.lever.id in ids
    ]


def test_the_full_top_three_survive_screening_up_to_the_indifference_zone(
    rankings: tuple[LeverRanking, LeverRanking],
) -> None:
    two, full = rankings
    assert two.ranked[0].lever.id == "capacity:clerk"
    # the clerks' four automations tie (about -1.55h each): one of them may be dropped, but
    # only where it cannot beat the 3rd confirmed lever by 1% of the baseline in full either
    kth = two.ranked[DEFAULT_CONFIRM - 1].improvement
    assert kth is not None
    for effect in full.ranked[:DEFAULT_CONFIRM]:
        if two[effect.lever.id].stage == "screening":
            assert effect.improvement is not None
            assert effect.improvement - kth < INDIFFERENCE * full.baseline, effect.lever.id


def test_screened_out_levers_are_listed_with_their_screening_estimate(
    rankings: tuple[LeverRanking, LeverRanking],
) -> None:
    two, _ = rankings
    dropped = [e for e in two.effects if e.stage == "screening"]
    assert dropped
    assert two.screened_out == len(dropped)
    assert two.confirmed + two.screened_out == two.simulated
    stages = [e.stage for e in two.effects]  # ranked, then screened out, then analytic
    assert stages == sorted(stages, key=["confirmation", "screening", "analytic"].index)
    for effect in dropped:
        assert effect.rank is None
        assert effect.difference is None
        assert effect.ci95 is None
        assert effect.screening is not None
        assert not effect.screening.confirmed
        assert effect.screening.difference is not None
        assert effect.screened_out is not None
        assert "in screening" in effect.screened_out
        assert effect.screened is None  # the analytic reason stays for provable zeros
    ranks = [e.screening.rank for e in dropped if e.screening is not None]
    assert ranks == sorted(ranks)  # best screening estimate first


def test_json_keeps_every_field_and_adds_the_design(
    rankings: tuple[LeverRanking, LeverRanking],
) -> None:
    two, full = rankings
    document = json.loads(two.to_json())
    old = json.loads(full.to_json())
    assert set(old) == set(document)
    assert document["design"] == {
        "method": "two-stage",
        "confirm": DEFAULT_CONFIRM,
        "indifference": 0.01,
        "screening": {
            "runs": SCREEN_RUNS,
            "cases": 400,
            "warmup": None,
            "seed": 1,
            "rounds": two.screening.rounds if two.screening else None,
        },
        "confirmed": two.confirmed,
        "screened_out": two.screened_out,
    }
    assert old["design"]["method"] == "full"
    assert old["design"]["screening"] is None
    for key in ("cases", "runs", "seed", "warmup", "considered", "simulated", "screened"):
        assert document[key] == old[key], key
    out = next(lever for lever in document["levers"] if lever["stage"] == "screening")
    assert out["rank"] is None
    assert out["value"] is None
    assert out["screened"] is None
    assert out["screening"]["confirmed"] is False
    assert len(out["screening"]["ci95"]) == 2
    first = document["levers"][0]
    assert first["stage"] == "confirmation"
    assert first["screening"]["rank"] >= 1
    assert {lever["stage"] for lever in old["levers"]} == {"full", "analytic"}


def test_a_larger_top_confirms_more() -> None:
    options = {"cases": 600, "runs": 3, "seed": 2, "jobs": 1}
    ranking = procflow.levers(BOTTLENECK, top=8, **options)  # type: ignore[arg-type]
    assert ranking.confirm == 8
    assert len(ranking.ranked) == 8
    assert all(e.stage != "screening" for e in ranking.effects)  # --top lists the best only


def test_the_progress_covers_both_stages() -> None:
    calls: list[tuple[int, int]] = []
    procflow.levers(
        BOTTLENECK, cases=600, runs=3, seed=0, jobs=1, progress=lambda d, t: calls.append((d, t))
    )
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert calls[-1][0] == calls[-1][1]  # ends full
    assert calls[0][1] > 17 * 3 * 120  # the first total counts the confirmation too


def test_bad_confirm_is_refused() -> None:
    with pytest.raises(procflow.ConfigError, match="confirm must be a whole number"):
        procflow.levers(BOTTLENECK, confirm=0)


def test_only_the_baselines_overload_notes_are_made_for_levers() -> None:
    from procflow.sim import compare

    p = procflow.load(BOTTLENECK).with_changes({"owners": {"clerk": {"capacity": 1}}})
    slower = p.with_changes({"owners": {"reviewer": {"capacity": 2}}})  # clerks still overloaded
    options = {"cases": 200, "runs": 2, "seed": 0, "jobs": 1, "estimates": False}
    both = compare(p, slower, **options)  # type: ignore[arg-type]
    one = compare(p, slower, notes=False, **options)  # type: ignore[arg-type]
    assert any("clerk is overloaded" in note for note in both.baseline.notes)
    assert one.baseline.notes == both.baseline.notes
    assert both.changes["change-1"].notes
    assert one.changes["change-1"].notes == ()
    assert one.differences == both.differences  # the KPIs do not change
