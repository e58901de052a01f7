"""Tests of driftkit.load.client on small hand-written client folders."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftkit.errors import InputError
from driftkit.load.client import FILES_COLUMNS, ClientData, load_client
from tests.conftest import make_client

HEAD = """
[client]
name = "Sample"
timezone = "America/Chicago"
default_location = "main"
[sku]
remove = "-_ ."
"""

SAMPLE_TOML = (
    HEAD
    + """
aliases = "raw/aliases.csv"
[catalog]
path = "raw/catalog.csv"
[catalog.columns]
unit_cost = "Cost"
[counts]
path = "raw/counts.csv"

[systems.wms]
kind = "wms"
format = "csv"
snapshots = "raw/wms/onhand_*.csv"
events = "raw/wms/txns.csv"
[systems.wms.columns]
sku = "Item"
location = "Whse"
as_of = "Snapshot Time"
on_hand = "On Hand"
[systems.wms.event_columns]
event_id = "Txn"
kind = "Type"
sku = "Item"
location = "Whse"
qty_delta = "Qty"
occurred_at = "Occurred"
reference = "Ref"
[systems.wms.locations]
"Main Whse" = "main"
[systems.wms.event_kinds]
SHIP = "shipment"
RCV = "receipt"

[systems.erp]
kind = "erp"
format = "parquet"
snapshots = "raw/erp/stock_*.parquet"
as_of_pattern = "stock_%Y-%m-%d.parquet"
as_of_time = "18:00"
unit = "pack"
"""
)


def _sample_files(tmp_path) -> dict[str, str | bytes]:
    erp = pd.DataFrame({"sku": ["a-1", "B-2"], "on_hand": [2.0, 1.0]})
    parquet = tmp_path / "erp.parquet"
    erp.to_parquet(parquet)
    return {
        "raw/aliases.csv": "system,raw_sku,sku\nwms,OLD-B2,B-2\n",
        "raw/catalog.csv": "sku,Cost,unit_price,pack_size,category\nA-1,$2.50,5,12,tools\nB-2,1,3,6,tools\n",
        "raw/counts.csv": "sku,location,counted_at,counted_qty\nA-1,main,2024-03-01 09:00,24\n",
        "raw/wms/onhand_1.csv": (
            "Item,Whse,Snapshot Time,On Hand\r\n"
            "a-1,Main Whse,2024-03-01 23:00,24\r\n"
            'OLD-B2,Main Whse,2024-03-01 23:00,"1,234"\r\n'
            "C-3,,2024-03-01 23:00,not stocked\r\n"
        ),
        "raw/wms/onhand_2.csv": "Item,Whse,Snapshot Time,On Hand\na-1,Main Whse,2024-03-02T23:00:00-06:00,20\n",
        "raw/wms/txns.csv": (
            "Txn,Type,Item,Whse,Qty,Occurred,Ref\n"
            "T1,SHIP,A-1,Main Whse,-4,2024-03-02 10:00,SO-001001\n"
            "T2,receipt,A-1,Main Whse,12,03/02/2024,PO 123\n"
            "T3,LOST,A-1,Main Whse,-1,2024-03-02 11:00,\n"
        ),
        "raw/erp/stock_2024-03-01.parquet": parquet.read_bytes(),
    }


@pytest.fixture
def sample(tmp_path) -> ClientData:
    return load_client(make_client(tmp_path, SAMPLE_TOML, _sample_files(tmp_path)))


def test_sample_snapshots(sample: ClientData) -> None:
    snaps = sample.snapshots.set_index(["system", "sku", "as_of"])
    day1 = pd.Timestamp("2024-03-02 05:00", tz="UTC")
    assert snaps.loc[("wms", "A1", day1), "on_hand"] == 24
    assert snaps.loc[("wms", "B2", day1), "on_hand"] == 1234
    assert snaps.loc[("wms", "A1", pd.Timestamp("2024-03-03 05:00", tz="UTC")), "on_hand"] == 20
    erp_time = pd.Timestamp("2024-03-02 00:00", tz="UTC")
    assert snaps.loc[("erp", "A1", erp_time), "on_hand"] == 24
    assert snaps.loc[("erp", "B2", erp_time), "on_hand"] == 6
    assert set(sample.snapshots["location"]) == {"main"}


def test_sample_events_kinds_references(sample: ClientData) -> None:
    events = sample.events.set_index("event_id")
    assert events.loc["T1", "kind"] == "shipment" and events.loc["T2", "kind"] == "receipt"
    assert (
        events.loc["T1", "reference"] == "1001" and events.loc["T1", "raw_reference"] == "SO-001001"
    )
    assert events.loc["T2", "reference"] == "123"
    assert events.loc["T2", "occurred_at"] == pd.Timestamp("2024-03-02 06:00", tz="UTC")
    lost = sample.rejects[sample.rejects["value"] == "LOST"]
    assert (
        len(lost) == 1
        and lost["line"].iloc[0] == 4
        and "unknown event kind" in lost["reason"].iloc[0]
    )


def test_sample_reference_tables_and_rejects(sample: ClientData) -> None:
    assert sample.catalog.set_index("sku").loc["A1", "unit_cost"] == 2.5
    assert sample.counts["counted_qty"].tolist() == [24.0]
    reject = sample.rejects[sample.rejects["source_file"] == "raw/wms/onhand_1.csv"]
    assert reject[["line", "column", "value"]].values.tolist() == [[4, "On Hand", "not stocked"]]
    assert reject["reason"].iloc[0] == "not stocked at this location"


def test_every_file_adds_up(sample: ClientData) -> None:
    files = sample.files
    assert list(files.columns) == list(FILES_COLUMNS)
    assert (files["rows_read"] == files["rows_accepted"] + files["rows_rejected"]).all()
    per_file = sample.rejects.groupby("source_file").size()
    assert (files.set_index("source_file")["rows_rejected"].loc[per_file.index] == per_file).all()
    assert len(files) == 7


def test_load_client_does_not_mutate_config(tmp_path) -> None:
    root = make_client(tmp_path, SAMPLE_TOML, _sample_files(tmp_path))
    first = load_client(root)
    again = load_client(first.config)
    pd.testing.assert_frame_equal(first.snapshots, again.snapshots)


SIMPLE = (
    HEAD
    + """
