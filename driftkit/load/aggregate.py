"""``aggregate = "sum"``: rows that share a key and snapshot time are summed (bins, lots).

Without the declaration duplicates stay rejected (exact → the first kept, conflicting → all
rejected).  With it, every accepted row of a key (sku, location, as_of) adds to one canonical
row: a measure's sum is unknown only when every summed value is unknown.  The note says how
many rows were summed into how many keys.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.load.rows import Context

KEYS = [s.SKU, s.LOCATION, s.AS_OF]


def sum_rows(
    kept: pd.DataFrame, measured: list[str], ctx: Context
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Sum accepted rows per key and say how many rows went into how many keys.

    Returns
    -------
    tuple
        The summed frame (sku, location, as_of and the measured columns) and the note.
    """
    summed = kept.groupby(KEYS, sort=False, as_index=False, dropna=False)[measured].sum(min_count=1)
    shared = kept.duplicated(KEYS, keep=False)
    if not shared.any():
        return summed, ()
    keys = len(kept[shared].drop_duplicates(KEYS))
    return summed, (
        f"{ctx.name}: aggregate = 'sum' summed {len(kept):,} rows of {ctx.source_file} into "
        f"{len(summed):,} keys ({int(shared.sum()):,} rows shared {keys:,} keys)",
    )
