"""Process files a user or an attacker could write, at the edges of the contract (SPEC 1, 7).

Each test is one defect found by a sweep of odd but valid (or invalid) files through every
command: no traceback, lint and the other commands agree, numbers stay finite.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helpers import run, write
from procflow.analysis.forks import extreme_moments, fit
from procflow.loader import load_text

RACE_WIDE = """\
process: wide
owners:
  a: {capacity: 2}
arrivals: {rate: 1/h}
start: s
steps:
  s: {owner: a, duration: 5m, parallel: [x, y]}
  x: {owner: a, duration: "lognormal(1s, 1e6h)", next: j}
  y: {owner: a, duration: 10m, next: j}
  j: {join: first, owner: a, duration: 1m, next: e}
  e: {end: true}
"""


def test_a_race_with_a_huge_spread_branch_is_analyzed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lognormal(1s, 1e6h) has an scv of 1e19: the two-moment fit's slow rate rounded to 0."""
    _cdf, bends = fit(1.0, (3.6e9) ** 2)
    assert all(math.isfinite(b) and b >= 0.0 for b in bends)
    mean, variance = extreme_moments([(1.0, (3.6e9) ** 2), (600.0, 0.0)], largest=False)
    assert math.isfinite(mean)
    assert 0.0 <= mean <= 600.0
    assert math.isfinite(variance)
    code, _out, err = run(capsys, "analyze", write(tmp_path, "wide.yaml", RACE_WIDE))
    assert code == 0, err
    assert "bug in procflow" not in err


TINY_MEAN = """\
process: tiny-mean
owners:
  a: {capacity: 3}
arrivals: {rate: 10/h}
start: s
steps:
  s:
    owner: a
    duration: "DIST"
    next: e
  e: {end: true}
"""


@pytest.mark.parametrize("dist", ["lognormal(1e-300s, 1s)", "gamma(1e-300s, 1s)"])
def test_an_sd_beyond_floating_point_next_to_the_mean_is_a_schema_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dist: str
) -> None:
    """(sd/mean)^2 overflowed: lint passed, analyze blamed the load, simulate crashed."""
    path = write(tmp_path, "tiny.yaml", TINY_MEAN.replace("DIST", dist))
    code, out, _err = run(capsys, "lint", path)
    assert code == 1
    column = 16 + dist.index(",") + 2  # the sd argument inside the text
    assert f"tiny.yaml:9:{column}: PF002" in out
    assert "the sd is too large next to the mean" in out
    for args in (("analyze",), ("simulate", "--cases", "50", "--runs", "2")):
        code, _out, err = run(capsys, args[0], path, *args[1:])
        assert code == 2
        assert f"tiny.yaml:9:{column}:" in err
        assert "bug in procflow" not in err


def test_a_tiny_mean_with_a_small_sd_is_analyzed() -> None:
    """mean * mean underflowed to 0 in the squared coefficient of variation."""
    from procflow.analysis import analyze

    process = load_text(TINY_MEAN.replace("DIST", "lognormal(1e-200s, 1e-60s)"), "t.yaml")
    duration = process.steps["s"].duration
    assert duration is not None
    assert math.isfinite(duration.scv)
    assert analyze(process).cycle_time.expected >= 0.0


OFFICE_OVERLOAD = """\
process: needs
calendars:
  office: {hours: {mon-fri: "09:00-17:00"}}
owners:
  a: {capacity: 3, calendar: office}
arrivals: {rate: RATE, calendar: office}
start: s
steps:
  s: {owner: a, duration: 5m, next: e}
  e: {end: true}
goals:
  - {id: u, metric: "utilization:a", target: "<= 50%", deadline: 2030-01-01}
"""


def test_the_capacity_an_owner_with_a_calendar_needs_counts_its_hours_on_duty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """analyze said "OVERLOADED: needs 3" for 3 people at 397%: the weekly load, not on duty."""
    from procflow.analysis import analyze

    path = write(tmp_path, "needs.yaml", OFFICE_OVERLOAD.replace("RATE", "143/h"))
    owner = analyze(load_text(path.read_text(), str(path))).owners["a"]
    assert owner.utilization is not None
    assert owner.utilization > 3.9  # 143/h x 5m = 11.9 people while the office is open
    assert owner.required_capacity == 12
    code, out, _err = run(capsys, "analyze", path)
    assert code == 0
    assert "OVERLOADED: needs 12" in out
    code, out, _err = run(capsys, "lint", path)
    assert "it needs a capacity of at least 12" in out


