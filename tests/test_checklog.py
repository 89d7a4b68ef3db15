"""check-log: replay semantics, conformance, performance, the command line, real logs."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import procflow
from helpers import CUSTOMER_SERVICE, CUSTOMER_SERVICE_247, PROCESSES, ROOT
from procflow.cli import main
from procflow.eventlog.batch import Batch, Labels, batches_from_events
from procflow.eventlog.conformance import check_log, judge_duration, report_from
from procflow.eventlog.csvlog import CsvLog
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher, ambiguous_names
from procflow.eventlog.replay import replay
from procflow.eventlog.stats import Sample
from procflow.model import Process
from shared_data import SHARED_DATA

FIXTURES = ROOT / "tests" / "fixtures" / "eventlog"
DATA = SHARED_DATA
RECEIPT_LOG = DATA / "receipt.csv"
RECEIPT = PROCESSES / "receipt.yaml"


def load(name: str) -> Process:
    return procflow.load(FIXTURES / name)


def events(rows: list[tuple[str, str, float]] | list[tuple[str, str, float, float]]) -> list[Event]:
    out = []
    for line, row in enumerate(rows, start=2):
        if len(row) == 4:
            case, activity, start, end = row  # type: ignore[misc]
            out.append(Event(case, activity, end, start, None, line))
        else:
            case, activity, end = row  # type: ignore[misc]
            out.append(Event(case, activity, end, None, None, line))
    return out


def deviations(report: procflow.LogReport) -> list[tuple[str, str | None, str | None, int]]:
    return [(d.kind, d.source, d.target, d.cases) for d in report.deviations]


# -- matching (SPEC 1.1) -------------------------------------------------------


def test_activity_then_title_then_id() -> None:
    process = procflow.load_text(
        """\
process: m
start: a
steps:
  a: {title: b, activity: Alpha, next: b}
  b: {title: Beta, next: c}
  c: {activity: b, next: z}
  z: {end: true}
