"""The report's plots: matplotlib figures written as SVG, each with its data as a table.

Why matplotlib: it is the best-kept plotting library of the Python world,
renders offline with no browser runtime, and writes plain SVG that can be
inlined and sanitized like the diagram (Vega-Lite would need ~800 KB of
JavaScript inlined in every report). Text stays text (``svg.fonttype:
none``) so it is small, selectable and searchable, and the SVG ids are
salted with a fixed string and the date is left out, so the same data
gives the same bytes.

Plots never rely on colour alone: series differ by hatch pattern and marker
shape and are labelled, goal lines are dashed and named, and every plot
comes with a :class:`Table` of the numbers it shows (the page puts it in a
``<details>``).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from procflow.errors import ProcflowError
from procflow.htmlreport.svg import sanitize_svg
from procflow.units import format_duration, format_number

INSTALL_HINT = (
    "procflow report draws its plots with matplotlib, which is not installed: "
    "pip install 'procflow[report]'"
)

RC: Any = {  # Any: matplotlib types rcParams keys as a Literal
    "svg.fonttype": "none",
    "svg.hashsalt": "procflow-report",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
}
INK = "#1f2937"
FILL = "#9ec5e8"
ALT_FILL = "#f3c38b"
GOAL = "#b91c1c"


@dataclass(frozen=True)
class Table:
    """The numbers a plot shows, for the text alternative."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Plot:
    """One sanitized ``<svg>`` with its accessible name, description and data."""

    label: str
    description: str
    svg: str
    table: Table


def require_matplotlib() -> None:
    """Raise a :class:`ProcflowError` (exit 2) naming the extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ProcflowError(INSTALL_HINT) from None


def _figure(height_rows: int) -> Any:
    from matplotlib.figure import Figure

    height = min(9.0, 1.3 + 0.32 * max(height_rows, 2))
    return Figure(figsize=(7.2, height), layout="constrained")


def figure_svg(figure: Any, label: str, description: str) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return sanitize_svg(buffer.getvalue(), label=label, description=description)


def draw_figure(figure_rows: int, paint: Any) -> Any:
    """A figure with one axes painted by ``paint`` and its legend below, outside the data."""
    import matplotlib

    with matplotlib.rc_context(RC):
        figure = _figure(figure_rows)
        ax = figure.add_subplot()
        paint(ax)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            figure.legend(
                handles, labels, loc="outside lower center", ncols=3, fontsize=7, frameon=False
            )
    return figure


def time_unit(largest_seconds: float) -> tuple[float, str]:
    """The unit a time axis reads best in: (seconds per unit, name)."""
    for limit, scale, name in (
        (120.0, 1.0, "seconds"),
        (7200.0, 60.0, "minutes"),
        (259200.0, 3600.0, "hours"),
    ):
        if largest_seconds < limit:
            return scale, name
    return 86400.0, "days"


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar plot: a value, its 95 % interval and a reference mark."""

    name: str
    value: float | None
    ci95: tuple[float, float] | None
    reference: float | None = None