def test_a_utilization_goal_of_an_owner_with_a_calendar_names_the_capacity_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """30/h x 5m = 2.5 people while open: 5 keep it at 50%, not the 2 the weekly load gave."""
    path = write(tmp_path, "needs.yaml", OFFICE_OVERLOAD.replace("RATE", "30/h"))
    _code, out, _err = run(capsys, "analyze", path)
    assert "5 would be needed for <= 50%" in out


REWORK_AFTER_A_BRANCH = """\
process: fj-loop
owners: {a: {capacity: 2}, b: {capacity: 1}}
arrivals: {rate: 2/h}
start: s
steps:
  s: {owner: a, duration: 5m, parallel: [x, y]}
  x: {owner: a, duration: 5m, next: j}
  y:
    owner: b
    duration: 5m
    on:
      ok: {to: j, p: 0.5}
      again: {to: y, p: 0.5, feedback: true}
  j:
    join: all
    owner: a
    duration: 1m
    on:
      done: {to: e, p: 0.7}
      redo: {to: s, p: 0.3, feedback: true, max: 3}
  e: {end: true}
"""


def test_rework_in_one_branch_and_after_the_join_is_counted_once_per_case() -> None:
    """A case is clean when y passes first time (0.5) and j lets it go (0.7): 65% rework.

    The per-token chain counted the x token's clean arrival at the join as a clean case and
    gave 72.5%; simulation gives 64.9%.
    """
    from procflow.analysis import analyze

    rate = analyze(load_text(REWORK_AFTER_A_BRANCH, "fj.yaml")).rework_rate
    assert rate == pytest.approx(1 - 0.5 * 0.7)


STEP_COSTS = """\
process: cps
owners:
  a: {capacity: 2, cost_per_step: 5}
  ext: {external: true, cost_per_step: 2}
arrivals: {rate: 3/h}
start: s
steps:
  s:
    owner: a
    duration: 10m
    on:
      ok: {to: t, p: 0.8}
      back: {to: s, p: 0.2, feedback: true}
  t: {owner: ext, duration: 1h, next: e}
  e: {end: true}
goals:
  - {id: c, metric: cost_per_case, target: "<= 5", deadline: 2030-01-01}
"""


def test_analyze_counts_cost_per_step_as_simulate_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """5 for each of 1.25 visits of s, 2 for t: 8.25 a case. analyze said '-' (no cost at all),
    and 0 beside a cost_per_hour of 0, while simulate measured 8.2."""
    from procflow.analysis import analyze

    analysis = analyze(load_text(STEP_COSTS, "cps.yaml"))
    assert analysis.busy_cost_per_case == pytest.approx(8.25)
    assert analysis.cost_per_case == pytest.approx(8.25)
    hourly = STEP_COSTS.replace("cost_per_step: 5}", "cost_per_step: 5, cost_per_hour: 0}")
    assert analyze(load_text(hourly, "cps.yaml")).cost_per_case == pytest.approx(8.25)
    _code, out, _err = run(capsys, "lint", write(tmp_path, "cps.yaml", STEP_COSTS))
    assert "give 8.25 per case" in out


SCOPED_GOALS = """\
process: where
owners:
  a: {capacity: 2}
arrivals: {rate: 3/h}
attributes:
  kind: {x: 0.5, y: 50%}
start: s
steps:
  s: {owner: a, duration: 10m, next: e}
  e: {end: true}
goals:
  - {id: c99, metric: cycle_time, stat: p99, target: "< 1d", where: "kind == 'x'"}
  - {id: w50, metric: wait_time, stat: p50, target: "<= 1h", where: "kind != 'y'"}
  - {id: w95, metric: wait_time, stat: p95, target: "<= 1h", where: "kind != 'y'"}
  - {id: w99, metric: wait_time, stat: p99, target: "<= 1h", where: "kind != 'y'"}
"""


def test_a_scoped_goal_is_measured_at_every_stat_a_goal_takes() -> None:
    """p99 of cycle time and p50/p95/p99 of waiting on a `where:` scope were 'cannot measure'."""
    from procflow.sim import simulate

    result = simulate(load_text(SCOPED_GOALS, "where.yaml"), cases=400, runs=2, seed=1)
    for goal in result.goals:
        assert goal.value is not None, goal
        assert goal.met is True, goal


def test_diff_does_not_report_a_by_duration_whose_attribute_shares_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the attribute's shares changed: the `by:` duration was listed as changed, with the
    same text on both sides."""
    old = """\
process: shares
owners: {a: {capacity: 2}}
arrivals: {rate: 1/h}
attributes:
  kind: {x: 10%, y: 90%}
start: s
steps:
  s:
    owner: a
    duration: {by: kind, x: exponential(2m), else: 5m}
    next: e
  e: {end: true}
