"""Exact quantiles of grouped samples in bounded memory: a radix selection over batches.

Each group's ``Series.median()`` or ``Series.quantile(q)`` (linear interpolation, NaN
skipped) — the same order statistics and the same arithmetic as pandas — from batches of
``(group, key)`` (:func:`keyed`) that can be read more than once: arrays in memory, or
Parquet parts that workers stored (:mod:`driftkit.scale.samples`).  The samples are never pooled.

Every value maps to a 64-bit key in the values' order (:func:`sortable`).  A first pass
counts each group's keys by their top :data:`BITS` bits; the bins holding the order
statistics the quantile needs (ranks ⌊h⌋ and ⌊h⌋ + 1 of h = q·(n − 1); the middle two for
the median) are kept, and the next pass counts only their keys by the next :data:`BITS`
bits.  A bin of at most :data:`COLLECT` keys is instead collected by the next pass and
sorted; a bin narrowed to all 64 bits is one value.  Memory: 2^BITS counts and at most
:data:`COLLECT` keys per order statistic; at most six passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

BITS = 12  # key bits a pass counts by: 4096 bins per order statistic
COLLECT = 1 << 10  # keys of a bin collected and sorted rather than counted again
MEDIAN: Literal["median"] = "median"
Stat = float | Literal["median"]  # a quantile q (linear interpolation) or the median
Batches = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]  # (group codes, keyed values)

_SIGN = np.uint64(1 << 63)
_TOP = np.uint64((1 << 64) - 1)


def sortable(values: np.ndarray) -> np.ndarray:
    """uint64 keys in the order of the float ``values`` (−0.0 as 0.0; no NaN)."""
    bits = (np.asarray(values, dtype=np.float64) + 0.0).view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def keyed(group: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(group, sortable(values))`` of the values that count: not NaN, group ≥ 0.

    Returns
    -------
    tuple
        int64 group codes and uint64 keys, one per value kept (a batch of :data:`Batches`).
    """
    kept = (group >= 0) & ~np.isnan(values)
    return group[kept].astype(np.int64), sortable(values[kept])


def unsortable(keys: np.ndarray) -> np.ndarray:
    """The float64 values of :func:`sortable` keys."""
    bits = np.where(keys & _SIGN, keys & ~_SIGN, ~keys)
    return bits.view(np.float64)


