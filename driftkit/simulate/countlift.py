"""Count-list lift on the simulator: the count list vs random and the standard rules.

:func:`measure_lift` simulates ``faults="default"`` stacks, audits each (align, compare,
attribute, impact) and counts in the top N of each ranking the keys whose record differs
from the true physical stock on the last day (:func:`driftkit.impact.lift.discrepant_keys`),
against random selection (lift = precision ÷ prevalence), the velocity-only ranking and the
standard cycle-count rules (:func:`driftkit.impact.lift.rule_rankings`).
``python -m driftkit.simulate.countlift`` prints the table (``make accuracy``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.drift.compare import compare
from driftkit.impact import lift
from driftkit.impact.estimate import estimate_impact
from driftkit.load.client import ClientData
from driftkit.schema import (
    KIND,
    LOCATION,
    PACK_SIZE,
    QTY_DELTA,
    SELLING_KINDS,
    SKU,
    SYSTEM,
    UNIT_COST,
    Cause,
    EventKind,
)
from driftkit.simulate.score import attribute_data, client_data
from driftkit.simulate.simulation import simulate

ADJUSTING = (str(EventKind.ADJUSTMENT), str(EventKind.COUNT))


def seed_lift(
    seed: int,
    workdir: Path,
    *,
    skus: int,
    days: int,
    top_n: tuple[int, ...],
    faults: str = "default",
) -> pd.DataFrame:
    """Lift of every policy on one simulated stack.

    Returns
    -------
    pandas.DataFrame
        ``seed, target, top_n, policy, hits, precision, prevalence, lift``; ``target`` is
        ``discrepant`` (a record differs from physical stock) or ``unknown_out_of_stock``
        (the shelf is empty while the authority or a selling system shows stock).
    """
    sim = simulate(workdir / f"lift-{seed}", skus=skus, days=days, seed=seed, faults=faults)
    data = client_data(sim)
    attribution, grid = attribute_data(data)
    impact = estimate_impact(
        data, grid, compare(grid, data.config, data.catalog), attribution, data.config
    )
    rate = impact.per_key["demand_rate"].to_numpy()
    rankings = {
        "count_list": impact.count_list,
        "velocity": lift.velocity_ranking(grid.keys, rate),
        **lift.rule_rankings(grid.keys, rate, *_rule_inputs(data, grid)),
    }
    truths = {
        "discrepant": lift.discrepant_keys(grid.values, grid.keys, grid.days, sim.physical),
        "discrepant_in_eaches": lift.discrepant_keys(
            _in_eaches(grid, sim.ground_truth, data.catalog), grid.keys, grid.days, sim.physical
        ).rename(columns={"discrepant": "discrepant_in_eaches"}),
        "unknown_out_of_stock": lift.unknown_out_of_stock_keys(
            grid.values[_relied_on(data, grid)], grid.keys, grid.days, sim.physical
        ),
    }
    tables = [
        lift.count_list_lift(rankings, truth, top_n=top_n, target=name).assign(target=name)
        for name, truth in truths.items()
    ]
    return pd.concat(tables, ignore_index=True).assign(seed=seed)


def _in_eaches(grid: Grid, truth: pd.DataFrame, catalog: pd.DataFrame) -> np.ndarray:
    """``grid.values`` with each record the simulator keeps in packs (a ``unit_mismatch``
    fault in its ground truth) × the SKU's pack size: a count finds its units right."""
    faults = truth[truth["cause"] == str(Cause.UNIT_MISMATCH)].drop_duplicates(
        [SYSTEM, SKU, LOCATION]
    )
    key = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).get_indexer(
        pd.MultiIndex.from_frame(faults[[SKU, LOCATION]])
    )
    system = pd.Index(grid.systems).get_indexer(pd.Index(faults[SYSTEM]))
    pack = faults[SKU].map(catalog.drop_duplicates(SKU).set_index(SKU)[PACK_SIZE])
    hit = (key >= 0) & (system >= 0)
    values = grid.values.copy()
    values[system[hit], key[hit]] *= pack.to_numpy(dtype=float)[hit][:, None]
    return values


