"""``procflow export --to bpmn``: schema-valid BPMN 2.0 with a diagram, and an exact round trip.

Every example process is exported, validated against the OMG BPMN 2.0 XML
Schema (the XSD files SpiffWorkflow ships; ``xmlschema`` validates; both are
test-only dependencies), imported back with its Prosimos parameters, and
compared with the original: same steps, owners, transitions, probabilities,
conditions, feedback marks, bounds and durations, and through the
parameters the same calendars and case attributes. What neither carries (a
priority, ``by:`` values) is named in a note, and compared as exported.
The diagram is checked for what a modeler needs to show it: a shape for
every node inside its lane, lanes stacked inside the pool, an edge with
waypoints for every flow.
"""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, CUSTOMER_SERVICE_247, PROCESSES, run, write
from procflow.analysis.workweek import weekly_rate
from procflow.bpmn import export_bpmn, import_bpmn
from procflow.bpmn.exporter import export_notes
from procflow.bpmn.names import BPMN, BPMNDI, DC, DI, XSI
from procflow.bpmn.params import average_p, representative
from procflow.calendars import weekly_hours
from procflow.casedata import ByDuration

xmlschema = pytest.importorskip("xmlschema")
spiff = pytest.importorskip("SpiffWorkflow")

SCHEMA_DIR = Path(spiff.__file__).parent / "bpmn" / "parser" / "schema"
EXAMPLES = sorted(PROCESSES.glob("*.yaml"))
PRIORITIES = PROCESSES / "incident-priorities.yaml"


@pytest.fixture(scope="module")
def schema() -> object:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / "BPMN20.xsd"))


def exported(path: Path, tmp_path: Path) -> Path:
    data, _params = export_bpmn(procflow.load(path))
    return write(tmp_path, f"{path.stem}.bpmn", data)


def exported_with_params(path: Path, tmp_path: Path) -> tuple[Path, Path]:
    data, params = export_bpmn(procflow.load(path), params=True)
    assert params is not None
    return write(tmp_path, f"{path.stem}.bpmn", data), write(tmp_path, f"{path.stem}.json", params)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_exports_schema_valid_bpmn(
    path: Path, tmp_path: Path, schema: object
) -> None:
    out = exported(path, tmp_path)
    schema.validate(str(out))  # type: ignore[attr-defined]


def test_the_schema_check_can_fail(tmp_path: Path, schema: object) -> None:
    text = exported(CUSTOMER_SERVICE, tmp_path).read_text(encoding="utf-8")
    broken = text.replace("<bpmn:incoming>", "<bpmn:incomingFlow>", 1).replace(
        "</bpmn:incoming>", "</bpmn:incomingFlow>", 1
    )
    assert not schema.is_valid(str(write(tmp_path, "broken.bpmn", broken)))  # type: ignore[attr-defined]


def _comparable(process: procflow.Process, *, calendars: bool = False) -> dict[str, object]:
    """What a round trip keeps; ``calendars``: also calendars and attributes (--params)."""
    drop = set() if calendars else {"calendar", "shifts"}
    out: dict[str, object] = {
        "id": process.id,
        "title": process.title,
        "owner": process.owner,
        "start": process.start,
        "arrivals": (
            {
                **process.arrivals.model_dump(exclude={"profile", "rate", *drop}),
                "cases per week": _weekly_cases(process, calendars=calendars),
            }
            if process.arrivals
            else None
        ),
        "owners": {
            k: {**v.model_dump(exclude={"capacity", *drop}), "units": v.units}
            for k, v in process.owners.items()
        },
        "steps": {
            k: {
                **v.model_dump(exclude={"consulted", "informed", "next", "on", "duration"}),
                # a `by:` duration is exported as its most common class's (export_notes says so)
                "duration": str(
                    representative(process, v.duration)
                    if isinstance(v.duration, ByDuration)
                    else v.duration
                ),
                "transitions": [
                    (
                        t.trigger,
                        t.to,
                        average_p(process, t),
                        t.when,
                        t.feedback,
                        t.max,
                        t.description,
                    )
                    for t in v.transitions
                ],
            }
            for k, v in process.steps.items()
        },
    }
    if calendars:
        out["attributes"] = {k: str(v) for k, v in process.attributes.items()}
        out["calendars"] = {
            k: (weekly_hours(c.hours), c.timezone, c.holidays, c.country, c.title)
            for k, c in process.calendars.items()
        }
    return out


