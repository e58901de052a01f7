"""Tests of driftkit.drift.accuracy: roll-forward residuals and physical-count record accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import align
from driftkit.schema import SystemKind

NAN = np.nan


def config(**options: object) -> ClientConfig:
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "shop": SystemConfig("shop", SystemKind.STOREFRONT),
    }
    base: dict[str, object] = {"id": "t", "root": Path("."), "name": "t", "authority": "wms"}
    return ClientConfig(**{"systems": systems, **base, **options})  # type: ignore[arg-type]


def snapshots(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["system", "sku", "as_of", "on_hand"]).assign(
        location="main"
    )
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True, format="ISO8601")
    return schema.conform(frame, "snapshots")


def events(*rows: tuple[object, ...]) -> pd.DataFrame:
    """(system, sku, kind, qty_delta, set_qty, occurred_at, recorded_at) rows."""
    columns = ["system", "sku", "kind", "qty_delta", "set_qty", "occurred_at", "recorded_at"]
    frame = pd.DataFrame(rows, columns=columns).assign(location="main")
    for column in ("occurred_at", "recorded_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return schema.conform(frame, "events")


WMS = snapshots(
    ("wms", "A", "2026-03-01T12:00Z", 10.0),
    ("wms", "A", "2026-03-02T12:00Z", 7.0),
    ("wms", "A", "2026-03-03T12:00Z", 9.0),
)


def residuals(snaps: pd.DataFrame, evts: pd.DataFrame) -> pd.DataFrame:
    return rollforward(snaps, evts, config(), align(snaps, config()))


def test_events_explain_the_change_and_a_count_resets_the_running_value() -> None:
    table = residuals(
        WMS,
        events(
            ("wms", "A", "shipment", -3.0, NAN, "2026-03-01T15:00Z", None),
            ("wms", "A", "receipt", 5.0, NAN, "2026-03-02T13:00Z", None),
            ("wms", "A", "count", 99.0, 8.0, "2026-03-02T18:00Z", None),  # qty_delta ignored
            ("wms", "A", "shipment", -1.0, NAN, "2026-03-02T20:00Z", None),
        ),
    )
    assert table.columns.tolist() == [
        "sku", "location", "system", "day", "snapshot", "previous", "events", "events_delta", "residual",
    ]  # fmt: skip
    assert table[["day", "snapshot", "previous", "events", "events_delta", "residual"]].assign(
        day=table["day"].dt.day
    ).values.tolist() == [
        [2, 7.0, 10.0, 1, -3.0, 0.0],
        [3, 9.0, 7.0, 3, 0.0, 2.0],  # 7 + 5 → set 8 → − 1 = 7; snapshot says 9
    ]


@pytest.mark.parametrize(
    ("occurred", "recorded", "residual"),
    [
        ("2026-03-01T12:00Z", None, -3.0),  # at the previous snapshot: already in it
        ("2026-03-02T12:00Z", None, 0.0),  # at the snapshot: counted
        ("2026-03-01T10:00Z", "2026-03-01T14:00Z", 0.0),  # recorded_at decides
        ("2026-03-01T14:00Z", "2026-03-02T13:00Z", -3.0),  # recorded after the snapshot
    ],
    ids=["at-previous-excluded", "at-snapshot-included", "recorded-at-used", "recorded-late"],
)
def test_interval_is_previous_snapshot_exclusive_to_snapshot_inclusive(
    occurred: str, recorded: str | None, residual: float
) -> None:
    table = residuals(WMS.iloc[:2], events(("wms", "A", "shipment", -3.0, NAN, occurred, recorded)))
    assert table["residual"].tolist() == [residual]


def test_other_systems_and_other_keys_events_do_not_count() -> None:
    table = residuals(
        WMS.iloc[:2],
        events(
            ("shop", "A", "shipment", -3.0, NAN, "2026-03-01T15:00Z", None),
            ("wms", "B", "shipment", -3.0, NAN, "2026-03-01T15:00Z", None),
        ),
    )
    assert table[["events", "residual"]].values.tolist() == [[0, -3.0]]


def test_a_day_without_a_snapshot_gives_no_residual() -> None:
    table = residuals(WMS.iloc[[0, 2]], events())
    assert table.empty


def test_sync_set_qty_with_no_later_events() -> None:
    table = residuals(
        WMS.iloc[:2], events(("wms", "A", "sync", NAN, 6.0, "2026-03-02T09:00Z", None))
    )
    assert table[["events_delta", "residual"]].values.tolist() == [[-4.0, 1.0]]


COUNTS = schema.conform(
    pd.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "location": "main",
            "counted_at": pd.to_datetime(
                ["2026-03-02T12:00Z", "2026-03-03T13:00Z", "2026-03-02T12:00Z"], utc=True
            ),
            "counted_qty": [7.0, 9.0, 4.0],
        }
    ),
    "counts",
)


def test_count_errors_use_the_latest_snapshot_at_or_before_the_count() -> None:
    snaps = pd.concat(
        [
            WMS,
            snapshots(
                ("shop", "A", "2026-03-01T12:00:00.000001Z", 6.0),  # 24 h − 1 µs before count
                ("shop", "A", "2026-03-02T12:00:01Z", 1.0),  # after the count
                ("shop", "B", "2026-03-02T11:00Z", 5.0),
            ),
        ],
        ignore_index=True,
    )
    errors, accuracy = count_accuracy(snaps, COUNTS, config(tolerance=0))
    got = errors[["sku", "system", "system_qty", "error", "exact"]].values.tolist()
    assert got[:3] == [
        ["A", "wms", 7.0, 0.0, True],
        ["A", "shop", 6.0, -1.0, False],  # not the later 1.0
        ["A", "wms", 9.0, 0.0, True],
    ]
    assert got[3][:2] == ["A", "shop"] and np.isnan(got[3][2])  # 25 h old: stale
    assert got[4][:2] == ["B", "wms"] and np.isnan(got[4][2]) and not got[4][4]
    assert got[5] == ["B", "shop", 5.0, 1.0, False]
    assert accuracy.values.tolist() == [
        ["wms", 3, 2, 2, 1.0, 0.0, 0.0],
        ["shop", 3, 2, 0, 0.0, 0.0, 1.0],
    ]


@pytest.mark.parametrize(
    ("as_of", "found"),
    [("2026-03-01T12:00:00Z", False), ("2026-03-01T12:00:00.000001Z", True)],
    ids=["exactly-24h-stale", "just-fresh"],
)
def test_count_staleness_boundary(as_of: str, found: bool) -> None:
    errors, _ = count_accuracy(snapshots(("wms", "A", as_of, 7.0)), COUNTS.iloc[:1], config())
    assert errors["system_qty"].notna().tolist() == [found]


def test_tolerance_makes_near_counts_exact() -> None:
    snaps = snapshots(("wms", "A", "2026-03-02T11:00Z", 8.0))
    _, accuracy = count_accuracy(snaps, COUNTS.iloc[:1], config(tolerance=1))
    assert accuracy["record_accuracy"].tolist() == [1.0]


def merge_asof_errors(snaps: pd.DataFrame, counts: pd.DataFrame, cfg: ClientConfig) -> pd.DataFrame:
    """The count errors by the plain computation: a cross join of counts and systems, then
    ``merge_asof`` on the text keys (what :func:`count_accuracy` computes on codes)."""
    systems = [s for s in cfg.systems if s in set(snaps["system"])]
    systems += sorted(set(snaps["system"]) - set(cfg.systems))
    right = snaps[["system", "sku", "location", "as_of"]].assign(system_qty=snaps["on_hand"])
    left = counts[["sku", "location", "counted_at", "counted_qty"]].assign(row=range(len(counts)))
    left = left.merge(pd.DataFrame({"system": pd.Series(systems, dtype="str")}), how="cross")
    joined = pd.merge_asof(
        left.sort_values("counted_at", kind="stable"),
        right.sort_values("as_of", kind="stable"),
        left_on="counted_at",
        right_on="as_of",
        by=["system", "sku", "location"],
    )
    stale = joined["counted_at"] - joined["as_of"] >= pd.Timedelta(hours=cfg.staleness_hours)
    joined[["as_of", "system_qty"]] = joined[["as_of", "system_qty"]].mask(stale, axis=0)
    joined["error"] = joined["system_qty"] - joined["counted_qty"]
    joined["exact"] = joined["error"].abs() <= cfg.tolerance + 1e-9
    rank = joined["system"].map({s: i for i, s in enumerate(systems)})
    joined = joined.assign(rank=rank).sort_values(["row", "rank"], kind="stable")
    columns = ["sku", "location", "counted_at", "counted_qty", "system", "as_of", "system_qty"]
    return joined[[*columns, "error", "exact"]].reset_index(drop=True)


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
def test_count_errors_match_merge_asof_on_text_keys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, hours = 200, pd.to_timedelta(rng.integers(0, 96, 200), unit="h")  # repeated as_of times
    frame = pd.DataFrame(
        {
            "system": rng.choice(["wms", "shop", "pos"], n),  # pos is not in the config
            "sku": rng.choice(["A", "B", "C", "D"], n),
            "location": rng.choice(["main", "back"], n),
            "as_of": pd.Timestamp("2026-03-01", tz="UTC") + hours,
            "on_hand": rng.integers(0, 9, n).astype(float),
        }
    )
    snaps = schema.conform(frame, "snapshots")
    counts = schema.conform(
        pd.DataFrame(
            {
                "sku": rng.choice(["A", "B", "C", "E"], 30),  # E has no snapshot
                "location": rng.choice(["main", "back"], 30),
                "counted_at": pd.Timestamp("2026-03-01", tz="UTC")
                + pd.to_timedelta(rng.integers(-5, 100, 30), unit="h"),
                "counted_qty": rng.integers(0, 9, 30).astype(float),
            }
        ),
        "counts",
    )
    errors, _ = count_accuracy(snaps, counts, config(tolerance=0))
    pd.testing.assert_frame_equal(errors, merge_asof_errors(snaps, counts, config(tolerance=0)))
