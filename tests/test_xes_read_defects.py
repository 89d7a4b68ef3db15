"""What real XES files get wrong, read as what they mean.

Two traces with the same ``concept:name`` are two cases, not one (audit of
2026-12-07): a trace is a case. Tools that export XES sometimes repeat a
trace name; the reader merged the two traces' events into one case,
silently, so check-log saw one case doing everything twice and discover
learnt false loops.

``org:resource="__INVALID__"`` is OpenXES's "no value" (reviewing.xes has
425 of them, on its time-outs): no resource, not a person of that name whom
discover would give a role and a capacity.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run, write
from procflow.eventlog.xes import XesLog

PROCESS = """\
process: small
owners:
  a: {capacity: 2}
arrivals: {rate: 4/h}
start: check
steps:
  check: {owner: a, duration: 10m, next: done}
  done: {end: true}
"""


def _trace(name: str, hour: int) -> str:
    return (
        f'<trace><string key="concept:name" value="{name}"/>'
        '<event><string key="concept:name" value="check"/>'
        f'<date key="time:timestamp" value="2027-01-04T{hour:02d}:10:00+00:00"/></event>'
        "</trace>\n"
    )


def _log(*names: str) -> str:
    traces = "".join(_trace(name, 8 + i) for i, name in enumerate(names))
    return f'<?xml version="1.0"?>\n<log xmlns="http://www.xes-standard.org/">\n{traces}</log>\n'


def test_a_repeated_trace_name_is_a_case_of_its_own(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.xes", _log("c1", "c2", "c1", "c1#2", "c1"))
    log = XesLog(path)
    cases = [event.case for event in log]
    assert cases == ["c1", "c2", "c1#2", "c1#2#2", "c1#3"]
    assert log.renamed_traces == 3
    assert [event.case for event in log] == cases  # the same names on every pass
    assert log.renamed_traces == 3


def test_distinct_names_are_kept(tmp_path: Path) -> None:
    log = XesLog(write(tmp_path, "ok.xes", _log("a", "b", "c")))
    assert [event.case for event in log] == ["a", "b", "c"]
    assert log.renamed_traces == 0


@pytest.mark.parametrize("output", ["text", "json"])
def test_check_log_counts_the_renamed_traces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    process = write(tmp_path, "p.yaml", PROCESS)
    log = write(tmp_path, "dup.xes", _log("c1", "c1", "c2"))
    code, out, err = run(capsys, "check-log", process, log, "--format", output)
    assert code in (0, 1), err
    if output == "json":
        document = json.loads(out)
        assert document["log"]["renamed_traces"] == 1
        assert document["log"]["cases"] == 3
    else:
        assert "1 trace had the name of an earlier trace: read as cases of their own" in out


def test_the_openxes_no_value_is_no_resource(tmp_path: Path) -> None:
    text = _log("c1", "c2").replace(
        '<string key="concept:name" value="check"/>',
        '<string key="concept:name" value="check"/>'
        '<string key="org:resource" value="__INVALID__"/>',
        1,
    )
    text = text.replace(
        '<string key="concept:name" value="check"/><date key="time:timestamp" value="2027-01-04T09',
        '<string key="concept:name" value="check"/><string key="org:resource" value="ann"/>'
        '<date key="time:timestamp" value="2027-01-04T09',
    )
    log = XesLog(write(tmp_path, "res.xes", text))
    assert [(event.case, event.resource) for event in log] == [("c1", None), ("c2", "ann")]
