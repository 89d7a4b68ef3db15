"""Timestamps in event logs -> seconds since the Unix epoch (UTC).

The rules, in the order they are tried:

1. **ISO 8601** date-times, with ``T`` or a space between date and time,
   any number of fractional digits, and an optional offset (``Z``, ``+02``,
   ``+0200``, ``+02:00``): ``2011-10-11T13:45:40Z``,
   ``2011-10-11 13:45:40.276000+02:00`` (pm4py's CSV export),
   ``2027-01-04T08:30:00.000+00:00`` (procflow's own logs). A date alone is
   midnight. **Without an offset, a time is taken as UTC**: only differences
   between timestamps matter to procflow, so this is right as long as a log
   does not mix local times across a daylight-saving change.
2. **Plain numbers** (``1318333540.276``, ``90``, ``1e3``) are seconds since an
   arbitrary epoch -- Unix time or simulation clocks alike. Milliseconds are
   not guessed: divide them first or pass ``time_format``.
3. With an explicit ``time_format`` (``strptime`` codes such as
   ``%d-%m-%Y %H:%M:%S``), only that format is accepted.

Everything else is an error naming the text it could not read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np

ISO_EXAMPLE = "2011-10-11 13:45:40+02:00"

_fromiso = datetime.fromisoformat


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch for one timestamp text; ``ValueError`` when unreadable.

    >>> parse_timestamp("1970-01-01T00:01:30Z")
    90.0
    >>> parse_timestamp("1970-01-01 02:00:00+02:00")
    0.0
    >>> parse_timestamp("90.5")
    90.5
    """
    try:
        moment = _fromiso(text)
    except ValueError:
        stripped = text.strip()
        if stripped != text and stripped:
            return parse_timestamp(stripped)
        try:
            value = float(stripped)
        except ValueError:
            raise ValueError(_unreadable(text)) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(_unreadable(text)) from None
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _unreadable(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return (
        f"cannot read timestamp {shown!r}: expected ISO 8601 such as {ISO_EXAMPLE!r} "
        "or a number of seconds (or pass a --time-format)"
    )


def make_parser(time_format: str | None = None) -> Callable[[str], float]:
    """The timestamp parser for a log: the rules above, or one ``strptime`` format."""
    if time_format is None:
        return parse_timestamp

    def parse_with_format(text: str) -> float:
        try:
            moment = datetime.strptime(text.strip(), time_format)
        except ValueError:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise ValueError(
                f"cannot read timestamp {shown!r} with the time format {time_format!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    return parse_with_format


def to_datetime(seconds: float) -> datetime:
    """The aware UTC datetime of epoch seconds (for reports)."""
    return datetime.fromtimestamp(seconds, tz=UTC)


# --------------------------------------------------------------------------
# many at once


class TimestampError(ValueError):
    """A timestamp in a batch cannot be read; ``index`` is its position in the batch."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def parse_many(texts: Sequence[str], parse: Callable[[str], float] = parse_timestamp) -> np.ndarray:
    """Seconds since the epoch for many timestamps; ``NaN`` for empty texts.

    The common case -- every text ISO 8601 -- is one tight comprehension
    over ``datetime.fromisoformat``; a batch with anything else (empty
    texts, numbers, other formats) is parsed text by text. Raises
    :class:`TimestampError` with the index of the first text that cannot
    be read.
    """
    if parse is parse_timestamp:
        try:
            seconds = [
                m.timestamp() if m.tzinfo is not None else m.replace(tzinfo=UTC).timestamp()
                for m in map(_fromiso, texts)
            ]
            return np.array(seconds, dtype=float)
        except ValueError:
            pass
    result = np.full(len(texts), np.nan)
    for index, text in enumerate(texts):
        if text:
            try:
                result[index] = parse(text)
            except ValueError as exc:
                raise TimestampError(index, str(exc)) from None
    return result
