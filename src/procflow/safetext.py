"""Showing text that came from data: control characters escaped, JSON that stays inert.

Names in a log, ids and descriptions in a process, file names: any of them
can hold a line break, an escape sequence (``ESC [ 2 J`` clears a terminal,
``ESC ] 8`` makes a hyperlink), a C1 control (``\\x9b`` is ESC ``[`` to many
terminals) or a bidirectional override (U+202E, which makes text read
backwards). Printed raw, they rewrite the terminal, forge lines of output (a
file name holding ``\\n::error file=...::`` becomes a GitHub Actions command)
or hide text. :func:`printable` is the one escaper every output uses: each
such character becomes a visible backslash escape (``\\n``, ``\\x1b``,
``\\u202e``), so the value is shown literally and the output keeps its lines.
A backslash itself is left alone (Windows paths stay readable), so the
escaped form is for reading, not for undoing.

JSON output escapes the same characters as ``\\uXXXX`` (:func:`json_text`),
which JSON readers turn back into the exact value: the data are kept
whole and the text is still safe to print on a terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
"""Bidirectional marks, embeddings, overrides and isolates; line and paragraph separators."""
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NOT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NOT_BREAK = re.compile(f"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``str(value)`` with every control or bidirectional character as a backslash escape.

    >>> printable("a\\nb\\x1b[31m\\u202e")
    'a\\\\nb\\\\x1b[31m\\\\u202e'
    >>> printable("plain [text] C:\\\\path")
    'plain [text] C:\\\\path'
    """
    text = value if isinstance(value, str) else str(value)
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escaped, text)


def printable_lines(text: str) -> str:
    """:func:`printable`, but line breaks are kept: for procflow's own multi-line messages."""
    if _CONTROL_NOT_NEWLINE.search(text) is None:
        return text
    return _CONTROL_NOT_NEWLINE.sub(_escaped, text)


def printable_breaks(text: str) -> str:
    """:func:`printable`, but ``\\n`` and ``\\r`` are kept: for a format that encodes them."""
    if _CONTROL_NOT_BREAK.search(text) is None:
        return text
    return _CONTROL_NOT_BREAK.sub(_escaped, text)


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}]")


def json_text(document: Any, *, indent: int | None = 2, ensure_ascii: bool = False) -> str:
    """``document`` as JSON whose text holds no control or bidirectional character.

    ``json`` escapes C0 controls already; DEL, C1 and the bidirectional
    characters are written as ``\\uXXXX`` too, which decodes to the same data.
    """
    text = json.dumps(document, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    return text if ensure_ascii else json_escaped(text)


def json_escaped(text: str) -> str:
    """JSON ``text`` with DEL, C1 and bidirectional characters written as ``\\uXXXX``.

    For JSON built by hand (the lint report's fast writer): the same data, and
    no character that could reorder or hide what a terminal or an editor shows.
    """
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
