"""Hostile and broken BPMN: every refusal is a positioned error and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run, write
from procflow.bpmn import xmltree

HEAD = '<?xml version="1.0"?>\n'
NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def refused(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    code, out, err = run(capsys, "import", path)
    assert code == 2
    assert out == ""
    return err


def test_billion_laughs_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (
        HEAD + '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        f"<definitions {NS}><process id='p'><task id='t' name='&b;'/></process></definitions>"
    )
    err = refused(capsys, write(tmp_path, "laughs.bpmn", text))
    assert "laughs.bpmn:2:" in err
    assert "document type declaration is refused" in err


def test_external_entity_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (
        HEAD + '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f"<definitions {NS}><process id='p'><task id='t' name='&x;'/></process></definitions>"
    )
    err = refused(capsys, write(tmp_path, "xxe.bpmn", text))
    assert "xxe.bpmn:2:" in err
    assert "refused" in err
    assert "root:" not in err


def test_deep_nesting_is_refused_where_it_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    depth = xmltree.MAX_DEPTH + 10
    text = HEAD + f"<definitions {NS}>\n" + "<x>" * depth + "</x>" * depth + "</definitions>"
    err = refused(capsys, write(tmp_path, "deep.bpmn", text))
    assert f"deep.bpmn:3:{3 * (xmltree.MAX_DEPTH - 1) + 1}: elements nested more than 64" in err


def test_too_many_elements(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xmltree, "MAX_ELEMENTS", 100)
    text = HEAD + f"<definitions {NS}>\n" + "<x/>" * 200 + "</definitions>"
    err = refused(capsys, write(tmp_path, "many.bpmn", text))
    assert "many.bpmn:3:397:" in err
    assert "more than 100 elements" in err


def test_huge_file_is_refused_before_parsing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xmltree, "MAX_BYTES", 1000)
    text = HEAD + f"<definitions {NS}>" + "<!-- padding -->" * 100 + "</definitions>"
    err = refused(capsys, write(tmp_path, "huge.bpmn", text))
    assert "huge.bpmn:1:1: the file is 1,701 bytes, more than the 1,000 read" in err


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (HEAD + "<log xmlns='http://www.xes-standard.org/'/>", "2:1", "not a BPMN model"),
        (HEAD + "<definitions/>", "2:1", "not BPMN 2.0 <definitions>"),
        (
            HEAD + f"<definitions {NS}>\n<process id='p'>\n<task id='a'>\n</definitions>",
            "5:3",
            "not well-formed",
        ),
        ("", "1:1", "empty file"),
        (HEAD + f"<definitions {NS}><process id='p'/></definitions>", "2:1", "no <process> with"),
        (
            HEAD + f"<definitions {NS}><process id='p'><startEvent id='s'/>\n"
            "<sequenceFlow id='f' sourceRef='s' targetRef='nowhere'/></process></definitions>",
            "3:1",
            "sequence flow 'f' names 'nowhere', which is no flow element",
        ),
        (
            HEAD + f"<definitions {NS}><process id='p'><startEvent id='s'/>\n<task id='s'/>"
            "</process></definitions>",
            "3:1",
            "id 's' is used twice",
        ),
        (b"\xff\xfe<\x00d\x00".decode("latin-1"), "1:3", "not well-formed"),
    ],
)
def test_broken_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, where: str, message: str
) -> None:
    err = refused(capsys, write(tmp_path, "bad.bpmn", text))
    assert f"bad.bpmn:{where}" in err
    assert message in err


def test_missing_file_and_bad_params(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "import", tmp_path / "nope.bpmn")
    assert code == 2
    assert "cannot be read" in err
    good = write(
        tmp_path,
        "ok.bpmn",
        HEAD + f"<definitions {NS}><process id='p'><startEvent id='s'/><endEvent id='e'/>"
        "<sequenceFlow id='f' sourceRef='s' targetRef='e'/></process></definitions>",
    )
    for content, message in (
        ("[1, 2]", "must be a JSON object"),
        ("{", "not JSON"),
        (
            '{"gateway_branching_probabilities": [{"gateway_id": "g", "probabilities": '
            '[{"path_id": "f", "value": 7}]}]}',
            "'value' in [0, 1]",
        ),
        (
            '{"task_resource_distribution": [{"task_id": "t", "resources": [{"distribution_name": '
            '"weibull", "distribution_params": [{"value": 1}]}]}]}',
            "'weibull' is not one procflow reads",
        ),
        ('{"case_attributes": [{"name": "x", "type": "fuzzy"}]}', "case_attributes[0]: 'type'"),
        (
            '{"case_attributes": [{"name": "x", "type": "discrete", "values": [{"key": "a", '
            '"value": "lots"}]}]}',
            "the share of 'a' is not a number",
        ),
        (
            '{"resource_calendars": [{"id": "c", "time_periods": [{"from": "MONDAY", '
            '"to": "FUNDAY", "beginTime": "09:00:00", "endTime": "17:00:00"}]}]}',
            "resource_calendars[0].time_periods[0]: 'from' and 'to' must be days",
        ),
        (
            '{"resource_calendars": [{"id": "c", "time_periods": [{"from": "MONDAY", '
            '"to": "MONDAY", "beginTime": "nine", "endTime": "17:00:00"}]}]}',
            "time 'nine' is not HH:MM:SS",
        ),
    ):
        params = write(tmp_path, "p.json", content)
        code, _out, err = run(capsys, "import", good, "--params", params)
        assert code == 2
        assert message in err


def test_a_chain_of_gateways_does_not_explode(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """30 diamonds in a row are 2**30 ways: refused at a bound, not unfolded."""
    parts = ["<startEvent id='s'/><task id='a' name='A'/><endEvent id='e'/>"]
    flows = ["<sequenceFlow id='f-s' sourceRef='s' targetRef='a'/>"]
    previous = "a"
    for i in range(30):
        parts.append(f"<exclusiveGateway id='g{i}'/>")
        flows.append(f"<sequenceFlow id='x{i}' sourceRef='{previous}' targetRef='g{i}'/>")
        flows.append(f"<sequenceFlow id='y{i}' sourceRef='{previous}' targetRef='g{i}'/>")
        previous = f"g{i}"
    flows.append(f"<sequenceFlow id='f-e' sourceRef='{previous}' targetRef='e'/>")
    flows[1] = "<sequenceFlow id='x0' sourceRef='a' targetRef='g0'/>"
    flows[2] = "<sequenceFlow id='y0' sourceRef='s' targetRef='g0'/>"
    text = HEAD + f"<definitions {NS}><process id='p'>\n" + "\n".join(parts + flows)
    text += "</process></definitions>"
    err = refused(capsys, write(tmp_path, "chain.bpmn", text))
    assert "more than 10,000 ways through the gateways" in err
    assert "chain.bpmn:3:" in err


def test_a_flow_out_of_an_end_event_is_named_not_dropped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """BPMN forbids flows out of an end event; a model that has one is told what was left out."""
    text = (
        HEAD + f"<definitions {NS}><process id='p'><startEvent id='s'/><task id='t' name='T'/>"
        "<endEvent id='e'/><sequenceFlow id='a' sourceRef='s' targetRef='t'/>"
        "<sequenceFlow id='b' sourceRef='t' targetRef='e'/>"
        "<sequenceFlow id='z' sourceRef='e' targetRef='t'/></process></definitions>"
    )
    out_file = tmp_path / "p.yaml"
    code, _out, err = run(capsys, "import", write(tmp_path, "back.bpmn", text), "-o", out_file)
    assert code == 0, err
    assert "warning: endEvent 'e': flows leaving an end event are left out" in err
    assert "# note: endEvent e (line 2): flows leaving an end event" in out_file.read_text()
