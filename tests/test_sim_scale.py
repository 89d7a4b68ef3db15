"""Set-up and memory of the simulator follow what a run uses, not the size of the process.

Complexity, not wall-clock (timings live in ``benchmarks/sim_scale_bench.py``):
draws made, work done per refill, states explored to prove termination.
"""

from __future__ import annotations

import pytest

from procflow.loader import load_text
from procflow.sim import plan as plan_module
from procflow.sim.engine import run_replication
from procflow.sim.plan import compile_process
from procflow.sim.sampling import BLOCK, FIRST, Buffer


def chain(steps: int, loops: bool = True) -> str:
    """A process of ``steps`` staff steps in a row; every tenth has a bounded rework loop."""
    out = ["process: chain", "owners:", "  desk: {capacity: 3}", "arrivals: {rate: 1/h}"]
    out += ["start: s0", "steps:"]
    for i in range(steps):
        out.append(f"  s{i}:")
        out.append("    owner: desk")
        out.append("    duration: exponential(1m)")
        if loops and i % 10 == 9:
            out.append("    on:")
            out.append(f"      ok: {{to: {'done' if i == steps - 1 else f's{i + 1}'}, p: 0.9}}")
            out.append(f"      again: {{to: s{i - 9}, p: 0.1, feedback: true, max: 2}}")
        else:
            out.append(f"    next: {'done' if i == steps - 1 else f's{i + 1}'}")
    out.append("  done: {end: true}")
    return "\n".join(out) + "\n"


def test_a_short_run_of_a_long_process_draws_little(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten cases through 1,000 steps: each step draws a chunk of 16, not a block of 4,096,
    and a refill does not add up every other step's buffer (that was O(steps**2))."""
    plan = compile_process(load_text(chain(1000), "chain.yaml"))
    sizes: list[int] = []
    consumed_reads = [0]
    refill = Buffer.refill
    consumed = Buffer.consumed

    def counting_refill(self: Buffer) -> None:
        before = self.drawn
        refill(self)
        sizes.append(self.drawn - before)

    def counting_consumed(self: Buffer) -> int:
        consumed_reads[0] += 1
        return consumed.fget(self)  # type: ignore[no-any-return, attr-defined]

    monkeypatch.setattr(Buffer, "refill", counting_refill)
    monkeypatch.setattr(Buffer, "consumed", property(counting_consumed))
    stats = run_replication(plan, 0, 1, 10, 0)
    assert stats.counted == 10
    assert max(sizes) <= 4 * FIRST < BLOCK
    assert sum(sizes) <= 3 * FIRST * len(plan.steps)
    assert consumed_reads[0] <= 2 * len(plan.steps)  # the totals, not once per refill


def test_termination_needs_no_state_search_when_every_loop_can_be_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """300 bounded loops: 3**300 counter states. The sufficient rule proves termination
    in one backward search; the exact search (capped at 200,000 states of 300 counters,
    ~1 GB) is not run."""

    def explore(*_args: object) -> None:
        raise AssertionError("the exact state search ran")

    monkeypatch.setattr(plan_module, "_trapped", explore)
    plan = compile_process(load_text(chain(3000), "chain.yaml"))
    assert plan.bounded == 300
