"""New export shapes on hand-made files: wide sheets, aggregate = "sum", amazon_listings,
magento_products, WooCommerce short rows, column maps on named formats, sentinels per
location, as_of_pattern wildcards and epochs, and the errors that name what is wrong."""

from __future__ import annotations

from datetime import time

import pandas as pd
import pytest

from driftkit.errors import ConfigError, InputError
from driftkit.load.client import ClientData, load_client
from driftkit.load.filename import parse_name
from tests.conftest import assert_rows_add_up, make_client

AS_OF = 'as_of = "2026-03-01T23:59:00"'


def _load(tmp_path, system: str, files: dict[str, str | bytes]) -> ClientData:
    toml = '[client]\ntimezone = "UTC"\n[systems.s]\nkind = "wms"\n' + system
    return load_client(make_client(tmp_path, toml, files))


def _adds_up(data: ClientData) -> None:
    assert_rows_add_up(data)
    ragged = data.rejects["reason"].str.contains("fields but the header has")
    assert data.rejects.loc[~ragged, "column"].notna().all()


def _qty(data: ClientData, measure: str = "on_hand") -> dict[tuple[str, str], float]:
    frame = data.snapshots.set_index(["sku", "location"])[measure]
    return {key: float(value) for key, value in frame.items()}


WIDE = (
    'snapshots = "raw/s.csv"\n'
    + AS_OF
    + """
[systems.s.wide]
measure = "available"
locations = {"Delhi Whse" = "delhi", "Rs Online" = "online"}
"""
)


def test_wide_sheet_melts_each_declared_cell(tmp_path) -> None:
    csv = "SKU,Delhi Whse,Rs Online,Notes\nA,5,,x\nB,,abc,y\nC,,,z\nD,7,2,w\n"
    data = _load(tmp_path, WIDE, {"raw/s.csv": csv})
    _adds_up(data)
    assert _qty(data, "available") == {
        ("A", "delhi"): 5.0,
        ("D", "delhi"): 7.0,
        ("D", "online"): 2.0,
    }
    # lines: A and D used; B has only garbage and an empty cell; C only empty cells
    assert data.files[["rows_read", "rows_accepted", "rows_rejected"]].iloc[0].tolist() == [4, 2, 2]
    rejects = data.rejects.set_index("line")
    assert rejects.loc[3, "column"] in ("Delhi Whse", "Rs Online")
    assert rejects.loc[4, "reason"].startswith("empty quantity")
    note = next(n for n in data.notes if "quantity columns" in n)
    # 4 rows x 2 columns = 8 cells: 3 used, 4 empty, 1 not a quantity
    assert "4 rows × 2 quantity columns = 8 cells: 3 used, 4 empty quantity" in note
    assert "1 not a quantity" in note


def test_wide_sheet_names_a_missing_column_and_the_closest(tmp_path) -> None:
    toml = WIDE.replace('"Rs Online" = "online"', '"RS Online" = "online"')
    with pytest.raises(InputError) as info:
        _load(tmp_path, toml, {"raw/s.csv": "SKU,Delhi Whse,Rs Online\nA,1,2\n"})
    message = str(info.value)
    assert "'RS Online'" in message and "closest: 'Rs Online'" in message


BINS = 'snapshots = "raw/s.csv"\n' + AS_OF + "\n"
BIN_CSV = "sku,location,on_hand\nA,main,3\nA,main,4\nB,main,1\nA,north,2\nB,main,\n"


def test_aggregate_sum_sums_rows_sharing_a_key(tmp_path) -> None:
    data = _load(tmp_path, BINS + 'aggregate = "sum"\n', {"raw/s.csv": BIN_CSV})
    _adds_up(data)
    assert _qty(data) == {("A", "main"): 7.0, ("B", "main"): 1.0, ("A", "north"): 2.0}
    assert data.files["rows_rejected"].iloc[0] == 1  # B's empty row: unknown, not 0
    assert any(
        "summed 4 rows of raw/s.csv into 3 keys (2 rows shared 1 keys)" in n for n in data.notes
    )


