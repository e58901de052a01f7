"""An independent scenario stack, written from DESIGN §6's words (not the simulator's code).

Five systems in UTC: ``wms`` (authority), ``erp`` and ``shop`` export daily snapshots and
events; ``mkt`` (a marketplace) exports snapshots only, a copy of the wms's.  Every key
sells on alternate days (shop applies the shipment first, wms an hour later, erp two) and
receives a purchase order on days 2, 9 and 16 (wms, erp three hours later, shop four).
Each fault key carries one hand-written manifestation of a cause (:data:`FAULTS`), chosen
because the simulator does not produce it; its ground truth is written next to it.
:func:`write_client` writes the stack as a client folder of canonical CSVs, optionally with
dirty rows mixed in (rows the loaders must reject: unreadable numbers, dates and SKUs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

DAYS = 21
START = pd.Timestamp("2026-09-01T00:00Z")
SNAPSHOT_HOUR = 22
EVENT_SYSTEMS = ("wms", "erp", "shop")
KINDS = {"wms": "wms", "erp": "erp", "shop": "storefront", "mkt": "marketplace"}
PACK = 6


def at(day: int, hour: float) -> pd.Timestamp:
    return START + pd.Timedelta(days=day) + pd.Timedelta(hours=hour)


@dataclass
class Key:
    """One SKU's events, snapshot tweaks, catalog row, counts and ground truth."""

    sku: str
    start: float = 100.0
    sale: float = 2.0
    receipt: float = 12.0
    pack: float | None = PACK
    events: list[dict] = field(default_factory=list)
    offsets: list[tuple[str, int, int, float]] = field(default_factory=list)  # sys, from, to, +
    divide: dict[str, float] = field(default_factory=dict)  # system → shown in packs of n
    counts: list[tuple[pd.Timestamp, float]] = field(default_factory=list)
    truth: list[tuple[str, str, str]] = field(default_factory=list)  # system, cause, shape

    def add(
        self,
        system: str,
        kind: str,
        qty: float | None,
        when: pd.Timestamp,
        ref: str,
        eid: str,
        **extra: object,
    ) -> None:
        self.events.append(
            dict(
                system=system,
                kind=kind,
                qty_delta=qty,
                occurred_at=extra.pop("occurred", when),
                recorded_at=when,
                reference=ref,
                event_id=eid,
                **extra,
            )
        )


def normal_flow(key: Key, index: int) -> Key:
    """Alternate-day sales and three receipts, recorded by every event system."""
    for day in range(DAYS):  # three weeks of one key's business events
        hour = 8 + index % 5
        if (index + day) % 2 == 0:
            ref = f"SO-{index:02d}{day:02d}"
            for lag, system in enumerate(("shop", "wms", "erp")):
                key.add(
                    system,
                    "shipment",
                    -key.sale,
                    at(day, hour + lag),
                    ref,
                    f"{system}-{ref}",
                    occurred=at(day, hour),
                )
        if day == 4:  # one customer return per key: shop, erp, then the wms restocks it
            ref = f"RMA-{index:02d}"
            for lag, system in ((0, "shop"), (1, "erp"), (2, "wms")):
                key.add(
                    system,
                    "return",
                    1.0,
                    at(day, 13 + lag),
                    ref,
                    f"{system}-{ref}",
                    occurred=at(day, 13),
                )
        if day in (2, 9, 16):
            ref = f"PO-{index:02d}{day:02d}"
            for lag, system in ((0, "wms"), (3, "erp"), (4, "shop")):
                key.add(
                    system,
                    "receipt",
                    key.receipt,
                    at(day, 10 + lag),
                    ref,
                    f"{system}-{ref}",
                    occurred=at(day, 10),
                )
    return key


def _find(key: Key, system: str, ref: str) -> dict:
    return next(e for e in key.events if e["system"] == system and e["reference"] == ref)


def _sale_ref(key: Key, index: int, after: int) -> str:
    day = next(d for d in range(after, DAYS) if (index + d) % 2 == 0)
    return f"SO-{index:02d}{day:02d}"


# --- manifestations: each edits one key and states its ground truth ------------------------


def dup_retry_next_day(key: Key, i: int) -> None:
    """erp applies a shipment again 20 h later under a new event id (a retried webhook)."""
    first = _find(key, "erp", _sale_ref(key, i, 5))
    key.add(
        "erp",
        "shipment",
        first["qty_delta"],
        first["recorded_at"] + pd.Timedelta(hours=20),
        first["reference"],
        first["event_id"] + "-retry",
        occurred=first["occurred_at"],
    )
    key.truth.append(("erp", "duplicate_event", "retry next day, new id"))


def dup_applied_three_times(key: Key, i: int) -> None:
    """The shop applies one order's shipment three times within minutes (k = 3)."""
    first = _find(key, "shop", _sale_ref(key, i, 6))
    for n in (1, 2):
        key.add(
            "shop",
            "shipment",
            first["qty_delta"],
            first["recorded_at"] + pd.Timedelta(minutes=3 * n),
            first["reference"],
            f"{first['event_id']}-{n}",
            occurred=first["occurred_at"],
        )
    key.truth.append(("shop", "duplicate_event", "three applications"))


def missing_vendor_receipt(key: Key, i: int) -> None:
    """A purchase-order receipt reaches the wms and the shop, never the erp."""
    key.events.remove(_find(key, "erp", f"PO-{i:02d}09"))
    key.truth.append(("erp", "missing_event", "receipt never in the erp"))


def missing_shipment_confirmation(key: Key, i: int) -> None:
    """A shipment confirmation reaches the wms and the erp but not the storefront."""
    key.events.remove(_find(key, "shop", _sale_ref(key, i, 7)))
    key.truth.append(("shop", "missing_event", "confirmation never on the storefront"))


