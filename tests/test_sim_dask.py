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
