"""The only YAML reader in procflow: safe, bounded, position-keeping, YAML 1.2 core.

Process files come from colleagues, CI checkouts and the occasional hostile
pull request, so reading one must never hang, exhaust memory or run code:

* files over :data:`MAX_BYTES`, binary files and non-UTF-8 text are refused
  before parsing, with the position of the offending byte;
* libyaml (PyYAML's C parser) composes a node tree -- no constructors run,
  so ``!!python/object`` and friends are data, and then refused here;
* the tree is converted to plain data by :class:`_Builder`, which keeps
  aliases shared (as PyYAML does) but counts their expanded size, so a
  "billion laughs" file is refused after :data:`MAX_NODES` nodes instead of
  after the machine runs out of memory; nesting beyond :data:`MAX_DEPTH` is
  refused too (libyaml itself stops at 1,000);
* scalars are resolved with the YAML 1.2 core schema: only ``true``/``false``
  are booleans, so a step key ``on:`` and triggers ``yes``/``no`` stay text;
  dates stay text for pydantic to parse;
* a repeated mapping key -- which YAML loaders silently resolve by keeping
  the last -- is recorded as a PF003 problem with both lines.

The nodes are kept in a :class:`~procflow.source.SourceMap` so any later
finding can point at ``file:line:col``.
"""

from __future__ import annotations

import glob
import math
import ntpath
import operator
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, BinaryIO

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from procflow.errors import FileAccessError, Position, Problem, ProcessError
from procflow.fileio import note_input
from procflow.model import (
    Change,
    Process,
    validate_change,
    validate_process,
    validate_roster,
)
from procflow.source import ProcessSource, SourceMap

MAX_BYTES = 8 * 1024 * 1024
"""Largest file read, in bytes (a 10,000-step process is under 1 MB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (a process needs about 6)."""
MAX_NODES = 2_000_000
"""Most nodes a document may expand to, aliases counted at every use."""