[systems.wms]
kind = "wms"
snapshots = "raw/s.csv"
"""
)


def _load(tmp_path, text: str | bytes, toml: str = SIMPLE) -> ClientData:
    return load_client(make_client(tmp_path, toml, {"raw/s.csv": text}))


def test_duplicates_exact_kept_once_conflicting_rejected(tmp_path) -> None:
    data = _load(
        tmp_path,
        "sku,location,as_of,on_hand\n"
        "A,x,2024-01-01,5\nA,x,2024-01-01,5\nB,x,2024-01-01,3\nb,x,2024-01-01,4\n",
    )
    assert data.snapshots["sku"].tolist() == ["A"]
    reasons = data.rejects.set_index("line")["reason"]
    assert reasons[3] == "exact duplicate of line 2"
    assert "line 4 (on_hand=3)" in reasons[4] and "line 5 (on_hand=4)" in reasons[5]


def test_quoted_multiline_fields_keep_physical_lines(tmp_path) -> None:
    data = _load(
        tmp_path,
        'sku,note,as_of,on_hand\nA,"two\nlines",2024-01-01,1\nB,x,2024-01-01,oops\n',
    )
    assert data.rejects["line"].tolist() == [4]
    assert data.rejects["reason"].iloc[0].startswith("not a quantity")


def test_ragged_row_rejected_not_guessed(tmp_path) -> None:
    data = _load(
        tmp_path, "sku,as_of,on_hand\nA,2024-01-01,1\nB,2024-01-01,2,extra\nC,2024-01-01,3\n"
    )
    assert data.snapshots["sku"].tolist() == ["A", "C"]
    assert data.rejects["line"].tolist() == [3] and "3 fields" not in data.rejects["reason"].iloc[0]
    assert "4 fields" in data.rejects["reason"].iloc[0]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8-sig", b""), ("utf-16", b""), ("utf-8", b"")],
    ids=["utf8-bom", "utf16-bom", "utf8"],
)
def test_encodings_and_tabs(tmp_path, encoding: str, prefix: bytes) -> None:
    text = "sku\tas_of\ton_hand\r\nÄ-1\t2024-01-01\t7\r\n"
    data = _load(tmp_path, prefix + text.encode(encoding))
    assert data.snapshots["sku"].tolist() == ["Ä1"] and data.snapshots["on_hand"].tolist() == [7.0]


def test_error_undecodable_bytes(tmp_path) -> None:
    with pytest.raises(InputError, match=r"raw/s.csv: line 2 .*not UTF-8.*encoding = \"cp1252\""):
        _load(tmp_path, "sku,as_of,on_hand\nCaf\xe9,2024-01-01,1\n".encode("cp1252"))


def test_configured_encoding_reads_cp1252(tmp_path) -> None:
    toml = SIMPLE + 'encoding = "cp1252"\n'
    data = _load(tmp_path, "sku,as_of,on_hand\nCaf\xe9,2024-01-01,1\n".encode("cp1252"), toml)
    assert data.snapshots["sku"].tolist() == ["CAFÉ"]


def test_error_wrong_delimiter(tmp_path) -> None:
    toml = SIMPLE + 'delimiter = ","\n'
    with pytest.raises(InputError, match=r"raw/s.csv: .*delimiter ','.*semicolon.*delimiter = ';'"):
        _load(tmp_path, "sku;as_of;on_hand\nA;2024-01-01;1\n", toml)


def test_error_missing_columns_suggests_mapping(tmp_path) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, "SKU Code,as_of,qty\nA,2024-01-01,1\n")
    message = str(info.value)
    assert (
        "raw/s.csv" in message
        and "'sku'" in message
        and "found ['SKU Code', 'as_of', 'qty']" in message
    )
    assert "sku = 'SKU Code'" in message and "[systems.wms.columns]" in message


def test_error_empty_file(tmp_path) -> None:
    with pytest.raises(InputError, match=r"raw/s.csv: the file is empty"):
        _load(tmp_path, "")


def test_error_glob_matches_nothing(tmp_path) -> None:
    root = make_client(tmp_path, SIMPLE, {"raw/other.csv": "x\n"})
    with pytest.raises(
        InputError, match=r"\[systems.wms\] snapshots = 'raw/s.csv' matches no file"
    ):
        load_client(root)


def test_error_no_snapshot_time_for_export_format(tmp_path) -> None:
    toml = (
        HEAD
        + '[systems.shop]\nkind = "storefront"\nformat = "amazon_inventory"\nsnapshots = "raw/s.csv"\n'
    )
    with pytest.raises(InputError, match="as_of_pattern"):
        _load(tmp_path, "sku\tquantity\nA\t1\n", toml)


_CELLS = st.sampled_from(
    ["", "5", "-3", "not stocked", "x!", "1,200", "A-1", "2024-01-01", '"q"', "999999"]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_CELLS, _CELLS, _CELLS, _CELLS), min_size=1, max_size=8))
def test_rows_are_conserved_under_corruption(tmp_path, rows: list[tuple[str, ...]]) -> None:
    lines = ["sku,location,as_of,on_hand"] + [",".join(r) for r in rows]
    data = _load(tmp_path, "\n".join(lines) + "\n")
    file = data.files.iloc[0]
    assert file["rows_read"] == len(rows)
    assert file["rows_read"] == file["rows_accepted"] + file["rows_rejected"]
    assert len(data.rejects) == file["rows_rejected"]
    assert data.rejects[["source_file", "line", "reason"]].notna().all().all()


def _export(tmp_path, fmt: str, text: str | bytes) -> ClientData:
    toml = HEAD + (
        f'[systems.shop]\nkind = "storefront"\nformat = "{fmt}"\nsnapshots = "raw/s_2024-05-01.csv"\n'
        'as_of_pattern = "s_%Y-%m-%d.csv"\n'
    )
    return load_client(make_client(tmp_path, toml, {"raw/s_2024-05-01.csv": text}))


SHOPIFY_PREFIX = "Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,SKU,HS Code,COO"


def test_shopify_generation_a_per_location_columns(tmp_path) -> None:
    text = (
        SHOPIFY_PREFIX + ",POPTOYS,Warehouse 2\n"
        "cap,Cap,Size,L,,,,,00123,,,5,not stocked\n"
        "hat,Hat,Title,Default Title,,,,,,,,not stocked,not stocked\n"
    )
    data = _export(tmp_path, "shopify_inventory", text)
    assert data.snapshots[["sku", "location", "available"]].values.tolist() == [
        ["00123", "POPTOYS", 5.0]
    ]
    assert data.snapshots["as_of"].iloc[0] == pd.Timestamp("2024-05-02 04:59", tz="UTC")
    assert data.rejects[["line", "reason"]].values.tolist() == [[3, "not stocked at this location"]]


def test_shopify_generation_c_bins_are_summed(tmp_path) -> None:
    head = SHOPIFY_PREFIX + (
        ",Location,Bin name,Incoming (not editable),Unavailable (not editable),Committed (not editable),"
        "Available (not editable),On hand (current),On hand (new)\n"
    )
    rows = (
        "cap,Cap,Size,L,,,,,A-1,,,Shop,B1,0,1,2,3,6,\ncap,Cap,Size,L,,,,,A-1,,,Shop,B2,0,0,0,4,4,\n"
    )
    data = _export(tmp_path, "shopify_inventory", head + rows)
    assert data.snapshots[
        ["sku", "location", "on_hand", "available", "committed"]
    ].values.tolist() == [["A1", "Shop", 10.0, 7.0, 2.0]]
    assert data.files["rows_accepted"].iloc[0] == 2 and data.rejects.empty


def test_amazon_inventory_bom_crlf_tabs(tmp_path) -> None:
    text = "sku\tasin\tprice\tquantity\r\n0A-ZUII-DI5I\tB0\t9.99\t3\r\nX-1\tB1\t1.00\t\r\n"
    data = _export(tmp_path, "amazon_inventory", "\ufeff".encode() + text.encode())
    assert data.snapshots[["sku", "available"]].values.tolist() == [["0AZUIIDI5I", 3.0]]
    assert data.snapshots["on_hand"].isna().all()
    assert data.rejects["reason"].tolist() == ["empty quantity = unknown (untracked), not 0"]
    assert any("amazon_inventory reports only available" in note for note in data.notes)


def test_amazon_fba_header_driven(tmp_path) -> None:
    text = (
        "sku\tfnsku\tafn-fulfillable-quantity\tafn-reserved-quantity\tafn-warehouse-quantity\n"
        "S-1\tX00\t5\t2\t8\n"
    )
    data = _export(tmp_path, "amazon_fba_inventory", text)
    assert data.snapshots[["on_hand", "available", "committed"]].values.tolist() == [
        [8.0, 5.0, 2.0]
    ]


def test_sentinels_flagged_in_notes(tmp_path) -> None:
    data = _load(
        tmp_path, "sku,as_of,on_hand,available\nA,2024-01-01,999999,999999\nB,2024-01-01,4,999999\n"
    )
    assert data.snapshots.set_index("sku").loc["B", "on_hand"] == 4
    assert data.rejects["reason"].iloc[0].startswith("always-in-stock sentinel 999999")
    assert any("sentinel" in note for note in data.notes)


def test_as_of_pattern_mismatch_is_an_error(tmp_path) -> None:
    toml = HEAD + (
        '[systems.shop]\nkind = "storefront"\nformat = "amazon_inventory"\nsnapshots = "raw/*.txt"\n'
        'as_of_pattern = "inv_%Y-%m-%d.txt"\n'
    )
    root = make_client(tmp_path, toml, {"raw/other.txt": "sku\tquantity\nA\t1\n"})
    with pytest.raises(InputError, match="does not match as_of_pattern"):
        load_client(root)
