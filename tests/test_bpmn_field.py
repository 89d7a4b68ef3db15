"""BPMN as modelers and people really write it: every file imports or is refused with a position.

Each test is a defect found by a robustness sweep of ``procflow import`` over
files shaped like Camunda Modeler, bpmn.io, Signavio and hand-edited exports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run, write

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:procflow="https://procflow.dev/bpmn" id="d">\n'
)
TAIL = "\n</bpmn:definitions>\n"


def bpmn(tmp_path: Path, name: str, process: str) -> Path:
    return write(tmp_path, name, HEAD + process + TAIL)


def imported(capsys: pytest.CaptureFixture[str], path: Path, *more: str) -> tuple[int, str, str]:
    code, out, err = run(capsys, "import", path, *more)
    assert "crashed" not in err
    return code, out, err


CHOICE = (
    '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Check"/>'
    '<bpmn:exclusiveGateway id="g"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:sequenceFlow id="f0" sourceRef="t" targetRef="g"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e" {a}/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2" {b}/></bpmn:process>'
)


@pytest.mark.parametrize(
    ("a", "b", "shown"),
    [
        ('procflow:p="abc"', 'procflow:p="0.5"', "procflow:p='abc' of sequenceFlow 'f2'"),
        ('procflow:p="0.5"', 'procflow:p="inf"', "procflow:p='inf' of sequenceFlow 'f3'"),
        ('procflow:max="x"', "", "procflow:max='x' of sequenceFlow 'f2'"),
        ('procflow:max="2.5"', "", "procflow:max='2.5' of sequenceFlow 'f2' is not a whole"),
        (
            'procflow:max="0"',
            "",
            "procflow:max='0' of sequenceFlow 'f2' is not a whole number of 1",
        ),
    ],
)
def test_procflow_number_attributes_that_are_not_numbers_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, a: str, b: str, shown: str
) -> None:
    path = bpmn(tmp_path, "edited.bpmn", CHOICE.format(a=a, b=b))
    code, out, err = imported(capsys, path)
    assert code == 2
    assert out == ""
    assert "edited.bpmn:3:" in err
    assert shown in err


def test_lane_capacity_that_is_not_a_number_is_a_positioned_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = bpmn(
        tmp_path,
        "lane.bpmn",
        '<bpmn:process id="p"><bpmn:laneSet id="ls">\n'
        '<bpmn:lane id="L" name="Team" procflow:capacity="two">'
        "<bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="s"/><bpmn:task id="t"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, _out, err = imported(capsys, path)
    assert code == 2
    assert "lane.bpmn:4:1: procflow:capacity='two' of lane 'L'" in err


SIMPLE = (
    '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="A"/>'
    '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>\n'
    '<bpmn:sequenceFlow id="{second}" sourceRef="t" targetRef="e"/></bpmn:process>'
)


@pytest.mark.parametrize("second", ["f1", "t"])
def test_a_sequence_flow_id_used_twice_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, second: str
) -> None:
    """Not "the start event has no outgoing flow": the second flow silently replaced the first."""
    path = bpmn(tmp_path, "twice.bpmn", SIMPLE.format(second=second))
    code, _out, err = imported(capsys, path)
    assert code == 2
    assert f"twice.bpmn:4:1: id '{second}' is used twice" in err


LOOPED = (
    '<bpmn:process id="p"><bpmn:startEvent id="s"/>\n'
    '<bpmn:userTask id="t" name="Review">\n'
    "<bpmn:{marker}/></bpmn:userTask>"
    '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>'
)


@pytest.mark.parametrize(
    "marker",
    [
        'standardLoopCharacteristics testBefore="false"',
        'multiInstanceLoopCharacteristics isSequential="true"',
    ],
)
def test_loop_markers_are_named_not_dropped_silently(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, marker: str
) -> None:
    path = bpmn(tmp_path, "loop.bpmn", LOOPED.format(marker=marker))
    tag = marker.split()[0]
    code, out, err = imported(capsys, path)
    assert code == 0
    assert "loop.bpmn:5:1: warning: userTask 't': " in err
    assert f"(<{tag}>) is not represented" in err
    assert "# note: userTask t (line 5): " in out
    code, out, err = imported(capsys, path, "--strict")
    assert code == 2
    assert out == ""


def test_a_collapsed_sub_process_as_bpmn_io_writes_it_is_one_step_without_a_notice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """bpmn.io writes ``incoming``/``outgoing`` (and data) inside every activity."""
    path = bpmn(
        tmp_path,
        "collapsed.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing>'
        '</bpmn:startEvent><bpmn:subProcess id="sp" name="Assess">'
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>"
        '<bpmn:property id="prop" name="__targetRef_placeholder"/>'
        '<bpmn:dataInputAssociation id="dia"><bpmn:targetRef>prop</bpmn:targetRef>'
        "</bpmn:dataInputAssociation></bpmn:subProcess>"
        '<bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path, "--strict")
    assert code == 0, err
    assert "sub-process" not in err + out
    assert "start: assess" in out


def test_an_expanded_sub_process_is_still_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = bpmn(
        tmp_path,
        "expanded.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/>\n<bpmn:subProcess id="sp" name="Assess">'
        '<bpmn:startEvent id="in"/><bpmn:task id="it"/>'
        '<bpmn:sequenceFlow id="i1" sourceRef="in" targetRef="it"/></bpmn:subProcess>'
        '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e"/></bpmn:process>',
    )
    code, _out, err = imported(capsys, path)
    assert code == 0
    assert "expanded.bpmn:4:1: warning: subProcess 'sp': the inside of a sub-process" in err


def lints_clean(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    code, _out, err = run(capsys, "lint", write(tmp_path, "imported.yaml", text), "--quiet")
    assert code == 0, err


def test_steps_after_a_gateway_after_a_boundary_event_are_left_out_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Not kept as steps nothing reaches (PF103): the boundary event's flows are left out."""
    path = bpmn(
        tmp_path,
        "boundary.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Work"/>'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"/><bpmn:exclusiveGateway id="g"/>\n'
        '<bpmn:task id="x" name="Escalate"/><bpmn:task id="y" name="Notify"/>'
        '<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="x"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="g" targetRef="y"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="x" targetRef="e2"/>'
        '<bpmn:sequenceFlow id="f7" sourceRef="y" targetRef="e2"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert (
        "boundary.bpmn:4:1: warning: task 'x': only reached from an element that is left out" in err
    )
    assert "escalate" not in out
    assert "notify" not in out
    lints_clean(capsys, tmp_path, out)


