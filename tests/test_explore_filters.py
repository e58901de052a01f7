"""The explorer's location filter, its client strings on screen and the chart's fast path.

Hand-built client of tests/test_explore.py, with one more drift at A1 @ east so that each
location has a drifted key: B2 @ main 12 units (shop 3 under the wms on 4 days), A1 @ east
8 (erp 4 over on 2 days), A1 @ main 2 (erp 1 over on 2 days).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.explorer.app import Explorer, chart_data
from driftkit.explorer.data import _EVENT_COLUMNS
from driftkit.explorer.payload import rows_of
from driftkit.explorer.source import _read_ingest
from tests.test_explore import A1_EAST, A1_MAIN, B2, C3, SYSTEMS, _data, _events, _grid


def _explorer(**changes: object) -> Explorer:
    grid = _grid()
    grid.values[1, A1_EAST, 5:7] = 14.0
    return Explorer(_data(grid=grid, **changes))


def test_location_filters_the_worst_first_list_and_the_matches() -> None:
    explorer = _explorer()
    assert explorer.worst_first()["code"].tolist() == [B2, A1_EAST, A1_MAIN]
    explorer.controls.location.value = "east"  # B2 is not at east: its worst key
    assert explorer.view_key() == ("A1", "east")
    assert explorer.worst_first()["code"].tolist() == [A1_EAST]
    assert explorer.search("")["code"].tolist() == [A1_EAST]
    assert [code for _, code in explorer.controls.matches.options] == [A1_EAST]
    explorer.controls.next.click()  # the list holds one key: stays
    assert explorer.view_key() == ("A1", "east") and explorer.view().position == 1
    explorer.controls.location.value = "main"  # A1 is also at main: same SKU there
    assert explorer.view_key() == ("A1", "main")
    assert explorer.worst_first()["code"].tolist() == [B2, A1_MAIN]
    assert explorer.search("1")["code"].tolist() == [A1_MAIN]
    explorer.controls.location.value = "any location"
    assert explorer.worst_first()["code"].tolist() == [B2, A1_EAST, A1_MAIN]


def test_location_composes_with_days_cause_and_systems() -> None:
    explorer = _explorer()
    explorer.controls.location.value = "main"
    explorer.controls.days.index = (0, 6)  # 1..7 March: A1 @ main drifts on 9..10 only
    assert explorer.worst_first()["code"].tolist() == [B2]
    explorer.controls.days.index = (0, 9)
    explorer.controls.cause.value = "missing_event"  # A1 @ main's finding
    assert explorer.worst_first()["code"].tolist() == [A1_MAIN]
    assert explorer.view_key() == ("A1", "main")
    explorer.controls.location.value = "east"  # no missing_event at east: nothing listed
    assert explorer.worst_first().empty and explorer.view().position == 0
    explorer.controls.cause.value = "any cause"
    assert explorer.worst_first()["code"].tolist() == [A1_EAST]
    explorer.controls.systems.value = ("wms", "shop")  # A1 @ east's drift is erp's
    assert explorer.worst_first().empty


def test_chart_columns_are_the_keys_whole_data_for_the_page_to_filter() -> None:
    explorer = _explorer()
    explorer.controls.days.index = (4, 5)  # the page filters: the data sent does not change
    explorer.controls.systems.value = ("shop",)
    days = explorer.data.grid.days
    for code in (A1_EAST, A1_MAIN, B2, C3):
        explorer.select(code=code)
        sent = explorer.controls.chart.datasets
        explorer.controls.days.index, explorer.controls.systems.value = (0, 9), SYSTEMS
        expected = chart_data(explorer.view(), days[0], days[-1])  # the DataFrame path
        for name in ("series", "events", "counts", "episodes"):
            assert rows_of(sent[name]) == expected[name], (code, name)
        explorer.controls.days.index, explorer.controls.systems.value = (4, 5), ("shop",)
    calendar = explorer.controls.chart.calendar
    assert [calendar[c][4] for c in ("day", "minus12", "plus12", "next")] == [
        "2026-03-05T00:00:00",
        "2026-03-04T12:00:00",
        "2026-03-05T12:00:00",
        "2026-03-06T00:00:00",
    ]


def test_client_strings_are_cleaned_in_every_widget() -> None:
    nasty = "<img src=x onerror=alert(1)>\x00\x1b[31m" + "x" * 300
    catalog = pd.DataFrame({"sku": ["B2"], "title": [nasty]})
    events = _events()
    events.loc[events["reference"] == "SO100", "reference"] = "<b>SO</b>\x07"
    explorer = _explorer(catalog=catalog, events=events)
    title = explorer.controls.title.value
    assert "&lt;img src=x" in title and "<img" not in title
    assert "\x00" not in title and "\\x00" in title and "chars #" in title  # shortened
    explorer.controls.tables.selected_index = 3  # events
    table = explorer.controls.tables.children[3].value
    assert "&lt;b&gt;SO&lt;/b&gt;\\x07" in table and "<b>SO" not in table and "\x07" not in table
    references = explorer.controls.chart.datasets["events"]["reference"]
    assert "<b>SO</b>\\x07" in references and not any("\x07" in str(r) for r in references)
    assert np.all([len(label) < 120 for label, _ in explorer.controls.matches.options])


def test_opening_from_an_ingest_reads_only_the_shown_columns(tmp_path: Path) -> None:
    events = _events()  # written the way driftkit ingest writes: one file per bucket
    for bucket, part in enumerate((events.iloc[:4], events.iloc[4:])):
        folder = tmp_path / "events" / f"bucket={bucket:02d}"
        folder.mkdir(parents=True)
        table = pa.Table.from_pandas(part, schema=schema.TABLES["events"], preserve_index=False)
        pq.write_table(table, folder / "part-0.parquet")
    catalog = schema.conform(pd.DataFrame({"sku": ["B2"], "title": ["Tent"]}), "catalog")
    pq.write_table(
        pa.Table.from_pandas(catalog, preserve_index=False), tmp_path / "catalog.parquet"
    )
    read = _read_ingest(tmp_path)
    assert tuple(read["events"].columns) == ("sku", "location", *_EVENT_COLUMNS)
    columns = list(read["events"].columns)
    pd.testing.assert_frame_equal(read["events"], events[columns], check_dtype=False)
    assert read["counts"].empty and list(read["counts"].columns) == [
        "sku", "location", "counted_at", "counted_qty"
    ]  # fmt: skip
    assert read["catalog"].to_dict("records") == [{"sku": "B2", "title": "Tent"}]
    assert read["snapshots"].empty
