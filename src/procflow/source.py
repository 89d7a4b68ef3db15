"""Where things are: from a model path such as ``("steps", "triage")`` to ``file:line:col``.

The loader keeps the YAML node tree it composed; a :class:`SourceMap` answers
position questions from it lazily (indexing a mapping the first time it is
asked about), so loading stays fast and only findings pay for positions.
Paths that do not exist fall back to the nearest ancestor that does, which
is what a "missing key" finding wants: the mapping that should hold it.

Several files can stand behind one process (a roster, a change file); the
locators here compose so the rest of procflow only ever asks
``source.locate(path)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from procflow.errors import Position, Problem, did_you_mean

Path = tuple[str | int, ...]
Part = Literal["key", "value"]


class Locator(Protocol):
    """Anything that turns a model path into a file position."""

    @property
    def file(self) -> str:
        """The display name of the main file."""
        ...

    def locate(self, path: Sequence[str | int], part: Part = "value", offset: int = 0) -> Position:
        """Position of the key (or value) at ``path``; nearest ancestor when it does not exist."""
        ...

    def written(self, path: Sequence[str | int]) -> str | None:
        """The text of the plain scalar at ``path`` as the file has it (``1e3``, ``yes``);
        ``None`` for anything else. Messages quote data as written, not as parsed."""
        ...


class NullSource:
    """A locator for processes built in Python: everything is at line 1 of a pseudo file."""

    def __init__(self, file: str = "<process>") -> None:
        self._file = file

    @property
    def file(self) -> str:
        return self._file

    def locate(self, path: Sequence[str | int], part: Part = "value", offset: int = 0) -> Position:
        return Position(self._file, 1, 1)

    def written(self, path: Sequence[str | int]) -> str | None:
        return None


def _is_mapping(node: Any) -> bool:
    return getattr(node, "id", None) == "mapping"


def _is_sequence(node: Any) -> bool:
    return getattr(node, "id", None) == "sequence"


class SourceMap:
    """Positions of the nodes of one YAML file (duck-typed over PyYAML nodes)."""

    def __init__(self, file: str, root: Any, text: str = "") -> None:
        self._file = file
        self.root = root
        self.text = text
        self._index: dict[int, dict[str, tuple[Any, Any]]] = {}

    @property
    def file(self) -> str:
        return self._file

    def _children(self, node: Any) -> dict[str, tuple[Any, Any]]:
        index = self._index.get(id(node))
        if index is None:
            index = {}
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == "<<":
                    for merged in self._merged(value_node):
                        for name, pair in self._children(merged).items():
                            index.setdefault(name, pair)
                    continue
                index[str(key_node.value)] = (key_node, value_node)
            self._index[id(node)] = index
        return index

    def _merged(self, node: Any) -> Iterable[Any]:
        if _is_mapping(node):
            return [node]
        if _is_sequence(node):
            return [n for n in node.value if _is_mapping(n)]
        return []

    def nodes(self, path: Sequence[str | int]) -> tuple[Any, Any, int]:
        """``(key_node, value_node, depth)`` of the deepest existing node along ``path``."""
        key_node: Any = None
        node = self.root
        depth = 0
        for element in path:
            if node is None:
                break
            if _is_mapping(node):
                pair = self._children(node).get(str(element))
                if pair is None:
                    break
                key_node, node = pair
            elif _is_sequence(node) and isinstance(element, int):
                if not 0 <= element < len(node.value):
                    break
                key_node = node = node.value[element]
            else:
                break
            depth += 1
        return key_node, node, depth

    def exists(self, path: Sequence[str | int]) -> bool:
        return self.nodes(path)[2] == len(path)

    def locate(self, path: Sequence[str | int], part: Part = "value", offset: int = 0) -> Position:
        key_node, value_node, depth = self.nodes(path)
        exact = depth == len(path)
        if part == "key" or not exact:
            node = key_node if key_node is not None else value_node
            offset = 0
        else:
            node = value_node
        if node is None:
            return Position(self._file, 1, 1)
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        if offset and node is value_node:
            style = getattr(node, "style", None)
            end = node.end_mark
            if end.line == mark.line and style in (None, "", "'", '"'):
                column += offset + (1 if style in ("'", '"') else 0)
        return Position(self._file, line, column)

    def span(self, path: Sequence[str | int]) -> tuple[int, int] | None:
        """Character offsets ``(start, end)`` of the value at ``path`` in :attr:`text`."""
        _key, node, depth = self.nodes(path)
        if depth != len(path) or node is None:
            return None
        return node.start_mark.index, node.end_mark.index

    def style(self, path: Sequence[str | int]) -> str | None:
        """The YAML style of the scalar at ``path`` (``None`` plain, ``"'"``, ``'"'``, ...)."""
        _key, node, depth = self.nodes(path)
        return getattr(node, "style", None) if depth == len(path) else None

    def written(self, path: Sequence[str | int]) -> str | None:
        _key, node, depth = self.nodes(path)
        if depth != len(path) or getattr(node, "id", None) != "scalar" or node.style:
            return None
        return str(node.value)


class ProcessSource:
    """A process file plus the roster file its owners may come from."""

    def __init__(
        self,
        main: Locator,
        roster: Locator | None = None,
        roster_owners: Iterable[str] = (),
    ) -> None:
        self.main = main
        self.roster = roster
        self.roster_owners = frozenset(roster_owners)

    @property
    def file(self) -> str:
        return self.main.file

    def _file_of(self, path: Sequence[str | int]) -> Locator:
        """The roster for an owner it declared, else the process file."""
        if (
            self.roster is not None
            and len(path) >= 2
            and path[0] == "owners"
            and path[1] in self.roster_owners
        ):
            return self.roster
        return self.main

    def locate(self, path: Sequence[str | int], part: Part = "value", offset: int = 0) -> Position:
        return self._file_of(path).locate(path, part, offset)

    def written(self, path: Sequence[str | int]) -> str | None:
        return self._file_of(path).written(path)


class PatchedSource:
    """Positions for a process after a change: patched paths point into the change file."""

    def __init__(
        self,
        base: Locator,
        change: Locator,
        patch: Any,
        patch_path: Path = ("patch",),
    ) -> None:
        self.base = base
        self.change = change
        self.patch = patch
        self.patch_path = patch_path

    @property
    def file(self) -> str:
        return self.base.file

    def _in_patch(self, path: Sequence[str | int]) -> bool:
        node = self.patch
        for element in path:
            if isinstance(node, Mapping) and element in node:
                node = node[element]
            else:
                return False
        return True

    def locate(self, path: Sequence[str | int], part: Part = "value", offset: int = 0) -> Position:
        if path and self._in_patch(path):
            return self.change.locate((*self.patch_path, *path), part, offset)
        return self.base.locate(path, part, offset)

    def written(self, path: Sequence[str | int]) -> str | None:
        if path and self._in_patch(path):
            return self.change.written((*self.patch_path, *path))
        return self.base.written(path)


# --------------------------------------------------------------------------
# pydantic errors -> Problems


def data_path(loc: Sequence[str | int], data: Any) -> tuple[Path, bool]:
    """Keep the elements of a pydantic ``loc`` that exist in ``data``.

    pydantic inserts union-member tags (``'function-before[...]'``,
    ``'Transition'``, ``'str'``) into locations; walking the data tells
    which elements are real keys. Returns ``(path, complete)``, where
    ``complete`` says every real element was found.
    """
    path: list[str | int] = []
    node = data
    complete = True
    for element in loc:
        if element == "[key]":
            continue
        if isinstance(node, Mapping) and element in node:
            path.append(element)
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            path.append(element)
            node = node[element]
        elif isinstance(element, str) and (
            "[" in element or element[:1].isupper() or element in _UNION_TAGS
        ):
            continue
        else:
            complete = False
            break
    return tuple(path), complete


_UNION_TAGS = frozenset(
    {"str", "int", "float", "bool", "dict", "list", "none", "function-before", "function-after"}
)

Describe = Callable[[Path], str]


def problems_from_errors(
    errors: Iterable[Mapping[str, Any]],
    data: Any,
    locator: Locator,
    describe: Describe,
    allowed_keys: Callable[[Path], Sequence[str]] | None = None,
) -> list[Problem]:
    """Turn pydantic ``errors()`` into PF002 problems with positions and plain messages."""
    problems: list[Problem] = []
    seen: set[tuple[Position, str]] = set()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        path, complete = data_path(loc, data)
        context = error.get("ctx") or {}
        where = describe(path)
        part: Part = "value"
        offset = 0
        raw_message = str(error.get("msg", "invalid value"))
        if kind == "procflow":
            message = raw_message
            offset = int(context.get("offset", 0) or 0)
            sub_key = context.get("key")
            if isinstance(sub_key, list | tuple):  # a path below the field: [index, "id"]
                path = (*path, *sub_key)
            elif sub_key is not None:
                path = (*path, sub_key)
            if context.get("part") == "key":
                part = "key"
        elif kind == "missing":
            missing = loc[-1] if loc else "?"
            message = f"missing required key {missing!r}"
            part = "key"
            if loc and len(path) == len(loc) - 1:
                # locators fall back to the nearest existing node; a change that deleted
                # the key (``steps: null``) is found where the patch says so
                path = (*path, missing)
        elif kind == "extra_forbidden":
            key = path[-1] if path else "?"
            allowed = list(allowed_keys(path[:-1])) if allowed_keys else []
            message = f"unknown key {key!r}" + _suggest(str(key), allowed)
            part = "key"
        elif "[key]" in loc:
            part = "key"
            message = _plain(kind, raw_message, error.get("input"), context)
        else:
            value = _as_written(error.get("input"), locator, path)
            message = _plain(kind, raw_message, value, context)
        if not where and len(path) == 1 and kind not in ("missing", "extra_forbidden"):
            where = str(path[0])  # a top-level key: name it ("process: expected text, ...")
        if where:
            message = f"{where}: {message}"
        if not complete and kind != "missing":
            part = "key"
        position = locator.locate(path, part, offset)
        if (position, message) in seen:
            continue
        seen.add((position, message))
        problems.append(Problem("PF002", message, position))
    return problems


def _suggest(word: str, choices: Sequence[str]) -> str:
    hint = did_you_mean(word, choices)
    if not hint and choices:
        return f"; expected one of: {', '.join(choices)}"
    return hint


class _Written(str):
    """A scalar as the file wrote it: shown bare (``1e3``), not as Python reads it."""


def _as_written(value: Any, locator: Locator, path: Sequence[str | int]) -> Any:
    """A number or true/false from the file, as written there (``1e3``, not ``1000.0``)."""
    if isinstance(value, bool | int | float):
        written = getattr(locator, "written", None)
        text = written(path) if written is not None else None
        if text is not None:
            return _Written(text)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, _Written):
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(kind: str, message: str, value: Any, context: Mapping[str, Any]) -> str:
    """A message a process author understands, from a pydantic error type."""
    if kind.startswith("value_error"):
        return message.removeprefix("Value error, ")
    if kind == "assertion_error":
        return message.removeprefix("Assertion failed, ")
    expected = {
        "string_type": "text",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "list_type": "a list",
        "tuple_type": "a list",
        "date_type": "a date (YYYY-MM-DD)",
        "date_parsing": "a date (YYYY-MM-DD)",
        "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
        "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    }.get(kind)
    if expected:
        return f"expected {expected}, got {_shown(value)}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_shown(value)} is not a valid id: use lower-case letters, digits, '-' and '_', "
            "starting with a letter"
        )
    if kind == "literal_error":
        return f"{_shown(value)} is not allowed: expected {context.get('expected', '')}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        word = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(context.values()), "")
        return f"{_shown(value)} must be {word} {limit}"
    if kind in ("too_short", "too_long") and "actual_length" in context:
        word = "at least" if kind == "too_short" else "at most"
        limit = context.get("min_length" if kind == "too_short" else "max_length")
        entries = "entry" if limit == 1 else "entries"
        return f"expected {word} {limit} {entries}, got {context['actual_length']}"
    return message[0].lower() + message[1:] if message else "invalid value"
