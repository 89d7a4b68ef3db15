"""Event logs as real systems export them: each is read, or refused with its file and line.

Each test is a defect found by a robustness sweep of ``check-log``,
``discover``, ``fidelity`` and ``calibrate`` over CSV and XES logs shaped
like BPI-challenge, Disco, pm4py and spreadsheet exports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run, write

XES_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">\n'


def xes_event(activity: str, stamp: str, stage: str) -> str:
    return (
        f'<event><string key="concept:name" value="{activity}"/>'
        f'<string key="lifecycle:transition" value="{stage}"/>'
        f'<date key="time:timestamp" value="{stamp}"/></event>'
    )


@pytest.mark.parametrize("command", ["discover", "check-log"])
def test_a_csv_log_of_only_start_rows_says_so_not_only_a_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    """Every row a start (or a schedule) without its complete: the rows are there."""
    log = write(
        tmp_path,
        "open.csv",
        "case,activity,lifecycle:transition,timestamp\n"
        "1,A,schedule,2024-03-01 08:00\n1,A,start,2024-03-01 08:10\n2,A,START,2024-03-01 09:00\n",
    )
    process = write(
        tmp_path,
        "p.yaml",
        "process: p\nowners: {team: {}}\nstart: a\nsteps:\n"
        "  a: {owner: team, activity: A, duration: 5m, next: done}\n  done: {end: true}\n",
    )
    args = [log] if command == "discover" else [process, log]
    code, _out, err = run(capsys, command, *args)
    assert code == 2
    assert "only a header" not in err
    assert (
        "open.csv:2: the log has no completed activity in its 3 rows "
        "(2 starts without a complete, 1 other lifecycle transition)"
    ) in err


def test_an_xes_log_of_only_start_events_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = write(
        tmp_path,
        "open.xes",
        XES_HEAD
        + '<trace><string key="concept:name" value="1"/>'
        + xes_event("A", "2024-03-01T08:00:00Z", "start")
        + "</trace></log>\n",
    )
    code, _out, err = run(capsys, "discover", log)
    assert code == 2
    assert "open.xes: the log has no completed activity in its 1 event (1 start without" in err


def test_discover_from_a_log_whose_name_holds_a_line_break_writes_valid_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The name went raw into the header comment: its second line became a YAML key."""
    rows = "".join(
        f"c{i},{activity},2024-03-0{1 + i % 5} {8 + k:02d}:00\n"
        for i in range(10)
        for k, activity in enumerate("AB")
    )
    log = write(tmp_path, 'odd\nname".csv', "case,activity,timestamp\n" + rows)
    code, _out, err = run(capsys, "discover", log, "-o", tmp_path / "found.yaml")
    assert code == 0, err
    text = (tmp_path / "found.yaml").read_text(encoding="utf-8")
    assert text.startswith('# Discovered by `procflow discover` from odd\\nname".csv:\n')


TRIAGE = """\
process: triage
owners:
  desk: {capacity: 2}
arrivals: {rate: 1/h}
attributes:
  severity: {high: 50%, low: 50%}
start: a
steps:
  a:
    owner: desk
    activity: A
    duration: 5m
    on:
      urgent: {to: b, when: "severity == 'high'"}
      normal: {to: c}
  b: {owner: desk, activity: B, duration: 5m, next: done}
  c: {owner: desk, activity: C, duration: 5m, next: done}
  done: {end: true}
"""


def triage_log(tmp_path: Path) -> Path:
    """A log whose case column is not first and has no recognised name, ';'-separated."""
    rows = ["logged_at;activity;ticket;severity"]
    for i in range(40):
        severity = "high" if i % 2 else "low"
        rows.append(f"2024-03-{1 + i % 28:02d} 08:00;A;T{i};{severity}")
        rows.append(f"2024-03-{1 + i % 28:02d} 09:00;{'B' if i % 2 else 'C'};T{i};{severity}")
    return write(tmp_path, "log.csv", "\n".join(rows) + "\n")


def test_check_log_reads_attribute_columns_by_the_case_column_it_was_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The attribute columns were keyed by the first column (the timestamps): 0 cases."""
    process = write(tmp_path, "p.yaml", TRIAGE)
    code, out, err = run(
        capsys,
        "check-log",
        process,
        triage_log(tmp_path),
        "--case-column",
        "ticket",
        "--timestamp-column",
        "logged_at",
        "--format",
        "json",
    )
    assert code == 0, err
    rules = json.loads(out)["rules"]
    assert rules["cases_with_attributes"] == 40
    assert (rules["checked"], rules["followed"]) == (40, 40)


def test_calibrate_reads_attribute_columns_by_the_case_column_it_was_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The shares of ``severity`` were counted over 56 "cases": the log's timestamps."""
    process = write(
        tmp_path, "p.yaml", TRIAGE.replace("{high: 50%, low: 50%}", "{high: 90%, low: 10%}")
    )
    code, out, err = run(
        capsys,
        "calibrate",
        process,
        triage_log(tmp_path),
        "--case-column",
        "ticket",
        "--timestamp-column",
        "logged_at",
        "--min-observations",
        "5",
        "-o",
        tmp_path / "fitted.yaml",
        "--format",
        "json",
    )
    assert code in (0, 1), err
    (change,) = [c for c in json.loads(out)["changes"] if c["kind"] == "attribute"]
    assert (change["subject"], change["observations"]) == ("severity", 40)


