"""Synthetic multi-system retail stack (DESIGN §8): physical stock, demand, systems, faults.

One physical world (stock per SKU-location, intermittent seasonal demand, reorder-point
replenishment, cycle counts) is simulated day by day, vectorized over keys.  Four systems
record it, each with its own latency, event ids and reference formats:

* ``wms`` (kind wms, the authority) holds every location except the last one;
* ``3pl`` (kind 3pl) holds the last location, which the WMS does not see;
* ``erp`` (kind erp) and ``shop`` (kind storefront) see every location.

The handoff failures of DESIGN §6 are injected at the rates of a :class:`Faults` and every
one is written to ground truth.  :func:`simulate` returns the canonical frames it wrote.
This module holds the public surface; the fault rates are in :mod:`driftkit.simulate.faults`,
the plan (catalog, keys, demand and replenishment parameters) in :mod:`driftkit.simulate.plan`,
the option checks in :mod:`driftkit.simulate.prepare`, the day-by-day world in
:mod:`driftkit.simulate.world`, each system's events in :mod:`driftkit.simulate.records`, its
snapshots and the truth tables in :mod:`driftkit.simulate.core`, the export writers in
:mod:`driftkit.simulate.write` and :mod:`driftkit.simulate.formats`.  See ``docs/simulator.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from driftkit.config import check_client_id
from driftkit.simulate import write as _simwrite
from driftkit.simulate.chunks import ClientOptions, simulate_chunks
from driftkit.simulate.core import DEMAND_COLUMNS as DEMAND_COLUMNS
from driftkit.simulate.core import TRUTH_COLUMNS as TRUTH_COLUMNS
from driftkit.simulate.core import build_stack
from driftkit.simulate.faults import FAULT_PRESETS as FAULT_PRESETS
from driftkit.simulate.faults import Faults
from driftkit.simulate.plan import _M5_SALES, M5_DIR, make_plan
from driftkit.simulate.plan import DAY as DAY
from driftkit.simulate.plan import SYSTEMS as SYSTEMS
from driftkit.simulate.plan import Plan as Plan
from driftkit.simulate.prepare import check_options, display_name, prepare_folder
from driftkit.simulate.world import run_days

__all__ = ["FAULT_PRESETS", "Faults", "Simulation", "simulate", "write_samples"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate` wrote, with its canonical frames as produced before writing.

    With ``simulate(..., return_frames=False)`` the large frames (snapshots, events,
    counts, physical, demand) are empty with their columns; read them from the folder.

    Attributes
    ----------
    path
        The client folder.
    snapshots, events
        Canonical tables (DESIGN §2) of every system, ``system`` column first.
    counts, catalog
        Canonical cycle counts and catalog.
    ground_truth
        Every injected fault: system, sku, location, cause, time, units, reference.
    physical
        True on-hand at the end of each local day: sku, location, day, on_hand.
    demand
        True demand per key and day: sku, location, day, demand (units wanted), sold
        (shipped), blocked (refused because the storefront showed ≤ 0), lost (blocked
        units whose customer walked away: revenue lost to the store), retained (blocked
        units substituted or delayed: lost + retained = blocked).
    """

    path: Path
    client_id: str
    faults: Faults
    snapshots: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame
    catalog: pd.DataFrame
    ground_truth: pd.DataFrame
    physical: pd.DataFrame
    demand: pd.DataFrame


def simulate(
    out_dir: str | Path,
    *,
    skus: int = 200,
    days: int = 30,
    seed: int = 0,
    faults: Faults | str = "default",
    locations: int = 2,
    start: str | date = "2026-09-01",
    client_id: str | None = None,
    demand: str = "synthetic",
    timezone: str = "America/Chicago",
    sku_style: str = "alpha",
    name: str | None = None,
    walk_away_share: float = 0.40,
    return_frames: bool = True,
) -> Simulation:
    """Simulate a multi-system retail stack and write it as a complete client folder.

    Parameters
    ----------
    out_dir
        The client folder to write; with ``client_id`` the folder ``out_dir/client_id``.
        A folder that exists must be empty or an earlier simulation (it is replaced).
    skus, days, seed
        Catalog size, number of local days from ``start``, and the random seed
        (same arguments → identical files and frames).
    faults
        A :class:`Faults` or a preset name (see ``FAULT_PRESETS``).
    locations
        Number of locations (≥ 2); the last one is held by the 3PL.
    demand
        ``"synthetic"`` (intermittent, weekly and yearly seasonality) or ``"m5"`` (the
        real M5 Walmart series in ``../shared/realdata/m5_walmart_subset``).
    timezone, sku_style, name
        Client time zone, ``"alpha"`` (``AO-10001``) or ``"numeric"`` (``0012345``)
        SKUs, and the client's display name.
    walk_away_share
        Probability that a blocked unit of demand walks away (``lost``; else
        ``retained``); default 0.40 (GMA 2002: 31 % buy elsewhere + 9 % do not buy).
    return_frames
        Keep the large frames in the result (False for big benchmark runs: the files
        are written all the same; see :class:`Simulation`).

    Returns
    -------
    Simulation
        The folder and the canonical frames written into it.
    """
    folder = Path(out_dir) / client_id if client_id else Path(out_dir)
    cid = check_client_id(folder.resolve().name, folder)
    chosen = Faults.parse(faults) if isinstance(faults, str) else faults
    check_options(skus, days, locations, demand, timezone, sku_style, walk_away_share)
    plan = make_plan(
        client_id=cid,
        n_skus=skus,
        days=days,
        n_locations=locations,
        start=date.fromisoformat(str(start)),
        timezone=timezone,
        seed=seed,
        demand=demand,
        sku_style=sku_style,
        unit_mismatch=chosen.unit_mismatch,
    )
    run = run_days(plan, chosen, seed)
    stack = build_stack(plan, run, seed, walk_away_share=walk_away_share)
    prepare_folder(folder)
    _simwrite.write_client(folder, plan, stack, name=name or display_name(cid))
    log.info("simulated %s: %d SKUs × %d days in %s", cid, skus, days, folder)
    frames = stack.frames(full=return_frames)
    return Simulation(path=folder, client_id=cid, faults=chosen, **frames)


