"""The lint rule catalog: one module per family, every rule registered in ``REGISTRY``.

=======  ============================  =====================================
family   module                        codes
=======  ============================  =====================================
PF0      :mod:`.syntax`                the file: YAML, schema, duplicate keys
PF1      :mod:`.structure`             targets, start, reachability, ends
PF2      :mod:`.ownership`             owners, RACI, single points of failure
PF3      :mod:`.loops`                 feedback loops
PF4      :mod:`.probabilities`         branch probabilities, durations
PF5      :mod:`.capacity`              load and bottlenecks (analytic model)
PF6      :mod:`.goals`                 SMART goals
PF7      :mod:`.forks`                 parallel work: forks and joins
PF8      :mod:`.attributes`            case attributes, rules, priorities
=======  ============================  =====================================

:func:`all_rules` imports every family module (which registers its rules)
and returns the catalog sorted by code; :func:`get_rule` finds one rule by
code or name. The small message helpers here keep the wording of findings
consistent across families.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from importlib import import_module

from procflow.errors import ConfigError, did_you_mean
from procflow.rules.base import REGISTRY, Rule
from procflow.wording import plural, quote_list

#: The rule family modules of this package, in code order. A module listed here
#: that does not exist (yet) is skipped, so a family can land on its own.
FAMILIES: tuple[str, ...] = (
    "syntax",
    "structure",
    "ownership",
    "loops",
    "probabilities",
    "capacity",  # PF501-PF503, written with the analytic model (procflow.analyze)
    "workingtime",  # PF504-PF505: calendars (docs/working-time.md)
    "goals",
    "forks",
    "attributes",  # PF801-PF803: case attributes, rules, priorities
)


def _load_families() -> None:
    for family in FAMILIES:
        module = f"{__name__}.{family}"
        try:
            import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real import error inside the module
                raise


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code (importing the family modules first)."""
    _load_families()
    return [REGISTRY[code] for code in sorted(REGISTRY)]


class UnknownRuleError(ConfigError):
    """No rule has this code or name; ``suggestions`` lists close ones."""

    def __init__(self, text: str, suggestions: Sequence[str]) -> None:
        self.text = text
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {' or '.join(self.suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown rule {text!r}{hint} (`procflow rules` lists every code and name)"
        )


def get_rule(code_or_name: str) -> Rule:
    """The rule with this code (``PF105``, any case) or name (``no-way-out``).

    Raises :class:`UnknownRuleError` (a :class:`~procflow.errors.ConfigError`)
    naming close matches when there is none.
    """
    rules = all_rules()
    text = code_or_name.strip()
    for candidate in rules:
        if text.upper() == candidate.code or text.lower() == candidate.name:
            return candidate
    words = [r.code for r in rules] + [r.name for r in rules]
    wanted = text.upper() if text[:2].upper() == "PF" else text.lower()
    close = difflib.get_close_matches(wanted, words, n=3, cutoff=0.6)
    suggestions = []
    for word in close:
        found = next(r for r in rules if word in (r.code, r.name))
        label = f"{found.code} {found.name}"
        if label not in suggestions:
            suggestions.append(label)
    raise UnknownRuleError(text, suggestions)


__all__ = [
    "FAMILIES",
    "REGISTRY",
    "Rule",
    "UnknownRuleError",
    "all_rules",
    "did_you_mean",
    "get_rule",
    "plural",
    "quote_list",
]
