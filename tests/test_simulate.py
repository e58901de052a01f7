"""Tests of the simulator (driftkit.simulate.simulation): determinism, truth, replay, presets."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema as S
from driftkit.config import load_config
from driftkit.errors import ConfigError, InputError
from driftkit.simulate.simulation import (
    DEMAND_COLUMNS,
    FAULT_PRESETS,
    TRUTH_COLUMNS,
    Faults,
    Simulation,
    simulate,
)

CAUSES = [c.value for c in S.Cause]
SMALL = dict(skus=40, days=12)
BIG = dict(skus=500, days=30)  # enough blocked demand to measure the walk-away split


_ROOT: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _sim_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Small simulations are shared by the tests of this module (see ``_run``)."""
    _ROOT[:] = [tmp_path_factory.mktemp("sims")]


@cache
def _run(faults: str, seed: int = 0, walk_away_share: float = 0.4, big: bool = False) -> Simulation:
    name = f"sim-{faults}-{seed}-{walk_away_share}-{big}".replace("_", "-").replace(".", "-")
    size = BIG if big else SMALL
    return simulate(
        _ROOT[0] / name.lower(), seed=seed, faults=faults, walk_away_share=walk_away_share, **size
    )  # type: ignore[arg-type]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _faulted(sim: Simulation, system: str) -> set[tuple[str, str]]:
    truth = sim.ground_truth[sim.ground_truth["system"] == system]
    return set(zip(truth["sku"], truth["location"], strict=True))


def _replay(sim: Simulation, system: str) -> pd.DataFrame:
    """Each later snapshot next to the value replayed from the key's first snapshot."""
    snaps = sim.snapshots[sim.snapshots["system"] == system].sort_values("as_of")
    events = sim.events[sim.events["system"] == system]
    first = snaps.groupby(["sku", "location"], as_index=False).first()
    start = first.rename(columns={"as_of": "t", "on_hand": "set_qty", "committed": "c0"})
    start = start.assign(qty_delta=0.0, commit_delta=0.0)
    later = events.merge(first[["sku", "location", "as_of"]], on=["sku", "location"])
    later = later[later["recorded_at"] > later["as_of"]].rename(columns={"recorded_at": "t"})
    rows = pd.concat([start, later], ignore_index=True).sort_values(["t"], kind="stable")
    rows = rows.sort_values(["sku", "location", "t"], kind="stable").reset_index(drop=True)
    absolute = rows["set_qty"].notna()
    segment = absolute.cumsum()
    moved = rows["qty_delta"].where(~absolute, 0).fillna(0).groupby(segment).cumsum()
    rows["value"] = rows["set_qty"].where(absolute).groupby(segment).transform("first") + moved
    rows["c0"] = rows.groupby(["sku", "location"])["c0"].transform("first")
    rows["reserved"] = rows["c0"] + rows.groupby(["sku", "location"])["commit_delta"].transform(
        lambda s: s.fillna(0).cumsum()
    )
    probe = snaps.rename(columns={"as_of": "t"}).sort_values("t")
    out = pd.merge_asof(
        probe,
        rows[["sku", "location", "t", "value", "reserved"]].sort_values("t"),
        on="t",
        by=["sku", "location"],
    )
    return out


