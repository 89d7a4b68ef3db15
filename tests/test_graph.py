"""The graph view of a process and its pure analyses (procflow.graph).

Hand-made processes pin exact answers; property tests hold the fast
algorithms against brute force on small random processes.
"""

from __future__ import annotations

import doctest
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procflow.graph
from procflow.graph import (
    Handoff,
    PingPong,
    StepGraph,
    dominators,
    end_steps,
    feedback_edges,
    forward_graph,
    handoffs,
    mandatory_steps,
    ping_pongs,
    process_edges,
    process_graph,
    reachable_steps,
    steps_reaching_end,
    traps,
    unknown_target_edges,
    unmarked_cycles,
    unreachable_steps,
)
from procflow.loader import load, load_text
from procflow.model import Process


def make(steps: dict[str, Any], start: str | None = None, **extra: Any) -> Process:
    """A process from a steps mapping (JSON is YAML); owners are declared as used."""
    owners = {
        name: {} for step in steps.values() for name in [step.get("owner")] if isinstance(name, str)
    }
    data = {"process": "p", "owners": owners, "start": start or next(iter(steps)), "steps": steps}
    data.update(extra)
    return load_text(json.dumps(data), "p.yaml")


def graph_of(steps: dict[str, Any], start: str | None = None) -> nx.MultiDiGraph:
    return process_graph(make(steps, start))


def test_doctests() -> None:
    result = doctest.testmod(procflow.graph)
    assert result.attempted >= 20
    assert result.failed == 0


# --------------------------------------------------------------------------
# the view


def test_process_graph_nodes_edges_and_attributes() -> None:
    process = load("processes/customer-service.yaml")
    graph = process_graph(process)
    assert list(graph) == list(process.steps)  # file order
    assert graph.graph == {"process": "customer-service", "start": "intake"}
    assert graph.nodes["confirm"] == {"owner": "customer", "end": False, "title": None}
    assert graph.nodes["closed"]["end"] is True
    assert graph.edges["confirm", "triage", "reopened"] == {
        "to": "triage",
        "p": 0.15,
        "feedback": True,
        "max": 3,
        "trigger": "reopened",
    }
    assert graph.edges["intake", "triage", "next"]["p"] is None
    assert graph.number_of_edges() == len(list(process.edges())) == 7


def test_edges_to_unknown_steps_are_left_out_but_listed_by_process_edges() -> None:
    process = make({"a": {"on": {"x": "b", "y": "ghost"}}, "b": {"end": True}})
    graph = process_graph(process)
    assert sorted(graph.edges(keys=True)) == [("a", "b", "x")]
    assert [(e.source, e.target, e.to, e.trigger) for e in process_edges(process)] == [
        (0, 1, "b", "x"),
        (0, -1, "ghost", "y"),
    ]


def test_parallel_transitions_between_two_steps_are_kept_apart() -> None:
    graph = graph_of({"a": {"on": {"yes": "b", "no": "b"}}, "b": {"end": True}})
    assert sorted(graph["a"]["b"]) == ["no", "yes"]
    assert forward_graph(graph).number_of_edges() == 1


# --------------------------------------------------------------------------
# reachability and traps


def test_reachable_and_unreachable_in_file_order() -> None:
    graph = graph_of(
        {
            "a": {"next": "b"},
            "orphan": {"next": "lost"},
            "b": {"end": True},
            "lost": {"next": "b"},
        }
    )
    assert reachable_steps(graph) == {"a", "b"}
    assert unreachable_steps(graph) == ["orphan", "lost"]
    assert reachable_steps(graph, "orphan") == {"orphan", "lost", "b"}
    assert reachable_steps(graph, "nowhere") == set()
    assert unreachable_steps(graph, "nowhere") == ["a", "orphan", "b", "lost"]


def test_traps_group_a_loop_with_the_chain_into_it() -> None:
    graph = graph_of(
        {
            "start": {"on": {"ok": "done", "odd": "chain"}},
            "chain": {"next": "loop1"},
            "loop1": {"next": "loop2"},
            "loop2": {"next": "loop1"},
            "self": {"on": {"again": "self"}},
            "done": {"end": True},
        }
    )
    assert traps(graph) == [["chain", "loop1", "loop2"], ["self"]]
    assert steps_reaching_end(graph) == {"start", "done"}