def test_excel_sep_line_before_the_header_names_the_delimiter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Excel writes (and reads) ``sep=;`` as a first line: it was taken for the header."""
    log = triage_log(tmp_path)
    log.write_text("sep=;\r\n" + log.read_text(encoding="utf-8"), encoding="utf-8")
    process = write(tmp_path, "p.yaml", TRIAGE)
    args = ["--case-column", "ticket", "--timestamp-column", "logged_at", "--format", "json"]
    code, out, err = run(capsys, "check-log", process, log, *args)
    assert code == 0, err
    report = json.loads(out)
    assert report["rules"]["cases_with_attributes"] == 40
    bad = write(tmp_path, "bad.csv", "sep=,\ncase,activity,timestamp\n1,A,yesterday\n")
    code, _out, err = run(capsys, "discover", bad)
    assert code == 2
    assert "bad.csv:3: column 'timestamp': cannot read timestamp 'yesterday'" in err


def test_discover_activities_named_null_or_true_get_ids_yaml_reads_as_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An activity "null" became the step id ``null``: the written file did not load (exit 2)."""
    rows = "".join(
        f"c{i},{activity},2024-03-{1 + i % 28:02d} {8 + k:02d}:00\n"
        for i in range(30)
        for k, activity in enumerate(["Null", "true", "False", "check"])
    )
    log = write(tmp_path, "null.csv", "case,activity,timestamp\n" + rows)
    code, _out, err = run(capsys, "discover", log, "-o", tmp_path / "found.yaml")
    assert code == 0, err
    text = (tmp_path / "found.yaml").read_text(encoding="utf-8")
    assert "process: a-null\n" in text
    assert "  a-null:\n" in text
    assert "  a-true:\n" in text
    code, out, err = run(capsys, "check-log", tmp_path / "found.yaml", log, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["conformance"]["share"] == 1.0


ABC = """\
process: abc
owners:
  team: {capacity: 2}
arrivals: {rate: 2/h}
start: a
steps:
  a: {owner: team, activity: "A", duration: exponential(10m), next: b}
  b: {owner: team, activity: "B", duration: exponential(10m), next: done}
  done: {end: true}
"""


@pytest.mark.parametrize("quote", ["", '"'])
def test_a_row_with_a_start_and_no_end_is_an_activity_still_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, quote: str
) -> None:
    """Logs extracted from a live system end with running work: the whole log was refused."""
    rows = [
        f"{quote}c{i}{quote},A,2024-03-{1 + i:02d} 08:00,2024-03-{1 + i:02d} 08:20\n"
        f"{quote}c{i}{quote},B,2024-03-{1 + i:02d} 09:00,2024-03-{1 + i:02d} 09:10\n"
        for i in range(20)
    ]
    text = "case,activity,start,end\n" + "".join(rows) + f"{quote}c99{quote},A,2024-03-25 08:00,\n"
    log = write(tmp_path, "live.csv", text)
    process = write(tmp_path, "p.yaml", ABC)
    code, out, err = run(capsys, "check-log", process, log, "--format", "json")
    assert code == 0, err
    report = json.loads(out)["log"]
    assert (report["events"], report["cases"], report["unpaired_starts"]) == (40, 20, 1)
    code, _out, err = run(capsys, "discover", log, "-o", tmp_path / "found.yaml")
    assert code == 0, err
    both = write(tmp_path, "both.csv", text + "c98,A,,\n")
    code, _out, err = run(capsys, "check-log", process, both)
    assert code == 2
    assert "both.csv:43: empty timestamp in column 'end'" in err
    running = write(tmp_path, "running.csv", "case,activity,start,end\n1,A,2024-01-01 08:00,\n")
    code, _out, err = run(capsys, "discover", running)
    assert code == 2
    assert "running.csv:2: the log has no completed activity in its 1 row (1 start without" in err


@pytest.mark.parametrize("encoding", ["x-mac-nothing", "utf-32", "utf-7", "idna"])
def test_an_xes_log_declaring_an_unknown_encoding_is_refused_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    """It crashed (LookupError, ValueError, UnicodeError) instead of naming the file."""
    log = write(
        tmp_path,
        "odd.xes",
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<log xmlns="http://www.xes-standard.org/"></log>\n',
    )
    code, _out, err = run(capsys, "discover", log)
    assert code == 2
    assert "crashed" not in err
    assert "odd.xes:1:1: the XML declaration names an encoding procflow cannot read" in err
