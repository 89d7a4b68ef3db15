"""procflow discover: control flow, roles, timing and fits against hand-worked logs.

The round trip (simulate, then discover back) is in test_discover_roundtrip.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import procflow
from helpers import ROOT, run, write
from procflow.discovery.discover import discover
from procflow.discovery.fit import empirical_bins, fit_duration
from procflow.discovery.flow import END, discover_flow
from procflow.discovery.hours import hours_text, week_mask, working_seconds
from procflow.discovery.roles import discover_roles
from procflow.discovery.table import read_table
from procflow.discovery.timing import estimate_timing
from procflow.eventlog.events import Event

RECEIPT = ROOT / "examples" / "logs" / "receipt.csv"
MONDAY = 1_799_020_800.0  # 2027-01-04T00:00:00Z, a Monday
H = 3600.0


def trace(case: str, *steps: tuple[str, float, str]) -> list[Event]:
    return [Event(case, activity, end, resource=who) for activity, end, who in steps]


def looping_log() -> list[Event]:
    """20 cases a -> b -> c; 10 of them go back from b to a once; one goes a -> d -> c."""
    events: list[Event] = []
    for i in range(20):
        t = MONDAY + 9 * H + i * 600.0
        steps = [("a", t, "ann"), ("b", t + 60, "bob")]
        if i < 10:
            steps += [("a", t + 120, "ann"), ("b", t + 180, "bob")]
        steps.append(("c", t + 240, "bob"))
        events += trace(f"c{i}", *steps)
    events += trace("odd", ("a", MONDAY + 20 * H, "ann"), ("d", MONDAY + 21 * H, "ann"))
    events += trace("odd", ("c", MONDAY + 22 * H, "bob"))
    return events


def test_flow_keeps_frequent_edges_and_marks_the_loop() -> None:
    table = read_table(looping_log())
    names = table.activities
    flow = discover_flow(table, min_share=0.05)
    a, b, c = (names.index(x) for x in "abc")
    edges = {(e.source, e.target): e for es in flow.edges.values() for e in es}
    assert set(edges) == {(a, b), (b, a), (b, c), (c, END)}
    assert edges[(b, a)].feedback
    assert edges[(b, a)].max == 1
    assert edges[(b, c)].count == 20
    assert edges[(b, a)].count == 10
    assert not edges[(a, b)].feedback
    assert names[flow.activities[0]] == "a"
    assert [names[x] for x in flow.dropped_activities] == ["d"]
    assert flow.dropped_edges == 1
    assert flow.dropped_pairs == 1


def test_min_share_zero_keeps_every_edge() -> None:
    flow = discover_flow(read_table(looping_log()), min_share=0.0)
    assert len(flow.activities) == 4


def test_discovered_process_lints_clean_and_names_activities() -> None:
    result = procflow.discover(looping_log())
    steps = result.process.steps
    assert steps["a"].activity == "a"
    assert steps["b"].activity == "b"
    assert [f for f in result.findings if str(f.severity) == "error"] == []
    loop = steps["b"].on["a"]
    assert loop.feedback
    assert loop.max == 1
    assert loop.p == pytest.approx(1 / 3, abs=0.01)


def test_roles_group_resources_by_activities_and_count_who_was_on_duty() -> None:
    # ann and amy do x; bob does y; amy once did y too: 1 of her 16 events (over 5%),
    # so she belongs to both roles
    events: list[Event] = []
    for day in range(5):
        base = MONDAY + day * 24 * H + 9 * H
        for k in range(6):
            t = base + k * 900.0
            events += trace(
                f"d{day}k{k}", ("x", t, "ann" if k % 2 else "amy"), ("y", t + 60, "bob")
            )
    events += trace("extra", ("x", MONDAY + 100 * H, "ann"), ("y", MONDAY + 100 * H + 60, "amy"))
    table = read_table(events)
    flow = discover_flow(table, 0.05)
    roles = discover_roles(table, flow.activities)
    by_activity = {table.activities[r.activities[0]]: r for r in roles}
    x, y = by_activity["x"], by_activity["y"]
    assert len(roles) == 2
    assert sorted(table.resources[m] for m in x.members) == ["amy", "ann"]
    assert sorted(table.resources[m] for m in y.members) == ["amy", "bob"]
    assert x.capacity == 2
    assert y.capacity == 1


def test_completion_only_timing_from_resource_availability() -> None:
    # case k: "in" by ann at 09:00; "work" by bob completes at 10:00 -- bob was busy until
    # 09:30 with case j's "work" (done 09:10-09:30? no start: availability says 09:30)
    events = trace("j", ("in", MONDAY + 9 * H - 600, "ann"), ("work", MONDAY + 9.5 * H, "bob"))
    events += trace("k", ("in", MONDAY + 9 * H, "ann"), ("work", MONDAY + 10 * H, "bob"))
    table = read_table(events)
    masks = np.ones((2, 168), dtype=bool)
    role_of = np.zeros(len(table.activities), dtype=np.int64)
    timing = estimate_timing(table, masks, role_of, calendars=True)
    rows = {
        (table.cases[c], table.activities[a]): i
        for i, (c, a) in enumerate(zip(table.case, table.activity, strict=False))
    }
    k_work = rows[("k", "work")]
    j_work = rows[("j", "work")]
    assert timing.processing[k_work] == pytest.approx(0.5 * H)  # bob free from 09:30
    assert timing.waiting[k_work] == pytest.approx(0.5 * H)  # enabled at 09:00
    # bob's j-work (09:00-09:30 estimated? enabled 08:50, bob free: 40 min) fills the wait
    assert timing.processing[j_work] == pytest.approx(40 * 60)
    assert timing.contention[k_work] == pytest.approx(0.5 * H)
    assert timing.extraneous[k_work] == pytest.approx(0.0)
    assert timing.basis == "resource availability"


def test_waiting_with_an_idle_resource_is_extraneous() -> None:
    # bob finishes "close" 3 days after "resolve" and did nothing in between
    events = trace("t", ("resolve", MONDAY + 9 * H, "ann"), ("close", MONDAY + 81 * H, "bob"))
    events += trace("u", ("resolve", MONDAY + 9 * H, "ann"), ("close", MONDAY + 81 * H + 60, "bob"))
    table = read_table(events)
    masks = np.ones((1, 168), dtype=bool)
    timing = estimate_timing(
        table, masks, np.zeros(len(table.activities), dtype=np.int64), calendars=True
    )
    second = int(np.flatnonzero((table.case == table.cases.index("u")) & (table.activity == 1))[0])
    assert timing.processing[second] == pytest.approx(60.0)  # after bob's previous completion
    assert timing.contention[second] == pytest.approx(0.0)  # t's close had no known duration
    assert timing.extraneous[second] == pytest.approx(72 * H)


def test_processing_after_a_wait_joins_the_wait_where_cases_date_enough_visits() -> None:
    # 40 cases "close" 2 minutes after "resolve": the case dates the start. 10 more close
    # 3 days later, bob having completed other work 30 minutes before: only bob dates those
    # starts, and the 30 minutes join the wait
    events: list[Event] = []
    for i in range(40):
        t = MONDAY + 9 * H + i * 600.0
        events += trace(f"a{i}", ("resolve", t, "ann"), ("close", t + 120, "bob"))
    for i in range(10):
        t = MONDAY + 30 * H + i * H  # the next day: bob is idle when the wait begins
        events += trace(f"x{i}", ("other", t + 72 * H - 1800, "bob"))
        events += trace(f"w{i}", ("resolve", t, "ann"), ("close", t + 72 * H, "bob"))
    table = read_table(events)
    masks = np.ones((1, 168), dtype=bool)
    timing = estimate_timing(
        table, masks, np.zeros(len(table.activities), dtype=np.int64), calendars=True
    )
    close = table.activity == table.activities.index("close")
    waited = close & np.isin(table.case, [table.cases.index(f"w{i}") for i in range(10)])
    assert np.all(np.isnan(timing.processing[waited]))
    assert timing.processing[close & ~waited] == pytest.approx(120.0)
    assert timing.extraneous[waited] == pytest.approx(72 * H)


def test_working_seconds_skip_closed_hours() -> None:
    office = np.zeros(168, dtype=bool)
    for day in range(5):
        office[day * 24 + 9 : day * 24 + 17] = True
    friday_4pm = MONDAY + 4 * 24 * H + 16 * H
    monday_10am = MONDAY + 7 * 24 * H + 10 * H
    seconds = working_seconds(office, np.array([friday_4pm]), np.array([monday_10am]))
    assert seconds[0] == pytest.approx(2 * H)
    assert hours_text(office) == {"mon-fri": "09:00-17:00"}


def test_week_mask_keeps_working_hours_and_closes_short_breaks() -> None:
    counts = np.zeros(168)
    counts[[9, 10, 12, 13, 14]] = 100  # Monday, lunch hour 11 quiet
    counts[3] = 1  # one night event is noise
    mask = week_mask(counts)
    assert np.flatnonzero(mask).tolist() == [9, 10, 11, 12, 13, 14]


def test_zeros_and_two_modes_fit_an_empirical_that_keeps_the_mean() -> None:
    rng = np.random.default_rng(1)
    data = np.concatenate([np.zeros(400), rng.exponential(60, 300), rng.normal(86400, 600, 300)])
    fit = fit_duration(data)
    assert fit is not None
    assert fit.family == "empirical"
    assert fit.zero_share == pytest.approx(0.4, abs=0.005)
    assert fit.distribution.mean == pytest.approx(data.mean(), rel=0.01)
    assert fit.ks < 0.06
    assert "40% zeros" in fit.note


def test_a_clean_family_is_fitted_and_the_only_family_is_said_so() -> None:
    rng = np.random.default_rng(2)
    fit = fit_duration(rng.gamma(4.0, 100.0, 2000))
    assert fit is not None
    assert fit.family in {"gamma", "lognormal"}
    assert fit.ks < 0.05
    assert "lowest AIC of" in fit.note
    with_zero = fit_duration(np.concatenate([[0.0], rng.exponential(100.0, 2000)]))
    assert with_zero is not None
    assert with_zero.family == "exponential"
    assert "the only eligible family" in with_zero.note


def test_empirical_bins_are_bin_means() -> None:
    dist = empirical_bins(np.arange(1.0, 49.0), bins=24)
    assert dist.values[:2] == (1.5, 3.5)
    assert len(dist.values) == 24


def test_receipt_log_discovers_a_process_that_lints_without_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "receipt.yaml"
    code, stdout, _err = run(capsys, "discover", RECEIPT, "-o", out, "--format", "json")
    assert code == 0
    report = json.loads(stdout)
    assert report["version"] == 1
    assert report["cases"] == 1434
    assert report["events"] == 8577
    assert report["timing"] == "resource availability"
    assert "error" not in json.dumps(report["lint"]).lower()
    code, _out, _err = run(capsys, "lint", out, "--fail-on", "error")
    assert code == 0
    steps = {s["activity"]: s for s in report["steps"]}
    assert steps["T02 Check confirmation of receipt"]["delay"] is not None
    # pools are people on duty at once, far below the 48 people the log names
    assert sum(r["capacity"] for r in report["roles"]) < 20
    assert report["on_duty_total"] <= 10


def test_text_report_and_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "discover", RECEIPT, "--min-share", "2%")
    assert code == 0
    assert out.startswith("# Discovered by `procflow discover`")
    assert "Steps" in err
    assert "Roles" in err
    assert "lint:" in err


def test_bad_input_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = write(tmp_path, "empty.csv", "case,activity,end\n")
    code, _out, err = run(capsys, "discover", empty)
    assert code == 2
    assert "no events" in err
    code, _out, err = run(capsys, "discover", RECEIPT, "--min-share", "2")
    assert code == 2
    assert "--min-share" in err


def test_the_api_writes_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out" / "p.yaml"
    result = procflow.discover(str(RECEIPT), output=target, process_id="permits")
    assert target.read_text(encoding="utf-8") == result.text
    assert result.process.id == "permits"
    with pytest.raises(procflow.ConfigError):
        discover(looping_log(), min_share=1.5)


def test_fidelity_observes_the_simulation_as_the_real_log_records_it() -> None:
    from procflow.distance.fidelity import SimulatedProfile

    both = SimulatedProfile(1000.0, frozenset())
    ends = SimulatedProfile(1000.0, frozenset(), ends_only=True)
    for sink in (both, ends):
        sink.write_simulated(1, "a", "x", 0.0, 600.0)
        sink.write_simulated(1, "b", "x", 600.0, 900.0)
    assert both.profile.finish().cycle_times.tolist() == [900.0]
    assert ends.profile.finish().cycle_times.tolist() == [300.0]


def test_an_edge_that_is_a_main_way_into_a_rare_activity_is_kept() -> None:
    # 100 cases a -> b -> c; 3 of them go a -> r -> c, and 1 goes a -> n -> c (noise)
    events: list[Event] = []
    for i in range(100):
        t = MONDAY + 9 * H + i * 600.0
        middle = "r" if i < 3 else "n" if i == 3 else "b"
        events += trace(f"c{i}", ("a", t, "ann"), (middle, t + 60, "bob"), ("c", t + 120, "bob"))
    table = read_table(events)
    names = table.activities
    flow = discover_flow(table, min_share=0.05)
    a, r, n = (names.index(x) for x in "arn")
    kept = {(e.source, e.target) for es in flow.edges.values() for e in es}
    # a -> r is 3% of a's departures but every way into r; a -> n was seen once
    assert (a, r) in kept
    assert r in flow.activities
    assert n not in flow.activities
    assert (a, n) not in kept