def test_two_loops_fed_by_one_chain_are_one_trap() -> None:
    graph = graph_of(
        {
            "a": {"on": {"ok": "end", "bad": "fork"}},
            "fork": {"on": {"l": "x1", "r": "y1"}},
            "x1": {"next": "x2"},
            "x2": {"next": "x1"},
            "y1": {"next": "y1"},
            "end": {"end": True},
        }
    )
    assert traps(graph) == [["fork", "x1", "x2", "y1"]]


def test_without_end_steps_everything_is_trapped_and_with_none_nothing_is() -> None:
    assert traps(graph_of({"a": {"next": "b"}, "b": {"next": "a"}})) == [["a", "b"]]
    graph = graph_of({"a": {"next": "b"}, "b": {"on": {"x": "a", "y": "c"}}, "c": {"end": True}})
    assert traps(graph) == []
    assert end_steps(graph) == ["c"]


# --------------------------------------------------------------------------
# loops


def test_feedback_edges_and_unmarked_cycles() -> None:
    graph = graph_of(
        {
            "a": {"next": "b"},
            "b": {"on": {"ok": "c", "back": {"to": "a", "feedback": True}}},
            "c": {"on": {"retry": "c", "up": "b", "done": "d"}},
            "d": {"end": True},
            "e": {"next": "f"},
            "f": {"on": {"loop": "e", "out": "d"}},
        }
    )
    assert feedback_edges(graph) == [("b", "a", "back")]
    # b <-> c (c goes up to b unmarked) and the e <-> f pair; the self-loop on c is inside
    assert unmarked_cycles(graph) == [["b", "c"], ["e", "f"]]


def test_a_self_loop_alone_is_an_unmarked_cycle_and_marked_loops_are_not() -> None:
    graph = graph_of({"a": {"on": {"again": "a", "done": "b"}}, "b": {"end": True}})
    assert unmarked_cycles(graph) == [["a"]]
    graph = graph_of(
        {"a": {"on": {"again": {"to": "a", "feedback": True}, "done": "b"}}, "b": {"end": True}}
    )
    assert unmarked_cycles(graph) == []


def test_exits_of_end_steps_make_no_loop() -> None:
    graph = graph_of({"a": {"next": "b"}, "b": {"end": True, "next": "a"}})
    assert unmarked_cycles(graph) == []
    assert sorted(forward_graph(graph).edges) == [("a", "b")]


def test_the_forward_graph_cache_follows_changes_to_the_graph() -> None:
    graph = graph_of({"a": {"next": "b"}, "b": {"on": {"x": "c"}}, "c": {"end": True}})
    assert unmarked_cycles(graph) == []
    graph.add_edge("b", "a", "sneaky", feedback=False)  # networkx clears its cache
    assert unmarked_cycles(graph) == [["a", "b"]]


# --------------------------------------------------------------------------
# dominance


def test_dominators_and_mandatory_steps() -> None:
    graph = graph_of(
        {
            "intake": {"next": "triage"},
            "triage": {"on": {"simple": "resolve", "complex": "escalate"}},
            "escalate": {"next": "resolve"},
            "resolve": {"next": "confirm"},
            "confirm": {
                "on": {"ok": "closed", "reopen": {"to": "triage", "feedback": True}},
            },
            "closed": {"end": True},
        }
    )
    assert dominators(graph) == {
        "intake": None,
        "triage": "intake",
        "escalate": "triage",
        "resolve": "triage",
        "confirm": "resolve",
        "closed": "confirm",
    }
    assert mandatory_steps(graph) == ["intake", "triage", "resolve", "confirm", "closed"]


def test_mandatory_steps_with_several_ends_are_their_common_dominators() -> None:
    graph = graph_of(
        {
            "a": {"next": "b"},
            "b": {"on": {"x": "c", "y": "d"}},
            "c": {"on": {"done": "ok", "give-up": "cancelled"}},
            "d": {"next": "ok"},
            "ok": {"end": True},
            "cancelled": {"end": True},
            "never": {"end": True},
        }
    )
    assert mandatory_steps(graph) == ["a", "b"]


