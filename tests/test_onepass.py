"""One-pass loading (``load/onepass.py``) against the careful per-file path, file by file.

A system's clean files are finished together; a file with a ragged row, a multi-line
record, a garbage quantity, a sentinel, a duplicate key or a timestamp shared with another
file goes through the careful path.  Both give the same accepted rows, rejects (with their
physical lines), notes and ``files`` rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit import schema as s
from driftkit.config import load_config
from driftkit.load import file as load_file_module
from driftkit.load import onepass
from driftkit.load.client import load_client
from driftkit.load.file import load_file, read_file
from driftkit.load.joined import read_joined
from driftkit.load.read import RawTable
from driftkit.load.reference import empty_aliases
from driftkit.load.rows import Finished
from tests.conftest import assert_rows_add_up, make_client

HEADER = "Item,Whse,Snapshot Time,On Hand,Allocated\n"
TOML = """[client]
timezone = "America/Chicago"
[systems.wms]
kind = "wms"
snapshots = "raw/wms_*.csv"
events = "raw/moves_*.csv"
[systems.wms.columns]
sku = "Item"
location = "Whse"
as_of = "Snapshot Time"
on_hand = "On Hand"
committed = "Allocated"
[systems.shop]
kind = "storefront"
snapshots = "raw/shop_*.csv"
as_of_pattern = "shop_%Y-%m-%d.csv"
[systems.tpl]
kind = "3pl"
snapshots = "raw/tpl_*.csv"
as_of = "2026-11-01T23:00:00"
"""


def _day(day: int, extra: str = "", rows: int = 3) -> str:
    body = "".join(
        f"SKU-{k},main,2026-11-0{day} 23:00:00,{10 * k + day},{k}\n" for k in range(rows)
    )
    return HEADER + body + extra


FILES: dict[str, str | bytes] = {
    "raw/wms_1.csv": _day(1),
    "raw/wms_2.csv": _day(2, 'SKU-9,main,2026-11-02 23:00:00,"5\n6",1\nSKU-8,main,oops,4,1\n'),
    "raw/wms_3.csv": _day(3, "SKU-7,main,2026-11-03 23:00:00,4\n"),  # a short row
    "raw/wms_4.csv": _day(4, "SKU-6,main,2026-11-04 23:00:00,12 boxes,0\n"),
    "raw/wms_5.csv": _day(5, "SKU-0,main,2026-11-05 23:00:00,99,0\n"),  # conflicting duplicate
    "raw/wms_6.csv": _day(6, "SKU-5,main,2026-11-06 23:00:00,,\n"),  # no quantity
    "raw/wms_7.csv": _day(1),  # the same rows and times as wms_1: duplicates across files
    "raw/wms_8.csv": _day(8, rows=4).replace("2026-11-08 23:00:00", "11/08/2026 11:00 PM"),
    "raw/moves_1.csv": "sku,kind,qty_delta,occurred_at\nSKU-1,order,-2,2026-11-01\n",
    "raw/moves_2.csv": "sku,kind,qty_delta,occurred_at\nSKU-1,teleport,-2,2026-11-02\n",
    "raw/moves_3.csv": "sku,kind,qty_delta,occurred_at\nSKU-2,receipt,5,2026-11-03T08:00Z\n",
    "raw/shop_2026-11-01.csv": "sku,on_hand\nSKU-0,4\nSKU-1,\nSKU-2,7\n",
    "raw/shop_2026-11-02.csv": "sku,on_hand\nSKU-0,4\nSKU-1,3\n",
    "raw/shop_2026-11-03.csv": "sku,on_hand\nSKU-0,5\nsku-0,6\n",
    "raw/tpl_1.csv": "sku,on_hand,committed\nSKU-0,4,1\n",
    "raw/tpl_2.csv": "sku,on_hand,committed\nSKU-1,999999,2\n",  # a sentinel: a note
}
#: Finished in one pass. A note (tpl_2's sentinel) names one file, so its whole pass is redone.
CLEAN = {"wms_1.csv", "wms_8.csv", "moves_1.csv", "moves_3.csv", "shop_2026-11-02.csv"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    return load_config(make_client(tmp_path_factory.mktemp("onepass"), TOML, FILES))


def _careful(config, system_id: str, table: str) -> list[load_file_module.Part]:
    system = config.systems[system_id]
    files = getattr(system, table)
    paths = config.resolve(files)
    aliases, packs = empty_aliases(), pd.Series(dtype="float64")
    return [load_file(config, system_id, table, p, system, aliases, packs) for p in paths]


def _fast(config, system_id: str, table: str) -> list[load_file_module.Part]:
    system = config.systems[system_id]
    paths = config.resolve(getattr(system, table))
    aliases, packs = empty_aliases(), pd.Series(dtype="float64")
    return onepass.load_files(config, system, table, paths, aliases, packs)


@pytest.mark.parametrize(
    ("system", "table"),
    [("wms", "snapshots"), ("wms", "events"), ("shop", "snapshots"), ("tpl", "snapshots")],
    ids=["mapped-snapshots", "events", "as-of-pattern", "sentinel-note"],
)
def test_one_pass_equals_careful_path_file_by_file(client, system, table) -> None:
    careful, fast = _careful(client, system, table), _fast(client, system, table)
    assert [p.file for p in fast] == [p.file for p in careful]
    for mine, theirs in zip(fast, careful, strict=True):
        pd.testing.assert_frame_equal(mine.finished.table, theirs.finished.table)
        pd.testing.assert_frame_equal(mine.finished.rejects, theirs.finished.rejects)
        assert mine.finished.notes == theirs.finished.notes
        assert (mine.finished.rows_accepted, mine.finished.rows_rejected) == (
            theirs.finished.rows_accepted,
            theirs.finished.rows_rejected,
        )


def test_clean_files_skip_the_careful_path_and_dirty_ones_take_it(client, monkeypatch) -> None:
    careful: list[str] = []
    finish_raw = onepass.finish_raw

    def spy(raw, *args, **kwargs):
        careful.append(raw.source_file.rsplit("/", 1)[-1])
        return finish_raw(raw, *args, **kwargs)

    monkeypatch.setattr(onepass, "finish_raw", spy)
    for system in ("wms", "shop", "tpl"):
        _fast(client, system, "snapshots")
    _fast(client, "wms", "events")
    assert sorted(careful) == sorted({name.rsplit("/", 1)[-1] for name in FILES} - CLEAN)


def test_reject_lines_survive_the_one_pass(client) -> None:
    data = load_client(client)
    assert_rows_add_up(data)
    lines = data.rejects.assign(name=data.rejects["source_file"].str.rsplit("/", n=1).str[-1])
    got = {(n, int(line)) for n, line in zip(lines["name"], lines["line"], strict=True)}
    assert {
        ("wms_2.csv", 5),  # the quoted two-line quantity: one record, line 5
        ("wms_2.csv", 7),  # the unreadable time on the line after it
        ("wms_3.csv", 5),  # the short row
        ("wms_4.csv", 5),  # 12 boxes
        ("wms_5.csv", 2),  # SKU-0 on line 2 conflicts with line 5
        ("wms_5.csv", 5),
        ("wms_6.csv", 5),  # no quantity
        ("shop_2026-11-01.csv", 3),  # empty = unknown
        ("moves_2.csv", 2),  # teleport is no event kind
        ("shop_2026-11-03.csv", 2),  # SKU-0 and sku-0 are one key with two values
        ("shop_2026-11-03.csv", 3),
    } <= got
    assert not any(n in CLEAN for n, _ in got)
    per_file = data.files.set_index(data.files["source_file"].str.rsplit("/", n=1).str[-1])
    assert per_file.loc["wms_8.csv", ["rows_read", "rows_accepted"]].tolist() == [4, 4]
    # wms_7 repeats wms_1: duplicates across files are not duplicates within a file
    assert per_file.loc["wms_7.csv", ["rows_read", "rows_accepted"]].tolist() == [3, 3]
    shop = data.snapshots[data.snapshots["system"] == "shop"]
    assert shop["as_of"].dt.tz_convert("America/Chicago").dt.day.value_counts().to_dict() == {
        1: 2,
        2: 2,
    }


def _same_raw(mine, theirs) -> None:
    pd.testing.assert_frame_equal(mine.frame, theirs.frame)
    assert mine.lines.tolist() == theirs.lines.tolist()
    assert (mine.source_file, mine.rows_read) == (theirs.source_file, theirs.rows_read)


def test_plain_files_are_parsed_together_each_as_read_alone(client) -> None:
    shop = client.systems["shop"]
    paths = client.resolve(shop.snapshots)
    joined = read_joined(client, shop, shop.format, paths)
    assert joined is not None and joined.members == [0, 1, 2]
    assert joined.rows.tolist() == [3, 2, 2]
    for k, path in enumerate(paths):
        raw = read_file(client, "shop", "snapshots", path, shop)
        _same_raw(joined.file_raw(k), raw)
        assert joined.file_read(k) == (raw.source_file, raw.rows_read)
    wms = client.systems["wms"]  # wms_3's short row: every wms file is read on its own
    assert read_joined(client, wms, wms.format, client.resolve(wms.snapshots)) is None


def test_byte_order_marks_line_ends_and_other_headers(tmp_path) -> None:
    files: dict[str, str | bytes] = {
        "raw/shop_2026-11-01.csv": b"\xef\xbb\xbfsku,on_hand\r\nSKU-0,4\r\n\r\nSKU-1,5",
        "raw/shop_2026-11-02.csv": "sku,on_hand\nSKU-0,3\nSKU-1,x\n",
        "raw/shop_2026-11-03.csv": "sku,on_hand,committed\nSKU-0,3,1\n",  # another header
        "raw/shop_2026-11-04.csv": "sku,on_hand\rSKU-0,3\r",  # old Mac line ends
        "raw/shop_2026-11-05.csv": "sku,on_hand\n",  # no data row
    }
    config = load_config(make_client(tmp_path, TOML, files))
    shop = config.systems["shop"]
    paths = config.resolve(shop.snapshots)
    joined = read_joined(config, shop, shop.format, paths)
    assert joined is not None and joined.members == [0, 1]
    for k in (0, 1):
        _same_raw(joined.file_raw(k), read_file(config, "shop", "snapshots", paths[k], shop))
    careful, fast = _careful(config, "shop", "snapshots"), _fast(config, "shop", "snapshots")
    assert [p.file for p in fast] == [p.file for p in careful]
    for mine, theirs in zip(fast, careful, strict=True):
        pd.testing.assert_frame_equal(mine.finished.table, theirs.finished.table)
        pd.testing.assert_frame_equal(mine.finished.rejects, theirs.finished.rejects)


def test_file_rows_of_many_files_equal_each_files_own_row() -> None:
    stamps = pd.to_datetime(["2026-09-01 05:00", None, "2026-09-03 05:00"], utc=True)
    table = pd.DataFrame({"sku": ["A", "B", "A"], "as_of": stamps.astype("datetime64[us, UTC]")})
    tables = [table, table.iloc[:0], table.iloc[1:2], table.iloc[[0, 2]]]  # empty, all NaT
    finished = [Finished(t, s.empty("rejects"), len(t), k) for k, t in enumerate(tables)]
    raws = [
        RawTable(f"raw/f{k}.csv", "csv", pd.DataFrame({"x": [""] * (k + 1)}), np.arange(k + 1))
        for k in range(len(tables))
    ]
    read = [(raw.source_file, raw.rows_read) for raw in raws]
    rows = load_file_module.file_rows("wms", "snapshots", "csv", read, finished)
    own = [
        load_file_module.file_row("wms", "snapshots", "csv", r, f)
        for r, f in zip(raws, finished, strict=True)
    ]
    assert [row["skus"] for row in rows] == [2, 0, 1, 1]
    assert pd.DataFrame(rows).equals(pd.DataFrame(own))
