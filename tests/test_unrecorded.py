"""``unrecorded_change`` means divergence (driftkit.causes.unrecorded), on hand-made clients.

Snapshot-only clients (no system exports events, the common real case): findings must be
proportional to drift episodes, never to days, and zero when every system changes alike.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.causes.unrecorded import fed_rows, run_bounds
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load.client import ClientData
from driftkit.schema import SystemKind
from driftkit.simulate.score import attribute_data

SYSTEMS = {"wms": SystemKind.WMS, "erp": SystemKind.ERP, "shop": SystemKind.STOREFRONT}
KEYS, DAYS = 40, 20


def base_counts(seed: int = 3) -> np.ndarray:
    """[key, day] counts that change almost every day (sales and receipts)."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-4, 3, size=(KEYS, DAYS)).astype(float)
    steps[:, 0] = 0
    return 100.0 + np.cumsum(steps, axis=1)


def client(values: dict[str, np.ndarray], events: pd.DataFrame | None = None) -> ClientData:
    """A client of three systems with daily snapshots ``values[system][key, day]``."""
    days = pd.date_range("2026-09-01T22:00Z", periods=DAYS, freq="D")
    frames = [
        pd.DataFrame(
            {
                "system": system,
                "sku": np.repeat([f"K{k:03d}" for k in range(KEYS)], DAYS),
                "location": "main",
                "as_of": np.tile(days, KEYS),
                "on_hand": grid.ravel(),
            }
        )
        for system, grid in values.items()
    ]
    systems = {s: SystemConfig(s, kind) for s, kind in SYSTEMS.items()}
    config = ClientConfig(id="t", root=Path("."), name="t", authority="wms", systems=systems)
    return ClientData(
        config=config,
        snapshots=schema.conform(pd.concat(frames, ignore_index=True), "snapshots"),
        events=schema.empty("events") if events is None else schema.conform(events, "events"),
        counts=schema.empty("counts"),
        catalog=schema.empty("catalog"),
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
    )


def with_episodes(base: np.ndarray, spans: list[tuple[int, int, int]]) -> np.ndarray:
    """``base`` off by +5 on (key, first day, last day) spans."""
    out = base.copy()
    for key, first, last in spans:  # a few hand-placed episodes
        out[key, first : last + 1] += 5
    return out


def findings_of(data: ClientData) -> tuple[pd.DataFrame, list[str]]:
    result, _ = attribute_data(data)
    return result.findings, result.callouts


def test_identical_changes_give_no_findings() -> None:
    base = base_counts()
    findings, notes = findings_of(client({s: base for s in SYSTEMS}))
    assert findings.empty
    assert len(notes) == 3 and all("exports no events" in n for n in notes)


SPANS = [(1, 3, 6), (1, 12, 12), (7, 5, 15), (20, 2, 4), (33, 10, 18)]


@pytest.fixture(scope="module")
def drifted() -> pd.DataFrame:
    base = base_counts()
    shop = with_episodes(base, SPANS)
    return findings_of(client({"wms": base, "erp": base, "shop": shop}))[0]


def test_snapshot_only_findings_are_one_per_episode(drifted: pd.DataFrame) -> None:
    assert len(drifted) == len(SPANS)  # not one per changed day (≈ 40 keys × 19 days)
    assert set(drifted["cause"]) == {"unrecorded_change"}
    assert set(drifted["system"]) == {"shop"}
    got = sorted(
        zip(
            drifted["sku"],
            drifted["first_seen"].dt.day,
            drifted["last_seen"].dt.day,
            strict=True,
        )
    )
    # days 1..20 are 1–20 Sept local (UTC): the span's index + 1
    assert got == sorted((f"K{k:03d}", a + 1, b + 1) for k, a, b in SPANS)
    assert drifted["evidence"].str.contains("exports no events").all()
    assert np.allclose(drifted["units"], 5.0)


def test_findings_scale_with_episodes_not_days() -> None:
    base = base_counts(seed=5)
    few = findings_of(client({"wms": base, "erp": base, "shop": with_episodes(base, SPANS[:2])}))
    many = findings_of(client({"wms": base, "erp": base, "shop": with_episodes(base, SPANS)}))
    assert (len(few[0]), len(many[0])) == (2, 5)


