"""The scenario stack as canonical tables and as a client folder (clean or dirty)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.scenarios.stack import (
    DAYS,
    EVENT_SYSTEMS,
    FAULTS,
    KINDS,
    SETUP,
    SNAPSHOT_HOUR,
    Key,
    at,
    normal_flow,
)

LOCATION = "main"


def build(copies: int = 2, clean: int = 12) -> list[Key]:
    """``copies`` keys per manifestation plus ``clean`` keys with no fault."""
    keys = []
    plan = [f for f in FAULTS for _ in range(copies)] + [None] * clean
    for index, fault in enumerate(plan):  # a few dozen hand-written keys
        key = Key(sku=f"SKU{index:03d}", **SETUP.get(fault, {}))  # type: ignore[arg-type]
        normal_flow(key, index)
        if fault is not None:
            fault(key, index)
        keys.append(key)
    return keys


def _replay(key: Key, system: str) -> np.ndarray:
    """The system's record at each day's snapshot time, from its own events."""
    rows = sorted((e for e in key.events if e["system"] == system), key=lambda e: e["recorded_at"])
    value, out, i = key.start, np.zeros(DAYS), 0
    for day in range(DAYS):  # three weeks
        while i < len(rows) and rows[i]["recorded_at"] <= at(day, SNAPSHOT_HOUR):
            e = rows[i]
            value = e["set_qty"] if e.get("set_qty") is not None else value + e["qty_delta"]
            i += 1
        out[day] = value
    return out


def snapshots(keys: list[Key]) -> pd.DataFrame:
    """Daily snapshots of every system; the marketplace copies the wms."""
    frames = []
    for key in keys:  # a few dozen keys
        values = {s: _replay(key, s) for s in EVENT_SYSTEMS}
        values["mkt"] = values["wms"].copy()
        for system, first, last, offset in key.offsets:
            values[system][first : last + 1] += offset
        for system, n in key.divide.items():
            values[system] = values[system] / n
        for system, v in values.items():
            frames.append(
                pd.DataFrame(
                    {
                        "system": system,
                        "sku": key.sku,
                        "location": LOCATION,
                        "as_of": [at(d, SNAPSHOT_HOUR) for d in range(DAYS)],
                        "on_hand": v,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def events(keys: list[Key]) -> pd.DataFrame:
    rows = pd.DataFrame([{**e, "sku": k.sku} for k in keys for e in k.events])
    return rows.assign(location=LOCATION)


def truth(keys: list[Key]) -> pd.DataFrame:
    """``system, sku, location, cause, shape``: every injected fault."""
    rows = [(s, k.sku, LOCATION, c, shape) for k in keys for s, c, shape in k.truth]
    return pd.DataFrame(rows, columns=["system", "sku", "location", "cause", "shape"])


def _iso(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = pd.to_datetime(out[c], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


#: Dirty rows appended to each file: each is unreadable in one field, so the loader
#: must reject it (rows read = accepted + rejected) and the findings must not change.
DIRTY_SNAPSHOT = [
    {"sku": "SKU000", "location": LOCATION, "as_of": "2026-13-45", "on_hand": "12"},
    {"sku": "SKU001", "location": LOCATION, "as_of": "2026-09-03T22:00:00Z", "on_hand": "twelve"},
    {"sku": "", "location": LOCATION, "as_of": "2026-09-03T22:00:00Z", "on_hand": "7"},
]
DIRTY_EVENT = [
    {
        "event_id": "X1",
        "kind": "shipment",
        "sku": "SKU002",
        "qty_delta": "lots",
        "occurred_at": "2026-09-04T10:00:00Z",
        "reference": "SO-9999",
    },
    {
        "event_id": "X2",
        "kind": "teleport",
        "sku": "SKU003",
        "qty_delta": "-1",
        "occurred_at": "2026-09-04T10:00:00Z",
        "reference": "SO-9998",
    },
    {
        "event_id": "X3",
        "kind": "receipt",
        "sku": "SKU004",
        "qty_delta": "5",
        "occurred_at": "yesterday",
        "reference": "PO-9997",
    },
]

TOML = """[client]
name = "Scenario stack"
timezone = "UTC"
authority = "wms"

[sku]
remove = "-"

[catalog]
path = "catalog.csv"
[counts]
path = "counts.csv"
"""


def write_client(root: Path, keys: list[Key], *, dirty: bool) -> Path:
    """Write the stack as a client folder of canonical CSVs (``dirty``: junk rows added)."""
    root.mkdir(parents=True, exist_ok=True)
    toml = TOML
    snaps, evs = _iso(snapshots(keys), ["as_of"]), events(keys)
    evs = _iso(evs, ["occurred_at", "recorded_at", "source_as_of"])
    for system, kind in KINDS.items():
        toml += f'\n[systems.{system}]\nkind = "{kind}"\nformat = "csv"\n'
        toml += f'snapshots = "{system}_snapshots.csv"\n'
        part = snaps[snaps["system"] == system].drop(columns="system")
        if dirty:
            part = pd.concat([part, pd.DataFrame(DIRTY_SNAPSHOT)], ignore_index=True)
        part.to_csv(root / f"{system}_snapshots.csv", index=False)
        if system in EVENT_SYSTEMS:
            toml += f'events = "{system}_events.csv"\n'
            mine = evs[evs["system"] == system].drop(columns="system")
            if dirty:
                extra = pd.DataFrame(DIRTY_EVENT).assign(location=LOCATION)
                mine = pd.concat([mine, extra], ignore_index=True)
            mine.to_csv(root / f"{system}_events.csv", index=False)
    (root / "client.toml").write_text(toml, encoding="utf-8")
    catalog = pd.DataFrame(
        {
            "sku": [k.sku for k in keys],
            "unit_cost": 10.0,
            "unit_price": 25.0,
            "pack_size": [k.pack for k in keys],
            "category": "scenario",
        }
    )
    catalog.to_csv(root / "catalog.csv", index=False)
    counts = pd.DataFrame(
        [(k.sku, LOCATION, t, q) for k in keys for t, q in k.counts],
        columns=["sku", "location", "counted_at", "counted_qty"],
    )
    _iso(counts, ["counted_at"]).to_csv(root / "counts.csv", index=False)
    return root