def _weekly_cases(process: procflow.Process, *, calendars: bool) -> float:
    """Cases a week as a round trip carries them (a profile keeps only its mean rate).

    Through the parameters the arrival calendar comes back, so the week's
    cases must too; without them the calendar is lost (a note says so) and
    what is kept is the rate while it is open, as if open all week.
    """
    rate = weekly_rate(process, holidays=False)  # BPMN carries no holidays
    arrivals = process.arrivals
    assert arrivals is not None
    if not calendars and arrivals.calendar is not None:
        week = weekly_hours(process.calendars[arrivals.calendar].hours)
        rate /= sum(end - start for day in week for start, end, _ in day) / (7 * 24 * 60)
    return float(f"{rate * 7 * 86400:.8g}")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_round_trips(path: Path, tmp_path: Path) -> None:
    original = procflow.load(path)
    result = import_bpmn(exported(path, tmp_path))
    assert result.notices == ()
    assert result.warnings == ()
    back = procflow.load_text(result.text, "back.yaml")
    assert _comparable(back) == _comparable(original)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_round_trips_with_its_params(
    path: Path, tmp_path: Path, schema: object
) -> None:
    original = procflow.load(path)
    bpmn, params = exported_with_params(path, tmp_path)
    schema.validate(str(bpmn))  # type: ignore[attr-defined]
    result = import_bpmn(bpmn, params)
    assert result.notices == ()
    assert result.warnings == ()
    back = procflow.load_text(result.text, "back.yaml")
    assert _comparable(back, calendars=True) == _comparable(original, calendars=True)
    assert [f for f in procflow.lint(back) if str(f.severity) == "error"] == []


def test_rules_export_as_conditions_and_a_default_flow(tmp_path: Path) -> None:
    root = ET.parse(exported(PRIORITIES, tmp_path)).getroot()
    flows = {f.get("id"): f for f in root.iter(f"{{{BPMN}}}sequenceFlow")}
    gateway = next(
        g for g in root.iter(f"{{{BPMN}}}exclusiveGateway") if g.get("id") == "Gateway_log-incident"
    )
    assert gateway.get("default") == "Flow_log-incident_standard"
    conditions = {}
    for ident, flow in flows.items():
        condition = flow.find(f"{{{BPMN}}}conditionExpression")
        if condition is not None:
            assert condition.get(f"{{{XSI}}}type") == "bpmn:tFormalExpression"
            conditions[ident] = condition.text
    assert conditions == {
        "Flow_log-incident_major": "severity == 'p1'",
        "Flow_log-incident_specialist": "severity == 'p2'",
        "Flow_investigate_needs-approval": "parts_cost >= 1000",
        "Flow_close-incident_resolved": "severity in ['p1', 'p2']",
    }
    # a step whose transitions carry probabilities has no default flow
    first_line = next(
        g
        for g in root.iter(f"{{{BPMN}}}exclusiveGateway")
        if g.get("id") == "Gateway_first-line-fix"
    )
    assert first_line.get("default") is None


def test_what_neither_file_carries_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    process = procflow.load(PRIORITIES)
    notes = export_notes(process, params=True)
    assert len(notes) == 7  # with its goals
    assert notes[0].startswith("priority (severity) is not exported")
    assert any(
        "'log-incident': the duration by severity is exported as lognormal(6m, 3m)" in n
        for n in notes
    )
    assert any("confirm-with-user.confirmed: p by severity" in n and "0.905" in n for n in notes)
    without = export_notes(process)
    assert "attributes (severity, parts_cost) go only into --params" in without[-1]
    goals = "goals (resolve-within-a-day) are not exported: BPMN and the parameters have no place"
    assert export_notes(procflow.load(CUSTOMER_SERVICE_247)) == [f"{goals} for them"]
    assert export_notes(procflow.load(CUSTOMER_SERVICE), params=True) == [
        "the arrival profile is not exported: the arrivals keep only their mean rate",
        f"{goals} for them",
    ]
    code, out, err = run(capsys, "export", PRIORITIES, "--to", "bpmn")
    assert code == 0
    assert out.startswith("<?xml")
    assert "note: priority (severity) is not exported" in err


