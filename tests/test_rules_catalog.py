"""The rule catalog matches SPEC section 2, and every rule is documented and has fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from procflow.errors import ConfigError
from procflow.findings import Severity
from procflow.rules import UnknownRuleError, all_rules, get_rule
from procflow.rules.base import REGISTRY

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

#: SPEC section 2: code -> (name, default severity). Codes never change meaning.
SPEC = {
    "PF001": ("yaml-syntax", "error"),
    "PF002": ("schema", "error"),
    "PF003": ("duplicate-key", "error"),
    "PF101": ("unknown-target", "error"),
    "PF102": ("unknown-start", "error"),
    "PF103": ("unreachable-step", "error"),
    "PF104": ("dead-end", "error"),
    "PF105": ("no-way-out", "error"),
    "PF106": ("end-has-exit", "error"),
    "PF107": ("no-end", "error"),
    "PF201": ("missing-owner", "error"),
    "PF202": ("unknown-owner", "error"),
    "PF203": ("unused-owner", "warning"),
    "PF204": ("single-point-of-failure", "warning"),
    "PF205": ("ping-pong", "warning"),
    "PF301": ("unmarked-loop", "warning"),
    "PF302": ("unbounded-loop", "info"),
    "PF303": ("no-feedback", "info"),
    "PF401": ("bad-probabilities", "error"),
    "PF402": ("missing-duration", "warning"),
    "PF501": ("overloaded-owner", "error"),
    "PF502": ("bottleneck", "warning"),
    "PF503": ("infeasible-goal", "warning"),
    "PF504": ("peak-overload", "warning"),  # SPEC 7.1 (working time)
    "PF505": ("unknown-calendar", "error"),  # SPEC 7.1
    "PF601": ("goal-not-smart", "warning"),
    "PF602": ("goal-unknown-ref", "error"),
    "PF603": ("goal-expired", "info"),
    # SPEC section 7.2: parallel work
    "PF701": ("unjoined-branch", "error"),
    "PF702": ("stray-join", "error"),
    "PF703": ("crossing-edge", "error"),
    "PF704": ("single-branch", "warning"),
    # SPEC section 7.3: case attributes, rules, priorities
    "PF801": ("unknown-attribute", "error"),
    "PF802": ("no-default", "warning"),
    "PF803": ("mixed-routing", "error"),
}
CAPACITY = {"PF501", "PF502", "PF503"}

#: The four parts of every rule's documentation, in this order (ruff's style).
#: The example and what to write instead are YAML blocks.
PARTS = {
    "what it does": re.compile(r"^## What it does\n\S", re.MULTILINE),
    "why it is bad": re.compile(r"^## Why is this bad\?\n\S", re.MULTILINE),
    "an example": re.compile(r"^## Example\n((?!## ).*\n)*?```yaml\n[\s\S]+?```", re.MULTILINE),
    "what to write instead": re.compile(
        r"^## Use instead\n((?!## ).*\n)*?```yaml\n[\s\S]+?```", re.MULTILINE
    ),
}


def present_codes() -> list[str]:
    codes = {r.code for r in all_rules()}
    return sorted(code for code in SPEC if code in codes or code not in CAPACITY)


def test_catalog_is_exactly_spec_section_2() -> None:
    rules = all_rules()
    codes = [r.code for r in rules]
    assert codes == sorted(codes)
    assert set(codes) - CAPACITY == set(SPEC) - CAPACITY
    assert set(codes) <= set(SPEC)
    for r in rules:
        assert (r.name, str(r.severity)) == SPEC[r.code], r.code
    assert len({r.name for r in rules}) == len(rules)


@pytest.mark.parametrize("code", present_codes())
def test_rule_is_documented(code: str) -> None:
    rule = REGISTRY[code]
    assert rule.summary
    assert rule.summary == rule.doc.splitlines()[0]
    assert rule.summary.endswith("."), rule.summary
    assert len(rule.summary) <= 100
    where = 0
    for part, pattern in PARTS.items():
        found = pattern.search(rule.doc, where)
        assert found, f"{code}: the documentation lacks {part} (or has it out of order)"
        where = found.end() if part == "an example" else found.start()


@pytest.mark.parametrize("code", present_codes())
def test_rule_has_fire_and_quiet_fixtures(code: str) -> None:
    assert list((FIXTURES / code).glob("fire-*.yaml")), f"{code} has no fire fixture"
    assert list((FIXTURES / code).glob("quiet-*.yaml")), f"{code} has no quiet fixture"


def test_rule_families_match_their_modules() -> None:
    modules = {
        "PF0": "syntax",
        "PF1": "structure",
        "PF2": "ownership",
        "PF3": "loops",
        "PF4": "probabilities",
        "PF5": "capacity",
        "PF6": "goals",
        "PF7": "forks",
        "PF8": "attributes",
    }
    by_code = {"PF504": "workingtime", "PF505": "workingtime"}  # calendars: their own module
    for rule in all_rules():
        family = by_code.get(rule.code, modules[rule.family])
        assert rule.check.__module__ == f"procflow.rules.{family}", rule.code


def test_get_rule_by_code_or_name() -> None:
    assert get_rule("PF105").name == "no-way-out"
    assert get_rule("pf105").code == "PF105"
    assert get_rule(" no-way-out ").code == "PF105"
    assert get_rule("Unused-Owner").code == "PF203"
    assert get_rule("PF203").severity is Severity.WARNING


def test_unknown_rule_suggests_close_ones() -> None:
    with pytest.raises(UnknownRuleError) as caught:
        get_rule("unused-ownr")
    assert isinstance(caught.value, ConfigError)
    assert caught.value.exit_code == 2
    assert caught.value.suggestions[0] == "PF203 unused-owner"
    assert "did you mean PF203 unused-owner?" in str(caught.value)
    with pytest.raises(UnknownRuleError) as caught:
        get_rule("nothing-like-it")
    assert caught.value.suggestions == ()
    assert "procflow rules" in str(caught.value)
