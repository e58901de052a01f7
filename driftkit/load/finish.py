"""From staged rows to canonical tables: shared by every format (DESIGN §4 bad-input rules).

A format module *stages* a file: one row per input cell group with the raw SKU, location,
time and quantity strings, its physical ``line`` and, for structural non-data rows, a
``reason``.  This module normalizes and parses those columns, rejects what carries no
information or is ambiguous, resolves duplicate keys and accounts for every line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load.normalize import (
    EMPTY_QUANTITY,
    NOT_A_QUANTITY,
    NOT_STOCKED,
    SENTINEL,
    apply_aliases,
    normalize_references,
    normalize_skus,
    parse_quantities,
    parse_timestamps,
)

MEASURES = (s.ON_HAND, s.AVAILABLE, s.COMMITTED, "unavailable")
DELTAS = (s.QTY_DELTA, s.COMMIT_DELTA, s.SET_QTY)
BIN = "bin"
_PROBLEM = (s.REASON, s.COLUMN, s.VALUE)


@dataclass(frozen=True)
class Context:
    """What finishing a file needs to know besides its rows."""

    config: ClientConfig
    system: SystemConfig | None
    source_file: str
    aliases: pd.DataFrame
    pack_sizes: pd.Series
    headers: dict[str, str] = field(default_factory=dict)
    as_of: pd.Timestamp | None = None
    table: str = ""

    @property
    def name(self) -> str:
        """The system id, or the table name (catalog, counts) for client-wide tables."""
        return self.system.id if self.system else self.table


@dataclass(frozen=True)
class Finished:
    """A canonical table from one file, its rejects and its line accounting."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    rows_accepted: int
    rows_rejected: int
    notes: tuple[str, ...] = ()


class Problems:
    """The first problem found on each staged row: reason, export column and raw value."""

    def __init__(self, staged: pd.DataFrame, headers: dict[str, str]) -> None:
        self.frame = pd.DataFrame(index=staged.index, columns=list(_PROBLEM), dtype="str")
        if s.REASON in staged:
            for col in _PROBLEM:
                if col in staged:
                    self.frame[col] = staged[col].astype("str")
        self.headers = headers

    @property
    def ok(self) -> pd.Series:
        """Rows without a problem so far."""
        return self.frame[s.REASON].isna()

    def flag(self, mask: pd.Series, reason: str | pd.Series, column: str, value: pd.Series) -> None:
        """Record ``reason`` on rows in ``mask`` that have no problem yet."""
        new = mask.fillna(False).astype(bool) & self.ok
        if not new.any():
            return
        self.frame.loc[new, s.REASON] = reason[new] if isinstance(reason, pd.Series) else reason
        self.frame.loc[new, s.COLUMN] = self.headers.get(column, column)
        self.frame.loc[new, s.VALUE] = value[new].astype("str")


def keys_and_location(staged: pd.DataFrame, ctx: Context, problems: Problems) -> pd.DataFrame:
    """Normalized ``sku`` (aliases applied) and ``location`` (mapped, defaulted)."""
    out = pd.DataFrame(index=staged.index)
    sku = normalize_skus(staged[s.SKU], ctx.config.sku)
    out[s.SKU] = apply_aliases(sku, ctx.name, ctx.aliases)
    problems.flag(out[s.SKU].isna(), "empty SKU: the row cannot be keyed", s.SKU, staged[s.SKU])
    out[s.LOCATION] = map_locations(staged.get(s.LOCATION), ctx, staged.index)
    return out


def map_locations(raw: pd.Series | None, ctx: Context, index: pd.Index) -> pd.Series:
    """Export location names → client locations; blank → the client's default location."""
    default = ctx.config.default_location
    if raw is None:
        return pd.Series(default, index=index, dtype="str")
    text = raw.astype("str").str.strip()
    mapping = ctx.system.locations if ctx.system else {}
    if mapping:
        folded = {k.strip().casefold(): v for k, v in mapping.items()}
        mapped = text.str.casefold().map(folded)
        text = mapped.where(mapped.notna(), text)
    return text.where(text.notna() & (text.str.len() > 0), default).astype("str")


def timestamps(
    staged: pd.DataFrame, column: str, ctx: Context, problems: Problems, *, required: bool
) -> pd.Series:
    """Parse ``column`` in the client zone; unreadable (or missing when required) → problem."""
    fmt = ctx.system.timestamp_format if ctx.system else None
    if column not in staged:
        return pd.Series(pd.NaT, index=staged.index, dtype="datetime64[us, UTC]")
    stamps, reasons = parse_timestamps(staged[column], timezone=ctx.config.timezone, fmt=fmt)
    problems.flag(reasons.notna(), reasons, column, staged[column])
    if required:
        problems.flag(stamps.isna(), f"empty {column}: a time is required", column, staged[column])
    return stamps


