"""Terminal output: colour and alignment on a terminal, plain text when piped.

Colour follows https://no-color.org and the FORCE_COLOR convention
(:func:`colour_choice`): a non-empty ``NO_COLOR`` turns colour off, a
``FORCE_COLOR`` other than empty or ``0`` turns it on even when piped, and
otherwise colour is used on a terminal only. ``-q``/``--quiet``
(:func:`set_quiet`) silences what is only chatter -- progress bars, "wrote
FILE" lines, summaries -- never results, findings or errors: commands ask
:func:`is_quiet`, or take a console with ``chatter=True``. Every command gets its consoles
from here so they all behave the same way, and builds its text report from
the same pieces (titled tables, utilization bars, ``-`` for a missing
figure); ``--format json`` output goes through :func:`write_json`.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markup import escape
from rich.segment import Segment
from rich.style import StyleType
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from procflow.errors import GraphvizNotFound
from procflow.safetext import json_text, printable, printable_lines
from procflow.units import format_percent

THEME = Theme(
    {
        "error": "bold red",
        "warning": "yellow",
        "info": "cyan",
        "ok": "green",
        "path": "bold",
        "code": "magenta",
        "dim": "dim",
        "bottleneck": "bold red",
    }
)


class DataConsole(Console):
    """A rich console that never writes a control character it was not asked to.

    Styles, cursor moves and line breaks are rich's own; any other control
    character in the text it renders (an escape sequence in a name that
    was printed without :func:`literal`) is written as a visible escape.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None:
                text = printable_lines(segment.text)
                if text is not segment.text:
                    segment = Segment(text, segment.style)
            yield segment


def literal(value: object, style: StyleType = "") -> Text:
    """``value`` as text shown exactly as written: no markup, control characters escaped."""
    return Text(printable(value), style=style)


def safe(value: object) -> str:
    """``value`` for a place in a markup string: ``[`` escaped, control characters escaped."""
    return escape(printable(value))


def safe_message(text: str) -> str:
    """One of procflow's own messages (which may hold data) for a markup string.

    Like :func:`safe`, but its line breaks are kept: some messages have several lines.
    """
    return escape(printable_lines(text))


def error_text(error: Exception) -> str:
    """``str(error)`` with control characters escaped, line breaks too.

    procflow's messages are one line (but for :class:`GraphvizNotFound`'s
    install instructions, whose lines are kept), so a line break in one came
    from data -- usually a file name, the one piece of a message not quoted
    with ``repr`` -- and must not start a new line of output.
    """
    text = str(error)
    if isinstance(error, GraphvizNotFound):
        path = getattr(error, "path", None)
        if isinstance(path, str) and path:
            text = text.replace(path, printable(path))
        return printable_lines(text)
    return printable(text)


