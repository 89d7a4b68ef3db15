"""XES and pm4py-column logs procflow writes: well-formed, standard, and read back exactly.

pm4py itself is exercised outside ``make test`` (``make pm4py-check``,
tests/interop/pm4py_check.py: pm4py is AGPL and no dependency); here the
written XES is held to the structure pm4py relies on, and every log is read
back by procflow's own readers and must conform 100% to the process that
made it.
"""

from __future__ import annotations

import csv
import gzip
import xml.etree.ElementTree as ET
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, PROCESSES
from procflow.cli import main
from procflow.errors import ConfigError
from procflow.eventlog.sinks import activity_names, event_writer
from procflow.eventlog.writer import PM4PY_COLUMNS, SIMULATION_EPOCH, CsvEventWriter
from procflow.eventlog.xes import XesLog
from procflow.eventlog.xeswriter import XesEventWriter

EPOCH = SIMULATION_EPOCH.timestamp()
EXAMPLES = sorted(PROCESSES.glob("*.yaml"))
NS = "{http://www.xes-standard.org/}"
EXTENSIONS = {
    "concept": "http://www.xes-standard.org/concept.xesext",
    "lifecycle": "http://www.xes-standard.org/lifecycle.xesext",
    "org": "http://www.xes-standard.org/org.xesext",
    "time": "http://www.xes-standard.org/time.xesext",
}


def simulate_log(process: Path, log: Path, **options: object) -> None:
    procflow.simulate(process, cases=200, runs=1, seed=5, jobs=1, log=log, **options)  # type: ignore[arg-type]


def attributes(element: ET.Element) -> dict[str, str]:
    return {
        child.attrib["key"]: child.attrib["value"] for child in element if "key" in child.attrib
    }