def bar_plot(
    bars: Sequence[Bar],
    *,
    label: str,
    description: str,
    axis: str,
    scale: float,
    value_name: str,
    reference_name: str,
    lines: Sequence[tuple[float, str]] = (),
    show: Any = str,
) -> Plot:
    """Horizontal hatched bars with 95 % error bars, diamond reference marks and named lines.

    ``scale`` divides every value for the axis (3600 for hours); ``show``
    formats a raw value for the table and the bar labels.
    """
    rows = list(reversed(bars))  # matplotlib draws the first bar at the bottom

    def paint(ax: Any) -> None:
        ys = range(len(rows))
        values = [(bar.value or 0.0) / scale for bar in rows]
        ax.barh(ys, values, color=FILL, edgecolor=INK, hatch="//", label=value_name, height=0.6)
        for y, bar in zip(ys, rows, strict=True):
            if bar.ci95 is not None:
                low, high = (bound / scale for bound in bar.ci95)
                mid = (bar.value or 0.0) / scale
                ax.errorbar(
                    mid,
                    y,
                    xerr=[[max(mid - low, 0.0)], [max(high - mid, 0.0)]],
                    fmt="none",
                    ecolor=INK,
                    capsize=3,
                    linewidth=1,
                )
            if bar.value is not None:
                ax.annotate(
                    show(bar.value),
                    ((bar.value) / scale, y),
                    xytext=(4, 5),
                    textcoords="offset points",
                    fontsize=7,
                    color=INK,
                )
        marks = [
            (y, bar.reference / scale)
            for y, bar in zip(ys, rows, strict=True)
            if bar.reference is not None
        ]
        if marks:
            ax.scatter(
                [m[1] for m in marks],
                [m[0] for m in marks],
                marker="D",
                s=22,
                facecolor="white",
                edgecolor=INK,
                zorder=3,
                label=reference_name,
            )
        for position, (value, text) in enumerate(lines):
            ax.axvline(
                value / scale,
                color=GOAL,
                linestyle=(0, (5, 3)) if position % 2 == 0 else (0, (1, 2)),
                linewidth=1.2,
                label=text,
            )
        ax.set_yticks(list(ys), [bar.name for bar in rows])
        ax.set_xlabel(axis)
        highs = [bar.ci95[1] / scale for bar in rows if bar.ci95 is not None]
        limits = [value / scale for value, _ in lines]
        largest = max([*values, *highs, *limits, *(m[1] for m in marks), 0.0])
        ax.set_xlim(0, max(largest * 1.15, 1.0))  # tiny values stay near 0, not at 1e-11

    figure = draw_figure(len(rows) + 1, paint)
    headers = ("name", value_name, "95% interval", reference_name)
    table = Table(
        headers,
        tuple(
            (
                bar.name,
                "—" if bar.value is None else show(bar.value),
                "—" if bar.ci95 is None else f"{show(bar.ci95[0])} – {show(bar.ci95[1])}",
                "—" if bar.reference is None else show(bar.reference),
            )
            for bar in bars
        ),
    )
    return Plot(label, description, figure_svg(figure, label, description), table)


def quantile_plot(
    points: Sequence[Bar],
    runs: Sequence[Sequence[float | None]],
    *,
    label: str,
    description: str,
    lines: Sequence[tuple[float, str]],
    show: Any,
) -> Plot:
    """The cycle-time distribution as its quantiles: per-run values and the mean over runs.

    One row per statistic (mean, p50 ... p99): every run's value as a small
    open circle, the mean over runs as a filled square with its 95 %
    interval, and each goal's target as a named vertical line.
    """
    rows = list(reversed(points))
    per_run = list(reversed(runs))
    seen = [v for values in runs for v in values if v is not None]
    seen += [p.ci95[1] for p in points if p.ci95 is not None]
    seen += [line[0] for line in lines]
    hours, unit = time_unit(max(seen, default=0.0))

    def paint(ax: Any) -> None:
        for y, (point, values) in enumerate(zip(rows, per_run, strict=True)):
            shown = [v / hours for v in values if v is not None]
            ax.scatter(
                shown,
                [y] * len(shown),
                marker="o",
                s=14,
                facecolor="none",
                edgecolor="#555555",
                label="one run" if y == 0 else None,
            )
            if point.value is None:
                continue
            mid = point.value / hours
            err = None
            if point.ci95 is not None:
                err = [
                    [max(mid - point.ci95[0] / hours, 0.0)],
                    [max(point.ci95[1] / hours - mid, 0.0)],
                ]
            ax.errorbar(
                mid,
                y,
                xerr=err,
                fmt="s",
                color=INK,
                markersize=5,
                capsize=4,
                label="mean over runs (95% interval)" if y == 0 else None,
            )
            ax.annotate(
                show(point.value),
                (mid, y),
                xytext=(6, 5),
                textcoords="offset points",
                fontsize=7,
                color=INK,
            )
        for position, (value, text) in enumerate(lines):
            ax.axvline(
                value / hours,
                color=GOAL,
                linewidth=1.2,
                label=text,
                linestyle=(0, (5, 3)) if position % 2 == 0 else (0, (1, 2)),
            )
        ax.set_yticks(list(range(len(rows))), [point.name for point in rows])
        ax.set_xlabel(f"cycle time ({unit})")
        ax.set_xlim(left=0)

    figure = draw_figure(len(rows) + 1, paint)
    table = Table(
        ("statistic", "mean over runs", "95% interval", "per run"),
        tuple(
            (
                point.name,
                "—" if point.value is None else show(point.value),
                "—" if point.ci95 is None else f"{show(point.ci95[0])} – {show(point.ci95[1])}",
                ", ".join(show(v) for v in values if v is not None),
            )
            for point, values in zip(points, runs, strict=True)
        ),
    )
    return Plot(label, description, figure_svg(figure, label, description), table)


