"""The steps every finisher shares: parse staged columns, flag bad rows, account for lines.

Each step reads staged columns (see :mod:`driftkit.load.finish`) for one file's
:class:`Context` and records the first problem of each row in :class:`Problems` (DESIGN §4
bad-input rules): keys and locations, timestamps, quantities in eaches, duplicate keys.
:func:`account` turns the problems into rejects and line counts; the notes report what was
soft-rejected.  :mod:`driftkit.load.finish` and :mod:`driftkit.load.reference` compose them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load.distinct import distinct_texts, spread
from driftkit.load.normalize import (
    EMPTY_QUANTITY,
    NOT_A_QUANTITY,
    NOT_STOCKED,
    apply_aliases,
    normalize_skus,
    parse_quantity_columns,
)
from driftkit.load.timestamps import parse_timestamp_columns
from driftkit.load.uniform import first_texts

_PROBLEM = (s.REASON, s.COLUMN, s.VALUE)
CELL_HEADER = "cell_header"  # staged column: the export header of each row's quantity cell


@dataclass(frozen=True)
class Context:
    """What finishing a file needs to know besides its rows."""

    config: ClientConfig
    system: SystemConfig | None
    source_file: str
    aliases: pd.DataFrame
    pack_sizes: pd.Series
    headers: dict[str, str] = field(default_factory=dict)
    as_of: pd.Timestamp | pd.Series | None = None  # a Series: one per staged row
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
    #: The staged row of each table row (its first bin's); None when rows were summed.
    origin: pd.Index | None = None


class Problems:
    """The first problem found on each staged row: reason, export column and raw value."""

    def __init__(self, staged: pd.DataFrame, headers: dict[str, str]) -> None:
        self.frame = pd.DataFrame(index=staged.index, columns=list(_PROBLEM), dtype="str")
        if s.REASON in staged:
            for col in _PROBLEM:
                if col in staged:
                    self.frame[col] = staged[col].astype("str")
        self.headers = headers
        self.cell_header = staged.get(CELL_HEADER)
        self._ok = self.frame[s.REASON].isna().to_numpy()  # kept: ``ok`` is asked ~40 times

    @property
    def ok(self) -> pd.Series:
        """Rows without a problem so far."""
        return pd.Series(self._ok.copy(), index=self.frame.index, name=s.REASON)

    def flag(self, mask: pd.Series, reason: str | pd.Series, column: str, value: pd.Series) -> None:
        """Record ``reason`` on rows in ``mask`` that have no problem yet."""
        flagged = mask.fillna(False).astype(bool)
        if not flagged.index.equals(self.frame.index):  # align as pandas would
            flagged = flagged.reindex(self.frame.index, fill_value=False)
        fresh = flagged.to_numpy() & self._ok
        if not fresh.any():
            return
        new = pd.Series(fresh, index=self.frame.index)
        self.frame.loc[new, s.REASON] = reason[new] if isinstance(reason, pd.Series) else reason
        label = self.headers.get(column, column)
        if self.cell_header is not None and label == CELL_HEADER:
            self.frame.loc[new, s.COLUMN] = self.cell_header[new]
        else:
            self.frame.loc[new, s.COLUMN] = label
        self.frame.loc[new, s.VALUE] = value[new].astype("str")
        self._ok = self.frame[s.REASON].isna().to_numpy()  # a null reason leaves its row ok


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
    codes, text = distinct_texts(raw.astype("str"))
    text = text.str.strip()
    mapping = ctx.system.locations if ctx.system else {}
    if mapping:
        folded = {k.strip().casefold(): v for k, v in mapping.items()}
        mapped = text.str.casefold().map(folded)
        text = mapped.where(mapped.notna(), text)
    text = text.where(text.notna() & (text.str.len() > 0), default).astype("str")
    return spread(text, codes, raw.index)


def timestamps(
    staged: pd.DataFrame,
    column: str,
    ctx: Context,
    problems: Problems,
    *,
    required: bool,
    parsed: dict[str, tuple[pd.Series, pd.Series]] | None = None,
) -> pd.Series:
    """Parse ``column`` in the client zone; unreadable (or missing when required) → problem.

    ``parsed`` holds the column already parsed (:func:`parse_times`), when it was.
    """
    if column not in staged:
        return pd.Series(pd.NaT, index=staged.index, dtype="datetime64[us, UTC]")
    if parsed is None or column not in parsed:
        parsed = parse_times(staged, (column,), ctx)
    stamps, reasons = parsed[column]
    problems.flag(reasons.notna(), reasons, column, staged[column])
    if required:
        problems.flag(stamps.isna(), f"empty {column}: a time is required", column, staged[column])
    return stamps


def parse_times(
    staged: pd.DataFrame, columns: tuple[str, ...], ctx: Context
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """The ``columns`` of ``staged`` that exist, parsed together in the client zone.

    Returns
    -------
    dict
        Column → ``(timestamps, reasons)`` (:func:`driftkit.load.timestamps.parse_timestamps`).
    """
    fmt = ctx.system.timestamp_format if ctx.system else None
    present = staged[[col for col in columns if col in staged]]
    return parse_timestamp_columns(present, timezone=ctx.config.timezone, fmt=fmt)


def quantities(
    staged: pd.DataFrame,
    columns: tuple[str, ...],
    ctx: Context,
    problems: Problems,
    *,
    sentinels: tuple[float, ...] = (),
) -> tuple[pd.DataFrame, pd.Series]:
    """Parse quantity columns; garbage is a problem. Returns values and the first soft reason."""
    parsed = parse_quantity_columns(
        staged[[c for c in columns if c in staged]], sentinels=sentinels
    )
    for col, (_, reasons) in parsed.items():
        garbage = reasons.str.startswith(NOT_A_QUANTITY, na=False)
        problems.flag(garbage, reasons, col, staged[col])
    values = pd.DataFrame({col: number for col, (number, _) in parsed.items()}, index=staged.index)
    first_reason = first_texts([reasons for _, reasons in parsed.values()], staged.index)
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
    if not len(broken) and accepted.all():  # the usual file: every line accepted
        return s.empty("rejects"), len(pd.unique(lines.to_numpy())), 0
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
