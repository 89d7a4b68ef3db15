"""``procflow simulate`` outside the engine does work linear in the steps, once.

Complexity, not wall-clock (timings live in ``benchmarks/sim_scale_bench.py``):
how often the routing chain is built, how many key comparisons gathering the
KPI keys costs, whether the Steps table goes through Rich's cell layout.
"""

from __future__ import annotations

import gc
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from procflow.analysis import analyzer, routing
from procflow.cli import main
from procflow.cli.console import PlainRows, PlainTable, titled_table
from procflow.loader import load_text
from procflow.sim import attributed, engine, results
from procflow.sim.engine import run_replication
from procflow.sim.plan import compile_process
from test_sim_scale import chain


def test_simulate_builds_the_routing_chain_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run length, default warm-up, overload notes and the event budget share one chain
    (it was unrolled three to five times per command, about a second each at 5,000 steps)."""
    path = tmp_path / "chain.yaml"
    path.write_text(chain(40), encoding="utf-8")
    built = [0]
    unroll = routing._unroll

    def counting(*args: Any, **kwargs: Any) -> routing.Chain:
        built[0] += 1
        return unroll(*args, **kwargs)

    monkeypatch.setattr(routing, "_unroll", counting)
    assert main(["simulate", str(path), "--cases", "10", "--runs", "2", "--seed", "3"]) == 0
    assert "Steps" in capsys.readouterr().out
    assert built[0] == 1
    built[0] = 0
    assert main(["simulate", str(path), "--cases", "auto", "--seed", "3", "--format", "json"]) == 0
    assert built[0] == 1


def test_simulate_builds_one_analysis_and_runs_without_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Warm-up, run length, budget and overload notes ask for the same analysis: one model
    (each built its own, and its queueing network, ~0.3 s at 5,000 steps). The command
    runs with the cyclic collector paused, which every full collection made walk the
    process's ~300k objects (cli/collector.py), and resumes it after. Ten cases are too
    few for MSER (fewer than ten batches of five): no pilot run estimates the warm-up."""
    path = tmp_path / "chain.yaml"
    path.write_text(chain(40), encoding="utf-8")
    models = [0]
    collecting: list[bool] = []
    model = analyzer._Model.__init__
    replicate = engine.run_replication

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        models[0] += 1
        model(self, *args, **kwargs)

    def watched(*args: Any, **kwargs: Any) -> Any:
        collecting.append(gc.isenabled())
        return replicate(*args, **kwargs)

    monkeypatch.setattr(analyzer._Model, "__init__", counting)
    monkeypatch.setattr(attributed, "run_replication", watched)
    assert gc.isenabled()
    assert main(["simulate", str(path), "--cases", "10", "--runs", "2", "--seed", "3"]) == 0
    assert "Steps" in capsys.readouterr().out
    assert models[0] == 1
    assert collecting == [False, False]  # the two runs; ten cases are too few for a pilot
    assert gc.isenabled()


class Key(str):
    """A KPI key that counts the equality tests made on it (a list scan makes one per entry)."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        Key.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_gathering_kpi_keys_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """~2,000 KPI keys over 3 runs: a few comparisons a key, not one per key already seen."""
    plan = compile_process(load_text(chain(300), "chain.yaml"))
    runs = [run_replication(plan, 0, run, 5, 0) for run in range(1, 4)]
    run_kpis = results.run_kpis

    def keyed(plan_: Any, stats: Any) -> dict[str, float | None]:
        return {Key(key): value for key, value in run_kpis(plan_, stats).items()}

    monkeypatch.setattr(results, "run_kpis", keyed)
    Key.compared = 0
    result = results.build_result(load_text(chain(300), "chain.yaml"), plan, runs, seed=1)
    keys = len(result.kpis)
    assert keys > 900
    assert Key.compared <= 6 * keys  # the list scan made ~keys**2 / 2
    assert list(result.kpis) == list(run_kpis(plan, runs[0]))  # first-seen order kept

    Key.compared = 0
    found = results.kpi_keys([SimpleNamespace(kpis=result.kpis)] * 3)  # type: ignore[list-item]
    assert found == list(result.kpis)
    assert Key.compared <= 3 * keys


def _table(rows: int, wide: str = "") -> Table:
    table = titled_table("Steps")
    for column in ("step", "owner", "visits", "wait"):
        table.add_column(column, justify="left" if column in ("step", "owner") else "right")
    for i in range(rows):
        if i % 3 == 0:
            table.add_row(f"s{i}{wide}", "end", "0 (never)")  # a short row: "" fills it
        else:
            table.add_row(f"s{i}", f"role-{i % 7}", f"{i / 7:.4g}", f"{i}m")
    return table


def _render(
    renderable: Any, width: int = 200, colour: bool = False, soft: bool | None = None
) -> str:
    stream = io.StringIO()
    console = Console(
        file=stream,
        width=width,
        color_system="standard" if colour else None,
        force_terminal=colour,
        soft_wrap=not colour if soft is None else soft,
    )
    console.print(renderable)
    return stream.getvalue()


@pytest.mark.parametrize("soft", [True, False])
@pytest.mark.parametrize("wide", ["", "工程", "é"])
def test_plain_steps_table_is_rich_bytes_without_rich_layout(
    wide: str, soft: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped (soft wrap) or a plain terminal: the same bytes as Rich's layout, without it."""
    expected = _render(_table(50, wide), soft=soft)
    laid_out = [0]
    render = Table.__rich_console__

    def counting(self: Table, *args: Any) -> Any:
        laid_out[0] += 1
        return render(self, *args)

    monkeypatch.setattr(Table, "__rich_console__", counting)
    assert _render(PlainTable(_table(50, wide)), soft=soft) == expected
    assert laid_out[0] == 0


