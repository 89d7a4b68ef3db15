"""``procflow analyze PATH``: the analytic model (docs/analysis-method.md), read at a glance.

Text output shows the owners sorted by utilization (a bar, coloured by how
close to the threshold it is, the bottleneck marked), the steps with their
visits, service and expected wait, the expected and the minimum cycle time,
and the goals with their estimates; ``--format json`` carries every number
(times in seconds, rates per hour).

Exit codes: 0 when the model was computed (even when an owner is overloaded:
that is a finding of ``procflow lint``, PF501); 2 when the file is not a valid
process, declares no arrivals, lacks a duration, or cannot be routed.
"""

from __future__ import annotations

import click
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from procflow import metrics
from procflow.analysis import Analysis, OwnerFigures, analyze
from procflow.cli.console import (
    DASH,
    PlainTable,
    make_console,
    percent,
    print_trimmed,
    safe,
    titled_table,
    utilization_bar,
    write_json,
)
from procflow.cli.params import format_option, process_argument
from procflow.config import check_threshold, discover_config
from procflow.loader import display_name, load
from procflow.safetext import printable
from procflow.units import format_duration, format_number, format_rate


def _duration(value: float | None) -> str:
    """``4.51m``; waits under a second read ``<1s`` rather than ``0.000209s``."""
    if value is None:
        return DASH
    if 0.0 < value < 1.0:
        return "<1s"
    return format_duration(value, 3)


def _number(value: float | None, digits: int = 3) -> str:
    """``3.31``, ``0.569``; large values without an exponent (``1370``)."""
    if value is None:
        return DASH
    if abs(value) >= 10**digits:
        return f"{value:.0f}"
    return format_number(value, digits)


def _bar(owner: OwnerFigures, threshold: float) -> Text:
    """``█████░░░░ 62%`` coloured by how close the owner is to the threshold."""
    if owner.utilization is None:
        return Text("external (pure delay)", style="dim")
    return utilization_bar(owner.utilization, threshold=threshold)


def _owner_rows(analysis: Analysis) -> list[OwnerFigures]:
    staffed = sorted(
        (o for o in analysis.owners.values() if not o.external),
        key=lambda o: -(o.utilization or 0.0),
    )
    external = sorted((o for o in analysis.owners.values() if o.external), key=lambda o: -o.load)
    return staffed + external


def owners_table(analysis: Analysis) -> Table:
    """Owners sorted by utilization, the bottleneck marked."""
    threshold = analysis.bottleneck_threshold
    table = titled_table("Owners")
    table.add_column("owner")
    table.add_column("capacity", justify="right")
    table.add_column("load", justify="right")
    table.add_column("utilization")
    table.add_column("P(wait)", justify="right")
    table.add_column("wait", justify="right")
    table.add_column("model")
    table.add_column("top steps (share of load)")
    for owner in _owner_rows(analysis):
        name = Text(owner.id)
        if owner.id == analysis.bottleneck:
            name.append(" ◀ bottleneck", style="bottleneck")
        top = ", ".join(f"{share.step} {percent(share.share, 0)}" for share in owner.top_steps[:3])
        if owner.external:
            table.add_row(
                name, "external", _number(owner.load), _bar(owner, threshold),
                DASH, "0s", Text("delay", style="dim"), top,
            )  # fmt: skip
            continue
        if not owner.stable:
            wait = Text(f"OVERLOADED: needs {owner.required_capacity}", style="bold red")
            table.add_row(
                name, str(owner.capacity), _number(owner.load), _bar(owner, threshold),
                DASH, wait, "", top,
            )  # fmt: skip
            continue
        model = Text("exact", style="ok") if owner.exact else Text("approx", style="warning")
        table.add_row(
            name, str(owner.capacity), _number(owner.load), _bar(owner, threshold),
            percent(owner.p_wait), _duration(owner.wait_mean), model, top,
        )  # fmt: skip
    return table


def steps_table(analysis: Analysis) -> Table:
    """Steps in file order: visits per case, mean service, expected wait per visit."""
    table = titled_table("Steps")
    table.add_column("step")
    table.add_column("owner")
    table.add_column("visits", justify="right")
    table.add_column("service", justify="right")
    table.add_column("wait", justify="right")
    table.add_column("time per case", justify="right")
    for step in analysis.steps.values():
        if step.end:
            table.add_row(step.id, Text("end", style="dim"), _number(step.visits), "", "", "")
            continue
        owner = step.owner or Text("(none: delay)", style="dim")
        if step.owner is not None and step.delay:
            owner = Text(f"{step.owner} (external)", style="dim")
        if step.wait_mean is None:
            wait: str | Text = Text("unbounded", style="bold red")
            per_case: str | Text = Text("unbounded", style="bold red")
        else:
            wait = _duration(step.wait_mean)
            per_visit = step.time_per_visit
            per_case = _duration(None if per_visit is None else per_visit * step.visits)
        visits = _number(step.visits, 4)
        if step.visits == 0.0:
            visits = "0 (never)"
        table.add_row(step.id, owner, visits, _duration(step.service_mean), wait, per_case)
    return table


