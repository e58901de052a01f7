"""Client-wide reference tables: the SKU alias table, the catalog and cycle counts.

Each comes from a CSV/Parquet file with canonical headers, or through a ``columns`` map
(``[catalog.columns]``, ``[counts.columns]``).  The same bad-input rules as for system
exports apply: every line accepted or rejected with a reason, duplicates reported.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, TableSource
from driftkit.load.headers import require_columns
from driftkit.load.normalize import normalize_skus
from driftkit.load.read import RawTable
from driftkit.load.rows import (
    Context,
    Finished,
    Problems,
    account,
    keys_and_location,
    quantities,
    resolve_duplicates,
    timestamps,
)
from driftkit.load.tabular import resolve_headers

ALIASES = ("system", "raw_sku", s.SKU)
_MONEY = (s.UNIT_COST, s.UNIT_PRICE, s.PACK_SIZE)


def empty_aliases() -> pd.DataFrame:
    """An alias table with no rows.

    Returns
    -------
    pandas.DataFrame
        Columns system, raw_sku, sku.
    """
    return pd.DataFrame({c: pd.Series(dtype="str") for c in ALIASES})


def stage(
    raw: RawTable,
    source: TableSource,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    setting: str,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Select a reference file's columns by canonical name or the configured map.

    Returns
    -------
    tuple
        The staged frame (line plus the canonical columns present) and the header map.
    """
    found = list(raw.frame.columns)
    headers = resolve_headers(found, source.columns, columns)
    require_columns(
        found,
        {c: headers.get(c, c) for c in required} | headers,
        source_file=raw.source_file,
        setting=setting,
    )
    staged = pd.DataFrame({canon: raw.frame[head] for canon, head in headers.items()})
    return staged.assign(**{s.LINE: raw.lines}), headers


def finish_aliases(raw: RawTable, config: ClientConfig) -> Finished:
    """The alias table with ``raw_sku`` and ``sku`` normalized by the client's SKU rules.

    Returns
    -------
    Finished
        ``table`` has columns system, raw_sku, sku.
    """
    source = TableSource(path=str(config.sku.aliases))
    staged, headers = stage(
        raw, source, ALIASES, ("raw_sku", s.SKU), "the alias file (columns system, raw_sku, sku)"
    )
    ctx = Context(
        config,
        None,
        raw.source_file,
        empty_aliases(),
        pd.Series(dtype="float64"),
        headers,
        table="aliases",
    )
    problems = Problems(staged, headers)
    table = pd.DataFrame(index=staged.index)
    for col in ("raw_sku", s.SKU):
        table[col] = normalize_skus(staged[col], config.sku)
        problems.flag(table[col].isna(), f"empty {col}", col, staged[col])
    system = staged.get("system", pd.Series("", index=staged.index, dtype="str"))
    table["system"] = system.astype("str").str.strip().fillna("")
    resolve_duplicates(table, ["system", "raw_sku"], [s.SKU], staged[s.LINE], problems)
    rejects, n_ok, n_bad = account(staged[s.LINE], problems.ok, problems, ctx, raw.broken)
    return Finished(table.loc[problems.ok, list(ALIASES)], rejects, n_ok, n_bad)


def finish_catalog(raw: RawTable, ctx: Context, source: TableSource) -> Finished:
    """The catalog: one row per SKU with cost, price, pack size, category and title.

    Returns
    -------
    Finished
        ``table`` has the CATALOG columns: sku, unit_cost, unit_price, pack_size,
        category, title.
    """
    columns = (s.SKU, *_MONEY, s.CATEGORY, s.TITLE)
    staged, headers = stage(raw, source, columns, (s.SKU,), "[catalog.columns]")
    ctx = Context(
        ctx.config, None, ctx.source_file, ctx.aliases, ctx.pack_sizes, headers, table="catalog"
    )
    problems = Problems(staged, headers)
    out = keys_and_location(staged, ctx, problems)[[s.SKU]]
    values, _ = quantities(staged, _MONEY, ctx, problems)
    for col in (s.CATEGORY, s.TITLE):
        if col in staged:
            text = staged[col].astype("str").str.strip()
            out[col] = text.where(text.str.len() > 0)
    table = pd.concat([out, values], axis=1)
    resolve_duplicates(table, [s.SKU], list(values.columns) or [s.SKU], staged[s.LINE], problems)
    rejects, n_ok, n_bad = account(staged[s.LINE], problems.ok, problems, ctx, raw.broken)
    return Finished(s.conform(table[problems.ok], "catalog"), rejects, n_ok, n_bad)


def finish_counts(raw: RawTable, ctx: Context, source: TableSource) -> Finished:
    """Cycle counts: what was physically counted, where and when.

    Returns
    -------
    Finished
        ``table`` has the COUNTS columns: sku, location, counted_at, counted_qty.
    """
    columns = (s.SKU, s.LOCATION, s.COUNTED_AT, s.COUNTED_QTY)
    staged, headers = stage(
        raw, source, columns, (s.SKU, s.COUNTED_AT, s.COUNTED_QTY), "[counts.columns]"
    )
    ctx = Context(
        ctx.config, None, ctx.source_file, ctx.aliases, ctx.pack_sizes, headers, table="counts"
    )
    problems = Problems(staged, headers)
    out = keys_and_location(staged, ctx, problems)
    out[s.COUNTED_AT] = timestamps(staged, s.COUNTED_AT, ctx, problems, required=True)
    values, soft = quantities(staged, (s.COUNTED_QTY,), ctx, problems)
    problems.flag(values[s.COUNTED_QTY].isna(), soft, s.COUNTED_QTY, staged[s.COUNTED_QTY])
    table = pd.concat([out, values], axis=1)
    keys = [s.SKU, s.LOCATION, s.COUNTED_AT]
    resolve_duplicates(table, keys, [s.COUNTED_QTY], staged[s.LINE], problems)
    rejects, n_ok, n_bad = account(staged[s.LINE], problems.ok, problems, ctx, raw.broken)
    return Finished(s.conform(table[problems.ok], "counts"), rejects, n_ok, n_bad)


def relative(path: Path, config: ClientConfig) -> str:
    """``path`` relative to the client folder, with forward slashes."""
    try:
        return path.resolve().relative_to(config.root).as_posix()
    except ValueError:
        return path.as_posix()