def test_mandatory_steps_need_a_start_and_a_reachable_end() -> None:
    assert mandatory_steps(graph_of({"a": {"next": "a"}, "z": {"end": True}})) == []
    assert mandatory_steps(graph_of({"a": {"next": "z"}, "z": {"end": True}}, "a"), "nope") == []
    assert dominators(graph_of({"a": {"next": "z"}, "z": {"end": True}}), "nope") == {}


# --------------------------------------------------------------------------
# ownership


def test_handoffs_skip_same_owner_and_ownerless_steps() -> None:
    graph = graph_of(
        {
            "a": {"owner": "x", "next": "b"},
            "b": {"owner": "x", "on": {"go": "c", "skip": "d"}},
            "c": {"owner": "y", "next": "d"},
            "d": {"next": "e"},
            "e": {"end": True},
        }
    )
    assert handoffs(graph) == [Handoff("b", "c", "go", "x", "y")]


PING_PONG = {
    "draft": {"owner": "sales", "next": "review"},
    "review": {"owner": "legal", "next": "revise"},
    "revise": {"owner": "sales", "next": "polish"},
    "polish": {"owner": "sales", "next": "sign"},
    "sign": {"owner": "legal", "next": "done"},
    "done": {"end": True},
}


def test_ping_pong_counts_turns_not_steps() -> None:
    assert ping_pongs(graph_of(PING_PONG)) == [
        PingPong(("sales", "legal"), ("draft", "review", "revise", "polish", "sign"))
    ]


def test_two_handoffs_are_not_a_ping_pong() -> None:
    steps = dict(PING_PONG)
    steps["sign"] = {"owner": "finance", "next": "done"}
    assert ping_pongs(graph_of(steps)) == []


def test_going_round_a_feedback_loop_is_not_a_ping_pong() -> None:
    graph = graph_of(
        {
            "write": {"owner": "writer", "next": "edit"},
            "edit": {
                "owner": "editor",
                "on": {"ok": "out", "redo": {"to": "write", "feedback": True, "max": 3}},
            },
            "out": {"end": True},
        }
    )
    assert ping_pongs(graph) == []


def test_an_ownerless_step_interrupts_the_count() -> None:
    steps = dict(PING_PONG)
    steps["review"] = {"owner": "legal", "next": "pause"}
    steps = {**{k: v for k, v in steps.items() if k != "done"}, "pause": {"next": "revise"}}
    steps["done"] = {"end": True}
    assert ping_pongs(graph_of(steps)) == []


def test_one_ping_pong_per_pair_of_owners() -> None:
    graph = graph_of(
        {
            "a1": {"owner": "a", "on": {"l": "b1", "r": "b2"}},
            "b1": {"owner": "b", "next": "a2"},
            "b2": {"owner": "b", "next": "a2"},
            "a2": {"owner": "a", "next": "b3"},
            "b3": {"owner": "b", "next": "c1"},
            "c1": {"owner": "c", "next": "b4"},
            "b4": {"owner": "b", "next": "c2"},
            "c2": {"owner": "c", "next": "end"},
            "end": {"end": True},
        }
    )
    found = ping_pongs(graph)
    assert [f.owners for f in found] == [("a", "b"), ("b", "c")]
    assert found[0].path == ("a1", "b1", "a2", "b3")
    assert found[1].path == ("b3", "c1", "b4", "c2")


def test_ping_pong_inside_an_unmarked_loop_never_repeats_a_step() -> None:
    # a -> b -> a is an unmarked loop: a path may not visit a twice
    graph = graph_of(
        {
            "a": {"owner": "x", "on": {"on": "b", "out": "z"}},
            "b": {"owner": "y", "on": {"back": "a", "out": "z"}},
            "z": {"end": True},
        }
    )
    assert ping_pongs(graph) == []


# --------------------------------------------------------------------------
# property tests against brute force


@st.composite
def processes(draw: st.DrawFn) -> Process:
    count = draw(st.integers(min_value=2, max_value=7))
    names = [f"s{i}" for i in range(count)]
    owners = ["x", "y", "z", None]
    steps: dict[str, Any] = {}
    for name in names:
        if draw(st.booleans()) and draw(st.booleans()):
            steps[name] = {"end": True}
            continue
        step: dict[str, Any] = {}
        owner = draw(st.sampled_from(owners))
        if owner is not None:
            step["owner"] = owner
        targets = draw(st.lists(st.sampled_from(names), max_size=3))
        step["on"] = {
            f"t{i}": {"to": target, "feedback": draw(st.booleans()) and draw(st.booleans())}
            for i, target in enumerate(targets)
        }
        steps[name] = step
    return make(steps, draw(st.sampled_from(names)))


