"""Stored tables in the in-process audit's row order: a streaming merge of sorted parts.

Buckets are SKU hashes, not key ranges, so a table ordered by key (``impact``) or by rank
(``count_list``) is not its parts concatenated in bucket order.  Each worker stores its part
already in the table's order (:data:`ORDERS`: the ``numpy.lexsort`` keys the in-process
audit sorts with), and the run's file is their k-way merge (:func:`merge_sorted`): the
driver holds one batch of each part at a time, never the whole table.  Each batch's sort
keys are taken once, when it is read, with texts as fixed-width numpy strings; each round
of the merge lexsorts only those arrays of the parts' current batches, concatenated in
bucket order, so rows that tie keep bucket order, as the old in-memory
concatenate-then-sort did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.impact.checks import candidates, check_order, interleaved
from driftkit.impact.countlist import count_list_keys, numbered
from driftkit.impact.parts import key_columns
from driftkit.schema import LOCATION, SKU, SYSTEM

SortKeys = Callable[[pd.DataFrame], list[np.ndarray]]
Parts = Callable[..., list[Iterator[pd.DataFrame]]]  # every part's batches (of columns), afresh
BATCH = 8192  # rows of each part the merge holds at once
PAIR = "_pair"  # a stored episodes part's pair rank (``compare.system_pairs``), never written


def finding_keys(frame: pd.DataFrame) -> list[np.ndarray]:
    """``attribute``'s order of findings as lexsort keys: first seen, system, sku, location,
    cause (a missing first seen last, as ``sort_values`` puts it)."""
    texts = [frame[c].to_numpy(dtype=object) for c in ("cause", LOCATION, SKU, SYSTEM)]
    first = pd.to_datetime(frame["first_seen"], utc=True)  # an empty part's may be untyped
    seen = np.where(first.isna().to_numpy(), np.iinfo(np.int64).max, pd.DatetimeIndex(first).asi8)
    return [*texts, seen]


def episode_keys(frame: pd.DataFrame) -> list[np.ndarray]:
    """``merge.combined_episodes``' order as lexsort keys: pair, sku, location, start."""
    return [
        frame["start"].to_numpy(),
        frame[LOCATION].to_numpy(dtype=object),
        frame[SKU].to_numpy(dtype=object),
        frame[PAIR].to_numpy(),
    ]


#: Stored table → the lexsort keys its rows are written in (tables not listed: bucket order).
ORDERS: dict[str, SortKeys] = {
    "impact": key_columns,
    "demand": key_columns,
    "count_list": count_list_keys,
    "findings": finding_keys,
    "episodes": episode_keys,
}


def sort_part(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (one part's rows of table ``name``) in the table's order (:data:`ORDERS`)."""
    keys = ORDERS.get(name)
    return frame if keys is None else frame.iloc[np.lexsort(keys(frame))].reset_index(drop=True)


@dataclass(frozen=True)
class _Head:
    """A part's current batch and its sort keys (texts as numpy strings)."""

    frame: pd.DataFrame
    keys: list[np.ndarray]

    def rest(self, used: int) -> _Head:
        """The batch without its first ``used`` rows."""
        return _Head(self.frame.iloc[used:].reset_index(drop=True), [k[used:] for k in self.keys])


def merge_sorted(parts: list[Iterator[pd.DataFrame]], keys: SortKeys) -> Iterator[pd.DataFrame]:
    """The rows of sorted ``parts`` (each an iterator of batches) merged into one order.

    Each round lexsorts the parts' current batches' keys together and emits every row up to
    the first part's last row in that order: no later batch of that part can sort before
    it, nor can any other part's later rows (each part is sorted).

    Returns
    -------
    Iterator of pandas.DataFrame
        Batches of the merged rows (the parts' columns), in the order of ``keys``.
    """
    heads = [_next(part, keys) for part in parts]
    while live := [(i, head) for i, head in enumerate(heads) if head is not None]:
        ranked = np.lexsort(
            [np.concatenate(k) for k in zip(*(h.keys for _, h in live), strict=True)]
        )
        place = np.empty(len(ranked), dtype=np.int64)
        place[ranked] = np.arange(len(ranked))
        last = np.cumsum([len(h.frame) for _, h in live]) - 1
        taken = ranked[: int(place[last].min()) + 1]
        table = pd.concat([h.frame for _, h in live], ignore_index=True)
        yield table.iloc[taken].reset_index(drop=True)
        used = np.bincount(np.searchsorted(last, taken), minlength=len(live))
        for (i, head), n in zip(live, used, strict=True):
            heads[i] = head.rest(int(n)) if n < len(head.frame) else _next(parts[i], keys)


def _next(part: Iterator[pd.DataFrame], keys: SortKeys) -> _Head | None:
    """The part's next non-empty batch with its sort keys, or None once it is drained."""
    for batch in part:
        if len(batch):
            return _Head(batch, [_sortable(k) for k in keys(batch)])
    return None


def _sortable(key: np.ndarray) -> np.ndarray:
    """``key`` with texts as fixed-width numpy strings: compared by code point as Python
    compares them, but in C (a Python object array is compared object by object)."""
    return key.astype(str) if key.dtype == object else key


def ranked_count_list(frames: Iterator[pd.DataFrame], reopen: Parts) -> Iterator[pd.DataFrame]:
    """The count list's merged rows (``frames``, the money order) ranked as the in-process
    audit ranks them, the empty-shelf checks interleaved
    (:func:`driftkit.impact.checks.interleaved`; ``rank`` counts on from batch to batch).

    The second list needs all its candidates before its first rank: where some batch holds
    one (``reopen(["check_chance"])`` reads that column only), a first merge of the parts
    (``reopen()``) finds each candidate's place in the money order, and ``frames`` is the
    second.  Issue 15j, beside the merge it reads.
    """
    order, every, start = [], 0, 0
    if any(_has_candidates(part) for part in reopen(["check_chance"])):
        for frame in merge_sorted(reopen(), count_list_keys):
            order.append(candidates(frame, start=start))
            every, start = max(every, int(frame["check_every"].max())), start + len(frame)
    checks = check_order(pd.concat(order, ignore_index=True)) if order else pd.DataFrame()
    before = 0
    for frame in interleaved(frames, checks, every):
        yield numbered(frame, before=before)
        before += len(frame)


def _has_candidates(part: Iterator[pd.DataFrame]) -> bool:
    """Whether a part's batches hold an empty-shelf check candidate (``check_chance`` > 0)."""
    return any(bool((batch["check_chance"] > 0).any()) for batch in part)