class DataTable(Table):
    """A table whose plain-string cells are data: shown by :func:`literal`, never as markup.

    Cells that need a style are given as ``Text`` (or :func:`literal`) already.
    """

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        cells = [literal(cell) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, style=style, end_section=end_section)

    def add_column(self, header: RenderableType = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(literal(header) if isinstance(header, str) else header, *args, **kwargs)


_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Turn ``-q``/``--quiet`` on or off for this process (:func:`procflow.cli.main` resets it)."""
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    """Whether ``-q``/``--quiet`` was given: leave out progress, summaries, "wrote FILE" lines."""
    return _QUIET


def colour_choice(environ: Mapping[str, str] | None = None) -> bool | None:
    """``False`` when NO_COLOR says no colour, ``True`` when FORCE_COLOR forces it, else ``None``.

    >>> colour_choice({"NO_COLOR": ""}), colour_choice({"NO_COLOR": "1", "FORCE_COLOR": "1"})
    (None, False)
    >>> colour_choice({"FORCE_COLOR": "0"}), colour_choice({"FORCE_COLOR": "3"})
    (None, True)

    no-color.org: NO_COLOR *present and not empty* disables colour, whatever
    its value; an empty one is ignored (as Rich does). It wins over
    FORCE_COLOR. FORCE_COLOR forces colour when not empty and not ``0``
    (``FORCE_COLOR=0`` is how Node and many CI systems say "do not force").
    """
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", "") != "":
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return None


def make_console(
    stream: TextIO | None = None, *, stderr: bool = False, chatter: bool = False
) -> Console:
    """A rich console for ``stream`` (stdout by default) that is plain when not a terminal.

    ``chatter=True``: the console is for chatter, and prints nothing under ``--quiet``.
    It is a :class:`DataConsole`: no control character from data reaches the stream.
    """
    target = stream if stream is not None else (sys.stderr if stderr else sys.stdout)
    choice = colour_choice()
    try:
        is_terminal = bool(target.isatty()) if hasattr(target, "isatty") else False
    except ValueError:  # a closed stream
        is_terminal = False
    colour = choice if choice is not None else is_terminal
    return DataConsole(
        file=target,
        theme=THEME,
        # explicit, so Rich does not read FORCE_COLOR itself (it forces on "0" too)
        force_terminal=is_terminal or choice is True,
        no_color=choice is False,
        color_system="auto" if colour else None,
        highlight=False,
        soft_wrap=not is_terminal,
        width=None if is_terminal else 200,
        quiet=chatter and _QUIET,
    )


# --------------------------------------------------------------------------
# the pieces of the text reports

DASH = "-"
"""What a table shows for a figure that does not exist."""

BAR_CELLS = 20


def titled_table(title: str) -> DataTable:
    """A borderless :class:`DataTable` under a bold title, columns one space apart."""
    return DataTable(
        title=literal(title), title_justify="left", title_style="bold", box=None, padding=(0, 1)
    )


def percent(value: float | None, decimals: int = 1) -> str:
    """:func:`~procflow.units.format_percent`, or :data:`DASH` for a missing (None, NaN) figure."""
    if value is None or math.isnan(value):
        return DASH
    return format_percent(value, decimals)


def utilization_bar(utilization: float, *, threshold: float = 0.85, critical: float = 1.0) -> Text:
    """``█████████████░░░░░░░  66.2%``: green, yellow from 70%, red from ``threshold``,
    bold red from ``critical``."""
    if utilization >= critical:
        style = "bold red"
    elif utilization >= threshold:
        style = "red"
    elif utilization >= 0.7:
        style = "yellow"
    else:
        style = "green"
    filled = min(BAR_CELLS, round(min(max(utilization, 0.0), 1.0) * BAR_CELLS))
    text = Text()
    text.append("█" * filled, style=style)
    text.append("░" * (BAR_CELLS - filled), style="dim")
    text.append(f" {percent(utilization):>6}", style=style)
    return text


def print_trimmed(console: Console, *renderables: RenderableType) -> None:
    """Print on ``console`` without the blanks rich pads every table cell with."""
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    console.file.flush()


# --------------------------------------------------------------------------
# JSON


def finite(value: Any) -> Any:
    """The same data with every NaN or infinite number as ``None``: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def write_json(document: Any, stream: TextIO | None = None, *, ensure_ascii: bool = True) -> None:
    """``document`` as indented, valid JSON (see :func:`finite`) on ``stream`` (stdout).

    Control and bidirectional characters in strings are ``\\u`` escapes
    (:func:`procflow.safetext.json_text`): the data read back exactly.
    """
    target = stream if stream is not None else sys.stdout
    text = json_text(finite(document), ensure_ascii=ensure_ascii)
    target.write(text + "\n")
    target.flush()


class PlainTable:
    """A borderless table of one-line cells, rendered without Rich's layout when it can be.

    Rich lays a table out cell by cell (measure, wrap, pad, crop): about a
    millisecond a row, seconds for the Steps table of a 5,000-step process.
    When the console writes no styles and every cell is one line that fits
    (the table is no wider than the console), that layout is only padding:
    each column as wide as its widest cell, one space either side, cells
    justified as their column says -- the same characters Rich writes, made
    here directly. Otherwise (colour, a wrapped cell, a table too wide) Rich
    renders ``table`` itself.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = None if console.color_system is not None else _plain_lines(self.table, options)
        if lines is None:
            yield self.table
            return
        for line in lines:
            yield Segment(line)
            yield Segment.line()


class PlainRows:
    """A table given as rows of cells, laid out like :class:`PlainTable` without making it.

    The Steps table of a 5,000-step process has 30,000 cells: as rich ``Text``
    in a :class:`DataTable` they cost more than laying the text out. On a console
    that writes no styles the rows' text is laid out directly (:func:`plain_layout`:
    the same characters); otherwise, or when a cell is not one line or the table
    does not fit, the table is made (``table()``) and rendered as :class:`PlainTable`.
    A ``str`` cell is data (shown as :func:`literal` shows it), a ``Text`` cell shown
    as it is.
    """

    def __init__(
        self,
        title: str,
        headers: list[str],
        right: list[bool],
        rows: list[tuple[str | Text, ...]],
        table: Callable[[], Table],
    ) -> None:
        self.title = title
        self.headers = headers
        self.right = right
        self.rows = rows
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = None if console.color_system is not None else self._lines(options)
        if lines is None:
            yield PlainTable(self.table())
            return
        for line in lines:
            yield Segment(line)
            yield Segment.line()

    def _lines(self, options: ConsoleOptions) -> list[str] | None:
        width = len(self.headers)
        columns: list[list[str]] = [[printable(header)] for header in self.headers]
        for row in self.rows:
            for column, cell in zip(columns, (*row, *("",) * (width - len(row))), strict=True):
                if isinstance(cell, str):
                    column.append(printable(cell))  # what literal() shows
                elif "\n" in cell.plain or "\t" in cell.plain:
                    return None  # a cell of several lines: Rich lays the table out
                else:
                    column.append(cell.plain)
        return plain_layout(printable(self.title), columns, self.right, options)


def _plain_lines(table: Table, options: ConsoleOptions) -> list[str] | None:
    """The lines of ``table`` as Rich writes them unstyled; ``None`` when Rich must lay it out."""
    if (
        table.box is not None
        or table.padding != (0, 1, 0, 1)
        or not table.pad_edge
        or table.collapse_padding
        or table.expand
        or table.width is not None
        or table.min_width is not None
        or table.leading
        or table.show_footer
        or not table.show_header
        or table.caption is not None
        or any(row.style is not None for row in table.rows)
        or table.row_styles
    ):
        return None
    columns: list[list[str]] = []
    for column in table.columns:
        if column.justify not in ("left", "right") or column.width is not None:
            return None
        if column.min_width is not None or column.max_width is not None or column.ratio:
            return None
        texts = [_one_line(cell) for cell in (column.header, *column._cells)]
        if None in texts:
            return None
        columns.append([text or "" for text in texts])
    title = table.title
    if not isinstance(title, Text) or "\n" in title.plain or table.title_justify != "left":
        return None
    right = [column.justify == "right" for column in table.columns]
    return plain_layout(title.plain, columns, right, options)


def plain_layout(
    title: str, columns: list[list[str]], right: list[bool], options: ConsoleOptions
) -> list[str] | None:
    """The lines of a borderless table with a one-line ``title``, as Rich writes it
    unstyled (see :class:`PlainTable`): ``columns`` of one-line texts (the header first),
    flush right where ``right`` says; ``None`` when it does not fit the console."""
    lengths = [list(map(cell_len, texts)) for texts in columns]  # measured once each
    widths = [max(found) for found in lengths]
    total = sum(widths) + 2 * len(widths)
    if total > options.max_width or cell_len(title) > total:
        return None
    # Rich pads the title line to the table's width unless soft-wrapping (a piped console)
    lines = [title + ("" if options.no_wrap else " " * (total - cell_len(title)))]
    for row, sizes in zip(zip(*columns, strict=True), zip(*lengths, strict=True), strict=True):
        parts = []
        for text, size, width, flush in zip(row, sizes, widths, right, strict=True):
            pad = " " * (width - size)
            parts.append(f" {pad}{text} " if flush else f" {text}{pad} ")
        lines.append("".join(parts))
    return lines


def _one_line(cell: object) -> str | None:
    """The text of a one-line cell (``""`` fills a short row), ``None`` for anything else."""
    if cell == "":
        return ""
    if isinstance(cell, Text) and "\n" not in cell.plain and "\t" not in cell.plain:
        return cell.plain
    return None