"""
    new = old.replace("{x: 10%, y: 90%}", "{x: 50%, y: 50%}")
    code, out, _err = run(
        capsys, "diff", write(tmp_path, "old.yaml", old), write(tmp_path, "new.yaml", new)
    )
    assert code == 0
    assert "1 structural change" in out
    assert "attribute 'kind'" in out
    assert "duration of step" not in out


def test_where_on_a_metric_it_cannot_scope_is_a_schema_error_at_the_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lint passed `where:` on wip and step_time; simulate then said 'cannot measure'."""
    text = SCOPED_GOALS.replace(
        "goals:\n",
        'goals:\n  - {id: few, metric: wip, target: "<= 3", where: "kind == \'x\'"}\n',
    )
    path = write(tmp_path, "where.yaml", text)
    code, out, _err = run(capsys, "lint", path)
    assert code == 1
    assert "where.yaml:12:51: PF002" in out
    assert "'where' scopes the per-case metrics" in out
    code, _out, err = run(capsys, "simulate", path, "--cases", "50", "--runs", "2")
    assert code == 2
    assert "where.yaml:12:51:" in err


@pytest.mark.parametrize(
    ("country", "message"),
    [
        ("DE-XX", "country 'DE' has no subdivision 'XX': use one of BB, BE, BW, BY"),
        ("gb", "no public holidays known for country 'gb': did you mean 'GB'?"),
        ("XX", "no public holidays known for country 'XX': use an ISO 3166 code"),
    ],
)
def test_an_unknown_holiday_country_names_what_is_wrong_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], country: str, message: str
) -> None:
    """`country: DE-XX` said "no public holidays known for country 'DE'", a country it knows."""
    text = f"""\
process: cal
calendars:
  c: {{hours: {{mon: "09:00-17:00"}}, country: {country}}}
owners:
  a: {{capacity: 2, calendar: c}}
start: s
steps:
  s: {{owner: a, duration: 30m, next: e}}
  e: {{end: true}}
"""
    code, out, _err = run(capsys, "lint", write(tmp_path, "cal.yaml", text))
    assert code == 1
    assert f"cal.yaml:3:45: PF002 schema: {message}" in out


@pytest.mark.parametrize("name", ["null", "true", "false"])
def test_new_writes_a_starter_that_lints_clean_for_a_name_yaml_reads_as_a_keyword(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """`procflow new null` wrote `process: null` (and `title: Null`): PF002 at once."""
    target = tmp_path / f"{name}.yaml"
    code, _out, _err = run(capsys, "new", name, "-o", str(target))
    assert code == 0
    code, out, _err = run(capsys, "lint", target)
    assert code == 0, out
    assert load_text(target.read_text(), str(target)).process == name


def test_new_with_a_name_too_long_for_the_file_system_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 300-letter id is valid, its file name is not: an OSError crashed `procflow new`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "processes").mkdir()  # with no folder, the lookup fails on it (ENOENT) first
    code, out, err = run(capsys, "new", "a" * 300)
    assert code == 2
    assert out == ""
    assert "cannot write" in err
    assert "bug in procflow" not in err


def test_a_diagram_named_after_an_id_too_long_for_a_file_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 300-letter process id is valid; `diagram` names its file after it and crashed."""
    text = f"""\
process: {"p" * 300}
owners: {{a: {{capacity: 2}}}}
start: s
steps:
  s: {{owner: a, duration: 5m, next: e}}
  e: {{end: true}}
"""
    path = write(tmp_path, "long.yaml", text)
    for fmt in ("dot", "mermaid"):
        code, _out, err = run(capsys, "diagram", path, "-f", fmt, "-o", tmp_path / "out")
        assert code == 2
        assert f".{fmt if fmt == 'dot' else 'mmd'}: cannot write: File name too long" in err
        assert "bug in procflow" not in err


EMPTY_BRANCH = """\
process: empty-branch
owners: {a: {capacity: 2}}
start: s
steps:
  s: {owner: a, duration: 5m, parallel: BRANCHES}
  x: {owner: a, duration: 5m, next: j}
  j: {join: KIND, owner: a, duration: 1m, next: e}
  e: {end: true}
