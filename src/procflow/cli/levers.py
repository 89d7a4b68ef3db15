"""``procflow levers``: rank single changes by their effect on a goal (SPEC 7.5).

One more unit of each staff owner, each step 10% shorter on average, each
feedback edge half as likely, each step automated (no waiting): screened
analytically, then simulated on common random numbers against the baseline
in two stages (a short screening of every lever, then the best ones with the
full replications; ``--full`` simulates every lever in full), and ranked by
the paired effect on the goal (default: mean cycle time) with its 95%
interval, whether it is significant, and the effect per unit of staffing
cost where there is one. How the levers are made and measured is on
docs/levers.md.

Every value that comes from the file (ids, titles, distributions) is printed
literally: cells are :class:`rich.text.Text`, never markup.

Exit codes: 0 when the levers were ranked; 2 for bad options, a file that is
not a valid process (positions), a process without arrivals or that cannot
be simulated, an unknown goal or one no simulation measures.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from procflow._levers import DEFAULT_CASES, DEFAULT_RUNS, DEFAULT_SEED, LeverRanking, levers
from procflow._levers.ranking import LeverEffect
from procflow._levers.stages import DEFAULT_CONFIRM
from procflow.cli.console import DASH, make_console, print_trimmed, titled_table, write_json
from procflow.cli.params import format_option, process_argument, replication_options
from procflow.cli.progress import progress
from procflow.cli.simreport import interval, show, show_delta
from procflow.loader import display_name, load
from procflow.units import format_percent


@click.command("levers")
@process_argument
@click.option(
    "--goal",
    "goal_id",
    metavar="ID",
    default=None,
    help="Rank by this goal of the process (its metric and stat) [default: mean cycle time].",
)
@click.option(
    "--top",
    metavar="K",
    type=click.IntRange(min=1),
    default=None,
    help="Show only the K best levers (those with no effect are still listed) [default: all].",
)
@click.option(
    "--confirm",
    metavar="K",
    type=click.IntRange(min=1),
    default=DEFAULT_CONFIRM,
    show_default=True,
    help="Confirm at least the K best levers of the screening stage (and any that may beat "
    "the K-th) with the full replications.",
)
@click.option(
    "--full",
    is_flag=True,
    default=False,
    help="No screening stage: simulate every lever with the full replications (slower).",
)
@replication_options(
    cases=DEFAULT_CASES,
    runs=DEFAULT_RUNS,
    seed=DEFAULT_SEED,
    cases_help="Cases arriving in each run of each scenario.",
    runs_help="Independent replications (the paired 95% intervals are over runs).",
    seed_help="The same seed gives the same ranking.",
)
@format_option("text: a ranked table; json: every number (seconds, fractions, per hour).")
def levers_command(
    path: str,
    goal_id: str | None,
    top: int | None,
    confirm: int,
    full: bool,
    run: dict[str, Any],
    output_format: str,
) -> int:
    """Rank single changes by their effect on a goal: which lever helps most?

    Tries one more unit of each staff owner, each step 10% shorter, each
    feedback edge half as likely and each step automated (no waiting), all
    on common random numbers against the baseline, and ranks them by the
    paired difference of the goal's KPI (default: mean cycle time), with its
    95% interval, its significance and the effect per unit of staffing cost.
    A short screening stage simulates every lever; the best --confirm K (and
    any that may beat the K-th) are simulated again with the full --cases
    and --runs, and only they get intervals and a rank; the others are
    listed as "screened out" with their screening estimate (--full: every
    lever in full). Levers the queueing model shows cannot matter are listed
    as "no effect (analytic)" and not simulated.

    PATH is a process file, or '-' to read one from standard input.

    \b
    Examples:
      procflow levers processes/customer-service.yaml
      procflow levers processes/incident-management.yaml --goal restore-within-a-day --top 5
      procflow levers processes/order-fulfilment.yaml --runs 20 --format json
      procflow levers processes/receipt.yaml --full
    """
    process = load(path)
    with progress(output_format, f"levers of {process.id}") as bar:
        chosen = None if full else confirm
        ranking = levers(process, goal_id, top, **run, progress=bar, confirm=chosen)
    if output_format == "json":
        document = ranking.to_dict()
        document["file"] = display_name(path)
        write_json(document)
    else:
        print_trimmed(make_console(), levers_report(ranking, display_name(path)))
    return 0


def levers_report(ranking: LeverRanking, source: str | None = None) -> RenderableType:
    """The text report: a header with the goal and the baseline, then the ranked table."""
    kpi = ranking.goal.kpi
    head = Text()
    head.append(ranking.process, style="bold")
    if source:
        head.append(f"  {source}", style="dim")
    goal = ranking.goal
    named = f"goal {goal.id} ({goal.label} {goal.target})" if goal.id else goal.label
    baseline = show(kpi, ranking.baseline)
    if ranking.baseline_ci95 is not None:
        baseline += f" ({interval(kpi, ranking.baseline_ci95)})"
    head.append(f"\nlevers ranked by {named}: baseline {baseline}")
    head.append(_design(ranking), style="dim")
    parts: list[RenderableType] = [head, Text(), levers_table(ranking)]
    for note in ranking.notes:
        parts.append(Text.assemble(("note: ", "warning"), note))
    return Group(*parts)


def _design(ranking: LeverRanking) -> str:
    """How the levers were simulated: the run length, and the two stages when there were."""
    screened = sum(1 for e in ranking.effects if e.screened is not None)
    counted = ranking.cases - ranking.warmup
    full = (
        f"{ranking.runs} run{'s' if ranking.runs != 1 else ''} × {ranking.cases:,} cases "
        f"({ranking.warmup:,} warm-up, {counted:,} counted) · seed {ranking.seed}"
    )
    simulated = f"{ranking.simulated} lever{'s' if ranking.simulated != 1 else ''}"
    analytic = f"{screened} with no effect (analytic)"
    design = ranking.screening
    if design is None:
        return f"\n{full} · {simulated} simulated on common random numbers, {analytic}"
    short = f"{design.runs} runs × {design.cases:,} cases, seed {design.seed}"
    if design.rounds > 1:
        last = design.seed + design.rounds - 1
        seeds = f"seed {last}" if design.rounds == 2 else f"seeds {design.seed + 1}-{last}"
        short += f"; the undecided ones again on {seeds}"
    reason = common_reason(ranking)
    out = f"{ranking.screened_out} screened out" + (f" ({reason})" if reason else "")
    return (
        f"\nscreening: {simulated} on common random numbers ({short}), "
        f"{out}, {analytic}"
        f"\nconfirmation: {ranking.confirmed} lever{'s' if ranking.confirmed != 1 else ''} "
        f"and the baseline, {full}"
    )


def levers_table(ranking: LeverRanking) -> Table:
    """One row per lever, best first; screened levers last, with why they cannot matter."""
    kpi = ranking.goal.kpi
    table = titled_table("")
    table.title = Text(f"Effect on {ranking.goal.label} (paired over runs)")  # never markup
    table.add_column("rank", justify="right")
    table.add_column("lever")
    table.add_column("change")
    table.add_column("effect", justify="right", no_wrap=True)
    table.add_column("95% CI of effect", justify="right", no_wrap=True)
    table.add_column("significant")
    table.add_column("per cost/h", justify="right", no_wrap=True)
    table.add_column("note")
    shared = common_reason(ranking)
    for effect in ranking.effects:
        lever = Text(effect.lever.title)
        change = Text(effect.lever.change, style="dim")
        if effect.screened is not None:
            table.add_row(
                DASH,
                lever,
                change,
                Text("no effect (analytic)", style="dim"),
                DASH,
                DASH,
                _per_cost(kpi, effect),
                Text(effect.screened, style="dim"),
            )
            continue
        if effect.stage == "screening":
            table.add_row(DASH, lever, change, *_screened_out(ranking, effect, shared))
            continue
        style = _style(effect)
        shown = show_delta(kpi, effect.difference, ranking.baseline)
        if effect.relative is not None and effect.difference:
            shown += f" ({'+' if effect.relative > 0 else ''}{format_percent(effect.relative)})"
        table.add_row(
            str(effect.rank) if effect.rank is not None else DASH,
            lever,
            change,
            Text(shown, style=style),
            Text(interval(kpi, effect.ci95, delta=True, scale=ranking.baseline), style=style),
            Text(_yes_no(effect.significant), style=style),
            _per_cost(kpi, effect),
            "",
        )
    return table


def common_reason(ranking: LeverRanking) -> str | None:
    """Why the screening dropped levers, when it is one reason for all of them (the usual
    case: the K-th best cannot be beaten): said once above the table, not on every row."""
    reasons = {e.screened_out for e in ranking.effects if e.stage == "screening"}
    return reasons.pop() if len(reasons) == 1 else None


def _screened_out(
    ranking: LeverRanking, effect: LeverEffect, shared: str | None
) -> tuple[Text, ...]:
    """The cells of a lever the screening stage dropped: its screening estimate and why
    (unless every dropped lever has the same reason, given above the table)."""
    kpi = ranking.goal.kpi
    found = effect.screening
    difference = found.difference if found is not None else None
    estimate = DASH if difference is None else f"{show_delta(kpi, difference, ranking.baseline)}"
    return (
        Text(f"{estimate} (screening)", style="dim"),
        Text("screened out", style="dim"),
        Text(DASH, style="dim"),
        _per_cost(kpi, effect),
        Text("" if shared else effect.screened_out or "", style="dim"),
    )


def _yes_no(significant: bool | None) -> str:
    return DASH if significant is None else ("yes" if significant else "no")


def _style(effect: LeverEffect) -> str:
    """Green for a significant improvement, red for a significant worsening, else dim."""
    if not effect.significant or effect.improvement is None:
        return "dim"
    return "green" if effect.improvement > 0 else "red"


def _per_cost(kpi: str, effect: LeverEffect) -> Text:
    """The effect per unit of staffing cost per hour; why there is none otherwise."""
    lever = effect.lever
    if lever.kind != "capacity":
        return Text("n/a", style="dim")
    if lever.cost_per_hour is None:
        return Text("no cost_per_hour", style="dim")
    if lever.cost_per_hour == 0:
        return Text("free", style="dim")
    if effect.per_cost is None:
        return Text(DASH, style="dim")
    return Text(show_delta(kpi, effect.per_cost))


commands = [levers_command]
