"""WooCommerce product CSV export (``woocommerce_products``).

``Stock`` is empty when stock is not managed: unknown, never 0 (such rows are rejected with
that reason).  WooCommerce reduces ``Stock`` when an order is placed, so it is the
*available* quantity.  A variation without its own SKU is keyed on its parent and attribute
values (``PARENT:BLACK/M``).  Headers must be the exporter's English ones.  Rows with only
trailing fields missing (WooCommerce 9.x leaves them out) are padded with blanks; a padded
row whose ``Type`` is not a product type is misaligned and rejected with its line.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable
from driftkit.load.shopify import variant_key

TYPES = {"simple", "variable", "variation", "grouped", "external", "downloadable", "virtual"}


def stage_products(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a WooCommerce product export.

    Returns
    -------
    tuple
        Staged frame (line, sku, available) and the canonical → export header map.
    """
    frame = raw.frame
    require_columns(
        list(frame.columns),
        {s.SKU: "SKU", s.AVAILABLE: "Stock", "type": "Type"},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'woocommerce_products')",
    )
    folded = {c.casefold(): c for c in frame.columns}
    empty = pd.Series("", index=frame.index, dtype="str")
    attributes = [frame.get(folded.get(f"attribute {i} value(s)", ""), empty) for i in (1, 2, 3)]
    variation = frame["Type"].str.contains("variation", case=False, na=False)
    parent = frame.get(folded.get("parent", ""), empty).where(variation, "")
    sku = variant_key(frame["SKU"], parent, attributes)
    staged = pd.DataFrame({s.SKU: sku, s.AVAILABLE: frame["Stock"], s.LINE: raw.lines})
    return _misaligned(staged, frame, raw), {s.SKU: "SKU", s.AVAILABLE: "Stock"}


def _misaligned(staged: pd.DataFrame, frame: pd.DataFrame, raw: RawTable) -> pd.DataFrame:
    """Padded short rows are kept only when their fields line up: a known ``Type``.

    A short row that lost a field in the middle shifts every later field; its ``Type`` (and
    ``ID`` when exported) no longer hold a product type (and a number), so it is rejected.
    """
    padded = pd.Series(raw.lines).isin(raw.padded).to_numpy()
    if not padded.any():
        return staged
    words = frame["Type"].astype("str").str.casefold().str.split(r"[,\s]+", regex=True).explode()
    known = words.isin(TYPES).groupby(level=0).all().reindex(frame.index, fill_value=False)
    ids = frame.get("ID", pd.Series("0", index=frame.index)).astype("str").str.strip()
    aligned = known & ids.str.fullmatch(r"\d*").astype(bool)
    bad = padded & ~aligned.to_numpy()
    reason = "short row whose fields do not line up with the header (Type/ID shifted), not padded"
    out = staged.copy()
    out[s.REASON] = pd.Series(reason, index=staged.index, dtype="str").where(bad)
    out[s.COLUMN] = "Type"
    out[s.VALUE] = frame["Type"]
    return out
