"""Engines and cluster dispatch: ordered maps, errors, batch audits as Dask tasks.

The batch tests run ``audit_client`` for a good and a broken client on an in-process
LocalCluster, without HTML and with it (``driftkit audit --all DIR --scheduler ADDRESS``:
papermill on the workers, the report whole or bucket by bucket): the broken one fails alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from driftkit import batch, cli
from driftkit.batch import AuditOptions, audit_client
from driftkit.errors import ConfigError
from driftkit.scale.cluster import connect, dask_map, mapper, run_batch_on_cluster
from tests.audit_clients import simulate_small, write_broken_client, write_markup_client


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
        [good, broken],
        options,
        audit_client,
        batch._lost,
        scheduler=client.scheduler.address,
        retries=0,
    )
    assert [r.client for r in results] == ["broken", "good"]
    failed, done = results
    assert not failed.ok and failed.step and "missing.csv" in failed.error
    assert done.ok and done.run_dir is not None
    summary = json.loads((done.run_dir / "summary.json").read_text())
    assert summary["client"] == "good" and summary["compared_cells"] > 0


@pytest.mark.parametrize(
    "engine", [[], ["--engine", "pandas", "--jobs", "1"]], ids=["whole", "partitioned"]
)
def test_html_batch_on_cluster_isolates_a_failing_client(
    client: Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the workers are threads here: ingests go to tmp_path/data
    clients, out = tmp_path / "clients", tmp_path / "reports"
    write_markup_client(clients / "good")
    write_broken_client(clients / "broken")
    address = client.scheduler.address
    code = cli.main(
        ["audit", "--all", str(clients), "--out", str(out), "--scheduler", address, *engine]
    )
    printed, errors = capsys.readouterr()
    assert code == 1
    assert printed.startswith("good: ok in ") and "index of reports" in printed
    (line,) = errors.strip().splitlines()
    assert line.startswith("broken: FAILED at notebook cell ") and "missing.csv" in line, line
    (run,) = (out / "good").glob("????-??-??")
    report = (run / "drift_audit.html").read_text(encoding="utf-8")
    assert 'id="drilldown-1"' in report and "Markup &lt;i&gt;Test&lt;/i&gt; &amp; Co" in report
    assert (out / "broken" / "failed" / "drift_audit.ipynb").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="good/{run.name}/drift_audit.html"' in index and "missing.csv" in index
    assert (tmp_path / "data" / "processed" / "good").is_dir() == bool(engine)
