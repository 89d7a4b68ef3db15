"""Unquoted CSV text split into columns with numpy: :class:`PlainChunk`.

Most event logs are exported without quotes, one event per line, every line
with as many delimiters as the header. Such a chunk of whole lines needs no
Python object per field: its text is encoded to bytes once, every delimiter
and line break is found in one numpy pass, and each column is then read
from the byte positions of its fields:

* a timestamp column whose fields all have one width (as exports write
  them) has its characters gathered straight from the bytes into a
  ``(width, n)`` array for :func:`~procflow.eventlog.timestamps.parse_fixed`;
* a text column (case ids, activities, resources) is factorised: each
  field's bytes are packed into 64-bit words and hashed, :func:`numpy.unique`
  finds the distinct ones, and only those become Python strings
  (:class:`~procflow.eventlog.batch.Labels`). A chunk of 6,000 events holds
  a thousand or so distinct case ids and a dozen activities.

Whatever does not fit (a field longer than :data:`MAX_KEY` bytes, NUL
bytes, timestamps of several widths) is read as Python strings from
``str.split``, as before; a chunk that is not plain at all (quotes, ragged
or blank lines) is left to the ``csv`` module (:meth:`PlainChunk.split`
returns ``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np

from procflow.eventlog.batch import Labels
from procflow.eventlog.timestamps import parse_fixed

MAX_KEY = 64
"""Longest field (bytes) factorised with numpy; longer ones go through Python strings."""

_NEWLINE = 10
_MIX = np.uint64(0x9E3779B97F4A7C15)
_LOW = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
"""``_LOW[n]``: the first ``n`` bytes of a little-endian 64-bit word."""
_PAD = bytes(MAX_KEY + 8)


class PlainChunk:
    """Whole lines of unquoted CSV, each with exactly as many fields as the header."""

    def __init__(self, text: str, raw: bytes, ends: np.ndarray, delimiter: str) -> None:
        self.text = text
        self.data = np.frombuffer(raw, dtype=np.uint8)
        """The text as UTF-8 bytes (uint8), then zero bytes."""
        self.words = np.ndarray((len(raw) - 7,), dtype="<u8", buffer=raw, strides=(1,))
        """``words[i]``: the 8 bytes from byte ``i`` on, as a little-endian 64-bit number."""
        self.ends = ends
        """``(rows, width)``: the byte position of the delimiter or line break ending each field."""
        self.delimiter = delimiter
        self.rows, self.width = ends.shape
        self._fields: list[str] | None = None
        self._nul = "\x00" in text

    @classmethod
    def split(cls, text: str, delimiter: str, width: int) -> PlainChunk | None:
        """The chunk, or ``None`` unless every line of ``text`` has ``width`` fields, unquoted.

        ``text`` is whole lines (it ends with a line break) without ``\\r``.
        """
        if '"' in text or "\r" in text or not text.endswith("\n"):
            return None
        mark = delimiter.encode("utf-8")
        if len(mark) != 1 or mark == b"\x00":
            return None
        raw = text.encode("utf-8") + _PAD  # room to read any field's words, even past the end
        data = np.frombuffer(raw, dtype=np.uint8)
        breaks = data == _NEWLINE
        marks = np.flatnonzero(breaks | (data == mark[0]))
        rows, extra = divmod(marks.size, width)
        if extra or not rows:
            return None
        ends = marks.reshape(rows, width)
        # every line break ends a row, and there are as many as rows: width fields per line
        if not breaks[ends[:, -1]].all() or np.count_nonzero(breaks) != rows:
            return None
        return cls(text, raw, ends, delimiter)

    def starts(self, column: int) -> np.ndarray:
        """The byte position of the first character of each field of ``column``."""
        if column:
            return self.ends[:, column - 1] + 1
        starts = np.empty(self.rows, dtype=np.int64)
        starts[0] = 0
        starts[1:] = self.ends[:-1, -1] + 1
        return starts

    def texts(self, column: int) -> list[str]:
        """The fields of ``column`` as Python strings."""
        if self._fields is None:
            delimiter = self.delimiter
            self._fields = self.text.replace("\n", delimiter).split(delimiter)
        return self._fields[column : -1 : self.width]

    def labels(self, column: int) -> Sequence[str]:
        """The fields of ``column`` as :class:`Labels` (or strings, when they do not fit)."""
        starts = self.starts(column)
        lengths = self.ends[:, column] - starts
        longest = int(lengths.max())
        if self._nul or longest > MAX_KEY:
            return self.texts(column)
        # each field as 64-bit words, read straight from the bytes, zero after its end
        words = np.empty((self.rows, max(1, -(-longest // 8))), dtype=np.uint64)
        for k in range(words.shape[1]):
            np.bitwise_and(self.words[starts + 8 * k], _LOW[np.clip(lengths - 8 * k, 0, 8)],
                           out=words[:, k])  # fmt: skip
        hashed = words[:, 0].copy()
        for k in range(1, words.shape[1]):
            hashed *= _MIX
            hashed ^= words[:, k]
        _, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
        if words.shape[1] > 1 and not (words == words[first[inverse]]).all():
            # a hash collision (never seen in practice): compare the words themselves
            keys = words.view(f"V{words.shape[1] * 8}").ravel()
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first)  # distinct values in order of first appearance
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        found = words[first[order]].view(f"S{words.shape[1] * 8}").ravel().tolist()
        names = b"\n".join(found).decode("utf-8").split("\n")  # no field holds a line break
        return Labels(names, rank[inverse.ravel()])

    def times(self, column: int) -> np.ndarray | None:
        """Seconds of a column of ISO 8601 timestamps of one width, or ``None``.

        ``None`` when the fields have several widths, are shorter than a
        date and time, or are not ASCII: :func:`~procflow.eventlog.timestamps.parse_many`
        on :meth:`texts` decides those. Raises
        :class:`~procflow.eventlog.timestamps.TimestampError` like it.
        """
        starts = self.starts(column)
        lengths = self.ends[:, column] - starts
        width = int(lengths[0])
        if width < 19 or (lengths != width).any():
            return None
        chars = self.data[np.arange(width)[:, None] + starts]
        if not self.text.isascii() and chars.max() >= 128:
            return None
        return parse_fixed(chars, _FieldTexts(self.data, starts, width))


class _FieldTexts(Sequence[str]):
    """Fields of one width as strings, made only when asked for (timestamps to re-parse)."""

    def __init__(self, data: np.ndarray, starts: np.ndarray, width: int) -> None:
        self.data = data
        self.starts = starts
        self.width = width

    def __len__(self) -> int:
        return int(self.starts.size)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = int(self.starts[index])
        return bytes(self.data[start : start + self.width]).decode("utf-8")
