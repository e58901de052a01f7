"""Loaders against the real export samples in ../shared/realdata (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from driftkit.config import SkuRules, SystemConfig
from driftkit.load import shopify as shopify_loader
from driftkit.load.client import ClientData, load_client
from driftkit.load.normalize import normalize_skus, parse_quantities
from driftkit.load.read import read_table
from driftkit.schema import SystemKind
from tests.conftest import assert_rows_add_up, make_client

HEAD = """
[client]
timezone = "America/Chicago"
[sku]
remove = "-_ ."
"""


def _client(tmp_path: Path, realdata: Path, systems: dict[str, tuple[str, str, str]]) -> ClientData:
    """A client whose systems read real files: id → (format, realdata path, extra toml)."""
    toml, files = HEAD, {}
    for system_id, (fmt, source, extra) in systems.items():
        name = f"raw/{system_id}/{Path(source).name}"
        files[name] = (realdata / source).read_bytes()
        toml += f'[systems.{system_id}]\nkind = "storefront"\nformat = "{fmt}"\nsnapshots = "{name}"\n{extra}\n'
    return load_client(make_client(tmp_path, toml, files))


AS_OF = 'as_of = "2026-04-16T23:59:00"'


@pytest.mark.parametrize(
    ("source", "rows"),
    [
        ("shopify_nsls/inventory_export_1.csv", 1732),
        ("shopify_olt_jewellery/inventory_export_1.csv", 884),
        ("shopify_abhilasha_demo/inventory_export_1.csv", 67),
    ],
    ids=["nsls-gen-c", "olt-gen-b", "abhilasha-gen-b"],
)
def test_shopify_inventory_on_hand_identity(tmp_path, realdata, source: str, rows: int) -> None:
    data = _client(tmp_path, realdata, {"shop": ("shopify_inventory", source, AS_OF)})
    assert_rows_add_up(data)
    assert data.files["rows_read"].iloc[0] == rows
    raw = pd.read_csv(realdata / source, dtype=str, keep_default_na=False)
    cols = {c.removesuffix(" (not editable)").removesuffix(" (current)"): c for c in raw.columns}
    parts = [
        parse_quantities(raw[cols[c]])[0]
        for c in ("On hand", "Available", "Committed", "Unavailable")
    ]
    numeric = pd.concat(parts, axis=1).notna().all(axis=1)
    assert numeric.sum() > 0
    assert (parts[0][numeric] == (parts[1] + parts[2] + parts[3])[numeric]).all()
    snaps = data.snapshots
    assert snaps["on_hand"].notna().all() and (snaps["on_hand"] < 0).any() == (
        source.startswith(("shopify_nsls", "shopify_olt"))
    )


def test_nsls_not_stocked_and_duplicates(tmp_path, realdata) -> None:
    data = _client(
        tmp_path,
        realdata,
        {"shop": ("shopify_inventory", "shopify_nsls/inventory_export_1.csv", AS_OF)},
    )
    reasons = data.rejects["reason"]
    assert (reasons == "not stocked at this location").sum() == 194
    assert reasons.str.contains("duplicate").sum() == 3
    assert data.files["rows_accepted"].iloc[0] == 1732 - 194 - 3


def test_olt_inventory_and_products_agree(tmp_path, realdata) -> None:
    data = _client(
        tmp_path,
        realdata,
        {
            "inv": ("shopify_inventory", "shopify_olt_jewellery/inventory_export_1.csv", AS_OF),
            "prod": ("shopify_products", "shopify_olt_jewellery/products_export_1.csv", AS_OF),
        },
    )
    assert_rows_add_up(data)
    snaps = data.snapshots
    inv = snaps[snaps["system"] == "inv"].set_index("sku")["available"]
    prod = snaps[snaps["system"] == "prod"].set_index("sku")["available"]
    assert len(inv) == len(prod) == 881 and inv.sort_index().equals(prod.sort_index())
    for system in ("inv", "prod"):
        file = data.files.set_index("system").loc[system, "source_file"]
        dup = data.rejects[
            (data.rejects["source_file"] == file) & data.rejects["reason"].str.contains("duplicate")
        ]
        assert len(dup) == 3
    prod_reasons = data.rejects[data.rejects["source_file"].str.contains("products")]["reason"]
    assert prod_reasons.str.startswith("image-only").sum() == 5108
    assert prod_reasons.str.startswith("inventory not tracked").sum() == 14


def test_olt_row_level_join_884(realdata) -> None:
    """Staged row by row (before duplicate resolution): all 884 joinable rows agree."""
    folder = realdata / "shopify_olt_jewellery"
    keys = []
    for name, stage in (
        ("inventory", shopify_loader.stage_inventory),
        ("products", shopify_loader.stage_products),
    ):
        raw = read_table(folder / f"{name}_export_1.csv", source_file=name)
        staged, _ = stage(raw, SystemConfig(id="shop", kind=SystemKind.STOREFRONT))
        if "reason" in staged:
            staged = staged[staged["reason"].isna()]
        handle = raw.frame.loc[staged.index, "Handle"]
        keys.append(
            pd.DataFrame(
                {
                    "handle": handle,
                    "sku": normalize_skus(staged["sku"], SkuRules()),
                    "available": parse_quantities(staged["available"])[0],
                }
            )
        )
    joined = keys[0].merge(keys[1], on=["handle", "sku"], suffixes=("_inv", "_prod"))
    assert len(joined) == 884
    assert (joined["available_inv"] == joined["available_prod"]).all()
    assert keys[1]["sku"].str.startswith("'").sum() == 0


def test_abhilasha_keys_from_handle_and_options(tmp_path, realdata) -> None:
    data = _client(
        tmp_path,
        realdata,
        {
            "inv": ("shopify_inventory", "shopify_abhilasha_demo/inventory_export_1.csv", AS_OF),
            "prod": ("shopify_products", "shopify_abhilasha_demo/products_export_1.csv", AS_OF),
        },
    )
    assert_rows_add_up(data)
    inv = data.snapshots[data.snapshots["system"] == "inv"]
    assert len(inv) == 67 and inv["sku"].str.startswith("PUFFLARGE:").any()
    assert "PUFFLARGE:LATTE" in set(inv["sku"])
    prod = data.snapshots[data.snapshots["system"] == "prod"].set_index("sku")["available"]
    common = inv.set_index("sku")["available"].index.intersection(prod.index)
    assert len(common) > 0


def test_bigcommerce_product_row_is_sum_of_sku_rows(tmp_path, realdata) -> None:
    source = "bigcommerce_twl_discgolf/products-2020-11-18_topPriorityGolfDiscs.csv"
    data = _client(
        tmp_path,
        realdata,
        {"bc": ("bigcommerce_products", source, 'as_of = "2020-11-18T23:59:00"')},
    )
    assert_rows_add_up(data)
    raw = pd.read_csv(realdata / source, dtype=str, keep_default_na=False)
    product = raw["Item Type"].eq("Product").cumsum()
    stock = pd.to_numeric(raw["Current Stock Level"], errors="coerce")
    sku_rows = raw["Item Type"].str.strip().eq("SKU")
    sums = stock[sku_rows].groupby(product[sku_rows]).sum()
    product_rows = stock[raw["Item Type"].eq("Product")].set_axis(range(1, 31))
    assert (sums.reindex(product_rows.index, fill_value=0) == product_rows).all()
    assert len(data.snapshots) == 141
    assert data.snapshots["available"].sum() == stock[sku_rows].sum()
    reasons = data.rejects["reason"]
    assert reasons.str.startswith("BigCommerce rule row").sum() == 27
    assert reasons.str.startswith("product row of a 'by option'").sum() == 30


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("woocommerce_sample_csv/importer_test_sample.csv", 3),
        ("woocommerce_sample_csv/sample_products.csv", 0),
    ],
    ids=["importer-sample", "sample-products"],
)
def test_woocommerce_empty_stock_is_unknown(tmp_path, realdata, source: str, accepted: int) -> None:
    data = _client(tmp_path, realdata, {"woo": ("woocommerce_products", source, AS_OF)})
    assert_rows_add_up(data)
    assert len(data.snapshots) == accepted
    assert not (data.snapshots["available"] == 0).any()
    assert data.rejects["reason"].str.contains("empty quantity = unknown").sum() > 0
    if accepted:
        assert sorted(data.snapshots["available"]) == [5.0, 6.0, 10.0]
        assert "WOOIDEA:BLACK/M" in set(data.snapshots["sku"])


RECON = (
    HEAD
    + """
