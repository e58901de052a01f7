"""Client folders shared by the audit, batch, CLI, ingest, story and notebook tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "sample"
SAMPLE_CLIENTS = ("acme-outdoor", "brightline-home", "calm-goods")


def run_driftkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m driftkit.cli ARGS`` in ``cwd``, as a user runs it, output captured."""
    command = [sys.executable, "-m", "driftkit.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


# Strings a storefront could send: each must reach the report escaped, never as live markup.
TITLE = "<script>alert(1)</script> Lantern"
SKU = "<b>X1</b>"
LOCATION = "<i>bin</i>"
NAME = "Markup <i>Test</i> & Co"

_MARKUP_TOML = f"""\
[client]
name = "{NAME}"
timezone = "UTC"
currency = "USD"
authority = "wms"
default_location = "main"

[sku]
strip = true
upper = false
remove = ""

[catalog]
path = "catalog.csv"

[systems.wms]
kind = "wms"
format = "csv"
snapshots = "wms.csv"
events = "wms_events.csv"

[systems.shop]
kind = "storefront"
format = "csv"
snapshots = "shop.csv"
events = "shop_events.csv"
"""
_EVENTS = "event_id,kind,sku,location,qty_delta,occurred_at,reference\n"


def write_markup_client(folder: Path) -> Path:
    """A two-system, two-SKU client whose SKU, location, title and name are HTML markup.

    The storefront drops ``<b>X1</b>`` to 0 on day 3 while the WMS keeps 10, so the key
    drifts, is a phantom stockout, heads the count list and has a finding.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "client.toml").write_text(_MARKUP_TOML, encoding="utf-8")
    catalog = f"sku,unit_cost,unit_price,pack_size,category,title\n{SKU},10,20,1,toys,{TITLE}\n"
    (folder / "catalog.csv").write_text(catalog + "PLAIN-2,5,9,1,toys,Plain Mug\n")
    header = "sku,location,as_of,on_hand\n"
    days = [f"2026-09-0{d}T20:00:00+00:00" for d in range(1, 6)]
    wms = [f"{SKU},{LOCATION},{t},10\nPLAIN-2,{LOCATION},{t},5\n" for t in days]
    shop = [f"{SKU},{LOCATION},{t},{10 if i < 2 else 0}\nPLAIN-2,{LOCATION},{t},5\n"
            for i, t in enumerate(days)]  # fmt: skip
    (folder / "wms.csv").write_text(header + "".join(wms), encoding="utf-8")
    (folder / "shop.csv").write_text(header + "".join(shop), encoding="utf-8")
    for system in ("wms", "shop"):
        event = (
            f"{system[0].upper()}1,shipment,PLAIN-2,{LOCATION},-1,2026-09-02T10:00:00+00:00,ORD-1\n"
        )
        (folder / f"{system}_events.csv").write_text(_EVENTS + event, encoding="utf-8")
    return folder


def write_broken_client(folder: Path) -> Path:
    """The markup client with ``[catalog] path`` pointing at a file that does not exist."""
    write_markup_client(folder)
    toml = (folder / "client.toml").read_text(encoding="utf-8")
    (folder / "client.toml").write_text(toml.replace('"catalog.csv"', '"missing.csv"'))
    return folder


def write_markup_and_broken(root: Path) -> tuple[Path, Path]:
    """The markup client and the broken one in ``root/clients``, for the batch tests."""
    clients = root / "clients"
    return write_markup_client(clients / "markup"), write_broken_client(clients / "broken")


def simulate_small(folder: Path, *, seed: int = 1, skus: int = 40, days: int = 10) -> Path:
    """A small simulated client (all fault causes at the default rates)."""
    from driftkit.simulate.simulation import simulate

    shutil.rmtree(folder, ignore_errors=True)
    return Path(simulate(folder, skus=skus, days=days, seed=seed).path)
