"""Every recipe in docs/recipes.md loads its real exports end to end, with the numbers of
each sample folder's PROVENANCE.md (files copied from ../shared/realdata at test time)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from driftkit.load.client import ClientData, load_client

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes.md"
_SECTION = re.compile(
    r"^## [^\n]*\(`(?P<folder>[a-z0-9_]+)`\)\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S
)
_FILE = re.compile(r"`(raw/[^`]+)` ← `([^`]+)`")
_TOML = re.compile(r"```toml\n(.*?)```", re.S)


def recipes() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """folder → (client.toml text, [(path in the client, path in realdata)])."""
    out = {}
    for match in _SECTION.finditer(RECIPES.read_text(encoding="utf-8")):
        body = match["body"]
        out[match["folder"]] = (_TOML.search(body)[1], _FILE.findall(body))  # type: ignore[index]
    return out


def build(tmp_path: Path, realdata: Path, folder: str) -> ClientData:
    toml, files = recipes()[folder]
    root = tmp_path / folder
    (root / "raw").mkdir(parents=True)
    (root / "client.toml").write_text(toml, encoding="utf-8")
    for target, source in files:
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(realdata / source, root / target)
    return load_client(root)


def files(data: ClientData) -> pd.DataFrame:
    """Per system: rows read, accepted, rejected (one file per system in every recipe)."""
    return data.files.set_index("system")[["rows_read", "rows_accepted", "rows_rejected"]]


def reasons(data: ClientData, needle: str) -> int:
    return int(data.rejects["reason"].str.contains(needle, regex=False).sum())


def check_generic(data: ClientData) -> None:
    # PROVENANCE: 75 and "80 rows"; pandas counts 79 data rows in snapshot_2 (80 lines)
    assert files(data)["rows_read"].to_dict() == {"erp": 75, "wms": 79}
    wms = data.snapshots[data.snapshots["system"] == "wms"]
    assert -5.0 in wms["on_hand"].tolist()  # negatives kept
    assert {"SKU005", "SKU008", "SKU018"} <= set(wms["sku"])  # spelling variants joined
    assert (wms["as_of"].dt.strftime("%Y-%m-%d") == "2024-01-15").all()  # 01/15/2024 read
    assert wms[wms["sku"] == "SKU045"]["location"].nunique() == 2


def check_shiphero(data: ClientData) -> None:
    assert files(data).loc["shiphero", "rows_read"] == 17226
    snaps = data.snapshots.set_index(["location", "sku"])["on_hand"]
    assert snaps[("Primary", "RECEIVING")] == 1_084_199
    assert (data.snapshots["location"] == "unassigned").sum() == 10  # blank Warehouse


def check_nsls(data: ClientData) -> None:
    assert files(data).loc["shop", "rows_read"] == 1732


def check_olt(data: ClientData) -> None:
    counts = files(data)
    assert counts.loc["inventory", "rows_read"] == 884
    pair = data.snapshots.pivot_table(
        index=["sku", "location"], columns="system", values="available"
    )
    both = pair.dropna()
    assert len(both) == 881 and (both["inventory"] == both["products"]).all()


def check_printful(data: ClientData) -> None:
    assert files(data).loc["shop"].tolist() == [50, 50, 0]
    assert any(
        "50 cell(s)" in n and "location 'Printful', column 'Printful'" in n for n in data.notes
    )
    assert set(data.snapshots["location"]) == {"508 Larkin St"}  # 3PL not stocked, Printful 9999


def check_prijsgarantie(data: ClientData) -> None:
    assert files(data).loc["shop"].tolist() == [814, 56, 758]
    assert reasons(data, "inventory not tracked") == 757
    assert reasons(data, "always-in-stock sentinel 999999") == 1


def check_bigcommerce(data: ClientData) -> None:
    assert files(data).loc["bigcommerce", "rows_accepted"] > 0
    assert data.snapshots["as_of"].iloc[0] == pd.Timestamp("2020-11-18 23:59", tz="America/Chicago")


def check_woocommerce(data: ClientData) -> None:
    assert files(data).loc["woo"].tolist() == [243, 168, 75]
    assert any("100 short row(s)" in note for note in data.notes)  # PROVENANCE: 100 short rows
    assert data.snapshots["as_of"].iloc[0] == pd.Timestamp("2026-02-25 22:56:14.291", tz="UTC")


def check_mormasa(data: ClientData) -> None:
    counts = files(data)
    assert counts.loc["listings"].tolist() == [4533, 4498, 35]
    assert counts.loc["fba", "rows_read"] == 43
    fba_blank = data.rejects[data.rejects["reason"].str.contains("FBA listing")]
    assert len(fba_blank) == 35
    by_system = data.snapshots.groupby("system")["sku"].agg(set)
    assert not by_system["listings"] & by_system["fba"]  # no comparable cell


def check_rangsutra(data: ClientData) -> None:
    counts = files(data)
    assert counts.loc["sheet"].tolist() == [1779, 1779, 0]
    assert counts.loc["online", "rows_read"] == 951
    sheet_file = data.config.root / "raw" / "inventory_list 2.xlsx"
    cells = pd.read_excel(sheet_file, engine="calamine").drop(columns="SKU").notna().sum().sum()
    assert cells == 8471  # an independent count: the non-empty channel cells
    assert any(
        "1,779 rows × 12 quantity columns = 21,348 cells: 8,471 used, 12,877 empty" in n
        for n in data.notes
    )
    sheet = data.snapshots[data.snapshots["system"] == "sheet"]
    assert sheet["location"].nunique() == 12
    online = data.snapshots[data.snapshots["system"] == "online"]
    common = set(sheet.loc[sheet["location"] == "rs-online", "sku"]) & set(online["sku"])
    assert 500 < len(common) <= 951


def check_square(data: ClientData) -> None:
    counts = files(data)
    assert counts.loc["catalog", "rows_read"] == 8 and counts.loc["aging", "rows_read"] == 11
    values = data.snapshots.set_index(["system", "sku"])["on_hand"]
    assert values[("catalog", "3YKHGTQ4JH7FATTE5HN3NDPZ")] == 91
    assert values[("aging", "3YKHGTQ4JH7FATTE5HN3NDPZ")] == 90  # 90.00 ea + 4 × 0.00 ea


CHECKS: dict[str, Callable[[ClientData], None]] = {
    "reconciliation_snapshots_assessment": check_generic,
    "shiphero_vp_locations": check_shiphero,
    "shopify_nsls": check_nsls,
    "shopify_olt_jewellery": check_olt,
    "shopify_codytrades_printful": check_printful,
    "shopify_prijsgarantie": check_prijsgarantie,
    "bigcommerce_twl_discgolf": check_bigcommerce,
    "woocommerce_tgmodz": check_woocommerce,
    "amazon_mormasa_listings_fba": check_mormasa,
    "rangsutra_wide_xlsx": check_rangsutra,
    "square_trtr_excerpt": check_square,
}


def test_every_recipe_is_checked() -> None:
    assert set(recipes()) == set(CHECKS)


@pytest.mark.parametrize("folder", sorted(CHECKS))
def test_recipe_loads_end_to_end(tmp_path, realdata, folder: str) -> None:
    data = build(tmp_path, realdata, folder)
    counts = files(data)
    assert (counts["rows_read"] == counts["rows_accepted"] + counts["rows_rejected"]).all()
    per_file = data.rejects.groupby("source_file").size()
    assert (
        per_file.reindex(data.files["source_file"], fill_value=0).tolist()
        == data.files["rows_rejected"].tolist()
    )
    CHECKS[folder](data)
