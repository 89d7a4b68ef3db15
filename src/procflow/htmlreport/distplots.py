"""The fidelity section's distribution plots: cycle times and the week, real beside simulated.

The distances of ``procflow fidelity`` say *how far* the simulated log is
from the real one; these two plots show *where* (docs/report.md, fidelity):

* :func:`cycle_time_plot`: the share of cases finished within each cycle
  time (an empirical distribution function), real and simulated, on a
  logarithmic time axis when the times span more than two decades -- a
  bimodal log such as the permits (half its cases within an hour, a fifth
  beyond a week) is unreadable on a linear one;
* :func:`week_plot`: events per weekday and hour as two heat maps on one
  colour scale, real above simulated, in the UTC hours the circadian
  measure compares.

Like every plot of the report they do not rely on colour: the two
distribution curves differ by line style and are labelled; the heat maps
use ``cividis``, whose lightness rises steadily, so they read in grey; and
each comes with its numbers as a table (quantiles; shares per weekday and
four-hour block).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from procflow.htmlreport.plots import FILL, INK, Plot, Table, draw_figure, figure_svg, time_unit
from procflow.units import format_duration, format_percent

QUANTILES = (10, 25, 50, 75, 90, 95, 99, 100)
"""The percentiles the cycle-time plot's table gives."""
LOG_SPAN = 100.0
"""A log time axis when the largest cycle time exceeds the smallest positive this many times."""
LOG_TICKS = (
    1.0,
    60.0,
    600.0,
    3600.0,
    8 * 3600.0,
    86400.0,
    7 * 86400.0,
    30 * 86400.0,
    365 * 86400.0,
)
"""Where a logarithmic cycle-time axis is marked: 1s, 1m, 10m, 1h, 8h, 1d, 7d, 30d, 365d."""
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BLOCK_HOURS = 4
"""Hours per row of the heat maps' table."""


def cycle_time_plot(real: Sequence[float], simulated: Sequence[float], *, process: str) -> Plot:
    """Real and simulated cycle times as the share of cases finished within each time.

    ``real`` and ``simulated`` are the cycle times at the percentiles 0 ... 100.
    A logarithmic axis is marked in durations people read (``1m``, ``1h``,
    ``1d``, ``1w``), and starts at a second: shorter cases sit at its edge.
    """
    label = f"Cycle-time distribution of {process}, real and simulated"
    largest = max([*real, *simulated], default=0.0)
    positive = [v for v in (*real, *simulated) if v > 0]
    logarithmic = bool(positive) and largest > LOG_SPAN * min(positive)
    scale, unit = (1.0, "") if logarithmic else time_unit(largest)
    description = (
        "Share of cases finished within each cycle time: the real log (solid line, filled "
        "below) and the simulated runs together (dashed), "
        + (
            "time on a log scale from one second (shorter cases sit at its left edge)."
            if logarithmic
            else "time on a linear axis."
        )
    )

    def paint(ax: Any) -> None:
        shares = [k / 100.0 for k in range(101)]
        floor = max(min(positive) / 2.0, 1.0) if logarithmic else 0.0
        curves = ((real, "solid", "real log"), (simulated, "dashed", "simulated"))
        for values, style, name in curves:
            if not values:
                continue
            xs = [max(v / scale, floor) for v in values]
            if style == "solid":
                ax.fill_between(xs, shares, step="post", color=FILL, alpha=0.6, linewidth=0)
            ax.step(xs, shares, where="post", color=INK, linestyle=style, linewidth=1.3, label=name)
        if logarithmic:
            ax.set_xscale("log")
            marks = [t for t in LOG_TICKS if floor <= t <= largest * 1.5] or [floor, largest]
            ax.set_xticks(marks, [format_duration(t) for t in marks])
            ax.minorticks_off()
            ax.set_xlabel("cycle time (log scale)")
        else:  # times start at 0 (all 0: a unit wide, not a symmetric range around it)
            ax.set_xlim(0, largest / scale if largest > 0 else 1.0)
            ax.set_xlabel(f"cycle time ({unit})")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("share of cases finished")

    figure = draw_figure(9, paint)
    rows = tuple(
        (
            f"p{k}" if k < 100 else "longest",
            format_duration(real[k]) if real else "—",
            format_duration(simulated[k]) if simulated else "—",
        )
        for k in QUANTILES
    )
    table = Table(("percentile of cases", "real log", "simulated"), rows)
    return Plot(label, description, figure_svg(figure, label, description), table)


def week_plot(
    real: Sequence[Sequence[int]], simulated: Sequence[Sequence[int]], *, process: str
) -> Plot:
    """Events per weekday and UTC hour as shares, real and simulated on one colour scale."""
    label = f"Events by weekday and hour of {process}, real and simulated"
    description = (
        "Share of all events (starts and ends) in each weekday and hour (UTC, the hours the "
        "circadian measure compares): the real log above, the simulated runs together below, "
        "on one colour scale (darker: fewer events)."
    )
    maps = [_shares(real), _shares(simulated)]
    top = max((v for grid in maps for row in grid for v in row), default=0.0) or 1.0

    def paint(figure: Any) -> None:
        axes = figure.subplots(2, 1, sharex=True)
        image = None
        for ax, grid, name in zip(axes, maps, ("real log", "simulated"), strict=True):
            # cells as vector rectangles: an imshow raster is an <image> the sanitizer drops
            image = ax.pcolormesh(
                [[v * 100 for v in row] for row in grid],
                cmap="cividis",
                vmin=0.0,
                vmax=top * 100,
                edgecolors="face",
            )
            ax.invert_yaxis()
            ax.set_yticks([d + 0.5 for d in range(7)], WEEKDAYS)
            ax.set_title(name, fontsize=8, loc="left")
        axes[-1].set_xticks(
            [h + 0.5 for h in range(0, 24, 2)], [f"{h:02d}" for h in range(0, 24, 2)]
        )
        axes[-1].set_xlabel("hour of the day (UTC)")
        bar = figure.colorbar(image, ax=list(axes), shrink=0.9)
        bar.solids.set_rasterized(False)
        bar.set_label("share of events (%)")

    figure = _heat_figure(paint)
    table = Table(("weekday, hours (UTC)", "real log", "simulated"), _blocks(*maps))
    return Plot(label, description, figure_svg(figure, label, description), table)


def _heat_figure(paint: Any) -> Any:
    import matplotlib
    from matplotlib.figure import Figure

    from procflow.htmlreport.plots import RC

    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(7.2, 4.2), layout="constrained")
        paint(figure)
    return figure


def _shares(counts: Sequence[Sequence[int]]) -> list[list[float]]:
    """``counts`` (7 x 24) as shares of their total; zeros without any."""
    total = sum(sum(row) for row in counts)
    if not counts:
        return [[0.0] * 24 for _ in range(7)]
    return [[v / total if total else 0.0 for v in row] for row in counts]


def _blocks(real: list[list[float]], simulated: list[list[float]]) -> tuple[tuple[str, ...], ...]:
    """The shares per weekday and block of :data:`BLOCK_HOURS` hours, real and simulated."""
    rows = []
    for day, name in enumerate(WEEKDAYS):
        for start in range(0, 24, BLOCK_HOURS):
            end = start + BLOCK_HOURS
            rows.append(
                (
                    f"{name} {start:02d}–{end:02d}",
                    format_percent(sum(real[day][start:end])),
                    format_percent(sum(simulated[day][start:end])),
                )
            )
    return tuple(rows)
