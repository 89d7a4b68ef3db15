"""Logs procflow writes: gzip under a .gz name, spreadsheet formulas defused, read back exactly."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

import procflow
from helpers import CUSTOMER_SERVICE
from procflow import Case, write_cases
from procflow.cli import main
from procflow.eventlog.csvlog import CsvLog
from procflow.eventlog.writer import CsvEventWriter, protect_cell, unprotect_cell

HOSTILE = [
    '=HYPERLINK("https://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\r=1",
    "'=already",
    "''+twice",
    "'plain quote'",
    "normal",
    "a=b",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_protect_and_unprotect_are_inverse(value: str) -> None:
    protected = protect_cell(value)
    assert protected[:1] not in {"=", "+", "-", "@", "\t", "\r"}
    assert unprotect_cell(protected) == value


def test_formula_cells_are_prefixed_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with CsvEventWriter(path) as log:
        for number, value in enumerate(HOSTILE):
            log.write(value, "intake", value, datetime(2027, 1, 4, tzinfo=UTC), _at(number))
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    for row in rows:  # what a spreadsheet sees: no cell starts a formula
        assert all(cell[:1] not in {"=", "+", "-", "@", "\t", "\r"} for cell in row), row
    assert rows[0][0] == "'" + HOSTILE[0]
    events = list(CsvLog(path))
    assert [e.case for e in events] == HOSTILE
    assert [e.resource for e in events] == HOSTILE


def _at(number: int) -> datetime:
    return datetime(2027, 1, 4, 1, number, tzinfo=UTC)


def test_write_cases_defuses_a_formula_case_id(tmp_path: Path) -> None:
    process = procflow.load(CUSTOMER_SERVICE)
    case = Case(process, '=HYPERLINK("https://evil.example")')
    path = tmp_path / "cases.csv"
    write_cases(path, [case])
    assert "\n'=HYPERLINK" not in "\n" + path.read_text()  # nothing left: nothing was left yet
    case.trigger(case.available_triggers[0])
    write_cases(path, [case])
    assert path.read_text().splitlines()[1].startswith('"\'=HYPERLINK(""https://evil.example"")"')
    assert next(iter(CsvLog(path))).case == case.id


def test_a_gz_log_is_gzip_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "events.csv.gz"
    args = ["simulate", str(CUSTOMER_SERVICE), "--cases", "40", "--seed", "3"]
    code = main([*args, "--log", str(path)])
    assert code in (0, 1)
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"  # the gzip magic number
    text = gzip.decompress(raw).decode()
    assert text.startswith("case,step,owner,start,end\n")
    plain = tmp_path / "events.csv"
    main([*args, "--log", str(plain)])
    assert text == plain.read_text()  # the same log, only compressed
    assert [e.case for e in CsvLog(path)] == [e.case for e in CsvLog(plain)]
    assert main(["check-log", str(CUSTOMER_SERVICE), str(path), "--format", "json"]) in (0, 1)


def test_a_gz_log_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv.gz", tmp_path / "sub" / "a.csv.gz"
    for path in (first, second):
        with CsvEventWriter(path) as log:
            log.write_simulated(1, "intake", "clerk", 0.0, 60.0)
    assert first.read_bytes() == second.read_bytes()
