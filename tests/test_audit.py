"""run_audit on every sample client: summary.json keys, run files, wiring, ``previous``."""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftkit.audit import Audit, previous_summary, run_audit, run_folders
from driftkit.schema import Cause
from tests.audit_clients import SAMPLE_CLIENTS, SAMPLES, simulate_small, write_markup_client

SUMMARY_KEYS = (
    "client", "run_at", "window_start", "window_end", "systems", "authority", "rows_read",
    "rows_rejected", "sku_locations", "compared_cells", "agreement_rate",
    "drifted_sku_locations", "abs_drift_units_last_day", "value_at_risk_last_day",
    "phantom_stockout_sku_days", "lost_sales_units", "lost_revenue", "oversell_units",
    "findings_by_cause", "explained_share", "previous",
)  # fmt: skip
RUN_FILES = ("daily", "episodes", "findings", "handoffs", "impact", "count_list", "rejects",
             "fix_plan", "authority")  # fmt: skip
RUN_AT = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Audit, Path]]:
    """Every sample client audited once, its run files written to a temporary folder."""
    root = tmp_path_factory.mktemp("runs")
    runs = {}
    for client in SAMPLE_CLIENTS:
        out = root / client
        runs[client] = (run_audit(SAMPLES / client, out_dir=out, run_at=RUN_AT), out)
    return runs


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return bool(a == b)


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_summary_json_has_every_design_key(sample_runs: dict, client: str) -> None:
    audit, out = sample_runs[client]
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [k for k in SUMMARY_KEYS if k not in written] == []
    assert written == audit.summary  # what was written is what was computed (JSON-safe)
    assert written["client"] == client and written["previous"] is None
    assert written["run_at"] == "2026-10-01T06:00:00+00:00"
    assert set(written["findings_by_cause"]) == set(Cause)
    assert written["systems"] == list(audit.config.systems)
    assert written["authority"] == audit.config.authority
    assert date.fromisoformat(written["window_start"]) <= date.fromisoformat(written["window_end"])


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_run_files_written_and_match_the_tables(sample_runs: dict, client: str) -> None:
    audit, out = sample_runs[client]
    for name in RUN_FILES:
        frame = pd.read_csv(out / f"{name}.csv", keep_default_na=False)
        table = audit.tables[name]
        assert list(frame.columns) == list(table.columns), name
        assert len(frame) == len(table), name


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_summary_numbers_are_the_pipeline_numbers(sample_runs: dict, client: str) -> None:
    audit, _ = sample_runs[client]
    summary = audit.summary
    headline = audit.comparison.headline
    assert {k: v for k, v in headline.items() if not _same(summary[k], v)} == {}
    assert {k: v for k, v in audit.impact.totals.items() if not _same(summary[k], v)} == {}
    counts = audit.attribution.findings["cause"].value_counts()
    assert summary["findings_by_cause"] == {c: int(counts.get(c, 0)) for c in Cause}
    files = audit.data.files
    assert summary["rows_read"] == files["rows_read"].sum()
    assert summary["rows_read"] == files["rows_accepted"].sum() + files["rows_rejected"].sum()
    assert summary["rows_rejected"] == len(audit.data.rejects) == files["rows_rejected"].sum()
    assert summary["sku_locations"] >= summary["drifted_sku_locations"] > 0
    assert 0 < summary["agreement_rate"] <= 1


def test_faulty_clients_drift_more_than_the_clean_one(sample_runs: dict) -> None:
    rate = {c: sample_runs[c][0].summary["agreement_rate"] for c in SAMPLE_CLIENTS}
    assert rate["calm-goods"] > max(rate["acme-outdoor"], rate["brightline-home"])
    faulty = sample_runs["acme-outdoor"][0].summary
    assert sum(faulty["findings_by_cause"].values()) > 0
    assert faulty["explained_share"] is not None and 0 < faulty["explained_share"] <= 1


def test_calm_goods_without_faults_mostly_agrees(sample_runs: dict) -> None:
    """No fault is injected in calm-goods: no finding, agreement 0.952 (measured).

    The remaining disagreement is snapshot timing (the ERP's and 3PL's snapshots are taken
    at other times of day than the WMS's), which no cause claims.
    """
    audit, _ = sample_runs["calm-goods"]
    assert pd.read_csv(SAMPLES / "calm-goods" / "ground_truth.csv").empty
    assert sum(audit.summary["findings_by_cause"].values()) == 0
    assert 0.94 <= audit.summary["agreement_rate"] < 1
    assert audit.summary["rows_rejected"] == 0


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("small") / "small", seed=2)


