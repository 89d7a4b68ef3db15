"""Which step an event-log activity is (docs/file-format.md#transitions).

A log names activities the way the organisation does (``T02 Check
confirmation of receipt``), a process names steps by id (``check-receipt``).
An activity is the step whose ``activity`` equals it, else the step whose
``title`` equals it, else the step whose id equals it; the comparison is
exact. When two steps claim the same name at the same level, the first in
file order wins (and :func:`ambiguous_names` reports it).
"""

from __future__ import annotations

from procflow.model import Process

_CACHE_LIMIT = 100_000


class StepMatcher:
    """``matcher(activity) -> step id or None``; results are cached per name."""

    def __init__(self, process: Process) -> None:
        self._levels: tuple[dict[str, str], ...] = (
            _first_by(process, "activity"),
            _first_by(process, "title"),
            {step_id: step_id for step_id in process.steps},
        )
        self._cache: dict[str, str | None] = {}

    def __call__(self, activity: str) -> str | None:
        try:
            return self._cache[activity]
        except KeyError:
            pass
        found = None
        for level in self._levels:
            found = level.get(activity)
            if found is not None:
                break
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[activity] = found
        return found


def _first_by(process: Process, attribute: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for step_id, step in process.steps.items():
        name = getattr(step, attribute)
        if name is not None:
            names.setdefault(name, step_id)
    return names


def ambiguous_names(process: Process) -> dict[str, list[str]]:
    """Activity or title texts that several steps share: ``{name: [step ids]}``."""
    shared: dict[str, list[str]] = {}
    for attribute in ("activity", "title"):
        seen: dict[str, list[str]] = {}
        for step_id, step in process.steps.items():
            name = getattr(step, attribute)
            if name is not None:
                seen.setdefault(name, []).append(step_id)
        shared.update({name: ids for name, ids in seen.items() if len(ids) > 1})
    return shared
