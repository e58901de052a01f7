"""Interactive drift explorer for JupyterLab (DESIGN §11).

``explore(client)`` returns an ipywidgets layout over one client's audit: pick systems, a SKU
(type-ahead search ranked by drift), its location, a date range and a cause; the count line
of every system (events, cycle counts and episodes marked), the episode table, the findings
with their evidence and the key's impact numbers update together.  A worst-first list steps
through the drifted keys and the current selection exports to CSV.

Speed: every table is indexed by key code once (rows sorted by key, offsets found with
``np.searchsorted``), so a selection change slices that key's rows and never scans a table.
The logic lives in plain methods (``Explorer.select``, ``Explorer.view``, ``Explorer.step``,
``Explorer.export``) that run and test without a browser; the widgets only call them.
"""

from __future__ import annotations

import html
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import altair as alt
import ipywidgets as widgets
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import vl_convert as vlc

from driftkit import charts, schema
from driftkit.align import Grid
from driftkit.errors import InputError, ReportError
from driftkit.schema import LOCATION, SKU, SYSTEM

if TYPE_CHECKING:
    from driftkit.audit import Audit

log = logging.getLogger(__name__)

ANY_CAUSE = "any cause"
MATCHES = 20
CHART_MAX_EVENTS = 5000
CHART_WIDTH = 600
VEGA_MIME = "application/vnd.vega.v5+json"
REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "notebooks" / "explore.ipynb"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HALF_DAY = pd.Timedelta(hours=12)
# fmt: off
EPISODE_COLUMNS = (SKU, LOCATION, SYSTEM, "counterpart", "start", "end", "days",
                   "peak_abs_drift", "mean_drift", "open")
FINDING_COLUMNS = (SKU, LOCATION, SYSTEM, "counterpart", "cause", "first_seen", "last_seen",
                   "units", "value", "confidence", "evidence")
_EVENT_COLUMNS = (SYSTEM, "kind", "qty_delta", "commit_delta", "set_qty", "occurred_at",
                  "recorded_at", "reference", "event_id")
# fmt: on
_TEXT = {SKU, LOCATION, SYSTEM, "counterpart", "cause", "evidence"}
_TIMES = {"start", "end", "first_seen", "last_seen"}


def _empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """Zero rows with the given columns: text as ``str``, times as datetimes, else float."""
    dtypes = {
        c: "str" if c in _TEXT else "datetime64[us]" if c in _TIMES else "float64" for c in columns
    }
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})


# --- inputs and views ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerData:
    """What the explorer shows: the grid plus per-key tables (any may be empty).

    Attributes
    ----------
    grid
        Aligned values (``driftkit.align.Grid``).
    events, counts, catalog
        Canonical tables (DESIGN §2).
    episodes
        ``sku, location, system, counterpart, start, end, days, peak_abs_drift, mean_drift, open``.
    findings
        ``sku, location, system, counterpart, cause, first_seen, last_seen, units, value,
        confidence, evidence``.
    impact
        One row per key: ``sku, location`` and the key's impact numbers.
    timezone, tolerance, client
        Client time zone (timestamps are shown as local days), agreement tolerance, client id.
    """

    grid: Grid
    events: pd.DataFrame = field(default_factory=lambda: schema.empty("events"))
    counts: pd.DataFrame = field(default_factory=lambda: schema.empty("counts"))
    episodes: pd.DataFrame = field(default_factory=lambda: _empty_frame(EPISODE_COLUMNS))
    findings: pd.DataFrame = field(default_factory=lambda: _empty_frame(FINDING_COLUMNS))
    impact: pd.DataFrame = field(default_factory=lambda: _empty_frame((SKU, LOCATION)))
    catalog: pd.DataFrame = field(default_factory=lambda: schema.empty("catalog"))
    timezone: str = "UTC"
    tolerance: float = 0.0
    client: str = "client"

    @classmethod
    def from_audit(cls, audit: Audit) -> ExplorerData:
        """The explorer's inputs taken from a computed ``driftkit.audit.Audit``."""
        tables = audit.tables
        return cls(
            grid=audit.grid,
            events=audit.data.events,
            counts=audit.data.counts,
            episodes=tables.get("episodes", audit.comparison.episodes),
            findings=tables.get("findings", _empty_frame(FINDING_COLUMNS)),
            impact=tables.get("impact", _empty_frame((SKU, LOCATION))),
            catalog=audit.data.catalog,
            timezone=audit.config.timezone,
            tolerance=audit.config.tolerance,
            client=audit.config.id,
        )


