"""Structural changes between two processes, by walking the pydantic model generically.

Nothing here lists the keys of a process: the walk follows the model's
fields, so a key added to the model later (calendars, attributes, ...) is
diffed without new code. Three kinds of value are told apart:

- a *record* (a pydantic model other than a distribution): compared field
  by field;
- a *collection*: a mapping (``steps``, ``owners``, ``on``, ...) keyed by
  id, or a list of records that have an ``id`` field (``goals``), keyed by
  that id. Entries are matched by id only: a renamed step is one step
  removed and one added, never guessed;
- anything else is a *leaf*, compared by value (a distribution, a rate, a
  goal target, a list of owner ids).

One shape is specific: a step's ``next:`` and ``on:`` are two spellings of
its transitions, so they are walked as one collection keyed by trigger
(``next`` for the ``next:`` form), each transition compared field by field
(``to``, ``p``, ``feedback``, ``max``, ``description``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from procflow.casedata import ByValue
from procflow.diffing.notation import MISSING, lookup, show_model, show_raw
from procflow.diffing.result import Kind, StructuralChange
from procflow.errors import Position
from procflow.model import PerSecond, Process, Step, Target

SourcePath = tuple[str | int, ...]

#: Collections whose entries are not named by stripping a plural ``s``.
_SINGULAR = {"on": "transition", "transitions": "transition"}


@dataclass(frozen=True)
class _Side:
    """One version: the process and the document it was validated from."""

    process: Process
    document: Any

    def locate(self, path: SourcePath, part: str) -> Position:
        return self.process.source.locate(path, "key" if part == "key" else "value")


@dataclass(frozen=True)
class _Place:
    """Where a value is: its identity path, its path in each file, and how to name it."""

    path: tuple[str, ...]
    old: SourcePath
    new: SourcePath
    subject: str
    key: str | None
    rate: bool = False

    def field(
        self, name: str, info: FieldInfo | None, record: bool, old: SourcePath, new: SourcePath
    ) -> _Place:
        """The place of field ``name``; a record at the top (``arrivals``) is its own subject."""
        rate = info is not None and _is_rate(info)
        if not self.path and record:
            return _Place((name,), old, new, name, None, rate)
        key = name if self.key is None else f"{self.key}.{name}"
        return _Place((*self.path, name), old, new, self.subject, key, rate)

    def entry(self, entry: str, old: SourcePath, new: SourcePath) -> _Place:
        """The place of ``entry`` in this collection: ``transition 'x' of step 'y'``."""
        collection = self.path[-1] if self.path else ""
        singular = _SINGULAR.get(collection, collection.removesuffix("s"))
        subject = f"{singular} {entry!r}"
        if self.subject != "process":
            subject = f"{subject} of {self.subject}"
        return _Place((*self.path, entry), old, new, subject, None)


def structural_changes(old: Process, new: Process) -> list[StructuralChange]:
    """Every change from ``old`` to ``new``, in the order of the model's fields and NEW's keys."""
    walk = _Walk(_Side(old, old.document), _Side(new, new.document))
    root = _Place((), (), (), "process", None)
    walk.records(old, new, root)
    return walk.found


class _Walk:
    def __init__(self, old: _Side, new: _Side) -> None:
        self.old = old
        self.new = new
        self.found: list[StructuralChange] = []

    def value(self, old: Any, new: Any, place: _Place) -> None:
        if old is None and new is None:
            return
        if old is None:
            self._record("added", place, None, new)
        elif new is None:
            self._record("removed", place, old, None)
        elif _is_record(old) and type(old) is type(new):
            self.records(old, new, place)
        elif _entries(old) is not None and _entries(new) is not None:
            self.collection(old, new, place)
        elif not _same(old, new):
            self._record("changed", place, old, new)

    def records(self, old: BaseModel, new: BaseModel, place: _Place) -> None:
        info = type(new).model_fields
        old_fields = dict(_fields(old, place.old, self.old.document))
        for name, (value, new_path) in _fields(new, place.new, self.new.document):
            before, old_path = old_fields.pop(name)
            record = _is_record(before) or _is_record(value)
            field = place.field(name, info.get(name), record, old_path, new_path)
            self.value(before, value, field)

    def collection(self, old: Any, new: Any, place: _Place) -> None:
        old_entries, new_entries = _entries(old), _entries(new)
        assert old_entries is not None
        assert new_entries is not None
        keys = [*new_entries, *(k for k in old_entries if k not in new_entries)]
        for key in keys:
            before, old_path = old_entries.get(key, (None, _missing(old)))
            after, new_path = new_entries.get(key, (None, _missing(new)))
            entry = place.entry(key, (*place.old, *old_path), (*place.new, *new_path))
            self.value(before, after, entry)

    def _record(self, kind: Kind, place: _Place, old: Any, new: Any) -> None:
        new_position = self.new.locate(place.new, "value" if kind == "changed" else "key")
        position = self.old.locate(place.old, "key") if kind == "removed" else new_position
        self.found.append(
            StructuralChange(
                kind=kind,
                path=place.path,
                subject=place.subject,
                key=place.key,
                old=None if old is None else self._show(self.old, place.old, old, place),
                new=None if new is None else self._show(self.new, place.new, new, place),
                position=position,
                new_position=new_position,
            )
        )

    @staticmethod
    def _show(side: _Side, path: SourcePath, value: Any, place: _Place) -> str:
        raw = lookup(side.document, path)
        if raw is not MISSING and raw is not None:
            return show_raw(raw)
        return show_model(value, rate=place.rate)


def _is_rate(info: FieldInfo) -> bool:
    """Whether a field holds a rate (``PerSecond``, possibly optional): shown per hour."""
    if any(m in get_args(PerSecond)[1:] for m in info.metadata):
        return True
    return _mentions(info.annotation, PerSecond)


def _mentions(annotation: Any, wanted: Any) -> bool:
    if annotation == wanted:
        return True
    return any(_mentions(argument, wanted) for argument in get_args(annotation))


def _is_record(value: Any) -> bool:
    return isinstance(value, BaseModel) and "dist" not in type(value).model_fields


def _fields(
    model: BaseModel, at: SourcePath, document: Any
) -> Iterator[tuple[str, tuple[Any, SourcePath]]]:
    """``(name, (value, source path))`` per field; a step's ``next``, ``on`` are ``transitions``.

    A record written in a short form (``fixed: resolve`` for ``{to: resolve}``)
    has no keys of its own in the file: its fields are placed at the short value.
    """
    raw = lookup(document, at)
    short = raw is not MISSING and not isinstance(raw, Mapping)
    for name in type(model).model_fields:
        if isinstance(model, Step) and name == "next":
            continue
        if isinstance(model, Step) and name == "on":
            yield "transitions", (_StepTransitions(model), at)
            continue
        yield name, (getattr(model, name), at if short else (*at, name))


class _StepTransitions:
    """A step's transitions keyed by trigger, each with its path under the step."""

    def __init__(self, step: Step) -> None:
        self.entries: dict[str, tuple[Any, SourcePath]] = {}
        for transition in step.transitions:
            trigger = transition.trigger
            path: SourcePath = ("next",) if step.next is not None else ("on", trigger)
            self.entries[trigger] = (transition, path)
        self.missing: SourcePath = ("on",) if step.on is not None else ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _StepTransitions) and self.entries == other.entries

    __hash__ = None  # type: ignore[assignment]


def _entries(value: Any) -> dict[str, tuple[Any, SourcePath]] | None:
    """A collection's entries ``id -> (value, path below the collection)``, or None for a leaf."""
    if isinstance(value, _StepTransitions):
        return value.entries
    if isinstance(value, Mapping):
        return {str(key): (item, (key,)) for key, item in value.items()}
    if isinstance(value, list | tuple) and all(_is_record(v) for v in value):
        ids = [getattr(item, "id", None) for item in value]
        if all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids):
            return {
                str(i): (item, (index,))
                for index, (i, item) in enumerate(zip(ids, value, strict=True))
            }
    return None


def _missing(value: Any) -> SourcePath:
    """Where an entry missing on one side would be: the collection itself."""
    return value.missing if isinstance(value, _StepTransitions) else ()


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Target) and isinstance(new, Target):
        return (old.op, old.value, old.kind) == (new.op, new.value, new.kind)
    if isinstance(old, ByValue) and isinstance(new, ByValue):
        # as written: a `by:` duration's weights follow the attribute's shares, a change
        # the diff reports on the attribute (here it showed the same text on both sides)
        return (old.by, old.cases, old.fallback) == (new.by, new.cases, new.fallback)
    return bool(old == new)