def stat_ranks(n: np.ndarray, stat: Stat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order statistics ``stat`` interpolates between, for samples of ``n`` values.

    Returns
    -------
    tuple
        ``(lower, upper, gamma)``: 0-based ranks (int64) and the weight of ``upper``, as
        ``numpy.quantile`` computes them (``method="linear"``; the middle two for the median).
    """
    n = np.asarray(n, dtype=np.int64)
    if stat == MEDIAN:
        return (n - 1) // 2, n // 2, np.zeros(len(n))
    h = (n - 1) * np.float64(stat)
    below = np.floor(h)
    above = h >= n - 1  # numpy takes the last value and its gamma from index −1
    lower = np.where(above, n - 1, below).astype(np.int64)
    upper = np.where(above, n - 1, below + 1).astype(np.int64)
    return lower, upper, h - np.where(above, -1.0, below)


def interpolated(lower: np.ndarray, upper: np.ndarray, gamma: np.ndarray, stat: Stat) -> np.ndarray:
    """``stat`` from its two order statistics (:func:`stat_ranks`), in pandas' arithmetic:
    the mean of the two for the median, ``numpy``'s ``_lerp`` for a quantile."""
    if stat == MEDIAN:
        return (lower + upper) / 2.0
    diff = upper - lower
    return np.where(gamma >= 0.5, upper - diff * (1 - gamma), lower + diff * gamma)


def grouped_quantiles(batches: Batches, groups: int, stats: Sequence[Stat]) -> np.ndarray:
    """Each of ``stats`` of each group's values (NaN for a group without values).

    Parameters
    ----------
    batches
        Called once per pass: the ``(group, key)`` batches (:func:`keyed`), group codes
        in ``0..groups − 1`` (−1: not counted), the same batches at every call.
    groups
        The number of groups.
    stats
        Quantiles q in [0, 1] or :data:`MEDIAN`, found in the same passes.

    Returns
    -------
    numpy.ndarray
        float64, groups × stats.
    """
    if not groups:
        return np.zeros((0, len(stats)))
    whole = _Targets.whole(np.zeros(groups, dtype=np.int64), np.zeros(groups, dtype=np.int64))
    counts, _ = _pass(batches, whole, 1, counting=np.ones(groups, dtype=bool))
    n = counts.sum(axis=1)
    ranked = [stat_ranks(n, stat) for stat in stats]  # per stat: lower, upper, gamma
    ranks = np.stack([rank for lower, upper, _ in ranked for rank in (lower, upper)], axis=1)
    ranks = np.where(n[:, None] > 0, ranks, -1).ravel()
    slots = 2 * len(stats)
    targets = _Targets.whole(ranks, np.repeat(n, slots))
    found = _order_statistics(batches, targets.narrowed(np.repeat(counts, slots, axis=0)), slots)
    pairs = found.reshape(groups, len(stats), 2)
    values = [
        interpolated(pairs[:, i, 0], pairs[:, i, 1], gamma, stat)
        for i, (stat, (_, _, gamma)) in enumerate(zip(stats, ranked, strict=True))
    ]
    return np.where(n[:, None] > 0, np.stack(values, axis=1).reshape(groups, len(stats)), np.nan)


@dataclass(frozen=True)
class _Targets:
    """Order statistics being found: target *t* is of group ``t // slots``, the key of its
    rank ``rank`` (0-based, −1: none to find) among the ``held`` keys of the group in the
    key interval of ``bits`` fixed bits starting at ``low``."""

    low: np.ndarray  # uint64
    bits: np.ndarray  # int64, 0..64
    rank: np.ndarray  # int64
    held: np.ndarray  # int64

    @classmethod
    def whole(cls, rank: np.ndarray, held: np.ndarray) -> _Targets:
        """Targets whose interval is every key."""
        zero = np.zeros(len(rank), dtype=np.int64)
        return cls(zero.astype(np.uint64), zero, rank, held)

    @property
    def high(self) -> np.ndarray:
        """The last key of each interval."""
        below = _TOP >> np.minimum(self.bits, 63).astype(np.uint64)  # the free bits
        return self.low | np.where(self.bits >= 64, np.uint64(0), below)

    @property
    def shift(self) -> np.ndarray:
        """The key bits below the next :data:`BITS` (or the last) of each interval."""
        free = 64 - self.bits
        return (free - np.minimum(BITS, free)).astype(np.uint64)

    def narrowed(self, counts: np.ndarray, which: np.ndarray | None = None) -> _Targets:
        """Each target's interval narrowed to the bin of ``counts`` (a row of 2^BITS bin
        counts per target) that holds its rank; only ``which`` targets (default all)."""
        rows = np.arange(len(self.rank))
        before = np.cumsum(counts, axis=1)
        rank = np.maximum(self.rank, 0)
        bin_ = np.minimum((before <= rank[:, None]).sum(axis=1), counts.shape[1] - 1)
        skipped = np.where(bin_ > 0, before[rows, np.maximum(bin_ - 1, 0)], 0)
        which = np.ones(len(rows), dtype=bool) if which is None else which
        return _Targets(
            np.where(which, self.low + (bin_.astype(np.uint64) << self.shift), self.low),
            np.where(which, np.minimum(self.bits + BITS, 64), self.bits),
            np.where(which & (self.rank >= 0), rank - skipped, self.rank),
            np.where(which, counts[rows, bin_], self.held),
        )


def _order_statistics(batches: Batches, targets: _Targets, slots: int) -> np.ndarray:
    """The value of every target (NaN where its rank is −1), by passes over ``batches``."""
    values = np.full(len(targets.rank), np.nan)
    open_ = targets.rank >= 0
    while open_.any():
        exact = open_ & (targets.bits == 64)  # the interval is one key
        values[exact] = unsortable(targets.low[exact])
        open_ &= ~exact
        collecting = open_ & (targets.held <= COLLECT)
        counting = open_ & ~collecting
        if not open_.any():
            break
        counts, (owner, keys) = _pass(batches, targets, slots, counting, collecting)
        order = np.lexsort((keys, owner))
        start = np.searchsorted(owner[order], np.arange(len(values)))
        picked = start + np.maximum(targets.rank, 0)
        values[collecting] = unsortable(keys[order][picked[collecting]])
        open_ &= ~collecting
        targets = targets.narrowed(counts, counting)
    return values


def _pass(
    batches: Batches,
    targets: _Targets,
    slots: int,
    counting: np.ndarray,
    collecting: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """One pass: the ``counting`` targets' keys counted by bin, the ``collecting`` ones'
    keys kept.

    Returns
    -------
    tuple
        ``(counts, (owner, keys))``: 2^BITS bin counts per target, and every kept key
        with its target.
    """
    collecting = np.zeros_like(counting) if collecting is None else collecting
    wanted, low, high, shift = counting | collecting, targets.low, targets.high, targets.shift
    first, last = _spans(wanted, low, high, slots)
    width = 1 << BITS
    counts = np.zeros(len(low) * width, dtype=np.int64)
    owners, kept = [], []
    every = wanted.all() and not targets.bits.any()  # no interval to test (the first pass)
    for codes, keys in batches():
        group = codes.astype(np.int64, copy=False)
        near = group >= 0
        if not every:
            near &= (keys >= first[group]) & (keys <= last[group])  # in some wanted interval
        group, keys = group[near], keys[near]
        for slot in range(slots):
            target = group * slots + slot
            if not every:
                inside = wanted[target] & (keys >= low[target]) & (keys <= high[target])
                target, key = target[inside], keys[inside]
            else:
                key = keys
            counted = counting[target]
            at = target[counted]
            bins = ((key[counted] - low[at]) >> shift[at]).astype(np.int64)
            counts += np.bincount(at * width + bins, minlength=len(counts))
            owners.append(target[~counted])
            kept.append(key[~counted])
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    key = np.concatenate(kept) if kept else np.zeros(0, dtype=np.uint64)
    return counts.reshape(len(low), width), (owner, key)


def _spans(
    wanted: np.ndarray, low: np.ndarray, high: np.ndarray, slots: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the first and last key of its wanted targets' intervals (first > last
    when it has none), so a pass skips every other key at once."""
    first = np.where(wanted, low, _TOP).reshape(-1, slots).min(axis=1)
    last = np.where(wanted, high, np.uint64(0)).reshape(-1, slots).max(axis=1)
    none = ~wanted.reshape(-1, slots).any(axis=1)
    return np.where(none, _TOP, first), np.where(none, np.uint64(0), last)