@dataclass(frozen=True)
class Span:
    """A stretch of a time axis to mark (hatched, named in the legend), in seconds."""

    start: float
    end: float
    name: str
    hatch: str


@dataclass(frozen=True)
class Series:
    """One binned time series: ``values[k]`` over ``k * width`` to the next (seconds from 0)."""

    name: str
    values: Sequence[float]


def series_plot(
    series: Sequence[Series],
    width: float,
    *,
    label: str,
    description: str,
    axis: str,
    origin: str = "the run started",
    spans: Sequence[Span] = (),
    lines: Sequence[tuple[float, str]] = (),
    rows: int = 12,
) -> Plot:
    """Binned time series on one time axis, as stairs (``origin`` names time 0).

    The first series is filled and drawn solid, the others dashed and
    dotted in turn; ``spans`` are hatched in grey and named (the warm-up,
    the drain after the last arrival); ``lines`` are horizontal references,
    dashed and dotted in turn and named. The data table gives the series in
    ``rows`` stretches of equal length: the mean of each series and the
    highest bin of the first.
    """
    bins = max(len(s.values) for s in series)
    edges_seconds = [k * width for k in range(bins + 1)]
    scale, unit = time_unit(edges_seconds[-1])

    def paint(ax: Any) -> None:
        edges = [edge / scale for edge in edges_seconds]
        for span in spans:
            ax.axvspan(
                span.start / scale,
                span.end / scale,
                facecolor="#f3f4f6",
                edgecolor="#9ca3af",
                hatch=span.hatch,
                linewidth=0,
                label=span.name,
            )
        for position, one in enumerate(series):
            shown = edges[: len(one.values) + 1]
            if position == 0:
                ax.stairs(one.values, shown, fill=True, color=FILL, alpha=0.8)
            style = ("solid", (0, (5, 2)), (0, (1, 1.5)))[min(position, 2)]
            ax.stairs(one.values, shown, color=INK, linewidth=1.1, linestyle=style, label=one.name)
        for position, (value, text) in enumerate(lines):
            ax.axhline(
                value,
                color=GOAL if position == 0 else INK,
                linestyle=(0, (5, 3)) if position % 2 == 0 else (0, (1, 2)),
                linewidth=1.2,
                label=text,
            )
        ax.set_xlim(0, edges[-1])
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"time since {origin} ({unit})")
        ax.set_ylabel(axis)

    figure = draw_figure(9, paint)
    table = _stretches(series, width, rows, origin)
    return Plot(label, description, figure_svg(figure, label, description), table)


def _stretches(series: Sequence[Series], width: float, rows: int, origin: str) -> Table:
    """The series in ``rows`` equal stretches: the mean of each series, the first's top bin."""
    count = max(len(s.values) for s in series)
    cuts = sorted({round(count * i / rows) for i in range(rows + 1)})
    body = []
    for low, high in itertools.pairwise(cuts):
        means = []
        for one in series:
            part = one.values[low:high]
            means.append(format_number(sum(part) / len(part)) if len(part) else "—")
        first = series[0].values[low:high]
        body.append(
            (
                f"{format_duration(low * width)} – {format_duration(high * width)}",
                *means,
                format_number(max(first)) if len(first) else "—",
            )
        )
    headers = (
        f"time since {origin}",
        *(f"{one.name}: mean" for one in series),
        f"{series[0].name}: most in one bin",
    )
    return Table(headers, tuple(body))