def check_structure(path: Path, process: procflow.Process) -> tuple[int, int]:
    """Assert the XES structure pm4py relies on; return (traces, events)."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{NS}log"
    assert root.attrib["xes.version"] == "1849-2016"
    declared = {e.attrib["prefix"]: e.attrib["uri"] for e in root.findall(f"{NS}extension")}
    assert declared == EXTENSIONS
    names = activity_names(process)
    owned = {names[s]: step.owner is not None for s, step in process.steps.items()}
    traces = root.findall(f"{NS}trace")
    events = 0
    for trace in traces:
        case = attributes(trace)["concept:name"]
        assert case
        open_starts: dict[str, deque[datetime]] = {}
        previous: datetime | None = None
        for event in trace.findall(f"{NS}event"):
            events += 1
            values = attributes(event)
            keys = {"concept:name", "lifecycle:transition", "time:timestamp"}
            assert keys <= set(values), (case, values)
            assert ("org:resource" in values) == owned[values["concept:name"]], values
            moment = datetime.fromisoformat(values["time:timestamp"])
            assert moment.utcoffset() is not None
            assert previous is None or previous <= moment, (case, values)  # time order
            previous = moment
            queue = open_starts.setdefault(values["concept:name"], deque())
            if values["lifecycle:transition"] == "start":
                queue.append(moment)
            else:
                assert values["lifecycle:transition"] == "complete"
                assert queue.popleft() <= moment  # start <= complete per visit
        assert all(not q for q in open_starts.values()), case
    return len(traces), events


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_simulated_xes_is_standard_and_conforms_fully(path: Path, tmp_path: Path) -> None:
    process = procflow.load(path)
    log = tmp_path / "events.xes"
    simulate_log(path, log)
    csv_log = tmp_path / "events.csv"
    simulate_log(path, csv_log)
    with csv_log.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    traces, events = check_structure(log, process)
    assert traces == len({row["case"] for row in rows})
    assert events == 2 * len(rows)
    report = procflow.check_log(process, procflow.read_log(log))
    assert report.cases == traces
    assert report.conforming == report.cases  # 100%
    assert report.to_dict()["log"]["unpaired_starts"] == 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_xes_and_pm4py_csv_hold_the_same_events_as_the_csv(path: Path, tmp_path: Path) -> None:
    process = procflow.load(path)
    logs = {
        "csv": tmp_path / "e.csv",
        "xes": tmp_path / "e.xes.gz",
        "pm4py": tmp_path / "e.pm4py.csv",
    }
    simulate_log(path, logs["csv"])
    simulate_log(path, logs["xes"])
    simulate_log(path, logs["pm4py"], log_columns="pm4py")
    step_of = {name: step for step, name in activity_names(process).items()}

    def events(log: Path, named: bool) -> list[tuple[object, ...]]:
        found = [
            (e.case, step_of[e.activity] if named else e.activity, e.start, e.end, e.resource)
            for e in procflow.read_log(log)
        ]
        return sorted(found, key=repr)

    plain = events(logs["csv"], named=False)
    assert events(logs["xes"], named=True) == plain
    assert events(logs["pm4py"], named=True) == plain
    fitted = {k: procflow.calibrate(process, procflow.read_log(v)).text for k, v in logs.items()}
    assert fitted["xes"] == fitted["csv"] == fitted["pm4py"]


def test_pm4py_columns_header_and_names(tmp_path: Path) -> None:
    process = procflow.load(PROCESSES / "receipt.yaml")
    log = tmp_path / "events.csv"
    simulate_log(PROCESSES / "receipt.yaml", log, log_columns="pm4py")
    with log.open(newline="") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == PM4PY_COLUMNS
        activities = {row[1] for row in reader}
    named = {i: s.activity for i, s in process.steps.items() if s.activity}
    assert activities <= set(activity_names(process).values())
    assert activities & set(named.values())  # the organisation's names...
    assert not activities & set(named)  # ...not the step ids
    report = procflow.check_log(process, procflow.read_log(log))
    assert report.columns is not None
    assert report.columns["start"] == "start_timestamp"
    assert report.conforming == report.cases > 0


def test_gzip_xes_is_deterministic_and_the_same_document(tmp_path: Path) -> None:
    plain, first, second = tmp_path / "a.xes", tmp_path / "b.xes.gz", tmp_path / "c.xes.gz"
    for log in (plain, first, second):
        simulate_log(CUSTOMER_SERVICE, log)
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()) == plain.read_bytes()


def test_traces_are_written_as_cases_end(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    with XesEventWriter(path, ends={"done"}) as log:
        log.write_simulated(1, "a", "x", 0.0, 5.0)
        log.write_simulated(2, "a", "x", 1.0, 6.0)
        log.write_simulated(2, "done", None, 6.0, 6.0)
        assert log.traces == 1  # case 2 is written, case 1 still open
        log.write_simulated(1, "b", None, 5.0, 9.0)
    root = ET.parse(path).getroot()
    cases = [attributes(t)["concept:name"] for t in root.findall(f"{NS}trace")]
    assert cases == ["2", "1"]
    assert [e.activity for e in XesLog(path) if e.case == "1"] == ["a", "b"]


def test_parallel_visits_are_ordered_by_time_within_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    with XesEventWriter(path) as log:  # visits handed over out of time order
        log.write_simulated("c", "late", "x", 10.0, 20.0)
        log.write_simulated("c", "early", "y", 0.0, 15.0)
    trace = ET.parse(path).getroot().find(f"{NS}trace")
    assert trace is not None
    order = [
        (v["concept:name"], v["lifecycle:transition"])
        for v in map(attributes, trace)
        if "lifecycle:transition" in v
    ]
    assert order == [
        ("early", "start"),
        ("late", "start"),
        ("early", "complete"),
        ("late", "complete"),
    ]
    events = list(XesLog(path))
    assert [(e.activity, e.start, e.end) for e in events] == [
        ("early", EPOCH, EPOCH + 15.0),
        ("late", EPOCH + 10.0, EPOCH + 20.0),
    ]


def test_case_attributes_become_trace_attributes(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    with XesEventWriter(path) as log:
        log.set_case_attributes(
            7,
            {
                "channel": "web",
                "amount": 12.5,
                "items": 3,
                "vip": True,
                "opened": datetime(2027, 1, 1, tzinfo=UTC),
            },
        )
        log.write_simulated(7, "a", "x", 0.0, 1.0)
    trace = ET.parse(path).getroot().find(f"{NS}trace")
    assert trace is not None
    typed = {
        c.attrib["key"]: (c.tag.removeprefix(NS), c.attrib["value"])
        for c in trace
        if "key" in c.attrib
    }
    assert typed == {
        "concept:name": ("string", "7"),
        "channel": ("string", "web"),
        "amount": ("float", "12.5"),
        "items": ("int", "3"),
        "vip": ("boolean", "true"),
        "opened": ("date", "2027-01-01T00:00:00.000+00:00"),
    }
    with pytest.raises(ConfigError, match="concept:name"), XesEventWriter(tmp_path / "x.xes") as w:
        w.set_case_attributes(1, {"concept:name": "other"})


def test_markup_in_names_is_escaped_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    case, owner, activity = 'a<b>&"c"\n\td', "o'neil & co", "</event><x"
    with XesEventWriter(path) as log:
        log.write(
            case, "s", owner, datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 5, tzinfo=UTC)
        )
        log.write(
            case, activity, None, datetime(2027, 1, 5, tzinfo=UTC), datetime(2027, 1, 6, tzinfo=UTC)
        )
    events = list(XesLog(path))
    assert [(e.case, e.activity, e.resource) for e in events] == [
        (case, "s", owner),
        (case, activity, None),
    ]


def test_a_character_xml_cannot_carry_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "e.xes"
    with pytest.raises(ConfigError, match="U\\+0001"), XesEventWriter(path) as log:
        log.write_simulated("bad\x01case", "a", None, 0.0, 1.0)
    assert list(tmp_path.iterdir()) == []


def test_write_cases_writes_xes(tmp_path: Path) -> None:
    process = procflow.load(CUSTOMER_SERVICE)
    case = procflow.Case(process, "c-1")
    case.trigger(case.available_triggers[0])
    path = tmp_path / "cases.xes"
    assert procflow.write_cases(path, [case]) == 1
    (event,) = XesLog(path)
    assert (event.case, event.activity) == ("c-1", process.start)
    assert event.start is not None
    assert event.start <= event.end


def test_event_writer_chooses_by_name_and_refuses_columns_for_xes(tmp_path: Path) -> None:
    assert isinstance(event_writer(tmp_path / "a.XES.gz"), XesEventWriter)
    assert isinstance(event_writer(tmp_path / "a.csv.gz"), CsvEventWriter)
    with pytest.raises(ConfigError, match="--log-columns is for CSV"):
        event_writer(tmp_path / "a.xes", columns="pm4py")
    with pytest.raises(ConfigError, match="log columns 'excel'"):
        CsvEventWriter(tmp_path / "a.csv", columns="excel")


def test_activity_names_fall_back_to_ids_when_a_name_is_taken() -> None:
    process = procflow.load_text(
        """\