def _brute_trapped(graph: nx.MultiDiGraph) -> set[str]:
    ends = set(end_steps(graph))
    return {n for n in graph if not ({n} | nx.descendants(graph, n)) & ends}


def _compressed_owners(graph: nx.MultiDiGraph, path: list[str]) -> list[list[str | None]]:
    """The owner sequence of a path split at owner-less steps, runs of one owner merged."""
    pieces: list[list[str | None]] = [[]]
    for step in path:
        owner = graph.nodes[step]["owner"]
        if owner is None:
            pieces.append([])
        elif not pieces[-1] or pieces[-1][-1] != owner:
            pieces[-1].append(owner)
    return pieces


def _brute_ping_pong_pairs(graph: nx.MultiDiGraph) -> set[frozenset[str | None]]:
    forward = forward_graph(graph)
    forward.remove_edges_from(list(nx.selfloop_edges(forward)))
    pairs = set()
    for source, target in itertools.permutations(forward, 2):
        for path in nx.all_simple_paths(forward, source, target):
            for piece in _compressed_owners(graph, path):
                for i in range(len(piece) - 3):
                    a, b, c, d = piece[i : i + 4]
                    if a == c and b == d:
                        pairs.add(frozenset((a, b)))
    return pairs


@settings(max_examples=150, deadline=None)
@given(processes())
def test_analyses_agree_with_brute_force(process: Process) -> None:
    graph = process_graph(process)

    trapped = _brute_trapped(graph)
    groups = traps(graph)
    assert {step for group in groups for step in group} == trapped
    assert sorted(map(sorted, groups)) == sorted(
        sorted(c) for c in nx.weakly_connected_components(graph.subgraph(trapped))
    )

    start = process.start
    ends = [e for e in end_steps(graph) if e in reachable_steps(graph)]
    expected_mandatory = set()
    if ends:
        for step in reachable_steps(graph):
            rest = graph.subgraph(n for n in graph if n != step)
            if step == start or not any(
                start in rest and e in rest and nx.has_path(rest, start, e) for e in ends
            ):
                expected_mandatory.add(step)
    assert set(mandatory_steps(graph)) == expected_mandatory

    cyclic = {frozenset(group) for group in unmarked_cycles(graph)}
    forward = forward_graph(graph)
    expected_cycles = {
        frozenset(c)
        for c in nx.strongly_connected_components(forward)
        if len(c) > 1 or forward.has_edge(next(iter(c)), next(iter(c)))
    }
    assert cyclic == expected_cycles

    found = ping_pongs(graph)
    for ping in found:  # every reported path is real: forward edges, no repeats, A-B-A-B
        assert len(set(ping.path)) == len(ping.path)
        assert all(forward.has_edge(u, v) for u, v in itertools.pairwise(ping.path))
        (piece,) = [p for p in _compressed_owners(graph, list(ping.path)) if p]
        assert piece == [*ping.owners, *ping.owners]
    brute = _brute_ping_pong_pairs(graph)
    reported = {frozenset(p.owners) for p in found}
    assert reported <= brute
    if not cyclic:  # on an acyclic forward graph the search is exact
        assert reported == brute


@pytest.mark.parametrize(
    "path",
    [
        "processes/customer-service.yaml",
        "processes/order-fulfilment.yaml",
        "processes/employee-onboarding.yaml",
        "processes/incident-management.yaml",
        "processes/purchase-approval.yaml",
    ],
)
def test_example_processes_are_well_formed_graphs(path: str) -> None:
    graph = process_graph(load(path))
    assert unreachable_steps(graph) == []
    assert traps(graph) == []
    assert unmarked_cycles(graph) == []
    assert feedback_edges(graph)
    assert mandatory_steps(graph)[0] == graph.graph["start"]


# --------------------------------------------------------------------------
# the plain-list step graph lint walks


