"""Timestamps in event logs -> seconds since the Unix epoch (UTC).

The rules, in the order they are tried:

1. **ISO 8601** date-times, with ``T`` or a space between date and time,
   any number of fractional digits, and an optional offset (``Z``, ``+02``,
   ``+0200``, ``+02:00``): ``2011-10-11T13:45:40Z``,
   ``2011-10-11 13:45:40.276000+02:00`` (pm4py's CSV export),
   ``2027-01-04T08:30:00.000+00:00`` (procflow's own logs), and the same
   with slashes in a year-first date (``2010/10/02 07:20:37.000``, as Disco
   exports it), a one-digit hour (``2026-12-07 9:05``) and a trailing
   `` UTC`` or `` GMT`` (BigQuery's exports). A date alone is midnight.
   **Dotted dates are day first**: ``07.12.2026 13:45`` is 7 December, as
   in every country that writes dates with dots (DIN 5008 and its
   neighbours); no convention writes the month first between dots. Dates
   with dashes or slashes and the day or month first stay ambiguous
   (``02/10/2010``): the error names both ``--time-format`` readings. **Without an offset, a time is
   taken as UTC**: only differences between timestamps matter to
   procflow, so this is right as long as a log does not mix local times
   across a daylight-saving change.
2. **Plain numbers** (``1318333540.276``, ``90``, ``1e3``) are seconds since an
   arbitrary epoch -- Unix time or simulation clocks alike. Milliseconds are
   not guessed: divide them first or pass ``time_format``. A number outside
   the span of calendar dates (:data:`MIN_SECONDS` to :data:`MAX_SECONDS`,
   years 1 to 9999 as Unix time) is refused: ``-1e20`` is not a time, and
   rates computed from it would be nonsense.
3. With an explicit ``time_format`` (``strptime`` codes such as
   ``%d-%m-%Y %H:%M:%S``), only that format is accepted.

Everything else is an error naming the text it could not read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

ISO_EXAMPLE = "2011-10-11 13:45:40+02:00"

MIN_SECONDS = -62_135_596_800.0
"""0001-01-01T00:00:00Z as Unix time: the earliest numeric timestamp read."""
MAX_SECONDS = 253_402_300_799.0
"""9999-12-31T23:59:59Z as Unix time: the latest numeric timestamp read."""

FIRST_SECONDS = MIN_SECONDS + 2 * 86400.0
"""0001-01-03T00:00:00Z: the earliest time a log may hold (:func:`first_outside`)."""
LAST_SECONDS = MAX_SECONDS - 2 * 86400.0
"""9999-12-29T23:59:59Z: the latest time a log may hold (:func:`first_outside`)."""

_fromiso = datetime.fromisoformat


def first_outside(seconds: np.ndarray) -> int | None:
    """The index of the first time before 0001-01-03 or after 9999-12-29 (UTC), if any.

    Such a time is a date, but the working hours of a calendar around it, in
    a time zone ahead of or behind UTC, fall outside the years 1 to 9999
    that dates can hold; a log is refused with the row instead.
    """
    outside = np.flatnonzero((seconds < FIRST_SECONDS) | (seconds > LAST_SECONDS))
    return int(outside[0]) if outside.size else None


OUTSIDE = "is too close to the year 1 or 9999: times from 0001-01-03 to 9999-12-29 (UTC) are read"
"""What :func:`first_outside` found, said after the timestamp."""
_SLASHED = re.compile(r"\d{4}/\d{2}/\d{2}")
_ONE_DIGIT_HOUR = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d:\d{2}(?::\d{2}(?:\.\d+)?)?)")
"""A year-first date and a time whose hour has one digit (some spreadsheet exports)."""


def _fromiso_or_none(text: str) -> datetime | None:
    try:
        return _fromiso(text)
    except ValueError:
        return None


_DOTTED = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2})(:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
)
"""A dotted day-month-year date, with an optional time of day (``9:05``, ``09:05:30.5``)."""


def _shown(text: str) -> str:
    """A timestamp text as a message repeats it: cut to 40 characters."""
    return text if len(text) <= 40 else text[:37] + "..."


def _day_first(text: str, day: str, month: str, year: str, hour: str | None, rest: str) -> float:
    """Seconds for a dotted date read day first; ``ValueError`` naming ``text`` when it is
    no date (``31.02.2026``, ``07.13.2026``)."""
    clock = f"T{int(hour):02d}{rest}" if hour is not None else ""
    moment = _fromiso_or_none(f"{year}-{int(month):02d}-{int(day):02d}{clock}")
    if moment is None:
        raise ValueError(
            f"cannot read timestamp {_shown(text)!r}: not a date and time as day.month.year"
        )
    return moment.replace(tzinfo=UTC).timestamp()


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
        if _SLASHED.match(stripped):  # 2010/10/02 07:20:37.000: year first, so unambiguous
            return parse_timestamp(stripped.replace("/", "-", 2))
        for zone in (" UTC", " GMT"):  # BigQuery and log exports: 2026-12-07 09:05:00 UTC
            local = _fromiso_or_none(stripped.removesuffix(zone))
            if stripped.endswith(zone) and local is not None and local.tzinfo is None:
                return local.replace(tzinfo=UTC).timestamp()
        short = _ONE_DIGIT_HOUR.fullmatch(stripped)
        if short is not None:  # 2026-12-07 9:05: the hour without its leading zero
            return parse_timestamp(f"{short[1]}T0{short[2]}")
        dotted = _DOTTED.fullmatch(stripped)
        if dotted is not None:  # 07.12.2026 13:45: dots write the day first (rule 1 above)
            return _day_first(text, *dotted.groups())
        try:
            value = float(stripped)
        except ValueError:
            raise ValueError(_unreadable(text)) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(_unreadable(text)) from None
        if not MIN_SECONDS <= value <= MAX_SECONDS:
            shown = _shown(stripped)
            raise ValueError(
                f"timestamp {shown!r} is out of range: a number is read as seconds since "
                f"1970 and must lie between {MIN_SECONDS:.0f} (year 1) and "
                f"{MAX_SECONDS:.0f} (year 9999)"
            ) from None
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_DAY_MONTH = re.compile(
    r"\s*(\d{1,2})([-/.])(\d{1,2})\2(\d{4})"
    r"(?:([ T])(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([AaPp][Mm])?)?\s*"
)


def suggested_formats(text: str) -> list[str]:
    """``--time-format`` values that would read a day-month-year or month-day-year ``text``.

    >>> suggested_formats("02-10-2010 07:20")
    ['%d-%m-%Y %H:%M', '%m-%d-%Y %H:%M']
    >>> suggested_formats("10/21/2010 7:20:37 PM")
    ['%m/%d/%Y %I:%M:%S %p']
    """
    match = _DAY_MONTH.fullmatch(text)
    if match is None:
        return []
    first, sep, second, _year, between, hour, _minute, seconds, fraction, half = match.groups()
    time = ""
    if hour is not None:
        time = between + ("%I" if half else "%H") + ":%M"
        time += (":%S" if seconds else "") + (".%f" if fraction else "") + (" %p" if half else "")
    day_first = f"%d{sep}%m{sep}%Y{time}"
    month_first = f"%m{sep}%d{sep}%Y{time}"
    if int(first) > 12:
        return [day_first]
    if int(second) > 12:
        return [month_first]
    return [day_first, month_first]


def _unreadable(text: str) -> str:
    shown = _shown(text)
    formats = suggested_formats(text)
    if formats:
        alternative = f" (or {formats[1]!r})" if len(formats) > 1 else ""
        ask = "day or month first? pass" if len(formats) > 1 else "pass"
        return f"cannot read timestamp {shown!r}: {ask} --time-format {formats[0]!r}{alternative}"
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
            shown = _shown(text)
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


_DAYS_BEFORE_MONTH = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_YEARS = np.arange(10_000)
_LEAP = ((_YEARS % 4 == 0) & (_YEARS % 100 != 0)) | (_YEARS % 400 == 0)
_DAYS_BEFORE_YEAR = (
    365 * (_YEARS - 1) + (_YEARS - 1) // 4 - (_YEARS - 1) // 100 + (_YEARS - 1) // 400
)
_DAYS_BEFORE_YEAR -= 719_163  # days from 0001-01-01 to 1970-01-01: epoch days of 1 January
_DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_TEN = np.int64(10)


def _char(text: str) -> int:
    """A character as :func:`decode_fixed` sees it (its code minus ``"0"``'s, as a byte)."""
    return (ord(text) - 48) & 0xFF


def _number(digits: np.ndarray, first: int, count: int) -> np.ndarray:
    value: np.ndarray = digits[first].astype(np.int64)
    for row in range(first + 1, first + count):
        value = value * _TEN + digits[row]
    return value


def decode_fixed(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds for timestamps laid out as ``YYYY-MM-DD[T ]HH:MM:SS[.f+][offset]``.

    ``chars`` is ``(width, n)`` uint8 ASCII codes, one timestamp per
    *column*, all of one width (at least 19): position-major, so that every
    character position is a contiguous row and each step below is one numpy
    operation on ``n`` small integers. The layout (fraction digits, offset
    form) is read from the first timestamp; the others are checked against
    it. Returns ``(seconds, ok)``; timestamps that are not valid (``ok``
    False) are left to the one-by-one parser, which says what is wrong.
    """
    width, count = chars.shape
    digits = chars - np.uint8(48)  # "0".."9" -> 0..9; every other character wraps above 9
    first = digits[:, 0] if count else np.zeros(width, dtype=np.uint8)
    numeric = list(_DATE_DIGITS)
    slashed = count > 0 and first[4] == _char("/") and first[7] == _char("/")
    date = "/" if slashed else "-"  # Disco and many exports write 2010/10/02
    exact = [(4, date), (7, date), (13, ":"), (16, ":")]
    position = 19
    if width > 20 and first[19] == _char("."):
        end = 20
        while end < width and first[end] <= 9:
            end += 1
        exact.append((19, "."))
        numeric += range(20, end)
        position = end
    rest = width - position
    if rest == 1:
        exact.append((position, "Z"))
    elif rest in (3, 5, 6):  # +HH, +HHMM, +HH:MM
        numeric += [position + 1, position + 2]
        if rest == 5:
            numeric += [position + 3, position + 4]
        elif rest == 6:
            numeric += [position + 4, position + 5]
            exact.append((position + 3, ":"))
    elif rest != 0:
        return np.zeros(count), np.zeros(count, dtype=bool)
    ok = digits[numeric].max(axis=0) <= 9
    places, wanted = zip(*exact, strict=True)
    expected = np.array([_char(c) for c in wanted], dtype=np.uint8)[:, None]
    ok &= (digits[list(places)] ^ expected).max(axis=0) == 0
    ok &= (digits[10] == _char("T")) | (digits[10] == _char(" "))
    year, month, day = _number(digits, 0, 4), _number(digits, 5, 2), _number(digits, 8, 2)
    hour, minute, second = _number(digits, 11, 2), _number(digits, 14, 2), _number(digits, 17, 2)
    ok &= (year >= 1) & (month >= 1) & (month <= 12)
    year[~ok] = month[~ok] = 1  # refused already: any date will do for the tables below
    leap = _LEAP[year]
    ok &= (day >= 1) & (day <= _DAYS_IN_MONTH[month] - ((month == 2) & ~leap))
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    days = _DAYS_BEFORE_YEAR[year] + _DAYS_BEFORE_MONTH[month] + (leap & (month > 2)) + day
    seconds = days * 86400.0 + (hour * 3600 + minute * 60 + second)
    if position > 19:
        seconds += _number(digits, 20, position - 20) / float(10 ** (position - 20))
    if rest <= 1:
        return seconds, ok
    sign = digits[position]
    ok &= (sign == _char("+")) | (sign == _char("-"))
    hours = _number(digits, position + 1, 2)
    if rest == 3:
        minutes = np.zeros(count, dtype=np.int64)
    else:
        minutes = _number(digits, position + rest - 2, 2)
    ok &= (hours <= 23) & (minutes <= 59)
    shift = (hours * 3600 + minutes * 60).astype(np.float64)
    return np.where(sign == _char("-"), seconds + shift, seconds - shift), ok


def _one_by_one(texts: Sequence[str]) -> list[float]:
    return [
        m.timestamp() if m.tzinfo is not None else m.replace(tzinfo=UTC).timestamp()
        for m in map(_fromiso, texts)
    ]


def parse_many(texts: Sequence[str], parse: Callable[[str], float] = parse_timestamp) -> np.ndarray:
    """Seconds since the epoch for many timestamps; ``NaN`` for empty texts.

    The common case -- a column of ISO 8601 timestamps of one width, as
    exports write them -- is decoded arithmetically from one byte buffer, a
    few dozen numpy operations for the whole column (a sixth of the work of
    ``fromisoformat`` one by one). Anything else goes through ``parse`` text
    by text. Raises :class:`TimestampError` with the index of the first text
    that cannot be read.
    """
    count = len(texts)
    if parse is parse_timestamp and count:
        widths = set(map(len, texts))
        if len(widths) == 1 and (width := widths.pop()) >= 19:
            try:
                raw = "".join(texts).encode("ascii")
            except UnicodeEncodeError:
                raw = b""
            if raw:
                codes = np.frombuffer(raw, dtype=np.uint8).reshape(count, width)
                return parse_fixed(np.ascontiguousarray(codes.T), texts)
        try:
            return np.array(_one_by_one(texts), dtype=float)
        except ValueError:
            pass
    return _fill(np.full(count, np.nan), texts, range(count), parse)


def parse_fixed(chars: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Seconds for a column of ASCII timestamps of one width, ``(width, n)`` characters.

    What :func:`parse_many` does with such a column, for readers that hold
    the characters already (the CSV reader gathers them straight from the
    file's bytes). Timestamps not of the column's layout are read from
    ``texts`` one by one (only those are looked up).
    """
    seconds, ok = decode_fixed(chars)
    if ok.all():
        return seconds
    result = np.full(ok.size, np.nan)
    result[ok] = seconds[ok]
    return _fill(result, texts, np.flatnonzero(~ok).tolist(), parse_timestamp)


def _fill(
    result: np.ndarray, texts: Sequence[str], indexes: Iterable[int], parse: Callable[[str], float]
) -> np.ndarray:
    for index in indexes:
        text = texts[index]
        if text:
            try:
                result[index] = parse(text)
            except ValueError as exc:
                raise TimestampError(index, str(exc)) from None
    return result
