"""Tests of driftkit.scale.samples (and handoffs.sample_stat): quantiles of stored samples.

The partitioned audit's workers store their latency and delay samples as Parquet parts;
the driver's quantiles over those parts must be the floats pandas gives over the samples
concatenated, and the ones the in-memory parts give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.causes import quantiles
from driftkit.causes.handoffs import Samples, sample_stats
from driftkit.causes.quantiles import MEDIAN, unsortable
from driftkit.causes.stats import StatsPart, handoff_stats
from driftkit.scale.samples import StoredSamples, store_samples, stored_stats


def sample_stat(parts, names, stat, **options) -> pd.Series:
    return sample_stats(parts, names, [stat], **options)[0]


KEYS = [("erp", "receipt", "main"), ("erp", "sale", "main"), ("wms", "sale", "back")]


def bucket_samples(seed: int) -> Samples:
    """A bucket's samples: some groups missing, negative and tied values."""
    rng = np.random.default_rng(seed)
    kept = [key for key in KEYS if rng.random() < 0.8] or KEYS[:1]
    return {key: np.round(rng.normal(3, 4, int(rng.integers(1, 900))), 1) for key in kept}


def pandas_stats(parts: list[Samples], stat) -> pd.Series:
    """The old computation: each group's samples concatenated, then pandas."""
    keys = sorted({key for part in parts for key in part})
    pooled = {k: pd.Series(np.concatenate([p[k] for p in parts if k in p])) for k in keys}
    got = [s.median() if stat == MEDIAN else s.quantile(stat) for s in pooled.values()]
    return pd.Series(got, index=pd.MultiIndex.from_tuples(keys), dtype=float)


def test_stored_samples_read_back_as_written(tmp_path: Path) -> None:
    samples = bucket_samples(1)
    stored = store_samples(samples, tmp_path, "delays", 3)
    assert stored.path == tmp_path / "samples" / "delays" / "bucket=03.parquet"
    assert stored.keys == tuple(samples)
    group, keys = (np.concatenate(c) for c in zip(*stored.batches(), strict=True))
    values = unsortable(keys)
    for i, (key, expected) in enumerate(samples.items()):
        np.testing.assert_array_equal(values[group == i], expected, err_msg=str(key))


def test_storing_stored_samples_is_refused(tmp_path: Path) -> None:
    stored = store_samples(bucket_samples(1), tmp_path, "delays", 0)
    with pytest.raises(TypeError, match="already stored"):
        store_samples(stored, tmp_path, "delays", 0)


@pytest.mark.parametrize("stat", [MEDIAN, 0.5, 0.95], ids=str)
def test_quantiles_of_stored_parts_equal_pandas_over_the_pooled_samples(
    stat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("driftkit.scale.samples.BATCH", 100)  # many batches per part
    monkeypatch.setattr(quantiles, "COLLECT", 8)  # and several passes
    parts = [bucket_samples(seed) for seed in range(5)]
    stored = [store_samples(p, tmp_path, "latency", b) for b, p in enumerate(parts)]
    names = ["target", "family", "location"]
    expected = pandas_stats(parts, stat).rename_axis(names)
    pd.testing.assert_series_equal(sample_stat(stored, names, stat), expected, check_exact=True)
    pd.testing.assert_series_equal(sample_stat(parts, names, stat), expected, check_exact=True)
    mixed = [*stored[:2], *parts[2:]]
    pd.testing.assert_series_equal(sample_stat(mixed, names, stat), expected, check_exact=True)


def test_regrouped_samples_pool_into_their_new_group_and_drop_the_rest(tmp_path: Path) -> None:
    parts = [bucket_samples(seed) for seed in range(3)]
    stored = [store_samples(p, tmp_path, "latency", b) for b, p in enumerate(parts)]

    def family(key: tuple[str, ...]) -> tuple[str, ...] | None:
        return None if key[2] == "back" else key[:2]

    regrouped = [{family(k): v for k, v in p.items() if family(k)} for p in parts]
    expected = pandas_stats(regrouped, MEDIAN).rename_axis(["target", "family"])
    got = sample_stat(stored, ["target", "family"], MEDIAN, regroup=family)
    pd.testing.assert_series_equal(got, expected, check_exact=True)


def test_handoff_stats_of_stored_parts_equal_those_in_memory(tmp_path: Path) -> None:
    parts = []
    for seed in range(3):
        latencies = bucket_samples(seed)
        shares = pd.DataFrame(list(latencies), columns=["target", "family", "location"]).assign(
            received=9, deliveries=10, received_others=9, others=10
        )
        delays = {(k[0], "sale"): v for k, v in bucket_samples(seed + 10).items()}
        last = pd.Series({"erp": pd.Timestamp("2026-09-01", tz="UTC")})
        parts.append(StatsPart(shares, latencies, last, delays))
    stored = [stored_stats(p, tmp_path, b) for b, p in enumerate(parts)]
    assert all(isinstance(p.latencies, StoredSamples) for p in stored)
    memory, disk = handoff_stats(parts), handoff_stats(stored)
    assert len(memory.latency_p50) and len(memory.delay_p95)
    pd.testing.assert_series_equal(disk.latency_p50, memory.latency_p50, check_exact=True)
    pd.testing.assert_series_equal(disk.delay_p95, memory.delay_p95, check_exact=True)


def test_several_stats_in_one_selection_equal_each_alone(tmp_path: Path) -> None:
    parts = [bucket_samples(seed) for seed in range(4)]
    stored = [store_samples(p, tmp_path, "latency", b) for b, p in enumerate(parts)]
    names = ["target", "family", "location"]
    together = sample_stats(stored, names, [0.5, 0.95, MEDIAN])
    for stat, got in zip([0.5, 0.95, MEDIAN], together, strict=True):
        expected = pandas_stats(parts, stat).rename_axis(names)
        pd.testing.assert_series_equal(got, expected, check_exact=True)
