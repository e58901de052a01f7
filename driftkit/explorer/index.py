"""The explorer's per-key indexes, drift ranking, worst-first list and search.

Every table is indexed by key code once (rows sorted by key, offsets found with
``np.searchsorted``; :mod:`driftkit.explorer.rows`), so a selection change slices that key's
rows and never scans a table.  Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftkit import schema
from driftkit.errors import InputError
from driftkit.explorer.data import _EVENT_COLUMNS, ANY_CAUSE, ANY_LOCATION, MATCHES, ExplorerData
from driftkit.explorer.payload import Columns, day_text
from driftkit.explorer.ranking import _as_local, _Filter, _local_days, drift_ranking
from driftkit.explorer.rows import _group_rows, _KeyLookup, _Rows
from driftkit.schema import LOCATION, SKU, SYSTEM


def _titles(catalog: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Catalog title per key code (None when unknown)."""
    titles = np.full(len(keys), None, dtype=object)
    if "title" in catalog.columns and len(catalog):
        first = catalog.drop_duplicates(SKU)
        at = pd.Index(first[SKU]).get_indexer(keys[SKU])
        found = at >= 0
        titles[found] = np.asarray(first["title"].astype(object))[at[found]]
    return titles


def key_ordered(data: ExplorerData, lookup: _KeyLookup | None = None) -> dict[str, _Rows]:
    """The events and counts copied in key order, each key's rows in time order.

    Returns
    -------
    dict
        ``{"events": rows, "counts": rows}``: ``_Rows`` whose frames hold the event columns
        (``system, kind, qty_delta, commit_delta, set_qty, occurred_at, recorded_at,
        reference, event_id``) or ``counted_at, counted_qty``, plus ``time``, the local time
        the system applied the event (recorded, else occurred) or the count was taken.
    """
    lookup = lookup or _KeyLookup(data.grid.keys)
    events, counts, tz, n_keys = data.events, data.counts, data.timezone, len(data.grid.keys)
    applied = _as_local(events["recorded_at"].fillna(events["occurred_at"]), tz)
    counted = _as_local(counts[schema.COUNTED_AT], tz)
    return {
        "events": _group_rows(events, lookup.codes(events), n_keys, _EVENT_COLUMNS, applied),
        "counts": _group_rows(
            counts, lookup.codes(counts), n_keys, (schema.COUNTED_AT, schema.COUNTED_QTY), counted
        ),
    }


# --- the indexes and queries of one explorer ----------------------------------------------