""",
        "m.yaml",
    )
    match = StepMatcher(process)
    assert match("Alpha") == "a"
    assert match("b") == "c"  # activity of c beats title of a beats id of b
    assert match("Beta") == "b"
    assert match("z") == "z"
    assert match("a") == "a"
    assert match("alpha") is None  # exact comparison
    assert ambiguous_names(process) == {}


# -- replay semantics ------------------------------------------------------------


def test_every_kind_of_deviation() -> None:
    process = load("replay.yaml")
    log = events(
        [
            ("ok", "Step One", 1),
            ("ok", "Second", 2),
            ("ok", "s3", 3),  # then finish is inferred
            ("wrong", "Second", 1),
            ("unknown", "Step One", 1),
            ("unknown", "coffee", 2),
            ("unknown", "Second", 3),
            ("undeclared", "Step One", 1),
            ("undeclared", "s4", 2),
            ("max", "s1", 1),
            ("max", "Second", 2),
            ("max", "s1", 3),  # again (1 of 2)
            ("max", "Second", 4),
            ("max", "s1", 5),  # again (2 of 2)
            ("max", "Second", 6),
            ("max", "s1", 7),  # retry: a second edge s2 -> s1, unbounded
            ("max", "Second", 8),
            ("max", "s3", 9),
            ("max", "s3", 10),  # loop (1 of 1)
            ("max", "s3", 11),  # loop exceeded
            ("after", "s1", 1),
            ("after", "s3", 2),
            ("after", "Finished", 3),
            ("after", "s1", 4),
            ("open", "s1", 1),
            ("open", "Second", 2),
        ]
    )
    report = check_log(process, log)
    assert report.cases == 7
    assert report.conforming == 1
    assert deviations(report) == [
        ("after-end", "finish", "s1", 1),
        ("max-exceeded", "s3", "s3", 1),
        ("not-finished", "s2", None, 1),
        ("undeclared-transition", "s1", "s4", 1),
        ("unknown-activity", "s1", "coffee", 1),
        ("wrong-start", None, "s2", 1),
    ]
    m = report.measurements
    assert m.unknown_activities == Counter({"coffee": 1})
    counts = {
        (m.index.step_ids[e.source], e.trigger): m.edge_counts[e.number] for e in m.index.edges
    }
    assert counts[("s2", "again")] == 2
    assert counts[("s2", "retry")] == 1
    assert counts[("s3", "loop")] == 1
    assert counts[("s3", "done")] == 3  # 'ok' inferred, 'after' explicit, 'max' inferred
    assert report.rework_rate == pytest.approx(1 / 7)
    assert report.expected_rework_rate is None  # no arrivals: nothing to compare with


def test_a_final_step_with_a_transition_into_an_end_step_finishes_the_case() -> None:
    process = load("replay.yaml")
    report = check_log(process, events([("a", "s1", 1), ("a", "s3", 2), ("a", "s4", 3)]))
    assert report.conforming == 1
    m = report.measurements
    stop = next(e for e in m.index.edges if e.trigger == "stop")
    assert m.edge_counts[stop.number] == 1  # the first end edge, even though bounded
    assert m.steps["quit"].visits == 1


def test_events_out_of_order_name_both_lines() -> None:
    process = load("replay.yaml")
    log = events([("a", "s1", 10), ("b", "s1", 11), ("a", "Second", 5)])
    with pytest.raises(procflow.EventLogError) as info:
        check_log(process, log, path="log.csv")
    message = str(info.value)
    assert message.startswith("log.csv:4: events out of order: case 'a' ends 'Second' at ")
    assert "before its previous event (line 2)" in message
    assert "--sort" in message


def test_durations_service_wait_and_elapsed() -> None:
    process = load("replay.yaml")
    report = check_log(
        process,
        events([("a", "s1", 0, 60), ("a", "Second", 90, 150), ("b", "s1", 100, 160)]),
    )
    m = report.measurements
    assert m.steps["s1"].service.mean == 60
    assert m.steps["s2"].service.mean == 60
    assert m.steps["s2"].wait.mean == 30
    assert m.steps["s2"].elapsed.mean == 90
    assert m.steps["s1"].wait.n == 0  # a case's first event has no waiting time
    assert report.timing == "start-end"
    assert m.cycle_time.n == 2
    assert m.period == 160


# -- the vectorised replay against a plain one -------------------------------------


def reference(
    process: Process, log: list[Event]
) -> tuple[int, Counter[tuple], Counter[tuple], Counter[tuple]]:
    """SPEC-by-the-letter replay, one event at a time (the code under test must agree).

    Returns (conforming cases, first deviations, edges taken, edges taken at a free
    departure: every bounded transition of the step still available to the case).
    """
    steps = process.steps
    ends = {s for s, step in steps.items() if step.end}
    match = StepMatcher(process)
    states: dict[str, dict] = {}
    edges: Counter[tuple] = Counter()
    free: Counter[tuple] = Counter()

    def is_free(state: dict, step: str) -> bool:
        return all(
            state["uses"][(step, t.trigger)] < t.max
            for t in steps[step].transitions
            if t.max is not None
        )

    for event in log:
        state = states.setdefault(
            event.case, {"step": None, "dev": None, "uses": Counter(), "n": 0}
        )
        step = match(event.activity)
        previous = state["step"]
        if step is None:
            state["dev"] = state["dev"] or ("unknown-activity", previous, event.activity)
        else:
            if previous is None:
                if state["n"] == 0 and step != process.start:
                    state["dev"] = state["dev"] or ("wrong-start", None, step)
            elif previous in ends:
                state["dev"] = state["dev"] or ("after-end", previous, step)
            else:
                declared = [t for t in steps[previous].transitions if t.to == step]
                available = is_free(state, previous)
                taken = None
                for t in declared:
                    if t.max is not None and state["uses"][(previous, t.trigger)] >= t.max:
                        continue
                    state["uses"][(previous, t.trigger)] += 1
                    taken = t
                    break
                if taken is not None:
                    edges[(previous, taken.trigger)] += 1
                    free[(previous, taken.trigger)] += available
                else:
                    kind = "max-exceeded" if declared else "undeclared-transition"
                    state["dev"] = state["dev"] or (kind, previous, step)
            state["step"] = step
        state["n"] += 1
    found: Counter[tuple] = Counter()
    conforming = 0
    for state in states.values():
        step = state["step"]
        if step is not None and step not in ends:
            final = next((t for t in steps[step].transitions if t.to in ends), None)
            if final is not None:
                edges[(step, final.trigger)] += 1
                free[(step, final.trigger)] += is_free(state, step)
            else:
                state["dev"] = state["dev"] or ("not-finished", step, None)
        if state["dev"] is None:
            conforming += 1
        else:
            found[state["dev"]] += 1
    return conforming, found, edges, free


def random_log(process: Process, rng: random.Random, cases: int) -> list[Event]:
    names = {
        step_id: [n for n in (step.activity, step.title, step_id) if n]
        for step_id, step in process.steps.items()
    }
    every = [n for ns in names.values() for n in ns]
    rows: list[tuple[float, str, str]] = []
    for number in range(cases):
        case = f"c{number}"
        clock = rng.uniform(0, 1000)
        step = process.start
        for _ in range(rng.randint(1, 12)):
            roll = rng.random()
            if roll < 0.04:
                activity = rng.choice(["???", "coffee"])
            elif roll < 0.08:
                activity = rng.choice(every)
            else:
                activity = rng.choice(names[step])
            clock += rng.choice([0.0, rng.expovariate(1.0)])
            rows.append((clock, case, activity))
            transitions = process.steps[step].transitions
            if not transitions or rng.random() < 0.05:
                break
            step = rng.choice(transitions).to
    rows.sort(key=lambda r: r[0])
    return [
        Event(case, activity, t, None, None, i + 2) for i, (t, case, activity) in enumerate(rows)
    ]


class Batched:
    """A log that hands the replay batches of a chosen size."""

    def __init__(self, log: list[Event], size: int) -> None:
        self.log = log
        self.size = size
        self.path = "<random>"

    def batches(self) -> Iterator[Batch]:
        return batches_from_events(self.log, self.size)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.log)


class Labelled(Batched):
    """The same batches with case ids, activities and resources as :class:`Labels`.

    (What the CSV reader hands over for unquoted chunks: the replay looks up
    each distinct text once.) Every other batch stays plain lists, so that
    both kinds meet in one replay.
    """

    def batches(self) -> Iterator[Batch]:
        for number, batch in enumerate(batches_from_events(self.log, self.size)):
            if number % 2 == 0:
                batch.cases = labels(batch.cases)
                batch.activities = labels(batch.activities)
                if batch.resources is not None:
                    batch.resources = labels([r or "" for r in batch.resources])
            yield batch


def labels(texts: Sequence[str]) -> Labels:
    names = list(dict.fromkeys(texts))
    number = {name: i for i, name in enumerate(names)}
    return Labels(names, np.array([number[t] for t in texts], dtype=np.int64))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", [Batched, Labelled])
def test_vectorised_replay_agrees_with_the_reference(seed: int, kind: type[Batched]) -> None:
    process = load("replay.yaml")
    rng = random.Random(seed)
    log = random_log(process, rng, cases=rng.randint(1, 300))
    conforming, found, edges, free = reference(process, log)
    m = replay(process, kind(log, rng.choice([1, 2, 7, 64, 100_000])))
    assert m.conforming == conforming
    assert m.deviations == found
    assert {
        (m.index.step_ids[e.source], e.trigger): m.edge_counts[e.number] for e in m.index.edges
    } == {
        (m.index.step_ids[e.source], e.trigger): edges[(m.index.step_ids[e.source], e.trigger)]
        for e in m.index.edges
    }
    assert {
        (m.index.step_ids[e.source], e.trigger): m.free_counts[e.number] for e in m.index.edges
    } == {
        (m.index.step_ids[e.source], e.trigger): free[(m.index.step_ids[e.source], e.trigger)]
        for e in m.index.edges
    }
    for step_id, measure in m.steps.items():
        out = [e for e in m.index.edges if m.index.step_ids[e.source] == step_id]
        assert measure.departures == sum(edges[(step_id, e.trigger)] for e in out)
        assert measure.free_departures == sum(free[(step_id, e.trigger)] for e in out)
    assert m.events == len(log)
    assert m.cases == len({e.case for e in log})


@pytest.mark.parametrize("seed", range(4))
def test_a_csv_log_replays_like_its_events(tmp_path: Path, seed: int) -> None:
    """Numpy-split chunks, csv-module chunks (quotes) and plain events: the same measurements."""
    process = load("replay.yaml")
    rng = random.Random(seed)
    log = random_log(process, rng, cases=300)
    path = tmp_path / "log.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write("case,activity,start,end,resource\n")
        for number, event in enumerate(log):
            quote = number // 50 % 3 == 0  # a third of the chunks go through the csv module
            resource = rng.choice(["ann", "bob", ""])
            start = f"{event.end - rng.uniform(0, 5):.3f}" if rng.random() < 0.9 else ""
            row = [event.case, event.activity, start, f"{event.end:.3f}", resource]
            handle.write(",".join(f'"{f}"' if quote else f for f in row) + "\n")
    events = list(CsvLog(path))
    assert len(events) == len(log)
    from_csv = check_log(process, CsvLog(path, chunk_chars=2000)).to_dict()
    from_events = check_log(process, events).to_dict()
    for report in (from_csv, from_events):
        del report["log"]["path"], report["log"]["format"], report["log"]["columns"]
    assert from_csv["conformance"] == from_events["conformance"]
    assert from_csv["transitions"] == from_events["transitions"]
    assert {
        s: (v["visits"], v["service"]["n"], v["wait"]["n"]) for s, v in from_csv["steps"].items()
    } == {
        s: (v["visits"], v["service"]["n"], v["wait"]["n"]) for s, v in from_events["steps"].items()
    }
    assert from_csv["owners"] == from_events["owners"]
    assert from_csv["log"] == from_events["log"]
    assert from_csv["cycle_time"] == pytest.approx(from_events["cycle_time"])


# -- measured performance ------------------------------------------------------------


def test_branching_is_judged_with_a_wilson_interval() -> None:
    process = procflow.load(CUSTOMER_SERVICE)
    log: list[tuple[str, str, float]] = []
    for i in range(200):
        case = f"c{i}"
        path = ["intake", "triage", "resolve" if i % 2 else "escalate"]
        if i % 2 == 0:
            path.append("resolve")
        path += ["confirm"]
        log += [(case, step, i * 100 + k) for k, step in enumerate(path)]
    report = check_log(process, events(log))
    assert report.conformance == 1.0
    by_trigger = {(b.source, b.edge.trigger): b for b in report.branches}
    simple = by_trigger[("triage", "simple")]
    assert (simple.observed, simple.departures, simple.share) == (100, 200, 0.5)
    assert not simple.consistent  # declared 0.7 is outside the 99% interval around 0.5
    accepted = by_trigger[("confirm", "accepted")]
    assert accepted.observed == 200  # inferred at the end of every case
    assert not accepted.consistent
    assert report.rework_rate == 0.0
    assert report.expected_rework_rate == pytest.approx(0.15)  # what the routing implies
    assert report.to_dict()["rework_rate"]["expected"] == pytest.approx(0.15)


BOUNDED_REDO = """\
process: p
owners: {a: {capacity: 2}}
arrivals: {rate: 1/h}
start: one
steps:
  one: {owner: a, duration: exponential(10m), next: two}
  two:
    owner: a
    duration: exponential(10m)
    on:
      ok:   {to: done, p: 0.5}
      redo: {to: one, p: 0.5, feedback: true, max: 1}
  done: {end: true}