[systems.before]
kind = "wms"
snapshots = "raw/snapshot_1.csv"
[systems.before.columns]
on_hand = "quantity"
as_of = "last_counted"
[systems.after]
kind = "wms"
snapshots = "raw/snapshot_2.csv"
[systems.after.columns]
on_hand = "qty"
as_of = "updated_at"
"""
)


def _recon(tmp_path: Path, realdata: Path, toml: str) -> ClientData:
    folder = realdata / "reconciliation_snapshots_assessment"
    files = {f"raw/{n}": (folder / n).read_bytes() for n in ("snapshot_1.csv", "snapshot_2.csv")}
    return load_client(make_client(tmp_path, toml, files))


def test_reconciliation_planted_defects(tmp_path, realdata) -> None:
    data = _recon(tmp_path, realdata, RECON + 'location = "warehouse"\n')
    assert_rows_add_up(data)
    snaps = data.snapshots
    after = snaps[snaps["system"] == "after"].set_index(["sku", "location"])
    before = snaps[snaps["system"] == "before"].set_index(["sku", "location"])
    assert after.loc[("SKU005", "Warehouse C"), "on_hand"] == 480
    assert after.loc[("SKU008", "Warehouse A"), "on_hand"] == 42
    assert after.loc[("SKU002", "Warehouse A"), "on_hand"] == 70
    assert after.loc[("SKU007", "Warehouse A"), "on_hand"] == 80
    assert after.loc[("SKU045", "Warehouse B"), "on_hand"] == -5
    assert after.loc[("SKU035", "Warehouse C"), "as_of"] == pd.Timestamp(
        "2024-01-15 06:00", tz="UTC"
    )
    assert set(after["as_of"]) == {pd.Timestamp("2024-01-15 06:00", tz="UTC")}
    assert {"SKU025", "SKU026"} <= set(before.index.get_level_values(0)) - set(
        after.index.get_level_values(0)
    )
    assert {f"SKU{n:03d}" for n in range(76, 81)} <= set(after.index.get_level_values(0))
    common = before.index.intersection(after.index)
    assert len(common) >= 70


def test_reconciliation_duplicate_reported_in_single_location_view(tmp_path, realdata) -> None:
    data = _recon(tmp_path, realdata, RECON)
    assert_rows_add_up(data)
    dup = data.rejects[data.rejects["source_file"] == "raw/snapshot_2.csv"]
    assert dup["line"].tolist() == [44, 54]
    assert dup["reason"].str.contains("line 44 \\(on_hand=23\\), line 54 \\(on_hand=-5\\)").all()
    assert "SKU045" not in set(data.snapshots.loc[data.snapshots["system"] == "after", "sku"])
