"""impact.shipments: units shipped per key and day, chosen by integer codes.

:func:`daily_shipments` must sum exactly the rows, in exactly the order, that the text-key
version (a ``drop_duplicates`` on five text columns, a ``groupby`` per key and system)
summed before it; ``_text_key_shipments`` below is that version, kept as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.drift.align import align
from driftkit.impact.shipments import NO_SPAN, daily_shipments
from driftkit.impact.stock import HOLDER_KINDS
from driftkit.schema import conform
from tests.test_impact import START, make_config, make_snapshots

SYSTEMS = ["wms", "erp", "shop", "mkt", "b2b"]  # the last two are in no config: rank last


def _text_key_shipments(events: pd.DataFrame, grid, config) -> tuple[np.ndarray, tuple]:
    """The computation before integer codes (eaf4e31's ``demand.daily_shipments``)."""
    out = np.zeros(grid.values.shape[1:])
    ships = events[events["kind"] == "shipment"]
    if ships.empty:
        return out, NO_SPAN
    index = pd.MultiIndex.from_arrays([grid.keys["sku"].to_numpy(), grid.keys["location"]])
    key = index.get_indexer(pd.MultiIndex.from_frame(ships[["sku", "location"]]))
    ships = ships.assign(_key=key)[key >= 0]
    with_ref = ships["reference"].notna()
    by_ref = ships[with_ref].drop_duplicates(["system", "sku", "location", "kind", "reference"])
    rest = ships[~with_ref]
    ids = rest["event_id"].notna()
    ships = pd.concat([by_ref, rest[~ids], rest[ids].drop_duplicates("event_id")])
    counts = ships.groupby(["_key", "system"]).size().rename("events").reset_index()
    holders = [s for s, c in config.systems.items() if c.kind in HOLDER_KINDS]
    rank = {s: i for i, s in enumerate([grid.authority, *[s for s in holders if s != "wms"]])}
    counts["rank"] = counts["system"].map(rank).fillna(len(rank))
    counts = counts.sort_values(["_key", "rank", "events"], ascending=[True, True, False])
    source = counts.drop_duplicates("_key").set_index("_key")["system"]
    ships = ships[ships["system"] == source.reindex(ships["_key"]).to_numpy()]
    local = ships["occurred_at"].dt.tz_convert(config.timezone).dt.tz_localize(None)
    local = local.dt.normalize()
    day = grid.days.get_indexer(pd.DatetimeIndex(local))
    units = np.abs(ships["qty_delta"].to_numpy(dtype=np.float64, na_value=np.nan))
    keep = (day >= 0) & ~np.isnan(units)
    np.add.at(out, (ships["_key"].to_numpy()[keep], day[keep]), units[keep])
    return out, (local.min(), local.max())


def _events(seed: int, rows: int) -> pd.DataFrame:
    """Shipments (and a few receipts) of keys A..C and an unknown Z, replayed at random:
    repeated references and event ids, missing ones, quantities whose sum depends on order."""
    rng = np.random.default_rng(seed)
    pick = lambda values, p=None: rng.choice(np.asarray(values, dtype=object), rows, p=p)  # noqa: E731
    reference = pick([f"SO{i}" for i in range(rows // 3 + 1)]).astype(object)
    reference[rng.random(rows) < 0.3] = None
    event_id = pick([f"e{i}" for i in range(rows // 2 + 1)]).astype(object)
    event_id[rng.random(rows) < 0.3] = None
    return conform(
        pd.DataFrame(
            {
                "system": pick(SYSTEMS),
                "sku": pick(list("ABCZ"), p=[0.3, 0.3, 0.3, 0.1]),
                "location": "main",
                "event_id": event_id,
                "kind": pick(["shipment", "receipt"], p=[0.9, 0.1]),
                "qty_delta": -rng.random(rows) * 10.0 ** rng.integers(-3, 4, rows),
                "occurred_at": START + pd.to_timedelta(rng.integers(-6, 40, rows), unit="h"),
                "reference": reference,
            }
        ),
        "events",
    )


@pytest.mark.parametrize(("seed", "rows"), [(seed, 400) for seed in range(40)] + [(0, 0), (1, 1)])
def test_daily_shipments_sum_the_rows_the_text_key_version_summed(seed: int, rows: int) -> None:
    config = make_config()
    grid = align(make_snapshots({"wms": [[5.0] * 10] * 3, "erp": [[5.0] * 10] * 3}), config)
    events = _events(seed, rows)
    found, span = daily_shipments(events, grid, config)
    expected, expected_span = _text_key_shipments(events, grid, config)
    assert np.array_equal(found, expected)  # bit for bit: same rows, same order
    assert [str(t) for t in span] == [str(t) for t in expected_span]


def test_the_preferred_system_counts_and_ties_go_to_the_first_name() -> None:
    config = make_config()
    grid = align(make_snapshots({"wms": [[5.0] * 10] * 2}), config)
    at = [START + pd.Timedelta(hours=h) for h in (30, 31, 54, 55)]
    events = conform(
        pd.DataFrame(
            {
                "system": ["mkt", "b2b", "mkt", "b2b"],  # A: a tie of two unconfigured systems
                "sku": ["A", "A", "A", "A"],
                "location": "main",
                "event_id": ["1", "2", "3", "4"],
                "kind": "shipment",
                "qty_delta": [-1.0, -2.0, -4.0, -8.0],
                "occurred_at": at,
                "reference": None,
            }
        ),
        "events",
    )
    found, _ = daily_shipments(events, grid, config)
    assert found[0].sum() == 10.0  # b2b's 2 + 8: "b2b" sorts before "mkt"
