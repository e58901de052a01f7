"""Writers of the simulator: one client folder in mixed real export formats (DESIGN §3–§4).

* ``wms``: mapped CSV with its own headers, type codes and local naive timestamps;
* ``erp``: Parquet with canonical column names, UTC timestamps;
* ``shop``: Shopify inventory exports (2024+ header, one file per day, date in the name)
  plus a mapped CSV of its inventory activity (orders, fulfilments, counts, syncs);
* ``3pl``: mapped CSV (ShipBob-like headers), ISO timestamps with offsets.

How each system spells its exports (headers, kinds, locations, timestamps) and the
``client.toml`` that maps them back are in :mod:`driftkit.simulate.formats`; this module renders
the CSV text in Arrow and writes every file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driftkit import schema as S
from driftkit.simulate.formats import (
    _EVENT_COLUMNS,
    _EVENTS_FILE,
    _KINDS,
    _LOCAL,
    _SNAPSHOT_COLUMNS,
    _TIME_FORMAT,
    SHOPIFY_HEADER,
    _format_time,
    _text,
    client_toml,
    location_names,
)
from driftkit.simulate.formats import _OFFSET as _OFFSET
from driftkit.simulate.formats import MARKER as MARKER
from driftkit.simulate.formats import _offset_text as _offset_text
from driftkit.simulate.formats import _offsets as _offsets
from driftkit.simulate.formats import _sees as _sees
from driftkit.simulate.formats import _system_toml as _system_toml

if TYPE_CHECKING:
    from driftkit.simulate.core import Stack
    from driftkit.simulate.plan import Plan

_DAY = 86400


def write_client(folder: Path, plan: Plan, stack: Stack, *, name: str) -> None:
    """Write the whole client folder: config, raw exports, ground truth and true stock."""
    raw = folder / "raw"
    for sub in ("wms", "erp", "shop", "3pl"):
        (raw / sub).mkdir(parents=True, exist_ok=True)
    (folder / "truth").mkdir(exist_ok=True)
    (folder / "client.toml").write_text(client_toml(plan, name), encoding="utf-8")
    _write_catalog(raw / "catalog.csv", plan)
    _write_counts(raw / "cycle_counts.csv", plan, stack.counts)
    for system in ("wms", "3pl"):
        _write_mapped_snapshots(raw / system, plan, system, stack.snapshots[system])
        _write_mapped_events(
            raw / system / _EVENTS_FILE[system], plan, system, stack.events[system]
        )
    _write_erp(raw / "erp", plan, stack)
    _write_shopify(raw / "shop", plan, stack.snapshots["shop"])
    _write_mapped_events(raw / "shop" / _EVENTS_FILE["shop"], plan, "shop", stack.events["shop"])
    write_truth(folder / "ground_truth.csv", stack.truth)
    pq.write_table(stack.physical, folder / "truth" / "physical.parquet")
    pq.write_table(stack.demand, folder / "truth" / "demand.parquet")


def write_truth(path: Path, truth: pa.Table) -> None:
    """Write the ground truth (``TRUTH_COLUMNS``) as CSV with UTC ISO times."""
    truth = truth.set_column(4, "time", _format_time(truth["time"], "UTC", "%Y-%m-%dT%H:%M:%SZ"))
    write_csv(path, {n: truth[n] for n in truth.column_names})


# --- CSV text built in Arrow (RFC 4180 quoting only where needed, like real exports) --------


def _cell(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """CSV text of one column: empty for null, quoted only where a value needs it."""
    text = pc.fill_null(pc.cast(values, pa.large_string()), "")
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return text
    needs = pc.match_substring_regex(text, '[",\r\n]')
    if not pc.any(needs).as_py():
        return text
    quote = _text('"')
    quoted = pc.binary_join_element_wise(
        quote, pc.replace_substring(text, '"', '""'), quote, _text("")
    )
    return pc.if_else(needs, quoted, text)


def write_csv(path: Path, columns: dict[str, pa.Array | pa.ChunkedArray]) -> None:
    """Write ``columns`` as UTF-8 CSV, LF line ends, quoting only values that need it.

    Rows are rendered and written in batches, so memory stays bounded on big files.
    """
    values = list(columns.values())
    starts = range(0, len(values[0]), _BATCH_ROWS)
    batches = ([_cell(v.slice(lo, _BATCH_ROWS)) for v in values] for lo in starts)
    _write_lines(path, list(columns), batches)


_BATCH_ROWS = 1 << 20


def _write_lines(path: Path, header: list[str], batches: Iterable[list[pa.Array]]) -> None:
    """Write the header line, then each batch of rendered cells (one list per batch)."""
    head = ",".join(_cell(pa.array(header, pa.string())).to_pylist()) + "\n"
    with path.open("wb") as out:
        out.write(head.encode("utf-8"))
        for cells in batches:
            if len(cells[0]):
                last = pc.binary_join_element_wise(cells[-1], _text("\n"), _text(""))
                lines = pc.binary_join_element_wise(*cells[:-1], last, _text(","))
                _write_text(out, lines)


def _write_text(out: BinaryIO, lines: pa.Array | pa.ChunkedArray) -> None:
    """Write the concatenated values of a string array straight from its data buffer."""
    chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
    for chunk in chunks:
        arr = chunk.cast(pa.large_string())
        if len(arr):
            offsets = np.frombuffer(arr.buffers()[1], np.int64)
            first, last = offsets[arr.offset], offsets[arr.offset + len(arr)]
            out.write(memoryview(arr.buffers()[2])[first:last])


def _raw(plan: Plan, system: str, keys: pa.ChunkedArray | pa.Array) -> dict[str, pa.Array]:
    j = np.asarray(keys)
    names = pa.array(location_names(plan, system), pa.string())
    return {
        S.SKU: _raw_skus(plan, system).take(pa.array(plan.key_sku[j])),
        S.LOCATION: names.take(pa.array(plan.key_loc[j])),
    }


def _raw_skus(plan: Plan, system: str) -> pa.Array:
    return pa.array(plan.raw_skus[system], pa.string())


def _whole(values: pa.ChunkedArray) -> pa.Array:
    """Quantities as integers where every value is whole (real exports show ``12``)."""
    arr = np.asarray(values.to_numpy(zero_copy_only=False), np.float64)
    whole = np.all(np.isnan(arr) | (arr == np.round(arr)))
    return (
        pa.array(arr, from_pandas=True).cast(pa.int64())
        if whole
        else pa.array(arr, from_pandas=True)
    )


# --- each file ---------------------------------------------------------------------------------


def _write_catalog(path: Path, plan: Plan) -> None:
    c = plan.catalog
    write_csv(
        path,
        {
            S.SKU: pa.array(c["_raw_sku"], pa.string()),
            S.UNIT_COST: pa.array(c[S.UNIT_COST]),
            S.UNIT_PRICE: pa.array(c[S.UNIT_PRICE]),
            S.PACK_SIZE: pa.array(c[S.PACK_SIZE]).cast(pa.int64()),
            S.CATEGORY: pa.array(c[S.CATEGORY], pa.string()),
            S.TITLE: pa.array(c[S.TITLE], pa.string()),
        },
    )


def _write_counts(path: Path, plan: Plan, counts: pa.Table) -> None:
    raw = _raw(plan, "shop", counts["_key"])
    columns = {
        S.SKU: raw[S.SKU],
        S.LOCATION: counts[S.LOCATION],
        S.COUNTED_AT: _format_time(counts[S.COUNTED_AT], plan.timezone, _LOCAL),
        S.COUNTED_QTY: _whole(counts[S.COUNTED_QTY]),
    }
    write_csv(path, columns)


def _days(plan: Plan, stamps: pa.ChunkedArray) -> np.ndarray:
    local = pc.local_timestamp(pc.cast(stamps, pa.timestamp("s", tz=plan.timezone)))
    start = np.datetime64(plan.start, "s").astype(np.int64)
    return (np.asarray(local.cast(pa.int64())) - start) // _DAY


def _by_day(plan: Plan, table: pa.Table, column: str) -> list[tuple[int, pa.Table]]:
    day = _days(plan, table[column])
    order = np.argsort(day, kind="stable")
    bounds = np.flatnonzero(np.diff(day[order])) + 1
    return [(int(day[i[0]]), table.take(pa.array(i))) for i in np.split(order, bounds) if i.size]


def _write_mapped_snapshots(folder: Path, plan: Plan, system: str, table: pa.Table) -> None:
    headers = _SNAPSHOT_COLUMNS[system]
    for day, part in _by_day(plan, table, S.AS_OF):
        stamp = np.datetime64(plan.start) + day
        name = (
            f"onhand_{stamp.astype(object):%Y%m%d}.csv"
            if system == "wms"
            else f"inventory_{stamp}.csv"
        )
        raw = _raw(plan, system, part["_key"])
        values = {
            S.SKU: raw[S.SKU],
            S.LOCATION: raw[S.LOCATION],
            S.AS_OF: _format_time(part[S.AS_OF], plan.timezone, _TIME_FORMAT[system]),
        }
        values.update({c: _whole(part[c]) for c in (S.ON_HAND, S.COMMITTED, S.AVAILABLE)})
        write_csv(folder / name, {header: values[c] for c, header in headers.items()})


def _write_mapped_events(path: Path, plan: Plan, system: str, table: pa.Table) -> None:
    raw = _raw(plan, system, table["_key"])
    to_export = {v: k for k, v in _KINDS[system].items()}
    kinds = pc.dictionary_encode(table[S.KIND]).combine_chunks()
    exported = pa.array([to_export[k] for k in kinds.dictionary.to_pylist()], pa.string())
    values: dict[str, pa.Array | pa.ChunkedArray] = {
        S.EVENT_ID: table[S.EVENT_ID],
        S.KIND: exported.take(kinds.indices),
        S.SKU: raw[S.SKU],
        S.LOCATION: raw[S.LOCATION],
        S.REFERENCE: table[S.RAW_REFERENCE],
    }
    for c in (S.QTY_DELTA, S.COMMIT_DELTA, S.SET_QTY):
        values[c] = _whole(table[c])
    for c in (S.OCCURRED_AT, S.RECORDED_AT, S.SOURCE_AS_OF):
        values[c] = _format_time(table[c], plan.timezone, _TIME_FORMAT[system])
    write_csv(path, {header: values[c] for c, header in _EVENT_COLUMNS[system].items()})


def _write_erp(folder: Path, plan: Plan, stack: Stack) -> None:
    snaps, events = stack.snapshots["erp"], stack.events["erp"]
    raw = _raw(plan, "erp", snaps["_key"])
    snapshot_table = pa.table(
        {
            S.SKU: raw[S.SKU],
            S.LOCATION: snaps[S.LOCATION],
            S.AS_OF: snaps[S.AS_OF],
            S.ON_HAND: snaps[S.ON_HAND],
        }
    )
    pq.write_table(snapshot_table, folder / "snapshots.parquet")
    raw = _raw(plan, "erp", events["_key"])
    columns = [S.EVENT_ID, S.KIND, S.QTY_DELTA, S.SET_QTY, S.OCCURRED_AT, S.RECORDED_AT]
    event_table = pa.table(
        {
            **{c: events[c] for c in columns[:2]},
            S.SKU: raw[S.SKU],
            S.LOCATION: events[S.LOCATION],
            **{c: events[c] for c in columns[2:]},
            S.REFERENCE: events[S.RAW_REFERENCE],
        }
    )
    pq.write_table(event_table, folder / "events.parquet")


def _write_shopify(folder: Path, plan: Plan, table: pa.Table) -> None:
    """One Shopify inventory export (2024+ header) per day; constant text rendered once."""
    titles = plan.catalog[S.TITLE].to_numpy(dtype=object)
    slugs = np.array([f"{_slug(t)}-{i + 1}" for i, t in enumerate(titles)], dtype=object)
    keys = np.arange(plan.n_keys)
    sku = plan.key_sku
    raw = _raw(plan, "shop", pa.array(keys))
    empty = pa.nulls(keys.size, pa.string())
    constant = [
        pa.array(slugs[sku], pa.string()),
        pa.array(titles[sku], pa.string()),
        pa.array(np.full(keys.size, "Title"), pa.string()),
        pa.array(np.full(keys.size, "Default Title"), pa.string()),
        *[empty] * 4,
        raw[S.SKU],
        empty,
        empty,
        raw[S.LOCATION],
        empty,
    ]
    prefix = pc.binary_join_element_wise(*[_cell(c) for c in constant], _text(","))
    for day, part in _by_day(plan, table, S.AS_OF):
        n = len(part)
        zero = _cell(pa.array(np.zeros(n, np.int64)))
        quantities = [_whole(part[c]) for c in (S.COMMITTED, S.AVAILABLE, S.ON_HAND)]
        cells = [prefix.take(part["_key"]), zero, zero, *[_cell(q) for q in quantities]]
        cells.append(_cell(pa.nulls(n, pa.string())))
        stamp = np.datetime64(plan.start) + day
        _write_lines(folder / f"inventory_export_{stamp}.csv", SHOPIFY_HEADER, [cells])


def _slug(title: str) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return "-".join(part for part in text.split("-") if part)
