"""The discrete-event simulator and what-if comparisons (docs/simulation-engine.md).

* :func:`simulate` -- KPIs of a process with 95 % intervals over replications;
* :func:`compare` -- a baseline and changes on common random numbers, with
  paired differences and their significance.

Layout: :mod:`~procflow.sim.plan` compiles a process into plain tables,
:mod:`~procflow.sim.sampling` owns the random streams,
:mod:`~procflow.sim.engine` is the event loop (checked against the slow
:mod:`~procflow.sim.reference`), :mod:`~procflow.sim.runner` runs
replications in parallel, :mod:`~procflow.sim.results` and
:mod:`~procflow.sim.stats` turn them into estimates.
"""

from __future__ import annotations

from procflow.sim.comparison import Comparison, compare
from procflow.sim.results import SimulationResult
from procflow.sim.simulation import simulate
from procflow.sim.stats import Difference, Estimate

__all__ = ["Comparison", "Difference", "Estimate", "SimulationResult", "compare", "simulate"]