def _fake_run(folder: Path, **numbers: Any) -> Path:
    folder.mkdir(parents=True)
    summary = {"client": "small", "run_at": f"{folder.name}T06:00:00+00:00", **numbers}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_previous_is_null_first_then_the_prior_runs_headline(small: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = run_audit(small, out_dir=reports / "small" / "2026-10-01", reports_dir=reports,
                      run_at=RUN_AT)  # fmt: skip
    assert first.summary["previous"] is None
    later = datetime(2026, 10, 8, 6, 0, tzinfo=UTC)
    second = run_audit(small, out_dir=reports / "small" / "2026-10-08", reports_dir=reports,
                       run_at=later)  # fmt: skip
    previous = second.summary["previous"]
    assert previous["run_at"] == first.summary["run_at"]
    for key in ("agreement_rate", "value_at_risk_last_day", "lost_revenue", "explained_share"):
        assert previous[key] == first.summary[key], key
    written = json.loads((reports / "small" / "2026-10-08" / "summary.json").read_text())
    assert written["previous"] == previous


def test_previous_comes_from_the_newest_complete_earlier_run(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    _fake_run(folder / "2026-09-01", agreement_rate=0.5)
    _fake_run(folder / "2026-09-15", agreement_rate=0.8)
    _fake_run(folder / ".2026-09-20.partial-123", agreement_rate=0.1)  # killed mid-run
    _fake_run(folder / ".2026-09-20.old-123", agreement_rate=0.2)  # replaced run
    _fake_run(folder / "failed", agreement_rate=0.3)
    _fake_run(folder / "2026-13-45", agreement_rate=0.4)  # not a date
    _fake_run(folder / "2026-12-31", agreement_rate=0.9)  # after the run date
    (folder / "2026-09-25").mkdir()  # no summary.json: not a finished run
    names = [p.name for p in run_folders(folder)]
    assert names == ["2026-09-01", "2026-09-15", "2026-12-31"]
    found = previous_summary(tmp_path, "small", date(2026, 10, 1))
    assert found is not None and found["agreement_rate"] == 0.8
    assert previous_summary(tmp_path, "small", date(2026, 8, 1)) is None
    assert previous_summary(tmp_path, "other", date(2026, 10, 1)) is None


def test_window_options_narrow_the_window(small: Path) -> None:
    audit = run_audit(small, start="2026-09-03", end=date(2026, 9, 5), run_at=RUN_AT)
    assert (audit.summary["window_start"], audit.summary["window_end"]) == (
        "2026-09-03",
        "2026-09-05",
    )


def test_a_client_with_snapshots_only_is_audited(tmp_path: Path) -> None:
    """No events anywhere: every drift is honestly an unrecorded change, nothing crashes."""
    folder = write_markup_client(tmp_path / "snapshots-only")
    toml = (folder / "client.toml").read_text(encoding="utf-8")
    toml = toml.replace('events = "wms_events.csv"\n', "").replace(
        'events = "shop_events.csv"\n', ""
    )
    (folder / "client.toml").write_text(toml, encoding="utf-8")
    audit = run_audit(folder)
    causes = audit.summary["findings_by_cause"]
    assert causes["unrecorded_change"] >= 1
    assert sum(causes.values()) == causes["unrecorded_change"]
    assert audit.summary["explained_share"] == 0
    assert audit.attribution.handoffs.empty


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_every_sample_episode_is_explained(client: str) -> None:
    """Each drift episode has a cause, or is honestly snapshot timing; none is left blank."""
    audit = run_audit(SAMPLES / client)
    labels = audit.tables["episodes"]["explained_by"]
    assert len(labels) == len(audit.comparison.episodes)
    assert (labels != "").all(), labels.value_counts()
    assert "unexplained" not in audit.summary["episodes_by_explanation"]


OLT_TOML = """\
[client]
name = "OLT Jewellery (real Shopify exports)"
timezone = "UTC"
authority = "inventory"
measure = "available"

[systems.inventory]
kind = "storefront"
format = "shopify_inventory"
snapshots = "raw/inventory_export_1.csv"
as_of = "2023-03-01T12:00:00"
[systems.inventory.locations]
"Once-Loved Treasures" = "main"

[systems.products]
kind = "storefront"
format = "shopify_products"
snapshots = "raw/products_export_1.csv"
as_of = "2023-03-01T12:00:00"
"""


def test_real_shopify_exports_of_one_store_audit_to_zero_drift(
    tmp_path: Path, realdata: Path
) -> None:
    """The OLT store's inventory and products exports agree: the real zero-drift baseline,
    audited end to end on the `available` measure (no events, no catalog)."""
    folder = tmp_path / "olt-jewellery"
    (folder / "raw").mkdir(parents=True)
    for name in ("inventory_export_1.csv", "products_export_1.csv"):
        shutil.copy(realdata / "shopify_olt_jewellery" / name, folder / "raw" / name)
    (folder / "client.toml").write_text(OLT_TOML, encoding="utf-8")
    summary = run_audit(folder).summary
    assert summary["compared_cells"] == summary["sku_locations"] == 881
    assert summary["agreement_rate"] == 1.0
    assert summary["drifted_sku_locations"] == 0
    assert summary["rows_read"] == 884 + 6006
    assert sum(summary["findings_by_cause"].values()) == 0


# Issue 14: numbers unchanged and the run files equal to the tables (scale/outputs.py).
# tests/expected/summary_<client>.json: the summaries before issue 14 (d35f221), run_at fixed;
# a change meant to move numbers regenerates them (tests/test_outputs.py: regenerate).
# Floats agree to FLOAT_TOLERANCE, everything else exactly: NumPy picks its SIMD kernels by
# CPU, and on an AVX-512 machine the same code gives brightline-home's lost_sales_units
# 0.37446796168980767, not ...734 (NPY_DISABLE_CPU_FEATURES="AVX512_ICL X86_V4" gives ...734).
FLOAT_TOLERANCE = 1e-12


def same_summary(written: Any, expected: Any, path: str = "") -> list[str]:
    """Where two parsed ``summary.json`` differ: floats beyond ``FLOAT_TOLERANCE`` (relative,
    and absolute near zero), any other value, key or type at all."""
    if isinstance(written, float) and isinstance(expected, float):
        close = math.isclose(written, expected, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
        return [] if close else [f"{path}: {written!r} != {expected!r}"]
    if type(written) is not type(expected):
        return [f"{path}: {written!r} != {expected!r}"]
    if isinstance(written, dict):
        if written.keys() != expected.keys():
            return [f"{path}: keys {sorted(written.keys() ^ expected.keys())}"]
        return [d for k in written for d in same_summary(written[k], expected[k], f"{path}.{k}")]
    if isinstance(written, list):
        if len(written) != len(expected):
            return [f"{path}: {len(written)} items != {len(expected)}"]
        pairs = zip(written, expected, strict=True)
        return [d for i, (w, e) in enumerate(pairs) for d in same_summary(w, e, f"{path}[{i}]")]
    return [] if written == expected else [f"{path}: {written!r} != {expected!r}"]


def test_same_summary_allows_last_place_float_noise_only() -> None:
    expected = {"lost": 0.37446796168980734, "n": 3, "top": [{"sku": "A", "value": 2.5}]}
    assert same_summary({**expected, "lost": 0.37446796168980767}, expected) == []
    assert same_summary({**expected, "lost": 0.3744679617}, expected) == [
        ".lost: 0.3744679617 != 0.37446796168980734"
    ]
    assert same_summary({**expected, "n": 3.0}, expected) == [".n: 3.0 != 3"]
    assert same_summary({**expected, "top": [{"sku": "B", "value": 2.5}]}, expected) == [
        ".top[0].sku: 'B' != 'A'"
    ]
    assert same_summary({"lost": 0.1}, expected) == [": keys ['n', 'top']"]


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_summary_json_is_identical_to_the_expected_copy(sample_runs: dict, client: str) -> None:
    _, out = sample_runs[client]
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    expected = Path(__file__).parent / "expected" / f"summary_{client}.json"
    assert same_summary(written, json.loads(expected.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_parquet_files_hold_the_large_tables_exactly(sample_runs: dict, client: str) -> None:
    audit, out = sample_runs[client]
    manifest = json.loads((out / "tables.json").read_text(encoding="utf-8"))
    assert set(manifest) == set(audit.tables)
    for name in ("episodes", "findings", "impact", "count_list", "count_accuracy"):
        table = audit.tables[name]
        assert manifest[name] == {"rows": len(table), "csv_rows": len(table), "parquet": f"{name}.parquet"}  # fmt: skip
        read = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(read, table, check_dtype=False)


@pytest.mark.parametrize("client", SAMPLE_CLIENTS)
def test_csv_numbers_read_back_to_the_tables(sample_runs: dict, client: str) -> None:
    audit, out = sample_runs[client]
    for name, table in audit.tables.items():
        read = pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""])
        for column in table.select_dtypes("number").columns:
            got, want = read[column].to_numpy(dtype=float), table[column].to_numpy(dtype=float)
            assert np.allclose(got, want, rtol=1e-15, equal_nan=True), (name, column)
