"""``procflow import``: BPMN files as Camunda Modeler, bpmn.io and Signavio write them.

Each fixture in tests/fixtures/bpmn/ is imported, must lint without errors and
simulate; the numbers checked are what the BPMN and its parameters say
(probabilities multiplied through gateways, durations, pool sizes, timers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import procflow
from helpers import ROOT, run, write
from procflow.bpmn import BpmnError, import_bpmn
from procflow.bpmn.timers import iso_seconds

FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
INVOICE = FIXTURES / "invoice-approval.bpmn"
SUPPORT = FIXTURES / "support-ticket.bpmn"
ORDER = FIXTURES / "order-two-pools.bpmn"


def imported(path: Path, params: Path | None = None) -> procflow.Process:
    return procflow.load_text(import_bpmn(path, params).text, str(path))


def errors(process: procflow.Process) -> list[str]:
    return [f"{f.code} {f.message}" for f in procflow.lint(process) if str(f.severity) == "error"]


def test_camunda_file_with_lanes_gateways_loop_and_timer() -> None:
    p = imported(INVOICE, FIXTURES / "invoice-approval.json")
    assert errors(p) == []
    assert p.id == "invoice-approval"
    assert p.title == "Invoice approval"
    assert list(p.owners) == ["accounts-clerk", "manager", "accounting", "wait"]
    # profile matched by lane id (2 + 1 clerks) and by lane name (one manager)
    assert p.owners["accounts-clerk"].capacity == 3
    assert p.owners["manager"].capacity == 1
    assert p.owners["manager"].cost_per_hour == 60
    assert p.owners["wait"].external
    assert p.start == "record-invoice"
    record = p.steps["record-invoice"]
    assert record.activity == "Record invoice"
    assert record.owner == "accounts-clerk"
    assert record.duration is not None
    assert record.duration.mean == pytest.approx(300)
    # a gateway after a gateway: 0.4 x 0.75 and 0.4 x 0.25, exactly
    shares = {t.to: t.p for t in record.transitions}
    assert shares == pytest.approx(
        {"pay-invoice": 0.6, "approve-invoice": 0.3, "check-supplier": 0.1}
    )
    assert {t.trigger for t in record.transitions} == {
        "below-1000-eur",
        "to-1000-eur-or-more-known",
        "to-1000-eur-or-more-new-supplier",
    }
    # the timer: P1DT12H as a delay of the external wait owner, on the loop back
    wait = p.steps["supplier-answers"]
    assert wait.owner == "wait"
    assert wait.duration is not None
    assert wait.duration.mean == 36 * 3600
    (back,) = wait.transitions
    assert back.to == "approve-invoice"
    assert back.feedback
    assert not any(t.feedback for _s, t in p.edges() if t is not back)
    assert p.steps["invoice-paid"].end
    assert p.steps["invoice-rejected"].end
    assert p.arrivals is not None
    assert p.arrivals.rate_per_hour == pytest.approx(2.0)


def test_imported_process_simulates_with_the_bpmn_shares() -> None:
    p = imported(INVOICE, FIXTURES / "invoice-approval.json")
    result = procflow.simulate(p, cases=4000, runs=2, seed=3)
    # every case is recorded once; 10% check a new supplier
    assert result.steps["record-invoice"].visits.mean == pytest.approx(1.0)
    assert result.steps["check-supplier"].visits.mean == pytest.approx(0.1, abs=0.02)
    # approval: 0.4 per case, then 1/(1-0.15) visits for the clarification loop
    assert result.steps["approve-invoice"].visits.mean == pytest.approx(0.4 / 0.85, rel=0.08)


def test_bpmn_io_file_without_lanes_names_what_it_cannot_represent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "support.yaml"
    code, _out, err = run(capsys, "import", SUPPORT, "-o", out)
    assert code == 0
    for element, line in (
        ("boundaryEvent 'Event_timeout'", 39),
        ("task 'Task_escalate'", 43),
    ):
        assert f"{SUPPORT}:{line}:5: warning: {element}" in err
    assert "parallelGateway" not in err  # forks and joins are represented
    assert "no branching probabilities for Gateway_resolved (no --params)" in err
    text = out.read_text(encoding="utf-8")
    assert "# note: boundaryEvent Event_timeout (line 39)" in text
    p = procflow.load(out)
    assert errors(p) == []
    # no lanes: one owner, and a warning saying so; 'wait' owns the gateway steps
    assert list(p.owners) == ["staff", "wait"]
    assert "escalate" not in p.steps  # reached only from the boundary event
    triage = p.steps["triage-ticket"]
    # equal shares at the first gateway; the parallel split after the choice is a gateway
    # step that does no work, and so is the join before the merge
    assert {t.to: t.p for t in triage.transitions} == {
        "answer-question": 0.5,
        "gateway_fork": 0.5,
    }
    fork, join = p.steps["gateway_fork"], p.steps["gateway_join"]
    assert fork.parallel == ["fix-bug", "notify-customer"]
    assert (join.join, join.next) == ("all", "customer-confirms")
    assert fork.duration is not None
    assert fork.duration.mean == 0.0
    assert p.steps["fix-bug"].next == p.steps["notify-customer"].next == "gateway_join"
    # the loop back to triage found by a depth-first search from the start
    confirm = p.steps["customer-confirms"]
    assert [(t.to, t.feedback) for t in confirm.transitions] == [
        ("ticket-closed", False),
        ("triage-ticket", True),
    ]


def test_strict_makes_unrepresentable_elements_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "support.yaml"
    code, _out, err = run(capsys, "import", SUPPORT, "--strict", "-o", out)
    assert code == 2
    assert f"{SUPPORT}:39:5: error: boundaryEvent 'Event_timeout'" in err
    assert "parallelGateway" not in err
    assert not out.exists()
    code, _out, err = run(capsys, "import", INVOICE, "--strict", "-o", out)
    assert code == 0
    assert out.exists()


def test_signavio_prefix_two_pools_nested_lanes_and_start_gateway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "import", ORDER, "--params", FIXTURES / "order-two-pools.json")
    assert code == 0
    assert f"{ORDER}:7:5: warning: messageFlow 'sid-order-message'" in err
    p = procflow.load_text(out, "order.yaml")
    assert errors(p) == []
    assert p.id == "order-handling"
    # innermost lanes are the roles; the parent lane holds no node of its own
    assert list(p.owners) == ["sales-desk", "web-team", "warehouse", "wait"]
    assert p.owners["warehouse"].capacity == 4
    # the start event leads to a gateway: a zero-length start step makes the choice
    assert p.start == "start"
    assert {t.to: t.p for t in p.steps["start"].transitions} == {
        "take-phone-order": 0.2,
        "import-web-order": 0.8,
    }
    # the throw event is passed through; all task kinds are steps
    assert p.steps["check-credit"].next == "pick-and-pack"
    assert p.steps["check-credit"].duration is not None
    assert p.steps["check-credit"].duration.args() == (60.0, 120.0, 300.0)
    assert p.steps["import-web-order"].owner == "web-team"
    assert p.steps["restocked"].duration is not None
    assert p.steps["restocked"].duration.mean == 4 * 3600
    assert p.arrivals is not None
    assert p.arrivals.every is not None
    assert p.arrivals.every.mean == 600
    assert p.arrivals.every.sd == pytest.approx(300)
    result = procflow.simulate(p, cases=1000, runs=2, seed=1)
    assert result.steps["pick-and-pack"].visits.mean == pytest.approx(1 / 0.9, rel=0.05)


def test_disconnected_task_is_a_lint_error_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = ORDER.read_text(encoding="utf-8").replace(
        "</semantic:process>",
        '<semantic:manualTask id="sid-archive" name="Archive paperwork" /></semantic:process>',
    )
    path = write(tmp_path, "order.bpmn", text)
    code, out, err = run(capsys, "import", path)
    assert code == 1
    assert "PF103 step 'archive-paperwork' cannot be reached" in err
    assert "archive-paperwork:" in out  # written all the same, to be fixed


def test_ids_are_slugified_and_unique(tmp_path: Path) -> None:
    flow = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate([("s", "a"), ("a", "b"), ("b", "c"), ("c", "e")])
    )
    text = f"""<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
 <process id="P">
  <startEvent id="s"/><task id="a" name="Prüfen &amp; Freigeben!"/>
  <task id="b" name="Prüfen &amp; freigeben"/>
  <userTask id="c" name="42"/><endEvent id="e"/>{flow}
 </process></definitions>"""
    p = imported(write(tmp_path, "ids.bpmn", text))
    assert list(p.steps) == ["prufen-freigeben", "prufen-freigeben-2", "step-42", "e"]
    assert p.steps["prufen-freigeben"].activity == "Prüfen & Freigeben!"
    assert errors(p) == []


def test_params_multiply_through_a_gateway_after_a_gateway(tmp_path: Path) -> None:
    text = """<?xml version="1.0"?>
