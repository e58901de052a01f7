"""Tests of driftkit.drift.align: the as-of rule of DESIGN §5 on hand-computed tiny cases."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift.align import Grid, align
from driftkit.errors import InputError
from driftkit.schema import Measure, SystemKind

NAN = np.nan


def config(**options: object) -> ClientConfig:
    """A client with systems wms (authority), shop and erp."""
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "shop": SystemConfig("shop", SystemKind.STOREFRONT),
        "erp": SystemConfig("erp", SystemKind.ERP),
    }
    base: dict[str, object] = {"id": "t", "root": Path("."), "name": "t", "authority": "wms"}
    return ClientConfig(**{"systems": systems, **base, **options})  # type: ignore[arg-type]


def snapshots(*rows: tuple[object, ...], **extra: list[object]) -> pd.DataFrame:
    """Canonical snapshots from (system, sku, as_of, on_hand[, available, committed]) rows."""
    full = [(*r, NAN, NAN)[:6] if len(r) == 4 else r for r in rows]
    frame = pd.DataFrame(
        full, columns=["system", "sku", "as_of", "on_hand", "available", "committed"]
    )
    frame["location"] = "main"
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True, format="ISO8601")
    canonical = schema.conform(frame, "snapshots")
    return canonical.assign(**extra) if extra else canonical


def value(grid: Grid, system: str, sku: str, day: str) -> float:
    key = int(np.flatnonzero(grid.keys["sku"].to_numpy() == sku)[0])
    return float(grid.values[grid.index(system), key, grid.days.get_loc(pd.Timestamp(day))])


def test_zero_is_a_value_and_a_missing_day_is_absent() -> None:
    grid = align(
        snapshots(
            ("wms", "A", "2026-03-01T12:00Z", 0.0),
            ("wms", "A", "2026-03-03T12:00Z", 4.0),
        ),
        config(),
    )
    assert list(grid.days.strftime("%m-%d")) == ["03-01", "03-02", "03-03"]
    assert value(grid, "wms", "A", "2026-03-01") == 0.0
    assert np.isnan(value(grid, "wms", "A", "2026-03-02"))
    assert value(grid, "wms", "A", "2026-03-03") == 4.0


@pytest.mark.parametrize(
    ("staleness", "as_of", "present"),
    [
        (24, "2026-03-01T23:59:59.999999Z", False),  # exactly 24 h before end of 03-02
        (24, "2026-03-02T00:00:00Z", True),
        (30, "2026-03-01T17:59:59.999999Z", False),  # exactly 30 h before end of 03-02
        (30, "2026-03-01T18:00:00Z", True),
    ],
    ids=["24h-exactly-stale", "24h-midnight-fresh", "30h-exactly-stale", "30h-just-fresh"],
)
def test_staleness_boundary(staleness: float, as_of: str, present: bool) -> None:
    rows = snapshots(("wms", "A", as_of, 5.0), ("shop", "A", "2026-03-02T12:00Z", 5.0))
    grid = align(rows, config(staleness_hours=staleness), end=date(2026, 3, 2))
    assert (value(grid, "wms", "A", "2026-03-02") == 5.0) is present


def test_last_snapshot_of_the_day_wins_even_when_systems_report_at_other_times() -> None:
    grid = align(
        snapshots(
            ("wms", "A", "2026-03-01T08:00Z", 3.0),
            ("wms", "A", "2026-03-01T22:00Z", 7.0),
            ("erp", "A", "2026-03-01T00:30Z", 7.0),
            ("shop", "A", "2026-03-01T23:59:59Z", 6.0),
        ),
        config(),
    )
    assert [value(grid, s, "A", "2026-03-01") for s in ("wms", "erp", "shop")] == [7.0, 7.0, 6.0]


@pytest.mark.parametrize(
    ("as_of", "day"),
    [
        ("2026-03-02T05:59:59Z", "2026-03-01"),  # 23:59:59 CST
        ("2026-03-02T06:00:00Z", "2026-03-02"),  # 00:00 CST
    ],
    ids=["before-local-midnight", "at-local-midnight"],
)
def test_day_is_the_local_calendar_day(as_of: str, day: str) -> None:
    grid = align(snapshots(("wms", "A", as_of, 1.0)), config(timezone="America/Chicago"))
    assert list(grid.days) == [pd.Timestamp(day)]


def test_spring_forward_day_has_23_hours() -> None:
    # 2026-03-08 in Chicago lasts 23 h: a snapshot at 23:30 CST on 03-07 is 23.5 h old at
    # the end of 03-08, so it still decides 03-08 (on a 24 h day it would not).
    rows = snapshots(
        ("wms", "A", "2026-03-08T05:30Z", 9.0),
        ("wms", "B", "2026-03-09T05:30Z", 1.0),  # 00:30 CDT 03-09: keeps 03-09 in the window
    )
    grid = align(rows, config(timezone="America/Chicago"))
    assert value(grid, "wms", "A", "2026-03-07") == 9.0
    assert value(grid, "wms", "A", "2026-03-08") == 9.0
    assert np.isnan(value(grid, "wms", "A", "2026-03-09"))


def test_fall_back_day_has_25_hours() -> None:
    # 2026-11-01 in Chicago lasts 25 h: a snapshot at 00:30 CDT is 24.5 h old at its end.
    rows = snapshots(
        ("wms", "A", "2026-11-01T05:30Z", 9.0),
        ("wms", "A", "2026-11-02T06:30Z", 4.0),  # 00:30 CST 03-02
    )
    grid = align(rows, config(timezone="America/Chicago"))
    assert list(grid.days.strftime("%m-%d")) == ["11-01", "11-02"]
    assert np.isnan(value(grid, "wms", "A", "2026-11-01"))
    assert value(grid, "wms", "A", "2026-11-02") == 4.0


def test_systems_with_disjoint_skus_keep_every_key() -> None:
    grid = align(
        snapshots(("wms", "A", "2026-03-01T12:00Z", 1.0), ("shop", "B", "2026-03-01T12:00Z", 2.0)),
        config(),
    )
    assert grid.keys.to_dict("list") == {"sku": ["A", "B"], "location": ["main", "main"]}
    assert grid.systems == ("wms", "shop")
    assert value(grid, "wms", "A", "2026-03-01") == 1.0
    assert np.isnan(value(grid, "shop", "A", "2026-03-01"))
    assert value(grid, "shop", "B", "2026-03-01") == 2.0


def test_authority_without_snapshots_is_still_a_system() -> None:
    grid = align(snapshots(("shop", "A", "2026-03-01T12:00Z", 2.0)), config())
    assert grid.systems == ("wms", "shop")
    assert np.isnan(grid.values[0]).all()


def test_window_start_and_end() -> None:
    rows = snapshots(
        ("wms", "A", "2026-03-01T20:00Z", 1.0),
        ("wms", "A", "2026-03-03T12:00Z", 3.0),
        ("wms", "B", "2026-03-05T12:00Z", 5.0),
    )
    grid = align(rows, config(staleness_hours=36), start=date(2026, 3, 2), end=date(2026, 3, 4))
    assert list(grid.days.strftime("%m-%d")) == ["03-02", "03-03", "03-04"]
    assert grid.keys["sku"].tolist() == ["A"]  # B has no snapshot in the window
    assert value(grid, "wms", "A", "2026-03-02") == 1.0  # from before the window, 28 h old
    assert value(grid, "wms", "A", "2026-03-04") == 3.0  # 36 h − 1 µs old at end of 03-04
    assert grid.values.shape == (1, 1, 3)


def test_window_end_before_start_is_an_error() -> None:
    rows = snapshots(("wms", "A", "2026-03-01T20:00Z", 1.0))
    with pytest.raises(InputError, match="before its start"):
        align(rows, config(), start=date(2026, 3, 2), end=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("measure", "extra", "expected", "note"),
    [
        (Measure.AVAILABLE, {}, 8.0, "available derived as on_hand - committed for 1 of 1"),
        (Measure.ON_HAND, {}, NAN, "on_hand unknown and not derivable for 1 of 1"),
        (
            Measure.ON_HAND,
            {"unavailable": [1.0]},
            11.0,
            "on_hand derived as available + committed + unavailable for 1 of 1",
        ),
    ],
    ids=["available-from-on-hand", "on-hand-underivable", "on-hand-from-parts"],
)
def test_missing_measure_is_derived_or_absent_with_one_note(
    measure: Measure, extra: dict[str, list[object]], expected: float, note: str
) -> None:
    if measure == Measure.AVAILABLE:
        rows = snapshots(("shop", "A", "2026-03-01T12:00Z", 10.0, NAN, 2.0), **extra)
    else:
        rows = snapshots(("shop", "A", "2026-03-01T12:00Z", NAN, 8.0, 2.0), **extra)
    grid = align(rows, config(measure=measure))
    assert np.array_equal(grid.values[grid.index("shop"), 0], [expected], equal_nan=True)
    assert len(grid.notes) == 1
    assert grid.notes[0].startswith("shop: ") and note in grid.notes[0]


def test_latest_snapshot_with_unknown_measure_makes_the_system_absent() -> None:
    grid = align(
        snapshots(("wms", "A", "2026-03-01T08:00Z", 3.0), ("wms", "A", "2026-03-01T09:00Z", NAN)),
        config(),
    )
    assert np.isnan(value(grid, "wms", "A", "2026-03-01"))


def test_tied_snapshots_take_the_later_row() -> None:
    grid = align(
        snapshots(("wms", "A", "2026-03-01T08:00Z", 3.0), ("wms", "A", "2026-03-01T08:00Z", 4.0)),
        config(),
    )
    assert value(grid, "wms", "A", "2026-03-01") == 4.0


def test_frame_is_long_form_of_present_cells() -> None:
    grid = align(
        snapshots(
            ("wms", "A", "2026-03-01T12:00Z", 1.0),
            ("shop", "A", "2026-03-02T12:00Z", 2.0),
            ("wms", "B", "2026-03-02T12:00Z", 3.0),
        ),
        config(),
    )
    frame = grid.frame(np.array([0]))
    assert frame.columns.tolist() == ["sku", "location", "day", "system", "value"]
    assert frame[["system", "value"]].values.tolist() == [["wms", 1.0], ["shop", 2.0]]
    assert len(grid.frame()) == 3


def test_input_is_not_mutated() -> None:
    rows = snapshots(("wms", "A", "2026-03-01T12:00Z", 1.0), ("shop", "A", "2026-03-01T12:00Z", 2))
    before = rows.copy()
    align(rows, config(timezone="Europe/Berlin"))
    pd.testing.assert_frame_equal(rows, before)


def test_naive_timestamps_are_refused_with_how_to_fix() -> None:
    rows = snapshots(("wms", "A", "2026-03-01T12:00Z", 1.0))
    rows["as_of"] = rows["as_of"].dt.tz_localize(None)
    with pytest.raises(InputError, match=r"schema\.conform"):
        align(rows, config())


@pytest.mark.parametrize("dense", [1 << 20, 0], ids=["dense-key-table", "sorted-keys"])
def test_key_coding_paths_agree(monkeypatch: pytest.MonkeyPatch, dense: int) -> None:
    monkeypatch.setattr(sys.modules["driftkit.drift.asof"], "DENSE_KEYS", dense)
    rows = snapshots(
        ("wms", "B", "2026-03-02T12:00Z", 2.0),
        ("shop", "A", "2026-03-02T12:00Z", 1.0),
        ("wms", "C", "2026-02-20T12:00Z", 9.0),  # before the window: not a key
    )
    grid = align(rows, config(), start=date(2026, 3, 2))
    assert grid.keys["sku"].tolist() == ["A", "B"]
    assert np.array_equal(grid.values[:, :, 0], [[NAN, 2.0], [1.0, NAN]], equal_nan=True)
