"""Edit a YAML file's text in place, keeping everything the edit does not touch.

Re-dumping YAML loses comments, key order, quoting and blank lines -- all
of which a process author put there on purpose. So calibration edits the
original text instead: the loader's :class:`~procflow.source.SourceMap`
knows where every node starts and ends, and :class:`TextEdits` replaces a
value at its span or inserts a ``key: value`` into a mapping (a new line
at the mapping's indentation in block style, ``, key: value`` before the
``}`` in flow style). Edits are collected and applied back to front, so
offsets stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from procflow.source import SourceMap

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_.+\-/(), ]*[A-Za-z0-9_.)/]$")
_FLOW_UNSAFE = re.compile(r"[,\[\]{}#]|: ")


class EditError(Exception):
    """A requested edit does not fit the document (a path is missing, a style unsupported)."""


def _content_end(node: Any) -> int:
    """Where a node's own text ends (block collections' end marks run on to the next token)."""
    if node.id == "scalar" or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    if not node.value:
        return int(node.end_mark.index)
    last = node.value[-1]
    return _content_end(last[1] if node.id == "mapping" else last)


class TextEdits:
    """Edits to the text behind a source map; :meth:`apply` returns the new text."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.text = source.text
        self._edits: list[tuple[int, int, str]] = []

    # -- helpers ------------------------------------------------------------

    def _node(self, path: Sequence[str | int]) -> tuple[Any, Any]:
        key, value, depth = self.source.nodes(path)
        if depth != len(path) or value is None:
            raise EditError(f"{'.'.join(map(str, path))} is not in the file")
        return key, value

    def _in_flow(self, path: Sequence[str | int]) -> bool:
        """Whether the value at ``path`` sits inside a flow collection (``{...}``/``[...]``)."""
        for depth in range(len(path)):
            _key, node, found = self.source.nodes(path[:depth])
            if found == depth and node is not None and getattr(node, "flow_style", False):
                return True
        return False

    def _scalar_text(self, text: str, in_flow: bool, style: str | None) -> str:
        if style in ("'", '"'):
            escaped = text.replace("'", "''") if style == "'" else text.replace('"', '\\"')
            return f"{style}{escaped}{style}"
        if in_flow and _FLOW_UNSAFE.search(text):
            return '"' + text.replace('"', '\\"') + '"'
        if not _PLAIN_SAFE.match(text) and not text.startswith("{"):
            return '"' + text.replace('"', '\\"') + '"'
        return text

    def _keep_comment_column(self, start: int, end: int, new: str) -> tuple[int, str]:
        """Widen or narrow the blanks before a trailing ``# comment`` so it stays in place."""
        line_end = self.text.find("\n", end)
        rest = self.text[end : line_end if line_end >= 0 else len(self.text)]
        blanks = len(rest) - len(rest.lstrip(" "))
        if blanks == 0 or not rest[blanks:].startswith("#"):
            return end, new
        growth = len(new) - (end - start)
        keep = max(blanks - growth, 1)
        return end + blanks, new + " " * keep

    # -- edits ----------------------------------------------------------------

    def replace(self, path: Sequence[str | int], text: str, *, raw: bool = False) -> None:
        """Replace the value at ``path`` with ``text`` (quoted as the old value was, if it was).

        ``raw`` inserts ``text`` as written (for flow mappings such as ``{to: x, p: 0.3}``).
        """
        key, node = self._node(path)
        in_flow = self._in_flow(path)
        if node.id == "scalar":
            new = text if raw else self._scalar_text(text, in_flow, node.style)
            start, end = int(node.start_mark.index), int(node.end_mark.index)
            end, new = self._keep_comment_column(start, end, new)
            self._edits.append((start, end, new))
            return
        # a mapping or list value (e.g. {dist: ..., mean: ...}): replace key end .. content end
        if key is None or node is key:
            raise EditError(f"{'.'.join(map(str, path))} cannot be replaced")
        new = text if raw else self._scalar_text(text, in_flow, None)
        start = int(key.end_mark.index)
        colon = self.text.find(":", start)
        self._edits.append((colon + 1, _content_end(node), f" {new}"))

    def insert(
        self,
        mapping_path: Sequence[str | int],
        key: str,
        text: str,
        *,
        after: str | None = None,
        before: str | None = None,
        raw: bool = False,
    ) -> None:
        """Add ``key: text`` to the mapping at ``mapping_path``.

        In block style the new line goes after the entry ``after`` (or before
        ``before``, or last), at the mapping's indentation.
        """
        _key, node = self._node(mapping_path)
        if node.id != "mapping":
            raise EditError(f"{'.'.join(map(str, mapping_path))} is not a mapping")
        in_flow = bool(node.flow_style) or self._in_flow(mapping_path)
        value = text if raw else self._scalar_text(text, in_flow, None)
        entries = node.value
        if node.flow_style:
            if entries:
                self._edits.append(
                    (
                        _content_end(entries[-1][1]),
                        _content_end(entries[-1][1]),
                        f", {key}: {value}",
                    )
                )
            else:
                brace = self.text.rfind("}", 0, node.end_mark.index)
                self._edits.append((brace, brace, f"{key}: {value}"))
            return
        if not entries:
            raise EditError(f"{'.'.join(map(str, mapping_path))} is an empty block mapping")
        indent = " " * entries[0][0].start_mark.column
        names = [k.value for k, _v in entries]
        if before is not None and before in names:
            anchor = entries[names.index(before)][0]
            line_start = self.text.rfind("\n", 0, anchor.start_mark.index) + 1
            self._edits.append((line_start, line_start, f"{indent}{key}: {value}\n"))
            return
        target = (
            entries[names.index(after)] if after is not None and after in names else entries[-1]
        )
        end = _content_end(target[1])
        line_end = self.text.find("\n", end)
        if line_end < 0:
            line_end = len(self.text)
            self._edits.append((line_end, line_end, f"\n{indent}{key}: {value}\n"))
            return
        self._edits.append((line_end, line_end, f"\n{indent}{key}: {value}"))

    def insert_block(self, before_key: str, block: str) -> None:
        """Insert top-level lines (``block``, ending in a newline) before the line of a top key."""
        _key, root = self._node(())
        for key_node, _value in root.value:
            if key_node.value == before_key:
                line_start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
                self._edits.append((line_start, line_start, block))
                return
        self._edits.append(
            (len(self.text), len(self.text), ("\n" if not self.text.endswith("\n") else "") + block)
        )

    def apply(self) -> str:
        """The text with every edit made (overlapping edits are an error)."""
        text = self.text
        last_start = len(text) + 1
        for start, end, new in sorted(self._edits, key=lambda e: (e[0], e[1]), reverse=True):
            if end > last_start:
                raise EditError("two edits overlap")
            text = text[:start] + new + text[end:]
            last_start = start
        return text

    def __len__(self) -> int:
        return len(self._edits)