def missing_restock(key: Key, i: int) -> None:
    """A customer return is recorded by the shop and the erp; the wms never restocks it."""
    key.events.remove(_find(key, "wms", f"RMA-{i:02d}"))
    key.truth.append(("wms", "missing_event", "return recorded, never restocked"))


def _count(key: Key, day: int, shrink: float) -> tuple[float, float]:
    """A count on ``day`` at 06:00 in the wms that finds ``shrink`` fewer units, synced to
    the erp and the shop at 07:00; returns (pre-count value, counted value)."""
    before = key.start + sum(
        e["qty_delta"] for e in key.events if e["system"] == "wms" and e["recorded_at"] < at(day, 6)
    )
    counted = before - shrink
    key.add("wms", "count", None, at(day, 6), f"CNT-{day}", f"wms-cnt-{key.sku}", set_qty=counted)
    for system in ("erp", "shop"):
        key.add(
            system,
            "sync",
            None,
            at(day, 7),
            "",
            f"{system}-sync-{key.sku}",
            set_qty=counted,
            source_as_of=at(day, 6),
        )
    key.counts.append((at(day, 6), counted))
    return before, counted


def stale_batch_other_system(key: Key, i: int) -> None:
    """A batch computed before the count overwrites the count's value in the erp (the
    wms was counted; the erp, another system, is overwritten)."""
    before, _ = _count(key, 10, 4.0)
    key.add(
        "erp",
        "sync",
        None,
        at(10, 9),
        "",
        f"erp-stale-{key.sku}",
        set_qty=before,
        source_as_of=at(9, 20),
    )
    key.truth.append(("erp", "stale_overwrite", "stale batch in a system not counted"))


def stale_revert_without_event(key: Key, i: int) -> None:
    """At 04:00 two days after the count the shop is set back to its pre-count level with
    no event (a batch that logs nothing); its sales go on from there."""
    before, counted = _count(key, 10, 5.0)
    moved = sum(
        e["qty_delta"]
        for e in key.events
        if e["system"] == "shop" and at(10, 7) < e["recorded_at"] <= at(12, 4)
    )
    key.offsets.append(("shop", 12, DAYS - 1, before - (counted + moved)))
    key.truth.append(("shop", "stale_overwrite", "revert to pre-count level, no event"))


def unit_receipt_in_packs(key: Key, i: int) -> None:
    """The erp records one purchase order in packs (12 eaches → 2) while the wms counts
    eaches; the erp's own roll-forward is clean."""
    event = _find(key, "erp", f"PO-{i:02d}09")
    event["qty_delta"] = key.receipt / PACK
    key.truth.append(("erp", "unit_mismatch", "one receipt in packs"))


def unit_pack_missing_from_catalog(key: Key, i: int) -> None:
    """The marketplace shows the stock in packs of 4; the catalog has no pack size (the
    key's quantities are multiples of 4: :data:`SETUP`)."""
    key.divide["mkt"] = 4.0
    key.truth.append(("mkt", "unit_mismatch", "pack size evident only from the ratio"))


def unit_rounding_residue(key: Key, i: int) -> None:
    """The erp converts cases to eaches with rounding and shows a third of a unit less."""
    key.offsets.append(("erp", 0, DAYS - 1, -1.0 / 3.0))
    key.truth.append(("erp", "unit_mismatch", "rounding residue"))


def lag_lands_after_midnight(key: Key, i: int) -> None:
    """The shop's record of a morning sale lands at 00:10 the next day."""
    event = _find(key, "shop", _sale_ref(key, i, 8))
    event["occurred_at"] = event["occurred_at"].normalize() + pd.Timedelta(hours=6)
    event["recorded_at"] = event["occurred_at"].normalize() + pd.Timedelta(days=1, minutes=10)
    key.truth.append(("shop", "sync_lag", "lands minutes after midnight"))


def lag_receipt_three_days(key: Key, i: int) -> None:
    """The erp books a receipt three days late."""
    event = _find(key, "erp", f"PO-{i:02d}09")
    event["recorded_at"] = event["recorded_at"] + pd.Timedelta(days=3)
    key.truth.append(("erp", "sync_lag", "receipt booked three days late"))


def unrecorded_override(key: Key, i: int) -> None:
    """Someone types a new on-hand into the erp on day 12 (+7), with no event."""
    key.offsets.append(("erp", 12, DAYS - 1, 7.0))
    key.truth.append(("erp", "unrecorded_change", "manual override, fed system"))


def unrecorded_marketplace_override(key: Key, i: int) -> None:
    """The marketplace (no event feed) shows 5 fewer for four days, then agrees again."""
    key.offsets.append(("mkt", 5, 8, -5.0))
    key.truth.append(("mkt", "unrecorded_change", "temporary override, snapshot-only"))


FAULTS: tuple[Callable[[Key, int], None], ...] = (
    dup_retry_next_day,
    dup_applied_three_times,
    missing_vendor_receipt,
    missing_shipment_confirmation,
    missing_restock,
    stale_batch_other_system,
    stale_revert_without_event,
    unit_receipt_in_packs,
    unit_pack_missing_from_catalog,
    unit_rounding_residue,
    lag_lands_after_midnight,
    lag_receipt_three_days,
    unrecorded_override,
    unrecorded_marketplace_override,
)

#: Keys whose manifestation needs other quantities, set before their normal flow.
SETUP = {unit_pack_missing_from_catalog: dict(start=96.0, sale=4.0, receipt=24.0, pack=None)}