# --- determinism and shape -------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_frames(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a" / "same", seed=7, **SMALL)  # type: ignore[arg-type]
    b = simulate(tmp_path / "b" / "same", seed=7, **SMALL)  # type: ignore[arg-type]
    assert _digest(a.path) == _digest(b.path)
    for name in ("snapshots", "events", "counts", "ground_truth", "physical", "demand"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_csv_written_in_batches_is_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big files are rendered in row batches (bounded memory); the bytes do not change."""
    from driftkit.simulate import write as _simwrite

    whole = _run("high")
    monkeypatch.setattr(_simwrite, "_BATCH_ROWS", 7)
    batched = simulate(tmp_path / whole.path.name, seed=0, faults="high", **SMALL)  # type: ignore[arg-type]
    assert _digest(batched.path) == _digest(whole.path)


def test_different_seed_gives_different_stack() -> None:
    a, b = _run("default", seed=0), _run("default", seed=1)
    assert not a.events.equals(b.events)
    assert not a.physical.equals(b.physical)


def test_frames_are_canonical() -> None:
    sim = _run("default")
    for name, table in (("snapshots", "snapshots"), ("events", "events"), ("counts", "counts")):
        frame = getattr(sim, name)
        pd.testing.assert_frame_equal(frame, S.conform(frame, table))
    assert set(sim.snapshots["system"]) == {"wms", "erp", "shop", "3pl"}


def test_client_folder_is_a_valid_config() -> None:
    config = load_config(_run("default").path)
    assert {s: c.kind.value for s, c in config.systems.items()} == {
        "wms": "wms",
        "3pl": "3pl",
        "shop": "storefront",
        "erp": "erp",
    }
    assert config.authority == "wms"
    assert config.timezone == "America/Chicago"


def test_ground_truth_schema() -> None:
    truth = _run("high").ground_truth
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert set(truth["cause"]) <= set(CAUSES)
    assert set(truth["system"]) <= {"wms", "erp", "shop", "3pl"}
    assert str(truth["time"].dtype) == "datetime64[us, UTC]"
    assert (truth["units"] != 0).all()
    assert truth["time"].is_monotonic_increasing


def test_ground_truth_csv_matches_frame() -> None:
    sim = _run("high")
    written = pd.read_csv(sim.path / "ground_truth.csv", dtype={"sku": str, "reference": str})
    assert len(written) == len(sim.ground_truth)
    assert written["units"].tolist() == sim.ground_truth["units"].tolist()


# --- the physical world ----------------------------------------------------------------------


@pytest.mark.parametrize("faults", ["none", "default", "high"])
def test_physical_stock_never_negative(faults: str) -> None:
    sim = _run(faults)
    assert (sim.physical["on_hand"] >= 0).all()
    demand = sim.demand
    assert tuple(demand.columns) == DEMAND_COLUMNS
    assert (demand[list(DEMAND_COLUMNS[3:])] >= 0).all().all()
    assert (demand["lost"] + demand["retained"] == demand["blocked"]).all()
    cancelled = demand["demand"] - demand["sold"] - demand["blocked"]  # oversold, not shipped
    assert (cancelled >= 0).all()


@pytest.mark.parametrize("faults", ["none", "high"])
def test_blocked_demand_is_what_the_storefront_refused(faults: str) -> None:
    """Units ordered on the storefront (its order events) = demand − blocked, per key and day."""
    sim = _run(faults, seed=11, big=faults == "high")
    shop = sim.events[(sim.events["system"] == "shop") & (sim.events["kind"] == "order")]
    local = shop["occurred_at"].dt.tz_convert("America/Chicago").dt.tz_localize(None)
    ordered = shop.assign(day=local.dt.normalize()).groupby(["sku", "location", "day"])
    ordered = ordered["commit_delta"].sum().rename("ordered").reset_index()
    demand = sim.demand.assign(day=pd.to_datetime(sim.demand["day"]))
    out = demand.merge(ordered, how="left").fillna({"ordered": 0})
    assert (out["ordered"] == out["demand"] - out["blocked"]).all()
    if faults == "high":
        assert out["blocked"].sum() > 0


def test_walk_away_share_splits_blocked_units_binomially() -> None:
    """Only truth/demand.parquet depends on the share; lost ≈ share × blocked."""
    runs = {share: _run("high", seed=11, walk_away_share=share, big=True) for share in (0, 0.4, 1)}
    digests = {share: _digest(sim.path) for share, sim in runs.items()}
    for digest in digests.values():
        digest.pop("truth/demand.parquet")
        digest.pop("client.toml")  # the client's name is its folder's
    assert digests[0] == digests[0.4] == digests[1]
    assert (runs[0].demand["lost"] == 0).all()
    assert (runs[1].demand["lost"] == runs[1].demand["blocked"]).all()
    demand = runs[0.4].demand
    blocked = demand["blocked"].sum()
    assert blocked > 100
    sd = np.sqrt(0.4 * 0.6 / blocked)  # binomial: ±4 sd fails once in ~16,000 seeds
    assert abs(demand["lost"].sum() / blocked - 0.4) < 4 * sd
    assert demand["lost"].between(0, demand["blocked"]).all()


def test_return_frames_false_writes_the_same_folder(tmp_path: Path) -> None:
    full = _run("default")
    lean = simulate(tmp_path / full.path.name, faults="default", return_frames=False, **SMALL)  # type: ignore[arg-type]
    assert _digest(lean.path) == _digest(full.path)
    for name in ("snapshots", "events", "counts", "physical", "demand"):
        frame = getattr(lean, name)
        assert frame.empty
        pd.testing.assert_frame_equal(frame, getattr(full, name).iloc[:0], check_index_type=False)
    pd.testing.assert_frame_equal(lean.ground_truth, full.ground_truth)
    pd.testing.assert_frame_equal(lean.catalog, full.catalog)


@pytest.mark.parametrize("faults", ["none", "high"])
def test_counts_equal_physical_at_counted_at(faults: str) -> None:
    """Counts happen before the day's first movement: they equal the previous day's close."""
    sim = _run(faults)
    counts = sim.counts.assign(
        day=sim.counts["counted_at"].dt.tz_convert("America/Chicago").dt.tz_localize(None)
        - pd.Timedelta(days=1)
    )
    counts["day"] = counts["day"].dt.normalize()
    phys = sim.physical.assign(day=pd.to_datetime(sim.physical["day"]))
    joined = counts.merge(phys, on=["sku", "location", "day"])
    assert len(joined) > 0.8 * len(counts)  # all but the first day's counts
    assert (joined["counted_qty"] == joined["on_hand"]).all()


def test_demand_is_intermittent() -> None:
    demand = _run("none").demand["demand"]
    assert 0.3 < (demand == 0).mean() < 0.98


# --- faults and replay -------------------------------------------------------------------------


def test_none_preset_injects_nothing_and_records_are_physical() -> None:
    """No faults: every receipt/shipment is recorded, every absolute set is the true stock."""
    sim = _run("none")
    assert sim.ground_truth.empty
    phys = sim.physical.assign(day=pd.to_datetime(sim.physical["day"]))
    change = phys.sort_values("day").groupby(["sku", "location"])["on_hand"].diff()
    phys = phys.assign(change=change)
    local = sim.events["occurred_at"].dt.tz_convert("America/Chicago").dt.tz_localize(None)
    events = sim.events.assign(day=local.dt.normalize())
    for system in ("wms", "erp", "shop", "3pl"):
        mine = events[events["system"] == system]
        moved = mine.groupby(["sku", "location", "day"])["qty_delta"].sum().rename("moved")
        keys = mine[["sku", "location"]].drop_duplicates()
        check = phys.merge(keys).merge(moved.reset_index(), how="left").dropna(subset="change")
        assert len(check) > 0
        assert (check["moved"].fillna(0) == check["change"]).all(), system
        sets = mine[mine["set_qty"].notna()].assign(day=lambda f: f["day"] - pd.Timedelta(days=1))
        sets = sets.merge(phys, on=["sku", "location", "day"])
        assert (sets["set_qty"] == sets["on_hand"]).all(), system


@pytest.mark.parametrize("system", ["wms", "shop"])
def test_none_preset_differs_from_physical_only_by_latency(system: str) -> None:
    """Late-evening snapshots (after the day's last movement) = true stock − events in flight."""
    sim = _run("none")
    snaps = sim.snapshots[sim.snapshots["system"] == system]
    local = snaps["as_of"].dt.tz_convert("America/Chicago").dt.tz_localize(None)
    snaps = snaps.assign(day=local.dt.normalize())
    events = sim.events[sim.events["system"] == system]
    pending = snaps.merge(events, on=["sku", "location"], suffixes=("", "_e"))
    pending = pending[
        (pending["occurred_at"] <= pending["as_of"]) & (pending["recorded_at"] > pending["as_of"])
    ]
    in_flight = pending.groupby(["sku", "location", "as_of"])["qty_delta"].sum().rename("flight")
    phys = sim.physical.assign(day=pd.to_datetime(sim.physical["day"]))
    out = snaps.merge(phys, on=["sku", "location", "day"], suffixes=("", "_true"))
    out = out.merge(in_flight.reset_index(), how="left").fillna({"flight": 0})
    assert len(out) == len(snaps)
    assert (out["on_hand"] == out["on_hand_true"] - out["flight"]).all()


@pytest.mark.parametrize("faults", ["none", "default", "high", *CAUSES])
@pytest.mark.parametrize("system", ["wms", "erp", "shop", "3pl"])
def test_replay_reproduces_snapshots_except_faulted_keys(faults: str, system: str) -> None:
    sim = _run(faults)
    out = _replay(sim, system)
    faulted = _faulted(sim, system)
    key = list(zip(out["sku"], out["location"], strict=True))
    clean = ~pd.Series([k in faulted for k in key], index=out.index)
    assert clean.sum() > 0
    assert np.allclose(out.loc[clean, "on_hand"], out.loc[clean, "value"])
    if system in ("wms", "3pl", "shop"):
        assert np.allclose(out.loc[clean, "committed"], out.loc[clean, "reserved"])


def test_faulted_keys_do_break_replay() -> None:
    """The exemption is needed: unrecorded changes show up as replay mismatches."""
    sim = _run("unrecorded_change")
    broken = 0
    for system in ("wms", "erp", "shop", "3pl"):
        out = _replay(sim, system)
        broken += int((~np.isclose(out["on_hand"], out["value"])).sum())
    assert broken > 0


@pytest.mark.parametrize("cause", CAUSES)
def test_each_cause_preset_injects_only_that_cause(cause: str) -> None:
    sim = _run(cause)
    assert set(sim.ground_truth["cause"]) == {cause}


def test_missing_receipts_cluster_on_one_po_format() -> None:
    sim = _run("missing_event")
    truth = sim.ground_truth
    lost = truth[truth["system"] == "wms"]
    assert len(lost) > 0
    erp = sim.events[(sim.events["system"] == "erp") & (sim.events["kind"] == "receipt")]
    formats = erp.set_index(["reference", "sku"])["raw_reference"]
    seen = formats.loc[list(zip(lost["reference"], lost["sku"], strict=True))]
    assert seen.str.fullmatch(r"PO#\d+-A").all()
    assert (erp["raw_reference"].str.fullmatch(r"PO#\d+-A")).mean() < 0.5


def test_reference_formats_differ_per_system() -> None:
    events = _run("default").events
    receipts = events[events["kind"] == "receipt"]
    patterns = {"wms": r"PO-\d{6}", "3pl": r"po \d+", "erp": r"\d+|PO#\d+-A", "shop": r"#T\d{4,}"}
    for system, pattern in patterns.items():
        raw = receipts.loc[receipts["system"] == system, "raw_reference"]
        assert raw.str.fullmatch(pattern).all(), system
    orders = events[events["kind"] == "order"]
    assert orders.loc[orders["system"] == "shop", "raw_reference"].str.fullmatch(r"#\d+").all()
    assert orders.loc[orders["system"] == "wms", "raw_reference"].str.fullmatch(r"SO-\d{6}").all()


def test_duplicates_share_the_reference() -> None:
    sim = _run("duplicate_event")
    dup = sim.ground_truth
    ships = sim.events[sim.events["kind"] == "shipment"]
    per_ref = ships.groupby(["system", "sku", "reference"]).size()
    for row in dup.itertuples():
        assert per_ref[(row.system, row.sku, row.reference)] == 2
        assert row.units < 0


def test_stale_overwrites_predate_a_count() -> None:
    sim = _run("stale_overwrite")
    syncs = sim.events[(sim.events["system"] == "shop") & (sim.events["kind"] == "sync")]
    stale = syncs[syncs["recorded_at"] - syncs["source_as_of"] > pd.Timedelta(hours=12)]
    assert len(stale) == (sim.ground_truth["cause"] == "stale_overwrite").sum() > 0
    counts = sim.counts.rename(columns={"counted_at": "t"})
    joined = stale.merge(counts, on=["sku", "location"])
    before = joined[(joined["t"] > joined["source_as_of"]) & (joined["t"] < joined["recorded_at"])]
    assert before[["sku", "location"]].drop_duplicates().shape[0] == len(stale)


def test_unit_mismatch_records_packs_in_the_erp() -> None:
    sim = _run("unit_mismatch")
    truth = sim.ground_truth
    assert set(truth["system"]) == {"erp"}
    cat = sim.catalog.set_index("sku")["pack_size"]
    assert (cat.loc[truth["sku"]] > 1).all()
    erp = sim.snapshots[sim.snapshots["system"] == "erp"]
    first = erp.sort_values("as_of").groupby(["sku", "location"]).first()
    wms = sim.physical.sort_values("day").groupby(["sku", "location"])["on_hand"].first()
    keys = list(zip(truth["sku"], truth["location"], strict=True))
    assert (first.loc[keys, "on_hand"] < wms.loc[keys] + 1e-9).all()


def test_sync_lag_records_late_and_resolves() -> None:
    sim = _run("sync_lag")
    events = sim.events
    late = events[events["recorded_at"] - events["occurred_at"] > pd.Timedelta(hours=6)]
    assert len(late) == len(sim.ground_truth) > 0
    assert set(late["kind"]) <= {"receipt", "shipment"}


# --- options ---------------------------------------------------------------------------------


def test_presets_cover_every_cause_and_scale() -> None:
    assert {"none", "default", "low", "high", *CAUSES} <= set(FAULT_PRESETS)
    assert FAULT_PRESETS["low"].missing_event < FAULT_PRESETS["default"].missing_event
    assert FAULT_PRESETS["high"].missing_event > FAULT_PRESETS["default"].missing_event


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"faults": "sometimes"}, id="unknown-preset"),
        pytest.param({"locations": 1}, id="one-location"),
        pytest.param({"demand": "poisson"}, id="unknown-demand"),
        pytest.param({"timezone": "Mars/Olympus"}, id="bad-timezone"),
        pytest.param({"walk_away_share": 1.4}, id="walk-away-above-1"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        simulate(tmp_path / "x", skus=5, days=3, **kwargs)


def test_bad_rate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="missing_event"):
        Faults(missing_event=1.5)