"""


def test_a_live_case_waits_at_a_join_for_the_branches_besides_an_empty_one() -> None:
    """`parallel: [x, j]`: the empty branch put a token *at* the join, which a trigger moved
    on to the end while x was still being worked."""
    from procflow.runtime import Case

    text = EMPTY_BRANCH.replace("BRANCHES", "[x, j]").replace("KIND", "all")
    case = Case(load_text(text, "e.yaml"))
    case.trigger("next")
    assert case.states == ("x",)
    assert case.trigger("next") == "j"
    assert case.states == ("j",)
    case.trigger("next")
    assert case.done


def test_a_live_race_of_two_empty_branches_is_decided_at_once() -> None:
    """`parallel: [j, j, x]` with `join: first`: two tokens sat at the join (and x went on),
    neither could move."""
    from procflow.runtime import Case

    text = EMPTY_BRANCH.replace("BRANCHES", "[j, j, x]").replace("KIND", "first")
    case = Case(load_text(text, "e.yaml"))
    case.trigger("next")
    assert case.states == ("j",)
    case.trigger("next")
    assert case.done


def test_a_live_case_with_a_branch_listed_twice_can_move_its_tokens() -> None:
    """`parallel: [x, x, j]`: two tokens at x, 'allowed at several steps ('x', 'x')', and
    trigger(step='x') could not tell them apart either: the case was stuck."""
    from procflow.runtime import Case

    text = EMPTY_BRANCH.replace("BRANCHES", "[x, x, j]").replace("KIND", "all")
    case = Case(load_text(text, "e.yaml"))
    case.trigger("next")
    assert case.states == ("x", "x")
    case.trigger("next", step="x")
    assert case.states == ("x",)
    assert case.trigger("next") == "j"
    case.trigger("next")
    assert case.done


@pytest.mark.parametrize(
    ("branches", "kind"), [("[x, x, j]", "all"), ("[x, j]", "all"), ("[j, x]", "first")]
)
def test_check_log_follows_a_fork_with_an_empty_branch_in_the_simulators_own_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], branches: str, kind: str
) -> None:
    """The simulator's own log of `parallel: [x, x, j]` was '0 of N cases follow the process':
    the empty branch's token took the join's event as its first and x was left open."""
    text = EMPTY_BRANCH.replace("BRANCHES", branches).replace("KIND", kind)
    text = text.replace("start: s", "arrivals: {rate: 1/h}\nstart: s")
    path = write(tmp_path, "e.yaml", text)
    log = tmp_path / "events.csv"
    code, _out, err = run(capsys, "simulate", path, "--cases", "40", "--runs", "1", "--log", log)
    assert code == 0, err
    code, out, err = run(capsys, "check-log", path, log)
    assert code == 0, err
    assert "40 of 40 cases (100%) follow the process" in out


def test_a_race_won_by_an_empty_branch_ends_each_case_once() -> None:
    """`parallel: [j, x]` with `join: first`: the empty branch arrived before x had a token,
    the race was decided twice, and each case went through the join and the end twice
    (throughput 1.83/h at 1/h arriving)."""
    from procflow.sim import simulate

    text = EMPTY_BRANCH.replace("BRANCHES", "[j, x]").replace("KIND", "first")
    text = text.replace("start: s", "arrivals: {rate: 1/h}\nstart: s")
    result = simulate(load_text(text, "e.yaml"), cases=200, runs=2, seed=1)
    assert result.steps["j"].visits.mean == pytest.approx(1.0)
    assert result.steps["e"].visits.mean == pytest.approx(1.0)
    assert result.steps["x"].visits.mean == pytest.approx(0.0)


def test_a_huge_figure_is_shown_in_scientific_notation_not_with_26_digits() -> None:
    """capacity: 1e15 at 32/h and 1/month arriving: cost per case 29,057,570,742,864,388,096."""
    from procflow.cli.simreport import show, show_delta

    assert show("cost_per_case", 2.9057570742864388e19) == "2.91e+19"
    assert show_delta("cost_per_case", 2.9057570742864388e19) == "+2.91e+19"
    assert show("cost_per_case", 1234.5) == "1,234"  # thousands keep their separators
    assert show("cycle_time.mean", 1e25) == "1.16e+20d"
    assert show("cycle_time.mean", 1e9) == "11,574d"


def test_shifts_on_an_external_owner_are_a_schema_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An external owner's shifts were ignored by every command: it worked around the clock."""
    text = """\
process: ext-shifts
calendars:
  day: {hours: {mon-fri: "08:00-16:00"}}
owners:
  a: {external: true, shifts: [{calendar: day, capacity: 1}]}
arrivals: {rate: 1/h}
start: s
steps:
  s: {owner: a, duration: 20m, next: e}
  e: {end: true}
"""
    path = write(tmp_path, "ext.yaml", text)
    code, out, _err = run(capsys, "lint", path)
    assert code == 1
    assert "ext.yaml:5:23: PF002 schema: owner 'a': an external owner has no capacity" in out
    code, _out, err = run(capsys, "simulate", path, "--cases", "50", "--runs", "2")
    assert code == 2
    assert "ext.yaml:5:23:" in err
