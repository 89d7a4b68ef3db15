"""The process model: validation with positions, YAML 1.2 keys, changes and rosters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers import CLEAN, CUSTOMER_SERVICE, CUSTOMER_SERVICE_247, PROCESSES
from procflow.errors import FileAccessError, ProcessError
from procflow.loader import load, load_change, load_text
from procflow.model import Process, json_schema, merge_patch

MINIMAL = """\
process: tiny
owners:
  clerk: {capacity: 2}
arrivals: {rate: 6/h}
start: work
steps:
  work:
    owner: clerk
    duration: exponential(5m)
    on:
      yes: done
      no: {to: work, p: 0.2, feedback: true, max: 2}
      on: done
  done:
    end: true
"""


def problems(text: str) -> list[tuple[str, int, int, str]]:
    with pytest.raises(ProcessError) as info:
        load_text(textwrap.dedent(text), "bad.yaml")
    return [(p.code, p.position.line, p.position.column, p.message) for p in info.value.problems]


def test_yaml_12_keys_stay_strings() -> None:
    process = load_text(MINIMAL.replace("p: 0.2, ", ""), "tiny.yaml")
    assert process.steps["work"].triggers == ("yes", "no", "on")
    assert [t.to for t in process.steps["work"].transitions] == ["done", "work", "done"]


def test_transitions_know_their_trigger_and_fields() -> None:
    process = load(CUSTOMER_SERVICE_247)
    reopened = process.steps["confirm"].transitions[1]
    assert (reopened.trigger, reopened.to, reopened.p, reopened.feedback, reopened.max) == (
        "reopened",
        "triage",
        0.15,
        True,
        3,
    )
    assert process.steps["intake"].transitions[0].trigger == "next"
    assert process.arrivals is not None
    assert process.arrivals.rate_per_hour == pytest.approx(8.0)
    assert process.goals[0].target is not None
    assert process.goals[0].target.met_by(20 * 3600)
    assert not process.goals[0].target.met_by(25 * 3600)


def test_positions_of_keys_and_values() -> None:
    process = load(CUSTOMER_SERVICE_247)
    assert process.position(("steps", "triage")).line == 28
    assert process.position(("steps", "triage")).column == 3
    assert process.position(("steps", "confirm", "on", "reopened")).line == 48
    assert process.position(("goals", 0)).line == 53
    # a path that does not exist falls back to its nearest ancestor's key
    assert process.position(("steps", "triage", "nothing-here")).line == 28


def test_every_schema_problem_is_reported_with_its_position() -> None:
    found = problems(
        """\
        process: Bad Name
        start: a
        steps:
          a:
            owner: clerk
            duration: uniform(10m, 2m)
            next: b
            colour: red
          b:
            duration: 5
            end: true
        """
    )
    assert found[0][:3] == ("PF002", 1, 10)
    assert "not a valid id" in found[0][3]
    by_line = {line: (column, message) for _code, line, column, message in found}
    assert by_line[6][0] == 23  # the offending argument inside the value
    assert "min (10m) is greater than max (2m)" in by_line[6][1]
    assert by_line[8] == (
        5,
        "step 'a': unknown key 'colour'; expected one of: "
        + ", ".join(
            [
                "title",
                "description",
                "owner",
                "duration",
                "next",
                "on",
                "parallel",
                "join",
                "end",
                "consulted",
                "informed",
                "activity",
            ]
        ),
    )
    assert by_line[10][0] == 15
    assert "no unit" in by_line[10][1]


def test_unknown_key_suggests_the_close_one() -> None:
    found = problems(
        """\
        process: x
        start: a
        steps:
          a:
            ownr: clerk
            end: true
        """
    )
    assert found == [("PF002", 5, 5, "step 'a': unknown key 'ownr' (did you mean 'owner'?)")]


def test_missing_required_keys_and_not_a_mapping() -> None:
    found = problems("process: x\n")
    assert {message for *_pos, message in found} == {
        "missing required key 'start'",
        "missing required key 'steps'",
    }
    assert problems("- a\n- b\n")[0][3].startswith("a process file must be a mapping")
    assert "empty" in problems("")[0][3]


def test_next_and_on_together_point_at_on() -> None:
    found = problems(
        """\
        process: x
        start: a
        steps:
          a:
            next: b
            on: {go: b}
          b: {end: true}
        """
    )
    assert found[0][:3] == ("PF002", 6, 5)
    assert "both 'next' and 'on'" in found[0][3]


def test_transition_values_checked() -> None:
    found = problems(
        """\
        process: x
        start: a
        steps:
          a:
            on:
              go: {to: b, p: 1.5, max: 0}
              stay: {to: a, weight: 2}
          b: {end: true}
        """
    )
    messages = [m for *_p, m in found]
    assert "transition 'go' of step 'a': 1.5 must be at most 1.0" in messages
    assert "transition 'go' of step 'a': 0 must be at least 1" in messages
    assert any("unknown key 'weight'" in m for m in messages)


def test_goal_target_must_fit_metric_and_parse() -> None:
    found = problems(
        """\
        process: x
        start: a
        steps:
          a: {end: true}
        goals:
          - id: g1
            metric: throughput
            target: "<= 2h"
          - id: g2
            metric: cycle_time
            target: "24h"
          - id: g3
            metric: cycle_time
            target: "<= 24 parsecs"
        """
    )
    assert found[0][:3] == ("PF002", 8, 13)
    assert "must be a number or a rate" in found[0][3]
    assert found[1][:2] == ("PF002", 11)
    assert 'needs a comparison: write "<= 24h"' in found[1][3]
    assert found[2][:2] == ("PF002", 14)
    assert "unknown time unit" in found[2][3]


def test_duplicate_keys_are_reported_and_load_refuses() -> None:
    found = problems(
        """\
        process: x
        start: a
        steps:
          a: {end: true}
          a: {end: true}
        """
    )
    assert found == [
        (
            "PF003",
            5,
            3,
            "duplicate key 'a' (first at line 4): YAML keeps only the last one, "
            "so the first would be silently lost",
        )
    ]


def test_merge_patch_rfc7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3]}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    assert merge_patch({"a": 1}, "x") == "x"


def test_with_changes_makes_a_new_valid_process() -> None:
    process = load(CUSTOMER_SERVICE)
    changed = process.with_changes({"owners": {"tier2": {"capacity": 5}}, "goals": None})
    assert changed.owners["tier2"].capacity == 5
    assert changed.goals == []
    assert process.owners["tier2"].capacity == 4
    assert isinstance(changed, Process)


def test_apply_change_errors_point_into_the_change_file(tmp_path: Path) -> None:
    change_file = tmp_path / "bad-change.yaml"
    change_file.write_text(
        "change: faster\npatch:\n  steps:\n    triage:\n      duration: exponential(-1m)\n"
    )
    change = load_change(change_file)
    process = load(CUSTOMER_SERVICE)
    with pytest.raises(ProcessError) as info:
        process.apply(change)
    (problem,) = info.value.problems
    assert problem.position.file == str(change_file)
    assert problem.position.line == 5
    assert "negative" in problem.message


def test_roster_owners_merge_and_locate(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        "owners:\n  clerk:\n    capacity: 3\n  boss:\n    capacity: 1\n"
    )
    (tmp_path / "p.yaml").write_text(
        "process: p\nroster: team.yaml\nowners:\n  boss: {capacity: 2}\nstart: a\n"
        "steps:\n  a: {owner: clerk, next: b}\n  b: {end: true}\n"
    )
    process = load(tmp_path / "p.yaml")
    assert process.owners["clerk"].capacity == 3
    assert process.owners["boss"].capacity == 2  # the process entry replaces the roster's
    where = process.position(("owners", "clerk"))
    assert where.file.endswith("team.yaml")
    assert where.line == 2
    assert process.position(("owners", "boss")).file.endswith("p.yaml")


def test_bad_roster_is_reported_in_the_roster_file(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text("owners:\n  clerk:\n    capacity: 0\n")
    (tmp_path / "p.yaml").write_text(
        "process: p\nroster: team.yaml\nstart: a\nsteps:\n  a: {end: true}\n"
    )
    with pytest.raises(ProcessError) as info:
        load(tmp_path / "p.yaml")
    (problem,) = info.value.problems
    assert problem.position.file.endswith("team.yaml")
    assert problem.position.line == 3
    (tmp_path / "q.yaml").write_text(
        "process: q\nroster: missing.yaml\nstart: a\nsteps:\n  a: {end: true}\n"
    )
    with pytest.raises(ProcessError, match=r"roster 'missing\.yaml': no such file"):
        load(tmp_path / "q.yaml")


def test_missing_file() -> None:
    with pytest.raises(FileAccessError, match="no such file"):
        load("does/not/exist.yaml")


def test_json_schema_describes_the_short_forms() -> None:
    schema = json_schema()
    assert schema["title"] == "procflow process"
    assert set(schema["required"]) == {"process", "start", "steps"}
    text = str(schema)
    assert "exponential" in text
    assert "pattern" in text


def test_example_processes_load() -> None:
    for path in sorted((PROCESSES).glob("*.yaml")):
        assert load(path).id == path.stem


@pytest.mark.parametrize("every", ["0m", "uniform(0m, 0m)", "empirical(0m, 0m)", "normal(0m, 0m)"])
def test_arrivals_every_zero_on_average_is_refused_at_the_value(every: str) -> None:
    text = CLEAN.replace("start:", f"arrivals: {{every: '{every}'}}\nstart:")
    with pytest.raises(ProcessError) as caught:
        load_text(text, "zero.yaml")
    (problem,) = caught.value.problems
    assert problem.code == "PF002"
    assert "between arrivals must be positive" in problem.message
    assert (problem.position.line, problem.position.column) == (4, 19)


def test_a_change_file_that_is_not_a_mapping_is_called_a_change(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ProcessError) as caught:
        load_change(path)
    assert caught.value.summary == f"{path}: not a valid change file"
    assert "a change file must be a mapping" in caught.value.problems[0].message


def test_a_key_a_change_deletes_is_reported_in_the_change_file(tmp_path: Path) -> None:
    path = tmp_path / "drop-steps.yaml"
    path.write_text("change: drop-steps\npatch:\n  steps: null\n", encoding="utf-8")
    with pytest.raises(ProcessError) as caught:
        load(CUSTOMER_SERVICE).apply(load_change(path))
    (problem,) = caught.value.problems
    assert problem.message == "missing required key 'steps'"
    assert (problem.position.file, problem.position.line) == (str(path), 3)


def test_goal_ids_are_unique() -> None:
    goal = "  - {id: fast, metric: cycle_time, target: '< 1h', deadline: 2030-01-01}\n"
    text = CLEAN + "goals:\n" + goal + goal.replace("cycle_time", "wait_time")
    with pytest.raises(ProcessError) as caught:
        load_text(text, "goals.yaml")
    (problem,) = caught.value.problems
    assert "goal id 'fast' is already used by goal 1" in problem.message
    assert (problem.position.line, problem.position.column) == (CLEAN.count("\n") + 3, 10)


@pytest.mark.parametrize(
    ("written", "shown"),
    [("1e3", "got 1e3"), ("true", "got true"), ("0x1F", "got 0x1F"), ("12_000", "got '12_000'")],
)
def test_a_wrong_value_is_quoted_as_written_not_as_parsed(written: str, shown: str) -> None:
    """``deadline: 1e3`` said "got 1000.0", ``deadline: true`` "got True": Python's reading,
    not the file's text. A number or true/false is quoted as written (a string, as before,
    in quotes)."""
    text = CLEAN + 'goals:\n  - id: g\n    metric: cycle_time\n    target: "<= 1h"\n'
    text += f"    deadline: {written}\n"
    with pytest.raises(ProcessError) as caught:
        load_text(text, "p.yaml")
    (problem,) = caught.value.problems
    assert problem.message.endswith(f"expected a date (YYYY-MM-DD), {shown}"), problem.message


def test_a_change_file_value_is_quoted_as_the_change_file_wrote_it(tmp_path: Path) -> None:
    """A patched value is found in the change file, and quoted from there."""
    base = load_text(CLEAN, "p.yaml")
    change = tmp_path / "c.yaml"
    change.write_text("change: c\npatch:\n  owners:\n    clerk:\n      capacity: 1.5e0\n")
    with pytest.raises(ProcessError) as caught:
        base.apply(load_change(change))
    (problem,) = caught.value.problems
    assert problem.position.file.endswith("c.yaml")
    assert "got 1.5e0" in problem.message, problem.message