"""


def test_branch_shares_count_only_departures_with_every_transition_available() -> None:
    """After a case has used up ``redo`` (max 1), its ``ok`` was forced: not a draw of p."""
    process = procflow.load_text(BOUNDED_REDO, "p.yaml")
    log = events(
        [
            ("a", "one", 1), ("a", "two", 2), ("a", "one", 3), ("a", "two", 4),  # redo, then ok
            ("b", "one", 5), ("b", "two", 6),  # ok, inferred at the end, redo still available
            ("c", "one", 7), ("c", "two", 8), ("c", "one", 9),  # redo; stops at one
        ]
    )  # fmt: skip
    report = check_log(process, log)
    assert deviations(report) == [("not-finished", "one", None, 1)]  # c: 'one' has no way out
    m = report.measurements
    by_trigger = {b.edge.trigger: b for b in report.branches}
    ok, redo = by_trigger["ok"], by_trigger["redo"]
    assert (ok.taken, redo.taken, ok.all_departures) == (2, 2, 4)
    assert (ok.observed, redo.observed, ok.departures) == (1, 2, 3)
    assert ok.share == pytest.approx(1 / 3)
    assert ok.basis == redo.basis == "departures with every transition available"
    assert (m.steps["two"].departures, m.steps["two"].free_departures) == (4, 3)
    assert (m.steps["one"].departures, m.steps["one"].free_departures) == (4, 4)
    transitions = report.to_dict()["transitions"]
    assert {(t["trigger"], t["observed"], t["departures"], t["taken"], t["all_departures"])
            for t in transitions} == {("ok", 1, 3, 2, 4), ("redo", 2, 3, 2, 4)}  # fmt: skip
    # a step without a bounded transition counts every departure, and says so
    plain = check_log(procflow.load(CUSTOMER_SERVICE), events([("x", "intake", 1)]))
    assert {b.basis for b in plain.branches if b.source == "triage"} == {"all departures"}


def test_a_simulated_bounded_loop_shows_no_branch_deviation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulator's own log, checked against its process: declared p inside every interval.

    Counting the ``ok`` departures forced after ``redo`` was used up put ``ok`` at 2/3 and
    flagged both transitions as differing.
    """
    source = tmp_path / "pmax.yaml"
    source.write_text(BOUNDED_REDO)
    log = tmp_path / "pmax.csv"
    simulate = ["simulate", str(source), "--cases", "3000", "--runs", "1", "--seed", "7"]
    assert main([*simulate, "--log", str(log)]) == 0
    capsys.readouterr()
    assert main(["check-log", str(source), str(log), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["conformance"]["share"] == 1.0
    transitions = {t["trigger"]: t for t in data["transitions"]}
    assert set(transitions) == {"ok", "redo"}
    for t in transitions.values():
        assert t["consistent"], t
        assert t["basis"] == "departures with every transition available"
        assert t["departures"] == 3000  # every case leaves 'two' once with 'redo' available
        assert t["all_departures"] == 3000 + transitions["redo"]["taken"]
        assert t["ci99"][0] <= 0.5 <= t["ci99"][1]
        assert abs(t["share"] - 0.5) < 3 * math.sqrt(0.25 / 3000)
    assert main(["check-log", str(source), str(log)]) == 0
    out = capsys.readouterr().out
    assert "differs" not in out
    assert "only departures with every transition available" in out


def test_declared_durations_contradicted_by_service_times() -> None:
    sample = Sample()
    sample.extend(np.full(100, 600.0) + np.linspace(-30, 30, 100))
    assert judge_duration(600.0, sample, "service")[0] == "consistent"
    assert judge_duration(360.0, sample, "service")[0] == "contradicted"
    assert judge_duration(900.0, sample, "service")[0] == "contradicted"
    # elapsed time includes waiting: only a declared mean above it is a contradiction
    assert judge_duration(360.0, sample, "elapsed")[0] == "consistent"
    assert judge_duration(900.0, sample, "elapsed")[0] == "contradicted"
    small = Sample()
    small.extend(np.full(5, 10.0))
    assert judge_duration(600.0, small, "service")[0] == "too-few"


def test_owner_workload_and_bottleneck_with_service_times() -> None:
    process = procflow.load(CUSTOMER_SERVICE_247)  # busy time is elapsed time around the clock
    rows: list[tuple[str, str, float, float]] = []
    for i in range(50):
        t = i * 3600.0
        rows += [
            (f"c{i}", "intake", t, t + 600),
            (f"c{i}", "triage", t + 600, t + 900),
            (f"c{i}", "resolve", t + 900, t + 1800),
            (f"c{i}", "confirm", t + 1800, t + 3000),
        ]
    report = check_log(process, events(rows))
    loads = {o.owner: o for o in report.owners}
    agent = loads["support-agent"]
    assert agent.events == 150
    assert agent.busy == pytest.approx(50 * (600 + 300 + 900))
    period = 49 * 3600 + 3000
    assert agent.utilization == pytest.approx(50 * 1800 / period / 5)
    assert loads["customer"].external
    assert loads["customer"].utilization is None
    assert report.bottleneck_owner == "support-agent"
    assert report.bottleneck_step == "confirm"  # where most time goes


def test_report_json_shape() -> None:
    process = load("replay.yaml")
    report = check_log(process, events([("a", "s1", 1), ("a", "s3", 2), ("b", "zzz", 3)]))
    data = report.to_dict()
    assert data["version"] == 1
    assert data["process"] == "replay-test"
    assert set(data) >= {
        "log",
        "conformance",
        "unknown_activities",
        "steps",
        "owners",
        "transitions",
        "durations",
        "rework_rate",
        "cycle_time",
        "arrivals",
        "bottleneck",
    }
    assert data["conformance"]["cases"] == 2
    assert data["conformance"]["conforming"] == 1
    assert data["conformance"]["deviations"][0]["kind"] == "unknown-activity"
    assert data["unknown_activities"] == {"zzz": 1}
    json.dumps(data)  # serialisable: no NaN objects, no numpy types


def test_report_from_measurements_is_reusable() -> None:
    process = load("replay.yaml")
    m = replay(process, events([("a", "s1", 1)]))
    assert report_from(m).cases == 1


# -- the command line --------------------------------------------------------------------


def write_log(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["case,activity,timestamp", *rows]) + "\n")
    return path


def test_cli_text_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(tmp_path / "log.csv", ["a,s1,1", "a,s3,2", "b,s1,3", "b,zzz,4"])
    process = str(FIXTURES / "replay.yaml")
    assert main(["check-log", process, str(log)]) == 0
    out = capsys.readouterr().out
    assert "Conformance  1 of 2 cases (50%) follow the process" in out
    assert "activity 'zzz' matches no step after 's1'" in out
    assert "unknown activities: 'zzz' (1)" in out
    assert "Steps" in out
    assert "Owners (declared) and the resources the log shows" in out
    assert "\x1b[" not in out  # plain when piped
    assert main(["check-log", process, str(log), "--min-conformance", "0.5"]) == 0
    assert main(["check-log", process, str(log), "--min-conformance", "60%"]) == 1
    err = capsys.readouterr().err
    assert "conformance 50% is below --min-conformance 60%" in err
    assert main(["check-log", process, str(log), "--min-conformance", "150%"]) == 2


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(tmp_path / "log.csv", ["a,s1,1", "a,s3,2"])
    assert main(["check-log", str(FIXTURES / "replay.yaml"), str(log), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["conformance"]["share"] == 1.0
    assert data["file"].endswith("replay.yaml")
    assert data["log"]["columns"]["activity"] == "activity"


def test_cli_column_flags_and_sort(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "odd.csv"
    log.write_text("ticket;what;closed\nx;s3;5\nx;s1;1\n")
    process = str(FIXTURES / "replay.yaml")
    args = ["check-log", process, str(log), "--case-column", "ticket",
            "--activity-column", "what", "--timestamp-column", "closed"]  # fmt: skip
    assert main(args) == 2
    assert "events out of order" in capsys.readouterr().err
    assert main([*args, "--sort", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["conformance"]["conforming"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("case,activity,timestamp\nc,s1,yesterday\n", "cannot read timestamp 'yesterday'"),
        ("case,what,timestamp\nc,s1,1\n", "no activity column"),
        ("case,activity,timestamp\nc,s1,5\nc,Second,1\n", "events out of order"),
    ],
)
def test_cli_bad_logs_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(content)
    assert main(["check-log", str(FIXTURES / "replay.yaml"), str(log)]) == 2
    err = capsys.readouterr().err
    assert f"{log}:" in err
    assert message in err


def test_cli_bad_log_has_no_traceback(tmp_path: Path) -> None:
    log = tmp_path / "bad.csv"
    log.write_text("case,activity,timestamp\nc,s1,5\nc,s1,oops\n")
    result = subprocess.run(
        [sys.executable, "-m", "procflow", "check-log", str(FIXTURES / "replay.yaml"), str(log)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {log}:3: column 'timestamp': cannot read timestamp")


def test_cli_invalid_process_and_missing_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("process: x\nsteps: 3\n")
    log = write_log(tmp_path / "log.csv", ["a,s1,1"])
    assert main(["check-log", str(bad), str(log)]) == 2
    assert "PF002" in capsys.readouterr().err
    assert main(["check-log", str(FIXTURES / "replay.yaml"), str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


# -- real, public logs -----------------------------------------------------------------

needs_data = pytest.mark.skipif(not RECEIPT_LOG.exists(), reason="../shared/data is not available")


@needs_data
def test_receipt_process_on_the_real_log() -> None:
    report = check_log(procflow.load(RECEIPT), procflow.read_log(RECEIPT_LOG))
    assert (report.measurements.events, report.cases) == (8577, 1434)
    assert report.timing == "complete-only"
    # 95.1%: the two chains are a fork, so any interleaving of their events conforms
    assert report.conforming == 1364
    top = report.deviations[0]
    assert (top.kind, top.source, top.target, top.cases) == (
        "incomplete-branch", "stop-advice", "receipt-done", 13,
    )  # fmt: skip
    assert report.measurements.unknown_events == 0
    assert report.bottleneck_step == "stop-advice"
    assert report.step_time_shares()["stop-advice"] == pytest.approx(0.441, abs=0.001)
    assert report.rework_rate == pytest.approx(91 / 1434)
    assert all(b.consistent for b in report.branches if b.departures >= 100)
    assert not [d for d in report.durations if d.verdict == "contradicted"]


@needs_data
def test_receipt_modelled_one_chain_after_the_other_conforms_far_less() -> None:
    """The model before its chains were a fork (a frozen copy): the vectorized replay."""
    sequential = procflow.load(FIXTURES / "receipt-sequential.yaml")
    report = check_log(sequential, procflow.read_log(RECEIPT_LOG))
    assert report.conforming == 883  # 61.6%: the log runs two sub-processes in either order
    top = report.deviations[0]
    assert (top.kind, top.source, top.target, top.cases) == (
        "undeclared-transition", "confirmation", "stop-advice", 239,
    )  # fmt: skip
    assert report.step_time_shares()["stop-advice"] == pytest.approx(0.394, abs=0.001)
    assert report.rework_rate == pytest.approx(82 / 1434)


@needs_data
def test_receipt_process_lints_clean() -> None:
    lint = procflow.lint(procflow.load(RECEIPT))
    assert [f.code for f in lint if f.severity >= procflow.Severity.WARNING] == []


@needs_data
def test_running_example_xes() -> None:
    report = check_log(
        load("running-example.yaml"), procflow.read_log(DATA / "running-example.xes")
    )
    assert (report.measurements.events, report.cases, report.conforming) == (42, 6, 3)
    assert deviations(report) == [
        ("undeclared-transition", "register", "check-ticket", 2),
        ("undeclared-transition", "reinitiate", "check-ticket", 1),
    ]
    assert report.rework_rate == pytest.approx(2 / 6)
    loads = {o.owner: o for o in report.owners}
    assert loads["deciders"].top[0] == ("Sara", 12)  # decide 9 times, reinitiate 3 times


@needs_data
def test_reviewing_xes() -> None:
    report = check_log(load("reviewing.yaml"), procflow.read_log(DATA / "reviewing.xes"))
    assert (report.measurements.events, report.cases) == (2278, 100)
    assert report.timing == "start-end"
    assert report.conforming == 16  # the three reviews run in parallel, in any order
    assert report.rework_rate == pytest.approx(0.93)
    invites = [
        e for e in procflow.read_log(DATA / "reviewing.xes") if e.activity == "invite reviewers"
    ]
    expected = sum(e.end - (e.start or e.end) for e in invites) / len(invites)
    assert report.measurements.steps["invite"].service.mean == pytest.approx(expected)
    assert report.measurements.steps["invite"].service.n == 100


# -- bounded memory ----------------------------------------------------------------------------

MEMORY_PROBE = """
import resource, sys
from procflow.loader import load
from procflow.eventlog.csvlog import CsvLog
from procflow.eventlog.conformance import check_log
# small chunks: both logs stream through many, so what is compared is growth, not one chunk
report = check_log(load(sys.argv[1]), CsvLog(sys.argv[2], chunk_chars=1 << 14))
assert report.measurements.events == int(sys.argv[3]), report.measurements.events
try:  # this process's own peak: ru_maxrss also holds the peak of pytest, which started it
    with open("/proc/self/status") as status:
        print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _looping_log(path: Path, cases: int, rounds: int) -> int:
    """A log of ``cases`` cases interleaved, each going round the loop ``rounds`` times."""
    rows = ["case,step,start,end"]
    t = 0
    for _ in range(rounds):
        for case in range(cases):
            rows.append(f"c{case},draft,{t},{t + 1}")
            rows.append(f"c{case},review,{t + 1},{t + 2}")
        t += 3
    path.write_text("\n".join(rows) + "\n")
    return len(rows) - 1


def test_memory_follows_cases_not_events(tmp_path: Path) -> None:
    process = tmp_path / "loop.yaml"
    process.write_text(
        "process: loop\nowners: {clerk: {capacity: 3}}\nstart: draft\nsteps:\n"
        "  draft: {owner: clerk, duration: 1s, next: review}\n"
        "  review: {owner: clerk, duration: 1s,\n"
        "           on: {ok: done, again: {to: draft, feedback: true}}}\n"
        "  done: {end: true}\n"
    )
    peaks = []
    for rounds in (5, 100):
        log = tmp_path / f"loop-{rounds}.csv"
        count = _looping_log(log, 1000, rounds)
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, str(process), str(log), str(count)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        peaks.append(int(out.stdout.strip()) / 1024)
    small, large = peaks
    # 20x the events (10,000 -> 200,000 rows, 0.2 -> 4.5 MB) in the same 1,000 cases
    assert large - small < 12, f"peak RSS grew from {small:.0f} MB to {large:.0f} MB"


def test_a_process_lint_would_refuse_can_still_be_checked(tmp_path: Path) -> None:
    process = procflow.load_text(
        "process: unk\nstart: a\nsteps:\n  a: {on: {x: b, y: nowhere}}\n  b: {end: true}\n",
        "unk.yaml",
    )
    report = check_log(process, events([("c", "a", 1), ("d", "a", 2), ("d", "b", 3)]))
    assert (report.cases, report.conforming) == (2, 2)


def test_xes_events_out_of_order_name_the_trace_and_event(tmp_path: Path) -> None:
    log = tmp_path / "ooo.xes"
    log.write_text(
        '<log><trace><string key="concept:name" value="T1"/>'
        '<event><string key="concept:name" value="s3"/>'
        '<date key="time:timestamp" value="2020-01-02T00:00:00Z"/></event>'
        '<event><string key="concept:name" value="s1"/>'
        '<date key="time:timestamp" value="2020-01-01T00:00:00Z"/></event></trace></log>'
    )
    with pytest.raises(procflow.EventLogError) as info:
        check_log(load("replay.yaml"), procflow.read_log(log))
    assert info.value.row is None
    assert "event 2 of case 'T1' ('s1') ends at 2020-01-01" in str(info.value)
    assert "(event 1 of the trace)" in str(info.value)
    report = check_log(load("replay.yaml"), procflow.read_log(log, sort=True))
    assert report.conforming == 1


def test_json_never_carries_nan() -> None:
    from procflow.cli.console import finite

    data = {"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": (2, -float("inf"))}, "e": "x"}
    assert finite(data) == {"a": None, "b": [1.0, None], "c": {"d": [2, None]}, "e": "x"}
    json.dumps(finite(data), allow_nan=False)
