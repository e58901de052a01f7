"""scale.merge: how the driver puts the buckets' tables together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.drift.align import align
from driftkit.drift.pairs import COUNTERPART, system_pairs
from driftkit.scale.merge import pair_ranks
from tests.test_impact import make_config, make_snapshots


@pytest.fixture(scope="module")
def grid():
    stock = [[5.0] * 3] * 2
    return align(make_snapshots({"wms": stock, "erp": stock, "shop": stock}), make_config())


@pytest.mark.parametrize("seed", range(4))
def test_pair_ranks_are_each_pairs_position_in_system_pairs(grid, seed: int) -> None:
    """The ranks by cached codes equal a lookup of every row's (system, counterpart) text."""
    pairs = [(grid.systems[p.system], grid.systems[p.counterpart]) for p in system_pairs(grid)]
    picked = np.random.default_rng(seed).integers(0, len(pairs), 50 * seed)
    episodes = pd.DataFrame(
        {
            "system": pd.Series([pairs[i][0] for i in picked], dtype="str"),
            COUNTERPART: pd.Series([pairs[i][1] for i in picked], dtype="str"),
        }
    )
    index = pd.MultiIndex.from_frame(episodes[["system", COUNTERPART]])
    expected = index.map({pair: i for i, pair in enumerate(pairs)}).to_numpy(dtype=np.int64)
    assert pair_ranks(grid, episodes).tolist() == expected.tolist()