process: p
start: a
steps:
  a: {title: Review, next: b}
  b: {title: Review, activity: a, next: c}
  c: {title: Done, end: true}
""",
        "p.yaml",
    )
    # a's title is shared (the first step wins it, so it still reads back to a); b's
    # activity is a's id, which matches b first: both keep names that read back to them
    assert activity_names(process) == {"a": "Review", "b": "a", "c": "Done"}


def test_cli_simulate_and_compare_write_xes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "sim.xes"
    common = ["--cases", "200", "--runs", "1", "--jobs", "1"]
    assert main(["simulate", str(CUSTOMER_SERVICE), *common, "--log", str(log)]) == 0
    assert sum(1 for _ in XesLog(log)) > 0
    change = PROCESSES.parent / "changes" / "hire-support-agent.yaml"
    out = tmp_path / "cmp.xes.gz"
    assert (
        main(
            [
                "compare",
                str(CUSTOMER_SERVICE),
                "--change",
                str(change),
                *common,
                "--log",
                str(out),
                "--log-columns",
                "procflow",
            ]
        )
        == 0
    )
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["cmp.baseline.xes.gz", "cmp.hire-support-agent.xes.gz", "sim.xes"]
    capsys.readouterr()
    code = main(
        [
            "simulate",
            str(CUSTOMER_SERVICE),
            *common,
            "--log",
            str(tmp_path / "x.xes"),
            "--log-columns",
            "pm4py",
        ]
    )
    assert code == 2
    assert "--log-columns is for CSV" in capsys.readouterr().err
    assert not (tmp_path / "x.xes").exists()