def test_params_carry_attributes_and_calendars(tmp_path: Path) -> None:
    _bpmn, params = exported_with_params(PRIORITIES, tmp_path)
    data = json.loads(params.read_text(encoding="utf-8"))
    attributes = {a["name"]: a for a in data["case_attributes"]}
    assert attributes["severity"] == {
        "name": "severity",
        "type": "discrete",
        "values": [
            {"key": "p1", "value": 0.05},
            {"key": "p2", "value": 0.25},
            {"key": "p3", "value": 0.7},
        ],
    }
    assert attributes["parts_cost"]["type"] == "continuous"
    assert attributes["parts_cost"]["values"]["distribution_name"] == "lognorm"
    assert [p["value"] for p in attributes["parts_cost"]["values"]["distribution_params"]][
        :2
    ] == pytest.approx([300, 360000])
    # conditional gateways have no branching probabilities
    gateways = {g["gateway_id"] for g in data["gateway_branching_probabilities"]}
    assert gateways == {"Gateway_first-line-fix", "Gateway_confirm-with-user"}
    _bpmn, params = exported_with_params(PROCESSES / "employee-onboarding.yaml", tmp_path)
    data = json.loads(params.read_text(encoding="utf-8"))
    calendars = {c["id"]: c for c in data["resource_calendars"]}
    assert calendars["office"]["time_periods"][:2] == [
        {"from": "MONDAY", "to": "MONDAY", "beginTime": "09:00:00", "endTime": "12:30:00"},
        {"from": "MONDAY", "to": "MONDAY", "beginTime": "13:30:00", "endTime": "17:30:00"},
    ]
    assert len(calendars["office"]["time_periods"]) == 10
    assert calendars["office"]["timezone"] == "Europe/Amsterdam"
    desk = next(p for p in data["resource_profiles"] if p["id"] == "it-service-desk")
    assert [(r["id"], r["calendar"], r["amount"]) for r in desk["resource_list"]] == [
        ("it-service-desk", "it-early", 2),
        ("it-service-desk.2", "it-late", 1),
    ]
    assert data["arrival_calendar"] == "office"
    assert data["arrival_time_calendar"] == calendars["office"]["time_periods"]


def _boxes(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        b = shape.find(f"{{{DC}}}Bounds")
        assert b is not None
        out[shape.get("bpmnElement", "")] = tuple(
            float(b.get(k, "nan")) for k in ("x", "y", "width", "height")
        )
    return out  # type: ignore[return-value]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_diagram_places_every_node_in_its_lane(path: Path, tmp_path: Path) -> None:
    root = ET.parse(exported(path, tmp_path)).getroot()
    boxes = _boxes(root)
    pool = boxes["Participant_1"]
    lanes = list(root.iter(f"{{{BPMN}}}lane"))
    bands = sorted(boxes[lane.get("id", "")] for lane in lanes)
    for (_x, y, _w, h), (_x2, y2, _w2, _h2) in itertools.pairwise(bands):
        assert y + h == pytest.approx(y2)  # stacked bands, no gap, no overlap
    assert bands[0][1] == pool[1]
    assert bands[-1][1] + bands[-1][3] == pytest.approx(pool[1] + pool[3])
    nodes = 0
    for lane in lanes:
        lx, ly, lw, lh = boxes[lane.get("id", "")]
        for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
            x, y, w, h = boxes[ref.text or ""]
            assert lx <= x <= x + w <= lx + lw, ref.text
            assert ly <= y <= y + h <= ly + lh, ref.text
            nodes += 1
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    flow_nodes = [e for e in process if e.tag.split("}")[1] not in ("laneSet", "sequenceFlow")]
    assert nodes == len(flow_nodes)
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}
    for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
        points = edges[flow.get("id")].findall(f"{{{DI}}}waypoint")
        assert len(points) >= 2
        sx, sy, sw, sh = boxes[flow.get("sourceRef", "")]
        first = (float(points[0].get("x", "nan")), float(points[0].get("y", "nan")))
        assert sx <= first[0] <= sx + sw
        assert sy <= first[1] <= sy + sh


def test_nodes_do_not_overlap(tmp_path: Path) -> None:
    for path in EXAMPLES:
        boxes = _boxes(ET.parse(exported(path, tmp_path)).getroot())
        shapes = [b for k, b in boxes.items() if not k.startswith(("Lane_", "Participant_"))]
        for i, (x, y, w, h) in enumerate(shapes):
            for x2, y2, w2, h2 in shapes[i + 1 :]:
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, path.stem


