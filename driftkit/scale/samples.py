"""The handoff samples as Parquet parts: latencies and record delays stay with the workers.

The handoff statistics (pass 2: each target's median latency, each system's p95 record
delay) and the handoff map (pass 3: each edge's p50 and p95 latency) are exact quantiles
over every delivery of the client.  A bucket writes its samples — one float per delivery —
as ``<parts>/samples/<name>/bucket=NN.parquet`` (columns ``group``, ``key``) and sends
back a :class:`StoredSamples` (the path and its groups); the driver selects the quantiles'
order statistics from the parts in a few streaming passes
(:mod:`driftkit.causes.quantiles`), holding bin counts and the values of a few bins, never
the samples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit.causes.attribute import AttributionPart
from driftkit.causes.handoffs import SampleParts, keyed_samples
from driftkit.causes.stats import StatsPart

SAMPLES = "samples"  # the folder of the stored samples under a run's parts
BATCH = 1 << 17  # values a pass reads at a time from each part


@dataclass(frozen=True)
class StoredSamples:
    """One bucket's samples of one statistic, stored: a
    :class:`~driftkit.causes.handoffs.StoredSamples`.

    Attributes
    ----------
    path
        The Parquet part: ``group`` (int32, the index of the group in ``keys``) and ``key``
        (uint64, the value as :func:`~driftkit.causes.quantiles.keyed` orders it; no NaN),
        in group order.
    keys
        The groups, as the in-memory :data:`~driftkit.causes.handoffs.Samples`' keys.
    """

    path: Path
    keys: tuple[tuple[str, ...], ...]

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The values, :data:`BATCH` at a time: ``(group codes, keys)``."""
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=BATCH):
            yield batch.column(0).to_numpy(), batch.column(1).to_numpy()


def store_samples(samples: SampleParts, folder: Path, name: str, bucket: int) -> StoredSamples:
    """Write one bucket's ``samples`` as ``<folder>/samples/<name>/bucket=NN.parquet``.

    Returns
    -------
    StoredSamples
        The part's path and groups.
    """
    if not isinstance(samples, dict):
        raise TypeError(f"{name}: bucket {bucket}'s samples are already stored")
    codes, sorted_keys = keyed_samples(samples)
    path = folder / SAMPLES / name / f"bucket={bucket:02d}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"group": codes.astype(np.int32), "key": sorted_keys})
    pq.write_table(table, path, use_dictionary=False, compression="none")  # read many times
    return StoredSamples(path, tuple(samples))


def stored_stats(part: StatsPart, folder: Path, bucket: int) -> StatsPart:
    """``part`` (pass 2) with its latency and delay samples stored under ``folder``."""
    return dataclasses.replace(
        part,
        latencies=store_samples(part.latencies, folder, "latencies", bucket),
        delays=store_samples(part.delays, folder, "delays", bucket),
    )


def stored_latency(part: AttributionPart, folder: Path, bucket: int) -> AttributionPart:
    """``part`` (pass 3) with its handoff map's latency samples stored under ``folder``."""
    latency = store_samples(part.edges.latency, folder, "edge_latency", bucket)
    return dataclasses.replace(part, edges=dataclasses.replace(part.edges, latency=latency))
