"""pm4py reads procflow's simulated logs without any mapping (``make pm4py-check``).

pm4py is AGPL-3.0: it is never a dependency of procflow and nothing in
``src/`` imports it. This script runs in a virtual environment of its own
(``.venv-pm4py``, made by ``make pm4py-check``, not part of ``make test``)
and holds procflow's logs to what pm4py users do with a log they are given:

    procflow (.venv) simulates every example process, writing the same run as
    procflow CSV, XES, gzip XES and pm4py-column CSV;
    pm4py reads the XES with ``pm4py.read_xes`` and the CSV with
    ``pandas.read_csv`` + ``pm4py.format_dataframe`` -- their defaults, no
    column mapping -- and must find every case and every event (counted
    independently from procflow's own CSV), timestamps as tz-aware datetimes,
    start <= end, the lifecycle stages, the resources; and
    ``pm4py.discover_petri_net_inductive`` must discover a net whose token
    replay fits every trace (the inductive miner guarantees perfect fitness,
    so anything less means pm4py misread the log).

Usage (``make pm4py-check`` does this):
``.venv-pm4py/bin/python tests/interop/pm4py_check.py --procflow .venv/bin/procflow [PROCESS...]``.
pm4py is imported inside the functions, so that pytest's doctest collection
of ``tests/`` never needs it.
Exits 1 (with the failed checks) if any check fails.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def simulate(procflow: str, process: Path, log: Path, *extra: str) -> None:
    """One run of ``process`` with a fixed seed, its event log written to ``log``."""
    command = [procflow, "simulate", str(process), "--cases", "1000", "--runs", "1"]
    command += ["--seed", "3", "--jobs", "1", "--log", str(log), *extra]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def truth(log: Path) -> tuple[int, int, int]:
    """Cases, step visits and activities of procflow's own CSV log (stdlib only)."""
    with log.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return len({r["case"] for r in rows}), len(rows), len({r["step"] for r in rows})


def discover(log: Any, label: str, failures: list[str]) -> str:
    """Inductive miner on ``log``; its token-replay fitness must be perfect."""
    import pm4py

    net, initial, final = pm4py.discover_petri_net_inductive(log)
    fitness = pm4py.fitness_token_based_replay(log, net, initial, final)
    if fitness["perc_fit_traces"] != 100.0:
        failures.append(f"{label}: replay fits {fitness['perc_fit_traces']}% of traces")
    visible = sum(1 for t in net.transitions if t.label is not None)
    return (
        f"net {len(net.places)} places, {len(net.transitions)} transitions "
        f"({visible} visible), fitting traces {fitness['perc_fit_traces']:.0f}%"
    )


def check_xes(path: Path, cases: int, visits: int, failures: list[str]) -> str:
    import pandas as pd
    import pm4py

    frame = pm4py.read_xes(str(path))
    label = path.name
    found = (frame["case:concept:name"].nunique(), len(frame))
    if found != (cases, 2 * visits):
        failures.append(f"{label}: cases, events {found} != {(cases, 2 * visits)}")
    stages = frame["lifecycle:transition"].value_counts().to_dict()
    if stages != {"start": visits, "complete": visits}:
        failures.append(f"{label}: lifecycle stages {stages}")
    stamps = frame["time:timestamp"]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        failures.append(f"{label}: time:timestamp read as {stamps.dtype}, not tz-aware")
    if "org:resource" not in frame or frame["org:resource"].notna().sum() == 0:
        failures.append(f"{label}: no org:resource")
    return f"{label}: {found[0]} cases, {found[1]} events; " + discover(frame, label, failures)


def check_csv(path: Path, cases: int, visits: int, failures: list[str]) -> str:
    import pandas as pd
    import pm4py

    frame = pm4py.format_dataframe(pd.read_csv(path))  # pm4py's default column names
    label = path.name
    found = (frame["case:concept:name"].nunique(), len(frame))
    if found != (cases, visits):
        failures.append(f"{label}: cases, events {found} != {(cases, visits)}")
    start = pd.to_datetime(frame["start_timestamp"], format="ISO8601")
    if not (start <= frame["time:timestamp"]).all():
        failures.append(f"{label}: a start_timestamp after its time:timestamp")
    return f"{label}: {found[0]} cases, {found[1]} events; " + discover(frame, label, failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procflow", default=str(ROOT / ".venv" / "bin" / "procflow"))
    parser.add_argument("processes", nargs="*", type=Path)
    options = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")  # pm4py's progress bars
    import pm4py

    processes = options.processes or sorted((ROOT / "processes").glob("*.yaml"))
    failures: list[str] = []
    print(f"pm4py {pm4py.__version__}; procflow: {options.procflow}")
    with tempfile.TemporaryDirectory() as folder:
        for process in processes:
            out = Path(folder) / process.stem
            out.mkdir()
            simulate(options.procflow, process, out / "events.csv")
            simulate(options.procflow, process, out / "events.xes")
            simulate(options.procflow, process, out / "events.xes.gz")
            simulate(options.procflow, process, out / "pm4py.csv", "--log-columns", "pm4py")
            cases, visits, activities = truth(out / "events.csv")
            print(f"{process.name}: {cases} cases, {visits} visits, {activities} activities")
            for name in ("events.xes", "events.xes.gz"):
                print("  " + check_xes(out / name, cases, visits, failures))
            print("  " + check_csv(out / "pm4py.csv", cases, visits, failures))
    for failure in failures:
        print(f"FAILED {failure}")
    print("pm4py check:", "FAILED" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