class _KeyIndex:
    """Per-key indexes, ranking and search: the base of :class:`driftkit.explorer.app.Explorer`.

    ``_index`` builds every index once; the other methods read them (the current key is
    ``_code``).
    """

    data: ExplorerData
    _code: int

    def _index(self, data: ExplorerData) -> None:
        grid, n_keys = data.grid, len(data.grid.keys)
        lookup = _KeyLookup(grid.keys)
        self._findings_code = lookup.codes(data.findings)
        ordered = data.indexed or key_ordered(data, lookup)
        self._events, self._counts = ordered["events"], ordered["counts"]
        self._episodes = _group_rows(data.episodes, lookup.codes(data.episodes), n_keys)
        self._findings = _group_rows(data.findings, self._findings_code, n_keys)
        self._impact = _group_rows(data.impact, lookup.codes(data.impact), n_keys)
        self._finding_days = _local_days(data.findings, ("first_seen", "last_seen"), data.timezone)
        self._day_texts = day_text(grid.days.to_numpy())
        self._payloads: dict[int, dict[str, Columns]] = {}  # chart data per key code, kept a while
        self._system_names = np.asarray(grid.systems, dtype=object)
        self._locations = grid.keys[LOCATION].to_numpy(dtype=object)
        self._sku_order = np.argsort(grid.keys[SKU].to_numpy(dtype=object), kind="stable")
        self._sorted_skus = grid.keys[SKU].to_numpy(dtype=object)[self._sku_order]
        self._titles = _titles(data.catalog, grid.keys)
        self._skus = grid.keys[SKU].to_numpy(dtype=object)
        self._filter = _Filter(ANY_CAUSE, grid.systems, (0, len(grid.days) - 1), ANY_LOCATION)
        self._set_ranking(self._filter)
        self._order = self._worst_first(self._filter)

    def _rank(self, chosen: _Filter) -> None:
        """Re-rank (when the systems or days changed) and rebuild the worst-first list."""
        if (chosen.systems, chosen.days) != (self._filter.systems, self._filter.days):
            self._set_ranking(chosen)
        self._filter = chosen
        self._order = self._worst_first(chosen)

    def _set_ranking(self, chosen: _Filter) -> None:
        grid = self.data.grid
        ranking = drift_ranking(grid, self.data.tolerance, systems=chosen.systems, days=chosen.days)
        self._ranking = ranking
        self._rank_of = np.empty(len(grid.keys), dtype=np.int64)
        self._rank_of[ranking["code"].to_numpy()] = np.arange(len(grid.keys))
        self._ranked_skus = pa.array(ranking[SKU].to_numpy(dtype=object), type=pa.string())

    def _causes(self) -> list[str]:
        found = self.data.findings.get("cause", pd.Series(dtype="str")).dropna().unique()
        known = [c.value for c in schema.Cause]
        return [ANY_CAUSE, *known, *sorted(str(c) for c in found if c not in known)]

    def _worst_first(self, chosen: _Filter) -> np.ndarray:
        """Key codes of the worst-first list under the filter, worst first.

        Drifted keys (on the chosen systems and days); with a cause, the keys holding a
        finding of that cause on a chosen system that overlaps the chosen days; with a
        location, only the keys at that location.
        """
        ranking = self._ranking
        keep = (ranking["drifted_days"].to_numpy() > 0) | (ranking["drift_units"].to_numpy() > 0)
        if chosen.cause != ANY_CAUSE:
            findings, days = self.data.findings, self.data.grid.days
            first, last = days[chosen.days[0]], days[chosen.days[1]]
            begins, ends = self._finding_days
            shown = (
                (findings["cause"] == chosen.cause).to_numpy()
                & findings[SYSTEM].isin(chosen.systems).to_numpy()
                & (begins <= last)
                & (ends >= first)
                & (self._findings_code >= 0)
            )
            has = np.zeros(len(self.data.grid.keys), dtype=bool)
            has[self._findings_code[shown]] = True
            keep = has[ranking["code"].to_numpy()]
        if chosen.location != ANY_LOCATION:
            keep = keep & (self._locations[ranking["code"].to_numpy()] == chosen.location)
        return np.asarray(ranking["code"].to_numpy()[keep], dtype=np.int64)

    def search(self, query: str, *, limit: int = MATCHES) -> pd.DataFrame:
        """Keys whose SKU contains ``query`` (case-insensitive), exact SKU first, then worst first.

        With a location chosen (the location filter), only keys at that location.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, sku, location, drift_units, drifted_days``; at most ``limit`` rows.
        """
        query, location = query.strip(), self._filter.location
        if not query and location == ANY_LOCATION:
            return self._ranking.head(limit)
        if query:
            found = pc.match_substring(self._ranked_skus, query, ignore_case=True)
            hits = np.flatnonzero(found.to_numpy(zero_copy_only=False))
        else:
            hits = np.arange(len(self._ranking))
        exact = self._codes_of_sku(query) if len(hits) else np.empty(0, dtype=np.int64)
        rows = np.concatenate([np.sort(self._rank_of[exact]), hits])
        if location != ANY_LOCATION:
            codes = self._ranking["code"].to_numpy()
            rows = rows[self._locations[codes[rows]] == location]
        return self._ranking.iloc[pd.unique(rows)[:limit]].reset_index(drop=True)

    def _codes_of_sku(self, sku: str) -> np.ndarray:
        lo = int(np.searchsorted(self._sorted_skus, sku, side="left"))
        hi = int(np.searchsorted(self._sorted_skus, sku, side="right"))
        return np.asarray(self._sku_order[lo:hi], dtype=np.int64)

    def key_code(self, sku: str, location: str | None = None) -> int:
        """Grid key code of ``sku`` at ``location`` (default: its worst location)."""
        codes = self._codes_of_sku(sku)
        if location is not None:
            codes = codes[self._locations[codes] == location]
        if len(codes) == 0:
            where = f" at location {location!r}" if location is not None else ""
            raise InputError(
                f"client {self.data.client!r}: no key with sku {sku!r}{where} on the grid; "
                "use Explorer.search(text) to find the SKUs it holds"
            )
        return int(codes[np.argmin(self._rank_of[codes])])

    def worst_first(self) -> pd.DataFrame:
        """The keys the previous/next buttons step through (drifted, cause-filtered), worst first.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, sku, location, drift_units, drifted_days``.
        """
        return self._ranking.iloc[np.sort(self._rank_of[self._order])].reset_index(drop=True)

    def _position(self) -> int:
        """1-based place of the current key in the worst-first list; 0 when not in it."""
        ranks = self._rank_of[self._order]
        at = int(np.searchsorted(ranks, self._rank_of[self._code]))
        found = at < len(ranks) and ranks[at] == self._rank_of[self._code]
        return at + 1 if found else 0