<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL"
  id="d" targetNamespace="x">
 <bpmn2:process id="P">
  <bpmn2:startEvent id="s"/><bpmn2:task id="a" name="A"/>
  <bpmn2:exclusiveGateway id="g1"/><bpmn2:exclusiveGateway id="g2"/>
  <bpmn2:task id="b" name="B"/><bpmn2:task id="c" name="C"/><bpmn2:task id="d" name="D"/>
  <bpmn2:endEvent id="e"/>
  <bpmn2:sequenceFlow id="f0" sourceRef="s" targetRef="a"/>
  <bpmn2:sequenceFlow id="f1" sourceRef="a" targetRef="g1"/>
  <bpmn2:sequenceFlow id="f2" name="x" sourceRef="g1" targetRef="b"/>
  <bpmn2:sequenceFlow id="f3" name="y" sourceRef="g1" targetRef="g2"/>
  <bpmn2:sequenceFlow id="f4" sourceRef="g2" targetRef="c"/>
  <bpmn2:sequenceFlow id="f5" sourceRef="g2" targetRef="d"/>
  <bpmn2:sequenceFlow id="f6" sourceRef="b" targetRef="e"/>
  <bpmn2:sequenceFlow id="f7" sourceRef="c" targetRef="e"/>
  <bpmn2:sequenceFlow id="f8" sourceRef="d" targetRef="e"/>
 </bpmn2:process></bpmn2:definitions>"""
    params = write(
        tmp_path,
        "p.json",
        '{"gateway_branching_probabilities": ['
        '{"gateway_id": "g1", "probabilities": [{"path_id": "f2", "value": 0.3},'
        ' {"path_id": "f3", "value": 0.7}]},'
        '{"gateway_id": "g2", "probabilities": [{"path_id": "f4", "value": 0.1},'
        ' {"path_id": "f5", "value": 0.9}]}]}',
    )
    p = imported(write(tmp_path, "gg.bpmn", text), params)
    assert {(t.trigger, t.to): t.p for t in p.steps["a"].transitions} == pytest.approx(
        {("x", "b"): 0.3, ("y", "c"): 0.07, ("y-2", "d"): 0.63}
    )
    assert errors(p) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT2H", 7200.0),
        ("P1DT30M", 88200.0),
        ("PT90S", 90.0),
        ("P2W", 1209600.0),
        ("PT1.5H", 5400.0),
    ],
)
def test_iso_durations(text: str, seconds: float) -> None:
    assert iso_seconds(text) == seconds


@pytest.mark.parametrize("text", ["P1M", "P1Y", "PT", "P", "2h", "R3/PT1H"])
def test_iso_durations_procflow_does_not_read(text: str) -> None:
    assert iso_seconds(text) is None


def test_gateway_loop_without_activity_is_a_positioned_error(tmp_path: Path) -> None:
    text = """<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="P"><startEvent id="s"/><task id="a" name="A"/>
