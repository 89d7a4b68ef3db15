"""Work shared between the scenarios of ``levers`` and ``optimize``: the routing chain.

A lever or a staffing that leaves the routing alone has exactly the routing
chain of its baseline, so it is given that chain instead of unrolling it
again. These tests check that what is shared is what would have been
built, that only the same step graph shares, and that sharing leaves no
cyclic garbage.
"""

from __future__ import annotations

import gc

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, ROOT
from procflow import load
from procflow._levers import ranking
from procflow._levers.candidates import all_levers
from procflow.analysis import analyze
from procflow.analysis.routing import build_chain, share_chain

BOTTLENECK = ROOT / "tests" / "fixtures" / "levers" / "bottleneck.yaml"


def test_a_variant_with_the_same_step_graph_gets_the_baseline_chain() -> None:
    base = load(CUSTOMER_SERVICE)
    for lever in all_levers(base):
        variant = lever.apply(base)
        fresh = build_chain(lever.apply(base))  # what the variant would build alone
        shared = share_chain(base, variant)
        assert shared is (lever.kind != "feedback"), lever.id
        chain = build_chain(variant)
        assert (chain is build_chain(base)) is shared
        assert chain.visits == pytest.approx(fresh.visits, rel=1e-12), lever.id
        assert (chain.src, chain.dst, chain.prob) == (fresh.src, fresh.dst, fresh.prob)


def test_a_changed_probability_or_bound_keeps_its_own_chain() -> None:
    base = load(CUSTOMER_SERVICE)
    for patch in (
        {"steps": {"confirm": {"on": {"accepted": {"p": 0.7}, "reopened": {"p": 0.3}}}}},
        {"steps": {"confirm": {"on": {"reopened": {"max": 1}}}}},
    ):
        variant = base.with_changes(patch)
        assert not share_chain(base, variant)
        assert build_chain(variant).visits != build_chain(base).visits


def test_sharing_leaves_no_cyclic_garbage() -> None:
    """A variant given its original's chain is still freed by reference counting alone.

    (Keeping an analysis in the compiled memo would not be: it refers to its
    process, which refers to the memo; lint, which pauses the collector per
    file, would then leave every file's model to the cyclic collector.)
    """
    base = load(CUSTOMER_SERVICE)
    analyze(base)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        variant = base.with_changes({"owners": {"support-agent": {"capacity": 9}}})
        assert share_chain(base, variant)
        analyze(variant).owners  # noqa: B018 - computed on first read
        del variant
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_levers_rank_the_same_with_and_without_sharing(monkeypatch: pytest.MonkeyPatch) -> None:
    options = {"cases": 600, "runs": 3, "seed": 4, "jobs": 1}
    shared = procflow.levers(load(BOTTLENECK), **options)
    monkeypatch.setattr(ranking, "share_chain", lambda source, target: False)
    alone = procflow.levers(load(BOTTLENECK), **options)
    assert shared.to_dict() == alone.to_dict()
