"""Which side's roll-forward checked an episode's start (driftkit.causes.checked), by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.causes.checked import GRID_KEY, grid_keys, keyed_episodes, unchecked
from driftkit.causes.context import AttributionRules, _Context
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift.align import Grid
from driftkit.schema import SystemKind

DAYS = pd.date_range("2026-09-01", periods=5, freq="D")


def _context(fed: frozenset[str], residual_days: dict[str, list[int]]) -> _Context:
    """wms and shop on one key: equal on days 0–1, apart from day 2 on; ``residual_days``
    lists the days each system has a roll-forward residual row."""
    nan = np.nan
    values = np.array([[[5.0, 5.0, 8.0, 8.0, 8.0]], [[5.0, 5.0, 5.0, 5.0, nan]]])
    grid = Grid(
        pd.DataFrame({"sku": ["A"], "location": ["main"]}), ("wms", "shop"), DAYS, values, "wms"
    )
    rows = [(s, d) for s, days in residual_days.items() for d in days]
    residuals = pd.DataFrame(
        {
            "sku": ["A"] * len(rows),
            "location": ["main"] * len(rows),
            "system": [s for s, _ in rows],
            "day": DAYS[[d for _, d in rows]],
            "residual": 0.0,
        }
    )
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "shop": SystemConfig("shop", SystemKind.STOREFRONT),
    }
    config = ClientConfig(id="t", root=Path("."), name="t", authority="wms", systems=systems)
    empty = schema.empty("counts"), schema.empty("catalog")
    return _Context(config, grid, residuals, *empty, AttributionRules(), fed)


EPISODE = pd.DataFrame(
    {
        "sku": ["A"],
        "location": ["main"],
        "system": ["shop"],
        "counterpart": ["wms"],
        "start": DAYS[[2]],
    }
)


BOTH = frozenset({"wms", "shop"})


@pytest.mark.parametrize(
    ("fed", "days", "want"),
    [
        (BOTH, {"wms": [2], "shop": [2]}, [False, False]),
        (BOTH, {"wms": [2], "shop": [1, 3]}, [False, True]),
        (frozenset({"shop"}), {"wms": [2], "shop": [2]}, [True, False]),
        (frozenset(), {"wms": [2], "shop": [2]}, [True, True]),
    ],
    ids=["both-checked-day-2", "shop-misses-day-2", "wms-unfed", "none-fed-nothing-checked"],
)
def test_unchecked_by_hand(
    fed: frozenset[str], days: dict[str, list[int]], want: list[bool]
) -> None:
    ctx = _context(fed, days)
    got = [unchecked(EPISODE, side, ctx)[0] for side in ("counterpart", "system")]
    assert got == want


def test_episodes_carry_their_grid_key_and_residuals_their_cells() -> None:
    ctx = _context(BOTH, {"wms": [2, 4], "shop": [1]})
    episodes = pd.concat([EPISODE, EPISODE.assign(sku="Z")], ignore_index=True)
    keyed = keyed_episodes(episodes, ctx.grid)
    assert keyed[GRID_KEY].tolist() == [0, -1]  # Z is not on the grid
    assert grid_keys(keyed, ctx.grid).tolist() == grid_keys(episodes, ctx.grid).tolist()
    system, key, day = ctx.residual_cells
    assert (system.tolist(), key.tolist(), day.tolist()) == ([0, 0, 1], [0, 0, 0], [2, 4, 1])
    assert np.flatnonzero(ctx.residual_days[0, 0]).tolist() == [2, 4]
