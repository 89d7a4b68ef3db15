"""procflow.Case: a live case on a transitions state machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import procflow
import procflow.runtime
from helpers import CUSTOMER_SERVICE
from procflow import Case, CaseError, InvalidTrigger, ProcessError
from procflow._cases import write_cases
from procflow.runtime import HistoryRecord

LOOPY = """\
process: loopy
owners:
  clerk: {capacity: 2}
  boss: {}
start: draft
steps:
  draft:
    owner: clerk
    duration: 10m
    next: review
  review:
    owner: boss
    duration: 5m
    on:
      approve: {to: done, p: 0.8}
      reject: {to: draft, p: 0.2, feedback: true, max: 2}
  done:
    end: true
"""


class Clock:
    """A clock that moves ``step`` forward at every reading."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(minutes=5)):
        self.now = start or datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


@pytest.fixture
def process() -> procflow.Process:
    return procflow.load(CUSTOMER_SERVICE)


@pytest.fixture
def loopy() -> procflow.Process:
    return procflow.load_text(LOOPY, "loopy.yaml")


def test_a_case_starts_at_start_and_follows_triggers(process: procflow.Process) -> None:
    case = Case(process, "T-1", Clock())
    assert case.state == "intake"
    assert case.owner == "support-agent"
    assert case.available_triggers == ["next"]
    assert not case.done
    assert case.trigger("next") == "triage"
    assert case.available_triggers == ["simple", "complex"]
    case.trigger("complex")
    case.trigger("fixed")
    case.trigger("next")
    assert case.state == "confirm"
    case.trigger("accepted")
    assert case.done
    assert case.available_triggers == []
    assert [r.step for r in case.history] == [
        "intake",
        "triage",
        "escalate",
        "resolve",
        "confirm",
        "closed",
    ]


def test_history_records_owner_times_and_trigger(process: procflow.Process) -> None:
    clock = Clock(step=timedelta(minutes=7))
    case = Case(process, "T-2", clock)
    case.trigger("next")
    first, second = case.history
    assert first == HistoryRecord(
        "intake",
        "support-agent",
        datetime(2027, 1, 4, 9, 7, tzinfo=UTC),
        datetime(2027, 1, 4, 9, 14, tzinfo=UTC),
        "next",
    )
    assert second.step == "triage"
    assert second.entered == first.left
    assert second.left is None
    assert second.trigger is None


def test_an_invalid_trigger_names_the_step_and_the_allowed_ones(process: procflow.Process) -> None:
    case = Case(process)
    with pytest.raises(InvalidTrigger) as info:
        case.trigger("simple")
    assert info.value.step == "intake"
    assert info.value.allowed == ["next"]
    assert "'simple' is not allowed at step 'intake'" in str(info.value)
    assert "'next'" in str(info.value)
    assert case.state == "intake"
    assert len(case.history) == 1


def test_max_on_a_feedback_edge_is_enforced(loopy: procflow.Process) -> None:
    case = Case(loopy, "L-1", Clock())
    for _ in range(2):
        case.trigger("next")
        assert "reject" in case.available_triggers
        case.trigger("reject")
    case.trigger("next")
    assert case.available_triggers == ["approve"]
    assert case.uses("review", "reject") == 2
    with pytest.raises(InvalidTrigger, match="used it 2 times, its max"):
        case.trigger("reject")
    case.trigger("approve")
    assert case.done


def test_triggering_a_finished_case_is_a_case_error(loopy: procflow.Process) -> None:
    case = Case(loopy, "L-2", Clock())
    case.trigger("next")
    case.trigger("approve")
    with pytest.raises(CaseError, match="is done") as info:
        case.trigger("approve")
    assert not isinstance(info.value, InvalidTrigger)


