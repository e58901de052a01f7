"""Accuracy of cause attribution, measured on simulated stacks with known faults.

:func:`score` compares findings with the simulator's ground truth by (system, sku,
location, cause): precision and recall per cause.  :func:`baseline_keys` is the common
rule analysts use today — flag a key when ``|start + receipts − sales − end|`` exceeds
five days of average sales — which finds keys but cannot say why; :func:`key_score`
scores it (and our findings) at key level.  :func:`measure` runs the scenarios of
:data:`SCENARIOS`; ``python -m driftkit.simulate.score`` prints the table (see ``docs/causes.md``).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import Attribution, attribute
from driftkit.config import load_config
from driftkit.drift.accuracy import rollforward
from driftkit.drift.align import Grid, align
from driftkit.drift.compare import compare
from driftkit.load.client import ClientData
from driftkit.schema import KIND, LOCATION, QTY_DELTA, SKU, SYSTEM, Cause, EventKind
from driftkit.simulate.calibration import reliability, reliability_table
from driftkit.simulate.simulation import Faults, Simulation, simulate

log = logging.getLogger(__name__)

MATCH_ON = (SYSTEM, SKU, LOCATION, "cause")
BASELINE_DAYS_OF_SALES = 5.0


@dataclass(frozen=True)
class Scenario:
    """One simulated stack to score: a fault mix, seeds and size."""

    name: str
    faults: str | Faults
    seeds: tuple[int, ...] = (1,)
    skus: int = 150
    days: int = 30
    locations: int = 2


#: The fault mixes of the accuracy test: each cause alone (at the high rate), all
#: together at low, default and high rates, and a multi-location stack.
SCENARIOS: tuple[Scenario, ...] = (
    *(Scenario(str(c), str(c), seeds=(1, 2)) for c in Cause),
    Scenario("all-low", "low", seeds=(3, 4)),
    Scenario("all-default", "default", seeds=(5, 6)),
    Scenario("all-high", "high", seeds=(7, 8)),
    Scenario("multi-location", "default", seeds=(9,), locations=4),
)


def client_data(sim: Simulation) -> ClientData:
    """The simulation's in-memory canonical frames as :class:`ClientData`."""
    return ClientData(
        config=load_config(sim.path),
        snapshots=sim.snapshots,
        events=sim.events,
        counts=sim.counts,
        catalog=sim.catalog,
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
    )


def attribute_data(data: ClientData) -> tuple[Attribution, Grid]:
    """Align, compare, roll forward and attribute one client's data."""
    grid = align(data.snapshots, data.config)
    comparison = compare(grid, data.config, data.catalog)
    residuals = rollforward(data.snapshots, data.events, data.config, grid)
    return attribute(data, grid, comparison, residuals), grid


def score(
    findings: pd.DataFrame, truth: pd.DataFrame, on: tuple[str, ...] = MATCH_ON
) -> pd.DataFrame:
    """Precision and recall of ``findings`` against ``truth`` per cause.

    Both sides are reduced to distinct ``on`` tuples (default system, sku, location,
    cause); a finding is right when its tuple is in the truth.

    Returns
    -------
    pandas.DataFrame
        ``cause, truth, found, right, precision, recall``; one row per cause plus ``all``
        (precision NaN when nothing was found, recall NaN when nothing was injected).
    """
    found = findings[list(on)].drop_duplicates().assign(found=True)
    true = truth[list(on)].drop_duplicates().assign(true=True)
    both = found.merge(true, on=list(on), how="outer")
    both[["found", "true"]] = both[["found", "true"]].fillna(False).astype(bool)
    both["right"] = both["found"] & both["true"]
    per = both.groupby("cause")[["true", "found", "right"]].sum()
    per = per.reindex([str(c) for c in Cause], fill_value=0)
    per.loc["all"] = per.sum()
    return _rates(per.rename(columns={"true": "truth"}).rename_axis("cause").reset_index())


def _rates(table: pd.DataFrame) -> pd.DataFrame:
    """Add precision = right / found and recall = right / truth (NaN on zero)."""
    table = table.astype({"truth": np.int64, "found": np.int64, "right": np.int64})
    table["precision"] = table["right"] / table["found"].where(table["found"] > 0)
    table["recall"] = table["right"] / table["truth"].where(table["truth"] > 0)
    return table


def baseline_keys(data: ClientData, grid: Grid) -> pd.DataFrame:
    """Keys the common balance rule flags (it finds but cannot explain).

    Per system and key over the grid window: ``start`` = first present value, ``end`` =
    last, ``receipts`` = Σ receipt ``qty_delta``, ``sales`` = −Σ shipment ``qty_delta``
    (events applied within the window); flagged when ``|start + receipts − sales − end|
    > 5 × sales / days``.  A key is flagged when any system flags it.

    Returns
    -------
    pandas.DataFrame
        ``sku, location`` of the flagged keys.
    """
    values = grid.values
    present = ~np.isnan(values)
    first = present.argmax(axis=2)
    last = values.shape[2] - 1 - present[:, :, ::-1].argmax(axis=2)
    s, k = np.nonzero(present.any(axis=2))
    balance = pd.DataFrame(
        {
            SYSTEM: np.asarray(grid.systems, dtype=object)[s],
            SKU: grid.keys[SKU].to_numpy()[k],
            LOCATION: grid.keys[LOCATION].to_numpy()[k],
            "start": values[s, k, first[s, k]],
            "end": values[s, k, last[s, k]],
        }
    )
    flows = _flows(data, grid)
    balance = balance.merge(flows, on=[SYSTEM, SKU, LOCATION], how="left").fillna(0.0)
    gap = (balance["start"] + balance["receipts"] - balance["sales"] - balance["end"]).abs()
    flagged = gap > BASELINE_DAYS_OF_SALES * balance["sales"] / len(grid.days)
    return balance.loc[flagged, [SKU, LOCATION]].drop_duplicates().reset_index(drop=True)