def test_cli_export_writes_bpmn_and_prosimos_params(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out, params = tmp_path / "cs.bpmn", tmp_path / "cs.json"
    code, _out, err = run(
        capsys, "export", CUSTOMER_SERVICE_247, "--to", "bpmn", "-o", out, "--params", params
    )
    assert code == 0
    assert f"wrote {out}" in err
    data = json.loads(params.read_text(encoding="utf-8"))
    pools = {p["id"]: p["resource_list"][0]["amount"] for p in data["resource_profiles"]}
    assert pools["support-agent"] == 5
    assert pools["tier2"] == 4
    branch = {
        g["gateway_id"]: {p["path_id"]: p["value"] for p in g["probabilities"]}
        for g in data["gateway_branching_probabilities"]
    }
    assert branch["Gateway_triage"] == {"Flow_triage_simple": 0.7, "Flow_triage_complex": 0.3}
    assert branch["Gateway_confirm"] == {
        "Flow_confirm_accepted": 0.85,
        "Flow_confirm_reopened": 0.15,
    }
    tasks = {t["task_id"]: t["resources"][0] for t in data["task_resource_distribution"]}
    assert tasks["intake"]["distribution_name"] == "expon"
    assert tasks["intake"]["distribution_params"][0]["value"] == 360
    assert tasks["escalate"]["distribution_name"] == "triang"
    assert [p["value"] for p in tasks["escalate"]["distribution_params"]] == [2 / 7, 1200, 5400]
    assert data["arrival_time_distribution"]["distribution_params"][0]["value"] == 450
    # the parameters read back give the same shares to a plain BPMN without procflow's marks
    plain = out.read_text(encoding="utf-8").replace('procflow:p="', 'procflow:x="')
    back = procflow.load_text(import_bpmn(write(tmp_path, "plain.bpmn", plain), params).text)
    assert {t.to: t.p for t in back.steps["triage"].transitions} == {
        "resolve": 0.7,
        "escalate": 0.3,
    }
    assert back.steps["escalate"].duration is not None
    assert back.steps["escalate"].duration.args() == pytest.approx((1200, 2400, 5400))


def test_cli_export_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "export", CUSTOMER_SERVICE, "--to", "bpmn")
    assert code == 0
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_export_needs_to(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "export", CUSTOMER_SERVICE)
    assert code == 2
    assert "--to" in err


def test_a_loop_drawn_after_export_is_marked_feedback(tmp_path: Path) -> None:
    text = exported(CUSTOMER_SERVICE, tmp_path).read_text(encoding="utf-8")
    # in a modeler: escalate now leads back to triage (a flow without procflow's marks)
    edited = text.replace(
        'sourceRef="escalate" targetRef="resolve" name="fixed" procflow:trigger="fixed"',
        'sourceRef="escalate" targetRef="triage" name="unclear"',
    )
    assert edited != text
    p = procflow.load_text(import_bpmn(write(tmp_path, "edited.bpmn", edited)).text)
    (back,) = p.steps["escalate"].transitions
    assert (back.trigger, back.to, back.feedback) == ("unclear", "triage", True)
    reopened = p.steps["confirm"].on
    assert reopened is not None
    assert reopened["reopened"].feedback
    assert reopened["reopened"].max == 3
    assert not any(t.feedback for t in p.steps["triage"].transitions)


def test_export_of_a_broken_process_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "broken.yaml",
        "process: p\nowners: {a: {}}\nstart: s\nsteps:\n  s: {owner: a, next: nowhere}\n",
    )
    code, out, err = run(capsys, "export", path, "--to", "bpmn")
    assert code == 2
    assert out == ""
    assert "transition to 'nowhere' names no step" in err


def test_unowned_steps_get_their_own_lane_and_come_back_unowned(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "process: p\nowners:\n  unassigned: {capacity: 2}\nstart: s\nsteps:\n"
        "  s: {owner: unassigned, duration: 1m, next: w}\n  w: {duration: 1h, next: e}\n"
        "  e: {end: true}\n",
    )
    data, params = export_bpmn(path, params=True)
    text = data.decode()
    assert 'id="Lane__none" name="(no owner)"' in text
    assert 'id="Lane_unassigned"' in text
    back = procflow.load_text(import_bpmn(write(tmp_path, "p.bpmn", data)).text)
    assert back.steps["w"].owner is None
    assert back.steps["s"].owner == "unassigned"
    assert params is not None
    assert {p["id"] for p in json.loads(params)["resource_profiles"]} == {"unassigned", "_no_owner"}


