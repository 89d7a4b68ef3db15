"""The public API says what it wanted when given the wrong thing, and takes paths where it can."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import procflow
from helpers import CUSTOMER_SERVICE
from procflow.errors import CaseError

PROCESS = procflow.load(CUSTOMER_SERVICE)


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("lint", lambda: procflow.lint(None)),  # type: ignore[arg-type]
        ("analyze", lambda: procflow.analyze(None)),  # type: ignore[arg-type]
        ("render", lambda: procflow.render({}, "x.dot")),  # type: ignore[arg-type]
        ("Case", lambda: procflow.Case(42)),  # type: ignore[arg-type]
        ("compare", lambda: procflow.compare(PROCESS, None)),  # type: ignore[arg-type]
        ("apply", lambda: PROCESS.apply("changes/x.yaml")),  # type: ignore[arg-type]
        ("check_log", lambda: procflow.check_log(None, [])),  # type: ignore[arg-type]
        ("write_cases", lambda: procflow.write_cases("x.csv", [PROCESS])),  # type: ignore[list-item]
    ],
)
def test_a_wrong_argument_is_a_type_error_that_says_what_to_pass(
    name: str, call: Callable[[], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match=r"takes (a Process|a Change|changes|Case objects)"):
        call()
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_process_functions_take_a_path_too() -> None:
    path = str(CUSTOMER_SERVICE)
    assert procflow.lint(path) == procflow.lint(PROCESS)
    assert procflow.analyze(path).bottleneck == procflow.analyze(PROCESS).bottleneck
    assert procflow.Case(path).state == PROCESS.start


def test_a_restored_history_with_a_step_that_is_not_text_is_a_case_error() -> None:
    case = procflow.Case(PROCESS, "T-1")
    case.trigger("next")
    data = json.loads(case.to_json())
    data["history"][0]["step"] = ["intake"]
    with pytest.raises(CaseError, match="is not a step"):
        procflow.Case.from_json(PROCESS, json.dumps(data))


def test_an_empty_case_id_is_refused_up_front() -> None:
    with pytest.raises(CaseError, match="non-empty"):
        procflow.Case(PROCESS, "")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: d.update(version=True), "unsupported version"),
        (lambda d: d.update(version=1.0), "unsupported version"),
        (
            lambda d: d["history"][1].update(entered=d["history"][0]["entered"]),
            "one step at a time",
        ),
    ],
)
def test_tampered_case_json_is_a_case_error(tamper: Callable[[Any], None], message: str) -> None:
    case = procflow.Case(PROCESS, "T-2")
    case.trigger("next")
    case.trigger(case.available_triggers[0])
    data = json.loads(case.to_json())
    tamper(data)
    with pytest.raises(CaseError, match=message):
        procflow.Case.from_json(PROCESS, json.dumps(data))


def test_deeply_nested_case_json_is_a_case_error() -> None:
    with pytest.raises(CaseError, match="nested too deeply"):
        procflow.Case.from_json(PROCESS, "[" * 100_000 + "]" * 100_000)


def test_write_cases_refuses_shared_ids_in_csv_and_xes(tmp_path: Path) -> None:
    first, second = procflow.Case(PROCESS, "same"), procflow.Case(PROCESS, "same")
    with pytest.raises(CaseError, match="share the id 'same'"):
        procflow.write_cases(tmp_path / "log.csv", [first, second])
    with pytest.raises(CaseError, match="share the id 'same'"):
        procflow.write_cases(tmp_path / "log.xes", [first, second])
    assert list(tmp_path.iterdir()) == []
    assert procflow.write_cases(tmp_path / "log.xes", [first]) == 0  # XES is written now
    assert (tmp_path / "log.xes").read_text(encoding="utf-8").startswith("<?xml")


def test_with_changes_takes_a_mapping_and_render_any_case_of_format(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="takes a mapping"):
        PROCESS.with_changes(None)  # type: ignore[arg-type]
    written = procflow.render(PROCESS, tmp_path / "cs.dot", format="DOT")
    assert written.read_text(encoding="utf-8").lstrip().startswith("//")


def test_the_callable_modules_show_the_functions_signatures() -> None:
    import inspect

    for function in (procflow.render, procflow.analyze, procflow.lint):
        assert next(iter(inspect.signature(function).parameters)) == "process"