def _flows(data: ClientData, grid: Grid) -> pd.DataFrame:
    """Receipts and sales per system and key, applied within the grid window."""
    events = data.events
    applied = events["recorded_at"].fillna(events["occurred_at"])
    day = applied.dt.tz_convert(data.config.timezone).dt.tz_localize(None).dt.normalize()
    inside = events[(day > grid.days[0]) & (day <= grid.days[-1])]
    qty = inside[QTY_DELTA].fillna(0.0)
    return (
        inside.assign(
            receipts=qty.where(inside[KIND] == str(EventKind.RECEIPT), 0.0),
            sales=-qty.where(inside[KIND] == str(EventKind.SHIPMENT), 0.0),
        )
        .groupby([SYSTEM, SKU, LOCATION], as_index=False)[["receipts", "sales"]]
        .sum()
    )


def key_score(flagged: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """(precision, recall) of flagged keys against the keys with any injected fault."""
    found = flagged[[SKU, LOCATION]].drop_duplicates()
    true = truth[[SKU, LOCATION]].drop_duplicates()
    right = len(found.merge(true, on=[SKU, LOCATION]))
    precision = right / len(found) if len(found) else float("nan")
    recall = right / len(true) if len(true) else float("nan")
    return precision, recall


def run_scenario(
    scenario: Scenario, workdir: Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Score one scenario over its seeds.

    Returns
    -------
    tuple of pandas.DataFrame
        Per-cause counts (``cause, truth, found, right``) summed over seeds; one row per
        seed with the key-level ``ours_precision, ours_recall, baseline_precision,
        baseline_recall``; and the findings per cause and confidence bin
        (:func:`~driftkit.simulate.calibration.reliability`).
    """
    tables, keys, bins = [], [], []
    for seed in scenario.seeds:  # a handful of simulations, not data rows
        sim = simulate(
            workdir / f"{scenario.name}-{seed}",
            skus=scenario.skus,
            days=scenario.days,
            seed=seed,
            faults=scenario.faults,
            locations=scenario.locations,
        )
        data = client_data(sim)
        result, grid = attribute_data(data)
        tables.append(score(result.findings, sim.ground_truth))
        bins.append(reliability(result.findings, sim.ground_truth))
        ours = key_score(result.findings, sim.ground_truth)
        base = key_score(baseline_keys(data, grid), sim.ground_truth)
        keys.append([scenario.name, seed, *ours, *base])
    counts = pd.concat(tables).groupby("cause", sort=False)[["truth", "found", "right"]].sum()
    columns = ["scenario", "seed", "ours_precision", "ours_recall"]
    table = pd.DataFrame(keys, columns=[*columns, "baseline_precision", "baseline_recall"])
    return counts.reset_index(), table, pd.concat(bins, ignore_index=True)


def measure(
    scenarios: tuple[Scenario, ...] = SCENARIOS,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run ``scenarios`` and score them.

    Returns
    -------
    tuple of pandas.DataFrame
        ``overall``: ``cause, truth, found, right, precision, recall`` pooled over every
        scenario; ``by_scenario``: the same with a leading ``scenario`` column; ``keys``:
        key-level precision/recall of ours and of the baseline rule per scenario and seed;
        ``calibration``: ``cause, confidence, found, right, reliability`` pooled.
    """
    per, keys, bins = [], [], []
    with tempfile.TemporaryDirectory(prefix="driftkit-score-") as tmp:
        for scenario in scenarios:  # a handful of scenarios, not data rows
            counts, key_rows, found_bins = run_scenario(scenario, Path(tmp))
            per.append(counts.assign(scenario=scenario.name))
            keys.append(key_rows)
            bins.append(found_bins)
    by_scenario = pd.concat(per, ignore_index=True)
    overall = _rates(
        by_scenario.groupby("cause", sort=False)[["truth", "found", "right"]].sum().reset_index()
    )
    by_scenario = _rates(by_scenario)[
        ["scenario", "cause", "truth", "found", "right", "precision", "recall"]
    ]
    return overall, by_scenario, pd.concat(keys, ignore_index=True), reliability_table(bins)


def main() -> None:
    """Print the precision/recall table (``python -m driftkit.simulate.score``)."""
    overall, by_scenario, keys, calibration = measure()
    out = sys.stdout
    out.write("Findings vs ground truth by (system, sku, location, cause), all scenarios pooled\n")
    out.write(overall.to_string(index=False, float_format="{:.3f}".format) + "\n\n")
    out.write("Per scenario (non-empty causes)\n")
    shown = by_scenario[(by_scenario["truth"] > 0) | (by_scenario["found"] > 0)]
    out.write(shown.to_string(index=False, float_format="{:.3f}".format) + "\n\n")
    out.write("Key level (any fault on the key): driftkit findings vs the balance rule\n")
    summary = keys.drop(columns="seed").groupby("scenario", sort=False).mean()
    summary.loc["mean"] = keys.drop(columns=["scenario", "seed"]).mean()
    out.write(summary.to_string(float_format="{:.3f}".format) + "\n\n")
    out.write("Confidence calibration: share of findings right per cause and confidence bin\n")
    out.write(calibration.to_string(index=False, float_format="{:.3f}".format) + "\n")


if __name__ == "__main__":
    main()
