"""The wording of lists in messages: ``'a', 'b' and 'c'``, ``1 step``, ``2 steps``.

Findings, gate problems and reports name steps and owners the same way
everywhere; these two helpers (and :func:`procflow.errors.did_you_mean`
for typo hints) are that one way.

>>> quote_list(["a", "b", "c"])
"'a', 'b' and 'c'"
>>> plural(2, "step")
'steps'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["plural", "quote_list"]


def quote_list(names: Sequence[str], limit: int = 8, quote: str = "'") -> str:
    """``'a', 'b' and 'c'``; long lists end with ``and 12 more``."""
    shown = [f"{quote}{name}{quote}" for name in names[:limit]]
    rest = len(names) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def plural(count: int, one: str, many: str | None = None) -> str:
    """``step`` for 1, ``steps`` otherwise."""
    return one if count == 1 else (many or one + "s")
