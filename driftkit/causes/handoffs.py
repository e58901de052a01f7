"""The handoff map: per edge (source → target, kind), how many events arrived, vanished or doubled.

:func:`map_handoffs` aggregates the normal :func:`~driftkit.causes.deliveries.deliveries`
per edge and adds the callouts about reference formats whose events vanish
(:mod:`driftkit.causes.callouts`).  The counts, formats and latencies of an edge add up over
partitions (:class:`EdgeParts`; latencies as :data:`Samples`, one array per edge, or as
:class:`StoredSamples` a worker wrote, and their quantiles selected exactly from every
part's samples by :func:`sample_stats`), so the partitioned audit builds the same map with
:func:`handoff_from_parts`.  See ``docs/causes.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from driftkit.causes.callouts import format_callouts, sorted_factorize
from driftkit.causes.context import DEFAULT_MATCH_RULES, LATENCY_H, SOURCE, TARGET, MatchRules
from driftkit.causes.quantiles import Stat, grouped_quantiles, keyed
from driftkit.drift.codes import combined_codes
from driftkit.schema import KIND

EDGE = [SOURCE, TARGET, KIND]

HANDOFF_COLUMNS = [
    *EDGE,
    "events",
    "matched",
    "missing",
    "duplicated",
    "missing_share",
    "source_formats",
    "target_formats",
    "latency_p50_h",
    "latency_p95_h",
]


def map_handoffs(
    delivered: pd.DataFrame,
    matches: pd.DataFrame,
    rules: MatchRules = DEFAULT_MATCH_RULES,
) -> tuple[pd.DataFrame, list[str]]:
    """The handoff map: per edge, how many events arrived, vanished or doubled.

    Only deliveries to systems that normally receive the kind family at that location
    count (``normal``).

    Parameters
    ----------
    delivered
        Output of :func:`~driftkit.causes.deliveries.deliveries`.
    matches
        Output of :func:`~driftkit.causes.match.match_events` (for the formats of every recording system).
    rules
        The callout thresholds.

    Returns
    -------
    tuple[pandas.DataFrame, list[str]]
        The map, columns ``source, target, kind, events, matched, missing, duplicated,
        missing_share, source_formats, target_formats, latency_p50_h, latency_p95_h``
        (formats as ``` `PO-999999` ×120, `#9999` ×3 ```, most frequent first); and the
        callouts about missing events that cluster on one reference format.
    """
    edges = delivered[delivered["normal"]]
    return handoff_table(edges), format_callouts(edges, matches, rules)


Samples = dict[tuple[str, ...], np.ndarray]


def samples(frame: pd.DataFrame, by: list[str], value: str) -> Samples:
    """The values of ``value`` as one float array per group of ``by`` (few groups: edges,
    systems × kinds), so quantiles can be taken exactly over samples pooled from partitions."""
    grouped = frame.groupby(by, sort=True)[value]
    return {tuple(str(k) for k in key): part.to_numpy(dtype=float) for key, part in grouped}


def group_codes(frame: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's group of ``by`` as an integer, numbered in the sorted order of the groups
    (a ``groupby``'s), −1 where a value is missing (a ``groupby`` drops those rows).

    Returns
    -------
    tuple
        ``(codes, groups)``: int64 per row, and the groups present (columns ``by``), row
        *i* being group *i*.
    """
    coded = [sorted_factorize(frame[column]) for column in by]
    return combined_codes([codes for codes, _ in coded], [names for _, names in coded], by)


def grouped_samples(group: np.ndarray, groups: pd.DataFrame, values: np.ndarray) -> Samples:
    """:func:`samples` of ``values`` whose groups are already coded (:func:`group_codes`)."""
    order = np.argsort(group, kind="stable")  # each group's values in row order
    bounds = np.searchsorted(group[order], np.arange(len(groups) + 1))
    names = groups.astype(str).itertuples(index=False, name=None)
    return {
        tuple(name): values[order[lo:hi]]
        for name, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True)
        if hi > lo
    }