STDIN = "-"
_TAG = "tag:yaml.org,2002:"
_PLAIN = "!procflow/plain"
_STR = _TAG + "str"
_SEQ = _TAG + "seq"
_MAP = _TAG + "map"
_BUILDING: Any = ("building",)  # memo marker of a collection whose children are being built
_ALLOWED_TAGS = frozenset(
    {_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq")} | {_PLAIN}
)

try:  # the C loader is the fast path; fall back to the pure-Python one if libyaml is absent
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class _ComposeOnly(_BaseLoader):  # type: ignore[misc]
    """Compose nodes and mark plain scalars; the core-schema resolution happens in Python."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP

    # PyYAML calls these for every node to support path resolvers, which we do
    # not use; C-level no-ops instead of two Python calls per node.
    descend_resolver = staticmethod(operator.is_)  # (parent, index) -> ignored
    ascend_resolver = staticmethod(tuple)  # () -> ignored


@dataclass
class Document:
    """One YAML file, read: its text, plain data, positions and non-fatal problems."""

    path: str
    text: str
    data: Any
    source: SourceMap
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------
# reading bytes


def display_name(path: str | os.PathLike[str]) -> str:
    """How a path is shown in findings: as given, with ``-`` shown as ``<stdin>``."""
    text = os.fspath(path)
    return "<stdin>" if text == STDIN else text


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a file (or ``-`` for standard input) as UTF-8 text, within the limits.

    Raises :class:`FileAccessError` when it does not exist or cannot be read,
    and :class:`ProcessError` (PF001) for oversized, binary or non-UTF-8 files.
    """
    name = display_name(path)
    raw: bytes
    if os.fspath(path) == STDIN:
        raw = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise FileAccessError(name, "no such file") from None
        except OSError as exc:
            raise FileAccessError(name, exc.strerror or "cannot be read") from None
        if stat.S_ISDIR(info.st_mode):
            raise FileAccessError(name, "is a directory, not a file")
        if info.st_size > MAX_BYTES:
            raise _too_big(name, info.st_size)
        try:
            with open(path, "rb") as handle:
                note_input(handle.fileno())
                raw = _read_within(handle, info.st_size)
        except OSError as exc:
            raise FileAccessError(name, exc.strerror or "cannot be read") from None
    if len(raw) > MAX_BYTES:
        raise _too_big(name, len(raw))
    return decode(raw, name)


def _read_within(handle: BinaryIO, size: int) -> bytes:
    """The file's bytes, at most ``MAX_BYTES + 1`` of them (one more says it is too big).

    It asks for the size ``stat`` gave plus one byte, and reads on only when
    that byte came: the file grew since, or it is a pipe or a ``/proc`` file
    whose size ``stat`` does not know. Asking for ``MAX_BYTES + 1`` at once
    would make Python allocate (and give back) a buffer that large for every
    file: 15 us of a ~50 us read of a 6 KB process file.
    """
    raw = handle.read(size + 1)
    if len(raw) > size:
        raw += handle.read(MAX_BYTES + 1 - len(raw))
    return raw


def _too_big(name: str, size: int) -> ProcessError:
    return ProcessError(
        [
            Problem(
                "PF001",
                f"file is {size / 1e6:.1f} MB; procflow reads process files up to "
                f"{MAX_BYTES // (1024 * 1024)} MB",
                Position(name, 1, 1),
            )
        ]
    )


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text from bytes (a BOM is dropped); binary and invalid UTF-8 are PF001."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _line_column(raw[:nul].decode("utf-8", "replace"), nul)
        hint = " (UTF-16 text?)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ProcessError(
            [
                Problem(
                    "PF001",
                    f"binary content (a NUL byte){hint}: a process file is UTF-8 text",
                    Position(name, line, column),
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", "replace")
        line, column = _line_column(prefix, len(prefix))
        raise ProcessError(
            [
                Problem(
                    "PF001",
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded "
                    "(save the file as UTF-8)",
                    Position(name, line, column),
                )
            ]
        ) from None


# --------------------------------------------------------------------------
# composing and converting


_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_START = frozenset("0123456789+-.~nNtTfF")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_INFS = frozenset({".inf", ".Inf", ".INF"})
_NANS = frozenset({".nan", ".NaN", ".NAN"})


def resolve_plain(text: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema.

    >>> [resolve_plain(t) for t in ("on", "yes", "true", "~", "12", "0x1f", "1.5", "2027-03-31")]
    ['on', 'yes', True, None, 12, 31, 1.5, '2027-03-31']
    """
    if text and text[0] not in _SPECIAL_START:
        return text
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT_RE.match(text):
        try:
            return int(text)
        except ValueError:  # over Python's 4,300-digit limit: as large as a float gets
            return float(text)
    if _OCT_RE.match(text):
        return int(text[2:], 8)
    if _HEX_RE.match(text):
        return int(text[2:], 16)
    if _FLOAT_RE.match(text):
        return float(text)
    if text.lstrip("+-") in _INFS:
        return -math.inf if text.startswith("-") else math.inf
    if text in _NANS:
        return math.nan
    return text


def _explicit(node: ScalarNode, name: str) -> Any:
    """A scalar with an explicit core tag (``!!int 3``)."""
    tag = node.tag
    value = node.value
    if tag == _TAG + "str":
        return value
    resolved = resolve_plain(value)
    expected = {
        _TAG + "int": int,
        _TAG + "float": float,
        _TAG + "bool": bool,
        _TAG + "null": type(None),
    }[tag]
    if expected is float and isinstance(resolved, int) and not isinstance(resolved, bool):
        return float(resolved)
    if isinstance(resolved, expected) and not (expected is int and isinstance(resolved, bool)):
        return resolved
    mark = node.start_mark
    raise ProcessError(
        [
            Problem(
                "PF001",
                f"{value!r} is not a valid {tag.removeprefix(_TAG)}",
                Position(name, mark.line + 1, mark.column + 1),
            )
        ]
    )


class _Builder:
    """Turn a composed node tree into plain data, within the limits, noting duplicates."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.memo: dict[int, tuple[Any, int]] = {}
        self.problems: list[Problem] = []

    def fail(self, node: Any, message: str) -> ProcessError:
        mark = node.start_mark
        return ProcessError(
            [Problem("PF001", message, Position(self.name, mark.line + 1, mark.column + 1))]
        )

    def build(self, node: Any, depth: int = 0) -> Any:
        kind = type(node)
        if kind is ScalarNode:  # the hot path: most nodes are plain scalars
            self.count += 1
            tag = node.tag
            if tag == _PLAIN:
                return resolve_plain(node.value)
            if tag not in _ALLOWED_TAGS:
                raise self.fail(node, self._tag_message(tag))
            return _explicit(node, self.name)
        key = id(node)
        memo = self.memo.get(key)
        if memo is not None:
            if memo is _BUILDING:
                raise self.fail(node, "an alias refers to the node that contains it (recursive)")
            # an alias: share the value, but count its full size
            self.count += memo[1]
            if self.count > MAX_NODES:
                raise self.fail(
                    node,
                    f"aliases expand to more than {MAX_NODES:,} nodes (a 'billion laughs' "
                    "file?); write the values out or use fewer nested aliases",
                )
            return memo[0]
        if depth >= MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        if node.tag not in _ALLOWED_TAGS:
            raise self.fail(node, self._tag_message(node.tag))
        self.memo[key] = _BUILDING
        start = self.count
        self.count += 1
        value: Any
        if kind is MappingNode:
            value = self._mapping(node, depth + 1)
        else:
            value = self._sequence(node, depth + 1)
        self.memo[key] = (value, self.count - start)
        if self.count > MAX_NODES:
            raise self.fail(node, f"the document has more than {MAX_NODES:,} nodes")
        return value

    def _sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        items: list[Any] = []
        add, build = items.append, self.build
        for child in node.value:
            # :meth:`build`'s plain-scalar path inline (most items are plain scalars)
            if type(child) is ScalarNode and child.tag == _PLAIN:
                self.count += 1
                text = child.value
                add(text if text and text[0] not in _SPECIAL_START else resolve_plain(text))
            else:
                add(build(child, depth))
        return items

    def _mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] | None = None
        build = self.build
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                raise self.fail(key_node, "a mapping key must be a plain name, not a list or map")
            name = key_node.value
            tag = key_node.tag
            if tag == _PLAIN:
                if name == "<<":
                    merged = merged or {}
                    merged.update(self._merge(value_node, depth))
                    continue
            elif tag != _STR:
                raise self.fail(key_node, self._tag_message(tag))
            if name in result:
                self._duplicate(node, key_node, name)
            # :meth:`build`'s plain-scalar path inline: a call per value was a third of the
            # conversion (most values are plain scalars)
            if type(value_node) is ScalarNode and value_node.tag == _PLAIN:
                self.count += 1
                text = value_node.value
                result[name] = (
                    text if text and text[0] not in _SPECIAL_START else resolve_plain(text)
                )
            else:
                result[name] = build(value_node, depth)
        self.count += len(node.value)  # the keys
        if merged:
            for name, value in merged.items():
                result.setdefault(name, value)
        return result

    def _duplicate(self, node: MappingNode, key_node: ScalarNode, name: str) -> None:
        first = next(k for k, _v in node.value if getattr(k, "value", None) == name)
        mark = key_node.start_mark
        self.problems.append(
            Problem(
                "PF003",
                f"duplicate key {name!r} (first at line {first.start_mark.line + 1}): YAML keeps "
                "only the last one, so the first would be silently lost",
                Position(self.name, mark.line + 1, mark.column + 1),
            )
        )

    def _merge(self, node: Any, depth: int) -> dict[str, Any]:
        """YAML merge keys (``<<: *defaults``): earlier sources win, explicit keys win."""
        sources = node.value if type(node) is SequenceNode else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            value = self.build(source, depth)
            if not isinstance(value, dict):
                raise self.fail(source, "'<<' merges mappings only")
            for name, item in value.items():
                merged.setdefault(name, item)
        return merged

    @staticmethod
    def _tag_message(tag: str) -> str:
        shown = tag.replace(_TAG, "!!")
        return f"tag {shown!r} is not allowed: a process file holds plain data only"


def parse_yaml(text: str, name: str) -> Document:
    """Compose and convert YAML text; raise :class:`ProcessError` (PF001) when it is not YAML."""
    try:
        root = yaml.compose(text, Loader=_ComposeOnly)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = (exc.problem or "invalid YAML").strip()
        context = (exc.context or "").strip()
        message = f"{problem} ({context})" if context else problem
        raise ProcessError(
            [Problem("PF001", f"invalid YAML: {message}", Position(name, line, column))]
        ) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(text, exc.position)
        raise ProcessError(
            [
                Problem(
                    "PF001",
                    f"invalid YAML: character {exc.character!r} is not allowed",
                    Position(name, line, column),
                )
            ]
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml errors are marked
        raise ProcessError(
            [Problem("PF001", f"invalid YAML: {exc}", Position(name, 1, 1))]
        ) from None
    except RecursionError:  # pragma: no cover - libyaml stops at depth 1,000 first
        raise ProcessError([Problem("PF001", "nesting too deep", Position(name, 1, 1))]) from None
    builder = _Builder(name)
    data = None if root is None else builder.build(root)
    return Document(name, text, data, SourceMap(name, root, text), builder.problems)


def read_document(path: str | os.PathLike[str]) -> Document:
    """Read and parse one YAML file (``-`` is standard input)."""
    name = display_name(path)
    return parse_yaml(read_text(path), name)


# --------------------------------------------------------------------------
# processes, rosters and changes


def _roster_path(document: Document, roster: str) -> str:
    if document.path == "<stdin>" or document.path.startswith("<"):
        return roster
    return os.path.join(os.path.dirname(document.path), roster)


_NOT_A_ROSTER = "not a roster file (a roster holds a top-level 'owners:' mapping and nothing else)"


def _refused_roster(roster: str) -> str:
    """Why ``roster:`` may not name ``roster`` (``""`` when it may).

    A roster is a YAML file named relative to the process file -- never an
    absolute path, which would tie the process to one machine and let a
    process file make procflow read any file (``/etc/passwd``). ``..`` is
    allowed: rosters are shared by processes in several folders.
    """
    if os.path.isabs(roster) or ntpath.isabs(roster) or ntpath.splitdrive(roster)[0]:
        return "give a path relative to this file, not an absolute one"
    if roster.startswith("~"):
        return "give a path relative to this file ('~' is not expanded)"
    if not roster.lower().endswith((".yaml", ".yml")):
        return "a roster is a YAML file, named .yaml or .yml"
    return ""


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing, or standard input
        return False


def _merge_roster(document: Document) -> tuple[Any, ProcessSource, list[Problem]]:
    """Merge a roster's owners into the process data; process entries replace roster ones."""
    data = document.data
    source = ProcessSource(document.source)
    if not isinstance(data, dict) or "roster" not in data:
        return data, source, []
    roster_ref = data["roster"]
    where = document.source.locate(("roster",))
    if not isinstance(roster_ref, str):
        return data, source, []  # the schema reports "roster: expected text, got ..."
    if not roster_ref.strip():
        return data, source, [Problem("PF002", "roster: expected a file path", where)]
    refused = _refused_roster(roster_ref)
    if refused:
        return data, source, [Problem("PF002", f"roster {roster_ref!r}: {refused}", where)]
    path = _roster_path(document, roster_ref)
    if _same_file(path, document.path):
        return (
            data,
            source,
            [
                Problem(
                    "PF002",
                    "roster: a process file cannot be its own roster "
                    "(a roster holds only 'owners:')",
                    where,
                )
            ],
        )
    try:
        roster_document = read_document(path)
    except FileAccessError as exc:
        return data, source, [Problem("PF002", f"roster {roster_ref!r}: {exc.reason}", where)]
    except ProcessError as exc:
        return data, source, list(exc.problems)
    if not isinstance(roster_document.data, dict) or "owners" not in roster_document.data:
        # not a roster at all: say so without repeating any of its content
        message = f"roster {roster_ref!r}: {_NOT_A_ROSTER}"
        return data, source, [Problem("PF002", message, where)]
    try:
        roster = validate_roster(roster_document.data, roster_document.source)
    except ProcessError as exc:
        reader = f"roster of {display_name(document.path)}"
        named = [Problem(p.code, f"{reader}: {p.message}", p.position) for p in exc.problems]
        return data, source, [*roster_document.problems, *named]
    del roster  # validated; the raw entries are merged so changes can patch them
    roster_owners = dict(roster_document.data["owners"])
    own = data.get("owners")
    own_owners = own if isinstance(own, dict) else {}
    merged = dict(data)
    merged["owners"] = {**roster_owners, **own_owners} if isinstance(own, dict | None) else own
    from_roster = [name for name in roster_owners if name not in own_owners]
    source = ProcessSource(document.source, roster_document.source, from_roster)
    return merged, source, list(roster_document.problems)


def parse_process(document: Document) -> tuple[Process | None, list[Problem]]:
    """Validate a document as a process: ``(process or None, every problem found)``.

    Duplicate keys (PF003) do not stop validation: they are returned with a
    process built from the keys YAML kept, so lint can report everything.
    """
    problems = list(document.problems)
    data, source, roster_problems = _merge_roster(document)
    problems.extend(roster_problems)
    try:
        process = validate_process(data, source)
    except ProcessError as exc:
        return None, [*problems, *exc.problems]
    if any(problem.code != "PF003" for problem in roster_problems):
        # Without its roster's owners the process is not the one written: checking
        # it would blame every step for an unknown owner. The roster's problems say it.
        return None, problems
    return process, problems


def load_text(text: str, name: str = "<string>") -> Process:
    """Load a process from YAML text; raise :class:`ProcessError` with every problem."""
    process, problems = parse_process(parse_yaml(text, name))
    if problems or process is None:
        raise ProcessError(problems)
    return process


def as_process(process: Process | str | os.PathLike[str], function: str) -> Process:
    """``process``, or the process file it names, loaded; a TypeError for anything else.

    The public functions take a :class:`Process` or a path, and say which
    they wanted instead of failing deep inside on a missing attribute.
    """
    if isinstance(process, str | os.PathLike):
        return load(process)
    if not isinstance(process, Process):
        raise TypeError(
            f"{function}() takes a Process (procflow.load(path)) or the path of a process "
            f"file, not {type(process).__name__}"
        )
    return process


def load(path: str | os.PathLike[str]) -> Process:
    """Load and validate one process file (``-`` for standard input).

    Raises :class:`ProcessError` listing every problem (syntax, schema,
    duplicate keys) with positions, or :class:`FileAccessError`.
    """
    process, problems = parse_process(read_document(path))
    if problems or process is None:
        raise ProcessError(problems)
    return process


def load_change(path: str | os.PathLike[str]) -> Change:
    """Load and validate a change file (docs/file-format.md#change-files)."""
    document = read_document(path)
    change = validate_change(document.data, document.source)
    if document.problems:  # a duplicate key: this is a change file, not a process
        raise ProcessError(document.problems, f"{display_name(path)}: not a valid change file")
    return change


#: Folders never walked into: tool state, caches and installed packages hold YAML
#: that is not a process. (Hidden folders, such as .git and .github, are skipped too.)
#: ``skip(path, is_dir) -> bool``: a walk leaves out what it returns true for.
Skip = Callable[[str, bool], bool]
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
YAML_SUFFIXES = (".yaml", ".yml")


def _walk_yaml(root: str, skip: Skip | None = None) -> list[str]:
    """``*.yaml``/``*.yml`` files under ``root``, sorted, pruning hidden and tool folders.

    ``skip(path, is_dir)`` leaves out folders and files (exclude, .gitignore).
    """
    found: list[str] = []
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS]
        if skip is not None:
            folders[:] = [f for f in folders if not skip(os.path.join(folder, f), True)]
            files = [f for f in files if not skip(os.path.join(folder, f), False)]
        found.extend(
            path
            for name in files
            if name.endswith(YAML_SUFFIXES)
            and not name.startswith(".")
            # a named pipe or socket in the tree would block the walk: regular files only
            and os.path.isfile(path := os.path.normpath(os.path.join(folder, name)))
        )
    return sorted(found, key=lambda p: p.split(os.sep))  # normalized: by folder, then name


def iter_yaml_files(paths: list[str], skip: Skip | None = None) -> Iterator[str]:
    """Expand folders (recursively, ``*.yaml``/``*.yml``, sorted) and globs; keep files as given.

    Walking a folder skips hidden folders and files (``.git``, ``.github``,
    ``.venv``) and :data:`SKIPPED_FOLDERS`; a glob keeps the YAML files it
    matches. A path that does not exist raises :class:`FileAccessError`.
    ``skip(path, is_dir)`` (:class:`procflow.pathfilter.PathFilter`) also
    leaves out what walks and globs find; files named as given are kept.
    """
    for path in paths:
        if path == STDIN:
            yield path
            continue
        candidate = FsPath(path)
        if candidate.is_dir():
            yield from _walk_yaml(path, skip)
        elif candidate.exists():
            yield path
        elif any(char in path for char in "*?["):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise FileAccessError(path, "no files match this pattern")
            yield from iter_yaml_files(
                [
                    m
                    for m in matches
                    if (os.path.isdir(m) or m.endswith(YAML_SUFFIXES))
                    and not (skip is not None and skip(m, os.path.isdir(m)))
                ],
                skip,
            )
        else:
            raise FileAccessError(path, "no such file or directory")