def cycle_lines(analysis: Analysis) -> Text:
    """Expected and minimum cycle time, throughput, WIP, rework and cost."""
    cycle = analysis.cycle_time
    text = Text()
    text.append("Cycle time\n", style="bold")
    text.append("  expected  ")
    if cycle.expected is None:
        overloaded = ", ".join(analysis.overloaded)
        text.append(
            f"unbounded: {overloaded} overloaded, queues grow without limit", style="bold red"
        )
    else:
        text.append(format_duration(cycle.expected, 3), style="bold")
        if cycle.forks:
            label = "  approximate (fork blocks by moment matching, docs/parallel-work.md)"
        elif any(o.on_duty is not None for o in analysis.loads.values()):
            label = "  approximate (working time, waits while on duty)"
        elif cycle.exact:
            label = "  exact (M/M/c network)"
        else:
            label = "  approximate (Allen–Cunneen waits)"
        text.append(label, style="dim")
    text.append("\n  minimum   ")
    if cycle.minimum is None:
        text.append(DASH)
    else:
        text.append(format_duration(cycle.minimum, 3), style="bold")
        path = " → ".join(cycle.fastest_path)
        text.append(f"  fastest path at mean durations, no waiting: {path}", style="dim")
    text.append("\n\n")
    rows = [
        ("throughput", f"{format_number(analysis.throughput_per_hour, 4)}/h"),
        ("WIP", _number(analysis.wip)),
        ("waiting per case", _duration(analysis.wait_time)),
        ("rework rate", percent(analysis.rework_rate)),
    ]
    if analysis.cost_per_case is not None:
        rows.append(("cost per case", format_number(analysis.cost_per_case, 4)))
    if analysis.busy_cost_per_case is not None:
        rows.append(("busy cost per case", format_number(analysis.busy_cost_per_case, 4)))
    text.append("  " + "   ".join(f"{label} {value}" for label, value in rows))
    return text


def goals_table(analysis: Analysis) -> Table:
    """Goals with the model's estimate and whether it meets the target."""
    table = titled_table("Goals")
    for column in ("goal", "metric", "target", "estimate", "met", "note"):
        table.add_column(column, justify="right" if column == "estimate" else "left")
    for goal in analysis.goals:
        metric = goal.metric or DASH
        if goal.stat:
            metric += f" {goal.stat}"
        found = metrics.metric(goal.metric.partition(":")[0]) if goal.metric else None
        kind = found.kind if found is not None else "number"
        estimate = DASH
        if goal.estimate is not None:
            if kind == "duration":
                estimate = format_duration(goal.estimate, 3)
            elif kind == "percent":
                estimate = percent(goal.estimate)
            elif kind == "rate":
                estimate = format_rate(goal.estimate / 3600.0, like=goal.target)
            else:
                estimate = format_number(goal.estimate, 4)
            if not goal.exact:
                estimate = f"≈ {estimate}"
        met = Text(DASH, style="dim")
        if goal.met is True:
            met = Text("yes", style="ok")
        elif goal.met is False:
            met = Text("no", style="error")
        note = goal.infeasible or goal.note or ""
        table.add_row(goal.id, metric, goal.target or DASH, estimate, met, Text(note, "dim"))
    return table


def classes_table(analysis: Analysis) -> Table | None:
    """Per class of the priority attribute: share, waiting and cycle time (docs/attributes.md)."""
    classes = analysis.classes
    if classes is None:
        return None
    kind = "preemptive" if classes.preemptive else "non-preemptive"
    table = titled_table(f"By {classes.attribute} (priority, {kind}, most urgent first)")
    for column in ("class", "share", "wait per case", "cycle time", "model"):
        table.add_column(column, justify="left" if column in ("class", "model") else "right")
    for figures in classes.figures:
        exact = all(c.exact for c in figures.owners.values() if c.rate > 0.0)
        table.add_row(
            figures.value,
            percent(figures.share),
            _duration(figures.wait_per_case(classes.owner_of)),
            _duration(figures.cycle_time(classes.owner_of)),
            Text("exact" if exact else "approx", style="dim"),
        )
    return table


