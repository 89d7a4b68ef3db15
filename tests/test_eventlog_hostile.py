"""Hostile event logs: DTDs anywhere, deep nesting, wide events, far-off numbers, bad headers."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE
from procflow import EventLogError
from procflow.cli import main
from procflow.eventlog import xes
from procflow.eventlog.csvlog import CsvLog
from procflow.eventlog.timestamps import parse_many, parse_timestamp
from procflow.eventlog.xes import XesLog

EVENT = (
    '<event><string key="concept:name" value="intake"/>'
    '<date key="time:timestamp" value="2024-01-01T08:00:00Z"/>{inner}</event>'
)


def _xes(inner: str = "", before: str = "") -> str:
    return (
        f'<?xml version="1.0"?>\n{before}<log><trace><string key="concept:name" value="c1"/>'
        f"{EVENT.format(inner=inner)}</trace></log>\n"
    )


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


ENTITY_LOG = (
    "<!-- " + "<a " * 400_000 + " -->\n"  # longer than the 1 MiB the old prolog check read
    '<!DOCTYPE log [<!ENTITY x "expanded">]>\n'
    "<log><trace><event>"
    '<string key="concept:name" value="&x;"/>'
    '<date key="time:timestamp" value="2024-01-01T08:00:00Z"/>'
    "</event></trace></log>\n"
)


@pytest.mark.parametrize("name", ["late-dtd.xes", "late-dtd.xes.gz"])
def test_a_dtd_after_a_long_comment_is_refused_with_its_position(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / name, ENTITY_LOG)
    with pytest.raises(EventLogError) as caught:
        list(XesLog(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:2:"), message  # the line of the <!DOCTYPE
    assert "refusing a document type declaration" in message
    assert main(["check-log", str(CUSTOMER_SERVICE), str(path)]) == 2
    assert "refusing a document type declaration" in capsys.readouterr().err


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    path = _write(
        tmp_path / "xxe.xes",
        f'<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY s SYSTEM "{secret.as_uri()}">]>\n'
        + _xes(inner="").split("\n", 1)[1].replace('value="c1"', 'value="&s;"'),
    )
    with pytest.raises(EventLogError, match="refusing a document type declaration") as caught:
        list(XesLog(path))
    assert "top secret" not in str(caught.value)


@pytest.mark.parametrize("name", ["deep.xes", "deep.xes.gz"])
def test_deep_nesting_is_refused_at_once_with_its_position(tmp_path: Path, name: str) -> None:
    depth = 200_000
    path = _write(tmp_path / name, _xes(inner="<list>" * depth + "</list>" * depth))
    tracemalloc.start()
    try:
        with pytest.raises(EventLogError) as caught:
            list(XesLog(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert f"nested more than {xes.MAX_DEPTH} deep" in message
    column = len('<log><trace><string key="concept:name" value="c1"/>') + len(
        EVENT.split("{inner}")[0]
    )
    column += 6 * (xes.MAX_DEPTH - 3) + 1  # the first <list> too deep: depth MAX_DEPTH + 1
    assert message.startswith(f"{path}:2:{column}: "), message
    assert peak < 20 * 2**20  # the file is 2.6 MB of tags; the reader stops at the 65th


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    deep = xes.MAX_DEPTH - 4  # log, trace, event, then lists down to the limit
    path = _write(tmp_path / "ok.xes", _xes(inner="<list>" * deep + "</list>" * deep))
    assert [e.activity for e in XesLog(path)] == ["intake"]


def test_a_wide_event_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """300,000 values inside one event's list: none of them is kept."""
    values = '<string key="v" value="0123456789"/>' * 300_000
    path = _write(
        tmp_path / "wide.xes", _xes(inner=f'<list key="l"><values>{values}</values></list>')
    )
    tracemalloc.start()
    try:
        events = list(XesLog(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [e.activity for e in events] == ["intake"]
    assert peak < 12 * 2**20  # an element tree of it took ~100 MB


# -- numbers that are not times ------------------------------------------------------


@pytest.mark.parametrize("text", ["-1e20", "1e20", "9e15", "-62135596801"])
def test_numeric_timestamps_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(text)


@pytest.mark.parametrize("text", ["0", "-86400", "1318333540.276", "253402300799", "-62135596800"])
def test_numeric_timestamps_in_range_are_read(text: str) -> None:
    assert parse_timestamp(text) == float(text)


def test_an_out_of_range_number_in_a_log_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "far.csv"
    path.write_text("case,activity,time\nc1,intake,0\nc1,triage,-1e20\n")
    with pytest.raises(EventLogError) as caught:
        list(CsvLog(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ")
    assert "'-1e20'" in message
    assert "out of range" in message
    assert main(["check-log", str(CUSTOMER_SERVICE), str(path)]) == 2


def test_parse_many_refuses_out_of_range_numbers() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_many(["1", "2", "-1e20"])


# -- headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("case,case,activity,time", "columns 1 and 2 are both named 'case'"),
        ("case,activity,time,Activity", "columns 2 and 4 are both named 'activity'"),
        ("case;activity;time;time", "columns 3 and 4 are both named 'time'"),
    ],
)
def test_a_duplicate_header_is_refused_with_its_position(
    tmp_path: Path, header: str, message: str
) -> None:
    delimiter = ";" if ";" in header else ","
    row = delimiter.join(
        ["c1", "intake", "2024-01-01T08:00:00", "x"][: header.count(delimiter) + 1]
    )
    path = tmp_path / "dup.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(EventLogError) as caught:
        list(CsvLog(path))
    assert str(caught.value).startswith(f"{path}:1: "), str(caught.value)
    assert message in str(caught.value)
    assert main(["check-log", str(CUSTOMER_SERVICE), str(path)]) == 2


def test_columns_not_read_may_share_a_name(tmp_path: Path) -> None:
    """Trailing delimiters leave unnamed columns, exports repeat a 'note': neither is read."""
    path = tmp_path / "blank.csv"
    path.write_text("case,activity,time,note,note,,\nc1,intake,2024-01-01T08:00:00,a,b,,\n")
    assert [e.activity for e in CsvLog(path)] == ["intake"]