@dataclass(frozen=True)
class ExplorerView:
    """The frames the explorer currently shows for one key, after every filter.

    Attributes
    ----------
    sku, location
        The key.
    position, drifted
        1-based place of the key in the worst-first list (0 when it is not in it) and the
        length of that list.
    series
        ``day, system, value``: present values of the chosen systems in the date range.
    events
        ``time, system, kind, qty, commit, set_qty, reference, event_id`` (``time``: local
        time the system applied the event; ``qty``/``commit``: on-hand/committed deltas).
    counts
        ``time, counted_qty``: cycle counts (local time).
    episodes, findings
        The key's rows of those tables for the chosen systems (and cause), overlapping the range.
    impact
        The key's impact row (zero rows when there is none).
    """

    sku: str
    location: str
    position: int
    drifted: int
    series: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame
    episodes: pd.DataFrame
    findings: pd.DataFrame
    impact: pd.DataFrame


# --- per-key indexes -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """A table sorted by key code: key k's rows are ``frame[offsets[k]:offsets[k+1]]``.

    Sorting once and slicing later matters: taking scattered rows from a 9M-row Arrow-backed
    frame costs 20–40 ms per column, a slice costs microseconds.
    """

    frame: pd.DataFrame
    offsets: np.ndarray

    def of(self, code: int) -> pd.DataFrame:
        return self.frame.iloc[self.offsets[code] : self.offsets[code + 1]]


class _KeyLookup:
    """Maps (sku, location) columns of any table to grid key codes (−1 = not on the grid).

    SKUs and locations are matched with Arrow hash lookups; the (sku, location) pair is then
    a dense table lookup (a sorted search when the pair space is too large for a table).
    """

    DENSE_LIMIT = 50_000_000

    def __init__(self, keys: pd.DataFrame) -> None:
        sku_code, skus = pd.factorize(keys[SKU])
        loc_code, locations = pd.factorize(keys[LOCATION])
        self.skus, self.locations = _text(pd.Series(skus)), _text(pd.Series(locations))
        self.n_loc = len(locations)
        pair = sku_code.astype(np.int64) * self.n_loc + loc_code
        self.order = np.argsort(pair, kind="stable")
        self.pairs = pair[self.order]
        self.table: np.ndarray | None = None
        if len(skus) * self.n_loc <= self.DENSE_LIMIT:
            self.table = np.full(len(skus) * self.n_loc, -1, dtype=np.int64)
            self.table[pair] = np.arange(len(pair))

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0 or SKU not in frame.columns or LOCATION not in frame.columns:
            return np.full(len(frame), -1, dtype=np.int64)
        sku = _positions(frame[SKU], self.skus)
        loc = _positions(frame[LOCATION], self.locations)
        known = (sku >= 0) & (loc >= 0)
        pair = np.where(known, sku * self.n_loc + loc, 0)
        if self.table is not None:
            return np.where(known, self.table[pair], -1)
        at = np.minimum(np.searchsorted(self.pairs, pair), len(self.pairs) - 1)
        return np.where(known & (self.pairs[at] == pair), self.order[at], -1)


def _text(column: pd.Series) -> pa.Array:
    """A text column as an Arrow large_string array (zero-copy for the ``str`` dtype)."""
    array = pa.array(column, from_pandas=True)
    return array if array.type == pa.large_string() else pc.cast(array, pa.large_string())


def _positions(column: pd.Series, values: pa.Array) -> np.ndarray:
    """Position of each value of ``column`` in ``values`` (−1 when absent)."""
    found = pc.index_in(_text(column), value_set=values)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _group_rows(
    frame: pd.DataFrame, codes: np.ndarray, n_keys: int, columns: tuple[str, ...] | None = None
) -> _Rows:
    """A copy of ``frame`` (only ``columns`` when given) sorted by key code, with offsets.

    One stable sort: a key's rows keep their input order; rows off the grid are dropped.
    """
    keep = np.flatnonzero(codes >= 0)
    order = keep[np.argsort(codes[keep], kind="stable")]
    offsets = np.searchsorted(codes[order], np.arange(n_keys + 1))
    picked = frame if columns is None else frame[list(columns)]
    return _Rows(picked.take(order).reset_index(drop=True), offsets)


def _titles(catalog: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Catalog title per key code (None when unknown)."""
    titles = np.full(len(keys), None, dtype=object)
    if "title" in catalog.columns and len(catalog):
        first = catalog.drop_duplicates(SKU)
        at = pd.Index(first[SKU]).get_indexer(keys[SKU])
        found = at >= 0
        titles[found] = np.asarray(first["title"].astype(object))[at[found]]
    return titles