def notes(analysis: Analysis) -> list[str]:
    """What the reader must know to trust the figures."""
    lines: list[str] = []
    approximate = [
        o.id
        for o in analysis.owners.values()
        if not o.external and not o.exact and o.stable and o.load > 0.0
    ]
    calendared = [o.id for o in analysis.loads.values() if o.on_duty is not None]
    if calendared:
        lines.append(
            "working time ("
            + ", ".join(calendared)
            + "): utilization is the weekly load over units × on-duty share, "
            "waits are approximate and in working time (docs/working-time.md); run procflow "
            "simulate for elapsed cycle times"
        )
    elif approximate and analysis.routing.exact:
        lines.append(
            "approx: waits use the Allen–Cunneen approximation, "
            "Wq ≈ Wq(M/M/c) × (ca² + cs²)/2, because "
            + (
                "arrivals are not Poisson"
                if not analysis.poisson
                else "durations are not all exponential with one mean per owner"
            )
            + "; run procflow simulate for exact figures"
        )
    if analysis.routing.dropped:
        dropped = "; ".join(str(b) for b in analysis.routing.dropped)
        lines.append(
            f"approximate routing: too many loop states, these bounds were ignored "
            f"(visits of their loops are overstated): {dropped}"
        )
    if analysis.routing.shared:
        shared = "; ".join(str(b) for b in analysis.routing.shared)
        kind = "routing" if analysis.routing.exact else "approximate routing"
        lines.append(f"{kind}: {analysis.routing.note}: {shared}")
    for owner in analysis.owners.values():
        if not owner.stable:
            comfortable = ""
            if owner.capacity_below_threshold != owner.required_capacity:
                comfortable = (
                    f" ({owner.capacity_below_threshold} to stay below "
                    f"{percent(analysis.bottleneck_threshold)})"
                )
            lines.append(
                f"{owner.id}: utilization {percent(owner.utilization)} ≥ 100% — its queue grows "
                f"without bound; it needs a capacity of at least {owner.required_capacity}"
                + comfortable
            )
    return lines


def print_analysis(analysis: Analysis, console: Console, source: str | None = None) -> None:
    """The whole text report."""
    header = Text()
    header.append(analysis.process, style="bold")
    if source:
        header.append(f"  {printable(source)}", style="dim")
    arrivals = f"arrivals {format_number(analysis.arrival_rate_per_hour, 4)}/h"
    arrivals += (
        " (Poisson)" if analysis.poisson else f" (SCV {format_number(analysis.arrival_scv)})"
    )
    routing = f"{analysis.routing.states} routing states"
    if analysis.routing.bounds:
        routing += ", loop bounds unrolled exactly" if analysis.routing.exact else ", approximated"
        if analysis.routing.per_case:
            routing += " (tokens in sequence, one set of counters per case)"
    header.append(f"\n{arrivals} · {routing}", style="dim")
    parts: list[Table | Text | PlainTable] = [header, Text(), owners_table(analysis), Text()]
    parts += [PlainTable(steps_table(analysis)), Text(), cycle_lines(analysis)]
    classes = classes_table(analysis)
    if classes is not None:
        parts += [Text(), classes]
    if analysis.goals:
        parts += [Text(), goals_table(analysis)]
    lines = [f"[dim]note:[/dim] {safe(line)}" for line in notes(analysis)]
    print_trimmed(console, Group(*parts), *lines)


@click.command("analyze")
@process_argument
@format_option("text: tables to read; json: every number (seconds, rates per hour).")
@click.option(
    "--bottleneck-threshold",
    type=float,
    default=None,
    metavar="UTIL",
    help="Utilization from which an owner counts as a bottleneck "
    "[default: the lint configuration's, else 0.85].",
)
def analyze_command(output_format: str, path: str, bottleneck_threshold: float | None) -> int:
    """Analyze a process with queueing math: visits, load, bottleneck, waits, cycle time.

    PATH is a process file, or '-' to read one from standard input.

    \b
    Examples:
      procflow analyze processes/customer-service.yaml
      procflow analyze processes/customer-service.yaml --format json
    """
    if bottleneck_threshold is None:
        threshold = discover_config().bottleneck_threshold
    else:
        threshold = check_threshold(bottleneck_threshold, "--bottleneck-threshold")
    process = load(path)
    analysis = analyze(process, bottleneck_threshold=threshold)
    if output_format == "json":
        write_json({**analysis.to_dict(), "file": display_name(path)})
    else:
        print_analysis(analysis, make_console(), display_name(path))
    return 0


commands = [analyze_command]
