"""Tests of driftkit.drift.coverage's per-part facts: the names and holder counts taken from
the distinct (item, system) pairs equal the computation over every snapshot row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.drift import coverage
from driftkit.drift.coverage import SAMPLE, _Codes, _distinct


def _names_before(codes: _Codes, systems: list[str]) -> pd.DataFrame:
    """The computation ``_names`` replaced: every snapshot row coded again."""
    n = len(systems)
    located = _distinct(codes.location.astype(np.int64) * n + codes.system)
    rank = np.argsort(np.argsort(codes.skus.astype(str), kind="stable"), kind="stable")
    held = _distinct(codes.system * (len(codes.skus) + 1) + rank[codes.sku])
    sku_system, sku_rank = held // (len(codes.skus) + 1), held % (len(codes.skus) + 1)
    first = np.r_[True, sku_system[1:] != sku_system[:-1]] if len(held) else held.astype(bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(held)), 0))
    keep = np.arange(len(held)) - start < SAMPLE
    by_rank = np.empty(len(rank), dtype=object)
    by_rank[rank] = codes.skus
    names = np.asarray(systems, dtype=object)
    return pd.DataFrame(
        {
            "system": np.r_[names[located % n], names[sku_system[keep]]],
            "kind": ["location"] * len(located) + ["sku"] * int(keep.sum()),
            "name": np.r_[codes.locations[located // n], by_rank[sku_rank[keep]]],
        }
    ).astype("str")


def _holders_before(item: np.ndarray, system: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    pair = np.unique(item * n + system)
    item_of, system_of = pair // n, pair % n
    holders = np.bincount(item_of)[item_of]
    shared = np.bincount(system_of, weights=holders >= 2, minlength=n).astype(np.int64)
    return np.bincount(system_of, minlength=n), shared


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_names_and_holders_from_distinct_pairs_equal_the_row_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = 300
    snapshots = pd.DataFrame(
        {
            "system": pd.Series(rng.choice(["wms", "erp", "shop"], rows), dtype="str"),
            "sku": pd.Series([f"S{i}" for i in rng.integers(0, 40, rows)], dtype="str"),
            "location": pd.Series(
                rng.choice(["b", "a", "c"], rows, p=[0.5, 0.45, 0.05]), dtype="str"
            ),
        }
    )
    systems = ["wms", "shop", "erp", "tpl"]  # tpl: a grid system without snapshots here
    codes, n = _Codes.of(snapshots, systems), len(systems)
    sku_pairs = _distinct(codes.sku * n + codes.system)
    key_pairs = _distinct(codes.key * n + codes.system)
    found = coverage._names(codes, systems, sku_pairs, key_pairs)
    pd.testing.assert_frame_equal(found, _names_before(codes, systems))
    assert set(found.loc[found["kind"] == "location", "name"]) == {"a", "b", "c"}
    for pair, item in ((sku_pairs, codes.sku), (key_pairs, codes.key)):
        held, shared = coverage._holders(pair, n)
        before = _holders_before(item, codes.system, n)
        assert held.tolist() == before[0].tolist() and shared.tolist() == before[1].tolist()
    assert coverage._holders(sku_pairs, n)[0][3] == 0  # tpl holds nothing