def drift_ranking(grid: Grid, tolerance: float = 0.0) -> pd.DataFrame:
    """Every key's drift over the window, worst first.

    ``drift_units`` is Σ over days and non-authority systems of |value − authority value|
    (cells where both are present); ``drifted_days`` counts days with at least two systems
    present whose max − min exceeds ``tolerance``.

    Returns
    -------
    pandas.DataFrame
        Columns ``code, sku, location, drift_units, drifted_days``; sorted by drift_units,
        then drifted_days (descending), then key code.
    """
    values = grid.values
    units = np.zeros(len(grid.keys))
    if grid.authority in grid.systems and len(grid.systems) > 1:
        authority = values[grid.index(grid.authority)]
        others = np.delete(values, grid.index(grid.authority), axis=0)
        units = np.nansum(np.abs(others - authority), axis=(0, 2))
    present = (~np.isnan(values)).sum(axis=0) >= 2
    spread = np.fmax.reduce(values, axis=0) - np.fmin.reduce(values, axis=0)
    days = (present & (spread > tolerance)).sum(axis=1)
    code = np.lexsort((np.arange(len(units)), -days, -units))
    ranked = grid.keys.iloc[code].reset_index(drop=True)
    ranked.insert(0, "code", code)
    return ranked.assign(drift_units=units[code], drifted_days=days[code])


# --- the explorer --------------------------------------------------------------------------


