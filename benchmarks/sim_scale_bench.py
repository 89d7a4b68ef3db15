"""How long and how much memory does ``procflow simulate`` need on a 5,000-step process?

Issue 11 (scale): a 5,000-step process must simulate 10 cases in under 2 s and
300 MB. Set-up must be linear in the steps (no fixed-point loops over every
step, no per-refill sums over every step's buffer) and memory proportional to
what a run uses (draw blocks that start small and grow), so a short run of a
huge process costs little.

The workload is one generated process of ``--steps`` steps (default 5,000)
in stages of ten: 40 staffed owners and an external one, distributions of
every kind, a branch that skips a step in every stage, a rework loop at the
end of every stage (two in three bounded with ``max``), and a nested
bounded inner loop in every fourth stage.

It runs the whole command ``procflow simulate FILE --cases N`` (text report,
default runs) and ``... --runs 1 --format json`` in fresh subprocesses (with
procflow's bytecode compiled, as installed: :func:`installed_environment`) and
reports wall time, CPU time and peak resident memory of each -- start-up,
loading, linting, analysis and output included -- beside the targets, plus,
in this process, the time of :func:`procflow.sim.plan.compile_process` alone
and of one replication.

Targets: 10 cases under 2 s and 300 MB. Exit status 1 when one is missed.
``--repeat N`` runs each command N times and reports the fastest (wall) of
them, for a machine that other work shares (the load is printed).

Run: ``python benchmarks/sim_scale_bench.py [--steps 5000] [--cases 10] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from _timing import timed

DURATIONS = (
    "exponential(6m)",
    "lognormal(4m, 2m)",
    "triangular(20m, 40m, 90m)",
    "uniform(2m, 10m)",
    "5m",
    "gamma(10m, 4m)",
    "normal(10m, 2m)",
    "empirical(3m, 5m, 8m)",
)
TARGET_SECONDS = 2.0
TARGET_MB = 300.0


def process_text(steps: int, owners: int = 40) -> str:
    """A sound process of ``steps`` steps in stages of ten, each with a rework loop."""
    roles = [f"role-{k:02d}" for k in range(owners)]
    out = ["process: sim-scale-bench", "owners:"]
    out += [f"  {role}: {{capacity: {3 + k % 5}}}" for k, role in enumerate(roles)]
    out += ["  customer: {external: true}", "arrivals: {rate: 4/h}", "start: s0000", "steps:"]
    last = steps - 1

    def sid(i: int) -> str:
        return f"s{i:05d}"

    out[-2] = "start: s00000"
    for i in range(steps):
        out.append(f"  {sid(i)}:")
        if i == last:
            out.append("    end: true")
            break
        owner = "customer" if i % 13 == 12 else roles[i % owners]
        out.append(f"    owner: {owner}")
        out.append(f"    duration: {DURATIONS[i % len(DURATIONS)]}")
        stage, place = divmod(i, 10)
        if place == 9:  # end of a stage: rework back to its start
            bound = ("", ", max: 2", ", max: 3")[stage % 3]
            out.append("    on:")
            out.append(f"      ok: {{to: {sid(i + 1)}, p: 0.9}}")
            out.append(f"      rework: {{to: {sid(i - 9)}, p: 0.1, feedback: true{bound}}}")
        elif place == 6 and stage % 4 == 0:  # a nested inner loop
            out.append("    on:")
            out.append(f"      ok: {{to: {sid(i + 1)}, p: 0.8}}")
            out.append(f"      recheck: {{to: {sid(i - 2)}, p: 0.2, feedback: true, max: 1}}")
        elif place == 3 and i + 2 <= last:  # a branch that skips a step
            out.append("    on:")
            out.append(f"      simple: {{to: {sid(i + 1)}, p: 0.6}}")
            out.append(f"      complex: {{to: {sid(i + 2)}, p: 0.4}}")
        else:
            out.append(f"    next: {sid(i + 1)}")
    return "\n".join(out) + "\n"


def installed_environment() -> dict[str, str]:
    """The environment of the timed commands: procflow's bytecode compiled and used, as
    an installed procflow has it (pip compiles a wheel's modules when it installs them).

    An environment with ``PYTHONDONTWRITEBYTECODE`` set (some CI and sandboxes) makes
    every command compile procflow's modules from source again -- 0.3-0.5 s that no
    user's start-up pays -- so the children run without it, after the package has been
    compiled once here (into its ``__pycache__`` folders, as any run of it would).
    """
    import compileall

    import procflow

    compileall.compile_dir(Path(procflow.__file__).parent, quiet=1)
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def command(path: Path, *options: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of ``procflow simulate PATH OPTIONS``.

    The whole command in a fresh interpreter (``python -m procflow``): start-up,
    loading, linting, analysis, simulation and the report written to a pipe.
    CPU and peak memory are the child's own and its workers' (:func:`os.wait4`);
    the report goes to ``/dev/null`` (not a terminal: plain text, as when piped).
    """
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "procflow", "simulate", str(path), *options],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"simulate failed ({child.returncode}):\n{errors.read()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def in_process(path: Path, cases: int) -> tuple[float, float]:
    """Seconds to compile the plan and to run one replication, in this process."""
    from procflow.loader import load
    from procflow.sim.engine import run_replication
    from procflow.sim.plan import compile_process

    process = load(path)
    plan, compiled = timed(partial(compile_process, process))
    _, replication = timed(partial(run_replication, plan, 0, 1, cases, 0))
    return compiled, replication


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (fastest)")
    args = parser.parse_args()
    commands = {
        f"procflow simulate FILE --cases {args.cases}": ("--cases", str(args.cases)),
        f"... --cases {args.cases} --runs 1 --format json": (
            *("--cases", str(args.cases), "--runs", "1", "--seed", "1", "--format", "json"),
        ),
    }
    measured: dict[str, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.yaml"
        path.write_text(process_text(args.steps), encoding="utf-8")
        env = installed_environment()
        for name, options in commands.items():
            runs = [command(path, *options, env=env) for _ in range(max(args.repeat, 1))]
            measured[name] = min(runs)
        compiled, replication = in_process(path, args.cases)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    repeat = f", fastest of {args.repeat}" if args.repeat > 1 else ""
    print(
        f"{args.steps:,} steps, whole command in a subprocess{repeat} "
        f"(load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)"
    )
    print(f"  {'command':<44} {'wall':>7} {'CPU':>7} {'peak':>8}")
    for name, (wall, cpu, megabytes) in measured.items():
        print(f"  {name:<44} {wall:6.2f}s {cpu:6.2f}s {megabytes:5.0f} MB")
    print(f"  {'target':<44} {TARGET_SECONDS:6.2f}s {'':>7} {TARGET_MB:5.0f} MB")
    print(f"  compile_process alone: {compiled:.2f} s")
    print(
        f"  one replication of {args.cases} cases alone: {replication:.2f} s"
        f" (this process: {own:.0f} MB)"
    )
    wall, cpu, megabytes = next(iter(measured.values()))
    ok = wall < TARGET_SECONDS and megabytes < TARGET_MB
    verdict = "met" if ok else "MISSED"
    print(f"target (the first command): under {TARGET_SECONDS:g} s and {TARGET_MB:g} MB: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
