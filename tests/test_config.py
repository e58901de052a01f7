"""client.toml parsing: every mistake is a ConfigError naming file, key, found and allowed."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import pytest

from driftkit.config import SystemConfig, check_client_id, load_config
from driftkit.errors import ConfigError
from driftkit.schema import Measure, SystemKind

GOOD = """
[client]
name = "Acme Outdoor"
timezone = "America/Chicago"
currency = "USD"
authority = "wms"
measure = "on_hand"
tolerance = 0
staleness_hours = 24
default_location = "main"

[sku]
strip = true
upper = true
remove = "-_ ."

[catalog]
path = "raw/catalog.csv"
[counts]
path = "raw/cycle_counts.csv"

[systems.wms]
kind = "wms"
format = "csv"
snapshots = "raw/wms/onhand_*.csv"
events = "raw/wms/transactions.csv"
[systems.wms.columns]
sku = "Item"
location = "Whse"
as_of = "Snapshot Time"
on_hand = "On Hand"
[systems.wms.event_columns]
event_id = "Txn"
kind = "Type"
sku = "Item"
qty_delta = "Qty"
occurred_at = "Occurred"
reference = "Ref"
[systems.wms.locations]
"Main Whse" = "main"
[systems.wms.event_kinds]
SHIP = "shipment"
RCV = "receipt"

