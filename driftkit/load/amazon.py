"""Amazon Seller Central reports: ``amazon_inventory`` and ``amazon_fba_inventory``.

``amazon_inventory`` is the open-listings "Inventory Report" (tab-separated, UTF-8 with BOM,
CRLF): ``quantity`` is what the listing offers, i.e. *available*; there is no on_hand.
``amazon_fba_inventory`` is the FBA "Manage inventory" report, read by header because the
columns vary by marketplace: ``afn-warehouse-quantity`` = on_hand,
``afn-fulfillable-quantity`` = available, ``afn-reserved-quantity`` = committed.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

_INVENTORY = {s.SKU: "sku", s.AVAILABLE: "quantity"}
_FBA = {
    s.SKU: "sku",
    s.ON_HAND: "afn-warehouse-quantity",
    s.AVAILABLE: "afn-fulfillable-quantity",
    s.COMMITTED: "afn-reserved-quantity",
}


def _stage(
    raw: RawTable, system: SystemConfig, wanted: dict[str, str], required: tuple[str, ...]
) -> tuple[pd.DataFrame, dict[str, str]]:
    folded = {c.strip().casefold(): c for c in raw.frame.columns}
    headers = {canon: folded[head] for canon, head in wanted.items() if head in folded}
    require_columns(
        list(raw.frame.columns),
        {c: wanted[c] for c in required if c not in headers},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = {system.format!r})",
    )
    staged = pd.DataFrame({canon: raw.frame[head] for canon, head in headers.items()})
    return staged.assign(**{s.LINE: raw.lines}), headers


def stage_inventory(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a Seller Central inventory report (``quantity`` → available).

    Returns
    -------
    tuple
        Staged frame (line, sku, available) and the canonical → export header map.
    """
    return _stage(raw, system, _INVENTORY, (s.SKU, s.AVAILABLE))


def stage_fba_inventory(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage an FBA manage-inventory report (header-driven).

    Returns
    -------
    tuple
        Staged frame (line, sku, on_hand, available, committed as present) and the
        canonical → export header map.
    """
    found = {c.strip().casefold() for c in raw.frame.columns}
    quantity = next((c for c in (s.ON_HAND, s.AVAILABLE) if _FBA[c] in found), s.ON_HAND)
    return _stage(raw, system, _FBA, (s.SKU, quantity))
