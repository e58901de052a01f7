"""Where partitioned work runs (DESIGN §12): in this process, a local process pool, or Dask.

:func:`mapper` hands :mod:`driftkit.scale.partition` one way to run a function over a list of
argument tuples: serially, on a ``concurrent.futures`` process pool (``--engine pandas
--jobs N``) or as tasks on ``dask.distributed`` (``--engine dask``): a LocalCluster by
default, or the scheduler at ``--scheduler tcp://host:8786``.  Tasks receive paths and
small plans, never data frames, so each worker reads its own bucket from Parquet.

:func:`run_batch_on_cluster` dispatches one task per client folder with the per-client
function it is given (the batch runner passes :func:`driftkit.batch.audit_client`, which never
raises: a failing client is a failed result, never a failed batch); a task lost with its worker
becomes a failed result too, built by the ``lost`` function it is given.  Nothing here imports
the batch runner.  Operating a cluster: ``docs/scale.md``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from driftkit.errors import ConfigError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

ENGINES = ("pandas", "dask")
RETRIES = 2  # a task whose worker died is run again this many times

#: Runs ``function(*args)`` for every tuple of ``items`` and returns the results in order.
Mapper = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]

Options = TypeVar("Options")
Result = TypeVar("Result")


def _serial(function: Callable[..., Any], items: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [function(*args) for args in items]


@contextmanager
def mapper(
    engine: str = "pandas", *, jobs: int | None = None, scheduler: str | None = None
) -> Iterator[Mapper]:
    """A :data:`Mapper` for ``engine``, open for the duration of the ``with`` block.

    Parameters
    ----------
    engine
        ``"pandas"``: a local process pool of ``jobs`` processes (this process when
        ``jobs`` is 1); ``"dask"``: tasks on ``dask.distributed``.
    jobs
        Pool size (pandas) or LocalCluster workers (dask); default the number of cores.
    scheduler
        Address of a running Dask scheduler (dask only); default a new LocalCluster.
    """
    if engine not in ENGINES:
        raise ConfigError(f"--engine {engine!r} is not known; use one of {list(ENGINES)}")
    if scheduler and engine != "dask":
        raise ConfigError("--scheduler needs --engine dask; add --engine dask")
    if engine == "dask":
        with connect(scheduler, workers=jobs) as client:
            yield lambda function, items: dask_map(client, function, items)
    elif (jobs or os.cpu_count() or 1) == 1:
        yield _serial
    else:
        with ProcessPoolExecutor(max_workers=jobs or os.cpu_count()) as pool:
            yield lambda function, items: list(pool.map(function, *zip(*items, strict=True)))


@contextmanager
def connect(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    threads: int = 1,
    processes: bool = True,
    timeout: str = "10s",
) -> Iterator[Client]:
    """A ``dask.distributed`` client: of the scheduler at ``scheduler``, else of a new
    LocalCluster with ``workers`` × ``threads`` (closed again at the end of the block).

    Parameters
    ----------
    scheduler
        ``tcp://host:8786`` of a running ``dask scheduler``; its workers must have
        driftkit installed and see the same paths (shared or identical file system).
    workers, threads, processes
        LocalCluster shape; default one single-threaded worker process per core.
    timeout
        How long to wait for the scheduler at ``scheduler`` to answer.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except OSError as exc:
            raise ConfigError(
                f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); start one "
                "with `dask scheduler` and workers with `dask worker tcp://HOST:8786`"
            ) from exc
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=threads,
            processes=processes,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def dask_map(
    client: Client,
    function: Callable[..., Any],
    items: Sequence[tuple[Any, ...]],
    *,
    retries: int = RETRIES,
) -> list[Any]:
    """Run ``function(*args)`` for every tuple of ``items`` as Dask tasks; results in order.

    A task whose worker dies is retried ``retries`` times; an exception raised by
    ``function`` is raised here (partition tasks) — batch tasks never raise.  Results are
    fetched as tasks finish and released at once, so a worker never keeps a pile of finished
    bucket results in its memory (it did: 5 GB per worker at 1M SKUs, docs/scale.md).
    """
    from distributed import as_completed

    if not items:
        return []
    columns = [list(column) for column in zip(*items, strict=True)]
    futures = client.map(function, *columns, pure=False, retries=retries)
    position = {future.key: n for n, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    for future in as_completed(futures):
        results[position[future.key]] = future.result()
        future.release()
    return results


def run_batch_on_cluster(
    dirs: Sequence[Path],
    options: Options,
    audit: Callable[[Path, Options], Result],
    lost: Callable[[Path, BaseException], Result],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = RETRIES,
) -> list[Result]:
    """Run ``audit(client_dir, options)`` for every client as one Dask task each.

    Parameters
    ----------
    dirs
        Client folders; the tasks receive them as absolute paths.
    options
        Passed to every task unchanged; paths in it must be ones every worker can use
        (absolute, on a shared file system on a multi-host cluster).
    audit
        The per-client function (picklable, e.g. a module-level function); it should never
        raise: its failures are results (:func:`driftkit.batch.audit_client`).
    lost
        Builds the result of a client whose task was lost (its worker died ``retries`` + 1
        times) from the client folder and the exception.
    scheduler
        Address of a running Dask scheduler; default a LocalCluster of ``workers``.
    retries
        Times a client is re-run when its worker dies mid-run.

    Returns
    -------
    list
        One result per client, sorted by client folder name.
    """
    absolute = sorted((Path(d).resolve() for d in dirs), key=lambda folder: folder.name)
    with connect(scheduler, workers=workers) as client:
        futures = client.map(
            audit, absolute, [options] * len(absolute), pure=False, retries=retries
        )
        return [
            _settled(future, folder, lost) for future, folder in zip(futures, absolute, strict=True)
        ]


def _settled(future: Any, folder: Path, lost: Callable[[Path, BaseException], Result]) -> Result:
    """The task's result, or ``lost(folder, exc)`` when the task itself was lost."""
    try:
        result: Result = future.result()
    except Exception as exc:  # a lost worker or task must not stop the batch
        return lost(folder, exc)
    return result
