"""The condition language: what it accepts, what it refuses (and where), and how it decides."""

from __future__ import annotations

import pytest

from procflow.expressions import ExpressionError, compile_condition, parse


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("severity == 'p1'", {"severity": "p1"}, True),
        ("severity == 'p1'", {"severity": "p2"}, False),
        ("severity != 'p1'", {"severity": "p2"}, True),
        ("amount < 1000", {"amount": 999.0}, True),
        ("amount < 1000", {"amount": 1000.0}, False),
        ("amount <= 1000", {"amount": 1000.0}, True),
        ("1000 <= amount < 10000", {"amount": 5000.0}, True),
        ("1000 <= amount < 10000", {"amount": 10000.0}, False),
        ("severity in ['p1', 'p2']", {"severity": "p2"}, True),
        ("severity not in ['p1', 'p2']", {"severity": "p2"}, False),
        ("not (amount > 5)", {"amount": 3.0}, True),
        ("severity == 'p1' and amount > 5", {"severity": "p1", "amount": 3.0}, False),
        ("severity == 'p1' or amount > 5", {"severity": "p2", "amount": 6.0}, True),
        ("amount > -1.5e3", {"amount": 0.0}, True),
        ('region == "north"', {"region": "north"}, True),
        # a number against a text, or a missing attribute, is false rather than an error
        ("amount < 'x'", {"amount": 1.0}, False),
        ("missing == 'x'", {}, False),
    ],
)
def test_conditions_decide_like_python_would(
    text: str, values: dict[str, float | str], expected: bool
) -> None:
    assert compile_condition(text)(values) is expected


@pytest.mark.parametrize(
    ("text", "offset", "words"),
    [
        ("severity = 'p1'", 9, "invalid syntax"),
        ("amount <", 8, "invalid syntax"),
        ("foo(1) == 2", 0, "function calls"),
        ("amount.real > 1", 0, "attribute access"),
        ("amount + 1 > 5", 0, "arithmetic"),
        ("amount", 0, "alone is not a condition"),
        ("severity in 'p1'", 12, "takes a list"),
        ("severity is None", 12, "'is' is not allowed"),
        ("x == True", 5, "not a number"),
        ("  amount > __import__('os')", 11, "function calls"),
        ("", 0, "empty"),
    ],
)
def test_refused_with_the_column_inside_the_text(text: str, offset: int, words: str) -> None:
    with pytest.raises(ExpressionError, match=words) as caught:
        parse(text)
    assert caught.value.offset == offset


def test_names_and_literals_are_collected_for_lint() -> None:
    parsed = parse("severity in ['p1', 'p2'] or 1000 < amount")
    assert parsed.names == {"severity", "amount"}
    assert [(lit.name, lit.op, lit.value) for lit in parsed.literals] == [
        ("severity", "in", "p1"),
        ("severity", "in", "p2"),
        ("amount", ">", 1000.0),
    ]
    assert parsed.literals[0].offset == 13


def test_compiled_once() -> None:
    assert compile_condition("amount < 3") is compile_condition("amount < 3")