[systems.shop]
kind = "storefront"
format = "shopify_inventory"
snapshots = "raw/shop/inventory_export_*.csv"
as_of_pattern = "inventory_export_%Y-%m-%d.csv"
as_of_time = "23:59"
events = "raw/shop/orders.csv"
events_format = "csv"
"""


def write(tmp_path: Path, text: str, client_id: str = "acme-outdoor") -> Path:
    folder = tmp_path / client_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client.toml").write_text(text, encoding="utf-8")
    return folder


def test_design_example_parses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.id == "acme-outdoor"
    assert config.name == "Acme Outdoor"
    assert config.authority == "wms"
    assert config.measure is Measure.ON_HAND
    assert list(config.systems) == ["wms", "shop"]
    wms, shop = config.systems["wms"], config.systems["shop"]
    assert wms.kind is SystemKind.WMS and shop.kind is SystemKind.STOREFRONT
    assert wms.columns["on_hand"] == "On Hand"
    assert wms.event_kinds == {"SHIP": "shipment", "RCV": "receipt"}
    assert wms.locations == {"Main Whse": "main"}
    assert shop.as_of_pattern == "inventory_export_%Y-%m-%d.csv"
    assert shop.as_of_time == time(23, 59)
    assert config.sku.remove == "-_ ."
    assert config.catalog is not None and config.catalog.path == "raw/catalog.csv"


def test_defaults(tmp_path: Path) -> None:
    text = '[systems.wms]\nkind = "wms"\nsnapshots = "a.csv"\n'
    config = load_config(write(tmp_path, text))
    assert config.authority == "wms"  # the first system when none is named
    assert config.tolerance == 0 and config.staleness_hours == 24
    assert config.measure is Measure.ON_HAND and config.default_location == "main"
    assert config.sku.strip and config.sku.upper
    assert config.impact.walk_away_share == pytest.approx(0.40)


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(AttributeError):
        config.authority = "shop"  # type: ignore[misc]
    assert isinstance(config.systems["wms"], SystemConfig)


def test_as_of_parsed(tmp_path: Path) -> None:
    text = '[systems.a]\nkind = "erp"\nsnapshots = "a.csv"\nas_of = "2026-09-30T23:59:00"\n'
    config = load_config(write(tmp_path, text))
    assert config.systems["a"].as_of == datetime(2026, 9, 30, 23, 59)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param(
            GOOD.replace("tolerance = 0", "tolerence = 0"),
            ["client.toml", "client.tolerence", "allowed keys", "tolerance"],
            id="unknown-client-key",
        ),
        pytest.param(
            GOOD.replace('kind = "wms"', 'kind = "wmss"'),
            ["systems.wms.kind", "'wmss'", "storefront"],
            id="bad-system-kind",
        ),
        pytest.param(
            GOOD.replace('authority = "wms"', 'authority = "ledger"'),
            ["client.authority", "'ledger'", "wms, shop"],
            id="authority-not-a-system",
        ),
        pytest.param(
            GOOD.replace('measure = "on_hand"', 'measure = "onhand"'),
            ["client.measure", "on_hand, available"],
            id="bad-measure",
        ),
        pytest.param(
            GOOD.replace("staleness_hours = 24", 'staleness_hours = "24"'),
            ["client.staleness_hours", "a number"],
            id="wrong-type",
        ),
        pytest.param(
            GOOD.replace("tolerance = 0", "tolerance = -1"),
            ["client.tolerance", "-1"],
            id="negative-tolerance",
        ),
        pytest.param(
            GOOD.replace('path = "raw/catalog.csv"', 'path = "../other/catalog.csv"'),
            ["catalog.path", "outside the client folder"],
            id="path-escapes",
        ),
        pytest.param(
            GOOD.replace('snapshots = "raw/wms/onhand_*.csv"', 'snapshots = "/etc/passwd"'),
            ["systems.wms.snapshots", "outside the client folder"],
            id="absolute-path",
        ),
        pytest.param(
            GOOD.replace('format = "shopify_inventory"', 'format = "shopify"'),
            ["systems.shop.format", "shopify_inventory"],
            id="bad-format",
        ),
        pytest.param(
            GOOD.replace('RCV = "receipt"', 'RCV = "reciept"'),
            ["systems.wms.event_kinds.RCV", "receipt"],
            id="bad-event-kind",
        ),
        pytest.param(
            GOOD.replace('on_hand = "On Hand"', 'onhand = "On Hand"'),
            ["systems.wms.columns.onhand", "on_hand"],
            id="bad-column-map-key",
        ),
        pytest.param(
            GOOD.replace('timezone = "America/Chicago"', 'timezone = "Chicago"'),
            ["client.timezone", "IANA"],
            id="bad-timezone",
        ),
        pytest.param(
            GOOD.replace("[systems.shop]", "[systems.Shop]"),
            ["systems.Shop", "[a-z0-9]"],
            id="bad-system-id",
        ),
        pytest.param(
            GOOD.replace('as_of_time = "23:59"', 'as_of_time = "late"'),
            ["systems.shop.as_of_time", "'late'"],
            id="bad-time",
        ),
        pytest.param("[client\nname=1", ["not valid TOML"], id="toml-syntax"),
        pytest.param('[client]\nname = "x"\n', ["systems", "at least one"], id="no-systems"),
        pytest.param(
            '[systems.a]\nkind = "wms"\n', ["systems.a.snapshots", "events"], id="no-files"
        ),
    ],
)
def test_config_errors_name_file_key_found_allowed(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    folder = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(folder)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(
    "client_id", ["Acme", "acme outdoor", "../acme", "-acme", "acme.corp", ""], ids=repr
)
def test_bad_client_ids_refused(client_id: str) -> None:
    with pytest.raises(ConfigError, match="not allowed"):
        check_client_id(client_id)


@pytest.mark.parametrize("client_id", ["acme", "acme-outdoor", "a1_b2", "7eleven"])
def test_good_client_ids_accepted(client_id: str) -> None:
    assert check_client_id(client_id) == client_id


def test_folder_name_is_the_client_id(tmp_path: Path) -> None:
    folder = write(tmp_path, GOOD, client_id="Acme Outdoor")
    with pytest.raises(ConfigError, match="rename the folder"):
        load_config(folder)


def test_missing_client_toml(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    with pytest.raises(ConfigError, match=r"client\.toml: not found"):
        load_config(tmp_path / "acme")


def test_symlinked_parent_escape_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = write(tmp_path, GOOD.replace("raw/catalog.csv", "link/catalog.csv"))
    (folder / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the client folder"):
        load_config(folder)