def test_a_system_that_takes_changes_over_a_day_late_is_not_drift() -> None:
    base = base_counts(seed=7)
    late = np.concatenate([base[:, :1], base[:, :-1]], axis=1)  # yesterday's wms count
    findings, _ = findings_of(client({"wms": base, "erp": base, "shop": late}))
    assert findings.empty


def daily(base: np.ndarray) -> pd.DataFrame:
    """erp events for every day-to-day change of ``base`` (an adjustment at noon UTC)."""
    key, day = np.nonzero(np.diff(base, axis=1))
    return pd.DataFrame(
        {
            "system": "erp",
            "sku": [f"K{k:03d}" for k in key],
            "location": "main",
            "event_id": [f"E{i}" for i in range(len(key))],
            "kind": "adjustment",
            "qty_delta": np.diff(base, axis=1)[key, day],
            "occurred_at": pd.Timestamp("2026-09-02T12:00Z") + pd.to_timedelta(day, unit="D"),
        }
    )


def test_residuals_of_a_fed_system_give_one_finding_per_divergence_run() -> None:
    base = base_counts(seed=9)
    erp = base.copy()
    erp[4, 6:] -= 2  # two unrecorded changes in one run: −2 on day 6, −1 more on day 8
    erp[4, 8:] -= 1
    erp[9, 3:] += 3  # one change, mirrored by every system: not a divergence
    wms, shop = base.copy(), base.copy()
    wms[9, 3:] += 3
    shop[9, 3:] += 3
    findings, notes = findings_of(client({"wms": wms, "erp": erp, "shop": shop}, daily(base)))
    erp_rows = findings[findings["system"] == "erp"]
    assert erp_rows[["sku", "units"]].values.tolist() == [["K004", -3.0]]
    assert "changed 2×" in erp_rows["evidence"].iloc[0]
    assert not any(n.startswith("erp ") for n in notes)


def test_run_bounds_marks_each_run() -> None:
    flags = np.array([[False, True, True, False, True]])
    start, end = run_bounds(flags)
    assert start[0, [1, 2, 4]].tolist() == [1, 1, 4]
    assert end[0, [1, 2, 4]].tolist() == [2, 2, 4]


def test_fallback_blames_the_side_its_own_roll_forward_could_not_check() -> None:
    """The erp skips its snapshot on day 6 and comes back 4 higher on day 7 with no event.

    No residual can see it (day 6 is missing), so the episode fallback decides; the storefront
    copies the erp, so the odd-one-out vote would blame the wms, whose own roll-forward
    checked days 6 and 7 and found them clean.  The unchecked erp is blamed.
    """
    base = base_counts(seed=11)
    erp = base.copy()
    erp[7, 7:] += 4
    events = pd.concat([daily(base), daily(base).assign(system="wms")], ignore_index=True)
    events["event_id"] = [f"E{i}" for i in range(len(events))]
    data = client({"wms": base, "erp": erp, "shop": erp}, events)
    snaps = data.snapshots
    day6 = pd.Timestamp("2026-09-07T22:00Z")
    skipped = (snaps["system"] == "erp") & (snaps["as_of"] == day6)
    data = dataclasses.replace(data, snapshots=snaps[~skipped].reset_index(drop=True))
    findings, _ = findings_of(data)
    on_key = findings[findings["sku"] == "K007"]
    assert "wms" not in set(on_key["system"])
    erp_rows = on_key[on_key["system"] == "erp"]
    assert erp_rows[["cause", "units"]].values.tolist() == [["unrecorded_change", 4.0]]


@pytest.mark.parametrize(
    "fed", [frozenset(), frozenset({"wms"}), frozenset({"wms", "shop", "gone"})], ids=len
)
def test_fed_rows_equal_isin(fed: frozenset[str]) -> None:
    systems = pd.Series(["wms", "shop", None, "erp", "wms", "shop"], dtype="str")
    want = systems.isin(fed).to_numpy()
    np.testing.assert_array_equal(fed_rows(systems, fed), want)
    wms = [True, False, False, False, True, False]
    assert fed_rows(systems, frozenset({"wms"})).tolist() == wms