class StoredSamples(Protocol):
    """Samples kept out of memory (a worker's Parquet part, :mod:`driftkit.scale.samples`):
    their groups, and their values read in batches as ``(group code, key)``."""

    @property
    def keys(self) -> tuple[tuple[str, ...], ...]:
        """The groups, group code *i* being ``keys[i]``."""
        ...

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The values in batches: ``(group codes, keys)``
        (:func:`~driftkit.causes.quantiles.keyed`)."""
        ...


SampleParts = Samples | StoredSamples  # one part's samples: in memory or stored


def sample_stats(
    parts: Sequence[SampleParts],
    names: list[str],
    stats: Sequence[Stat],
    *,
    regroup: Callable[[tuple[str, ...]], tuple[str, ...] | None] | None = None,
) -> list[pd.Series]:
    """Each of ``stats`` (:data:`~driftkit.causes.quantiles.MEDIAN` or a quantile q) of each
    group's samples over all ``parts``, exact (:func:`~driftkit.causes.quantiles.grouped_quantiles`:
    what ``pd.Series.median`` / ``.quantile(q)`` of the concatenated samples gives).

    ``regroup``: a part's group → the group it is pooled into (None: left out); default
    the group itself.

    Returns
    -------
    list of pandas.Series
        One per stat, indexed by ``names`` (one level per name, the groups sorted), float.
    """
    into = regroup or (lambda key: key)
    mapped = [[into(key) for key in _keys(part)] for part in parts]
    keys = sorted({key for part in mapped for key in part if key is not None})
    number: dict[tuple[str, ...] | None, int] = {key: i for i, key in enumerate(keys)}
    codes = [np.array([*(number.get(k, -1) for k in m), -1], dtype=np.int64) for m in mapped]
    held = [part if not isinstance(part, dict) else [keyed_samples(part)] for part in parts]

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for part, code in zip(held, codes, strict=True):
            pieces = part if isinstance(part, list) else part.batches()
            yield from ((code[group], key) for group, key in pieces)

    index = pd.MultiIndex.from_arrays(
        [[k[i] for k in keys] for i in range(len(names))], names=names
    )
    found = grouped_quantiles(batches, len(keys), stats)
    return [pd.Series(found[:, i], index=index, dtype=float) for i in range(len(stats))]


def _keys(part: SampleParts) -> list[tuple[str, ...]]:
    return list(part) if isinstance(part, dict) else list(part.keys)


def keyed_samples(part: Samples) -> tuple[np.ndarray, np.ndarray]:
    """In-memory samples as one :func:`~driftkit.causes.quantiles.keyed` batch.

    Returns
    -------
    tuple
        int64 group codes (the index of each value's group in ``part``) and uint64 keys.
    """
    sizes = [len(values) for values in part.values()]
    codes = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    return keyed(codes, np.concatenate([*part.values(), np.zeros(0)]))


@dataclass(frozen=True)
class EdgeParts:
    """The parts of the handoff map that add up over partitions.

    Attributes
    ----------
    counts
        Indexed by ``source, target, kind``: ``events, matched, duplicated``.
    formats
        ``source, target, kind, side, format, n`` (side ``source_format`` or ``target_format``).
    latency
        Per edge, the latency (h) of every received delivery (stored by a worker:
        :class:`StoredSamples`).
    """

    counts: pd.DataFrame
    formats: pd.DataFrame
    latency: SampleParts


def edge_parts(edges: pd.DataFrame) -> EdgeParts:
    """The summable parts of :func:`handoff_table` of ``edges`` (normal deliveries)."""
    edge, groups = group_codes(edges, EDGE)
    kept, n = edge >= 0, len(groups)
    matched = edges["received"].to_numpy(dtype=bool)
    doubled = (edges["copies"] > 0).to_numpy(dtype=bool)
    counts = groups.assign(
        events=np.bincount(edge[kept], minlength=n),
        matched=np.bincount(edge[kept], matched[kept], n).astype(np.int64),
        duplicated=np.bincount(edge[kept], doubled[kept], n).astype(np.int64),
    ).set_index(EDGE)
    formats = pd.concat([_format_counts(edges, side) for side in FORMAT_SIDES], ignore_index=True)
    got = np.flatnonzero(kept & matched)
    latency = edges[LATENCY_H].to_numpy(dtype=float)[got]
    return EdgeParts(counts, formats, grouped_samples(edge[got], groups, latency))


FORMAT_SIDES = ("source_format", "target_format")


def _format_counts(edges: pd.DataFrame, side: str) -> pd.DataFrame:
    """Per edge and reference format of ``side``: ``source, target, kind, format, n, side``."""
    group, groups = group_codes(edges, [*EDGE, side])
    n = np.bincount(group[group >= 0], minlength=len(groups))
    return groups.rename(columns={side: "format"}).assign(n=n, side=side)


def handoff_table(edges: pd.DataFrame) -> pd.DataFrame:
    """The handoff map of :func:`map_handoffs` from its normal deliveries ``edges``.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, kind, events, matched, missing, duplicated,
        missing_share, source_formats, target_formats, latency_p50_h, latency_p95_h``.
    """
    return handoff_from_parts([edge_parts(edges)])


def handoff_from_parts(parts: list[EdgeParts]) -> pd.DataFrame:
    """:func:`handoff_table` from the :class:`EdgeParts` of several partitions (exact).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`handoff_table`.
    """
    table = pd.concat([p.counts for p in parts]).groupby(level=EDGE).sum()
    table["missing"] = table["events"] - table["matched"]
    table["missing_share"] = table["missing"] / table["events"]
    every = pd.concat([p.formats for p in parts], ignore_index=True)
    formats = every.groupby([*EDGE, "side", "format"], as_index=False)["n"].sum()
    for side in FORMAT_SIDES:
        table[f"{side}s"] = _format_lists(formats[formats["side"] == side])
    p50, p95 = sample_stats([p.latency for p in parts], EDGE, [0.5, 0.95])
    table["latency_p50_h"], table["latency_p95_h"] = p50, p95
    table = table.reset_index().reindex(columns=HANDOFF_COLUMNS)
    table = table.astype({c: np.int64 for c in ("events", "matched", "missing", "duplicated")})
    return table.sort_values(EDGE, ignore_index=True)


def _format_lists(counts: pd.DataFrame) -> pd.Series:
    """Per edge, the reference formats seen with their counts (``format, n`` per edge)."""
    ordered = counts.sort_values([*EDGE, "n", "format"], ascending=[True, True, True, False, True])
    text = "`" + ordered["format"] + "` ×" + ordered["n"].astype(str)
    return text.groupby([ordered[c] for c in EDGE]).agg(", ".join)
