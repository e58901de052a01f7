"""Stale-sync replay (driftkit.causes.stale_detectors._moves): the events of some keys replayed
alone equal the same events' rows of the replay of every event."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.causes.context import APPLIED_AT, AttributionRules, _Context
from driftkit.causes.stale_detectors import _moves
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift.align import Grid
from driftkit.schema import SystemKind


def _context() -> _Context:
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "erp": SystemConfig("erp", SystemKind.ERP),
    }
    config = ClientConfig(id="t", root=Path("."), name="t", authority="wms", systems=systems)
    keys = pd.DataFrame({"sku": ["A"], "location": ["main"]})
    grid = Grid(
        keys, ("wms", "erp"), pd.date_range("2026-09-01", periods=1), np.zeros((2, 1, 1)), "wms"
    )
    counts, catalog = schema.empty("counts"), schema.empty("catalog")
    return _Context(config, grid, pd.DataFrame(), counts, catalog, AttributionRules())


def _events(seed: int, n: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    at = pd.Timestamp("2026-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 50, n), unit="h")
    frame = pd.DataFrame(
        {
            "system": pd.Series(rng.choice(["wms", "erp"], n), dtype="str"),
            "sku": pd.Series(rng.choice(["A", "B", "C"], n), dtype="str"),
            "location": pd.Series("main", index=range(n), dtype="str"),
            APPLIED_AT: pd.Series(at).where(rng.random(n) > 0.05),  # a few NaT
            "qty_delta": rng.integers(-5, 6, n).astype(float),
            "commit_delta": np.nan,
        }
    )
    key = pd.factorize(frame["system"] + "|" + frame["sku"])[0].astype(np.int64)
    return frame, key


def test_moves_by_hand() -> None:
    at = pd.to_datetime(["2026-09-01 02:00", "2026-09-01 01:00", "2026-09-01 03:00"], utc=True)
    frame = pd.DataFrame(
        {
            "system": pd.Series(["wms"] * 3, dtype="str"),
            "sku": pd.Series(["A", "B", "A"], dtype="str"),
            "location": pd.Series(["main"] * 3, dtype="str"),
            APPLIED_AT: at,
            "qty_delta": [2.0, 7.0, -1.0],
            "commit_delta": np.nan,
        }
    )
    got = _moves(frame, _context(), np.array([0, 1, 0]), np.array([0, 2]))
    assert got.index.tolist() == [0, 2] and got["moved"].tolist() == [2.0, 1.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_moves_of_some_keys_equal_those_rows_of_every_key(seed: int) -> None:
    frame, key = _events(seed)
    ctx = _context()
    every = _moves(frame, ctx, key, np.arange(len(frame)))
    rows = np.flatnonzero(np.isin(key, [0, 2]))
    some = _moves(frame, ctx, key, rows)
    pd.testing.assert_frame_equal(some, every.loc[every["key"].isin([0, 2])])
