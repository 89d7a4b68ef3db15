"""Live cases with attributes: rule-chosen transitions, checks, saving and restoring."""

from __future__ import annotations

import pytest

import procflow
from procflow.errors import CaseError
from procflow.loader import load_text

PROCESS = """
process: payments
owners: {clerk: {capacity: 2}}
attributes:
  severity: {p1: 10%, p2: 90%}
  amount: lognormal(2000, 3000)
start: approve
steps:
  approve:
    owner: clerk
    duration: 5m
    on:
      auto:    {to: pay, when: "amount < 1000"}
      manager: {to: review, when: "amount < 10000 or severity == 'p1'"}
      cfo:     {to: review}
  review:
    owner: clerk
    duration: 5m
    on:
      ok:   {to: pay, p: 0.9}
      redo: {to: approve, p: 0.1, feedback: true, max: 1}
  pay: {owner: clerk, duration: 1m, next: paid}
  paid: {end: true}
"""


@pytest.mark.parametrize(
    ("attributes", "trigger"),
    [
        ({"amount": 999, "severity": "p2"}, "auto"),
        ({"amount": 1000, "severity": "p2"}, "manager"),
        ({"amount": 50_000, "severity": "p1"}, "manager"),
        ({"amount": 50_000, "severity": "p2"}, "cfo"),
        ({}, "cfo"),  # no attributes: every condition is false, the default is taken
    ],
)
def test_advance_takes_the_first_transition_whose_rule_holds(
    attributes: dict[str, float | str], trigger: str
) -> None:
    case = procflow.Case(load_text(PROCESS), attributes=attributes)
    assert case.rule_choice == trigger
    case.advance()
    assert case.history[0].trigger == trigger


def test_advance_refuses_a_chance_branch_and_follows_a_single_one() -> None:
    case = procflow.Case(load_text(PROCESS), attributes={"amount": 5000, "severity": "p2"})
    assert case.advance() == "review"
    assert case.rule_choice is None
    with pytest.raises(CaseError, match="no rules to decide between 'ok', 'redo'"):
        case.advance()
    case.trigger("ok")
    assert case.advance() == "paid"
    assert case.done


@pytest.mark.parametrize(
    ("attributes", "words"),
    [
        ({"colour": "red"}, "'colour' is not declared"),
        ({"severity": "P1"}, "has no value 'P1'"),
        ({"amount": "lots"}, "is a number"),
        ({"amount": float("inf")}, "finite"),
    ],
)
def test_wrong_attributes_are_case_errors(attributes: dict[str, object], words: str) -> None:
    with pytest.raises(CaseError, match=words):
        procflow.Case(load_text(PROCESS), attributes=attributes)  # type: ignore[arg-type]


def test_attributes_survive_json() -> None:
    p = load_text(PROCESS)
    case = procflow.Case(p, "c-1", attributes={"amount": 20_000, "severity": "p1"})
    case.advance()
    again = procflow.Case.from_json(p, case.to_json())
    assert dict(again.attributes) == {"amount": 20_000.0, "severity": "p1"}
    assert again.state == "review"
    plain = procflow.Case(p, "c-2")
    assert "attributes" not in plain.to_dict()
