"""Event matching, deliveries and the handoff map (driftkit.causes.match, .deliveries, .handoffs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit import schema
from driftkit.causes.context import MatchRules
from driftkit.causes.deliveries import (
    candidate_texts,
    delivery_candidates,
    first_records_of,
    reference_formats,
    shared_candidates,
)
from driftkit.causes.handoffs import HANDOFF_COLUMNS, group_codes, map_handoffs
from driftkit.causes.match import (
    COMPATIBLE_KINDS,
    KIND_FAMILY,
    _copy_order,
    _text_codes,
    match_events,
)
from driftkit.causes.stats import (
    DELIVERY_GROUP,
    _others,
    deliveries,
    delivery_groups,
    export_spans,
    handoff_stats,
    marked_deliveries,
    stats_part,
)

COLUMNS = [
    "system",
    "sku",
    "location",
    "event_id",
    "kind",
    "qty_delta",
    "commit_delta",
    "occurred_at",
    "recorded_at",
    "reference",
    "raw_reference",
]


def events(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("occurred_at", "recorded_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return schema.conform(frame, "events")


ORDER = [
    (
        "shop",
        "A",
        "main",
        "S1",
        "order",
        None,
        1,
        "2026-09-03T14:00Z",
        "2026-09-03T14:00Z",
        "1001",
        "#1001",
    ),
    (
        "wms",
        "A",
        "main",
        "W-88",
        "shipment",
        -1,
        None,
        "2026-09-03T15:00Z",
        "2026-09-03T15:02Z",
        "1001",
        "SO-001001",
    ),
    (
        "erp",
        "A",
        "main",
        "E1",
        "shipment",
        -1,
        None,
        "2026-09-03T15:00Z",
        "2026-09-03T18:00Z",
        "1001",
        "1001",
    ),
]


def test_order_and_shipments_are_one_business_event() -> None:
    matched = match_events(events(ORDER))
    assert matched["business_event"].nunique() == 1
    assert set(matched["source"]) == {"shop"}
    assert matched["latency_h"].tolist() == pytest.approx([0.0, 1 + 2 / 60, 4.0])


def test_duplicate_within_one_system_is_flagged_and_first_copy_kept() -> None:
    replay = (
        "wms",
        "A",
        "main",
        "W-91",
        "shipment",
        -1,
        None,
        "2026-09-03T15:00Z",
        "2026-09-03T15:07Z",
        "1001",
        "SO-001001",
    )
    matched = match_events(events([*ORDER, replay]))
    assert matched["business_event"].nunique() == 1
    assert matched.loc[matched["duplicate"], "event_id"].tolist() == ["W-91"]
    assert matched["copy"].tolist() == [0, 0, 0, 1]


def test_input_is_not_mutated_and_order_is_kept() -> None:
    frame = events(ORDER).iloc[::-1]
    before = frame.copy()
    matched = match_events(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert matched["event_id"].tolist() == ["E1", "W-88", "S1"]


@pytest.mark.parametrize(
    ("change", "apart"),
    [
        pytest.param({"kind": "receipt"}, True, id="incompatible-kind"),
        pytest.param({"sku": "B"}, True, id="other-sku"),
        pytest.param({"reference": "1002"}, True, id="other-reference"),
        pytest.param({"occurred_at": pd.Timestamp("2026-09-20T15:00Z")}, True, id="outside-window"),
        pytest.param({"qty_delta": -5.0}, True, id="inconsistent-quantity"),
        pytest.param(
            {"event_id": "X9", "recorded_at": pd.Timestamp("2026-09-05T15:00Z")},
            False,
            id="late-but-same",
        ),
    ],
)
def test_unrelated_events_are_not_matched(change: dict, apart: bool) -> None:
    frame = events(ORDER)
    for column, value in change.items():
        frame.loc[2, column] = value
    matched = match_events(frame)
    assert bool(matched.loc[2, "business_event"] != matched.loc[1, "business_event"]) == apart


def test_pack_size_multiple_matches_with_catalog() -> None:
    rows = [
        (
            "wms",
            "A",
            "main",
            "W1",
            "receipt",
            24,
            None,
            "2026-09-04T10:00Z",
            "2026-09-04T10:00Z",
            "123",
            "PO-000123",
        ),
        (
            "erp",
            "A",
            "main",
            "E1",
            "receipt",
            2,
            None,
            "2026-09-04T10:00Z",
            "2026-09-04T11:00Z",
            "123",
            "123",
        ),
    ]
    catalog = pd.DataFrame({"sku": ["A"], "pack_size": [12.0]})
    assert match_events(events(rows), catalog=catalog)["business_event"].nunique() == 1
    assert match_events(events(rows))["business_event"].nunique() == 2


def test_every_kind_has_one_family() -> None:
    assert set(KIND_FAMILY) == {str(k) for k in schema.EventKind}
    assert sum(len(kinds) for kinds in COMPATIBLE_KINDS.values()) == len(schema.EventKind)


@pytest.mark.parametrize(
    ("raw", "shape"),
    [
        pytest.param("PO-000123", "PO-999999", id="po-dash"),
        pytest.param("PO#123-A", "PO#999-A", id="po-hash-suffix"),
        pytest.param("PO#123-b", "PO#999-A", id="suffix-letter"),
        pytest.param("#1001", "#9999", id="hash"),
        pytest.param("1001", "9999", id="digits"),
        pytest.param("po 12", "po 99", id="lower-prefix"),
    ],
)
def test_reference_formats(raw: str, shape: str) -> None:
    assert reference_formats(pd.Series([raw])).tolist() == [shape]


def receipts(n: int, lost_format: int) -> pd.DataFrame:
    """``n`` ERP→WMS receipts; the last ``lost_format`` use `PO#n-A` and never arrive."""
    rows = []
    for i in range(n):
        day = f"2026-09-{1 + i % 10:02d}"
        odd = i >= n - lost_format
        raw = f"PO#{i}-A" if odd else f"PO-{i:06d}"
        rows.append(
            (
                "erp",
                "A",
                "main",
                f"E{i}",
                "receipt",
                5,
                None,
                f"{day}T10:00Z",
                f"{day}T10:00Z",
                str(i),
                raw,
            )
        )
        if not odd:
            rows.append(
                (
                    "wms",
                    "A",
                    "main",
                    f"W{i}",
                    "receipt",
                    5,
                    None,
                    f"{day}T10:00Z",
                    f"{day}T12:00Z",
                    str(i),
                    f"{i}",
                )
            )
    return events(rows)


def test_handoff_map_counts_missing_and_latency() -> None:
    matched = match_events(receipts(40, 6))
    table, callouts = map_handoffs(deliveries(matched), matched)
    assert list(table.columns) == HANDOFF_COLUMNS
    edge = table.set_index(["source", "target", "kind"]).loc[("erp", "wms", "receipt")]
    assert (edge["events"], edge["matched"], edge["missing"]) == (40, 34, 6)
    assert edge["latency_p50_h"] == pytest.approx(2.0)
    assert edge["source_formats"] == "`PO-999999` ×34, `PO#99-A` ×6"
    assert callouts == [
        "wms never received 6 of 6 receipts whose erp reference looks like `PO#99-A` "
        "(all other formats: 0 missing of 34)"
    ]


def test_no_callout_when_missing_events_do_not_cluster() -> None:
    frame = receipts(40, 0)
    frame = frame.drop(index=frame.index[frame["system"].eq("wms")][:4])
    matched = match_events(frame)
    _, callouts = map_handoffs(deliveries(matched), matched)
    assert callouts == []


def test_rarely_receiving_target_is_not_a_normal_edge() -> None:
    matched = match_events(receipts(40, 30))
    table, _ = map_handoffs(deliveries(matched, MatchRules(normal_share=0.5)), matched)
    assert table.empty


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=30
    )
)
def test_matching_invariants(specs: list[tuple[int, int, int]]) -> None:
    systems = ["wms", "erp", "shop", "3pl"]
    rows = [
        (
            systems[s],
            "A",
            "main",
            f"{systems[s]}{i}",
            "receipt",
            3,
            None,
            f"2026-09-0{1 + d}T10:00Z",
            f"2026-09-0{1 + d}T11:00Z",
            str(r),
            str(r),
        )
        for i, (s, r, d) in enumerate(specs)
    ]
    matched = match_events(events(rows))
    # rows of one reference within the window form one business event
    per_reference = matched.groupby("reference")["business_event"].nunique()
    assert (per_reference == 1).all()
    # within a business event, a system's copies are numbered 0..k-1
    copies = matched.groupby(["business_event", "system"])["copy"].agg(["min", "max", "size"])
    assert (copies["min"] == 0).all() and (copies["max"] == copies["size"] - 1).all()
    assert (matched["duplicate"] == (matched["copy"] > 0)).all()


def test_shared_candidates_are_built_once_and_equal_the_plain_rows() -> None:
    matched = match_events(receipts(40, 6))
    span = export_spans(matched)
    first, candidates = shared_candidates(matched, span)
    plain = first_records_of(matched)
    pd.testing.assert_frame_equal(first, plain)
    pd.testing.assert_frame_equal(candidates, delivery_candidates(plain, span))
    again = shared_candidates(matched, span, keep=False)  # the profile's rows, handed over
    assert again[0] is first and again[1] is candidates
    assert shared_candidates(matched, span)[1] is not candidates  # let go: built anew
    other = match_events(receipts(40, 6))  # an equal but other frame is not the same events
    assert shared_candidates(other, span)[1] is not candidates
    marked = marked_deliveries(candidates, first, handoff_stats([stats_part(matched, span)]))
    pd.testing.assert_frame_equal(marked, deliveries(matched))
    assert "normal" not in candidates.columns  # the kept rows are not modified


def test_candidate_codes_equal_the_groups_of_their_texts() -> None:
    matched = match_events(receipts(40, 6))
    matched.loc[matched.index[::7], "location"] = None  # a missing value is in no group
    span = export_spans(matched)
    first = first_records_of(matched)
    candidates = delivery_candidates(first, span)
    texts = candidates.assign(**candidate_texts(candidates, first, np.arange(len(candidates))))
    group, groups = delivery_groups(candidates, first)
    expected, expected_groups = group_codes(texts, DELIVERY_GROUP)
    assert (group < 0).any() and np.array_equal(group, expected)
    pd.testing.assert_frame_equal(groups, expected_groups)
    others = (texts["target"] != texts["source"]).to_numpy()
    assert others.any() and not others.all()
    assert np.array_equal(_others(candidates, first), others)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from(["b", "a", "c", None])),
        max_size=30,
    )
)
def test_copy_order_orders_ties_as_the_sorted_event_ids(rows: list[tuple]) -> None:
    """One sort by (group, when), ties then by event id: the order of (group, when, sorted
    event id), equal ids in input order."""
    group = np.array([r[0] for r in rows], dtype=np.int64)
    when = np.array([r[1] for r in rows], dtype=np.int64)
    ids = pd.Series([r[2] for r in rows], dtype="str")
    every = pd.factorize(ids, sort=True)[0]
    assert np.array_equal(_copy_order(group, when, ids), np.lexsort((every, when, group)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["b", "a", "c", None]), max_size=12))
def test_text_codes_are_the_factorized_codes_a_missing_value_included(values: list) -> None:
    """The cached codes renumbered as ``pd.factorize(use_na_sentinel=False)`` numbers them
    (cluster ids follow them, so the outputs keep their row order)."""
    frame = pd.DataFrame({"x": pd.array(values, dtype="str")})
    codes, distinct = _text_codes(frame, "x")
    expected, uniques = pd.factorize(frame["x"], use_na_sentinel=False)
    assert codes.tolist() == expected.tolist() and distinct == len(uniques)
