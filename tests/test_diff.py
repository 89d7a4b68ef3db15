"""``procflow.diff``: exactly the changes made, in the file's notation, at their positions.

One test per kind of change, made either with a committed change file
(``Process.apply``) or by editing the YAML text by hand, and each asserts the
complete list of changes found, so a spurious or a missing entry fails it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

import procflow
from helpers import CUSTOMER_SERVICE_247, PROCESSES, ROOT
from procflow.analysis import analyze
from procflow.diffing import ProcessDiff, diff
from procflow.errors import Position
from procflow.model import Process

CHANGES = ROOT / "changes"
# the example around the clock: positions and analytic figures of the file as it was
TEXT = CUSTOMER_SERVICE_247.read_text(encoding="utf-8")


def edited(*replacements: tuple[str, str]) -> Process:
    """The 24/7 customer-service example with each ``(old, new)`` text replaced exactly once."""
    text = TEXT
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return procflow.load_text(text, "new.yaml")


def listed(result: ProcessDiff) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.kind, c.what, c.old, c.new) for c in result.changes]


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.fixture(scope="module")
def base() -> Process:
    return procflow.load(CUSTOMER_SERVICE_247)


def test_the_same_process_has_no_changes(base: Process) -> None:
    result = diff(base, procflow.load(CUSTOMER_SERVICE_247))
    assert result.changes == ()
    assert not result.differs
    assert all(not k.changed for k in result.kpis)


def test_the_same_meaning_written_otherwise_is_no_change(base: Process) -> None:
    """Values are compared as the model holds them: 6m is 360s, a flow mapping is a block."""
    new = edited(
        ("exponential(6m)", "exponential(360s)"),
        ("rate: 8/h", "rate: 192/d"),
        ("fixed: resolve", "fixed: {to: resolve}"),
        ("    capacity: 1\n", "    capacity: 1\n    external: false\n"),  # a default
    )
    assert diff(base, new).changes == ()


def test_owner_capacity_from_a_change_file(base: Process) -> None:
    change = procflow.load_change(CHANGES / "hire-support-agent.yaml")
    result = diff(base, base.apply(change))
    assert listed(result) == [("changed", "capacity of owner 'support-agent'", "5", "6")]
    text = (CHANGES / "hire-support-agent.yaml").read_text(encoding="utf-8")
    (only,) = result.changes
    assert only.path == ("owners", "support-agent", "capacity")
    # the changed value is where the change file writes it
    assert only.position == Position(
        str(CHANGES / "hire-support-agent.yaml"), line_of(text, "capacity: 6"), 17
    )


def test_transition_probabilities_from_a_change_file(base: Process) -> None:
    result = diff(base, base.apply(procflow.load_change(CHANGES / "halve-reopens.yaml")))
    assert listed(result) == [
        ("changed", "p of transition 'accepted' of step 'confirm'", "0.85", "0.925"),
        ("changed", "p of transition 'reopened' of step 'confirm'", "0.15", "0.075"),
    ]


def test_step_duration_and_probabilities_from_a_change_file() -> None:
    old = procflow.load(PROCESSES / "employee-onboarding.yaml")
    new = old.apply(procflow.load_change(CHANGES / "digital-documents.yaml"))
    assert listed(diff(old, new)) == [
        (
            "changed",
            "duration of step 'collect-documents'",
            "lognormal(2d, 1d)",
            "lognormal(1d, 12h)",
        ),
        ("changed", "p of transition 'complete' of step 'verify-documents'", "0.8", "0.92"),
        ("changed", "p of transition 'incomplete' of step 'verify-documents'", "0.2", "0.08"),
    ]


def test_step_removed_from_a_change_file() -> None:
    old = procflow.load(PROCESSES / "order-fulfilment.yaml")
    new = old.apply(procflow.load_change(CHANGES / "skip-inspection.yaml"))
    result = diff(old, new)
    kinds = [(c.kind, c.what) for c in result.changes]
    assert kinds == [
        ("changed", "duration of step 'pack-parcel'"),
        ("changed", "to of transition 'next' of step 'pack-parcel'"),
        ("removed", "step 'inspect-parcel'"),
    ]
    removed = result.changes[-1]
    assert removed.old is not None
    assert removed.old.startswith("{")
    assert removed.new is None
    # a removal is placed in OLD, where the step was
    text = (PROCESSES / "order-fulfilment.yaml").read_text(encoding="utf-8")
    assert removed.position.file == str(PROCESSES / "order-fulfilment.yaml")
    assert removed.position.line == line_of(text, "  inspect-parcel:")


def test_a_step_replaced_and_transitions_rewired_from_a_change_file(base: Process) -> None:
    """skip-triage: next: becomes on:, so the 'next' transition goes and two named ones come."""
    result = diff(base, base.apply(procflow.load_change(CHANGES / "skip-triage.yaml")))
    assert listed(result) == [
        ("changed", "duration of step 'intake'", "exponential(6m)", "exponential(8m)"),
        ("added", "transition 'simple' of step 'intake'", None, "{to: resolve, p: 0.7}"),
        ("added", "transition 'complex' of step 'intake'", None, "{to: escalate, p: 0.3}"),
        ("removed", "transition 'next' of step 'intake'", "triage", None),
        ("changed", "to of transition 'reopened' of step 'confirm'", "triage", "intake"),
        ("removed", "step 'triage'", result.changes[-1].old, None),
    ]


def test_step_added_by_hand(base: Process) -> None:
    new = edited(
        (
            "    next: confirm\n",
            "    next: review\n  review:\n    owner: tier2\n    duration: exponential(5m)\n"
            "    next: confirm\n",
        )
    )
    result = diff(base, new)
    assert listed(result) == [
        ("changed", "to of transition 'next' of step 'resolve'", "confirm", "review"),
        (
            "added",
            "step 'review'",
            None,
            "{owner: tier2, duration: exponential(5m), next: confirm}",
        ),
    ]
    added = result.changes[1]
    assert added.path == ("steps", "review")
    assert (added.position.file, added.position.line) == (
        "new.yaml",
        line_of(TEXT, "  confirm:\n"),
    )


def test_step_owner_changed_by_hand(base: Process) -> None:
    new = edited(
        (
            "    owner: support-agent\n    duration: exponential(6m)",
            "    owner: tier2\n    duration: exponential(6m)",
        )
    )
    result = diff(base, new)
    assert listed(result) == [("changed", "owner of step 'intake'", "support-agent", "tier2")]
    assert result.changes[0].position == Position(
        "new.yaml", line_of(TEXT, "exponential(6m)") - 1, 12
    )


def test_transition_added_by_hand(base: Process) -> None:
    new = edited(
        (
            "simple:  {to: resolve,  p: 0.7}",
            "simple:  {to: resolve,  p: 0.6}\n      spam: {to: closed, p: 0.1}",
        )
    )
    assert listed(diff(base, new)) == [
        ("changed", "p of transition 'simple' of step 'triage'", "0.7", "0.6"),
        ("added", "transition 'spam' of step 'triage'", None, "{to: closed, p: 0.1}"),
    ]


def test_transition_removed_by_hand(base: Process) -> None:
    new = edited(
        ("accepted: {to: closed, p: 0.85}", "accepted: {to: closed, p: 1.0}"),
        ("      reopened: {to: triage, p: 0.15, feedback: true, max: 3}\n", ""),
    )
    result = diff(base, new)
    assert listed(result) == [
        ("changed", "p of transition 'accepted' of step 'confirm'", "0.85", "1.0"),
        (
            "removed",
            "transition 'reopened' of step 'confirm'",
            "{to: triage, p: 0.15, feedback: true, max: 3}",
            None,
        ),
    ]
    removed = result.changes[1]
    assert removed.position.file == str(CUSTOMER_SERVICE_247)
    assert removed.position.line == line_of(TEXT, "reopened:")
    assert removed.new_position.file == "new.yaml"  # the nearest part of NEW: the step's on:


def test_transition_target_changed_by_hand(base: Process) -> None:
    new = edited(("fixed: resolve", "fixed: confirm"))
    result = diff(base, new)
    assert listed(result) == [
        ("changed", "to of transition 'fixed' of step 'escalate'", "resolve", "confirm"),
    ]
    # the short form has no 'to:' key: the change is at the target it writes
    line = line_of(TEXT, "fixed: resolve")
    column = TEXT.splitlines()[line - 1].index("resolve") + 1
    assert result.changes[0].position == Position("new.yaml", line, column)


def test_transition_fields_added_and_removed(base: Process) -> None:
    new = edited(
        ("p: 0.15, feedback: true, max: 3}", "p: 0.15, feedback: true, description: loop}")
    )
    assert listed(diff(base, new)) == [
        ("removed", "max of transition 'reopened' of step 'confirm'", "3", None),
        ("added", "description of transition 'reopened' of step 'confirm'", None, "loop"),
    ]


def test_arrivals_rate_changed_and_replaced(base: Process) -> None:
    assert listed(diff(base, edited(("rate: 8/h", "rate: 10/h")))) == [
        ("changed", "rate of arrivals", "8/h", "10/h"),
    ]
    replaced = edited(("  rate: 8/h ", "  every: exponential(5m) "))
    assert listed(diff(base, replaced)) == [
        ("removed", "rate of arrivals", "8/h", None),
        ("added", "every of arrivals", None, "exponential(5m)"),
    ]


def test_goal_target_changed_added_and_removed(base: Process) -> None:
    assert listed(diff(base, edited(('target: "<= 24h"', 'target: "<= 20h"')))) == [
        ("changed", "target of goal 'resolve-within-a-day'", "<= 24h", "<= 20h"),
    ]
    renamed = edited(("id: resolve-within-a-day", "id: resolve-fast"))
    assert [(c.kind, c.what) for c in diff(base, renamed).changes] == [
        ("added", "goal 'resolve-fast'"),  # renames are not guessed
        ("removed", "goal 'resolve-within-a-day'"),
    ]


def test_descriptions_and_titles(base: Process) -> None:
    new = edited(
        (
            "description: Inbound tickets from intake to a confirmed resolution.",
            "description: Tickets.",
        ),
        ("  escalate:\n", "  escalate:\n    description: Tier 2 takes over.\n"),
    )
    assert listed(diff(base, new)) == [
        (
            "changed",
            "description of process",
            "Inbound tickets from intake to a confirmed resolution.",
            "Tickets.",
        ),
        ("added", "description of step 'escalate'", None, "Tier 2 takes over."),
    ]


def test_owner_added_removed_and_made_external(base: Process) -> None:
    new = edited(
        ("  tier2:\n    capacity: 4\n", "  tier2:\n    capacity: 4\n    cost_per_hour: 50\n"),
        ("  support-lead:\n    capacity: 1\n", "  support-boss:\n    capacity: 1\n"),
        ("owner: support-lead                # optional", "owner: support-boss  # optional"),
        ("    owner: support-lead\n", "    owner: support-boss\n"),
    )
    assert listed(diff(base, new)) == [
        ("changed", "owner of process", "support-lead", "support-boss"),
        ("added", "owner 'support-boss'", None, "{capacity: 1}"),
        ("added", "cost_per_hour of owner 'tier2'", None, "50"),
        ("removed", "owner 'support-lead'", "{capacity: 1}", None),
        ("changed", "owner of goal 'resolve-within-a-day'", "support-lead", "support-boss"),
    ]


def test_a_process_built_in_python_is_shown_in_file_notation(base: Process) -> None:
    """Without a document (model_validate), values are formatted from the model."""
    data = base.document
    data["arrivals"] = {"rate": "9/h"}
    data["steps"]["intake"]["duration"] = "gamma(5m, 90s)"
    built = Process.model_validate(data)
    assert listed(diff(base, built)) == [
        ("changed", "rate of arrivals", "8/h", "9/h"),
        ("changed", "duration of step 'intake'", "exponential(6m)", "gamma(5m, 1.5m)"),
    ]


def test_kpis_follow_analyze(base: Process) -> None:
    new = base.apply(procflow.load_change(CHANGES / "hire-support-agent.yaml"))
    result = diff(base, new)
    kpis = {k.kpi: k for k in result.kpis}
    before, after = analyze(base), analyze(new)
    agent = kpis["utilization:support-agent"]
    assert agent.old == pytest.approx(before.loads["support-agent"].utilization)
    assert agent.new == pytest.approx(agent.old * 5 / 6)
    assert agent.difference == pytest.approx(agent.new - agent.old)
    cycle = kpis["cycle_time.expected"]
    assert (cycle.old, cycle.new) == (before.cycle_time.expected, after.cycle_time.expected)
    assert cycle.difference is not None
    assert cycle.difference < 0
    assert kpis["bottleneck"].old == before.bottleneck
    assert kpis["throughput_per_hour"].difference == 0


def test_a_version_that_cannot_be_analyzed_still_has_its_structure(base: Process) -> None:
    data = base.document
    del data["arrivals"]
    result = diff(base, Process.model_validate(data))
    assert [(c.kind, c.what) for c in result.changes] == [("removed", "arrivals")]
    assert result.old.analysis_error is None
    assert result.new.analysis_error is not None
    assert "arrivals" in result.new.analysis_error
    assert all(k.new is None for k in result.kpis)
    assert result.to_dict()["new"]["analysis_error"] == result.new.analysis_error


def test_simulate_is_procflow_compare_on_common_random_numbers(base: Process) -> None:
    new = base.apply(procflow.load_change(CHANGES / "hire-support-agent.yaml"))
    result = diff(base, new, simulate=True, cases=1500, runs=4, seed=3, jobs=1)
    assert result.simulation is not None
    assert result.simulation.error is None
    comparison = procflow.compare(base, new, names=["new"], cases=1500, runs=4, seed=3, jobs=1)
    rows = {row.kpi: row for row in result.simulation.effects}
    expected = comparison.differences["new"]["utilization:support-agent"]
    row = rows["utilization:support-agent"]
    assert (row.old, row.new, row.difference) == (
        expected.baseline,
        expected.value,
        expected.difference,
    )
    assert row.significant is True
    assert row.difference is not None
    assert row.difference < 0
    assert result.to_dict()["simulation"]["runs"] == 4


def test_the_api_is_public_and_takes_paths(tmp_path: Path) -> None:
    new = tmp_path / "cs.yaml"
    new.write_text(TEXT.replace("capacity: 4", "capacity: 3"), encoding="utf-8")
    result = procflow.diff(CUSTOMER_SERVICE_247, new)
    assert listed(result) == [("changed", "capacity of owner 'tier2'", "4", "3")]
    document = result.to_dict()
    assert document["version"] == 1
    assert document["summary"] == {"added": 0, "removed": 0, "changed": 1}
    assert document["changes"][0]["position"] == {
        "file": str(new),
        "line": line_of(TEXT, "capacity: 4"),
        "column": 15,
    }
    with pytest.raises(TypeError, match="diff"):
        procflow.diff(base_process := procflow.load(CUSTOMER_SERVICE_247), 42)  # type: ignore[arg-type]
    assert base_process.id == "customer-service"


class Shift(BaseModel):
    """A record with an id, as later issues add (calendars, shifts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    start: str
    end: str


class Calendar(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "UTC"
    shifts: list[Shift] = Field(default_factory=list)
    holidays: list[str] = Field(default_factory=list)


class FutureProcess(Process):
    """The model with keys it does not have yet: the diff needs no new code for them."""

    calendars: dict[str, Calendar] = Field(default_factory=dict)


def test_keys_the_model_gains_later_are_diffed_without_new_code(base: Process) -> None:
    document = base.document
    document["calendars"] = {
        "office": {"shifts": [{"id": "early", "start": "08:00", "end": "12:00"}]},
        "old": {"timezone": "Europe/Paris"},
    }
    old = FutureProcess.model_validate(document)
    document["calendars"] = {
        "office": {
            "timezone": "Europe/Berlin",
            "shifts": [
                {"id": "early", "start": "08:00", "end": "13:00"},
                {"id": "late", "start": "13:00", "end": "17:00"},
            ],
            "holidays": ["2027-01-01"],
        },
        "new": {},
    }
    new = FutureProcess.model_validate(document)
    assert listed(diff(old, new)) == [
        ("changed", "timezone of calendar 'office'", "UTC", "Europe/Berlin"),
        ("changed", "end of shift 'early' of calendar 'office'", "12:00", "13:00"),
        (
            "added",
            "shift 'late' of calendar 'office'",
            None,
            "{id: late, start: 13:00, end: 17:00}",
        ),
        ("changed", "holidays of calendar 'office'", "[]", "[2027-01-01]"),
        ("added", "calendar 'new'", None, "{}"),
        ("removed", "calendar 'old'", "{timezone: Europe/Paris}", None),
    ]


def test_goal_estimates_and_verdicts_are_kpis(base: Process) -> None:
    mean_goal = edited(("stat: p90 ", "stat: mean "))
    tighter = edited(("stat: p90 ", "stat: mean "), ('target: "<= 24h"', 'target: "<= 1h"'))
    result = diff(mean_goal, tighter)
    (goal,) = [k for k in result.kpis if k.kpi == "goal:resolve-within-a-day"]
    expected = analyze(mean_goal).cycle_time.expected
    assert (goal.old, goal.new) == (expected, expected)
    assert (goal.old_met, goal.new_met) == (True, False)
    assert goal.changed
    assert goal.label == "goal resolve-within-a-day (mean cycle_time <= 1h)"


@pytest.mark.parametrize("change_file", sorted(CHANGES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_committed_change_file_is_found_where_it_is_written(change_file: Path) -> None:
    """Whatever a change file adds or changes is placed in the change file; nothing else moves."""
    change = procflow.load_change(change_file)
    target = next(
        p for p in PROCESSES.glob("*.yaml") if f"processes/{p.name}" in change_file.read_text()
    )
    old = procflow.load(target)
    result = diff(old, old.apply(change))
    assert result.changes
    for entry in result.changes:
        if entry.kind == "removed":
            assert entry.position.file == str(target), entry
        else:
            assert entry.position.file == str(change_file), entry
        assert entry.path[0] in change.patch, entry