def test_bad_client_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="client id"):
        simulate(tmp_path / "Bad Name", skus=5, days=3)


def test_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an earlier simulation"):
        simulate(target, skus=5, days=3)
    assert (target / "notes.txt").read_text() == "keep me"


def test_m5_demand_uses_the_real_series(tmp_path: Path) -> None:
    sim = simulate(tmp_path / "m5", skus=30, days=10, demand="m5", faults="none")
    assert sim.demand["demand"].sum() > 0
    assert (sim.demand["demand"] == 0).mean() > 0.3


def test_catalog_titles_exercise_escaping() -> None:
    titles = _run("default").catalog["title"]
    assert titles.str.contains("<script>").any()
    assert titles.str.contains("<b>").any()
    assert titles.map(lambda t: not t.isascii()).any()


# --- the written folder reads back through the loaders -------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"faults": "high"}, id="chicago-alpha-high"),
        pytest.param(
            {
                "faults": "default",
                "locations": 3,
                "timezone": "America/New_York",
                "sku_style": "numeric",
                "start": "2026-10-28",  # crosses the end of daylight saving time
            },
            id="new-york-numeric-dst",
        ),
    ],
)
def test_load_client_reads_back_the_same_canonical_rows(tmp_path: Path, options: dict) -> None:
    from driftkit.load.client import load_client

    sim = simulate(tmp_path / "readback", skus=25, days=8, seed=4, **options)
    data = load_client(sim.path)
    assert data.rejects.empty
    keys = {
        "snapshots": ["system", "sku", "location", "as_of"],
        "events": ["system", "event_id", "sku", "kind", "recorded_at"],
        "counts": ["sku", "location", "counted_at"],
        "catalog": ["sku"],
    }
    for name, by in keys.items():
        ours = getattr(sim, name).sort_values(by, kind="stable").reset_index(drop=True)
        theirs = getattr(data, name).sort_values(by, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, theirs, obj=name)
