"""The condition language of ``when:`` and ``where:`` (docs/attributes.md), safely.

A condition is a small expression over a case's attributes:
comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, chained as in
``1000 <= amount < 10000``), ``and``, ``or``, ``not``, ``in [..]`` and
``not in [..]``, numbers, quoted strings, attribute names and parentheses.

It is read with the standard :mod:`ast` parser and then checked against a
whitelist of node types: anything else (calls, attribute access,
subscripts, arithmetic, lambdas, comprehensions...) is refused with the
column where it stands. Nothing is ever evaluated by Python's ``eval``;
:func:`compile_condition` turns the checked tree into nested closures once,
so a simulation pays a few function calls per decision and no parsing.

>>> c = compile_condition("severity == 'p1' or amount >= 10000")
>>> c({"severity": "p2", "amount": 12000.0}), c({"severity": "p3", "amount": 5.0})
(True, False)
>>> sorted(parse("amount < 1000").names)
['amount']
>>> parse("amount <")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
procflow.expressions.ExpressionError: 'amount <' is not a valid condition: invalid syntax ...
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "Condition",
    "ExpressionError",
    "Literal",
    "Parsed",
    "Value",
    "compile_condition",
    "parse",
]

Value = float | str
"""An attribute's value: a number or a category (text)."""

Condition = Callable[[Mapping[str, Value]], bool]
"""A compiled condition: attribute values -> whether it holds."""

MAX_LENGTH = 2000
"""The longest condition text accepted (a condition is a line, not a program)."""


class ExpressionError(ValueError):
    """A condition that does not parse or uses something outside the language.

    ``offset`` is the 0-based character position inside the condition text,
    for the column of the PF002 finding.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Literal:
    """A comparison of an attribute with a constant, as written: ``severity == 'p1'``.

    Lint uses these to find impossible values (PF801) and the thresholds
    that decide a numeric attribute (PF802); ``offset`` locates the constant.
    """

    name: str
    op: str
    value: Value
    offset: int


@dataclass(frozen=True)
class Parsed:
    """A checked condition: its text, the attributes it names and its comparisons."""

    text: str
    tree: ast.expr
    names: frozenset[str]
    literals: tuple[Literal, ...]
    name_offsets: tuple[tuple[str, int], ...]


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_SYMBOL = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_REFUSED = {
    ast.Call: "function calls",
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "subscripts ('[...]' after a name)",
    ast.BinOp: "arithmetic",
    ast.Lambda: "lambdas",
    ast.IfExp: "'x if c else y'",
    ast.NamedExpr: "':='",
}


def _offset(text: str, node: ast.AST) -> int:
    """The character offset of ``node`` in ``text`` (ast columns are UTF-8 bytes)."""
    line_start = 0
    for _ in range(getattr(node, "lineno", 1) - 1):
        line_start = text.index("\n", line_start) + 1
    column = getattr(node, "col_offset", 0)
    prefix = text[line_start:].encode("utf-8")[:column].decode("utf-8", "replace")
    return line_start + len(prefix)


def _constant(node: ast.expr, text: str) -> Value:
    """A number or a quoted string (``-5`` included); anything else is refused."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _constant(node.operand, text)
        if isinstance(value, str):
            raise ExpressionError("a sign goes before a number, not text", _offset(text, node))
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant):
        raw = node.value
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ExpressionError(
                f"{raw!r} is not a number or a quoted text value", _offset(text, node)
            )
        return float(raw) if isinstance(raw, int | float) else raw
    raise ExpressionError("expected a number or a quoted text value here", _offset(text, node))


