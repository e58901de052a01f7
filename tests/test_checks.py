"""Empty-shelf checks (driftkit.impact.checks): the count list's second list and its interleave."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit._toml import TableReader
from driftkit.audit import run_audit
from driftkit.config import ImpactParams, _parse_impact, load_config
from driftkit.errors import ConfigError
from driftkit.impact import checks
from driftkit.impact.countlist import COUNT_LIST_COLUMNS, count_list_keys, rank_count_list
from driftkit.load.ingest import ingest
from driftkit.scale import stored as stored_module
from driftkit.scale.ordered import sort_part
from driftkit.scale.partition import run_partitioned
from driftkit.scale.stored import PARTS, TOP_ROWS, StoredTable, store_part
from tests.test_sellout import make_state

NAN = float("nan")

RUN_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_the_check_chance_is_the_count_historys_chance_of_an_empty_shelf() -> None:
    # E ~ Poisson(0.2) reaches A = 1 with 1 − e^−0.2 = 0.1813; A = 2: 1 − 1.2 e^−0.2 = 0.0175
    # (below 0.10); E = 0.01 reaches 1 with 0.00995 (below); A = 0: the records know.
    state = make_state(
        authority=np.array([1.0, 2.0, 1.0, 0.0, 1.0]),
        record_error=np.array([0.2, 0.2, 0.01, 0.5, 0.2]),
    )
    found = checks.check_columns(state, ImpactParams())
    np.testing.assert_allclose(
        found["check_chance"], [1 - math.exp(-0.2), 0, 0, 0, 0.1813], atol=1e-4
    )
    assert list(found["check_every"]) == [5] * 5
    assert found["check_reason"][0] == (
        "empty-shelf check: wms shows 1, counts find 0.20 units lost unrecorded since the last"
        " count (P(empty) 0.18)"
    )
    assert found["check_reason"][1] == ""
    assert list(found["check_system"]) == ["wms", "", "", "", "wms"]  # the record showing 1


def test_no_count_history_or_no_cadence_gives_no_candidate() -> None:
    state = make_state(authority=np.ones(5))
    assert not checks.check_columns(state, ImpactParams())["check_chance"].any()
    state = make_state(authority=np.ones(5), record_error=np.full(5, 0.2))
    off = checks.check_columns(state, ImpactParams(empty_check_every=0))
    assert not off["check_chance"].any()


def test_a_zero_balance_confirmation_is_the_chance_the_selling_record_is_lost_too() -> None:
    # wms shows ≤ 0 on A, B, C, D; the shop offers 1, 2, 1, 0.4.  E ~ Poisson(0.2) reaches
    # S = 1 with 1 − e^−0.2 = 0.1813, S = 2 with 1 − 1.2 e^−0.2 = 0.0175; D's 0.4 is not
    # stock (≤ 0.5); E's wms shows 2: an empty-shelf candidate's key, not a zero balance.
    state = make_state(
        authority=np.array([0.0, 0.0, -1.0, 0.0, 2.0]),
        selling=np.array([[1.0, 2.0, 1.0, 0.4, 1.0]]),
        record_error=np.full(5, 0.2),
    )
    chance, shown, seller = checks.zero_balance(state)
    np.testing.assert_allclose(chance, [0.1813, 0.0175, 0.1813, 0, 0], atol=1e-4)
    np.testing.assert_array_equal(shown, [1.0, 2.0, 1.0, 0.4, 1.0])
    assert list(seller) == ["shop"] * 5
    found = checks.check_columns(state, ImpactParams())
    np.testing.assert_allclose(found["check_chance"], [0.1813, 0, 0.1813, 0, 0], atol=1e-4)
    assert found["check_reason"][0] == (
        "zero-balance check: wms shows 0, shop shows 1 available, counts find 0.20 units lost"
        " unrecorded since the last count (P(empty) 0.18)"
    )
    assert list(found["check_reason"][[1, 3, 4]]) == ["", "", ""]
    assert list(found["check_system"]) == ["shop", "", "shop", "", ""]  # the record showing 1


def test_a_zero_balance_confirmation_reads_the_selling_system_showing_most() -> None:
    # A: only the shop shows (1); B: no selling record; C: the app shows 3 (the shop 1):
    # P(Poisson(0.2) ≥ 3) = 1 − e^−0.2 (1 + 0.2 + 0.02) = 0.0011485.  A record standing in
    # for the authority (D: the 3pl) is the believed record; E has no believed record.
    state = make_state(
        authority=np.array([0.0, 0.0, 0.0, 0.0, NAN]),
        authority_names=np.array(["wms", "wms", "wms", "3pl", "wms"], dtype=object),
        selling=np.array([[1.0, NAN, 1.0, 1.0, 1.0], [NAN, NAN, 3.0, NAN, 1.0]]),
        selling_systems=("shop", "app"),
        record_error=np.full(5, 0.2),
    )
    chance, shown, seller = checks.zero_balance(state)
    np.testing.assert_allclose(chance, [0.181269, 0, 0.0011485, 0.181269, 0], atol=1e-6)
    np.testing.assert_array_equal(shown[[0, 2, 3]], [1.0, 3.0, 1.0])
    assert list(seller[[0, 2, 3]]) == ["shop", "app", "shop"]
    found = checks.check_columns(state, ImpactParams(empty_check_at=0.001))
    reason = found["check_reason"]
    assert list(found["check_system"]) == ["shop", "", "app", "shop", ""]
    assert reason[2].startswith("zero-balance check: wms shows 0, app shows 3 available,")
    assert reason[3].startswith("zero-balance check: 3pl shows 0, shop shows 1 available,")


def test_no_selling_system_or_count_history_gives_no_zero_balance_candidate() -> None:
    state = make_state(authority=np.zeros(5))  # no count history
    assert not checks.zero_balance(state)[0].any()
    state = make_state(
        authority=np.zeros(5),
        selling=np.empty((0, 5)),
        selling_systems=(),
        record_error=np.full(5, 0.2),
    )
    assert not checks.check_columns(state, ImpactParams())["check_chance"].any()


def test_a_candidate_the_money_order_lists_before_its_turn_is_not_listed_twice() -> None:
    # every 3rd rank: 2 money rows come before the first check, so the candidate at money
    # position 0 is already listed (skipped); position 5 takes rank 3; then 4 money rows
    # come before rank 6, and position 1 is listed, position 9 takes rank 6.
    taken = checks.taken_checks(np.array([0, 5, 1, 9]), 3)
    assert taken.tolist() == [False, True, False, True]


def test_a_taken_check_shifts_the_money_position_it_leaves() -> None:
    # every 3rd rank: position 2 takes rank 3, so the money rows before rank 6 are
    # positions 0, 1, 3, 4 (ranks 1, 2, 4, 5): the candidate at 4 is listed by money.
    assert checks.taken_checks(np.array([2, 4]), 3).tolist() == [True, False]
    assert checks.taken_checks(np.array([2, 5]), 3).tolist() == [True, True]


def _rows(n: int = 12, chance: dict[int, float] | None = None, every: int = 3) -> pd.DataFrame:
    """Count-list rows whose money order is their index (expected values n … 1)."""
    value = np.arange(n, 0, -1, dtype=float)
    check = np.zeros(n)
    for row, p in (chance or {}).items():
        check[row] = p
    return pd.DataFrame(
        {
            "sku": [f"S{i:02d}" for i in range(n)],
            "location": "main",
            "system": "shop",
            "expected_value": value,
            "reason": "money",
            "drift_units": 1.0,
            "cause": np.nan,
            "demand_rate": 1.0,
            "window_value": 0.0,
            "unit_cost": 1.0,
            "check_chance": check,
            "check_every": every,
            "check_reason": np.where(check > 0, "check", ""),
            "check_system": np.where(check > 0, "wms", ""),
            "check_drift": np.where(check > 0, 0.0, np.nan),
            "check_cause": np.where(check > 0, "missing_event", ""),
        }
    )


def test_rank_count_list_puts_the_checks_at_every_kth_rank() -> None:
    # candidates: rows 0 (money rank 1, listed by money), 8 (P 0.3), 5 (P 0.2), 10 (P 0.2)
    ranked = rank_count_list(_rows(chance={0: 0.5, 5: 0.2, 8: 0.3, 10: 0.2}))
    assert list(ranked.columns) == list(COUNT_LIST_COLUMNS)
    assert ranked["sku"].tolist() == [
        "S00", "S01", "S08", "S02", "S03", "S05", "S04", "S06", "S10", "S07", "S09", "S11",
    ]  # fmt: skip
    assert ranked["list"].tolist()[:3] == ["money", "money", "empty_check"]
    assert ranked.loc[ranked["list"] == "empty_check", "reason"].eq("check").all()
    assert ranked["system"].tolist()[:3] == ["shop", "shop", "wms"]  # the record to check
    assert ranked["drift_units"].tolist()[:3] == [1.0, 1.0, 0.0]  # and its drift and cause
    assert pd.isna(ranked["cause"][1]) and ranked["cause"][2] == "missing_event"
    assert ranked["rank"].tolist() == list(range(1, 13))


def test_the_interleave_is_the_same_in_batches() -> None:
    rows = _rows(40, chance={3: 0.4, 17: 0.35, 30: 0.3, 31: 0.25, 39: 0.2, 1: 0.9}, every=4)
    money = rows.iloc[np.lexsort(count_list_keys(rows))].reset_index(drop=True)
    order = checks.check_order(checks.candidates(money))
    whole = pd.concat(list(checks.interleaved([money], order, 4)), ignore_index=True)
    batches = [money.iloc[i : i + 7] for i in range(0, 40, 7)]
    parts = pd.concat(list(checks.interleaved(batches, order, 4)), ignore_index=True)
    pd.testing.assert_frame_equal(parts, whole)
    assert len(whole) == 40 and whole["sku"].is_unique


@pytest.mark.parametrize("size", [3, 8192], ids=["small-batches", "one-batch"])
def test_the_stored_merge_ranks_as_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    batches = stored_module._batches
    monkeypatch.setattr(
        stored_module,
        "_batches",
        lambda path, schema, columns=None, _=0: batches(path, schema, columns, size),
    )
    rows = _rows(60, chance={2: 0.5, 11: 0.3, 40: 0.2, 41: 0.2, 59: 0.15}, every=5)
    parts = [rows.iloc[i::3].reset_index(drop=True) for i in range(3)]  # 3 "buckets"
    stored = StoredTable(
        "count_list",
        tuple(
            store_part(tmp_path, "count_list", i, sort_part("count_list", part))
            for i, part in enumerate(parts)
        ),
    )
    expected = rank_count_list(rows)
    assert (expected["list"] == "empty_check").sum() == 4
    pd.testing.assert_frame_equal(stored.read(), expected, check_dtype=False)


def test_the_parts_kept_heads_rank_as_the_whole_lists_head() -> None:
    rows = _rows(90, chance={i: 0.1 + i / 1000 for i in range(0, 90, 4)}, every=3)
    parts = [rows.iloc[i::3] for i in range(3)]
    kept = [checks.kept_head(sort_part("count_list", p), 10) for p in parts]
    head = rank_count_list(pd.concat(kept, ignore_index=True)).head(10)
    pd.testing.assert_frame_equal(head, rank_count_list(rows).head(10))


@pytest.mark.parametrize("every", [1, 2.5, -1], ids=["one", "fraction", "negative"])
def test_the_cadence_must_be_zero_or_a_whole_number_of_two_or_more(
    tmp_path: Path, every: float
) -> None:
    table = TableReader(tmp_path / "client.toml", "impact", {"empty_check_every": every})
    with pytest.raises(ConfigError, match="empty_check_every"):
        _parse_impact(table)


def test_the_checks_parameters_are_read_from_client_toml(tmp_path: Path) -> None:
    table = {"empty_check_every": 4, "empty_check_at": 0.2}
    params = _parse_impact(TableReader(tmp_path / "client.toml", "impact", table))
    assert (params.empty_check_every, params.empty_check_at) == (4, 0.2)
    assert _parse_impact(TableReader(tmp_path / "c.toml", "impact", {})).empty_check_every == 5


def test_the_partitioned_audit_writes_the_in_process_count_list(tmp_path: Path) -> None:
    """brightline-home with every key whose check chance is ≥ 0.001 a candidate: in process
    and in 3 buckets, the same count list files (checks interleaved) and the same first rows."""
    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "data/sample/brightline-home")
    config = replace(config, impact=replace(config.impact, empty_check_at=0.001))
    processed = tmp_path / "data" / "processed" / config.id
    ingest(config, out=processed, buckets=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        whole = run_audit(config, run_at=RUN_AT, out_dir=tmp_path / "whole")
    parted = run_partitioned(
        config, processed, jobs=2, run_at=RUN_AT, parts_dir=tmp_path / "p" / PARTS
    )
    parted.write(tmp_path / "p")
    listed = whole.impact.count_list["list"]
    assert (listed == "empty_check").sum() >= 3
    assert listed.iloc[4] == "empty_check"
    csv = "count_list.csv"
    assert (tmp_path / "p" / csv).read_bytes() == (tmp_path / "whole" / csv).read_bytes()
    frames = [pd.read_parquet(tmp_path / run / "count_list.parquet") for run in ("p", "whole")]
    pd.testing.assert_frame_equal(*frames)
    assert parted.impact is not None
    pd.testing.assert_frame_equal(parted.impact.count_list, whole.impact.count_list.head(TOP_ROWS))
