"""Always-in-stock sentinels (``9999``, ``999999`` …): unknown, never real units.

``[systems.X] sentinels`` applies to every location of the system (default
999999, 99999, 9999999 and 9999); ``[systems.X.location_sentinels]`` adds values for one
location (its name after the ``locations`` map), e.g. ``Printful = [9999]`` when only the
print-on-demand location reports 9999.  Values are compared before ``scale``/``unit``.
Each note names the location, the export column, the value and how many cells held it.
"""

from __future__ import annotations

import pandas as pd

from driftkit.load.normalize import SENTINEL, parse_quantities
from driftkit.load.rows import CELL_HEADER, Context


def mark_sentinels(
    staged: pd.DataFrame, values: pd.DataFrame, soft: pd.Series, locations: pd.Series, ctx: Context
) -> tuple[pd.DataFrame, pd.Series, tuple[str, ...]]:
    """Turn sentinel values into unknown, with their reason and one note per location+column.

    Parameters
    ----------
    staged
        The staged rows (raw quantity text, ``cell_header`` for wide sheets).
    values, soft
        Parsed (scaled) measures and the first soft reason per row, from ``rows.quantities``.
    locations
        The rows' client locations.

    Returns
    -------
    tuple
        The measures with sentinels set to NaN, the soft reasons with the sentinel reason
        where a row had no reason yet, and the notes.
    """
    assert ctx.system is not None
    system = ctx.system
    values, soft = values.copy(), soft.copy()
    hits = []
    for col in values.columns:
        raw = values[col] if _unscaled(ctx) else parse_quantities(staged[col])[0]
        hit = raw.isin(list(system.sentinels))
        for location, extra in system.location_sentinels.items():
            hit |= (locations.str.casefold() == location.strip().casefold()) & raw.isin(list(extra))
        if not hit.any():
            continue
        reason = SENTINEL + " " + raw[hit].map("{:g}".format) + " (treated as unknown)"
        values.loc[hit, col] = float("nan")
        soft[hit] = soft[hit].where(soft[hit].notna(), reason)
        header = staged[CELL_HEADER] if CELL_HEADER in staged else ctx.headers.get(col, col)
        hits.append(
            pd.DataFrame(
                {
                    "location": locations[hit],
                    "column": pd.Series(header, index=staged.index)[hit],
                    "value": raw[hit],
                }
            )
        )
    return values, soft, _notes(hits, ctx)


def _unscaled(ctx: Context) -> bool:
    assert ctx.system is not None
    return ctx.system.scale == 1.0 and ctx.system.unit == "each"


def _notes(hits: list[pd.DataFrame], ctx: Context) -> tuple[str, ...]:
    if not hits:
        return ()
    counts = pd.concat(hits).groupby(["location", "column", "value"], sort=True).size()
    return tuple(
        f"{ctx.name}: {n:,} cell(s) of {ctx.source_file} at location {row.location!r}, column "
        f"{row.column!r} hold the always-in-stock sentinel {row.value:g}; treated as unknown, "
        f"not {row.value:g} units (set [systems.{ctx.name}] sentinels or location_sentinels)"
        for row, n in zip(counts.index.to_frame().itertuples(), counts.to_numpy(), strict=True)
    )
