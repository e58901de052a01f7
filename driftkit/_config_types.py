"""The frozen dataclasses a ``client.toml`` becomes, and the values its fields allow (DESIGN §3).

Private: import these from :mod:`driftkit.config`, which parses ``client.toml`` into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from driftkit._toml import TableReader
from driftkit.schema import AS_OF, AVAILABLE, COMMITTED, ON_HAND, SKU, Measure, SystemKind

FORMATS = (
    "csv",
    "parquet",
    "shopify_inventory",
    "shopify_products",
    "amazon_inventory",
    "amazon_fba_inventory",
    "bigcommerce_products",
    "woocommerce_products",
    "amazon_listings",
    "magento_products",
)
EVENT_FORMATS = ("csv", "parquet")
UNITS = ("each", "pack")
DEFAULT_SENTINELS = (999999.0, 99999.0, 9999999.0, 9999.0)
AGGREGATES = ("none", "sum")


@dataclass(frozen=True)
class SkuRules:
    """How SKUs (and references) are normalized before comparing."""

    strip: bool = True
    upper: bool = True
    remove: str = ""
    aliases: Path | None = None


@dataclass(frozen=True)
class TableSource:
    """Where a client-wide table (catalog, counts) comes from."""

    path: str
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WideSheet:
    """A wide sheet: one quantity column per location or channel, melted to rows.

    ``locations`` maps each quantity column's export header to the location it holds;
    ``measure`` is what every such cell is (on_hand, available or committed).
    """

    locations: dict[str, str]
    measure: str = "on_hand"

    @classmethod
    def parse(cls, r: TableReader) -> WideSheet:
        """The ``[systems.X.wide]`` table of system reader ``r`` (csv or parquet only)."""
        if r.table.get("format", "csv") not in ("csv", "parquet"):
            r.fail("wide", r.table["wide"], "no [wide] table: it applies to format csv or parquet")
        mapped = sorted(set(r.get("columns", dict, {})) - {SKU, AS_OF})
        if mapped:
            r.fail(
                f"columns.{mapped[0]}",
                mapped[0],
                "sku or as_of only: [wide.locations] holds quantities",
            )
        wide = r.sub("wide")
        wide.only({"locations", "measure"})
        locations = wide.mapping("locations")
        if not locations:
            wide.fail("locations", None, "a table: quantity column header = location name")
        measures = (ON_HAND, AVAILABLE, COMMITTED)
        return cls(locations=locations, measure=wide.choice("measure", measures, ON_HAND))


@dataclass(frozen=True)
class SystemConfig:
    """One system of a client: its kind, export format and files."""

    id: str
    kind: SystemKind
    format: str = "csv"
    snapshots: str | None = None
    events: str | None = None
    events_format: str = "csv"
    columns: dict[str, str] = field(default_factory=dict)
    event_columns: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    event_kinds: dict[str, str] = field(default_factory=dict)
    as_of: datetime | None = None
    as_of_pattern: str | None = None
    as_of_time: time = time(23, 59)
    timestamp_format: str | None = None
    unit: str = "each"
    scale: float = 1.0
    sentinels: tuple[float, ...] = DEFAULT_SENTINELS
    location_sentinels: dict[str, tuple[float, ...]] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    wide: WideSheet | None = None
    aggregate: str = "none"


@dataclass(frozen=True)
class ImpactParams:
    """Documented parameters of the cost model (DESIGN §7)."""

    walk_away_share: float = 0.40
    lead_time_days: float = 7.0
    service_level: float = 0.95
    pick_failure_cost: float = 15.0
    holding_rate: float = 0.25
    projection_weeks: int = 8
    empty_check_every: int = 5
    empty_check_at: float = 0.10
    category_lead_time_days: dict[str, float] = field(default_factory=dict)
    category_service_level: dict[str, float] = field(default_factory=dict)


TIERS = ("A", "B", "C")
_TIER_LIMITS = {"min_agreement_rate", "max_value_at_risk", "max_drifted_sku_locations"}


@dataclass(frozen=True)
class CheckParams:
    """``[check]``: how SKUs are tiered for scheduled checks and each tier's limits.

    ``tier_a_share``/``tier_b_share``: tier A is the keys making the first share of the
    client's daily demand value, B up to the second, C the rest (docs/fix_plan.md).
    ``limits``: tier → ``min_agreement_rate``, ``max_value_at_risk``,
    ``max_drifted_sku_locations`` (``[check.A]`` …), what ``driftkit check --tier`` applies.
    """

    tier_a_share: float = 0.80
    tier_b_share: float = 0.95
    limits: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def read(cls, r: TableReader) -> CheckParams:
        """Parse the ``[check]`` table (unknown keys and tiers are errors)."""
        r.only({"tier_a_share", "tier_b_share", *TIERS})
        a = r.number("tier_a_share", 0.80, low=0.01, high=1.0)
        b = r.number("tier_b_share", 0.95, low=a, high=1.0)
        limits = {t: _limits(r.sub(t)) for t in TIERS if t in r.table}
        return cls(a, b, limits)


def _limits(r: TableReader) -> dict[str, float]:
    r.only(_TIER_LIMITS)
    return {
        k: r.number(k, 0.0, high=1.0 if k.startswith("min_") else float("inf"))
        for k in sorted(_TIER_LIMITS & set(r.table))
    }


@dataclass(frozen=True)
class ClientConfig:
    """A parsed ``client.toml``; paths are resolved inside ``root``."""

    id: str
    root: Path
    name: str
    timezone: str = "UTC"
    currency: str = "USD"
    authority: str = ""
    measure: Measure = Measure.ON_HAND
    tolerance: float = 0.0
    staleness_hours: float = 24.0
    default_location: str = "main"
    sku: SkuRules = field(default_factory=SkuRules)
    catalog: TableSource | None = None
    counts: TableSource | None = None
    systems: dict[str, SystemConfig] = field(default_factory=dict)
    impact: ImpactParams = field(default_factory=ImpactParams)
    check: CheckParams = field(default_factory=CheckParams)

    @property
    def source(self) -> Path:
        """The ``client.toml`` this config was read from."""
        return self.root / "client.toml"

    def resolve(self, pattern: str) -> list[Path]:
        """Files matching ``pattern`` (relative, glob allowed) inside the client folder, sorted."""
        return sorted(p for p in self.root.glob(pattern) if p.is_file())
