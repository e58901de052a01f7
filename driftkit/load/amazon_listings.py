"""Amazon Seller Central "All Listings" / "Active Listings" report (``amazon_listings``).

Tab-separated, UTF-8 with BOM: ``seller-sku, asin1, item-name, …, price, quantity, …``.
``quantity`` is what a merchant-fulfilled listing offers, i.e. *available*.  Listings
fulfilled by Amazon (FBA) leave ``quantity`` blank: their stock is in the FBA reports, so a
blank is unknown, never 0, and the row is rejected with that reason (the ``fulfillment-channel``
column, when the report has it, names the channel).
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

HEADERS = {s.SKU: "seller-sku", s.AVAILABLE: "quantity"}
FBA_BLANK = (
    "empty quantity: an FBA listing (stock managed by Amazon, see the FBA report) = unknown, not 0"
)


def stage_listings(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage an All/Active Listings report: one row per listing.

    Returns
    -------
    tuple
        Staged frame (line, sku, available, reason, column, value) and the canonical →
        export header map.
    """
    folded = {c.strip().casefold(): c for c in raw.frame.columns}
    require_columns(
        list(raw.frame.columns),
        {c: h for c, h in HEADERS.items() if h not in folded},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'amazon_listings')",
    )
    frame = raw.frame
    quantity = frame[folded["quantity"]].astype("str").str.strip()
    channel_col = folded.get("fulfillment-channel")
    channel = frame[channel_col].astype("str").str.strip() if channel_col else None
    blank = quantity.str.len() == 0
    if channel is not None:
        blank &= ~channel.str.casefold().isin(["default", ""])
    staged = pd.DataFrame(
        {
            s.SKU: frame[folded["seller-sku"]],
            s.AVAILABLE: quantity,
            s.LINE: raw.lines,
            s.REASON: pd.Series(FBA_BLANK, index=frame.index, dtype="str").where(blank),
            s.COLUMN: folded["quantity"],
            s.VALUE: channel if channel is not None else quantity,
        }
    )
    return staged, {s.SKU: folded["seller-sku"], s.AVAILABLE: folded["quantity"]}
