"""Reading event logs: CSV and XES, columns, timestamps, lifecycles, and bad logs."""

from __future__ import annotations

import csv
import gzip
import math
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import procflow
from helpers import CUSTOMER_SERVICE
from procflow import EventLogError, FileAccessError
from procflow.cli import main
from procflow.eventlog import csvlog, xes
from procflow.eventlog.batch import Labels
from procflow.eventlog.columns import Columns
from procflow.eventlog.csvlog import CsvLog, sniff_delimiter
from procflow.eventlog.events import Event
from procflow.eventlog.reader import detect_format, group_cases, read_log
from procflow.eventlog.timestamps import TimestampError, parse_many, parse_timestamp
from procflow.eventlog.xes import XesLog
from shared_data import SHARED_DATA

DATA = SHARED_DATA
RECEIPT = DATA / "receipt.csv"
RUNNING = DATA / "running-example.xes"
REVIEWING = DATA / "reviewing.xes"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- timestamps -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01T00:00:00Z", 0.0),
        ("1970-01-01T00:00:00+00:00", 0.0),
        ("1970-01-01 02:00:00+02:00", 0.0),
        ("1970-01-01T00:01:30.5", 90.5),  # no offset: UTC
        ("1970-01-02", 86400.0),
        ("2011-10-11 13:45:40.276000+02:00", 1318333540.276),
        ("2027-01-04T08:30:00.000+00:00", 1799051400.0),
        ("90", 90.0),
        ("1318333540.276", 1318333540.276),
        (" 2011-10-11T11:45:40.276Z ", 1318333540.276),
    ],
)
def test_timestamp_rules(text: str, seconds: float) -> None:
    assert parse_timestamp(text) == pytest.approx(seconds, abs=1e-6)
    assert parse_many([text])[0] == pytest.approx(seconds, abs=1e-6)