def test_the_clock_must_be_aware_and_must_not_go_back(loopy: procflow.Process) -> None:
    with pytest.raises(CaseError, match="timezone-aware"):
        Case(loopy, "x", lambda: datetime(2027, 1, 1))
    times = iter([datetime(2027, 1, 4, 10, tzinfo=UTC), datetime(2027, 1, 4, 9, tzinfo=UTC)])
    case = Case(loopy, "y", lambda: next(times))
    with pytest.raises(CaseError, match="went back in time"):
        case.trigger("next")
    assert case.state == "draft"


def test_default_clock_is_utc_now(loopy: procflow.Process) -> None:
    before = datetime.now(UTC)
    case = Case(loopy)
    assert before <= case.history[0].entered <= datetime.now(UTC)
    assert case.history[0].entered.tzinfo is not None
    assert len(case.id) == 12


def test_case_is_a_wrapper_not_a_machine(loopy: procflow.Process) -> None:
    from transitions import Machine

    case = Case(loopy)
    assert not isinstance(case, Machine)
    # the public Case only adds loading a path to the runtime's: no machine, no mixins
    assert type(case).__mro__ == (Case, procflow.runtime.Case, object)
    assert not hasattr(case, "next")  # no trigger methods patched onto the case


def test_triggers_named_like_machine_attributes_work() -> None:
    text = """\
process: odd
start: a
steps:
  a: {on: {trigger: b, state: c}}
  b: {on: {may_trigger: c}}
  c: {end: true}
"""
    odd = procflow.load_text(text, "odd.yaml")
    case = Case(odd, "o", Clock())
    assert case.available_triggers == ["trigger", "state"]
    case.trigger("trigger")
    assert case.state == "b"
    case.trigger("may_trigger")
    assert case.done


def test_a_process_that_cannot_run_is_refused() -> None:
    broken = procflow.load_text(
        "process: broken\nstart: a\nsteps:\n  a: {next: nowhere}\n  z: {end: true}\n", "broken.yaml"
    )
    with pytest.raises(ProcessError) as info:
        Case(broken)
    assert any(p.code == "PF101" for p in info.value.problems)


def test_json_round_trip_keeps_state_history_and_uses(loopy: procflow.Process) -> None:
    clock = Clock()
    case = Case(loopy, "L-3", clock)
    case.trigger("next")
    case.trigger("reject")
    case.trigger("next")
    text = case.to_json()
    data = json.loads(text)
    assert data["version"] == 1
    assert data["process"] == "loopy"
    assert data["state"] == "review"
    restored = Case.from_json(loopy, text, clock)
    assert restored.id == "L-3"
    assert restored.state == "review"
    assert restored.history == case.history
    assert restored.uses("review", "reject") == 1
    restored.trigger("reject")
    restored.trigger("next")
    assert restored.available_triggers == ["approve"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[]", "expected a JSON object"),
        ('{"version": 2}', "unsupported version 2"),
        ('{"version": 1, "process": "other"}', "belongs to process 'other', not 'loopy'"),
        ('{"version": 1, "process": "loopy", "case": ""}', "'case' (the case id)"),
        ('{"version": 1, "process": "loopy", "case": "c", "history": []}', "non-empty list"),
    ],
)
def test_bad_saved_cases_are_clear_case_errors(
    loopy: procflow.Process, text: str, message: str
) -> None:
    with pytest.raises(CaseError, match="cannot restore case") as info:
        Case.from_json(loopy, text)
    assert message in str(info.value)


def _saved(loopy: procflow.Process) -> dict[str, object]:
    case = Case(loopy, "L-4", Clock())
    case.trigger("next")
    return case.to_dict()


def test_a_history_must_belong_to_the_process(loopy: procflow.Process) -> None:
    data = _saved(loopy)
    history = data["history"]
    assert isinstance(history, list)
    history[1]["step"] = "closed"
    with pytest.raises(CaseError, match="'closed' is not a step of process 'loopy'"):
        Case.from_dict(loopy, data)