def quantities(
    staged: pd.DataFrame,
    columns: tuple[str, ...],
    ctx: Context,
    problems: Problems,
    *,
    sentinels: tuple[float, ...] = (),
) -> tuple[pd.DataFrame, pd.Series]:
    """Parse quantity columns; garbage is a problem. Returns values and the first soft reason."""
    values = pd.DataFrame(index=staged.index)
    first_reason = pd.Series(pd.NA, index=staged.index, dtype="str")
    for col in columns:
        if col not in staged:
            continue
        number, reasons = parse_quantities(staged[col], sentinels=sentinels)
        garbage = reasons.str.startswith(NOT_A_QUANTITY, na=False)
        problems.flag(garbage, reasons, col, staged[col])
        first_reason = first_reason.where(first_reason.notna(), reasons)
        values[col] = number
    return scale(values, ctx, staged, problems), first_reason


def scale(
    values: pd.DataFrame, ctx: Context, staged: pd.DataFrame, problems: Problems
) -> pd.DataFrame:
    """Apply the system's declared ``scale`` and ``unit = "pack"`` conversion to eaches."""
    if ctx.system is None:
        return values
    factor = pd.Series(ctx.system.scale, index=values.index)
    if ctx.system.unit == "pack":
        sku = apply_aliases(normalize_skus(staged[s.SKU], ctx.config.sku), ctx.name, ctx.aliases)
        pack = sku.map(ctx.pack_sizes).astype("float64")
        reason = "unit = 'pack' but the catalog has no pack_size for this SKU"
        problems.flag(pack.isna() & sku.notna(), reason, s.SKU, staged[s.SKU])
        factor = factor * pack
    return values.mul(factor, axis=0)


def sentinel_note(ctx: Context, reasons: pd.Series) -> tuple[str, ...]:
    """One note when sentinel values were treated as unknown."""
    hits = reasons.str.startswith(SENTINEL, na=False)
    if not hits.any():
        return ()
    values = sorted(reasons[hits].str.extract(r"sentinel (\S+)")[0].unique())
    return (
        f"{ctx.name}: {int(hits.sum())} value(s) in {ctx.source_file} hold always-in-stock "
        f"sentinel(s) {', '.join(values)}; treated as unknown (configure [systems.{ctx.name}] sentinels)",
    )


def resolve_duplicates(
    table: pd.DataFrame, keys: list[str], values: list[str], lines: pd.Series, problems: Problems
) -> None:
    """Flag duplicate keys among rows still ok: exact → keep the first, conflicting → reject all."""
    ok = problems.ok
    dup = table[ok].duplicated(keys, keep=False)
    if not dup.any():
        return
    group = table[ok][dup]
    ids = group.groupby(keys, sort=False, dropna=False).ngroup()
    distinct = group[values].fillna(np.inf).groupby(ids).nunique().max(axis=1)
    exact = ids.map(distinct) == 1
    first_line = lines[group.index].groupby(ids).transform("min")
    later = exact & (lines[group.index] != first_line)
    problems.flag(
        later.reindex(table.index, fill_value=False),
        ("exact duplicate of line " + first_line.astype("str")).reindex(table.index),
        keys[0],
        table[keys[0]],
    )
    if exact.all():
        return
    conflict = ~exact
    desc = "line " + lines[group.index].astype("str") + " (" + _describe(group[values]) + ")"
    listing = desc[conflict].groupby(ids[conflict]).agg(", ".join).astype("str")
    reason = "conflicting duplicates of one key, never summed: " + ids[conflict].map(listing)
    mask = conflict.reindex(table.index, fill_value=False)
    problems.flag(mask, reason.reindex(table.index), keys[0], table[keys[0]])


def _describe(values: pd.DataFrame) -> pd.Series:
    parts = [col + "=" + values[col].map("{:g}".format) for col in values.columns]
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return out


def account(
    lines: pd.Series, accepted: pd.Series, problems: Problems, ctx: Context, broken: pd.DataFrame
) -> tuple[pd.DataFrame, int, int]:
    """Rejects (one per line with no accepted row) and the accepted/rejected line counts."""
    good_lines = pd.Index(lines[accepted].unique())
    frame = problems.frame.assign(**{s.LINE: lines})
    bad = frame[~accepted & ~lines.isin(good_lines)].drop_duplicates(s.LINE)
    broken = broken.assign(**{s.COLUMN: None})
    rejects: pd.DataFrame = pd.concat([bad, broken], ignore_index=True)
    rejects[s.SOURCE_FILE] = ctx.source_file
    rejects = rejects.sort_values(s.LINE, kind="stable")
    rejects = s.conform(rejects, "rejects") if len(rejects) else s.empty("rejects")
    return rejects, len(good_lines), len(rejects)


def partial_note(lines: pd.Series, problems: Problems, ctx: Context) -> tuple[str, ...]:
    """A note for cells not used on lines that were otherwise accepted (wide formats)."""
    accepted = problems.ok
    hidden = ~accepted & lines.isin(lines[accepted]) & problems.frame[s.REASON].notna()
    hard = hidden & ~problems.frame[s.REASON].isin([EMPTY_QUANTITY, NOT_STOCKED])
    if not hard.any():
        return ()
    example = problems.frame[hard].iloc[0]
    return (
        f"{ctx.name}: {int(hard.sum())} cell(s) on otherwise accepted rows of "
        f"{ctx.source_file} were not used, e.g. column {example[s.COLUMN]!r}: {example[s.REASON]}",
    )