FORKS = sorted((Path(__file__).parent / "fixtures" / "forks2").glob("*.yaml"))


@pytest.mark.parametrize("path", FORKS, ids=lambda p: p.stem)
def test_forks_and_joins_export_as_gateways_and_round_trip(
    path: Path, tmp_path: Path, schema: object
) -> None:
    out = exported(path, tmp_path)
    schema.validate(str(out))  # type: ignore[attr-defined]
    root = ET.parse(out).getroot()
    process = procflow.load(path)
    forks = [s for s, step in process.steps.items() if step.parallel]
    joins = {s: step.join for s, step in process.steps.items() if step.join}
    parallel = {g.get("id"): g for g in root.iter(f"{{{BPMN}}}parallelGateway")}
    complex_ = {g.get("id"): g for g in root.iter(f"{{{BPMN}}}complexGateway")}
    assert {f"Fork_{s}" for s in forks} | {
        f"Join_{s}" for s, j in joins.items() if j == "all"
    } == set(parallel)
    assert {f"Join_{s}" for s, j in joins.items() if j == "first"} == set(complex_)
    for step in forks:
        gateway = parallel[f"Fork_{step}"]
        assert gateway.get("gatewayDirection") == "Diverging"
        branches = gateway.findall(f"{{{BPMN}}}outgoing")
        assert len(branches) == len(process.steps[step].parallel or [])
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    assert set(parallel) | set(complex_) <= shapes  # every gateway is drawn (BPMNDI)
    result = import_bpmn(out)
    assert result.notices == ()
    assert result.warnings == ()
    back = procflow.load_text(result.text, "back.yaml")
    assert _comparable(back) == _comparable(process)
    assert [f for f in procflow.lint(back) if str(f.severity) == "error"] == []


def test_an_arrival_profile_exports_as_its_mean_rate_with_a_note(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "prof.yaml",
        "process: p\nowners: {a: {capacity: 2}}\narrivals:\n"
        '  profile: {"mon-fri 08:00-12:00": 12/h, "mon-fri 12:00-17:00": 4/h}\n'
        "start: s\nsteps:\n  s: {owner: a, duration: 5m, next: e}\n  e: {end: true}\n",
    )
    process = procflow.load(path)
    assert export_notes(process, params=True) == [
        "the arrival profile is not exported: the arrivals keep only their mean rate"
    ]
    back = procflow.load_text(import_bpmn(exported(path, tmp_path)).text)
    assert back.arrivals is not None
    # (4 h x 12 + 5 h x 4) x 5 days = 340 cases a week
    assert back.arrivals.rate == pytest.approx(340 / (7 * 86400), rel=1e-6)


def test_a_profile_with_an_arrival_calendar_keeps_the_cases_of_a_week(tmp_path: Path) -> None:
    """customer-service: 3 × 11 + 4 × 3 × 9 + 5 × 5 × 7 = 316 tickets in 40 open hours a week.

    The profile exports as one rate counted over the lines' open hours (as
    ``rate:`` beside ``calendar:`` counts), not the week's mean: that mean
    squeezed into the open hours would bring 4.2 times too few cases.
    """
    bpmn, params = exported_with_params(CUSTOMER_SERVICE, tmp_path)
    data = json.loads(params.read_text(encoding="utf-8"))
    assert data["arrival_calendar"] == "office"
    mean = data["arrival_time_distribution"]["distribution_params"][0]["value"]
    assert mean == pytest.approx(40 * 3600 / 316)
    back = procflow.load_text(import_bpmn(bpmn, params).text, "back.yaml")
    assert back.arrivals is not None
    assert back.arrivals.calendar == "office"
    assert weekly_rate(back, holidays=False) * 3600 == pytest.approx(316 / 168)
    # analyze averages Berlin's holidays: 6 of 2027's 261 weekdays close the lines
    assert procflow.analyze(back).arrival_rate_per_hour == pytest.approx(316 / 168 * 255 / 261)
