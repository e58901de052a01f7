"""Stored tables in the in-process audit's row order: a streaming merge of sorted parts.

Buckets are SKU hashes, not key ranges, so a table ordered by key (``impact``) or by rank
(``count_list``) is not its parts concatenated in bucket order.  Each worker stores its part
already in the table's order (:data:`ORDERS`, the function the in-process audit sorts with),
and the run's file is their k-way merge (:func:`merge_sorted`): the driver holds one batch
of each part at a time, never the whole table.  The merge sorts with the same stable
function over the parts' current batches concatenated in bucket order, so rows that tie
keep bucket order, as the old in-memory concatenate-then-sort did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from driftkit.impact.countlist import rank_count_list
from driftkit.impact.parts import key_order
from driftkit.schema import LOCATION, SKU

Order = Callable[[pd.DataFrame], np.ndarray]
BATCH = 8192  # rows of each part the merge holds at once


def ranked_order(rows: pd.DataFrame) -> np.ndarray:
    """Positions of count-list rows (one per key) in :func:`rank_count_list`'s order."""
    ranked = rank_count_list(rows)
    keys = pd.MultiIndex.from_frame(rows[[SKU, LOCATION]].astype("str"))
    return keys.get_indexer(pd.MultiIndex.from_frame(ranked[[SKU, LOCATION]]))


#: Stored table → the order its rows are written in (tables not listed: bucket order).
ORDERS: dict[str, Order] = {"impact": key_order, "demand": key_order, "count_list": ranked_order}


def sort_part(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (one part's rows of table ``name``) in the table's order (:data:`ORDERS`)."""
    order = ORDERS.get(name)
    return frame if order is None else frame.iloc[order(frame)].reset_index(drop=True)


def merge_sorted(parts: list[Iterator[pd.DataFrame]], order: Order) -> Iterator[pd.DataFrame]:
    """The rows of sorted ``parts`` (each an iterator of batches) merged into one order.

    Each round sorts the parts' current batches together with ``order`` and emits every row
    up to the first part's last row in that order: no later batch of that part can sort
    before it, nor can any other part's later rows (each part is sorted).

    Returns
    -------
    Iterator of pandas.DataFrame
        Batches of the merged rows (the parts' columns), in ``order``.
    """
    heads = [_next(part) for part in parts]
    while live := [(i, head) for i, head in enumerate(heads) if head is not None]:
        frames = [head for _, head in live]
        table = pd.concat(frames, ignore_index=True)
        ranked = order(table)
        place = np.empty(len(table), dtype=np.int64)
        place[ranked] = np.arange(len(table))
        last = np.cumsum([len(f) for f in frames]) - 1
        taken = ranked[: int(place[last].min()) + 1]
        yield table.iloc[taken].reset_index(drop=True)
        used = np.bincount(np.searchsorted(last, taken), minlength=len(live))
        for (i, frame), n in zip(live, used, strict=True):
            rest = frame.iloc[n:].reset_index(drop=True)
            heads[i] = rest if len(rest) else _next(parts[i])


def _next(part: Iterator[pd.DataFrame]) -> pd.DataFrame | None:
    """The part's next non-empty batch, or None once it is drained."""
    for batch in part:
        if len(batch):
            return batch
    return None