def test_without_aggregate_conflicting_duplicates_stay_rejected(tmp_path) -> None:
    data = _load(tmp_path, BINS, {"raw/s.csv": BIN_CSV})
    _adds_up(data)
    assert ("A", "main") not in _qty(data)
    assert data.rejects["reason"].str.startswith("conflicting duplicates").sum() == 2


LISTINGS = "\ufeffseller-sku\tasin1\tprice\tquantity\r\nM1\tB01\t9.9\t4\r\nF1\tB02\t9.9\t\r\nM2\tB03\t1\t0\r\n"


def test_amazon_listings_blank_quantity_is_fba_unknown(tmp_path) -> None:
    system = 'format = "amazon_listings"\nsnapshots = "raw/l.txt"\n' + AS_OF + "\n"
    data = _load(tmp_path, system, {"raw/l.txt": LISTINGS.encode("utf-8")})
    _adds_up(data)
    assert _qty(data, "available") == {("M1", "main"): 4.0, ("M2", "main"): 0.0}
    reject = data.rejects.iloc[0]
    assert (reject["line"], reject["column"]) == (3, "quantity")
    assert "FBA" in reject["reason"] and "unknown, not 0" in reject["reason"]


MAGENTO = (
    "sku,store_view_code,product_type,qty,is_in_stock,manage_stock,use_config_manage_stock\n"
    "S1,,simple,5,1,1,1\n"
    "S1,de,simple,,,,\n"
    "C1,,configurable,0,1,1,1\n"
    "S2,,simple,3,1,0,0\n"
    "S3,,simple,-2,0,0,1\n"
)


def test_magento_products(tmp_path) -> None:
    system = 'format = "magento_products"\nsnapshots = "raw/m.csv"\n' + AS_OF + "\n"
    data = _load(tmp_path, system, {"raw/m.csv": MAGENTO})
    _adds_up(data)
    assert _qty(data) == {("S1", "main"): 5.0, ("S3", "main"): -2.0}
    reasons = data.rejects.set_index("line")["reason"]
    assert reasons[3].startswith("store-view row")
    assert reasons[4].startswith("configurable/bundle/grouped")
    assert reasons[5].startswith("stock not managed")


WOO_HEAD = "ID,Type,SKU,Stock,Parent,Meta: a,Meta: b\n"


def test_woocommerce_short_rows_padded_misaligned_and_long_rejected(tmp_path) -> None:
    csv = (
        WOO_HEAD
        + "1,simple,A,5,,x,y\n"  # full row
        + "2,variation,B,3\n"  # short: only trailing Meta fields missing -> padded
        + "3,C,4,,x\n"  # short and shifted: Type holds the SKU -> rejected
        + "4,simple,D,1,,x,y,z\n"  # long -> rejected
    )
    system = 'format = "woocommerce_products"\nsnapshots = "raw/w.csv"\n' + AS_OF + "\n"
    data = _load(tmp_path, system, {"raw/w.csv": csv})
    _adds_up(data)
    assert _qty(data, "available") == {("A", "main"): 5.0, ("B", "main"): 3.0}
    reasons = data.rejects.set_index("line")["reason"]
    assert reasons[4].startswith("short row whose fields do not line up")
    assert reasons[5].startswith("row has 8 fields but the header has 7")


def test_column_map_overrides_a_named_format(tmp_path) -> None:
    text = "sku\tquantity\tqty avail\r\nA\t9\t4\r\n"
    system = (
        'format = "amazon_inventory"\nsnapshots = "raw/a.txt"\n'
        + AS_OF
        + '\n[systems.s.columns]\navailable = "qty avail"\n'
    )
    data = _load(tmp_path, system, {"raw/a.txt": text})
    assert _qty(data, "available") == {("A", "main"): 4.0}


def test_column_map_unknown_to_a_named_format_is_an_error(tmp_path) -> None:
    system = (
        'format = "amazon_inventory"\nsnapshots = "raw/a.txt"\n'
        + AS_OF
        + '\n[systems.s.columns]\non_hand = "quantity"\n'
    )
    with pytest.raises(InputError, match=r"maps \['on_hand'\], which format 'amazon_inventory'"):
        _load(tmp_path, system, {"raw/a.txt": "sku\tquantity\r\nA\t9\r\n"})