def test_plain_table_leaves_wrapping_and_colour_to_rich() -> None:
    """Too wide for the console, or styled: Rich lays the table out, as before."""
    assert _render(PlainTable(_table(20, "x" * 30)), width=30) == _render(
        _table(20, "x" * 30), width=30
    )
    assert _render(PlainTable(_table(20)), colour=True) == _render(_table(20), colour=True)


def _rows(count: int, odd: str = "") -> list[tuple[str | Text, ...]]:
    """Rows of Steps-like cells: data (``str``), dim ``Text``, a short end row, ``""`` cells."""
    found: list[tuple[str | Text, ...]] = []
    for i in range(count):
        if i % 4 == 0:
            found.append((f"s{i}{odd}", Text("end", style="dim"), "0 (never)"))
        elif i % 4 == 1:
            found.append((f"s{i}", Text(f"(none: delay){odd}", style="dim"), "1", "", "2m"))
        else:
            found.append((f"s{i}", f"role-{i % 7}{odd}", f"{i / 7:.4g}", f"{i}m", "1m … 2m", "3m"))
    return found


def _data_table(rows: list[tuple[str | Text, ...]]) -> Table:
    table = titled_table("Steps")
    for column in ("step", "owner", "visits", "wait", "95% CI", "service"):
        table.add_column(column, justify="left" if column in ("step", "owner") else "right")
    for row in rows:
        table.add_row(*row)
    return table


@pytest.mark.parametrize("soft", [True, False])
@pytest.mark.parametrize("odd", ["", "工程", "é", "\x1b[2J\u202e", "\x07\r"])
def test_plain_rows_are_the_data_tables_bytes(odd: str, soft: bool) -> None:
    """The Steps table laid out from its rows, never made, is the DataTable's bytes: data
    escaped as literal() does, dim cells' text as Rich keeps it, short rows filled."""
    rows = _rows(40, odd)
    made = [0]

    def table() -> Table:
        made[0] += 1
        return _data_table(rows)

    right = [False, False, True, True, True, True]
    headers = ["step", "owner", "visits", "wait", "95% CI", "service"]
    plain = PlainRows("Steps", headers, right, rows, table)
    for width, colour in ((200, False), (200, True), (30, False)):  # plain, colour, too wide
        expected = _render(_data_table(rows), width=width, colour=colour, soft=soft)
        assert _render(plain, width=width, colour=colour, soft=soft) == expected
    assert made[0] == 2  # only for colour and for the table too wide to lay out plainly


def test_plain_rows_leave_a_cell_of_several_lines_to_rich() -> None:
    """A dim cell with a line break (an owner id from data): Rich lays the table out."""
    rows = [*_rows(6), ("s9", Text("two\nlines", style="dim"), "1")]
    made = [0]

    def table() -> Table:
        made[0] += 1
        return _data_table(rows)

    headers = ["step", "owner", "visits", "wait", "95% CI", "service"]
    plain = PlainRows("Steps", headers, [False, False, True, True, True, True], rows, table)
    assert _render(plain) == _render(_data_table(rows))
    assert made[0] == 1