def test_a_history_must_be_a_declared_walk(loopy: procflow.Process) -> None:
    data = _saved(loopy)
    history = data["history"]
    assert isinstance(history, list)
    history[0]["trigger"] = "approve"
    with pytest.raises(CaseError, match="which the process does not declare"):
        Case.from_dict(loopy, data)
    data = _saved(loopy)
    data["state"] = "draft"
    with pytest.raises(CaseError, match="'state' is 'draft' but its history ends at 'review'"):
        Case.from_dict(loopy, data)
    data = _saved(loopy)
    history = data["history"]
    assert isinstance(history, list)
    history[0]["entered"] = "2027-01-04T09:05:00"
    with pytest.raises(CaseError, match="no UTC offset"):
        Case.from_dict(loopy, data)


def test_a_history_beyond_max_is_refused(loopy: procflow.Process) -> None:
    clock = Clock()
    case = Case(loopy, "L-5", clock)
    for _ in range(2):
        case.trigger("next")
        case.trigger("reject")
    data = case.to_dict()
    history = data["history"]
    assert isinstance(history, list)
    extra = [dict(history[1]), dict(history[0])]
    start = datetime.fromisoformat(history[-1]["entered"])
    extra[0].update(
        entered=start.isoformat(),
        left=(start + timedelta(minutes=1)).isoformat(),
        trigger="next",
        step="draft",
    )
    extra[1].update(
        step="review",
        entered=(start + timedelta(minutes=1)).isoformat(),
        left=(start + timedelta(minutes=2)).isoformat(),
        trigger="reject",
    )
    history[-1:] = [*extra, {**history[-1], "entered": (start + timedelta(minutes=2)).isoformat()}]
    with pytest.raises(CaseError, match="more than its max of 2"):
        Case.from_dict(loopy, data)


def test_cases_are_written_as_an_event_log_check_log_reads(
    loopy: procflow.Process, tmp_path: Path
) -> None:
    clock = Clock(step=timedelta(minutes=3))
    finished = Case(loopy, "a", clock)
    finished.trigger("next")
    finished.trigger("reject")
    finished.trigger("next")
    finished.trigger("approve")
    running = Case(loopy, "b", clock)
    running.trigger("next")
    path = tmp_path / "cases.csv"
    assert write_cases(path, [finished, running]) == 6
    lines = path.read_text().splitlines()
    assert lines[0] == "case,step,owner,start,end"
    assert lines[1].startswith("a,draft,clerk,2027-01-04T09:03:00.000+00:00,")
    assert lines[5] == "a,done,,2027-01-04T09:15:00.000+00:00,2027-01-04T09:15:00.000+00:00"
    report = procflow.check_log(loopy, procflow.read_log(path))
    assert report.cases == 2
    # 'b' stops at 'draft', which has no transition into an end step
    assert report.conforming == 1
    assert [(d.kind, d.source, d.cases) for d in report.deviations] == [
        ("not-finished", "draft", 1)
    ]
    assert report.rework_rate == 0.5


def test_other_offsets_are_kept_in_history(loopy: procflow.Process) -> None:
    tz = timezone(timedelta(hours=2))
    case = Case(loopy, "tz", Clock(datetime(2027, 1, 4, 9, tzinfo=tz)))
    case.trigger("next")
    restored = Case.from_json(loopy, case.to_json())
    assert restored.history[0].entered.utcoffset() == timedelta(hours=2)


def test_a_history_record_unpacks_as_the_spec_writes_it(process: procflow.Process) -> None:
    """SPEC 6: ``history`` of ``(step, owner, entered, left)``; the trigger is an attribute."""
    clock = Clock(step=timedelta(minutes=7))
    case = Case(process, "T-9", clock)
    case.trigger("next")
    step, owner, entered, left = case.history[0]
    assert (step, owner) == ("intake", "support-agent")
    assert left - entered == timedelta(minutes=7)
    assert case.history[0].trigger == "next"
