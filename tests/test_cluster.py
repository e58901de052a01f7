"""Engines and cluster dispatch: ordered maps, errors, batch audits as Dask tasks.

The batch test runs ``audit_client`` (without HTML, so no papermill) for a good and a
broken client on an in-process LocalCluster: the broken one fails alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from driftkit.batch import AuditOptions
from driftkit.cluster import connect, dask_map, mapper, run_batch_on_cluster
from driftkit.errors import ConfigError
from tests.audit_clients import simulate_small, write_broken_client


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A small in-process LocalCluster (threads, no worker processes)."""
    with connect(workers=2, processes=False) as dask_client:
        yield dask_client


def _fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError("three is refused")
    return value * 10


@pytest.mark.parametrize("items", [[(7, 2), (9, 4), (1, 5)], []], ids=["three-tasks", "no-tasks"])
def test_dask_map_keeps_the_order_of_items(client: Client, items: list[tuple[int, int]]) -> None:
    assert dask_map(client, divmod, items) == [divmod(a, b) for a, b in items]


def test_dask_map_raises_the_task_error(client: Client) -> None:
    with pytest.raises(ValueError, match="three is refused"):
        dask_map(client, _fail_on_three, [(1,), (3,)], retries=0)


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "pool"])
def test_pandas_mapper_keeps_the_order_of_items(jobs: int) -> None:
    items = [(17, 5), (4, 3), (9, 9)]
    with mapper("pandas", jobs=jobs) as run:
        assert run(divmod, items) == [divmod(a, b) for a, b in items]


def test_an_unreachable_scheduler_is_a_config_error() -> None:
    with (
        pytest.raises(ConfigError, match="dask scheduler"),
        connect("tcp://127.0.0.1:9", timeout="1s"),
    ):
        pass


def test_batch_on_cluster_isolates_a_failing_client(client: Client, tmp_path: Path) -> None:
    good = simulate_small(tmp_path / "clients" / "good", skus=12, days=6)
    broken = write_broken_client(tmp_path / "clients" / "broken")
    options = AuditOptions(out=tmp_path / "reports", html=False)
    results = run_batch_on_cluster(
        [good, broken], options, scheduler=client.scheduler.address, retries=0
    )
    assert [r.client for r in results] == ["broken", "good"]
    failed, done = results
    assert not failed.ok and failed.step and "missing.csv" in failed.error
    assert done.ok and done.run_dir is not None
    summary = json.loads((done.run_dir / "summary.json").read_text())
    assert summary["client"] == "good" and summary["compared_cells"] > 0