@st.composite
def processes_with_typos(draw: st.DrawFn) -> Process:
    """Like :func:`processes`, with a target that may not exist and ``next:`` steps."""
    count = draw(st.integers(min_value=2, max_value=7))
    names = [f"s{i}" for i in range(count)]
    steps: dict[str, Any] = {}
    for name in names:
        if draw(st.integers(0, 4)) == 0:
            steps[name] = {"end": True}
            continue
        step: dict[str, Any] = {}
        owner = draw(st.sampled_from(["x", "y", "z", None]))
        if owner is not None:
            step["owner"] = owner
        targets = st.sampled_from([*names, "s1x", "ghost"])
        if draw(st.booleans()):
            step["next"] = draw(targets)
        else:
            step["on"] = {
                f"t{i}": {"to": target, "feedback": draw(st.booleans()) and draw(st.booleans())}
                for i, target in enumerate(draw(st.lists(targets, max_size=4)))
            }
        steps[name] = step
    return make(steps, draw(st.sampled_from(names)))


@settings(max_examples=200, deadline=None)
@given(processes_with_typos())
def test_the_step_graph_answers_as_networkx_does(process: Process) -> None:
    graph = process_graph(process)
    plain = StepGraph.of(process)
    converted = StepGraph.of_networkx(graph)
    nodes = plain.nodes
    assert nodes == list(graph) == converted.nodes
    assert plain.unknown_targets == any(True for _ in unknown_target_edges(process))
    for steps in (plain, converted):
        assert steps.forward == converted.forward
        forward = forward_graph(graph)
        assert [[nodes[v] for v in targets] for targets in steps.forward] == [
            list(forward.successors(node)) for node in nodes
        ]
        try:
            expected = list(nx.topological_sort(forward))
        except nx.NetworkXUnfeasible:
            expected = None
        order = steps.forward_topological
        assert (None if order is None else [nodes[u] for u in order]) == expected
        assert steps.is_acyclic() == nx.is_directed_acyclic_graph(graph)
        for node in nodes:
            assert steps.edges_from(node) == [
                (v, key, bool(feedback))
                for _u, v, key, feedback in graph.edges(node, keys=True, data="feedback")
            ]
            assert steps.predecessors(node) == list(dict.fromkeys(graph.predecessors(node)))
        if process.start in graph:
            idom = nx.immediate_dominators(graph, process.start)
            found = steps.immediate_dominators()
            assert {nodes[u]: nodes[d] for u, d in enumerate(found) if d >= 0 and u != d} == {
                u: d for u, d in idom.items() if u != d
            }
        for group in steps.traps():
            condensed = nx.condensation(graph.subgraph(group))
            terminal_cycles = [
                condensed.nodes[c]["members"]
                for c in condensed
                if not condensed.out_degree(c)
                and (
                    len(condensed.nodes[c]["members"]) > 1
                    or any(graph.has_edge(m, m) for m in condensed.nodes[c]["members"])
                )
            ]
            for avoid in (set(), {group[0]}):
                assert steps.has_closed_loop(group, avoid) == any(
                    not (members & avoid) for members in terminal_cycles
                )
    assert plain.ping_pongs() == ping_pongs(graph)
    assert plain.mandatory_steps() == mandatory_steps(graph)
    assert plain.unmarked_cycles() == unmarked_cycles(graph)
    assert plain.traps() == traps(graph)


def test_extra_edges_reach_and_come_last_among_predecessors() -> None:
    process = make({"a": {"next": "b"}, "b": {"end": True}, "c": {"next": "b"}})
    steps = StepGraph.of(process)
    assert steps.reached() == [True, True, False]
    assert steps.reached(extra=[(0, 2)]) == [True, True, True]
    assert steps.predecessors("b") == ["a", "c"]
    assert steps.predecessors("a", [(2, 0), (1, 0), (2, 0)]) == ["c", "b"]
    assert steps.reached("nowhere") == [False, False, False]


def test_lint_never_imports_networkx() -> None:
    """The rules walk the plain step graph: networkx's ~100 ms import stays out of lint."""
    code = (
        "import io, sys\n"
        "from contextlib import redirect_stdout\n"
        "from procflow.cli import main\n"
        "with redirect_stdout(io.StringIO()):\n"
        "    code = main(['lint', '--isolated', 'processes/', 'tests/fixtures/rules'])\n"
        "print(code, 'networkx' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.split() == ["1", "False"]
