"""Merging the parts' tables into the client's (DESIGN §12): one function per table.

Counts and sums add, rates are Σ numerator ÷ Σ denominator, per-key tables are
concatenated in key order (sku, location: ``align``'s key codes), episodes in system-pair
order.  With one part each merge returns that part's table as is.  Attribution and impact
merge their own parts (:func:`driftkit.causes.attribute.attribution_from_parts`,
:func:`driftkit.impact.parts.impact_from_parts`: per-key impact tables in key order, the
count list re-ranked over all keys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.drift.codes import column_codes
from driftkit.drift.compare import headline_day
from driftkit.drift.pairs import COUNTERPART, system_pairs
from driftkit.scale.ordered import PAIR, episode_keys
from driftkit.scale.part import GROUP_SUMS, SUMMED, BucketResult
from driftkit.scale.plan import Plan
from driftkit.schema import LOCATION, SKU, SYSTEM


def combined_headline(
    results: list[BucketResult], days: int
) -> dict[str, float | int | str | None]:
    """``compare.headline``: counts summed, agreement and mean spread as Σ ÷ Σ, the "last
    day" numbers on the combined ``headline_day``."""
    total = {k: sum(r.headline[k] for r in results) for k in (*SUMMED, "spread_sum")}
    compared, agreeing = int(total["compared_cells"]), int(total["agreeing_cells"])
    max_spread = max(r.headline["max_spread"] for r in results)
    return {
        "sku_locations": int(total["sku_locations"]),
        "days": days,
        "compared_cells": compared,
        "agreeing_cells": agreeing,
        "agreement_rate": agreeing / compared if compared else None,
        "drifted_sku_locations": int(total["drifted_sku_locations"]),
        **headline_day(combined_daily([r.by_day for r in results], AUTHORITY_DAYS)),
        "mean_spread": total["spread_sum"] / compared if compared else None,
        "max_spread": float(max_spread) if compared else None,
        "episodes": int(total["episodes"]),
        "open_episodes": int(total["open_episodes"]),
    }


DAILY_SUMS = ("skus_compared", "skus_drifted", "abs_drift_units", "drift_value")

AUTHORITY_DAYS = ("authority_cells", "abs_drift_units", "value_at_risk", "keys_without_cost")


def combined_daily(
    frames: list[pd.DataFrame], numeric: tuple[str, ...] = DAILY_SUMS
) -> pd.DataFrame:
    """Every bucket has one row per (day, pair) in the same order: add them up."""
    summed = {c: np.sum([f[c].to_numpy() for f in frames], axis=0) for c in numeric}
    return frames[0].assign(**summed)


def combined_episodes(grid: Grid, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenated and ordered by pair (``compare.system_pairs``), key and start."""
    table = pd.concat(frames, ignore_index=True)
    ranked = table.assign(**{PAIR: pair_ranks(grid, table)})
    return table.iloc[np.lexsort(episode_keys(ranked))].reset_index(drop=True)


def pair_ranks(grid: Grid, episodes: pd.DataFrame) -> np.ndarray:
    """Each episode's position of its (system, counterpart) in ``compare.system_pairs``; only
    ``grid``'s systems and authority are read (a grid without keys will do).

    Looked up once per distinct (system, counterpart) of the columns' cached codes.
    """
    pairs = {
        (grid.systems[p.system], grid.systems[p.counterpart]): i
        for i, p in enumerate(system_pairs(grid))
    }
    system, systems = column_codes(episodes[SYSTEM])
    other, others = column_codes(episodes[COUNTERPART])
    table = np.array([[pairs.get((s, o), -1) for o in others] for s in systems], np.int64)
    found = table.reshape(len(systems), len(others))[system, other]
    if (system < 0).any() or (other < 0).any() or (found < 0).any():  # as ``map`` treats them
        index = pd.MultiIndex.from_frame(episodes[[SYSTEM, COUNTERPART]])
        return index.map(pairs).to_numpy(dtype=np.int64)
    return np.asarray(found, dtype=np.int64)


def combined_bias(frames: list[pd.DataFrame], plan: Plan) -> pd.DataFrame:
    """``compare.bias`` from summed drift, compared, positive and negative cells."""
    others = [s for s in plan.systems if s != plan.config.authority]
    sums = pd.concat(frames).groupby(SYSTEM).sum().reindex(others, fill_value=0)
    cells = sums["compared_cells"].to_numpy()
    safe = np.maximum(cells, 1)
    return pd.DataFrame(
        {
            SYSTEM: pd.Series(others, dtype="str"),
            "mean_drift": np.where(cells > 0, sums["drift_sum"].to_numpy() / safe, np.nan),
            "compared_cells": cells.astype(np.int64),
            "share_positive": np.where(cells > 0, sums["positive"].to_numpy() / safe, np.nan),
            "share_negative": np.where(cells > 0, sums["negative"].to_numpy() / safe, np.nan),
        }
    )


def combined_groups(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    """``compare.decompose`` from every bucket's group sums."""
    table = pd.concat(frames).groupby(name, sort=True)[GROUP_SUMS].sum().reset_index()
    for column in GROUP_SUMS[2:]:
        total = table[column].sum()
        table[f"share_{column}"] = table[column] / total if total else np.nan
    order = ["value_at_risk_last_day", "abs_drift_units_last_day", "abs_drift_units"]
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


def combined_key_drift(frames: list[pd.DataFrame], plan: Plan) -> pd.DataFrame:
    """Concatenated, ordered by system (grid order) then key."""
    table = pd.concat(frames, ignore_index=True)
    rank = table[SYSTEM].map({s: i for i, s in enumerate(plan.systems)}).to_numpy()
    order = np.lexsort(
        (table[LOCATION].to_numpy(dtype=object), table[SKU].to_numpy(dtype=object), rank)
    )
    return table.iloc[order].reset_index(drop=True)