def finish_snapshots(staged: pd.DataFrame, ctx: Context, broken: pd.DataFrame) -> Finished:
    """Canonical snapshots from a staged file, with rejects and notes.

    Returns
    -------
    Finished
        ``table`` has the SNAPSHOTS columns: system, sku, location, as_of, on_hand,
        available, committed.
    """
    assert ctx.system is not None
    problems = Problems(staged, ctx.headers)
    lines = staged[s.LINE].astype("int64")
    out = keys_and_location(staged, ctx, problems)
    if s.AS_OF in staged:
        out[s.AS_OF] = timestamps(staged, s.AS_OF, ctx, problems, required=ctx.as_of is None)
        if ctx.as_of is not None:
            out[s.AS_OF] = out[s.AS_OF].fillna(ctx.as_of)
    else:
        out[s.AS_OF] = pd.Series(ctx.as_of, index=staged.index, dtype="datetime64[us, UTC]")
    values, soft = quantities(staged, MEASURES, ctx, problems, sentinels=ctx.system.sentinels)
    values = _derive_on_hand(values)
    measured = [c for c in (s.ON_HAND, s.AVAILABLE, s.COMMITTED) if c in values]
    first = next(c for c in MEASURES if c in staged)
    problems.flag(values[measured].isna().all(axis=1), soft, first, staged[first])
    table = pd.concat([out, values[measured]], axis=1)
    keys = [s.SKU, s.LOCATION, s.AS_OF] + ([BIN] if BIN in staged else [])
    if BIN in staged:
        table[BIN] = staged[BIN].astype("str").str.strip().fillna("")
    resolve_duplicates(table, keys, measured, lines, problems)
    accepted = problems.ok
    rejects, n_ok, n_bad = account(lines, accepted, problems, ctx, broken)
    kept = table[accepted]
    if BIN in kept:
        kept = kept.groupby(keys[:3], sort=False, as_index=False)[measured].sum(min_count=1)
    kept = kept.assign(**{s.SYSTEM: ctx.system.id})
    notes = sentinel_note(ctx, soft) + partial_note(lines, problems, ctx)
    return Finished(s.conform(kept, "snapshots"), rejects, n_ok, n_bad, notes)


def _derive_on_hand(values: pd.DataFrame) -> pd.DataFrame:
    """on_hand = available + committed + unavailable when only the parts are exported."""
    if s.ON_HAND in values or "unavailable" not in values:
        return values.drop(columns=["unavailable"], errors="ignore")
    parts = values.reindex(columns=[s.AVAILABLE, s.COMMITTED, "unavailable"])
    derived = parts.sum(axis=1, min_count=3)
    return values.drop(columns=["unavailable"]).assign(**{s.ON_HAND: derived})


def finish_events(staged: pd.DataFrame, ctx: Context, broken: pd.DataFrame) -> Finished:
    """Canonical events from a staged file (kinds already canonical or a ``reason`` set).

    Returns
    -------
    Finished
        ``table`` has the EVENTS columns: system, sku, location, event_id, kind, qty_delta,
        commit_delta, set_qty, occurred_at, recorded_at, reference, raw_reference,
        source_as_of.
    """
    assert ctx.system is not None
    problems = Problems(staged, ctx.headers)
    lines = staged[s.LINE].astype("int64")
    out = keys_and_location(staged, ctx, problems)
    problems.flag(staged[s.KIND].isna(), staged["kind_reason"], s.KIND, staged["kind_raw"])
    out[s.KIND] = staged[s.KIND]
    out[s.OCCURRED_AT] = timestamps(staged, s.OCCURRED_AT, ctx, problems, required=True)
    for col in (s.RECORDED_AT, s.SOURCE_AS_OF):
        out[col] = timestamps(staged, col, ctx, problems, required=False)
    values, _ = quantities(staged, DELTAS, ctx, problems)
    problems.flag(
        values.isna().all(axis=1) if len(values.columns) else pd.Series(True, index=staged.index),
        "no quantity: qty_delta, commit_delta and set_qty are all empty",
        next((c for c in DELTAS if c in staged), s.QTY_DELTA),
        staged.get(next((c for c in DELTAS if c in staged), s.SKU), staged[s.SKU]),
    )
    if s.EVENT_ID in staged:
        event_id = staged[s.EVENT_ID].astype("str").str.strip()
        out[s.EVENT_ID] = event_id.where(event_id.str.len() > 0)
    if s.REFERENCE in staged:
        raw = staged[s.REFERENCE].astype("str").str.strip()
        out[s.RAW_REFERENCE] = raw.where(raw.str.len() > 0)
        out[s.REFERENCE] = normalize_references(raw)
    table = pd.concat([out, values], axis=1)
    accepted = problems.ok
    rejects, n_ok, n_bad = account(lines, accepted, problems, ctx, broken)
    kept = table[accepted].assign(**{s.SYSTEM: ctx.system.id})
    return Finished(s.conform(kept, "events"), rejects, n_ok, n_bad)