def _relied_on(data: ClientData, grid: Grid) -> list[int]:
    """Rows of the records a shelf is believed from: the authority and the selling systems."""
    kinds = {name: system.kind for name, system in data.config.systems.items()}
    return [
        i
        for i, name in enumerate(grid.systems)
        if name == grid.authority or kinds.get(name) in SELLING_KINDS
    ]


def _rule_inputs(data: ClientData, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit cost, the authority's last-day record and |adjustments| per grid key."""
    where = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]])
    cost = grid.keys[SKU].map(data.catalog.drop_duplicates(SKU).set_index(SKU)[UNIT_COST])
    last = grid.values[grid.systems.index(grid.authority), :, -1]
    events = data.events[
        data.events[KIND].isin(ADJUSTING) & (data.events[SYSTEM] == grid.authority)
    ]
    size = events[QTY_DELTA].abs().fillna(1.0).groupby([events[SKU], events[LOCATION]]).sum()
    adjusted = size.reindex(where).fillna(0.0).to_numpy()
    return cost.to_numpy(dtype=float), last, adjusted


def measure_lift(
    seeds: tuple[int, ...] = (1, 2, 3),
    *,
    skus: int = 400,
    days: int = 30,
    top_n: tuple[int, ...] = (25, 50, 100),
    faults: str = "default",
) -> pd.DataFrame:
    """:func:`seed_lift` over ``seeds``, concatenated."""
    with tempfile.TemporaryDirectory(prefix="driftkit-lift-") as tmp:
        tables = [
            seed_lift(s, Path(tmp), skus=skus, days=days, top_n=top_n, faults=faults) for s in seeds
        ]
    return pd.concat(tables, ignore_index=True)


#: Unknown out-of-stocks are rare on the simulator (≈ 1 key in 800 on the last day at
#: faults=high): they are scored on a larger, faultier stack, over eight seeds, and also at
#: longer lists (a few cases per seed cannot show a lift at N = 25).
OUT_OF_STOCK_RUN = {
    "seeds": tuple(range(1, 9)),
    "skus": 2000,
    "days": 30,
    "faults": "high",
    "top_n": (25, 50, 100, 250, 500),
}


def main() -> None:
    """Print lift per seed, N and policy (``python -m driftkit.simulate.countlift``)."""
    out = sys.stdout
    discrepancies = {"seeds": (1, 2, 3), "skus": 400, "days": 30, "faults": "default"}
    runs = {
        "discrepant": ("true discrepancies", discrepancies),
        "discrepant_in_eaches": (
            "true discrepancies, a record in packs taken in eaches",
            discrepancies,
        ),
        "unknown_out_of_stock": (
            "unknown out-of-stocks: shelf empty, a record shows stock",
            OUT_OF_STOCK_RUN,
        ),
    }
    measured: dict[str, pd.DataFrame] = {}
    for target, (title, run) in runs.items():
        key = repr(run)
        if key not in measured:
            measured[key] = measure_lift(**run)  # type: ignore[arg-type]
        part = measured[key][measured[key]["target"] == target]
        size = f"faults={run['faults']}, {run['skus']} SKUs × {run['days']} days"
        out.write(f"Count-list lift ({title}; in the top N ÷ random), {size}\n")
        for value in ("lift", "hits"):
            wide = part.pivot_table(index=["seed", "top_n"], columns="policy", values=value)
            out.write(f"{value}:\n" + wide.to_string(float_format="{:.2f}".format) + "\n")
        prevalence = part.groupby("seed")["prevalence"].first()
        out.write("prevalence per seed: " + prevalence.round(4).to_string() + "\n")
        pooled = part.pivot_table(index="top_n", columns="policy", values="hits", aggfunc="sum")
        out.write("hits summed over seeds:\n" + pooled.to_string(float_format="{:.2f}".format))
        out.write("\n\n")


if __name__ == "__main__":
    main()
