"""``csv`` and ``parquet`` formats: canonical headers, or any headers through a column map.

Snapshots use ``[systems.X.columns]``, events ``[systems.X.event_columns]`` (canonical
column = export header).  Unmapped canonical columns are found by their canonical name
(case-insensitive).  Event kinds go through ``[systems.X.event_kinds]``; canonical kind
names are accepted as they are, in any case.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.errors import InputError
from driftkit.load.distinct import distinct_texts, spread
from driftkit.load.finish import DELTAS, MEASURES
from driftkit.load.guard import excerpt
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

SNAPSHOT_COLUMNS = (s.SKU, s.LOCATION, s.AS_OF, *MEASURES)
EVENT_COLUMNS = (
    s.EVENT_ID,
    s.KIND,
    s.SKU,
    s.LOCATION,
    *DELTAS,
    s.OCCURRED_AT,
    s.RECORDED_AT,
    s.REFERENCE,
    s.SOURCE_AS_OF,
)


def resolve_headers(
    found: list[str], mapping: dict[str, str], canonical: tuple[str, ...]
) -> dict[str, str]:
    """Canonical column → export header: the configured map, else the canonical name.

    Returns
    -------
    dict
        Only columns that are mapped in the config or present under their canonical name.
    """
    folded = {name.strip().casefold(): name for name in found}
    out = dict(mapping)
    for canon in canonical:
        if canon not in out and canon in folded:
            out[canon] = folded[canon]
    return out


def _select(raw: RawTable, headers: dict[str, str]) -> pd.DataFrame:
    present = {canon: head for canon, head in headers.items() if head in raw.frame.columns}
    staged = pd.DataFrame({canon: raw.frame[head] for canon, head in present.items()})
    return staged.assign(**{s.LINE: raw.lines})


def stage_snapshots(
    raw: RawTable, system: SystemConfig, *, has_as_of: bool
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a mapped csv/parquet snapshot file.

    Returns
    -------
    tuple
        The staged frame (line, sku, location, as_of, on_hand, available, committed,
        unavailable, whichever exist) and the canonical → export header map.
    """
    found = list(raw.frame.columns)
    headers = resolve_headers(found, system.columns, SNAPSHOT_COLUMNS)
    setting = f"[systems.{system.id}.columns]"
    required = {s.SKU: headers.get(s.SKU, s.SKU)}
    if not has_as_of:
        required[s.AS_OF] = headers.get(s.AS_OF, s.AS_OF)
    if not any(headers.get(m) in found for m in MEASURES):
        measure = next((m for m in MEASURES if m in headers), s.ON_HAND)
        required[measure] = headers.get(measure, measure)
    if s.AS_OF in required and required[s.AS_OF] not in found:
        raise InputError(
            f"{raw.source_file}: no snapshot time: the file has no {required[s.AS_OF]!r} "
            f"column. Map the file's time column under {setting} (as_of = 'Date'), or set "
            f'`as_of = "2026-01-31T23:59:00"` or `as_of_pattern = "export_%Y-%m-%d.csv"` in '
            f"[systems.{system.id}]. Found {excerpt(found, limit=600)}"
        )
    require_columns(found, required, source_file=raw.source_file, setting=setting)
    require_columns(found, headers, source_file=raw.source_file, setting=setting)
    return _select(raw, headers), headers


def stage_events(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a mapped csv/parquet events file, mapping export kinds to canonical kinds.

    Returns
    -------
    tuple
        The staged frame (line, the canonical event columns present, kind_raw,
        kind_reason) and the canonical → export header map.
    """
    found = list(raw.frame.columns)
    headers = resolve_headers(found, system.event_columns, EVENT_COLUMNS)
    setting = f"[systems.{system.id}.event_columns]"
    required = {c: headers.get(c, c) for c in (s.SKU, s.KIND, s.OCCURRED_AT)}
    if not any(headers.get(d) in found for d in DELTAS):
        required[s.QTY_DELTA] = headers.get(s.QTY_DELTA, s.QTY_DELTA)
    require_columns(found, required, source_file=raw.source_file, setting=setting)
    require_columns(found, headers, source_file=raw.source_file, setting=setting)
    staged = _select(raw, headers)
    kind, reason = map_kinds(staged[s.KIND], system)
    return staged.assign(kind_raw=staged[s.KIND], **{s.KIND: kind}, kind_reason=reason), headers


def map_kinds(raw: pd.Series, system: SystemConfig) -> tuple[pd.Series, pd.Series]:
    """Export event types → canonical kinds (config map first, then canonical names).

    Returns
    -------
    tuple of pandas.Series
        Canonical kinds (NaN where unknown) and the reason for each unknown one.
    """
    codes, text = distinct_texts(raw.astype("str"))
    folded = {k.strip().casefold(): v for k, v in system.event_kinds.items()}
    folded |= {k.value: k.value for k in s.EventKind if k.value not in folded}
    kind = spread(text.str.strip().str.casefold().map(folded).astype("str"), codes, raw.index)
    allowed = sorted(set(system.event_kinds) | {k.value for k in s.EventKind})
    reason = (
        "unknown event kind; allowed: "
        + ", ".join(allowed)
        + f" (map it under [systems.{system.id}.event_kinds])"
    )
    return kind, pd.Series(reason, index=raw.index, dtype="str").where(kind.isna())