SHOPIFY_A = (
    "Handle,Title,Option1 Name,Option1 Value,SKU,Store,Printful\n"
    "h1,T,Title,Default Title,A,3,9999\n"
    "h2,T,Title,Default Title,B,9999,9999\n"
)


def test_9999_is_a_default_sentinel_and_the_note_names_location_and_column(tmp_path) -> None:
    system = 'format = "shopify_inventory"\nsnapshots = "raw/i.csv"\n' + AS_OF + "\n"
    data = _load(tmp_path, system, {"raw/i.csv": SHOPIFY_A})
    _adds_up(data)
    assert _qty(data, "available") == {("A", "Store"): 3.0}
    notes = [n for n in data.notes if "always-in-stock sentinel 9999" in n]
    assert any("2 cell(s)" in n and "location 'Printful', column 'Printful'" in n for n in notes)
    assert any("1 cell(s)" in n and "location 'Store', column 'Store'" in n for n in notes)


def test_location_sentinels_apply_to_their_location_only(tmp_path) -> None:
    system = (
        'format = "shopify_inventory"\nsnapshots = "raw/i.csv"\n'
        + AS_OF
        + "\nsentinels = []\n[systems.s.location_sentinels]\nPrintful = [9999]\n"
    )
    data = _load(tmp_path, system, {"raw/i.csv": SHOPIFY_A})
    assert _qty(data, "available") == {("A", "Store"): 3.0, ("B", "Store"): 9999.0}
    assert sum("location 'Printful'" in n for n in data.notes) == 1


def test_location_sentinels_must_be_numbers(tmp_path) -> None:
    system = 'snapshots = "raw/s.csv"\n' + AS_OF + '\n[systems.s.location_sentinels]\nX = ["a"]\n'
    with pytest.raises(ConfigError, match=r"location_sentinels.X"):
        _load(tmp_path, system, {"raw/s.csv": "sku,on_hand\nA,1\n"})


@pytest.mark.parametrize(
    ("name", "pattern", "expected"),
    [
        (
            "wc-product-export-25-2-2026-1772060174291.csv",
            "wc-product-export-*-%Q.csv",
            "2026-02-25 22:56:14.291+00:00",
        ),
        ("wc-product-export-25-2-2026-1772060174291.csv", "*-%d-%m-%Y-*.csv", "2026-02-25 23:59"),
        ("stock_1772060174.csv", "stock_%s.csv", "2026-02-25 22:56:14+00:00"),
        ("Export 2026-03-01 0815 final.CSV", "export %Y-%m-%d %H%M*.csv", "2026-03-01 08:15"),
    ],
)
def test_as_of_pattern_wildcards_and_epochs(name: str, pattern: str, expected: str) -> None:
    assert pd.Timestamp(parse_name(name, pattern, time(23, 59))) == pd.Timestamp(expected)


def test_as_of_pattern_mismatch_shows_pattern_and_file_name(tmp_path) -> None:
    system = 'snapshots = "raw/*.csv"\nas_of_pattern = "stock_%Y-%m-%d.csv"\n'
    with pytest.raises(InputError) as info:
        _load(tmp_path, system, {"raw/onhand-2026.csv": "sku,on_hand\nA,1\n"})
    assert "'onhand-2026.csv'" in str(info.value) and "'stock_%Y-%m-%d.csv'" in str(info.value)


def test_epoch_file_name_gives_the_snapshot_time(tmp_path) -> None:
    system = 'snapshots = "raw/*.csv"\nas_of_pattern = "stock-*-%Q.csv"\n'
    data = _load(tmp_path, system, {"raw/stock-x-1772060174291.csv": "sku,on_hand\nA,1\n"})
    assert data.snapshots["as_of"].iloc[0] == pd.Timestamp("2026-02-25 22:56:14.291", tz="UTC")


