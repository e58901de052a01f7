"""Wide sheets: one quantity column per location or channel, melted to canonical rows.

``[systems.X.wide]`` declares which columns hold quantities (``locations``: export header =
location) and what they measure (``measure``, default on_hand).  Every declared cell
becomes one staged row (sku, location, the measure), so a sheet of R rows and C declared
columns stages R × C cells.  A line is accepted when any of its cells is used (as for
Shopify's per-location export); :func:`cell_note` accounts for every cell: used, empty
(unknown, never 0), sentinel, or rejected with the reason.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.errors import InputError
from driftkit.load.guard import excerpt
from driftkit.load.headers import closest, require_columns
from driftkit.load.read import RawTable
from driftkit.load.rows import CELL_HEADER, Context, Problems


def stage_wide(
    raw: RawTable, system: SystemConfig, *, has_as_of: bool
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a wide sheet: one staged row per (line, declared quantity column).

    Returns
    -------
    tuple
        Staged frame (line, sku, location, as_of if mapped, the measure, cell_header) and
        the canonical → export header map (the measure maps to each cell's own header).
    """
    assert system.wide is not None
    found = list(raw.frame.columns)
    folded = {name.strip().casefold(): name for name in found}
    headers = {c: h for c, h in system.columns.items() if c in (s.SKU, s.AS_OF)}
    headers |= {c: folded[c] for c in (s.SKU, s.AS_OF) if c not in headers and c in folded}
    setting = f"[systems.{system.id}.columns]"
    required = {s.SKU: headers.get(s.SKU, s.SKU)}
    if not has_as_of:
        required[s.AS_OF] = headers.get(s.AS_OF, s.AS_OF)
    require_columns(found, required | headers, source_file=raw.source_file, setting=setting)
    _require_cells(found, system, raw.source_file)
    measure = system.wide.measure
    base = pd.DataFrame({canon: raw.frame[head] for canon, head in headers.items()})
    parts = [
        base.assign(location=location, cell_header=head, line=raw.lines).assign(
            **{measure: raw.frame[head]}
        )
        for head, location in system.wide.locations.items()
    ]
    return pd.concat(parts, ignore_index=True), headers | {measure: CELL_HEADER}


def _require_cells(found: list[str], system: SystemConfig, source_file: str) -> None:
    assert system.wide is not None
    missing = [head for head in system.wide.locations if head not in found]
    if not missing:
        return
    hints = []
    for head in missing:
        near = closest(head, "", found)
        hints.append(f"{head!r} (closest: {', '.join(repr(n) for n in near) or 'none'})")
    raise InputError(
        f"{source_file}: quantity column(s) declared in [systems.{system.id}.wide.locations] "
        f"not found: {'; '.join(hints)}. Found {excerpt(found, limit=600)}. Write each header exactly as in the "
        "file (case matters), e.g. `'Rs Online' = \"rs-online\"`"
    )


def cell_note(staged: pd.DataFrame, ctx: Context, problems: Problems) -> tuple[str, ...]:
    """One note accounting for every quantity cell of a wide sheet (or Shopify's per-location export).

    Returns
    -------
    tuple of str
        ``X: F has R rows × C quantity columns = N cells: U used, E empty (unknown), …``.
    """
    reasons = problems.frame[s.REASON]
    used = int(reasons.isna().sum())
    counts = reasons.dropna().value_counts()
    rows, columns = staged[s.LINE].nunique(), staged[CELL_HEADER].nunique()
    parts = [f"{used:,} used"] + [f"{n:,} {reason}" for reason, n in counts.items()]
    return (
        f"{ctx.name}: {ctx.source_file} has {rows:,} rows × {columns} quantity columns = "
        f"{len(staged):,} cells: {', '.join(parts)}",
    )