<exclusiveGateway id="g1"/>
<exclusiveGateway id="g2"/><endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="a"/>
<sequenceFlow id="f1" sourceRef="a" targetRef="g1"/>
<sequenceFlow id="f2" sourceRef="g1" targetRef="g2"/>
<sequenceFlow id="f3" sourceRef="g2" targetRef="g1"/>
<sequenceFlow id="f4" sourceRef="g2" targetRef="e"/>
</process></definitions>"""
    path = write(tmp_path, "loop.bpmn", text)
    with pytest.raises(BpmnError, match=r"loop\.bpmn:4:1: gateway g1 is on a loop of gateways"):
        import_bpmn(path)


def test_cut_off_follows_chains_and_keeps_disconnected_steps() -> None:
    from procflow.bpmn.steps import cut_off

    steps = {
        "a": {"next": "z"},
        "b": {"next": "c"},  # reached only from a boundary event that was left out
        "c": {"next": "z"},  # reached only from b
        "d": {"next": "z"},  # reached from nothing at all: for the linter (PF103) to report
        "z": {"end": True},
    }
    assert cut_off(steps, "a", {"b"}) == ["b", "c"]
    assert cut_off(steps, "a", set()) == []


def test_prosimos_model_without_lanes_takes_owners_from_resource_profiles() -> None:
    """The BPMN and parameters the benchmarks give Prosimos (written for it, not for import)."""
    peers = ROOT / "benchmarks" / "peers"
    p = imported(peers / "customer-service.bpmn", peers / "customer-service.json")
    assert errors(p) == []
    assert {k: v.capacity for k, v in p.owners.items() if not v.external} == {
        "support-agent": 6,
        "tier2": 4,
    }
    assert p.steps["escalate"].owner == "tier2"
    assert p.steps["intake"].owner == "support-agent"
    assert {t.to: t.p for t in p.steps["triage"].transitions} == {"resolve": 0.7, "escalate": 0.3}
    reopened = [t for t in p.steps["confirm"].transitions if t.to == "triage"]
    assert [(t.p, t.feedback) for t in reopened] == [(0.15, True)]
    assert p.steps["confirm"].duration is not None
    assert p.steps["confirm"].duration.mean == 4 * 3600
    assert p.arrivals is not None
    assert p.arrivals.rate_per_hour == pytest.approx(12.0)


RULES_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler">
  <bpmn:process id="Payments" name="Payments" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="Check" />
    <bpmn:userTask id="Check" name="Check payment" />
    <bpmn:sequenceFlow id="f1" sourceRef="Check" targetRef="Amount" />
    <bpmn:exclusiveGateway id="Amount" name="Amount?" default="small">
      <bpmn:incoming>f1</bpmn:incoming>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="small" name="small" sourceRef="Amount" targetRef="Pay" />
    <bpmn:sequenceFlow id="large" name="large" sourceRef="Amount" targetRef="Region">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >${amount &gt;= 1000}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:exclusiveGateway id="Region" default="other" />
    <bpmn:sequenceFlow id="eu" name="eu" sourceRef="Region" targetRef="Approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >region == 'eu'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="other" name="other" sourceRef="Region" targetRef="Review" />
    <bpmn:task id="Approve" name="Approve" />
    <bpmn:task id="Review" name="Review" />
    <bpmn:task id="Pay" name="Pay" />
    <bpmn:sequenceFlow id="f2" sourceRef="Approve" targetRef="Pay" />
    <bpmn:sequenceFlow id="f3" sourceRef="Review" targetRef="Pay" />
    <bpmn:sequenceFlow id="f4" sourceRef="Pay" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_conditions_and_default_flows_become_rules(tmp_path: Path) -> None:
    result = import_bpmn(write(tmp_path, "rules.bpmn", RULES_BPMN))
    assert result.notices == ()
    p = procflow.load_text(result.text, "rules.yaml")
    rules = [(t.to, t.when, t.p) for t in p.steps["check-payment"].transitions]
    # conditional ways first (BPMN's order), a nested default keeps its outer condition,
    # the outer default comes last without a condition; no shares on a conditional choice
    assert rules == [
        ("approve", "(amount >= 1000) and (region == 'eu')", None),
        ("review", "amount >= 1000", None),
        ("pay", None, None),
    ]
    assert not any("branching probabilities" in w for w in result.warnings)


def test_a_condition_procflow_cannot_read_is_named_with_flow_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = RULES_BPMN.replace("${amount &gt;= 1000}", "${amount.value() &gt; 5}")
    path = write(tmp_path, "juel.bpmn", text)
    result = import_bpmn(path)
    (notice,) = result.notices
    assert (notice.element, notice.id) == ("sequenceFlow", "large")
    assert notice.line == text[: text.index('id="large"')].count("\n") + 1
    assert "amount.value() > 5" in notice.message
    assert "shares instead of conditions" in notice.message
    p = procflow.load_text(result.text, "juel.yaml")
    ways = {t.to: (t.p, t.when) for t in p.steps["check-payment"].transitions}
    # the outer gateway falls back to equal shares, and then the ways mix shares and a
    # condition: shares win (a step is all shares or all conditions), and a warning says so
    assert ways == {"pay": (0.5, None), "approve": (0.25, None), "review": (0.25, None)}
    assert any("mix conditions and shares" in w for w in result.warnings)
    assert errors(p) == []
    code, _out, err = run(capsys, "import", path, "--strict")
    assert code == 2
    assert "sequenceFlow 'large'" in err


def test_prosimos_calendars_and_attributes_from_simod_style_params(tmp_path: Path) -> None:
    """A resource calendar over a range of days, as Simod writes it, and case attributes."""
    params = write(
        tmp_path,
        "rules.json",
        """{
  "resource_profiles": [{"id": "clerks", "name": "Clerks", "resource_list": [
    {"id": "ann", "amount": 2, "cost_per_hour": 30, "calendar": "day-shift"}]}],
  "task_resource_distribution": [{"task_id": "Check", "resources": [
    {"resource_id": "ann", "distribution_name": "expon",
     "distribution_params": [{"value": 600}, {"value": 0}, {"value": 1e9}]}]}],
  "resource_calendars": [
    {"id": "day-shift", "name": "day shift", "time_periods": [
      {"from": "MONDAY", "to": "FRIDAY", "beginTime": "08:00:00", "endTime": "16:00:00"},
      {"from": "SATURDAY", "to": "SATURDAY", "beginTime": "22:00:00", "endTime": "02:00:00"}]},
    {"id": "all", "name": "all", "time_periods": [
      {"from": "MONDAY", "to": "SUNDAY", "beginTime": "00:00:00", "endTime": "23:59:59"}]}],
  "arrival_time_calendar": [
    {"from": "MONDAY", "to": "FRIDAY", "beginTime": "08:00:00", "endTime": "16:00:00"}],
  "arrival_time_distribution": {"distribution_name": "expon",
    "distribution_params": [{"value": 300}, {"value": 0}, {"value": 1e9}]},
  "case_attributes": [
    {"name": "region", "type": "discrete",
     "values": [{"key": "eu", "value": 0.6}, {"key": "us", "value": 0.4}]},
    {"name": "amount", "type": "continuous", "values": {"distribution_name": "expon",
     "distribution_params": [{"value": 1500}, {"value": 0}, {"value": 1e9}]}}]
}""",
    )
    result = import_bpmn(write(tmp_path, "rules.bpmn", RULES_BPMN), params)
    p = procflow.load_text(result.text, "rules.yaml")
    # open around the clock ("all") needs no calendar; the arrivals' hours are none of the others
    assert list(p.calendars) == ["day-shift", "arrivals"]
    assert p.calendars["arrivals"].hours == {"mon-fri": "08:00-16:00"}
    hours = p.calendars["day-shift"].hours
    assert hours == {"mon-fri": "08:00-16:00", "sat": "22:00-24:00", "sun": "00:00-02:00"}
    assert p.owners["clerks"].calendar == "day-shift"
    assert p.owners["clerks"].capacity == 2
    assert p.arrivals is not None
    assert (p.arrivals.rate, p.arrivals.calendar) == (pytest.approx(1 / 300), "arrivals")
    assert str(p.attributes["region"]) == "{eu: 60%, us: 40%}"
    assert str(p.attributes["amount"]) == "exponential(1500)"
    assert p.steps["check-payment"].transitions[0].when == "(amount >= 1000) and (region == 'eu')"
    assert errors(p) == []