class Explorer:
    """Widgets and per-key indexes over one client's audit.

    Parameters
    ----------
    data
        The tables to explore (``ExplorerData.from_audit(audit)`` for an audit).
    export_dir
        Folder that ``export`` writes CSV files into.
    """

    def __init__(self, data: ExplorerData, *, export_dir: str | Path = "reports/explore") -> None:
        if len(data.grid.keys) == 0:
            raise InputError(f"client {data.client!r}: the grid has no keys; nothing to explore")
        self.data = data
        self.export_dir = Path(export_dir)
        self._index(data)
        self.controls = _Controls.build(data.grid, self._causes())
        self._template = _VegaTemplate(data.grid.systems)
        self.widget = ExplorerWidget(self, self.controls)
        self._code = int(self._order[0]) if len(self._order) else int(self._ranking["code"][0])
        self._syncing = False
        self._wire()
        self.select(code=self._code)

    @classmethod
    def from_audit(cls, audit: Audit, *, export_dir: str | Path = "reports/explore") -> Explorer:
        """An explorer over a computed ``driftkit.audit.Audit``."""
        return cls(ExplorerData.from_audit(audit), export_dir=export_dir)

    def _index(self, data: ExplorerData) -> None:
        grid, n_keys = data.grid, len(data.grid.keys)
        lookup = _KeyLookup(grid.keys)
        self._findings_code = lookup.codes(data.findings)
        self._events = _group_rows(data.events, lookup.codes(data.events), n_keys, _EVENT_COLUMNS)
        self._counts = _group_rows(
            data.counts, lookup.codes(data.counts), n_keys, (schema.COUNTED_AT, schema.COUNTED_QTY)
        )
        self._episodes = _group_rows(data.episodes, lookup.codes(data.episodes), n_keys)
        self._findings = _group_rows(data.findings, self._findings_code, n_keys)
        self._impact = _group_rows(data.impact, lookup.codes(data.impact), n_keys)
        self._locations = grid.keys[LOCATION].to_numpy(dtype=object)
        self._ranking = drift_ranking(grid, data.tolerance)
        self._rank_of = np.empty(n_keys, dtype=np.int64)
        self._rank_of[self._ranking["code"].to_numpy()] = np.arange(n_keys)
        self._ranked_skus = pa.array(self._ranking[SKU].to_numpy(dtype=object), type=pa.string())
        self._sku_order = np.argsort(grid.keys[SKU].to_numpy(dtype=object), kind="stable")
        self._sorted_skus = grid.keys[SKU].to_numpy(dtype=object)[self._sku_order]
        self._order = self._worst_first(ANY_CAUSE)
        self._titles = _titles(data.catalog, grid.keys)

    def _causes(self) -> list[str]:
        found = self.data.findings.get("cause", pd.Series(dtype="str")).dropna().unique()
        known = [c.value for c in schema.Cause]
        return [ANY_CAUSE, *known, *sorted(str(c) for c in found if c not in known)]

    def _worst_first(self, cause: str) -> np.ndarray:
        """Key codes of the worst-first list: drifted keys (with a ``cause`` finding), worst first."""
        ranking = self._ranking
        keep = (ranking["drifted_days"].to_numpy() > 0) | (ranking["drift_units"].to_numpy() > 0)
        if cause != ANY_CAUSE:
            codes = self._findings_code
            with_cause = codes[(self.data.findings["cause"] == cause).to_numpy() & (codes >= 0)]
            has = np.zeros(len(self.data.grid.keys), dtype=bool)
            has[with_cause] = True
            keep = has[ranking["code"].to_numpy()]
        return np.asarray(ranking["code"].to_numpy()[keep], dtype=np.int64)

    # --- plain methods (no browser needed) ------------------------------------------------

    def search(self, query: str, *, limit: int = MATCHES) -> pd.DataFrame:
        """Keys whose SKU contains ``query`` (case-insensitive), exact SKU first, then worst first.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, sku, location, drift_units, drifted_days``; at most ``limit`` rows.
        """
        query = query.strip()
        if not query:
            return self._ranking.head(limit)
        hits = np.flatnonzero(
            pc.match_substring(self._ranked_skus, query, ignore_case=True).to_numpy(
                zero_copy_only=False
            )
        )
        exact = self._codes_of_sku(query) if len(hits) else np.empty(0, dtype=np.int64)
        rows = np.concatenate([np.sort(self._rank_of[exact]), hits])
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

    def select(
        self, sku: str | None = None, location: str | None = None, *, code: int | None = None
    ) -> ExplorerView:
        """Show one key (by ``sku`` and optional ``location``, or by grid key ``code``).

        Returns
        -------
        ExplorerView
            The frames now shown.
        """
        if code is None:
            code = self.key_code(sku or "", location)
        return self._show_key(int(code))

    def _show_key(self, code: int, matches: pd.DataFrame | None = None) -> ExplorerView:
        self._code = code
        self._sync_key_widgets(matches)
        return self.refresh()

    def step(self, offset: int) -> ExplorerView:
        """Move ``offset`` places along the worst-first list (wrapping) and show that key."""
        order = self._order
        if len(order) == 0:
            return self.view()
        here = self._position() - 1
        start = here + offset if here >= 0 else (0 if offset > 0 else len(order) - 1)
        return self.select(code=int(order[start % len(order)]))

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

    def view(self) -> ExplorerView:
        """The frames for the current key after the system, date-range and cause filters."""
        code, controls, grid = self._code, self.controls, self.data.grid
        systems = list(controls.systems.value)
        first, last = (grid.days[i] for i in controls.days.index)
        cause = controls.cause.value
        key = grid.keys.iloc[code]
        return ExplorerView(
            sku=str(key[SKU]),
            location=str(key[LOCATION]),
            position=self._position(),
            drifted=len(self._order),
            series=self._series(code, systems, controls.days.index),
            events=self._events_view(code, systems, first, last),
            counts=self._counts_view(code, first, last),
            episodes=_overlapping(self._episodes.of(code), systems, "start", "end", first, last),
            findings=self._findings_view(code, systems, cause, first, last),
            impact=self._impact.of(code).reset_index(drop=True),
        )

    def _series(self, code: int, systems: list[str], days: tuple[int, int]) -> pd.DataFrame:
        grid = self.data.grid
        chosen = [grid.index(s) for s in grid.systems if s in systems]
        block = grid.values[chosen, code, days[0] : days[1] + 1]
        s, d = np.nonzero(~np.isnan(block))
        return pd.DataFrame(
            {
                "day": grid.days[days[0] + d],
                SYSTEM: pd.Series(np.asarray(grid.systems, dtype=object)[chosen][s], dtype="str"),
                "value": block[s, d],
            }
        )

    def _events_view(
        self, code: int, systems: list[str], first: pd.Timestamp, last: pd.Timestamp
    ) -> pd.DataFrame:
        rows = self._events.of(code)
        applied = rows["recorded_at"].fillna(rows["occurred_at"])
        frame = pd.DataFrame(
            {
                "time": _local(applied, self.data.timezone),
                SYSTEM: rows[SYSTEM],
                "kind": rows["kind"],
                "qty": rows["qty_delta"],
                "commit": rows["commit_delta"],
                "set_qty": rows["set_qty"],
                "reference": rows["reference"],
                "event_id": rows["event_id"],
            }
        ).reset_index(drop=True)
        keep = frame[SYSTEM].isin(systems) & _within(frame["time"], first, last)
        return frame[keep].sort_values("time", kind="stable").reset_index(drop=True)

    def _counts_view(self, code: int, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
        rows = self._counts.of(code)
        frame = pd.DataFrame(
            {
                "time": _local(rows["counted_at"], self.data.timezone),
                "counted_qty": rows["counted_qty"],
            }
        ).reset_index(drop=True)
        kept = frame[_within(frame["time"], first, last)]
        return kept.sort_values("time", kind="stable").reset_index(drop=True)

    def _findings_view(
        self,
        code: int,
        systems: list[str],
        cause: str,
        first: pd.Timestamp,
        last: pd.Timestamp,
    ) -> pd.DataFrame:
        rows = self._findings.of(code)
        if cause != ANY_CAUSE and not rows.empty:
            rows = rows[(rows["cause"] == cause).to_numpy()]
        if rows.empty or "first_seen" not in rows.columns:
            return rows.reset_index(drop=True)
        begins = _local(rows["first_seen"], self.data.timezone).dt.normalize()
        ends = _local(rows["last_seen"], self.data.timezone)
        keep = (rows[SYSTEM].isin(systems) & (begins <= last) & (ends >= first)).to_numpy()
        return rows[keep].sort_values("first_seen", kind="stable").reset_index(drop=True)

    def chart(self, view: ExplorerView | None = None) -> alt.VConcatChart:
        """The count lines of ``view`` (default: the current view) as an Altair chart."""
        view = view or self.view()
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        return key_chart(view, systems=self.data.grid.systems, first=first, last=last)

    def export(self, folder: str | Path | None = None) -> Path:
        """Write the current view to one CSV file and return its path.

        The file stacks the views with a leading ``view`` column (``series``, ``events``,
        ``counts``, ``episodes``, ``findings``, ``impact``) and the key's ``sku, location``.
        """
        view = self.view()
        folder = Path(folder) if folder is not None else self.export_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = "_".join(_UNSAFE.sub("-", p) for p in (self.data.client, view.sku, view.location))
        path = folder / f"{name}.csv"
        _stacked(view).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        log.info("exported %s @ %s to %s", view.sku, view.location, path)
        return path

    # --- widgets --------------------------------------------------------------------------

    def _wire(self) -> None:
        c = self.controls
        c.search.observe(self._on_search, names="value")
        c.matches.observe(self._on_match, names="value")
        c.location.observe(self._on_location, names="value")
        for control in (c.systems, c.days):
            control.observe(self._on_filter, names="value")
        c.cause.observe(self._on_cause, names="value")
        c.previous.on_click(lambda _: self.step(-1))
        c.next.on_click(lambda _: self.step(1))
        c.export.on_click(self._on_export)
        c.tables.observe(lambda _: c.show_table(self.shown), names="selected_index")

    def _on_search(self, change: dict[str, Any]) -> None:
        found = self.search(str(change["new"]))
        exact = (found[SKU].str.upper() == str(change["new"]).strip().upper()).to_numpy()
        if exact.any():
            self._show_key(int(found["code"].to_numpy()[exact][0]), found)
        else:
            self._set_matches(found)

    def _on_match(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.select(code=int(change["new"]))

    def _on_location(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.select(self.view_key()[0], str(change["new"]))

    def _on_filter(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.refresh()

    def _on_cause(self, change: dict[str, Any]) -> None:
        """Restrict the worst-first list to the cause; jump to its worst key if needed."""
        self._order = self._worst_first(str(change["new"]))
        if self._position() == 0 and len(self._order):
            self._show_key(int(self._order[0]))
        else:
            self.refresh()

    def _on_export(self, button: widgets.Button) -> None:
        self.controls.exported.value = f"exported to <code>{html.escape(str(self.export()))}</code>"

    def view_key(self) -> tuple[str, str]:
        """The current key as ``(sku, location)``."""
        key = self.data.grid.keys.iloc[self._code]
        return str(key[SKU]), str(key[LOCATION])

    def _set_matches(self, found: pd.DataFrame) -> None:
        if not (found["code"] == self._code).any():
            found = pd.concat(
                [self._ranking.iloc[[self._rank_of[self._code]]], found.head(MATCHES - 1)]
            )
        labels = (
            found[SKU]
            + " @ "
            + found[LOCATION]
            + "  |Δ| "
            + found["drift_units"].round(1).astype("str")
        )
        self._syncing = True
        try:
            self.controls.matches.options = list(
                zip(labels, found["code"].astype(int), strict=True)
            )
            self.controls.matches.value = self._code
        finally:
            self._syncing = False

    def _sync_key_widgets(self, matches: pd.DataFrame | None) -> None:
        sku, location = self.view_key()
        locations = sorted(str(x) for x in self._locations[self._codes_of_sku(sku)])
        self._syncing = True
        try:
            if list(self.controls.location.options) != locations:
                self.controls.location.options = locations
            self.controls.location.value = location
        finally:
            self._syncing = False
        self._set_matches(
            matches if matches is not None else self.search(self.controls.search.value)
        )

    def refresh(self) -> ExplorerView:
        """Redraw every view for the current key and filters; return what is shown."""
        view = self.view()
        self.shown = view
        self.controls.show(view, self._chart_bundle(view), self._title(view))
        return view

    def _chart_bundle(self, view: ExplorerView) -> dict[str, Any]:
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        vega = self._template.fill(chart_data(view, first, last))
        return {VEGA_MIME: vega, "text/plain": f"<count lines of {view.sku} @ {view.location}>"}

    def _title(self, view: ExplorerView) -> str:
        title = self._titles[self._code]
        place = f"#{view.position} of {view.drifted} drifted" if view.position else "not drifted"
        name = f" — {html.escape(title)}" if isinstance(title, str) else ""
        return f"<b>{html.escape(view.sku)}</b> @ {html.escape(view.location)}{name} · {place}"


class ExplorerWidget(widgets.VBox):
    """The explorer's layout; ``.explorer`` is the :class:`Explorer` behind it."""

    def __init__(self, explorer: Explorer, controls: _Controls) -> None:
        super().__init__(controls.layout())
        self.explorer = explorer


@dataclass
class _Controls:
    """Every widget of the explorer."""

    search: widgets.Text
    matches: widgets.Select
    location: widgets.Dropdown
    systems: widgets.SelectMultiple
    days: widgets.SelectionRangeSlider
    cause: widgets.Dropdown
    previous: widgets.Button
    next: widgets.Button
    export: widgets.Button
    exported: widgets.HTML
    title: widgets.HTML
    chart: widgets.Output
    tables: widgets.Tab

    @classmethod
    def build(cls, grid: Grid, causes: list[str]) -> _Controls:
        days = [(d.strftime("%d %b"), i) for i, d in enumerate(grid.days)]
        tables = widgets.Tab(children=[widgets.HTML() for _ in _TABS])
        tables.titles = _TABS
        return cls(
            search=widgets.Text(
                placeholder="type a SKU", description="SKU", continuous_update=True
            ),
            matches=widgets.Select(options=[], rows=8, description="matches"),
            location=widgets.Dropdown(options=[], description="location"),
            systems=widgets.SelectMultiple(
                options=list(grid.systems), value=list(grid.systems), description="systems"
            ),
            days=widgets.SelectionRangeSlider(
                options=days, index=(0, len(days) - 1), description="days"
            ),
            cause=widgets.Dropdown(options=causes, value=ANY_CAUSE, description="cause"),
            previous=widgets.Button(description="◀ previous", tooltip="previous worst key"),
            next=widgets.Button(description="next ▶", tooltip="next worst key"),
            export=widgets.Button(description="export CSV", icon="download"),
            exported=widgets.HTML(),
            title=widgets.HTML(),
            chart=widgets.Output(),
            tables=tables,
        )

    def layout(self) -> list[widgets.Widget]:
        picker = widgets.VBox([self.search, self.matches])
        filters = widgets.VBox([self.location, self.systems, self.days, self.cause])
        stepper = widgets.VBox(
            [widgets.HBox([self.previous, self.next]), self.export, self.exported]
        )
        return [self.title, widgets.HBox([picker, filters, stepper]), self.chart, self.tables]

    def show(self, view: ExplorerView, bundle: dict[str, Any], title: str) -> None:
        self.title.value = title
        self.chart.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
        self.show_table(view)

    def show_table(self, view: ExplorerView) -> None:
        """Render the selected tab only (the others render when they are selected)."""
        index = self.tables.selected_index or 0
        self.tables.children[index].value = _html_table(_tab_frames(view)[index])


_TABS = ("episodes", "findings", "impact", "events")


def _tab_frames(view: ExplorerView) -> tuple[pd.DataFrame, ...]:
    return (view.episodes, view.findings, view.impact.T.reset_index(), view.events)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<i>none for this key and filter</i>"
    return frame.to_html(index=False, escape=True, na_rep="", max_rows=200, border=0)


# --- small frame helpers -------------------------------------------------------------------


def _local(stamps: pd.Series, timezone: str) -> pd.Series:
    """Timestamps as naive local times of ``timezone`` (naive input is taken as local)."""
    stamps = pd.to_datetime(stamps)
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert(timezone).dt.tz_localize(None)
    return stamps


def _within(times: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    return (times >= first) & (times < last + pd.Timedelta(days=1))


def _overlapping(
    rows: pd.DataFrame,
    systems: list[str],
    start: str,
    end: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> pd.DataFrame:
    if rows.empty or start not in rows.columns:
        return rows.reset_index(drop=True)
    begins = pd.to_datetime(rows[start]).dt.normalize()
    ends = pd.to_datetime(rows[end]).dt.normalize()
    keep = (rows[SYSTEM].isin(systems) & (begins <= last) & (ends >= first)).to_numpy()
    return rows[keep].sort_values(start, kind="stable").reset_index(drop=True)


def _stacked(view: ExplorerView) -> pd.DataFrame:
    parts = [
        getattr(view, f.name).assign(view=f.name)
        for f in fields(view)
        if isinstance(getattr(view, f.name), pd.DataFrame)
    ]
    frame = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=["view"])
    )
    frame = frame.drop(columns=[SKU, LOCATION], errors="ignore")
    frame.insert(0, LOCATION, view.location)
    frame.insert(0, SKU, view.sku)
    return frame[["view", *[c for c in frame.columns if c != "view"]]]


# --- chart ---------------------------------------------------------------------------------

_CHART_DATA = ("series", "episodes", "counts", "events", "frame")


def key_chart(
    view: ExplorerView,
    *,
    systems: tuple[str, ...],
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> alt.VConcatChart:
    """Count lines of one key: one line per system, episodes shaded, counts and events marked.

    Parameters
    ----------
    view
        The key's frames (``series``, ``episodes``, ``counts``, ``events``).
    systems
        Every system of the client (fixes the colours and the rows of the event strip).
    first, last
        The date range shown.
    """
    return _layout(systems, chart_data(view, first, last))


def chart_data(
    view: ExplorerView, first: pd.Timestamp, last: pd.Timestamp
) -> dict[str, list[dict[str, Any]]]:
    """The named datasets of :func:`key_chart` as JSON-ready records (local times as text).

    ``series``: day, system, value; ``episodes``: day, day_end, system, counterpart (bands
    of half a day either side of the episode's days); ``counts``: day, counted_qty;
    ``events``: day, system, kind, qty, commit, set_qty, reference; ``frame``: the range's two ends.
    """
    episodes = view.episodes
    bands = pd.DataFrame(
        {
            "day": pd.to_datetime(episodes.get("start", pd.Series(dtype="datetime64[us]")))
            - _HALF_DAY,
            "day_end": pd.to_datetime(episodes.get("end", pd.Series(dtype="datetime64[us]")))
            + _HALF_DAY,
            SYSTEM: episodes.get(SYSTEM),
            "counterpart": episodes.get("counterpart"),
        }
    )
    events = view.events.tail(CHART_MAX_EVENTS).rename(columns={"time": "day"})
    frames = {
        "series": view.series,
        "episodes": bands,
        "counts": view.counts.rename(columns={"time": "day"}),
        "events": events[["day", SYSTEM, "kind", "qty", "commit", "set_qty", "reference"]],
        "frame": pd.DataFrame({"day": [first - _HALF_DAY, last + _HALF_DAY]}),
    }
    return {name: _records(frame) for name, frame in frames.items()}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN → null, naive times as ISO text (Vega reads them as local)."""
    text = frame.to_json(orient="records", date_format="iso", date_unit="s")
    return cast(list[dict[str, Any]], json.loads(text))


def _layout(
    systems: tuple[str, ...], datasets: dict[str, list[dict[str, Any]]]
) -> alt.VConcatChart:
    """The chart over named datasets, so a key's data is swapped in without rebuilding it.

    Colours, step lines, legend highlighting and zoom follow ``charts.sku_drilldown`` (the
    report's drill-down); cycle counts are added as black diamonds.
    """
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", tickCount="day"))
    palette = charts.system_colors(systems)
    scale = alt.Scale(domain=list(palette), range=list(palette.values()))
    legend = alt.Legend(symbolOpacity=1)
    colour = alt.Color(f"{SYSTEM}:N", title="System", scale=scale, legend=legend)
    pick = alt.selection_point(name="pick_system", fields=[SYSTEM], bind="legend")
    zoom = alt.selection_interval(name="zoom", encodings=["x"], bind="scales")
    data = {name: alt.Data(name=name) for name in _CHART_DATA}
    ends = alt.Chart(data["frame"]).mark_point(opacity=0).encode(x=x)
    bands = (
        alt.Chart(data["episodes"])
        .mark_rect(opacity=0.12)
        .encode(
            x=x,
            x2="day_end:T",
            fill=alt.Fill(f"{SYSTEM}:N", title="System", scale=scale, legend=legend),
            tooltip=[alt.Tooltip("system:N", title="Episode of"), "counterpart:N"],
        )
    )
    lines = (
        alt.Chart(data["series"])
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title="Units", scale=alt.Scale(zero=False)),
            color=colour,
            opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.15)),
            tooltip=["day:T", "system:N", "value:Q"],
        )
        .add_params(pick, zoom)
    )
    counts = (
        alt.Chart(data["counts"])
        .mark_point(shape="diamond", size=90, filled=True, color="black")
        .encode(
            x=x,
            y="counted_qty:Q",
            tooltip=[alt.Tooltip("day:T", title="Cycle count"), "counted_qty:Q"],
        )
    )
    marks = (
        alt.Chart(data["events"])
        .mark_point(size=70, filled=True, opacity=1)
        .encode(
            x=x,
            y=alt.Y(f"{SYSTEM}:N", title="Events", scale=alt.Scale(domain=list(systems))),
            color=colour,
            shape=alt.Shape(
                "kind:N", title="Event kind", scale=alt.Scale(domain=list(schema.EventKind))
            ),
            tooltip=[
                "day:T",
                "system:N",
                "kind:N",
                "qty:Q",
                "commit:Q",
                "set_qty:Q",
                "reference:N",
            ],
        )
    )
    top = alt.layer(bands, lines, counts, ends).properties(width=CHART_WIDTH, height=240)
    strip = alt.layer(marks, ends).properties(width=CHART_WIDTH, height=22 * max(len(systems), 1))
    return alt.vconcat(top, strip, datasets=datasets, spacing=12).resolve_scale(
        x="shared", shape="independent"
    )


class _VegaTemplate:
    """:func:`key_chart` compiled to Vega once; ``fill`` swaps in one key's datasets."""

    def __init__(self, systems: tuple[str, ...]) -> None:
        empty: dict[str, list[dict[str, Any]]] = {name: [] for name in _CHART_DATA}
        spec = _layout(systems, empty).to_dict(validate=False)
        self.vega: dict[str, Any] = vlc.vegalite_to_vega(spec, vl_version="5.21")

    def fill(self, datasets: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        data = [
            {**entry, "values": datasets[entry["name"]]} if entry["name"] in datasets else entry
            for entry in self.vega["data"]
        ]
        return {**self.vega, "data": data}


# --- entry points --------------------------------------------------------------------------


def explore(
    client: str | Path | Audit,
    *,
    start: date | None = None,
    end: date | None = None,
    export_dir: str | Path = "reports/explore",
) -> ExplorerWidget:
    """The explorer widget for a client folder or an already-computed audit.

    Parameters
    ----------
    client
        A client folder (audited here with ``driftkit.audit.run_audit``) or an ``Audit``.
    start, end
        Window of the audit run here (ignored for an ``Audit``).
    export_dir
        Folder the **export CSV** button writes into.

    Returns
    -------
    ExplorerWidget
        An ``ipywidgets.VBox``; its ``.explorer`` is the :class:`Explorer` with the plain
        methods (``select``, ``view``, ``step``, ``search``, ``worst_first``, ``export``).
    """
    from driftkit.audit import Audit, run_audit

    if not isinstance(client, Audit):
        client = run_audit(find_client_dir(client), start=start, end=end)
    return Explorer.from_audit(client, export_dir=export_dir).widget


def find_client_dir(path: str | Path) -> Path:
    """``path`` as given when it exists, else resolved against the repository root.

    Lets a notebook name ``data/sample/...`` whether its kernel runs in the repository root
    or in ``notebooks/``.
    """
    path = Path(path)
    for candidate in (path, REPO_ROOT / path, Path.cwd().parent / path):
        if (candidate / "client.toml").is_file():
            return candidate.resolve()
    raise InputError(
        f"client folder {str(path)!r} has no client.toml (looked in {Path.cwd()} and {REPO_ROOT}); "
        "pass the folder that holds the client's client.toml"
    )


def open_lab(
    client_dir: str | Path, browser: bool = True, *, out_dir: str | Path = "reports/explore"
) -> int:
    """Open JupyterLab on a copy of ``notebooks/explore.ipynb`` parameterised for one client.

    The copy is written to ``out_dir/<client>/explore.ipynb`` (papermill ``prepare_only``);
    returns the exit code of ``jupyter lab``.
    """
    import papermill as pm

    client = find_client_dir(client_dir)
    if not NOTEBOOK.is_file():
        raise ReportError(
            f"explorer notebook {NOTEBOOK} is missing; reinstall driftkit from the repository"
        )
    target = Path(out_dir) / client.name / "explore.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(NOTEBOOK),
        str(target),
        parameters={"client_dir": str(client)},
        prepare_only=True,
        kernel_name="python3",
        progress_bar=False,
    )
    command = [sys.executable, "-m", "jupyter", "lab", str(target)]
    if not browser:
        command.append("--no-browser")
    log.info("starting %s", " ".join(command))
    return subprocess.run(command, check=False).returncode