def simulate_ingested(
    out_dir: str | Path,
    processed: str | Path,
    *,
    skus: int,
    days: int = 30,
    seed: int = 0,
    faults: Faults | str = "default",
    locations: int = 2,
    start: str | date = "2026-09-01",
    timezone: str = "America/Chicago",
    sku_style: str = "alpha",
    buckets: int | None = None,
    chunk_skus: int = 50_000,
    jobs: int = 1,
) -> Path:
    """Simulate a client of any size straight into an ingest folder (bucketed Parquet).

    For clients too large to simulate at once (DESIGN §12: 1M SKUs × 30 days ≈ 175M
    snapshot rows): independent chunks of SKUs, each a whole simulation with its own seed
    and disjoint SKU codes, run in a process pool and written straight into the layout
    ``driftkit ingest`` writes; no raw exports (see :mod:`driftkit.simulate.chunks`).

    Parameters
    ----------
    out_dir
        The client folder (``client.toml``, ``ground_truth.csv``); its name is the client id.
        Must be empty or an earlier simulation (it is replaced).
    processed
        The ingest folder to write (replaced atomically), e.g. ``data/processed/<client>``;
        its manifest marks it fresh for ``out_dir``.
    skus, days, seed, faults, locations, start, timezone, sku_style
        As in :func:`simulate` (demand is synthetic; walk-away share 0.40).
    buckets
        SKU buckets; default one per ~8,000 SKUs (≈ 1M snapshot rows per bucket at 30
        days), at least 8.
    chunk_skus
        SKUs simulated at once per process (≈ 3 GB of memory per 50,000 SKUs × 30 days).
    jobs
        Processes simulating chunks in parallel.

    Returns
    -------
    pathlib.Path
        The ingest folder, for :func:`driftkit.scale.partition.run_partitioned`.
    """
    folder = Path(out_dir)
    cid = check_client_id(folder.resolve().name, folder)
    chosen = Faults.parse(faults) if isinstance(faults, str) else faults
    check_options(skus, days, locations, "synthetic", timezone, sku_style, 0.40)
    prepare_folder(folder)
    options = ClientOptions(
        client_id=cid,
        name=display_name(cid),
        days=days,
        locations=locations,
        start=date.fromisoformat(str(start)),
        timezone=timezone,
        sku_style=sku_style,
        faults=chosen,
    )
    return simulate_chunks(
        folder,
        Path(processed),
        options,
        skus=skus,
        seed=seed,
        buckets=buckets or max(8, round(skus / 8_000)),
        chunk_skus=chunk_skus,
        jobs=jobs,
    )


def write_samples(dest: str | Path = "data/sample") -> list[Simulation]:
    """Regenerate the committed sample clients in ``dest`` (a few MB together).

    ``acme-outdoor``: 160 SKUs × 30 days, default faults, synthetic demand, Chicago.
    ``brightline-home``: 60 SKUs × 21 days, high fault rates, M5 demand when the real
    data is beside the checkout, numeric SKUs with leading zeros, three locations,
    New York.  ``calm-goods``: 40 SKUs × 14 days, no faults (a zero-drift baseline).

    Returns
    -------
    list of Simulation
        One per sample client.
    """
    m5 = "m5" if _m5_available() else "synthetic"
    specs = [
        dict(client_id="acme-outdoor", skus=160, days=30, seed=1, faults="default"),
        dict(
            client_id="brightline-home",
            skus=60,
            days=21,
            seed=2,
            faults="high",
            demand=m5,
            locations=3,
            timezone="America/New_York",
            sku_style="numeric",
            start="2026-10-20",
        ),
        dict(client_id="calm-goods", skus=40, days=14, seed=3, faults="none"),
    ]
    return [simulate(dest, **spec) for spec in specs]  # type: ignore[arg-type]


def _m5_available() -> bool:
    return (M5_DIR / _M5_SALES).is_file()
