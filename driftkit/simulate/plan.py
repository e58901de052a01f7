"""The simulator's plan: everything fixed before day 0.

:func:`make_plan` draws the catalog, the keys (sku × location) and their demand and
replenishment parameters into a :class:`Plan`; the fault rates are in
:mod:`driftkit.simulate.faults`.
Private: the public surface is :mod:`driftkit.simulate.simulation`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from driftkit import schema as S
from driftkit.errors import InputError

SYSTEMS = ("wms", "erp", "shop", "3pl")
DAY = 86400

M5_DIR = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "m5_walmart_subset"
_M5_SALES = "m5_sales_train_validation_10items.csv"
_CATEGORIES = np.array(["camping", "apparel", "footwear", "kitchen", "lighting", "bags"])
_PACKS = np.array([1, 1, 1, 6, 12, 24])
_WEEKLY = np.array([0.95, 0.9, 0.9, 0.95, 1.1, 1.3, 1.2])  # Monday .. Sunday
_ADJ = ["Trail", "Summit", "Canyon", "Harbor", "Prairie", "Aspen", "Cedar", "Glacier"]
_NOUN = ["Mug", "Lantern", "Jacket", "Boot", "Pack", "Blanket", "Stove", "Bottle", "Tarp"]
_SPECIAL_TITLES = {
    2: "<b>Bold</b> Trail Mug",
    5: "Crème Brûlée Tin — 12 oz",
    8: "<script>alert(1)</script> Camp Lantern",
    11: 'Tent, 2-Person "Ultralight"',
    13: "Zürich Wool Beanie ★",
}


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything fixed before day 0: catalog, keys, demand and replenishment parameters."""

    client_id: str
    timezone: str
    start: date
    days: int
    skus: pa.Array  # canonical SKU per sku index
    raw_skus: dict[str, np.ndarray]  # per system (and "catalog"): the SKU as exported
    locations: tuple[str, ...]
    key_sku: np.ndarray
    key_loc: np.ndarray
    third_party: np.ndarray  # per key: held by the 3PL (else by the WMS)
    erp_packs: np.ndarray  # per key: the ERP records it in packs (unit mismatch)
    pack: np.ndarray  # per sku
    catalog: pd.DataFrame
    expected: np.ndarray | None  # synthetic demand: mean per key and day
    m5_units: np.ndarray | None  # m5 demand: units per sku and day
    share: np.ndarray  # demand share per location
    rop: np.ndarray
    order_qty: np.ndarray
    lead: np.ndarray
    initial: np.ndarray
    count_phase: np.ndarray
    cycle: int
    day0: int  # local wall-clock seconds of the start day's midnight
    offsets: np.ndarray = field(repr=False)  # per day: local − UTC seconds

    @property
    def n_keys(self) -> int:
        return int(self.key_sku.size)

    def utc(self, local: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of local wall-clock seconds (anchors avoid 01:00–03:59)."""
        return local - self.offsets[(local - self.day0) // DAY]

    def demand_on(self, day: int, rng: np.random.Generator) -> np.ndarray:
        """Units wanted per key on ``day``."""
        if self.expected is not None:
            noise = rng.gamma(2.0, 0.5, self.n_keys)
            return rng.poisson(self.expected[:, day] * noise)
        assert self.m5_units is not None
        units = self.m5_units[:, day]
        out = np.zeros((units.size, self.share.size), np.int64)
        left, mass = units.copy(), 1.0
        for loc, share in enumerate(self.share[:-1]):  # a loop over locations, not keys
            out[:, loc] = rng.binomial(left, min(share / mass, 1.0))
            left, mass = left - out[:, loc], mass - share
        out[:, -1] = left
        return out.reshape(-1)


def make_plan(
    *,
    client_id: str,
    n_skus: int,
    days: int,
    n_locations: int,
    start: date,
    timezone: str,
    seed: int,
    demand: str,
    sku_style: str,
    unit_mismatch: float,
    sku_numbers: np.ndarray | None = None,
) -> Plan:
    """Draw the catalog, keys and their demand and replenishment parameters.

    ``sku_numbers`` (default ``0..n_skus-1``) number the SKU codes, so that the chunks of a
    large simulation (:mod:`driftkit.simulate.chunks`) get disjoint SKUs.
    """
    rng = np.random.default_rng([seed, 0])
    numbers = np.arange(n_skus) if sku_numbers is None else np.asarray(sku_numbers)
    skus, raw = _sku_codes(client_id, numbers, sku_style)
    locations = ("main", *(f"dc{i}" for i in range(2, n_locations)), "east")
    key_sku = np.repeat(np.arange(n_skus), n_locations)
    key_loc = np.tile(np.arange(n_locations), n_skus)
    share = np.r_[0.6, np.full(n_locations - 1, 0.4 / (n_locations - 1))]
    pack = rng.choice(_PACKS, n_skus)
    expected, m5_units, mean = _demand_model(rng, n_skus, days, start, share, demand)
    mean_key = mean[key_sku] * share[key_loc]
    lead = rng.integers(3, 11, n_skus)[key_sku]
    rop = np.ceil(mean_key * lead + 1.65 * np.sqrt(2 * mean_key * lead)).astype(np.int64)
    order_qty = np.maximum(np.ceil(mean_key * 14), 2).astype(np.int64)
    order_qty = np.ceil(order_qty / pack[key_sku]).astype(np.int64) * pack[key_sku]
    mismatched = (pack > 1) & (rng.random(n_skus) < unit_mismatch)
    tz = ZoneInfo(timezone)
    noon = [
        datetime(start.year, start.month, start.day, 12) + timedelta(d) for d in range(days + 8)
    ]
    offsets = np.array([tz.utcoffset(t).total_seconds() for t in noon], np.int64)  # type: ignore[union-attr]
    return Plan(
        client_id=client_id,
        timezone=timezone,
        start=start,
        days=days,
        skus=pa.array(skus, pa.string()),
        raw_skus=raw,
        locations=locations,
        key_sku=key_sku,
        key_loc=key_loc,
        third_party=key_loc == n_locations - 1,
        erp_packs=mismatched[key_sku],
        pack=pack,
        catalog=_catalog(rng, skus, raw["catalog"], pack),
        expected=expected,
        m5_units=m5_units,
        share=share,
        rop=rop,
        order_qty=order_qty,
        lead=lead,
        initial=rop + rng.integers(0, order_qty + 1),
        count_phase=rng.integers(0, 10, key_sku.size),
        cycle=10,
        day0=int((np.datetime64(start, "s") - np.datetime64(0, "s")).astype(np.int64)),
        offsets=offsets,
    )


def _sku_codes(
    client_id: str, numbers: np.ndarray, style: str
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(canonical SKU per number, each system's raw spelling of it)."""
    if style == "numeric":
        codes = np.array([f"{1000 + 37 * i:07d}" for i in numbers.tolist()], dtype=object)
        return list(codes), {s: codes for s in (*SYSTEMS, "catalog")}
    prefix = "".join(p[0] for p in client_id.replace("_", "-").split("-") if p).upper()[:3]
    nums = [str(10001 + i) for i in numbers.tolist()]
    dashed = np.array([f"{prefix}-{x}" for x in nums], dtype=object)
    plain = np.array([f"{prefix}{x}" for x in nums], dtype=object)
    lower = np.array([f"{prefix.lower()}-{x}" for x in nums], dtype=object)
    raw = {"wms": lower, "erp": plain, "shop": dashed, "3pl": dashed, "catalog": dashed}
    return list(plain), raw


def _demand_model(
    rng: np.random.Generator, n: int, days: int, start: date, share: np.ndarray, demand: str
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """(expected per key and day | None, m5 units per sku and day | None, mean per sku)."""
    if demand == "m5":
        units = _m5_units(rng, n, days)
        return None, units, np.maximum(units.mean(axis=1), 0.05)
    rate = np.clip(rng.lognormal(np.log(0.35), 1.0, n), 0.02, 20.0)
    phase = rng.random(n)
    doy = (np.datetime64(start) + np.arange(days)).astype("datetime64[D]")
    year_pos = (doy - doy.astype("datetime64[Y]")).astype(np.int64) / 365.0
    weekday = (doy.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    season = 1 + 0.3 * np.sin(2 * np.pi * (year_pos[None, :] + phase[:, None]))
    per_sku = rate[:, None] * season * _WEEKLY[weekday][None, :]
    expected = np.repeat(per_sku, share.size, axis=0) * np.tile(share, n)[:, None]
    return expected, None, rate


def _m5_units(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    path = M5_DIR / _M5_SALES
    if not path.is_file():
        raise InputError(
            f"{path}: not found; demand='m5' reads the M5 sample beside the checkout "
            "(../shared/realdata/m5_walmart_subset); use demand='synthetic' instead"
        )
    frame = pd.read_csv(path)
    series = frame.filter(regex=r"^d_\d+$").to_numpy(np.int64)
    if series.shape[1] <= days:
        raise InputError(f"{path}: {series.shape[1]} days of sales; days={days} is too many")
    pick = rng.integers(0, series.shape[0], n)
    offset = rng.integers(0, series.shape[1] - days, n)
    return series[pick[:, None], offset[:, None] + np.arange(days)[None, :]]


def _catalog(
    rng: np.random.Generator, skus: list[str], raw: np.ndarray, pack: np.ndarray
) -> pd.DataFrame:
    n = len(skus)
    cost = np.round(np.clip(rng.lognormal(np.log(14.0), 0.8, n), 1.5, 400.0), 2)
    titles = [
        _SPECIAL_TITLES.get(i, f"{_ADJ[i % len(_ADJ)]} {_NOUN[(i // len(_ADJ)) % len(_NOUN)]}")
        for i in range(n)
    ]
    return pd.DataFrame(
        {
            S.SKU: pd.array(skus, dtype="str"),
            S.UNIT_COST: cost,
            S.UNIT_PRICE: np.round(cost * rng.uniform(1.6, 2.6, n), 2),
            S.PACK_SIZE: pack.astype(np.float64),
            S.CATEGORY: pd.array(_CATEGORIES[np.arange(n) % _CATEGORIES.size], dtype="str"),
            S.TITLE: pd.array(titles, dtype="str"),
            "_raw_sku": pd.array(raw, dtype="str"),
        }
    )