@pytest.mark.parametrize("text", ["yesterday", "2011-13-01", "11/10/2011", "nan", "inf", "1e999"])
def test_unreadable_timestamps_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected ISO 8601|--time-format '%d/%m/%Y'"):
        parse_timestamp(text)
    with pytest.raises(TimestampError) as info:
        parse_many(["2011-01-01T00:00:00Z", text])
    assert info.value.index == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
            st.sampled_from([None, 0, 60, 120, -300, 330]),
            st.sampled_from(["T", " "]),
            st.sampled_from(["seconds", "milliseconds", "microseconds"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_parse_many_agrees_with_datetime(
    values: list[tuple[datetime, int | None, str, str]],
) -> None:
    texts = []
    expected = []
    for moment, offset, sep, spec in values:
        keep = {"seconds": 1_000_000, "milliseconds": 1000, "microseconds": 1}[spec]
        moment = moment.replace(microsecond=moment.microsecond // keep * keep)
        aware = moment.replace(
            tzinfo=UTC if offset is None else timezone(timedelta(minutes=offset))
        )
        shown = aware.isoformat(sep=sep, timespec=spec)
        if offset is None:
            shown = shown.removesuffix("+00:00")
        texts.append(shown)
        expected.append(aware.timestamp())
    assert np.allclose(parse_many(texts), expected, rtol=0, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([None, "Z", 0, 60, 120, -300, 330, -570]),
    st.sampled_from(["T", " "]),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    st.sampled_from(["%H:%M", "%H%M", "%H"]),
)
def test_columns_of_one_layout_are_decoded_exactly(
    values: list[datetime], offset: int | str | None, sep: str, spec: str, shown_offset: str
) -> None:
    texts, expected = [], []
    for moment in values:
        if offset is None or offset == "Z":
            aware = moment.replace(tzinfo=UTC)
            text = aware.replace(tzinfo=None).isoformat(sep=sep, timespec=spec)
            text += "Z" if offset == "Z" else ""
        else:
            zone = timezone(timedelta(minutes=offset))
            aware = moment.replace(tzinfo=zone)
            text = aware.replace(tzinfo=None).isoformat(sep=sep, timespec=spec)
            hours, minutes = divmod(abs(offset), 60)
            if shown_offset == "%H" and minutes:
                continue
            sign = "-" if offset < 0 else "+"
            forms = {"%H:%M": f"{hours:02d}:{minutes:02d}", "%H%M": f"{hours:02d}{minutes:02d}"}
            text += sign + forms.get(shown_offset, f"{hours:02d}")
        texts.append(text)
        expected.append(datetime.fromisoformat(text).replace(tzinfo=aware.tzinfo).timestamp())
    if texts:
        assert np.allclose(parse_many(texts), expected, rtol=0, atol=2e-6)


def test_a_bad_date_in_a_column_of_one_layout_is_found() -> None:
    column = ["2012-02-29T10:00:00Z", "2011-02-29T10:00:00Z", "2011-03-01T10:00:00Z"]
    with pytest.raises(TimestampError) as info:
        parse_many(column)
    assert info.value.index == 1
    assert "'2011-02-29T10:00:00Z'" in str(info.value)
    fine = parse_many(["2011-12-31 23:59:59.5+01:00", "2011-12-31 23:59:59.5-01:00"])
    assert fine.tolist() == [1325372399.5, 1325379599.5]


@pytest.mark.parametrize(
    "text",
    [
        "2011-12-31T23:59:59+01:-5",
        "2011-12-31T23:59:59+01:3 ",
        "2011-12-31T23:59:59+01.0x",
        "2011-12-31T23:59:59+1x00",
        "0000-12-31T23:59:59+01:00",
    ],
)
def test_what_fromisoformat_refuses_is_not_decoded_in_bulk(text: str) -> None:
    """A column of one layout is decoded in bulk; a bad offset or year 0 is not."""
    with pytest.raises(TimestampError) as info:
        parse_many(["2011-12-31T23:59:59+01:00", text])
    assert info.value.index == 1


def test_a_time_format_replaces_the_rules(tmp_path: Path) -> None:
    log = write(tmp_path / "eu.csv", "case;activity;time\nc1;a;11-10-2011 13:45\n")
    events = list(CsvLog(log, time_format="%d-%m-%Y %H:%M"))
    assert events[0].end == datetime(2011, 10, 11, 13, 45, tzinfo=UTC).timestamp()
    with pytest.raises(EventLogError, match=r"eu\.csv:2: column 'time': .*'%Y'"):
        list(CsvLog(log, time_format="%Y"))


# -- CSV --------------------------------------------------------------------


def test_procflow_layout_is_recognised(tmp_path: Path) -> None:
    log = write(
        tmp_path / "sim.csv",
        "case,step,owner,start,end\n"
        "1,intake,agent,2027-01-04T08:00:00.000+00:00,2027-01-04T08:06:00.000+00:00\n"
        "1,triage,,2027-01-04T08:10:00.000+00:00,2027-01-04T08:12:00.000+00:00\n",
    )
    reader = CsvLog(log)
    events = list(reader)
    assert events == [
        Event("1", "intake", 1799049960.0, 1799049600.0, "agent"),
        Event("1", "triage", 1799050320.0, 1799050200.0, None),
    ]
    assert [e.line for e in events] == [2, 3]
    assert reader.index is not None
    assert reader.index.describe() == {
        "case": "case",
        "activity": "step",
        "start": "start",
        "end": "end",
        "resource": "owner",
        "lifecycle": None,
    }


def test_pm4py_columns_are_recognised_and_extra_columns_ignored(tmp_path: Path) -> None:
    log = write(
        tmp_path / "pm4py.csv",
        "case:startdate,case:concept:name,concept:instance,concept:name,org:group,"
        "org:resource,time:timestamp\n"
        "2011-10-11,case-1,task-1,Confirmation of receipt,Group 1,R1,"
        "2011-10-11 13:45:40.276000+02:00\n",
    )
    (event,) = list(CsvLog(log))
    assert (event.case, event.activity, event.resource) == (
        "case-1",
        "Confirmation of receipt",
        "R1",
    )
    assert event.start is None
    assert event.end == pytest.approx(1318333540.276)


def test_columns_can_be_named(tmp_path: Path) -> None:
    log = write(
        tmp_path / "custom.csv",
        "Ticket ID,What,Began,Closed At,Agent\nT1,intake,1000,1300,ann\n",
    )
    columns = Columns(case="ticket id", activity="What", start="Began", end="Closed At",
                      resource="Agent")  # fmt: skip
    (event,) = list(CsvLog(log, columns))
    assert (event.case, event.activity, event.start, event.end, event.resource) == (
        "T1", "intake", 1000.0, 1300.0, "ann",
    )  # fmt: skip
    with pytest.raises(EventLogError, match=r"no column 'nope' \(--case-column\)"):
        list(CsvLog(log, Columns(case="nope")))


def test_a_single_start_column_gives_instants(tmp_path: Path) -> None:
    log = write(tmp_path / "starts.csv", "case,activity,start_time\nc,a,100\nc,b,250\n")
    events = list(CsvLog(log))
    assert [(e.start, e.end) for e in events] == [(None, 100.0), (None, 250.0)]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a,b;c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b|c", "|"), ("abc", ",")],
)
def test_delimiter_sniffing(header: str, delimiter: str) -> None:
    assert sniff_delimiter(header) == delimiter


def test_lifecycle_rows_are_paired(tmp_path: Path) -> None:
    log = write(
        tmp_path / "life.csv",
        "case,activity,lifecycle:transition,timestamp\n"
        "c1,a,start,10\n"
        "c2,a,start,12\n"
        "c1,a,complete,20\n"
        "c1,b,schedule,21\n"
        "c1,b,START,22\n"
        "c2,a,complete,30\n"
        "c1,b,complete,40\n"
        "c1,c,complete,45\n"
        "c1,d,start,50\n",
    )
    reader = CsvLog(log)
    events = [(e.case, e.activity, e.start, e.end) for e in reader]
    assert events == [
        ("c1", "a", 10.0, 20.0),
        ("c2", "a", 12.0, 30.0),
        ("c1", "b", 22.0, 40.0),
        ("c1", "c", None, 45.0),
    ]
    assert reader.skipped == 1
    assert reader.unpaired_starts == 1


def test_pairs_across_batches(tmp_path: Path) -> None:
    rows = ["case,activity,lifecycle,time"]
    for i in range(50):
        rows.append(f"c{i},a,start,{i}")
    for i in range(50):
        rows.append(f"c{i},a,complete,{100 + i}")
    log = write(tmp_path / "life.csv", "\n".join(rows) + "\n")
    events = list(CsvLog(log, chunk_chars=40))
    assert [(e.case, e.start, e.end) for e in events] == [
        (f"c{i}", float(i), 100.0 + i) for i in range(50)
    ]


@pytest.mark.parametrize("chunk_chars", [1, 17, 64, 1 << 19])
@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_split_and_csv_paths_agree(
    tmp_path: Path, chunk_chars: int, quoting: int, terminator: str
) -> None:
    rng = random.Random(chunk_chars * 7 + quoting)
    rows = [("case", "activity", "start", "end", "note")]
    for i in range(300):
        note = rng.choice(["", "plain", "with, comma", 'say "hi"', "two\nlines"])
        rows.append((f"c{i % 13}", f"act {i % 5}", str(i), str(i + 0.5), note))
    log = tmp_path / "log.csv"
    with open(log, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=quoting, lineterminator=terminator).writerows(rows)
    events = list(CsvLog(log, chunk_chars=chunk_chars))
    assert [(e.case, e.activity, e.start, e.end) for e in events] == [
        (case, activity, float(start), float(end)) for case, activity, start, end, _ in rows[1:]
    ]
    lines = [e.line for e in events]
    assert lines[0] == 2
    assert lines == sorted(lines)
    newlines = sum(r[4].count("\n") for r in rows[1:])
    assert lines[-1] == 301 + newlines - rows[-1][4].count("\n")


@pytest.mark.parametrize("chunk_chars", [64, 1000, 1 << 19])
def test_numpy_split_and_csv_module_agree_on_every_kind_of_field(
    tmp_path: Path, chunk_chars: int
) -> None:
    """Unquoted chunks are split with numpy, quoted ones with csv: the same events either way."""
    rng = random.Random(chunk_chars)
    cases = ["c1", "c12345678", "case-ünïcode-7", "x" * 15, "y" * 16, "z" * 40, "w" * 90, "7"]
    activities = ["a", "intake", "resolve-remote", "Prüfung", "Genehmigung erteilt!", "q" * 70]
    resources = ["", "bob", "alice-in-accounts", "søren"]
    rows = [("case", "activity", "start", "end", "resource")]
    moment = datetime(2027, 1, 4, tzinfo=UTC)
    for i in range(400):
        moment += timedelta(seconds=rng.uniform(0, 600))
        began = (moment - timedelta(seconds=30)).isoformat(timespec="milliseconds")
        ended = moment.isoformat(timespec="milliseconds")
        if i % 97 == 5:
            ended = str(round(moment.timestamp(), 3))  # a number: a chunk of several widths
        if i % 89 == 7:
            began = ""  # no start: the start column has several widths
        row = (rng.choice(cases), rng.choice(activities), began, ended, rng.choice(resources))
        rows.append(row)
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"
    with open(quoted, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)

    def read(path: Path) -> list[tuple[object, ...]]:
        log = CsvLog(path, chunk_chars=chunk_chars)
        return [(e.case, e.activity, e.start, e.end, e.resource, e.line) for e in log]

    expected = read(quoted)
    assert read(plain) == expected
    assert len(expected) == 400
    assert {e[0] for e in expected} == set(cases)
    assert {e[1] for e in expected} == set(activities)
    assert expected[-1][5] == 401
    # the numpy path decodes timestamps exactly as fromisoformat does
    first = rows[1]
    assert expected[0][3] == datetime.fromisoformat(first[3]).timestamp()


def test_plain_chunks_factorise_text_columns(tmp_path: Path) -> None:
    text = (
        "case,activity,timestamp,resource\n"
        "c2,b,2027-01-04T10:00:00Z,ann\n"
        "c1,a,2027-01-04T10:01:00Z,\n"
        "c2,a,2027-01-04T10:02:00Z,ann\n"
        "c3,a,2027-01-04T10:03:00Z,ann\n"
    )
    (batch,) = CsvLog(write(tmp_path / "log.csv", text)).batches()
    assert isinstance(batch.cases, Labels)
    assert batch.cases.names == ["c2", "c1", "c3"]  # in order of first appearance
    assert batch.cases.codes.tolist() == [0, 1, 0, 2]
    assert list(batch.cases) == ["c2", "c1", "c2", "c3"]
    assert batch.cases[-1] == "c3"
    assert batch.cases[1:3] == ["c1", "c2"]
    assert "c1" in batch.cases
    assert "c4" not in batch.cases
    assert batch.resources is not None
    assert list(batch.resources) == ["ann", "", "ann", "ann"]
    assert list(batch.activities) == ["b", "a", "a", "a"]
    assert batch.end.tolist() == [1799056800.0 + 60 * i for i in range(4)]
    # a NUL byte would be ambiguous in zero-padded words: such a chunk is read as strings
    (batch,) = CsvLog(write(tmp_path / "nul.csv", text.replace("c3,a", "c3,a\x00b"))).batches()
    assert not isinstance(batch.activities, Labels)
    assert list(batch.activities) == ["b", "a", "a", "a\x00b"]


@pytest.mark.parametrize("kind", ["stray quote", "CR line ends"])
def test_a_row_end_never_found_by_counting_quotes_keeps_memory_bounded(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a line break outside quotes, rows are found exactly past CARRY_LIMIT characters.

    Counting quotes would carry the rest of the file as one chunk: all of
    it in memory at once.
    """
    monkeypatch.setattr(csvlog, "CARRY_LIMIT", 2000)
    rows = ["case,activity,timestamp"]
    names = ["27-inch monitor", '27" monitor']
    rows += [f"c{i},{names[i == 3]},{i}" for i in range(3000)]
    end = "\r" if kind == "CR line ends" else "\n"
    log = write(tmp_path / "log.csv", end.join(rows) + end)
    reader = CsvLog(log, chunk_chars=100)
    assert max(len(batch) for batch in reader.batches()) < 200
    events = list(reader)
    assert [(e.case, e.end, e.line) for e in events] == [(f"c{i}", i, i + 2) for i in range(3000)]
    assert events[3].activity == '27" monitor'


def test_an_unclosed_quote_is_an_error_not_the_rest_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvlog, "CARRY_LIMIT", 2000)
    rows = ["case,activity,timestamp", "c0,a,0", 'c1,"never closed,1']
    rows += [f"c{i},a,{i}" for i in range(2, 3000)]
    log = write(tmp_path / "log.csv", "\n".join(rows) + "\n")
    with pytest.raises(EventLogError) as info:
        list(CsvLog(log, chunk_chars=100))
    assert info.value.row == 3
    assert "is a quote never closed?" in str(info.value)


def test_gzip_logs_are_read(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("case,activity,timestamp\nc,a,1\n")
    assert detect_format(str(path)) == "csv"
    assert [e.end for e in read_log(path)] == [1.0]


def test_quoted_fields_spanning_lines_keep_line_numbers(tmp_path: Path) -> None:
    log = write(
        tmp_path / "quoted.csv",
        'case,activity,timestamp,note\nc,a,1,"two\nlines"\nc,b,2,x\nc,c,oops,x\n',
    )
    with pytest.raises(EventLogError) as info:
        list(CsvLog(log))
    assert info.value.row == 5
    assert str(info.value).startswith(f"{log}:5: column 'timestamp': cannot read timestamp 'oops'")


# -- bad CSV logs: a clear message with the file and line ---------------------


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("", 1, "empty file: an event log needs a header row"),
        ("\n\n", 1, "empty file"),
        ("case,activity,timestamp\n", 2, "the log has no events (only a header row)"),
        ("who,what\nc,a\n", 1, "no case column: name it with --case-column"),
        ("case,what\nc,a\n", 1, "no activity column: name it with --activity-column"),
        ("case,activity\nc,a\n", 1, "no timestamp column: name it with --timestamp-column"),
        ("case,activity,timestamp\nc,a,1\nc,b\n", 3, "has 2 fields but the header has 3"),
        ("case,activity,timestamp\nc,a,1\n,b,2\n", 3, "empty case id in column 'case'"),
        ("case,activity,timestamp\nc,,2\n", 2, "empty activity in column 'activity'"),
        ("case,activity,timestamp\nc,a,\n", 2, "empty timestamp in column 'timestamp'"),
        (
            "case,activity,timestamp\nc,a,2011-10-11\nc,b,11/10/2011\n",
            3,
            "column 'timestamp': cannot read timestamp '11/10/2011': day or month first?",
        ),
        (
            "case,activity,start,end\nc,a,20,10\n",
            2,
            "activity 'a' of case 'c' starts after it ends",
        ),
        ('case,activity,timestamp\nc,"a,1\n', 2, "not valid CSV"),
    ],
)
def test_bad_csv_logs(tmp_path: Path, content: str, line: int, message: str) -> None:
    log = write(tmp_path / "bad.csv", content)
    with pytest.raises(EventLogError) as info:
        list(CsvLog(log))
    assert info.value.row == line
    assert str(info.value).startswith(f"{log}:{line}: ")
    assert message in str(info.value)


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    log = write(tmp_path / "blank.csv", "case,activity,timestamp\n\nc,a,1\n\n\nc,b,2\n")
    assert [(e.activity, e.line) for e in CsvLog(log)] == [("a", 3), ("b", 6)]


def test_non_utf8_is_reported_on_its_line(tmp_path: Path) -> None:
    log = tmp_path / "latin1.csv"
    rows = ["case,activity,timestamp"] + [f"c,a{i},{i}" for i in range(3000)]
    rows.insert(2000, "c,caf\xe9,1")
    log.write_bytes("\n".join(rows).encode("latin-1"))
    with pytest.raises(EventLogError, match=r"latin1\.csv:2001: not UTF-8 text \(byte 0xe9"):
        list(CsvLog(log))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="no such file"):
        list(CsvLog(tmp_path / "absent.csv"))
    with pytest.raises(FileAccessError, match="is a directory"):
        list(CsvLog(tmp_path))


def test_group_cases_sorts_each_case(tmp_path: Path) -> None:
    log = write(tmp_path / "g.csv", "case,activity,timestamp\nx,b,5\ny,a,1\nx,a,2\n")
    cases = group_cases(read_log(log))
    assert {k: [e.activity for e in v] for k, v in cases.items()} == {"x": ["a", "b"], "y": ["a"]}


# -- XES ------------------------------------------------------------------------

needs_data = pytest.mark.skipif(not RUNNING.exists(), reason="../shared/data is not available")


@needs_data
def test_running_example_xes() -> None:
    log = read_log(RUNNING)
    assert log.format == "xes"
    events = list(log)
    assert len(events) == 42
    assert len({e.case for e in events}) == 6
    first = events[0]
    assert (first.case, first.activity, first.resource) == ("3", "register request", "Pete")
    assert (
        first.end == datetime(2010, 12, 30, 14, 32, tzinfo=timezone(timedelta(hours=1))).timestamp()
    )
    assert all(e.start is None for e in events)


@needs_data
def test_reviewing_xes_pairs_start_and_complete() -> None:
    log = XesLog(REVIEWING)
    events = list(log)
    assert len(events) == 2278  # 3,730 events: 1,452 starts paired into their completes
    assert sum(e.start is not None for e in events) == 1452
    assert log.unpaired_starts == 0
    assert log.traces == 100
    invite = events[0]
    assert (invite.case, invite.activity) == ("1", "invite reviewers")
    assert invite.end - (invite.start or 0) == 5 * 86400


def test_namespaced_xes_and_trace_without_name(tmp_path: Path) -> None:
    log = write(
        tmp_path / "ns.xes",
        '<?xml version="1.0"?>\n<!-- a comment -->\n'
        '<log xmlns="http://www.xes-standard.org/" xes.version="1.0">'
        '<global scope="event"><string key="concept:name" value="x"/></global>'
        "<trace><event><string key='concept:name' value='a'/>"
        "<date key='time:timestamp' value='2020-01-01T00:00:00Z'/>"
        "<list key='nested'><string key='concept:name' value='ignored'/></list>"
        "</event></trace></log>",
    )
    (event,) = list(read_log(log))
    assert (event.case, event.activity, event.end) == ("trace-1", "a", 1577836800.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("<log><trace>", "not valid XML"),
        ("<html></html>", "the root element is <html>, not <log>"),
        ("<log></log>", "the log has no events"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY a "aaaa">]>\n<log/>',
            "refusing a document type declaration",
        ),
        (
            "<!-- <trick -->\n<!DOCTYPE log SYSTEM 'file:///etc/passwd'>\n<log/>",
            "refusing a document type declaration",
        ),
        (
            "<log><trace><event><string key='concept:name' value='a'/></event></trace></log>",
            "trace 'trace-1', event 1 ('a'): no time:timestamp",
        ),
        (
            "<log><trace><event><date key='time:timestamp' value='2020-01-01'/></event>"
            "</trace></log>",
            "no concept:name",
        ),
        (
            "<log><trace><string key='concept:name' value='T'/><event>"
            "<string key='concept:name' value='a'/><date key='time:timestamp' value='soon'/>"
            "</event></trace></log>",
            "trace 'T', event 1 ('a'): cannot read timestamp 'soon'",
        ),
    ],
)
def test_bad_xes_logs(tmp_path: Path, content: str, message: str) -> None:
    log = write(tmp_path / "bad.xes", content)
    with pytest.raises(EventLogError) as info:
        list(read_log(log))
    assert str(info.value).startswith(str(log))
    assert message in str(info.value)


XES_WITH_PROBLEMS = """\
<log>
 <trace><string key="concept:name" value="T"/>
  <event><string key="concept:name" value="a"/>
    <date key="time:timestamp" value="2020-01-01"/></event>
  <event>
   <string key="concept:name" value="b"/>
   <date key="time:timestamp" value="{stamp}"/>
  </event>
  <évent/><event><string key="concept:name" value="c"/>{more}</event>
 </trace>
</log>
"""


@pytest.mark.parametrize("chunk", [xes.CHUNK, 7])  # 7 bytes: positions across chunk boundaries
@pytest.mark.parametrize(
    ("stamp", "more", "where", "message"),
    [
        ("soon", "", "7:4", "trace 'T', event 2 ('b'): cannot read timestamp 'soon'"),
        ("2020-01-02", "", "9:11", "trace 'T', event 3 ('c'): no time:timestamp"),
        ("2020-01-02", "<date key='x'/>", "9:11", "event 3 ('c'): no time:timestamp"),
        ("2020-01-02", "<date key='time:timestamp' value='x'/>", "9:56", "event 3 ('c')"),
    ],
)
def test_xes_content_errors_name_line_and_column(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    stamp: str,
    more: str,
    where: str,
    message: str,
) -> None:
    """The <event> (or its bad time:timestamp) is found by a second pass, on the error path."""
    monkeypatch.setattr(xes, "CHUNK", chunk)
    text = XES_WITH_PROBLEMS.format(stamp=stamp, more=more)
    for log in (write(tmp_path / "bad.xes", text), tmp_path / "bad.xes.gz"):
        if log.suffix == ".gz":
            log.write_bytes(gzip.compress(text.encode()))
        with pytest.raises(EventLogError) as info:
            list(read_log(log))
        assert str(info.value).startswith(f"{log}:{where}: "), str(info.value)
        assert message in str(info.value)
        assert info.value.row == int(where.split(":")[0])


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ('<?xml version="1.0"?>\n<log>\n  <trace>\n    <event>\n      <string key="x"',
         "5:7", "not valid XML: unclosed token"),
        ("<log>\n <trace>\n </event>\n</log>", "3:4", "not valid XML: mismatched tag"),
        ("<log>\n  <a é=1/>\n</log>", "2:8", "not valid XML: not well-formed"),  # characters
        ("<?xml version='1.0'?>\n\n  <logx/>\n", "3:3", "the root element is <logx>"),
    ],
)  # fmt: skip
def test_xes_syntax_errors_name_line_and_column(
    tmp_path: Path, content: str, where: str, message: str
) -> None:
    log = write(tmp_path / "bad.xes", content)
    with pytest.raises(EventLogError) as info:
        list(read_log(log))
    assert str(info.value).startswith(f"{log}:{where}: "), str(info.value)
    assert message in str(info.value)
    assert main(["check-log", str(CUSTOMER_SERVICE), str(log)]) == 2


def test_billion_laughs_is_refused_before_parsing(tmp_path: Path) -> None:
    entities = "".join(
        f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" if i else "ha"}'
        + ("&l" + str(i - 1) + ";") * 9
        + '">'
        if i
        else '<!ENTITY l0 "ha">'
        for i in range(10)
    )
    log = write(
        tmp_path / "bomb.xes", f"<?xml version='1.0'?><!DOCTYPE log [{entities}]><log>&l9;</log>"
    )
    with pytest.raises(EventLogError, match="document type declaration"):
        list(read_log(log))


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format("x.XES") == "xes"
    assert detect_format("x.xes.gz") == "xes"
    assert detect_format("x.tsv") == "csv"
    sniffed = write(tmp_path / "log.data", "  <log/>")
    assert detect_format(str(sniffed)) == "xes"
    assert detect_format(str(write(tmp_path / "other.data", "case,activity"))) == "csv"
    with pytest.raises(procflow.ConfigError, match="column options apply to CSV"):
        read_log(tmp_path / "x.xes", columns=Columns(case="id"))


def test_events_compare_by_value() -> None:
    assert Event("c", "a", 1.0) == Event("c", "a", 1.0, None, None, 99)
    assert Event("c", "a", 1.0) != Event("c", "b", 1.0)
    assert "activity='a'" in repr(Event("c", "a", 1.0))
    assert not math.isnan(Event("c", "a", 1.0).end)


def test_disco_style_exports_are_read_as_they_come(tmp_path: Path) -> None:
    """``Case ID;Activity;Resource;Start Timestamp;Complete Timestamp`` with 2010/10/02 dates."""
    from procflow import check_log
    from procflow.eventlog.reader import read_log

    process = tmp_path / "p.yaml"
    process.write_text(
        "process: p\nowners: {a: {capacity: 2}}\nstart: one\nsteps:\n"
        "  one: {owner: a, duration: 10m, next: two}\n"
        "  two: {owner: a, duration: 10m, next: done}\n  done: {end: true}\n",
        encoding="utf-8",
    )
    rows = ["Case ID;Activity;Resource;Start Timestamp;Complete Timestamp"]
    for case in range(200):  # enough rows for the column-at-a-time decoder
        date = f"2010/10/{2 + case // 10:02d} {7 + case % 10:02d}"
        rows.append(f"c{case};one;ann;{date}:20:37.000;{date}:30:37.000")
        rows.append(f"c{case};two;bob;{date}:31:00.000;{date}:40:00.500")
    log = tmp_path / "disco.csv"
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = check_log(str(process), read_log(log)).to_dict()
    assert report["conformance"]["share"] == 1.0
    assert report["steps"]["one"]["service"]["mean"] == 600.0
    assert report["steps"]["two"]["service"]["mean"] == 540.5
    assert report["steps"]["two"]["wait"]["mean"] == 23.0


def test_the_column_decoder_reads_year_first_slashed_dates() -> None:
    from procflow.eventlog.timestamps import decode_fixed, parse_timestamp

    texts = ["2010/10/02 07:20:37.000", "2010/10/02 07:21:37.500"]
    chars = np.array([list(t.encode()) for t in texts], dtype=np.uint8).T.copy()
    seconds, ok = decode_fixed(chars)
    assert ok.all()
    assert list(seconds) == [parse_timestamp(t.replace("/", "-")) for t in texts]
    assert parse_timestamp("2010/10/02") == parse_timestamp("2010-10-02")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02-10-2010 07:20", ["%d-%m-%Y %H:%M", "%m-%d-%Y %H:%M"]),
        ("21-10-2010 07:20:37", ["%d-%m-%Y %H:%M:%S"]),
        ("10/21/2010 7:20:37.250 PM", ["%m/%d/%Y %I:%M:%S.%f %p"]),
        ("2010-10-21", []),
    ],
)
def test_an_unreadable_day_month_timestamp_suggests_the_format(
    text: str, expected: list[str]
) -> None:
    from procflow.eventlog.timestamps import make_parser, parse_timestamp, suggested_formats

    assert suggested_formats(text) == expected
    for time_format in expected:
        assert math.isfinite(make_parser(time_format)(text))
    if expected:
        with pytest.raises(ValueError, match=re.escape(repr(expected[0]))):
            parse_timestamp(text)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("07.12.2026 13:45", "2026-12-07T13:45:00+00:00"),
        ("7.1.2027", "2027-01-07T00:00:00+00:00"),
        ("02.10.2010 7:20:37.25", "2010-10-02T07:20:37.250000+00:00"),
        ("31.12.2026T23:59:59", "2026-12-31T23:59:59+00:00"),
    ],
)
def test_dotted_dates_are_read_day_first(text: str, iso: str) -> None:
    """Dots write the day first wherever they are used (DIN 5008 and neighbours): a German
    export's 07.12.2026 is read, not refused as ambiguous."""
    from datetime import UTC, datetime

    from procflow.eventlog.timestamps import parse_timestamp

    assert datetime.fromtimestamp(parse_timestamp(text), UTC).isoformat() == iso


@pytest.mark.parametrize("text", ["13.13.2026", "31.02.2026 09:00", "07.12.2026 24:30"])
def test_a_dotted_text_that_is_no_date_names_itself(text: str) -> None:
    from procflow.eventlog.timestamps import parse_timestamp

    with pytest.raises(ValueError, match=re.escape(f"{text!r}: not a date and time as day.month")):
        parse_timestamp(text)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-12-07 9:05", "2026-12-07T09:05:00+00:00"),
        ("2026-12-07T9:05:30.5", "2026-12-07T09:05:30.500000+00:00"),
        ("2026-12-07 09:05:00 UTC", "2026-12-07T09:05:00+00:00"),
        ("2026-12-07 GMT", "2026-12-07T00:00:00+00:00"),
    ],
)
def test_spreadsheet_and_warehouse_exports_are_read(text: str, iso: str) -> None:
    """A one-digit hour (spreadsheets) and a trailing UTC (BigQuery) are ISO 8601 in all but
    form; an offset and a zone together stay an error."""
    from datetime import UTC, datetime

    from procflow.eventlog.timestamps import parse_timestamp

    assert datetime.fromtimestamp(parse_timestamp(text), UTC).isoformat() == iso
    with pytest.raises(ValueError, match="cannot read timestamp '2026-12-07 09:05:00"):
        parse_timestamp("2026-12-07 09:05:00+01:00 UTC")