class _Checker:
    """Walks a parsed tree, refusing what the language has not, collecting names."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.names: list[tuple[str, int]] = []
        self.literals: list[Literal] = []

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, _offset(self.text, node))

    def check(self, node: ast.expr) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.check(node.operand)
        elif isinstance(node, ast.Compare):
            self._compare(node)
        elif isinstance(node, ast.Name):
            raise self.fail(
                f"{node.id!r} alone is not a condition: compare it, e.g. {node.id} == 'x'", node
            )
        elif isinstance(node, ast.Constant | ast.UnaryOp):
            raise self.fail("a constant alone is not a condition: compare an attribute", node)
        else:
            what = next((v for k, v in _REFUSED.items() if isinstance(node, k)), None)
            raise self.fail(
                f"{what or type(node).__name__} not allowed: use comparisons, and, or, not, in",
                node,
            )

    def _operand(self, node: ast.expr, *, list_ok: bool) -> None:
        if isinstance(node, ast.Name):
            self.names.append((node.id, _offset(self.text, node)))
        elif isinstance(node, ast.List | ast.Tuple):
            if not list_ok:
                raise self.fail("a list [..] may only follow 'in' or 'not in'", node)
            for element in node.elts:
                _constant(element, self.text)
        elif isinstance(node, ast.Compare | ast.BoolOp):
            raise self.fail("compare attributes with constants; combine with and/or", node)
        elif isinstance(node, tuple(_REFUSED)):
            what = next(v for k, v in _REFUSED.items() if isinstance(node, k))
            raise self.fail(f"{what} not allowed: use comparisons, and, or, not, in", node)
        else:
            _constant(node, self.text)

    def _compare(self, node: ast.Compare) -> None:
        left = node.left
        self._operand(left, list_ok=False)
        for op, right in zip(node.ops, node.comparators, strict=True):
            membership = isinstance(op, ast.In | ast.NotIn)
            if isinstance(op, ast.Is | ast.IsNot):
                raise self.fail("'is' is not allowed: use == or !=", right)
            if membership and not isinstance(right, ast.List | ast.Tuple):
                raise self.fail(f"'{_SYMBOL[type(op)]}' takes a list, e.g. in ['a', 'b']", right)
            self._operand(right, list_ok=membership)
            self._literal(left, op, right)
            left = right

    def _literal(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> None:
        symbol = _SYMBOL[type(op)]
        if isinstance(left, ast.Name) and isinstance(right, ast.List | ast.Tuple):
            for element in right.elts:
                value = _constant(element, self.text)
                self.literals.append(Literal(left.id, symbol, value, _offset(self.text, element)))
        elif isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            value = _constant(right, self.text)
            self.literals.append(Literal(left.id, symbol, value, _offset(self.text, right)))
        elif isinstance(right, ast.Name) and not isinstance(left, ast.Name | ast.List):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(symbol, symbol)
            value = _constant(left, self.text)
            self.literals.append(Literal(right.id, flipped, value, _offset(self.text, left)))


@lru_cache(maxsize=4096)
def parse(text: str) -> Parsed:
    """Parse and check a condition; raise :class:`ExpressionError` with an offset."""
    if not isinstance(text, str):
        raise ExpressionError(f"a condition is text in quotes, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the condition is empty: write e.g. severity == 'p1'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the condition is longer than {MAX_LENGTH} characters")
    source = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        column = lead + min(max((exc.offset or len(source) + 1) - 1, 0), len(source))
        for line in range((exc.lineno or 1) - 1):
            column += len(source.split("\n")[line]) + 1
        raise ExpressionError(
            f"{text!r} is not a valid condition: {exc.msg} (at column {column + 1})",
            column,
        ) from None
    checker = _Checker(source)
    try:
        checker.check(tree.body)
    except ExpressionError as exc:
        raise ExpressionError(str(exc), exc.offset + lead) from None
    literals = tuple(
        Literal(lit.name, lit.op, lit.value, lit.offset + lead) for lit in checker.literals
    )
    return Parsed(
        text,
        tree.body,
        frozenset(name for name, _ in checker.names),
        literals,
        tuple((name, offset + lead) for name, offset in checker.names),
    )


Getter = Callable[[Mapping[str, Value]], object]


def _getter(node: ast.expr) -> Getter:
    if isinstance(node, ast.Name):
        name = node.id
        return lambda values: values.get(name)
    if isinstance(node, ast.List | ast.Tuple):
        constants = frozenset(_constant(e, "") for e in node.elts)
        return lambda values: constants
    constant = _constant(node, "")
    return lambda values: constant


def _safe(op: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    """``op`` that is false (not an error) when a number meets a text, or a value is missing."""

    def compare(a: object, b: object) -> bool:
        try:
            return bool(op(a, b))
        except TypeError:
            return False

    return compare


def _build(node: ast.expr) -> Condition:
    """Nested closures for a checked tree (see :func:`compile_condition`)."""
    if isinstance(node, ast.BoolOp):
        parts = tuple(_build(v) for v in node.values)
        if isinstance(node.op, ast.And):
            return lambda values: all(part(values) for part in parts)
        return lambda values: any(part(values) for part in parts)
    if isinstance(node, ast.UnaryOp):
        inner = _build(node.operand)
        return lambda values: not inner(values)
    assert isinstance(node, ast.Compare)
    getters = [_getter(node.left), *(_getter(c) for c in node.comparators)]
    tests: list[Callable[[object, object], bool]] = []
    for op in node.ops:
        if isinstance(op, ast.In):
            tests.append(_safe(lambda a, b: a in b))  # type: ignore[operator]
        elif isinstance(op, ast.NotIn):
            tests.append(_safe(lambda a, b: a not in b))  # type: ignore[operator]
        else:
            tests.append(_safe(_COMPARE[type(op)]))
    if len(tests) == 1:
        first, second, test = getters[0], getters[1], tests[0]
        return lambda values: test(first(values), second(values))

    def chain(values: Mapping[str, Value]) -> bool:
        return all(test(getters[i](values), getters[i + 1](values)) for i, test in enumerate(tests))

    return chain


@lru_cache(maxsize=4096)
def compile_condition(text: str) -> Condition:
    """The condition as a function of the attribute values; parsed and checked once.

    A comparison between a number and a text, or with an attribute the case
    does not have, is false (lint reports such conditions, PF801).
    """
    return _build(parse(text).tree)
