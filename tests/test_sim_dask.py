"""Runs sent to a Dask cluster give the same results as local ones (skipped without dask)."""

from __future__ import annotations

import pytest

from helpers import CUSTOMER_SERVICE, ROOT
from procflow.loader import load
from procflow.sim import simulate

distributed = pytest.importorskip("distributed")


def test_a_local_dask_cluster_gives_identical_results() -> None:
    process = load(ROOT / "tests" / "fixtures" / "sim" / "loops.yaml")
    local = simulate(process, cases=800, runs=3, seed=3, jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        by_address = simulate(
            process, cases=800, runs=3, seed=3, scheduler=cluster.scheduler_address
        )
        by_client = simulate(process, cases=800, runs=3, seed=3, scheduler=client)
    assert by_address.to_json() == local.to_json()
    assert by_client.to_json() == local.to_json()


def test_an_unreachable_scheduler_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from procflow.errors import ConfigError
    from procflow.sim import runner

    monkeypatch.setattr(runner, "DASK_TIMEOUT", "1s")
    process = load(CUSTOMER_SERVICE)
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        simulate(process, cases=100, runs=2, scheduler="tcp://127.0.0.1:9")


def test_an_address_that_is_not_a_dask_scheduler_fails_within_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A port that accepts connections and never answers the handshake: once a hang."""
    import socket
    import time

    from procflow.errors import ConfigError
    from procflow.sim import runner

    monkeypatch.setattr(runner, "CONNECT_SECONDS", 2.0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    port = silent.getsockname()[1]
    started = time.monotonic()
    try:
        with pytest.raises(ConfigError, match="did not answer within 2 s"):
            simulate(load(CUSTOMER_SERVICE), cases=100, runs=2, scheduler=f"tcp://127.0.0.1:{port}")
    finally:
        silent.close()
    assert time.monotonic() - started < 30.0  # the deadline, not for ever


def _no_procflow() -> tuple[str, str]:
    raise ModuleNotFoundError("No module named 'procflow'")


def _never_answers() -> tuple[str, str]:
    import time

    time.sleep(30)
    return ("0", "0")


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (_no_procflow, r"cannot run procflow \(ModuleNotFoundError: No module named 'procflow'\)"),
        (lambda: ("0.0.1", "1.0"), "has procflow 0.0.1 and numpy 1.0"),
        (_never_answers, "has no worker that answers"),
    ],
)
def test_workers_that_cannot_run_procflow_are_refused_before_any_run(
    monkeypatch: pytest.MonkeyPatch, check: object, message: str
) -> None:
    """A worker without procflow (or another version) once left the runs waiting for ever."""
    from procflow.errors import ConfigError
    from procflow.sim import runner

    monkeypatch.setattr(runner, "WORKER_SECONDS", 3.0)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        monkeypatch.setattr(runner, "worker_versions", check)
        with pytest.raises(ConfigError, match=message):
            simulate(load(CUSTOMER_SERVICE), cases=100, runs=2, scheduler=client)
