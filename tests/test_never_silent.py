"""Never silent (issue 13, points 7 and 8): an audit says which systems were never compared and
why, measured from the data, with the setting that fixes it; ``check`` fails on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from driftkit import cli
from driftkit.audit import run_audit
from driftkit.check import Thresholds, crossed
from driftkit.config import load_config
from driftkit.drift.locations import located_systems, place_unlocated, sum_locations
from driftkit.load.ingest import ingest
from driftkit.report import story
from driftkit.report.clean import MAX_PROSE, escape
from driftkit.scale.partition import run_partitioned
from driftkit.scale.report import report_view
from tests.conftest import make_client

RUN_AT = datetime(2026, 4, 1, tzinfo=UTC)
HEADER = "sku,location,as_of,on_hand\n"


def _client(tmp_path: Path, systems: dict[str, str], client: str = "") -> Path:
    """A client of canonical csv exports: system id → csv text (``wms`` is the authority)."""
    toml = f'[client]\ntimezone = "UTC"\nauthority = "wms"\n{client}\n'
    for system in systems:
        toml += (
            f'[systems.{system}]\nkind = "wms"\nformat = "csv"\nsnapshots = "raw/{system}.csv"\n'
        )
    return make_client(tmp_path, toml, {f"raw/{s}.csv": text for s, text in systems.items()})


def _rows(*rows: str) -> str:
    return HEADER + "".join(f"{r}\n" for r in rows)


AUDITS: dict[str, Any] = {}  # the shared clients' audits, filled by ``audited``


def _summary(folder: Path) -> dict[str, Any]:
    return run_audit(folder, run_at=RUN_AT).summary


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, dict]]:
    """The shared clients (``APART``, ``PARTIAL``, ``UNLOCATED``) audited once per module."""
    cache: dict[str, tuple[Path, dict[str, Any]]] = {}

    def get(name: str) -> tuple[Path, dict[str, Any]]:
        if name not in cache:
            folder = _client(tmp_path_factory.mktemp(name.lower()), CLIENTS[name])
            AUDITS[name] = run_audit(folder, run_at=RUN_AT)
            cache[name] = folder, AUDITS[name].summary
        return cache[name]

    return get


APART = {
    "wms": _rows("A,main,2026-03-01T12:00:00Z,5", "B,main,2026-03-01T12:00:00Z,7"),
    "shop": _rows("A,main,2026-03-11T12:00:00Z,5", "B,main,2026-03-11T12:00:00Z,7"),
}


def test_snapshots_days_apart_are_named_with_the_staleness_that_would_fix_it(
    audited: Callable[[str], tuple[Path, dict]],
) -> None:
    summary = audited("APART")[1]
    assert summary["compared_cells"] == 0 and summary["headline_day"] is None
    assert set(summary["uncompared_systems"]) == {"wms", "shop"}
    reason = summary["uncompared_systems"]["shop"]
    assert "10.0 days apart" in reason and "staleness_hours = 24" in reason
    assert "raise staleness_hours to at least 240" in reason
    assert summary["notes"][0].startswith("nothing was compared")
    assert summary["notes"][2] == f"shop was never compared with another system: {reason}"


def test_check_exits_1_with_one_line_when_snapshots_never_overlap(
    audited: Callable[[str], tuple[Path, dict]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = audited("APART")[0]
    code = cli.main(["check", str(folder), "--min-agreement-rate", "0.9", "--allow-partial"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("driftkit check: client: nothing was compared: wms: ")
    assert "10.0 days apart" in lines[0]


def test_no_common_sku_is_said_with_examples_from_each_side(tmp_path: Path) -> None:
    systems = {
        "wms": _rows("A1,main,2026-03-01T12:00:00Z,5", "A2,main,2026-03-01T12:00:00Z,7"),
        "shop": _rows("X9,main,2026-03-01T12:00:00Z,5"),
    }
    summary = _summary(_client(tmp_path, systems))
    reason = summary["uncompared_systems"]["shop"]
    assert reason.startswith("it shares no SKU with the other systems")
    assert '"X9"' in reason and '"A1", "A2"' in reason and "aliases" in reason


def test_no_common_location_names_both_sides(tmp_path: Path) -> None:
    systems = {
        "wms": _rows("A,East DC,2026-03-01T12:00:00Z,5"),
        "shop": _rows("A,<b>West</b>,2026-03-01T12:00:00Z,5"),
    }
    folder = _client(tmp_path, systems)
    audit = run_audit(folder, run_at=RUN_AT)
    reason = audit.summary["uncompared_systems"]["shop"]
    assert '(its locations: "<b>West</b>"; theirs: "East DC")' in reason
    assert '[systems.shop.locations], e.g. "<b>West</b>" = "East DC"' in reason
    first = story.answer(audit).html
    assert first.startswith('<div class="dk-warning"><p><b>Nothing was compared.</b>')
    assert "&lt;b&gt;West&lt;/b&gt;" in first and "<b>West</b>" not in first


def test_every_row_rejected_is_the_reason(tmp_path: Path) -> None:
    systems = {
        "wms": _rows("A,main,2026-03-01T12:00:00Z,5"),
        "shop": _rows(",main,2026-03-01T12:00:00Z,5", ",main,2026-03-01T12:00:00Z,6"),
    }
    summary = _summary(_client(tmp_path, systems))
    reason = summary["uncompared_systems"]["shop"]
    assert reason.startswith("all 2 rows of its snapshot export were rejected (most: empty SKU")
    assert "rejects.csv" in reason


def test_an_unknown_measure_names_the_measure_to_set(tmp_path: Path) -> None:
    systems = {
        "wms": _rows("A,main,2026-03-01T12:00:00Z,5"),
        "shop": "sku,location,as_of,available\nA,main,2026-03-01T12:00:00Z,5\n",
    }
    summary = _summary(_client(tmp_path, systems))
    assert summary["uncompared_systems"] == {
        "wms": "the other systems' (shop) on_hand is unknown in every snapshot; "
        'set measure = "available" in [client] if the exports report that',
        "shop": "its on_hand is unknown in every snapshot; "
        'set measure = "available" in [client] if the exports report that',
    }


PARTIAL = {
    "wms": _rows("A,main,2026-03-01T12:00:00Z,5", "B,main,2026-03-01T12:00:00Z,7"),
    "shop": _rows("A,main,2026-03-01T12:00:00Z,4", "B,main,2026-03-01T12:00:00Z,7"),
    "erp": _rows("Z,main,2026-03-01T12:00:00Z,1"),
}


def test_a_partial_comparison_fails_check_unless_allowed(
    audited: Callable[[str], tuple[Path, dict]],
) -> None:
    summary = audited("PARTIAL")[1]
    assert summary["compared_cells"] == 2 and list(summary["uncompared_systems"]) == ["erp"]
    strict = crossed(summary, Thresholds())
    assert len(strict) == 1 and strict[0].startswith(
        "client: erp was never compared with another system: it shares no SKU"
    )
    assert crossed(summary, Thresholds(allow_partial=True)) == []


def test_nothing_compared_fails_check_even_when_partial_is_allowed() -> None:
    summary = {"client": "c", "compared_cells": 0, "uncompared_systems": {}}
    assert crossed(summary, Thresholds(allow_partial=True)) == [
        "c: nothing was compared: no two systems overlap"
    ]


# --- systems without locations (point 7) ---------------------------------------------------

UNLOCATED = {
    "wms": _rows(
        "A,Store 1,2026-03-01T12:00:00Z,5",
        "B,Store 1,2026-03-01T12:00:00Z,7",
        "C,Store 1,2026-03-01T12:00:00Z,1",
        "C,Store 2,2026-03-01T12:00:00Z,2",
    ),
    "shop": "sku,as_of,on_hand\nA,2026-03-01T12:00:00Z,5\nB,2026-03-01T12:00:00Z,6\n"
    "C,2026-03-01T12:00:00Z,3\n",
}


def test_a_system_without_locations_is_compared_at_the_only_location(
    audited: Callable[[str], tuple[Path, dict]],
) -> None:
    summary = audited("UNLOCATED")[1]
    # A and B are held by the wms at Store 1 only: compared there (A agrees, B is 1 off);
    # C is at two wms locations: compared with the wms's sum, 1 + 2 = 3 (agrees)
    assert summary["compared_cells"] == 3 and summary["agreeing_cells"] == 2
    assert summary["abs_drift_units_last_day"] == 1.0
    assert summary["uncompared_systems"] == {}
    assert summary["notes"][0] == (
        "shop names no location in its export: 2 SKUs paired with the only location where "
        'the other systems hold them ("Store 1" (2)); 1 SKUs the other systems hold at several '
        "locations compared at SKU level against each other system's sum over its locations "
        '("(all locations)")'
    )


# Hand-computed: the wms holds X and Y at two locations (5 + 7 = 12 each); the shop, with no
# location, says 12 for X (agrees) and 10 for Y (drift 12 - 10 = 2 units against the wms).
SUMMED = {
    "wms": _rows(
        "X,Left,2026-03-01T12:00:00Z,5",
        "X,Right,2026-03-01T12:00:00Z,7",
        "Y,Left,2026-03-01T12:00:00Z,5",
        "Y,Right,2026-03-01T12:00:00Z,7",
    ),
    "shop": "sku,as_of,on_hand\nX,2026-03-01T12:00:00Z,12\nY,2026-03-01T12:00:00Z,10\n",
}


def test_a_system_without_locations_is_compared_with_the_sum_over_locations(
    audited: Callable[[str], tuple[Path, dict]],
) -> None:
    summary = audited("SUMMED")[1]
    # the four per-location cells hold the wms only; X and Y at "(all locations)" are compared
    assert summary["sku_locations"] == 6 and summary["compared_cells"] == 2
    assert summary["agreeing_cells"] == 1 and summary["drifted_sku_locations"] == 1
    assert summary["abs_drift_units_last_day"] == 2.0
    assert summary["uncompared_systems"] == {}
    assert summary["notes"][0] == (
        "shop names no location in its export: 2 SKUs the other systems hold at several "
        "locations compared at SKU level against each other system's sum over its locations "
        '("(all locations)")'
    )


def test_the_report_lists_the_notes_once_escaped(
    audited: Callable[[str], tuple[Path, dict]],
) -> None:
    note = audited("SUMMED")[1]["notes"][0]
    first = story.answer(AUDITS["SUMMED"]).html
    assert first.endswith(
        f'<div class="dk-notes"><p><b>Notes</b></p><ul><li>{escape(note, limit=MAX_PROSE)}</li></ul></div>'
    )
    assert "&quot;(all locations)&quot;" in first and '"(all locations)"' not in first
    # APART's only notes are the uncompared sentences, already in the warning: no Notes list
    apart = audited("APART")[1]
    assert apart["notes"] and "dk-notes" not in story.answer(AUDITS["APART"]).html


CLIENTS = {"APART": APART, "PARTIAL": PARTIAL, "UNLOCATED": UNLOCATED, "SUMMED": SUMMED}


@pytest.mark.parametrize("name", list(CLIENTS), ids=str.lower)
def test_both_engines_say_the_same(
    tmp_path: Path, audited: Callable[[str], tuple[Path, dict]], name: str
) -> None:
    folder, whole = audited(name)
    config = load_config(folder)
    processed = tmp_path / "processed"
    ingest(config, out=processed, buckets=2)
    parted = run_partitioned(config, processed, engine="pandas", jobs=1, run_at=RUN_AT).summary
    for key in ("notes", "uncompared_systems", "compared_cells", "headline_day"):
        assert parted[key] == whole[key], key
    if name == "SUMMED":  # the SKU-level comparison against sums: the same headline
        for key in ("agreeing_cells", "sku_locations", "abs_drift_units_last_day"):
            assert parted[key] == whole[key], key


NAMES = ("inventory", "products")


def test_olt_inventory_and_products_compare_881_skus_without_a_location_map(
    tmp_path: Path, realdata: Path
) -> None:
    source = realdata / "shopify_olt_jewellery"  # copied into the client folder at test time
    files = {f"raw/{n}_export_1.csv": (source / f"{n}_export_1.csv").read_bytes() for n in NAMES}
    systems = zip(("inv", "prod"), ("shopify_inventory", "shopify_products"), NAMES, strict=True)
    toml = '[client]\ntimezone = "Australia/Sydney"\nauthority = "inv"\nmeasure = "available"\n'
    for system, fmt, name in systems:
        toml += (
            f'[systems.{system}]\nkind = "storefront"\nformat = "{fmt}"\n'
            f'snapshots = "raw/{name}_export_1.csv"\nas_of = "2023-03-08T12:00:00"\n'
        )
    summary = _summary(make_client(tmp_path, toml, files))
    assert summary["sku_locations"] == summary["compared_cells"] == 881
    assert summary["agreement_rate"] == 1.0 and summary["abs_drift_units_last_day"] == 0.0
    assert summary["uncompared_systems"] == {}
    assert summary["notes"][0].startswith(
        "prod names no location in its export: 881 SKUs paired with the only location where "
        'the other systems hold them ("Once-Loved Treasures" (881))'
    )


def test_audit_warns_on_stderr(
    tmp_path: Path, audited: Callable[[str], tuple[Path, dict]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, summary = audited("PARTIAL")
    code = cli.main(["audit", str(folder), "--out", str(tmp_path), "--no-html", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert code == 0 and "client: ok" in out
    reason = summary["uncompared_systems"]["erp"]
    assert err.splitlines() == [
        f"driftkit: warning: client: erp was never compared with another system: {reason}"
    ]


def test_partitioned_drilldowns_hold_the_placed_rows(
    tmp_path: Path, audited: Callable[[str], tuple[Path, dict]]
) -> None:
    config = load_config(audited("UNLOCATED")[0])
    ingest(config, out=tmp_path / "processed", buckets=2)
    parted = run_partitioned(config, tmp_path / "processed", jobs=1, run_at=RUN_AT)
    view = report_view(parted)
    rows = view.data.snapshots
    assert set(zip(rows["system"], rows["sku"], rows["location"], strict=True)) >= {
        ("shop", "B", "Store 1"),
        ("wms", "B", "Store 1"),
    }


def test_skus_the_others_hold_at_the_default_location_stay_there() -> None:
    """Hand-made: A at Store 1 only (moved), B also at main (left), C at two stores (summed)."""
    snaps = pd.DataFrame(
        {
            "system": ["wms", "wms", "wms", "wms", "wms", "shop", "shop", "shop"],
            "sku": ["A", "B", "B", "C", "C", "A", "B", "C"],
            "location": ["S1", "main", "S1", "S1", "S2", "main", "main", "main"],
            "as_of": pd.Timestamp("2026-03-01T12:00Z"),
            "on_hand": [1.0, 2.0, 3.0, 4.0, 6.0, 1.0, 5.0, 10.0],
        }
    )
    events = pd.DataFrame({"system": ["shop", "wms"], "sku": ["A", "A"], "location": "main"})
    moved, moved_events, counts = place_unlocated(snaps, events, ("shop",), "main")
    assert moved["location"].tolist()[5:] == ["S1", "main", "(all locations)", "(all locations)"]
    assert moved.iloc[8].to_dict() == {
        **snaps.iloc[3].to_dict(),
        "location": "(all locations)",
        "on_hand": 10.0,
    }
    assert moved_events["location"].tolist() == ["S1", "main"]
    assert counts.to_dict("records") == [
        {"system": "shop", "location": "(all locations)", "skus": 1},
        {"system": "shop", "location": "S1", "skus": 1},
    ]
    assert snaps["location"].tolist()[5:] == ["main"] * 3  # inputs not mutated
    assert located_systems(snaps, "main") == frozenset({"wms"})


def test_a_sum_is_unknown_when_a_location_is_missing_or_unknown() -> None:
    """C: S2 missing from the second snapshot; D: S2 unknown. Never a partial sum."""
    first, second = pd.Timestamp("2026-03-01T12:00Z"), pd.Timestamp("2026-03-02T12:00Z")
    snaps = pd.DataFrame(
        {
            "system": "wms",
            "sku": ["C", "C", "C", "D", "D"],
            "location": ["S1", "S2", "S1", "S1", "S2"],
            "as_of": [first, first, second, first, first],
            "on_hand": [4.0, 6.0, 5.0, 1.0, float("nan")],
        }
    )
    sums = sum_locations(snaps)
    assert sums["location"].unique().tolist() == ["(all locations)"]
    assert sums["on_hand"].tolist()[0] == 10.0 and sums["on_hand"].isna().tolist() == [
        False,
        True,
        True,
    ]
