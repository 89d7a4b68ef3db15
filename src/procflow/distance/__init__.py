"""How far a simulated process is from a real event log: fidelity measures.

* :mod:`~procflow.distance.profile` -- one streaming pass over a log keeps
  what the measures need (per-case start, end and n-gram tail; whole-log
  histograms);
* :mod:`~procflow.distance.emd` -- the 1-D earth mover's distance of two
  histograms in closed form;
* :mod:`~procflow.distance.measures` and :mod:`~procflow.distance.wip` --
  the distances of Chapela-Campa et al. (BPM 2023) and work in progress;
* :mod:`~procflow.distance.halves` -- the real log's two random halves,
  whose distances are the noise floor;
* :mod:`~procflow.distance.fidelity` -- :func:`procflow.fidelity`, which
  simulates and measures; :mod:`~procflow.distance.result` its result.
"""
