"""procflow.Case inside forks: several steps at once, branches, joins, save and restore."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import procflow
from procflow import Case, CaseError, InvalidTrigger
from procflow.runtime import visit_rows

FORKS = Path(__file__).parent / "fixtures" / "forks2"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=10)
        return self.now


@pytest.fixture
def hire() -> procflow.Process:
    return procflow.load(FORKS / "hire.yaml")


@pytest.fixture
def race() -> procflow.Process:
    return procflow.load(FORKS / "race.yaml")


def test_a_fork_puts_the_case_in_every_branch(hire: procflow.Process) -> None:
    case = Case(hire, "H-1", Clock())
    assert case.state == "approve-hire"
    assert case.available_triggers == ["next"]
    assert case.trigger("next") == "it-setup"
    assert case.states == ("it-setup", "hr-paperwork")
    assert case.branches == {"it-setup": "it-setup", "hr-paperwork": "hr-paperwork"}
    with pytest.raises(CaseError, match=r"inside a fork, in several steps at once \('it-setup'"):
        _ = case.state
    assert case.available_triggers == ["next", "signed", "redo"]
    assert case.available_at("hr-paperwork") == ["signed", "redo"]


def test_the_join_waits_for_every_branch(hire: procflow.Process) -> None:
    case = Case(hire, "H-1", Clock())
    case.trigger("next")
    assert case.trigger("redo") == "hr-paperwork"  # only hr-paperwork allows it
    assert case.trigger("next", step="it-setup") == "ready"
    assert case.states == ("hr-paperwork",)  # it-setup's branch waits at the join
    assert case.branches == {"it-setup": "ready", "hr-paperwork": "hr-paperwork"}
    with pytest.raises(CaseError):
        _ = case.state
    assert case.trigger("signed") == "ready"
    assert case.state == "ready"
    assert case.branches == {}
    case.trigger("next")
    assert case.done
    steps = [(r.step, r.branch, r.trigger) for r in case.history]
    assert steps == [
        ("approve-hire", None, "next"),
        ("it-setup", "it-setup", "next"),
        ("hr-paperwork", "hr-paperwork", "redo"),
        ("hr-paperwork", "hr-paperwork", "signed"),
        ("ready", None, "next"),
        ("first-day", None, None),
    ]
    assert [r.step for r in case.branch_history("hr-paperwork")] == ["hr-paperwork"] * 2
    # ready is entered when the last branch arrives
    assert case.history[4].entered == case.history[3].left


def test_ambiguous_and_wrong_triggers_say_what_to_do(race: procflow.Process) -> None:
    case = Case(race, "R-1", Clock())
    case.trigger("next")
    with pytest.raises(CaseError, match=r"allowed at several steps.*'reply', 'timeout'.*step="):
        case.trigger("next")
    with pytest.raises(CaseError, match=r"not at step 'checks'; it is at 'reply', 'timeout'"):
        case.trigger("next", step="checks")
    with pytest.raises(
        CaseError, match=r"'approve' is not allowed at any step.*at 'reply': 'next'"
    ):
        case.trigger("approve")
    with pytest.raises(InvalidTrigger, match=r"'approve' is not allowed at step 'reply'"):
        case.trigger("approve", step="reply")


def test_join_first_withdraws_the_other_branches_nested_forks_included(
    race: procflow.Process,
) -> None:
    case = Case(race, "R-1", Clock())
    case.trigger("next")
    case.trigger("next", step="reply")
    case.trigger("next", step="checks")
    assert case.states == ("check-id", "check-address", "timeout")  # declaration order
    case.trigger("next", step="check-id")  # waits at 'checked' for check-address
    assert case.trigger("next", step="timeout") == "answered"
    assert case.state == "answered"
    withdrawn = [r for r in case.history if r.left is not None and r.trigger is None]
    assert [(r.step, r.branch) for r in withdrawn] == [("check-address", "check-address")]
    case.trigger("next")
    assert case.done
    rows = list(visit_rows([case]))
    assert "check-address" not in [row[1] for row in rows]  # abandoned work is no visit
    ends = [row[4] for row in rows]
    assert ends == sorted(ends)


def test_save_and_restore_inside_a_fork(race: procflow.Process) -> None:
    clock = Clock()
    case = Case(race, "R-1", clock)
    case.trigger("next")
    case.trigger("next", step="reply")
    case.trigger("next", step="checks")
    case.trigger("next", step="check-address")
    data = json.loads(case.to_json())
    assert data["state"] is None
    assert data["states"] == ["check-id", "timeout"]
    assert data["history"][1]["branch"] == "reply"
    restored = Case.from_json(race, case.to_json(), clock=clock)
    assert restored.states == case.states
    assert restored.branches == case.branches
    assert restored.history == case.history
    restored.trigger("next", step="check-id")
    assert restored.states == ("checked", "timeout")
    restored.trigger("next", step="checked")
    assert restored.state == "answered"


def test_a_restored_history_must_be_what_the_process_does(race: procflow.Process) -> None:
    case = Case(race, "R-1", Clock())
    case.trigger("next")
    case.trigger("next", step="timeout")
    good = case.to_dict()
    bad = json.loads(json.dumps(good))
    bad["history"][1]["branch"] = "timeout"
    with pytest.raises(CaseError, match=r"history entry 2 \('reply'\) is not what the process"):
        Case.from_dict(race, bad)
    bad = json.loads(json.dumps(good))
    bad["order"] = [0, 1]  # 'reply' was never left
    with pytest.raises(CaseError, match=r"history entry 2 \('reply'\) is not a visit the case"):
        Case.from_dict(race, bad)
    bad = json.loads(json.dumps(good))
    bad["states"] = ["reply"]
    with pytest.raises(CaseError, match=r"'states' is \['reply'\] but its history ends at"):
        Case.from_dict(race, bad)
    assert Case.from_dict(race, good).state == "answered"


def test_a_process_without_forks_saves_as_before() -> None:
    from helpers import CUSTOMER_SERVICE

    case = Case(procflow.load(CUSTOMER_SERVICE), "T-1", Clock())
    case.trigger("next")
    data = case.to_dict()
    assert list(data) == ["version", "process", "case", "state", "history"]
    assert all("branch" not in record for record in data["history"])