def test_steps_only_a_second_start_event_leads_to_are_left_out_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = bpmn(
        tmp_path,
        "starts.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:startEvent id="s2"/>'
        '<bpmn:task id="t" name="Online"/><bpmn:exclusiveGateway id="g"/>\n'
        '<bpmn:task id="t2" name="By post"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f1b" sourceRef="s2" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f1c" sourceRef="g" targetRef="t2"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="t2" targetRef="e"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert (
        "starts.bpmn:4:1: warning: task 't2': only reached from an element that is left out" in err
    )
    assert "by-post" not in out
    lints_clean(capsys, tmp_path, out)


def test_the_process_description_survives_export_and_import(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """It was dropped silently: the round trip is exact for the rest of the process."""
    source = write(
        tmp_path,
        "p.yaml",
        'process: p\ndescription: "Two\\nlines, \\"quoted\\" & <tagged>"\nowners: {team: {}}\n'
        "start: a\nsteps:\n  a: {owner: team, duration: 1m, next: done}\n  done: {end: true}\n",
    )
    code, _out, err = run(capsys, "export", source, "--to", "bpmn", "-o", tmp_path / "p.bpmn")
    assert code == 0, err
    code, out, err = imported(capsys, tmp_path / "p.bpmn")
    assert code == 0, err
    assert 'description: "Two\\nlines, \\"quoted\\" & <tagged>"\n' in out


def test_export_names_the_goals_and_raci_it_cannot_carry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """They were lost silently: export promises to name everything it drops."""
    source = write(
        tmp_path,
        "p.yaml",
        "process: p\nowners: {team: {}, boss: {}}\nstart: a\nsteps:\n"
        "  a: {owner: team, duration: 1m, next: done, consulted: [boss]}\n  done: {end: true}\n"
        "goals:\n  - {id: fast, metric: cycle_time, stat: p90, target: <= 2d}\n",
    )
    code, _out, err = run(capsys, "export", source, "--to", "bpmn", "-o", tmp_path / "p.bpmn")
    assert code == 0, err
    assert "p.yaml: note: goals (fast) are not exported" in err
    assert "p.yaml: note: consulted/informed of 1 step (a) are not exported" in err


def test_sequence_flows_without_an_id_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The BPMN schema makes ``id`` optional; generators (Activiti-style) leave it out."""
    path = write(
        tmp_path,
        "generated.bpmn",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
        '<process id="471ff134" name="471ff134"><startEvent id="start"></startEvent>'
        '<serviceTask id="task" name="A Task"></serviceTask>'
        '<serviceTask id="task2" name="Another Task"></serviceTask><endEvent id="end"/>'
        '<sequenceFlow sourceRef="start" targetRef="task"></sequenceFlow>'
        '<sequenceFlow sourceRef="task" targetRef="task2"></sequenceFlow>'
        '<sequenceFlow sourceRef="task2" targetRef="end"></sequenceFlow></process></definitions>',
    )
    code, out, err = imported(capsys, path, "--strict")
    assert code == 0, err
    assert "next: another-task" in out
    lints_clean(capsys, tmp_path, out)


def test_a_compensation_activity_is_left_out_and_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No sequence flow reaches it (an association does): kept, it was unreachable (PF103)."""
    path = bpmn(
        tmp_path,
        "compensate.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Book hotel"/>'
        '<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:compensateEventDefinition/>'
        '</bpmn:boundaryEvent>\n<bpmn:task id="c" name="Cancel hotel" isForCompensation="true"/>'
        '<bpmn:association id="a" associationDirection="One" sourceRef="b" targetRef="c"/>'
        '<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "compensate.bpmn:4:1: warning: task 'c': a compensation activity is not" in err
    assert "cancel-hotel" not in out
    lints_clean(capsys, tmp_path, out)


def test_link_events_join_the_flow_they_cut(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A link throw event goes on at the catch event of its name (an off-page connector)."""
    path = bpmn(
        tmp_path,
        "link.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Part one"/>'
        '<bpmn:intermediateThrowEvent id="lt" name="to B"><bpmn:linkEventDefinition id="d1" '
        'name="B"/></bpmn:intermediateThrowEvent><bpmn:intermediateCatchEvent id="lc" name="B">'
        '<bpmn:linkEventDefinition id="d2" name="B"/></bpmn:intermediateCatchEvent>'
        '<bpmn:task id="t2" name="Part two"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="lt"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="lc" targetRef="t2"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="t2" targetRef="e"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path, "--strict")
    assert code == 0, err
    assert "next: part-two" in out
    assert "owner: wait" not in out  # the catch event is no delay step
    lints_clean(capsys, tmp_path, out)


def test_an_inclusive_gateway_with_conditions_says_it_is_imported_by_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The notice said "equal shares" while the file got the conditions (`when:`)."""
    path = bpmn(
        tmp_path,
        "inclusive.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Check"/>\n'
        '<bpmn:inclusiveGateway id="g" default="f3"/><bpmn:endEvent id="e"/>'
        '<bpmn:endEvent id="e2"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="t" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e"><bpmn:conditionExpression '
        'xsi:type="bpmn:tFormalExpression">${amount &gt; 100}</bpmn:conditionExpression>'
        '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2"/>'
        "</bpmn:process>",
    )
    code, out, err = imported(capsys, path)
    assert 'when: "amount > 100"' in out
    assert "inclusive.bpmn:4:1: warning: inclusiveGateway 'g': inclusiveGateway (split)" in err
    assert "equal shares" not in err
    assert "imported as an exclusive choice: the first flow whose condition holds" in err
    assert code == 1  # PF801: the attribute `amount` is not declared (no --params)


def test_an_id_with_a_line_break_in_a_note_does_not_break_the_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """XML allows ``&#10;`` (and U+0085, U+2028) in an id; the ``# note:`` ended there."""
    path = bpmn(
        tmp_path,
        "breaks.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Check"/>'
        '<bpmn:inclusiveGateway id="g&#10;x&#x85;y&#x2028;z"/><bpmn:endEvent id="e"/>'
        '<bpmn:endEvent id="e2"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="t" targetRef="g&#10;x&#x85;y&#x2028;z"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="g&#10;x&#x85;y&#x2028;z" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="g&#10;x&#x85;y&#x2028;z" targetRef="e2"/>'
        "</bpmn:process>",
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "# note: inclusiveGateway g\\nx\\u0085y\\u2028z (line 3): " in out
    lints_clean(capsys, tmp_path, out)


FIXTURES = Path(__file__).parent / "fixtures" / "bpmn"


def test_parameters_saved_with_a_byte_order_mark_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Windows editors (Notepad) save JSON with a UTF-8 BOM: it was "not JSON"."""
    data = (FIXTURES / "invoice-approval.json").read_bytes()
    params = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + data)
    code, out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 0, err
    plain = imported(
        capsys, FIXTURES / "invoice-approval.bpmn", "--params", FIXTURES / "invoice-approval.json"
    )[1]
    assert out == plain


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        (
            ("task_resource_distribution", "expon", [0, 0, 1]),
            "task_resource_distribution[0].resources[0]: exponential: the mean must be greater",
        ),
        (
            ("task_resource_distribution", "uniform", [1200, 600]),
            "task_resource_distribution[0].resources[0]: uniform: min (20m) is greater than max",
        ),
        (
            ("arrival_time_distribution", "fix", [0, 0, 1]),
            "arrival_time_distribution: the mean time between arrivals must be positive",
        ),
    ],
)
def test_a_distribution_procflow_refuses_is_named_in_the_parameters(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    entry: tuple[str, str, list[float]],
    shown: str,
) -> None:
    """Not an error at a line of the process file that import did not write."""
    data = json.loads((FIXTURES / "invoice-approval.json").read_text(encoding="utf-8"))
    key, name, values = entry
    dist = {"distribution_name": name, "distribution_params": [{"value": v} for v in values]}
    if key == "arrival_time_distribution":
        data[key] = dist
    else:
        data[key][0]["resources"][0].update(dist)
    params = write(tmp_path, "sim.json", json.dumps(data))
    code, _out, err = imported(
        capsys, FIXTURES / "invoice-approval.bpmn", "--params", params, "-o", tmp_path / "p.yaml"
    )
    assert code == 2
    assert f"error: {params}: {shown}" in err
    assert "p.yaml" not in err
    assert not (tmp_path / "p.yaml").exists()


def with_calendar(tmp_path: Path, periods: list[dict[str, str]]) -> Path:
    data = json.loads((FIXTURES / "invoice-approval.json").read_text(encoding="utf-8"))
    data["resource_calendars"][0]["time_periods"] = periods
    return write(tmp_path, "sim.json", json.dumps(data))


def test_a_calendar_period_from_friday_to_monday_runs_over_the_weekend(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """It gave no day at all (``hours:`` empty): an import that failed on its own output."""
    period = {"from": "FRIDAY", "to": "MONDAY", "beginTime": "09:00:00", "endTime": "17:00:00"}
    params = with_calendar(tmp_path, [period])
    code, out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 0, err
    assert '"mon,fri,sat,sun": "09:00-17:00"' in out


def test_a_calendar_without_open_periods_is_named_in_the_parameters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    params = with_calendar(tmp_path, [])
    code, _out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 2
    assert f"error: {params}: resource_calendars[0]: no time period is open" in err


def test_camunda_8_feel_conditions_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Camunda 8 marks a FEEL condition with ``=`` and compares with ``=``: they fell to shares."""
    path = write(
        tmp_path,
        "c8.bpmn",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="d" '
        'exporter="Camunda Modeler" exporterVersion="5.20.0" '
        'modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.4.0">\n'
        '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        '<bpmn:serviceTask id="t" name="Score"><bpmn:extensionElements>'
        '<zeebe:taskDefinition type="score"/></bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:exclusiveGateway id="g" default="f4"/><bpmn:endEvent id="e1"/>'
        '<bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="t" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="e1"><bpmn:conditionExpression '
        'xsi:type="bpmn:tFormalExpression">=risk = "high"</bpmn:conditionExpression>'
        '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=amount &gt;= 1000'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e3"/></bpmn:process>'
        "</bpmn:definitions>",
    )
    code, out, err = imported(capsys, path)
    assert "is not one procflow reads" not in err
    assert 'when: "risk == \\"high\\""' in out
    assert 'when: "amount >= 1000"' in out
    assert code == 1  # PF801: the attributes are not declared (no --params)


def test_names_yaml_reads_as_null_or_booleans_make_ids_it_reads_as_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A task named "Null" became the step id ``null``: YAML read it as nothing (exit 2)."""
    path = bpmn(
        tmp_path,
        "words.bpmn",
        '<bpmn:process id="p" name="true"><bpmn:laneSet id="ls"><bpmn:lane id="L" name="False">'
        "<bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="s"/><bpmn:task id="t" name="Null"/><bpmn:exclusiveGateway id="g"/>'
        '<bpmn:endEvent id="e" name="false"/><bpmn:endEvent id="e2" name="TRUE"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f3" name="null" sourceRef="g" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "process: process-true\n" in out
    assert "start: step-null\n" in out
    assert "owner: owner-false\n" in out
    assert "to-null: {to: end-false, p: 0.5}" in out
    lints_clean(capsys, tmp_path, out)


def test_an_import_that_does_not_load_names_its_source_not_the_unwritten_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The errors named ``out.yaml``, which is never written (an import that goes wrong)."""
    import procflow.bpmn

    def broken(path: object, params: object = None) -> procflow.bpmn.BpmnImport:
        return procflow.bpmn.BpmnImport("process: p\nsteps: nope\n", "p", (), ())

    monkeypatch.setattr(procflow.bpmn, "import_bpmn", broken)
    path = bpmn(tmp_path, "any.bpmn", SIMPLE.format(second="f2"))
    code, _out, err = imported(capsys, path, "-o", tmp_path / "out.yaml")
    assert code == 2
    assert "out.yaml" not in err
    assert f"<imported from {path}>:" in err
    assert not (tmp_path / "out.yaml").exists()


def test_process_level_elements_without_an_id_are_not_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``auditing``, ``monitoring`` and performers carry no flow and need no id: exit 2 before."""
    path = bpmn(
        tmp_path,
        "roles.bpmn",
        '<bpmn:process id="p"><bpmn:auditing/><bpmn:monitoring/><bpmn:performer>'
        "<bpmn:resourceRef>clerk</bpmn:resourceRef></bpmn:performer>"
        '<bpmn:startEvent id="s"/><bpmn:task id="t" name="A"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path, "--strict")
    assert code == 0, err
    assert "start: a\n" in out


def test_an_unknown_element_without_an_id_is_left_out_and_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = bpmn(
        tmp_path,
        "unknown.bpmn",
        '<bpmn:process id="p">\n<bpmn:callChoreography/><bpmn:startEvent id="s"/>'
        '<bpmn:task id="t" name="A"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, _out, err = imported(capsys, path)
    assert code == 0, err
    assert "unknown.bpmn:4:1: warning: callChoreography '?': <callChoreography> is not" in err


@pytest.mark.parametrize(
    ("attribute", "shown"),
    [
        ('procflow:step="Bad Id!"', "procflow:step='Bad Id!' of task 't' is not an id"),
        ('procflow:owner="x y"', "procflow:owner='x y' of task 't' is not an id"),
        ('procflow:step="null"', "procflow:step='null' of task 't' is not an id"),
        ('procflow:duration="banana"', "procflow:duration='banana' of task 't': 'banana' is not"),
    ],
)
def test_procflow_attributes_that_are_not_ids_or_durations_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, attribute: str, shown: str
) -> None:
    """They surfaced as errors at lines of a process file the user never sees."""
    path = bpmn(
        tmp_path,
        "edited.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/>\n'
        f'<bpmn:task id="t" name="A" {attribute}/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, _out, err = imported(capsys, path)
    assert code == 2
    assert f"edited.bpmn:4:1: {shown}" in err
    assert "<imported from" not in err


@pytest.mark.parametrize(
    ("arrivals", "shown"),
    [
        ("bogus", "expected 'rate: 12/h' or 'every: exponential(5m)'"),
        ("rate: banana", "'banana' is not a rate"),
        ("every: banana", "'banana' is not a duration"),
    ],
)
def test_procflow_arrivals_that_do_not_read_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arrivals: str, shown: str
) -> None:
    path = bpmn(
        tmp_path,
        "edited.bpmn",
        f'<bpmn:process id="p" procflow:arrivals="{arrivals}"><bpmn:startEvent id="s"/>'
        '<bpmn:task id="t" name="A"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process>',
    )
    code, _out, err = imported(capsys, path)
    assert code == 2
    assert f"edited.bpmn:3:1: procflow:arrivals='{arrivals}' of process 'p': {shown}" in err


APART = (
    '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:task id="t" name="Order"/>'
    '<bpmn:parallelGateway id="g"/><bpmn:task id="a" name="Ship"/>'
    '<bpmn:endEvent id="e1" name="Shipped"/><bpmn:endEvent id="e2" name="Billed"/>{more}'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="g"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="a"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"/>'
    '<bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="e1"/>{flows}</bpmn:process>'
)


def test_parallel_branches_that_end_apart_join_before_the_end(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Sound BPMN (the case ends when every branch has): it imported as a fork never joined."""
    path = bpmn(tmp_path, "apart.bpmn", APART.format(more="", flows=""))
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "parallel: [ship, order-branch-2]" in out
    assert "  order-all-ended:\n    owner: wait\n    duration: 0s\n    join: all\n" in out
    assert "the branches of fork order end apart" in err
    assert "end steps billed are left out" in err
    lints_clean(capsys, tmp_path, out)


def test_parallel_branches_reached_from_outside_are_left_as_they_are(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A way into the branches from outside the fork: no join can be placed safely."""
    path = bpmn(
        tmp_path,
        "outside.bpmn",
        '<bpmn:process id="p"><bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="x"/>'
        '<bpmn:task id="t" name="Order"/><bpmn:task id="late" name="Late"/>'
        '<bpmn:parallelGateway id="g"/><bpmn:task id="a" name="Ship"/>'
        '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="x"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="x" targetRef="t"/>'
        '<bpmn:sequenceFlow id="f1b" sourceRef="x" targetRef="late"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="a"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="a" targetRef="e1"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="late" targetRef="a"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert "all-ended" not in out + err
    assert code == 1  # PF701: the fork's branches still never join


def test_of_two_pools_the_one_with_the_most_activities_is_imported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A collaboration with the customer's small pool drawn first imported the customer."""
    path = bpmn(
        tmp_path,
        "collab.bpmn",
        '<bpmn:collaboration id="c"><bpmn:participant id="pc" name="Customer" processRef="pc_p"/>'
        '<bpmn:participant id="ps" name="Shop" processRef="ps_p"/>'
        '<bpmn:messageFlow id="m" sourceRef="order" targetRef="s2"/></bpmn:collaboration>\n'
        '<bpmn:process id="pc_p"><bpmn:startEvent id="s1"/><bpmn:task id="order" name="Order"/>'
        '<bpmn:endEvent id="e1"/><bpmn:sequenceFlow id="a1" sourceRef="s1" targetRef="order"/>'
        '<bpmn:sequenceFlow id="a2" sourceRef="order" targetRef="e1"/></bpmn:process>'
        '<bpmn:process id="ps_p"><bpmn:startEvent id="s2"/><bpmn:task id="pick" name="Pick"/>'
        '<bpmn:task id="ship" name="Ship"/><bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="b1" sourceRef="s2" targetRef="pick"/>'
        '<bpmn:sequenceFlow id="b2" sourceRef="pick" targetRef="ship"/>'
        '<bpmn:sequenceFlow id="b3" sourceRef="ship" targetRef="e2"/></bpmn:process>',
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "process: shop\n" in out
    assert "start: pick\n" in out
    assert "collab.bpmn:4:1: warning: process 'pc_p': another pool's process is not imported" in err


def test_huge_procflow_p_values_are_scaled_to_shares_not_to_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Their sum overflowed to infinity: every way got p 0 (and the import said "scaled to 1")."""
    path = bpmn(
        tmp_path,
        "huge.bpmn",
        CHOICE.format(a='procflow:p="1e308"', b='procflow:p="1e308"'),
    )
    code, out, err = imported(capsys, path)
    assert code == 0, err
    assert "to-e: {to: e, p: 0.5}" in out
    assert "to-e2: {to: e2, p: 0.5}" in out


def test_a_resource_amount_beyond_any_capacity_is_named_in_the_parameters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = json.loads((FIXTURES / "invoice-approval.json").read_text(encoding="utf-8"))
    data["resource_profiles"][0]["resource_list"][0]["amount"] = 10**30
    params = write(tmp_path, "sim.json", json.dumps(data))
    code, _out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 2
    assert f"error: {params}: resource_profiles[0]: resource 'clerk-1': 'amount' must be" in err


@pytest.mark.parametrize(
    ("where", "shown"),
    [
        (("gateway_branching_probabilities", 0, "probabilities"), "'probabilities' must be a list"),
        (("resource_profiles", 1, "resource_list"), "'resource_list' must be a list"),
    ],
)
def test_parameters_whose_lists_are_numbers_are_named_not_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: tuple[str, int, str], shown: str
) -> None:
    data = json.loads((FIXTURES / "invoice-approval.json").read_text(encoding="utf-8"))
    key, index, field = where
    data[key][index][field] = 1.5
    params = write(tmp_path, "sim.json", json.dumps(data))
    code, _out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 2
    assert f"error: {params}: {key}[{index}]: {shown}" in err


def test_case_attributes_named_as_simod_names_them_are_renamed_not_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``LoanGoal: Home improvement`` (a BPIC 2017 attribute): the import failed on its output."""
    data = json.loads((FIXTURES / "invoice-approval.json").read_text(encoding="utf-8"))
    amount = {"distribution_name": "expon", "distribution_params": [{"value": 1000}]}
    data["case_attributes"] = [
        {
            "name": "LoanGoal",
            "type": "discrete",
            "values": [{"key": "Car", "value": 0.3}, {"key": "Home improvement", "value": 0.7}],
        },
        {"name": "RequestedAmount", "type": "continuous", "values": amount},
    ]
    params = write(tmp_path, "sim.json", json.dumps(data))
    code, out, err = imported(capsys, FIXTURES / "invoice-approval.bpmn", "--params", params)
    assert code == 0, err
    assert "  loan_goal: {Car: 0.3, Home_improvement: 0.7}\n" in out
    assert "  requested_amount: exponential(1000)\n" in out
    assert f"{params}: case_attributes[0]: attribute 'LoanGoal' is imported as 'loan_goal'" in err


@pytest.mark.parametrize("encoding", ["x-mac-nothing", "utf-32", "utf-7", "idna"])
def test_a_bpmn_file_declaring_an_unknown_encoding_is_refused_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    """It crashed (LookupError, ValueError, UnicodeError) instead of naming the file."""
    text = (HEAD + SIMPLE.format(second="f2") + TAIL).replace("UTF-8", encoding)
    path = write(tmp_path, "odd.bpmn", text)
    code, _out, err = imported(capsys, path)
    assert code == 2
    assert "odd.bpmn:1:1: the XML declaration names an encoding procflow cannot read" in err