def test_missing_time_mentions_as_of_keys(tmp_path) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, 'snapshots = "raw/s.csv"\n', {"raw/s.csv": "sku,on_hand\nA,1\n"})
    assert "as_of =" in str(info.value) and "as_of_pattern =" in str(info.value)


def test_missing_header_names_what_was_written_and_closest(tmp_path) -> None:
    system = (
        'snapshots = "raw/s.csv"\n' + AS_OF + '\n[systems.s.columns]\navailable = "RS Online"\n'
    )
    with pytest.raises(InputError) as info:
        _load(tmp_path, system, {"raw/s.csv": "sku,Delhi Whse,Rs Online\nA,1,2\n"})
    message = str(info.value)
    assert "'RS Online' (for available)" in message
    assert "closest headers in the file: 'Rs Online'" in message


def test_never_proposes_a_column_of_another_meaning(tmp_path) -> None:
    text = "sku,quantity,afn-fulfillable-quantity\nA,1,2\n"
    system = (
        'snapshots = "raw/s.csv"\n' + AS_OF + '\n[systems.s.columns]\non_hand = "on hand qty"\n'
    )
    with pytest.raises(InputError) as info:
        _load(tmp_path, system, {"raw/s.csv": text})
    message = str(info.value)
    assert "'on hand qty' (for on_hand)" in message
    assert "afn-fulfillable-quantity'" not in message.split("found")[0]
    assert "on_hand = 'quantity'" not in message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "zip archive"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "gzip-compressed"),
        (b"PAR1" + b"\x00" * 40, "a Parquet file"),
        (
            b"sku,on_hand\n\x00\x01\x02\x00\x00\x00\x05\x00\x00\x00\x00\x00\x07",
            "the file is binary",
        ),
    ],
)
def test_binary_file_declared_as_text_says_what_it_is(tmp_path, content: bytes, says: str) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, 'snapshots = "raw/s.csv"\n' + AS_OF + "\n", {"raw/s.csv": content})
    message = str(info.value)
    assert says in message and len(message) < 400


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ('aggregate = "mean"\n', r"\[systems.s.aggregate\] is 'mean'; expected one of none, sum"),
        ('[systems.s.wide]\nmeasure = "on_hand"\n', r"\[systems.s.wide.locations\] is None"),
        (
            '[systems.s.wide]\nmeasure = "stock"\nlocations = {A = "a"}\n',
            r"\[systems.s.wide.measure\] is 'stock'",
        ),
        ('[systems.s.wide]\nlocation = {A = "a"}\n', r"unknown key 'systems.s.wide.location'"),
        ("sheet = 1.5\n", r"\[systems.s.sheet\] is 1.5; expected a string or an integer"),
    ],
)
def test_new_keys_are_checked(tmp_path, extra: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _load(
            tmp_path,
            'snapshots = "raw/s.csv"\n' + AS_OF + "\n" + extra,
            {"raw/s.csv": "sku,on_hand\nA,1\n"},
        )


def test_wide_refuses_other_mapped_columns_and_named_formats(tmp_path) -> None:
    wide = '[systems.s.wide]\nlocations = {A = "a"}\n'
    with pytest.raises(ConfigError, match=r"columns.on_hand\] is 'on_hand'; expected sku or as_of"):
        _load(tmp_path, BINS + '[systems.s.columns]\non_hand = "Q"\n' + wide, {})
    with pytest.raises(ConfigError, match=r"it applies to format csv or parquet"):
        _load(tmp_path, 'format = "shopify_inventory"\n' + BINS + wide, {})


def test_fba_format_on_a_listings_report_proposes_no_wrong_measure(tmp_path) -> None:
    system = 'format = "amazon_fba_inventory"\nsnapshots = "raw/l.txt"\n' + AS_OF + "\n"
    with pytest.raises(InputError) as info:
        _load(tmp_path, system, {"raw/l.txt": LISTINGS.encode("utf-8")})
    message = str(info.value)
    assert "'afn-warehouse-quantity' (for on_hand)" in message
    assert "on_hand = 'quantity'" not in message and "sku = 'seller-sku'" in message
